//! One sign-in from its start to the signed-in account: the pending sign-in that waits for
//! the redirect ([`request`] builds it), the code exchange ([`exchange`]), then the ID token
//! ([`crate::id_token`]) and the profile ([`crate::profile`]).

use std::time::{Duration, Instant};

use openidconnect::{CsrfToken, Nonce, PkceCodeVerifier, SubjectIdentifier};
use url::Url;

use crate::Error;
use crate::callback::{CallbackError, CallbackExpectation, ValidatedCallback, validate_callback};
use crate::flow::FlowTrace;
use crate::flow::steps::callback_step;
use crate::profile::Profile;
use crate::provider::Provider;
use crate::settings::Protocol;
use crate::tokens::Tokens;

mod exchange;
mod request;
#[cfg(test)]
mod tests;

/// How long the work after the redirect (exchange, checks, userinfo, picture) may take. The
/// app puts this deadline over [`Provider::complete`].
pub const COMPLETE_DEADLINE: Duration = Duration::from_secs(45);
/// How long a sign-in may wait for its redirect.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// A sign-in waiting for its redirect. Holds the PKCE verifier, `state` and `nonce`; it is
/// consumed when its code is exchanged, so a verifier is never sent twice.
pub struct PendingSignIn {
    provider_id: String,
    issuer: String,
    iss_required: bool,
    redirect_uri: Url,
    pub(crate) authorization_url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    started: Instant,
    pub(crate) trace: FlowTrace,
    /// The new account's DPoP key (RFC 9449), when the provider binds tokens.
    dpop_key: Option<crate::dpop::DpopKey>,
    /// The whole request, when it was pushed (RFC 9126): to push again for a fresh
    /// one-time `request_uri`.
    pub(crate) pushed: Option<Url>,
}

impl std::fmt::Debug for PendingSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSignIn")
            .field("provider_id", &self.provider_id)
            .field("issuer", &self.issuer)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

impl PendingSignIn {
    /// The URL to open in the system browser (RFC 8252 §8.12).
    pub fn authorization_url(&self) -> &Url {
        &self.authorization_url
    }

    /// The id of the provider this sign-in is with.
    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// The redirect URI this sign-in's answer must come back to.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// The redacted record of this sign-in's steps so far.
    pub fn trace(&self) -> &FlowTrace {
        &self.trace
    }

    /// How long this sign-in may still wait for its redirect.
    pub fn time_left(&self) -> Duration {
        SIGN_IN_TIMEOUT.saturating_sub(self.started.elapsed())
    }

    /// Whether the sign-in waited longer than [`SIGN_IN_TIMEOUT`].
    pub fn is_expired(&self) -> bool {
        self.started.elapsed() > SIGN_IN_TIMEOUT
    }

    /// Check a redirect that came back through the OS. See [`validate_callback`].
    pub fn validate_callback(&self, raw: &str) -> Result<ValidatedCallback, CallbackError> {
        let result = validate_callback(
            raw,
            &CallbackExpectation {
                redirect_uri: &self.redirect_uri,
                state: self.state.secret(),
                issuer: &self.issuer,
                iss_required: self.iss_required,
            },
        );
        self.trace
            .push(callback_step(raw, &result, self.iss_required));
        result
    }
}

/// A finished sign-in.
#[derive(Debug)]
pub struct SignedIn {
    /// What the window shows.
    pub profile: Profile,
    /// What the app keeps (in memory, and in the keyring through [`crate::StoredSession`]).
    pub tokens: Tokens,
    /// Set when the picture could not be used; the sign-in itself succeeded.
    pub picture_error: Option<Error>,
}

impl Provider {
    /// Exchange, verify, fetch the profile: everything after a valid redirect. `callback`
    /// must be one that `pending` validated.
    pub async fn complete(
        &self,
        pending: PendingSignIn,
        callback: &ValidatedCallback,
    ) -> Result<SignedIn, Error> {
        if pending.is_expired() {
            return Err(Error::Expired);
        }
        let trace = pending.trace.clone();
        let tokens = self.exchange(pending, callback).await?;
        self.signed_in(tokens, &trace).await
    }

    /// The profile of freshly issued tokens (code or device flow), the account named by it
    /// when the provider speaks plain OAuth 2.0.
    pub(crate) async fn signed_in(
        &self,
        mut tokens: Tokens,
        trace: &FlowTrace,
    ) -> Result<SignedIn, Error> {
        let (profile, picture_error) = self.load_profile_traced(&tokens, Some(trace)).await?;
        if self.config.protocol == Protocol::Oauth2 {
            // OAuth 2.0: the account is the one the user API named.
            tokens.subject = SubjectIdentifier::new(profile.subject.clone());
        }
        Ok(SignedIn {
            profile,
            tokens,
            picture_error,
        })
    }
}
