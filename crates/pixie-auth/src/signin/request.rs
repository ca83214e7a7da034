//! The authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1): a new
//! pending sign-in, its `state`, `nonce` and PKCE pair, and the URL the browser opens. A
//! provider that takes pushed requests (RFC 9126) gets them through
//! [`Provider::prepare_sign_in`] in [`crate::par`].

use std::time::Instant;

use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, RedirectUrl, Scope};
use url::Url;

use super::PendingSignIn;
use crate::Error;
use crate::flow::FlowTrace;
use crate::flow::steps::trace_opening;
use crate::hints::SignInHints;
use crate::par::error::ParError;
use crate::provider::Provider;
use crate::provider::metadata::{must_push, par_endpoint};
use crate::random::{new_nonce, new_state, pkce_pair};
use crate::settings::Protocol;

impl Provider {
    /// Create a pending sign-in and its authorization URL (RFC 6749 §4.1.1, RFC 7636 §4.3,
    /// OIDC Core §3.1.2.1).
    pub fn start_sign_in(&self) -> Result<PendingSignIn, Error> {
        self.start_sign_in_to(&self.redirect_uri)
    }

    /// The same, with a redirect URI of its own (a loopback listener's port, RFC 8252 §7.3).
    pub fn start_sign_in_to(&self, redirect_uri: &Url) -> Result<PendingSignIn, Error> {
        self.start_sign_in_with(Some(redirect_uri), &SignInHints::default())
    }

    /// The same, with hints about the account (adding another account, signing one in
    /// again); `redirect_uri` `None` is the provider's own. Never pushes the request: a
    /// provider that needs that (RFC 9126) gets [`Provider::prepare_sign_in`].
    pub fn start_sign_in_with(
        &self,
        redirect_uri: Option<&Url>,
        hints: &SignInHints,
    ) -> Result<PendingSignIn, Error> {
        // RFC 9126 §5: a provider that takes only pushed requests gets none in the URL.
        if par_endpoint(&self.config, &self.metadata)?.is_some()
            && must_push(&self.config, &self.metadata)
        {
            return Err(ParError::NotPushed.into());
        }
        let pending = self.build_sign_in(redirect_uri, hints)?;
        trace_opening(&pending.trace, &pending.authorization_url);
        Ok(pending)
    }

    /// The pending sign-in and its full authorization URL, nothing recorded yet.
    pub(crate) fn build_sign_in(
        &self,
        redirect_uri: Option<&Url>,
        hints: &SignInHints,
    ) -> Result<PendingSignIn, Error> {
        let redirect_uri = redirect_uri.unwrap_or(&self.redirect_uri);
        let mut hint_params = hints.params(self);
        // RFC 9449 §10: a key for the new account, and its thumbprint in the request
        // (`dpop_jkt`) binds the code to it.
        let dpop_key = match self.dpop_wanted() {
            true => Some(crate::dpop::DpopKey::generate()?),
            false => None,
        };
        if let Some(key) = &dpop_key {
            hint_params.push(("dpop_jkt".into(), key.thumbprint()));
        }
        let (challenge, verifier) = pkce_pair()?;
        let state = new_state()?;
        let nonce = new_nonce()?;
        let request = Request {
            redirect_uri,
            challenge,
            state: &state,
            nonce: &nonce,
            params: self
                .config
                .extra_params
                .iter()
                .chain(&hint_params)
                .collect(),
        };
        let authorization_url = match self.config.protocol {
            Protocol::OpenidConnect => self.openid_request(request),
            Protocol::Oauth2 => self.oauth2_request(request),
        };
        Ok(PendingSignIn {
            trace: FlowTrace::new(),
            provider_id: self.config.id.clone(),
            issuer: self.issuer().to_owned(),
            iss_required: self
                .metadata
                .additional_metadata()
                .authorization_response_iss_parameter_supported,
            redirect_uri: redirect_uri.clone(),
            authorization_url,
            state,
            nonce,
            verifier,
            started: Instant::now(),
            dpop_key,
            pushed: None,
        })
    }

    /// OIDC Core §3.1.2.1: the `openid` scope, `nonce`, and PKCE (RFC 7636 §4.3).
    fn openid_request(&self, r: Request<'_>) -> Url {
        let (s, n) = (r.state.clone(), r.nonce.clone());
        let mut request = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || s,
                move || n,
            )
            .add_scopes(
                self.config
                    .scopes
                    .iter()
                    .filter(|s| *s != "openid")
                    .map(|s| Scope::new(s.clone())),
            )
            .set_pkce_challenge(r.challenge)
            .set_redirect_uri(std::borrow::Cow::Owned(RedirectUrl::from_url(
                r.redirect_uri.clone(),
            )));
        for (k, v) in r.params {
            request = request.add_extra_param(k.clone(), v.clone());
        }
        request.url().0
    }

    /// RFC 6749 §4.1.1 + RFC 7636 §4.3 with no OpenID parameters: a plain OAuth 2.0
    /// provider (GitHub) gets no `openid` scope and no nonce.
    fn oauth2_request(&self, r: Request<'_>) -> Url {
        let mut url = self.metadata.authorization_endpoint().url().clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("redirect_uri", r.redirect_uri.as_str())
                .append_pair("scope", &self.config.scopes.join(" "))
                .append_pair("state", r.state.secret())
                .append_pair("code_challenge", r.challenge.as_str())
                .append_pair("code_challenge_method", r.challenge.method().as_str());
            for (k, v) in r.params {
                q.append_pair(k, v);
            }
        }
        url
    }
}

/// What goes into one authorization request URL.
struct Request<'a> {
    redirect_uri: &'a Url,
    challenge: PkceCodeChallenge,
    state: &'a CsrfToken,
    nonce: &'a Nonce,
    /// The provider's documented extras, then the hints and `dpop_jkt`.
    params: Vec<&'a (String, String)>,
}
