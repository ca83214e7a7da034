//! The device flow's polling as the flow diagram draws it (RFC 8628 §3.4–3.5): the request
//! every poll sends, runs of same-answer polls as one arrow, the refusal and the expiry.

use std::time::Duration;

use super::authorization::DEVICE_CODE_GRANT;
use super::{DeviceError, PendingDeviceSignIn};
use crate::Error;
use crate::flow::{Check, FlowStep, FlowTrace, NEVER_SHOWN, Party, short};

/// Consecutive polls with the same answer, drawn as one arrow of the diagram.
pub(super) struct Run {
    pub outcome: &'static str,
    pub polls: u32,
    pub interval: Duration,
    pub status: Option<crate::flow::HttpExchange>,
}

/// The step drawn when the device code ran out before the person finished (RFC 8628 §3.2).
pub(super) fn expired_step(pending: &PendingDeviceSignIn) -> FlowStep {
    FlowStep::new(
        Party::App,
        Party::App,
        "The code expired before anyone finished",
    )
    .check(Check::new(
        "the device code is still within expires_in",
        "RFC 8628 §3.2",
        false,
        Some(format!("{} s", pending.lifetime.as_secs())),
    ))
}

/// The failed check of a poll that ended the sign-in (RFC 8628 §3.5).
pub(super) fn refusal_check(e: &Error) -> Check {
    let (name, spec) = match e {
        Error::Device(DeviceError::Denied { .. }) => (
            "the person approved on the other device",
            "RFC 8628 §3.5 access_denied",
        ),
        Error::Device(DeviceError::Expired) => (
            "the device code is still valid",
            "RFC 8628 §3.5 expired_token",
        ),
        _ => (
            "the provider accepted the device code",
            "RFC 8628 §3.5, RFC 6749 §5.2",
        ),
    };
    Check::new(name, spec, false, Some(e.to_string()))
}

/// The request every poll sends, as the diagram shows it.
pub(super) fn poll_step(path: &str, pending: &PendingDeviceSignIn) -> FlowStep {
    let proof = pending.dpop_key.as_ref().map(|k| {
        crate::flow::Param::new(
            "DPoP",
            format!("proof: ES256, jkt={}", short(&k.thumbprint())),
        )
    });
    FlowStep::new(Party::App, Party::TokenEndpoint, &format!("POST {path}"))
        .params(proof)
        .param("grant_type", DEVICE_CODE_GRANT)
        .param("device_code", short(pending.device_code.secret()))
        .param("client_id", pending.client_id.clone())
        .param(
            "client_secret",
            if pending.sends_secret {
                NEVER_SHOWN
            } else {
                "(none: public client)"
            },
        )
}

/// Draw a run of same-answer polls as one arrow.
pub(super) fn flush(trace: &FlowTrace, path: &str, run: &mut Option<Run>) {
    let Some(r) = run.take() else {
        return;
    };
    let times = if r.polls == 1 {
        String::new()
    } else {
        format!(" ×{}", r.polls)
    };
    let mut step = FlowStep::new(
        Party::App,
        Party::TokenEndpoint,
        &format!("POST {path}{times}: {}", r.outcome),
    )
    .param("grant_type", DEVICE_CODE_GRANT)
    .http(r.status);
    step = match r.outcome {
        "authorization_pending" => step.check(Check::new(
            &format!(
                "waited at least the interval ({} s) between polls",
                r.interval.as_secs()
            ),
            "RFC 8628 §3.5",
            true,
            None,
        )),
        "slow_down" => step.check(Check::new(
            &format!(
                "interval raised by 5 s and kept: every {} s from now on",
                r.interval.as_secs()
            ),
            "RFC 8628 §3.5 slow_down",
            true,
            None,
        )),
        _ => step.check(Check::new(
            &format!(
                "polling less often after no answer: every {} s",
                r.interval.as_secs()
            ),
            "RFC 8628 §3.5",
            true,
            None,
        )),
    };
    trace.push(step.note("The person has not finished on the other device yet."));
}
