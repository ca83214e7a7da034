//! How DPoP shows in the flow record: which key signed (its public thumbprint), for which
//! URL, whether a nonce challenge was answered; never the proof itself.

use openidconnect::core::CoreTokenResponse;

use super::client::DpopOutcome;
use super::key::DpopKey;
use crate::Error;
use crate::flow::{Check, Param, short};

/// The `DPoP` header of a request, described.
pub(crate) fn proof_param(key: &DpopKey, outcome: &DpopOutcome) -> Vec<Param> {
    let mut params = vec![Param::new(
        "DPoP",
        format!(
            "proof: ES256, jkt={}, htu={}",
            short(&key.thumbprint()),
            outcome.htu.as_deref().unwrap_or("-")
        ),
    )];
    if outcome.retried_with_nonce {
        params.push(Param::new(
            "DPoP-Nonce",
            "the server asked for a nonce; sent again once with it (RFC 9449 §8)",
        ));
    }
    params
}

/// RFC 9449 §5: the check that the token is bound to the key.
pub(crate) fn bound_check(response: &Result<CoreTokenResponse, Error>) -> Check {
    let detail = match response {
        Err(Error::Dpop(e)) => Some(e.to_string()),
        _ => None,
    };
    Check::new(
        "token_type is DPoP: the tokens work only with this computer's key",
        "RFC 9449 §5",
        response.is_ok(),
        detail.or_else(|| response.as_ref().err().map(|_| "no token".into())),
    )
}
