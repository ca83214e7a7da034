//! Sender-constrained tokens with DPoP (RFC 9449): the account's key ([`DpopKey`]), one
//! proof per request ([`proof`]), the client that adds proofs and answers a `DPoP-Nonce`
//! challenge once ([`client`]), and the check that a token asked for with DPoP is one
//! (§5).

pub mod client;
pub(crate) mod error;
mod key;
pub mod proof;
pub(crate) mod state;
pub(crate) mod trace;

use crate::settings::DpopMode;

pub use error::DpopError;
pub use key::DpopKey;
pub use state::DpopState;

/// RFC 9449 §5: once a proof went with the token request, the response's `token_type` must
/// be `DPoP` (compared case-insensitively, RFC 6749 §5.1); a bearer token is refused.
pub(crate) fn check_token_type(
    response: &openidconnect::core::CoreTokenResponse,
    endpoint: &'static str,
) -> Result<(), DpopError> {
    use openidconnect::OAuth2TokenResponse;
    let token_type = response.token_type().as_ref();
    if token_type.eq_ignore_ascii_case("dpop") {
        Ok(())
    } else {
        Err(DpopError::NotBound {
            endpoint,
            token_type: token_type.chars().take(32).collect(),
        })
    }
}

/// The typed DPoP error inside a token endpoint refusal (RFC 9449 §5.2 `invalid_dpop_proof`,
/// §8 `use_dpop_nonce` left after the one retry).
pub(crate) fn typed_refusal(e: crate::Error, endpoint: &'static str) -> crate::Error {
    match e {
        crate::Error::TokenRejected { error, .. } if error == "use_dpop_nonce" => {
            DpopError::NonceRefused { endpoint }.into()
        }
        crate::Error::TokenRejected { error, description } if error == "invalid_dpop_proof" => {
            DpopError::ProofRejected {
                endpoint,
                error,
                description,
            }
            .into()
        }
        other => other,
    }
}

impl crate::provider::Provider {
    /// Whether a new sign-in asks for DPoP-bound tokens: `dpop = "always"`, or `"auto"` and
    /// the metadata lists ES256 in `dpop_signing_alg_values_supported` (RFC 9449 §5.1).
    /// A plain OAuth 2.0 provider never: its user API is called with a bearer token and the
    /// account is known only after it (RFC 9449 §7 would need both to change).
    pub fn dpop_wanted(&self) -> bool {
        if self.config.protocol == crate::settings::Protocol::Oauth2 {
            return false;
        }
        match self.config.dpop {
            DpopMode::Always => true,
            DpopMode::Never => false,
            DpopMode::Auto => self
                .metadata
                .additional_metadata()
                .dpop_signing_alg_values_supported
                .as_ref()
                .is_some_and(|algs| algs.iter().any(|a| a == "ES256")),
        }
    }

    /// A client that adds proofs with `key` to the requests of `http`.
    pub(crate) fn dpop_client(
        &self,
        http: &crate::HttpClient,
        key: &DpopKey,
        endpoint: &'static str,
    ) -> client::DpopClient {
        client::DpopClient::new(
            http.clone(),
            key.clone(),
            self.dpop.clone(),
            self.clock.clone(),
            endpoint,
        )
    }
}
