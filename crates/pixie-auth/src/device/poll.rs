//! RFC 8628 §3.4–3.5: poll the token endpoint with the device code until the person has
//! answered on the other device, never faster than the provider asked.

use std::time::Duration;

use openidconnect::core::CoreTokenResponse;

use super::authorization::{DEVICE_CODE_GRANT, MAX_DEVICE_WAIT};
use super::steps::{Run, expired_step, flush, poll_step, refusal_check};
use super::wire::{error_of, fields, seconds};
use super::{DeviceError, PendingDeviceSignIn};
use crate::flow::Check;
use crate::{Error, HttpError, Provider};

/// RFC 8628 §3.5 `slow_down`: "the interval MUST be increased by 5 seconds".
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// The longest wait between polls after the network failed (Pixie limit).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What one poll came back with.
enum Outcome {
    Tokens(Box<CoreTokenResponse>),
    /// RFC 8628 §3.5 `authorization_pending`.
    Pending,
    /// RFC 8628 §3.5 `slow_down`, with the interval GitHub names in its answer, if any.
    SlowDown(Option<Duration>),
    /// No answer in time (RFC 8628 §3.5: poll less often, then try again).
    NoAnswer(&'static str),
    End(Error),
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Outcome::Tokens(_) => "tokens",
            Outcome::Pending => "authorization_pending",
            Outcome::SlowDown(_) => "slow_down",
            Outcome::NoAnswer(why) => why,
            Outcome::End(_) => "refused",
        }
    }
}

/// Read one poll's answer.
fn read_poll(response: &openidconnect::HttpResponse) -> Outcome {
    let map = match fields(response) {
        Ok(m) => m,
        Err(why) => return Outcome::End(DeviceError::BadPollAnswer(why).into()),
    };
    // RFC 8628 §3.5 / RFC 6749 §5.2: an error answer, whatever the HTTP status (GitHub
    // answers `authorization_pending` and friends with 200).
    if let Some((error, description)) = error_of(&map) {
        return match error.as_str() {
            // RFC 8628 §3.5: the person has not answered yet; keep polling at the interval.
            "authorization_pending" => Outcome::Pending,
            // RFC 8628 §3.5: poll 5 s slower from now on. GitHub also names the new interval
            // ("Authorizing OAuth apps", device flow rate limits).
            "slow_down" => Outcome::SlowDown(
                seconds(&map, "interval")
                    .ok()
                    .flatten()
                    .map(Duration::from_secs),
            ),
            // RFC 8628 §3.5: the person said no.
            "access_denied" => Outcome::End(DeviceError::Denied { description }.into()),
            // RFC 8628 §3.5: the device code ran out.
            "expired_token" => Outcome::End(DeviceError::Expired.into()),
            // RFC 6749 §5.2: anything else ends it (`invalid_grant`: a wrong, used or foreign
            // device code).
            _ => Outcome::End(DeviceError::CodeRejected { error, description }.into()),
        };
    }
    // RFC 6749 §5.1: success is HTTP 200 with the tokens.
    if response.status().as_u16() != 200 {
        return Outcome::End(
            DeviceError::BadPollAnswer(format!(
                "HTTP {} without an error code",
                response.status().as_u16()
            ))
            .into(),
        );
    }
    match serde_json::from_value::<CoreTokenResponse>(serde_json::Value::Object(map)) {
        Ok(t) => Outcome::Tokens(Box::new(t)),
        // The body holds tokens: say what failed, never what it held.
        Err(e) => Outcome::End(Error::TokenResponse(format!(
            "the token response is not valid: {}",
            e.to_string()
                .split(" at line")
                .next()
                .unwrap_or("malformed")
                .chars()
                .take(120)
                .collect::<String>()
        ))),
    }
}

impl Provider {
    /// One poll of the token endpoint (RFC 8628 §3.4).
    async fn poll_once(&self, pending: &PendingDeviceSignIn, http: &crate::HttpClient) -> Outcome {
        let Some(token_url) = self.metadata.token_endpoint() else {
            return Outcome::End(Error::Config("the provider has no token endpoint".into()));
        };
        // RFC 8628 §3.4: client authentication as for any token request (RFC 6749 §3.2.1;
        // a public client names itself with `client_id`).
        let body = [
            ("grant_type", DEVICE_CODE_GRANT),
            ("device_code", pending.device_code.secret()),
        ];
        let request = match self.client_form(token_url.url(), &body) {
            Ok(r) => r,
            Err(e) => return Outcome::End(Error::http("token", e)),
        };
        // RFC 9449 §5: the device code grant is a token request like any other; with a key,
        // it carries a proof (and the nonce retry of §8), and the tokens must be DPoP ones.
        let (sent, refused_proof) = match &pending.dpop_key {
            Some(key) => {
                let client = self.dpop_client(http, key, "token");
                let sent = client.execute(request).await;
                (sent, client.outcome().failure)
            }
            None => (http.execute(request).await, None),
        };
        match sent {
            Ok(response) => match (read_poll(&response), refused_proof) {
                // RFC 9449 §5.2 / §7.1 / §8: the server refused the proof itself (a JSON
                // error or a `WWW-Authenticate: DPoP` challenge, after the one nonce retry):
                // DPoP's typed error, not the device flow's.
                (Outcome::End(_), Some(e)) => Outcome::End(e.into()),
                // RFC 9449 §5: asked with a proof, the tokens must be DPoP ones.
                (Outcome::Tokens(t), _) if pending.dpop_key.is_some() => {
                    match crate::dpop::check_token_type(&t, "token") {
                        Ok(()) => Outcome::Tokens(t),
                        Err(e) => Outcome::End(e.into()),
                    }
                }
                (outcome, _) => outcome,
            },
            // RFC 8628 §3.5: "On encountering a connection timeout, clients MUST unilaterally
            // reduce their polling frequency before retrying."
            Err(HttpError::Timeout) => Outcome::NoAnswer("no answer in time"),
            Err(HttpError::Connect(_)) => Outcome::NoAnswer("could not connect"),
            Err(e) => Outcome::End(Error::http("token", e)),
        }
    }

    /// Poll until tokens, a refusal, or the device code's end. Each wait is at least the
    /// current interval after the previous answer (RFC 8628 §3.5).
    pub(crate) async fn poll_for_tokens(
        &self,
        pending: &PendingDeviceSignIn,
    ) -> Result<CoreTokenResponse, Error> {
        let trace = &pending.trace;
        let http = self.http.with_trace(trace);
        let path = self
            .metadata
            .token_endpoint()
            .map(|u| u.url().path().to_owned())
            .unwrap_or_default();
        let mut run: Option<Run> = None;
        loop {
            // Never sleep past the code's end (RFC 8628 §3.2 `expires_in`).
            let until_expiry = pending
                .expires_at
                .saturating_duration_since(pending.clock.now());
            let wait = pending.next_poll_in().min(until_expiry);
            if wait > Duration::ZERO {
                pending.clock.sleep(wait).await;
            }
            // RFC 8628 §3.2 `expires_in`: past it the device code is dead; stop here rather
            // than ask the provider.
            if pending.clock.now() >= pending.expires_at {
                flush(trace, &path, &mut run);
                trace.push(expired_step(pending));
                return Err(DeviceError::Expired.into());
            }
            let outcome = self.poll_once(pending, &http).await;
            let interval = pending.answered(&outcome);
            let exchange = trace.take_http();
            let name = outcome.name();
            match &mut run {
                Some(r) if r.outcome == name => {
                    r.polls += 1;
                    r.interval = r.interval.max(interval);
                    r.status = exchange.or(r.status);
                }
                _ => {
                    flush(trace, &path, &mut run);
                    run = Some(Run {
                        outcome: name,
                        polls: 1,
                        interval,
                        status: exchange,
                    });
                }
            }
            match outcome {
                Outcome::Pending | Outcome::NoAnswer(_) => {}
                Outcome::SlowDown(_) => flush(trace, &path, &mut run),
                Outcome::Tokens(t) => {
                    // The run just started holds this poll alone; it is drawn here.
                    trace.push(poll_step(&path, pending).http(exchange).check(Check::new(
                        "the person approved; the provider issued tokens for the device code",
                        "RFC 8628 §3.5",
                        true,
                        None,
                    )).note("Tokens come back to the core only, never through a browser URL."));
                    return Ok(*t);
                }
                Outcome::End(e) => {
                    trace.push(
                        poll_step(&path, pending)
                            .http(exchange)
                            .check(refusal_check(&e)),
                    );
                    return Err(e);
                }
            }
        }
    }
}

/// The interval after an answer: `slow_down` adds 5 s (or takes GitHub's named interval
/// when larger) and keeps it; no answer doubles it up to a minute (RFC 8628 §3.5).
pub(crate) fn next_interval(
    current: Duration,
    outcome_slow_down: Option<Option<Duration>>,
    no_answer: bool,
) -> Duration {
    match outcome_slow_down {
        // A provider's number is input: never past the longest a device sign-in may wait.
        Some(named) => {
            let raised = current.saturating_add(SLOW_DOWN_STEP);
            named.map_or(raised, |n| n.max(raised)).min(MAX_DEVICE_WAIT)
        }
        None if no_answer => (current * 2).min(MAX_BACKOFF).max(current),
        None => current,
    }
}

impl PendingDeviceSignIn {
    /// Note an answer: when it came and what it does to the interval. Returns the interval
    /// from now on.
    fn answered(&self, outcome: &Outcome) -> Duration {
        let mut st = self.lock();
        st.polls += 1;
        st.last_answer = self.clock.now();
        st.interval = match outcome {
            Outcome::SlowDown(named) => next_interval(st.interval, Some(*named), false),
            Outcome::NoAnswer(_) => next_interval(st.interval, None, true),
            _ => st.interval,
        };
        st.interval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_cannot_name_an_interval_past_the_longest_wait() {
        let huge = Some(Some(Duration::from_secs(u64::MAX)));
        assert_eq!(
            next_interval(Duration::from_secs(5), huge, false),
            MAX_DEVICE_WAIT
        );
        assert_eq!(
            next_interval(Duration::MAX, Some(None), false),
            MAX_DEVICE_WAIT
        );
    }

    #[test]
    fn slow_down_adds_five_seconds_and_backoff_doubles() {
        let s = Duration::from_secs;
        assert_eq!(next_interval(s(5), Some(None), false), s(10));
        assert_eq!(next_interval(s(10), Some(None), false), s(15));
        // GitHub names a larger interval: take it; a smaller one: still +5.
        assert_eq!(next_interval(s(5), Some(Some(s(30))), false), s(30));
        assert_eq!(next_interval(s(5), Some(Some(s(1))), false), s(10));
        assert_eq!(next_interval(s(5), None, true), s(10));
        assert_eq!(next_interval(s(45), None, true), s(60));
        assert_eq!(next_interval(s(90), None, true), s(90));
        assert_eq!(next_interval(s(5), None, false), s(5));
    }
}
