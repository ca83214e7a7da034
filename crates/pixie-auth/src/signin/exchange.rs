//! The code exchange (RFC 6749 §4.1.3, RFC 7636 §4.5): the code and the PKCE verifier for
//! tokens, with a DPoP proof when the account has a key (RFC 9449 §5), then the ID token's
//! checks.

use openidconnect::{PkceCodeVerifier, RedirectUrl};

use super::PendingSignIn;
use crate::Error;
use crate::callback::{CallbackError, ValidatedCallback};
use crate::error::token_error;
use crate::flow::steps::{TokenRequest, token_step};
use crate::id_token::Expect;
use crate::provider::Provider;
use crate::tokens::Tokens;

impl Provider {
    /// RFC 6749 §4.1.3 + RFC 7636 §4.5: trade the code and verifier for tokens, then check
    /// the ID token (OIDC Core §3.1.3.7). `pending` is used up: its verifier goes once.
    pub async fn exchange(
        &self,
        pending: PendingSignIn,
        callback: &ValidatedCallback,
    ) -> Result<Tokens, Error> {
        // RFC 6749 §10.12: the code belongs to the request whose `state` it came back with.
        if !callback.belongs_to(pending.state.secret()) {
            return Err(CallbackError::StateMismatch.into());
        }
        let http = self.http.with_trace(&pending.trace);
        let request = self
            .client
            .exchange_code(callback.code().clone())
            .map_err(|e| Error::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.secret().clone()))
            // RFC 6749 §4.1.3: the same redirect URI as in the authorization request.
            .set_redirect_uri(std::borrow::Cow::Owned(RedirectUrl::from_url(
                pending.redirect_uri.clone(),
            )));
        // RFC 9449 §5: with a DPoP key, the request carries a proof and the answer must be
        // a DPoP token.
        let (response, dpop, bound) = match &pending.dpop_key {
            Some(key) => {
                let client = self.dpop_client(&http, key, "token");
                let r = request
                    .request_async(&client)
                    .await
                    .map_err(token_error)
                    .map_err(|e| crate::dpop::typed_refusal(e, "token"))
                    .and_then(|t| {
                        crate::dpop::check_token_type(&t, "token")?;
                        Ok(t)
                    });
                let shown = crate::dpop::trace::proof_param(key, &client.outcome());
                let bound = crate::dpop::trace::bound_check(&r);
                (r, shown, Some(bound))
            }
            None => (
                request.request_async(&http).await.map_err(token_error),
                Vec::new(),
                None,
            ),
        };
        let path = self
            .metadata
            .token_endpoint()
            .map(|u| u.url().path().to_owned())
            .unwrap_or_default();
        let shown = TokenRequest {
            path: &path,
            callback,
            redirect_uri: &pending.redirect_uri,
            client_id: &self.config.client_id,
            dpop,
            bound,
        };
        pending
            .trace
            .push(token_step(shown, &response, &pending.trace));
        let response = response?;
        let mut tokens = self
            .verify_token_response(
                &response,
                Expect::SignIn(&pending.nonce),
                Some(&pending.trace),
            )
            .await?;
        // RFC 9449 §5: the tokens work only with the key the exchange was proven with.
        tokens.dpop_key = pending.dpop_key.clone();
        Ok(tokens)
    }
}
