//! One sign-in from start to profile: the pending request, the code exchange, the ID token
//! checks (OIDC Core §3.1.3.7), userinfo (§5.3) and the picture.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreGenderClaim, CoreIdToken, CoreJwsSigningAlgorithm,
    CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AccessTokenHash, CsrfToken, EmptyAdditionalClaims, Nonce, OAuth2TokenResponse,
    PkceCodeVerifier, RefreshToken, RequestTokenError, Scope, SubjectIdentifier, TokenResponse,
    UserInfoClaims, UserInfoError,
};
use serde::Serialize;
use url::Url;

use crate::Error;
use crate::callback::{CallbackError, CallbackExpectation, ValidatedCallback, validate_callback};
use crate::picture::fetch_picture;
use crate::provider::Provider;
use crate::random::{new_nonce, new_state, pkce_pair};

/// How long a sign-in may wait for its redirect.
pub const SIGN_IN_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// Clock skew tolerated on `iat` (OIDC Core §3.1.3.7 step 10).
const MAX_IAT_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// The signing algorithms Pixie accepts on ID tokens. Never `none`, never HMAC for a
/// public client (OIDC Core §10.1 / RFC 8725 §3.1).
pub const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 6] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// A sign-in waiting for its redirect. Holds the PKCE verifier, `state` and `nonce`.
pub struct PendingSignIn {
    provider_id: String,
    issuer: String,
    iss_required: bool,
    redirect_uri: Url,
    authorization_url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    started: Instant,
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

    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    pub fn is_expired(&self) -> bool {
        self.started.elapsed() > SIGN_IN_TIMEOUT
    }

    /// Check a redirect that came back through the OS. See [`validate_callback`].
    pub fn validate_callback(&self, raw: &str) -> Result<ValidatedCallback, CallbackError> {
        validate_callback(
            raw,
            &CallbackExpectation {
                redirect_uri: &self.redirect_uri,
                state: self.state.secret(),
                issuer: &self.issuer,
                iss_required: self.iss_required,
            },
        )
    }
}

/// Tokens from the token endpoint. They never leave the core; `Debug` shows no secret.
pub struct Tokens {
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    /// Always present after a sign-in; a refresh may not return a new one.
    pub id_token: Option<CoreIdToken>,
    pub expires_at: Option<DateTime<Utc>>,
    pub subject: SubjectIdentifier,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("expires_at", &self.expires_at)
            .field("subject", &self.subject.as_str())
            .finish()
    }
}

/// What the window shows. No token, ever.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    /// `data:` URL of the picture, fetched by the core; `None` shows initials.
    pub picture_data_url: Option<String>,
    pub issuer: String,
    pub provider_id: String,
}

/// A finished sign-in.
#[derive(Debug)]
pub struct SignedIn {
    pub profile: Profile,
    pub tokens: Tokens,
    /// Set when the picture could not be used; the sign-in itself succeeded.
    pub picture_error: Option<Error>,
}

/// RFC 6749 §5.2 error responses and transport failures of the token endpoint, as typed
/// errors. The body may hold tokens: say what failed, never what it held.
pub(crate) fn token_error(
    e: RequestTokenError<
        crate::HttpError,
        openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
    >,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => Error::TokenRejected {
            error: r.error().as_ref().to_string(),
            description: r.error_description().cloned(),
        },
        RequestTokenError::Request(source) => Error::http("token", source),
        RequestTokenError::Parse(err, _body) => {
            Error::TokenResponse(format!("malformed JSON at {}", err.path()))
        }
        RequestTokenError::Other(msg) => Error::TokenResponse(msg),
    }
}

impl Provider {
    /// Create a pending sign-in and its authorization URL (RFC 6749 §4.1.1, RFC 7636 §4.3,
    /// OIDC Core §3.1.2.1).
    pub fn start_sign_in(&self) -> Result<PendingSignIn, Error> {
        let (challenge, verifier) = pkce_pair()?;
        let state = new_state()?;
        let nonce = new_nonce()?;
        let (s, n) = (state.clone(), nonce.clone());
        let (authorization_url, state, nonce) = self
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
            .set_pkce_challenge(challenge)
            .url();
        Ok(PendingSignIn {
            provider_id: self.config.id.clone(),
            issuer: self.issuer().to_owned(),
            iss_required: self
                .metadata
                .additional_metadata()
                .authorization_response_iss_parameter_supported,
            redirect_uri: self.redirect_uri.clone(),
            authorization_url,
            state,
            nonce,
            verifier,
            started: Instant::now(),
        })
    }

    /// Exchange, verify, fetch the profile: everything after a valid redirect.
    pub async fn complete(
        &self,
        pending: &PendingSignIn,
        callback: &ValidatedCallback,
    ) -> Result<SignedIn, Error> {
        if pending.is_expired() {
            return Err(Error::Expired);
        }
        let tokens = self.exchange(pending, callback).await?;
        let (profile, picture_error) = self.load_profile(&tokens).await?;
        Ok(SignedIn {
            profile,
            tokens,
            picture_error,
        })
    }

    /// Userinfo (with the `sub` check) and the picture, as the window shows them. A picture
    /// that cannot be used is reported beside the profile, not as a failure.
    pub async fn load_profile(&self, tokens: &Tokens) -> Result<(Profile, Option<Error>), Error> {
        let claims = self.user_info(tokens).await?;
        let mut profile = self.profile_from(tokens, &claims);
        let mut picture_error = None;
        if let Some(url) = claims.picture().and_then(|p| p.get(None)) {
            match fetch_picture(&self.http, url.as_str()).await {
                Ok(data) => profile.picture_data_url = Some(data),
                Err(e) => {
                    tracing::warn!(error = %e, "profile picture not used");
                    picture_error = Some(e);
                }
            }
        }
        Ok((profile, picture_error))
    }

    /// RFC 6749 §4.1.3 + RFC 7636 §4.5: trade the code and verifier for tokens, then check
    /// the ID token (OIDC Core §3.1.3.7).
    pub async fn exchange(
        &self,
        pending: &PendingSignIn,
        callback: &ValidatedCallback,
    ) -> Result<Tokens, Error> {
        let response = self
            .client
            .exchange_code(callback.code().clone())
            .map_err(|e| Error::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.secret().clone()))
            .request_async(&self.http)
            .await
            .map_err(token_error)?;

        self.verify_token_response(&response, Some(&pending.nonce), None)
    }

    /// Check a token endpoint response and keep what it holds. `nonce` is the sign-in's
    /// (OIDC Core §3.1.3.7 step 11); a refresh has none and must keep the subject (§12.2).
    pub(crate) fn verify_token_response(
        &self,
        response: &CoreTokenResponse,
        nonce: Option<&Nonce>,
        expected_subject: Option<&SubjectIdentifier>,
    ) -> Result<Tokens, Error> {
        // RFC 6749 §5.1: token_type is Bearer (case-insensitive), checked by the typed parser.
        // OIDC Core §3.1.3.3: a successful response to an `openid` request has an ID token;
        // §12.2: a refresh response may omit it.
        let id_token = match (response.id_token().cloned(), nonce) {
            (Some(t), _) => Some(t),
            (None, Some(_)) => {
                return Err(Error::IdToken("the token response has no id_token".into()));
            }
            (None, None) => None,
        };
        let now = (self.clock)();
        let mut subject = expected_subject.cloned();
        if let Some(id_token) = &id_token {
            let clock = self.clock.clone();
            let verifier = self
                .client
                .id_token_verifier()
                .set_allowed_algs(ALLOWED_ALGS)
                .set_time_fn(move || clock());
            // OIDC Core §3.1.3.7 steps 2-3 (iss, aud), 4-5 (azp), 6-8 (signature via JWKS,
            // alg allow-list, `none` refused), 9 (exp) and 11 (nonce) are checked by `claims()`.
            let claims = match nonce {
                Some(nonce) => id_token.claims(&verifier, nonce),
                // OIDC Core §12.2: a refreshed ID token carries no new nonce to compare.
                None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
            }
            .map_err(|e| Error::IdToken(e.to_string()))?;

            // OIDC Core §3.1.3.7 step 10: an `iat` far in the future means a broken or forged token.
            if claims.issue_time() > now + MAX_IAT_SKEW {
                return Err(Error::IdToken("issued in the future (iat)".into()));
            }
            // OIDC Core §12.2: a refreshed ID token is about the same person.
            if let Some(expected) = expected_subject
                && claims.subject() != expected
            {
                return Err(Error::IdToken(
                    "the refreshed ID token is about another account (sub)".into(),
                ));
            }

            // OIDC Core §3.1.3.8 / §3.2.2.9: when `at_hash` is present it must match the access token.
            if let Some(expected) = claims.access_token_hash() {
                let alg = id_token
                    .signing_alg()
                    .map_err(|e| Error::IdToken(e.to_string()))?;
                let key = id_token
                    .signing_key(&verifier)
                    .map_err(|e| Error::IdToken(e.to_string()))?;
                let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
                    .map_err(|e| Error::IdToken(e.to_string()))?;
                if actual != *expected {
                    return Err(Error::IdToken(
                        "at_hash does not match the access token".into(),
                    ));
                }
            }
            subject = Some(claims.subject().clone());
        }
        let subject =
            subject.ok_or_else(|| Error::IdToken("no subject to bind the tokens to".into()))?;
        let expires_at = response
            .expires_in()
            .and_then(|d| chrono::TimeDelta::from_std(d).ok())
            .map(|d| now + d);
        Ok(Tokens {
            access_token: response.access_token().clone(),
            refresh_token: response.refresh_token().cloned(),
            subject,
            id_token,
            expires_at,
        })
    }

    /// OIDC Core §5.3: userinfo with the access token; §5.3.4: its `sub` must equal the
    /// ID token's.
    pub async fn user_info(
        &self,
        tokens: &Tokens,
    ) -> Result<UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim>, Error> {
        let request = self
            .client
            .user_info(tokens.access_token.clone(), Some(tokens.subject.clone()))
            .map_err(|e| Error::Config(e.to_string()))?;
        request
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                UserInfoError::ClaimsVerification(
                    openidconnect::ClaimsVerificationError::InvalidSubject(_),
                ) => Error::SubjectMismatch,
                UserInfoError::Request(source) => Error::http("userinfo", source),
                other => Error::UserInfo(other.to_string()),
            })
    }

    fn profile_from(
        &self,
        tokens: &Tokens,
        claims: &UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim>,
    ) -> Profile {
        let email = claims.email().map(|e| e.to_string());
        let name = claims
            .name()
            .and_then(|c| c.get(None))
            .map(|n| n.to_string())
            .or_else(|| {
                let given = claims
                    .given_name()
                    .and_then(|c| c.get(None))
                    .map(|n| n.to_string());
                let family = claims
                    .family_name()
                    .and_then(|c| c.get(None))
                    .map(|n| n.to_string());
                match (given, family) {
                    (Some(g), Some(f)) => Some(format!("{g} {f}")),
                    (g, f) => g.or(f),
                }
            })
            .or_else(|| claims.preferred_username().map(|u| u.to_string()))
            .or_else(|| email.clone())
            .unwrap_or_else(|| tokens.subject.to_string());
        Profile {
            subject: tokens.subject.to_string(),
            name,
            email,
            picture_data_url: None,
            issuer: self.issuer().to_owned(),
            provider_id: self.config.id.clone(),
        }
    }
}
