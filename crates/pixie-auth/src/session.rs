//! After the sign-in: what is kept between runs, refreshing it (RFC 6749 §6, OIDC Core §12),
//! and revoking it (RFC 7009). Signing out at the provider is [`crate::logout`].

use openidconnect::core::CoreTokenResponse;
use openidconnect::{AccessToken, OAuth2TokenResponse, RefreshToken, SubjectIdentifier};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::token_error;
use crate::id_token::{Expect, Original};
use crate::provider::Provider;
use crate::settings::Protocol;
use crate::tokens::{IdToken, Tokens};

/// What Pixie keeps in the OS keyring for one account: enough to get new access tokens
/// without the browser, and to ask the provider to end the session. Every secret in it is a
/// type whose `Debug` shows no value; it is serialised only into the keyring.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredSession {
    /// The provider's id in Pixie's settings.
    pub provider_id: String,
    /// The provider's issuer; a session is used only with the same one.
    pub issuer: String,
    /// The account (`sub`).
    pub subject: String,
    /// RFC 6749 §6. `None` for a provider that issues none (then `access_token` is kept).
    #[serde(default)]
    pub refresh_token: Option<RefreshToken>,
    /// Kept only when the provider issued no refresh token and an access token that does not
    /// expire (GitHub OAuth apps: valid until revoked). Checked at the user API on restore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<AccessToken>,
    /// The newest ID token, sent as `id_token_hint` at sign-out; a refreshed one must keep
    /// its `iss`, `aud` and `azp` (OIDC Core §12.2).
    #[serde(default, deserialize_with = "IdToken::lenient")]
    pub id_token: Option<IdToken>,
    /// When the person authenticated at the provider (the sign-in ID token's `auth_time`,
    /// OIDC Core §2), kept through every refresh: a refreshed ID token that carries one must
    /// carry this one (§12.2), even after a refresh whose ID token left it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// The account's DPoP key (RFC 9449): its tokens work only with it. Kept here, in the
    /// keyring, and nowhere else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_key: Option<crate::dpop::DpopKey>,
}

impl StoredSession {
    /// The session to keep after a sign-in or refresh. `None` when there is nothing worth
    /// keeping: no refresh token, and an access token that expires.
    pub fn from_tokens(
        provider: &Provider,
        tokens: &Tokens,
        previous: Option<&Self>,
    ) -> Option<Self> {
        // RFC 6749 §6: a refresh response may omit the refresh token; the old one stays valid.
        let refresh = tokens
            .refresh_token
            .clone()
            .or_else(|| previous.and_then(|p| p.refresh_token.clone()));
        // RFC 6749 §5.1: no `expires_in` and no refresh token: the access token is the
        // session (GitHub OAuth apps document theirs as valid until revoked).
        let access = match (&refresh, tokens.expires_at) {
            (None, None) => Some(tokens.access_token.clone()),
            _ => None,
        };
        if refresh.is_none() && access.is_none() {
            return None;
        }
        Some(Self {
            provider_id: provider.config().id.clone(),
            issuer: provider.issuer().to_owned(),
            subject: tokens.subject.to_string(),
            refresh_token: refresh,
            access_token: access,
            id_token: tokens
                .id_token
                .clone()
                .or_else(|| previous.and_then(|p| p.id_token.clone())),
            // The first authentication's time; a session kept before this field was added
            // takes it from its own ID token.
            auth_time: match previous {
                Some(p) => p.auth_time.or_else(|| auth_time_of(p.id_token.as_ref())),
                None => auth_time_of(tokens.id_token.as_ref()),
            },
            // RFC 9449 §5: the key the tokens are bound to, through every refresh (a refresh
            // carries the session's own key; a new sign-in brings its own, or none).
            dpop_key: tokens.dpop_key.clone(),
        })
    }
}

/// The `auth_time` of an ID token Pixie verified when it came (read without verifying again).
fn auth_time_of(id_token: Option<&IdToken>) -> Option<i64> {
    crate::jwt::Jwt::decode(&id_token?.compact())?.number("auth_time")
}

impl Error {
    /// RFC 6749 §5.2 `invalid_grant`: the refresh token is expired, revoked or reused. The
    /// session is over; anything else (network, server error) may pass.
    pub fn is_invalid_grant(&self) -> bool {
        // RFC 6750 §3.1 `invalid_token`: a kept access token the provider no longer accepts.
        matches!(self, Error::TokenRejected { error, .. } if error == "invalid_grant" || error == "invalid_token")
    }
}

impl Provider {
    /// RFC 6749 §6: new tokens from a refresh token. A returned ID token is checked like the
    /// first one and must be about the same subject (OIDC Core §12.2).
    pub async fn refresh(&self, session: &StoredSession) -> Result<Tokens, Error> {
        if session.issuer != self.issuer() {
            return Err(Error::TokenRejected {
                error: "invalid_grant".into(),
                description: Some("the session belongs to another issuer".into()),
            });
        }
        let Some(refresh_token) = &session.refresh_token else {
            return self.resume(session).await;
        };
        let request = self
            .client
            .exchange_refresh_token(refresh_token)
            .map_err(|e| Error::Config(e.to_string()))?;
        // RFC 9449 §5: a refresh token bound to a key is used with a proof from it, and the
        // new access token must again be a DPoP one.
        let response = match &session.dpop_key {
            Some(key) => {
                let client = self.dpop_client(&self.http, key, "token");
                let response = request
                    .request_async(&client)
                    .await
                    .map_err(token_error)
                    .map_err(|e| crate::dpop::typed_refusal(e, "token"))?;
                crate::dpop::check_token_type(&response, "token")?;
                response
            }
            None => request
                .request_async(&self.http)
                .await
                .map_err(token_error)?,
        };
        let subject = SubjectIdentifier::new(session.subject.clone());
        let original = Original {
            subject: &subject,
            id_token: session.id_token.as_ref(),
            auth_time: session.auth_time,
        };
        let mut tokens = match self
            .verify_token_response(&response, Expect::Refresh(original), None)
            .await
        {
            Ok(tokens) => tokens,
            Err(e) => {
                self.revoke_refused(&response, session).await;
                return Err(e);
            }
        };
        // RFC 9449 §5: refreshed tokens stay bound to the session's key.
        tokens.dpop_key = session.dpop_key.clone();
        Ok(tokens)
    }

    /// A refresh answer that failed the checks is never used, but the provider has issued
    /// it (and may have rotated the refresh token): its tokens are revoked (RFC 7009), best
    /// effort, with the session's DPoP key.
    async fn revoke_refused(&self, response: &CoreTokenResponse, session: &StoredSession) {
        let issued = StoredSession {
            refresh_token: response.refresh_token().cloned(),
            access_token: Some(response.access_token().clone()),
            ..session.clone()
        };
        if let Err(e) = self.revoke(&issued).await {
            tracing::warn!(code = e.code(), "could not revoke a refused refresh answer");
        }
    }

    /// A session kept as a non-expiring access token (no refresh token): still accepted at
    /// the user API, and about the same account? A 401 means it was revoked (RFC 6750 §3.1).
    async fn resume(&self, session: &StoredSession) -> Result<Tokens, Error> {
        let Some(access) = &session.access_token else {
            return Err(Error::TokenRejected {
                error: "invalid_grant".into(),
                description: Some("the saved session holds no token".into()),
            });
        };
        let tokens = Tokens {
            access_token: access.clone(),
            refresh_token: None,
            id_token: None,
            expires_at: None,
            subject: SubjectIdentifier::new(session.subject.clone()),
            dpop_key: session.dpop_key.clone(),
        };
        // Only the check: the caller loads the profile (and picture) with the tokens.
        match self.config().protocol {
            Protocol::Oauth2 => {
                let response = self.user_api(&self.http, &tokens.access_token).await?;
                if response.status() == openidconnect::http::StatusCode::UNAUTHORIZED {
                    return Err(Error::TokenRejected {
                        error: "invalid_token".into(),
                        description: Some(
                            "the provider no longer accepts the saved sign-in".into(),
                        ),
                    });
                }
                self.user_api_answer(&response, &tokens)?;
            }
            Protocol::OpenidConnect => {
                self.user_info(&tokens).await?;
            }
        }
        Ok(tokens)
    }

    /// RFC 7009 §2.1: revoke the refresh token (and with it the grant). Returns false when the
    /// provider has no revocation endpoint. (Sent by hand rather than through `oauth2`, which
    /// insists on https even for a loopback provider, where RFC 8252 §8.3 allows http.)
    pub async fn revoke(&self, session: &StoredSession) -> Result<bool, Error> {
        let Some(endpoint) = &self.revocation else {
            return Ok(false);
        };
        // RFC 7009 §2.1: the refresh token (which takes the grant with it), else the kept
        // access token.
        let (token, hint) = match (&session.refresh_token, &session.access_token) {
            (Some(r), _) => (r.secret(), "refresh_token"),
            (None, Some(a)) => (a.secret(), "access_token"),
            (None, None) => return Ok(false),
        };
        let request = self
            .client_form(
                endpoint.url(),
                &[("token", token), ("token_type_hint", hint)],
            )
            .map_err(|e| Error::http("revocation", e))?;
        // RFC 9449 §4: the request of a DPoP client carries a proof of its key.
        let response = match &session.dpop_key {
            Some(key) => {
                self.dpop_client(&self.http, key, "revocation")
                    .execute(request)
                    .await
            }
            None => self.http.execute(request).await,
        }
        .map_err(|e| Error::http("revocation", e))?;
        // RFC 7009 §2.2: 200 whether or not the token was valid.
        if response.status().is_success() {
            return Ok(true);
        }
        // RFC 7009 §2.2.1: an error response as in RFC 6749 §5.2.
        #[derive(Deserialize)]
        struct ErrorBody {
            error: String,
            error_description: Option<String>,
        }
        match serde_json::from_slice::<ErrorBody>(response.body()) {
            Ok(e) => Err(Error::TokenRejected {
                error: e.error,
                description: e.error_description,
            }),
            Err(_) => Err(Error::TokenResponse(format!(
                "revocation answered HTTP {}",
                response.status()
            ))),
        }
    }
}
