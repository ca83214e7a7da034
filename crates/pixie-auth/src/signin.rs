//! One sign-in from start to profile: the pending request, the code exchange, the ID token
//! checks (OIDC Core §3.1.3.7), userinfo (§5.3) and the picture.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreGenderClaim, CoreIdToken, CoreJwsSigningAlgorithm,
    CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AccessTokenHash, ClaimsVerificationError, CsrfToken, EmptyAdditionalClaims, Nonce,
    OAuth2TokenResponse, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    SignatureVerificationError, SubjectIdentifier, TokenResponse, UserInfoClaims, UserInfoError,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::Error;
use crate::callback::{CallbackError, CallbackExpectation, ValidatedCallback, validate_callback};
use crate::flow::{Check, FlowStep, FlowTrace, NEVER_SHOWN, Party, short};
use crate::picture::fetch_picture;
use crate::provider::Provider;
use crate::random::{new_nonce, new_state, pkce_pair};

use crate::hints::SignInHints;

/// How long the work after the redirect (exchange, checks, userinfo, picture) may take.
pub const COMPLETE_DEADLINE: Duration = Duration::from_secs(45);
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
    pub(crate) authorization_url: Url,
    state: CsrfToken,
    nonce: Nonce,
    verifier: PkceCodeVerifier,
    started: Instant,
    pub(crate) trace: FlowTrace,
    /// The new account's DPoP key (RFC 9449), when the provider binds tokens.
    dpop_key: Option<crate::dpop::DpopKey>,
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

    /// The redacted record of this sign-in's steps so far.
    pub fn trace(&self) -> &FlowTrace {
        &self.trace
    }

    /// How long this sign-in may still wait for its redirect.
    pub fn time_left(&self) -> Duration {
        SIGN_IN_TIMEOUT.saturating_sub(self.started.elapsed())
    }

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

/// What the window shows, and what the app may cache to draw at once next time. No token, ever.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
        RequestTokenError::Parse(err, body) => {
            // RFC 6749 §5.2 says errors come with HTTP 400; GitHub sends them with 200
            // ("Troubleshooting OAuth app access token request errors"). An error body is
            // the provider refusing, whatever the status.
            match serde_json::from_slice::<
                openidconnect::StandardErrorResponse<openidconnect::core::CoreErrorResponseType>,
            >(&body)
            {
                Ok(r) => Error::TokenRejected {
                    error: r.error().as_ref().to_string(),
                    description: r.error_description().cloned(),
                },
                Err(_) => Error::TokenResponse(format!("malformed JSON at {}", err.path())),
            }
        }
        RequestTokenError::Other(msg) => Error::TokenResponse(msg),
    }
}

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
        if self.par_endpoint()?.is_some() && self.must_push() {
            return Err(crate::par::ParError::NotPushed.into());
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
        let authorization_url = match self.config.protocol {
            crate::provider::Protocol::OpenidConnect => {
                let (s, n) = (state.clone(), nonce.clone());
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
                    .set_pkce_challenge(challenge)
                    .set_redirect_uri(std::borrow::Cow::Owned(RedirectUrl::from_url(
                        redirect_uri.clone(),
                    )));
                for (k, v) in self.config.extra_params.iter().chain(&hint_params) {
                    request = request.add_extra_param(k.clone(), v.clone());
                }
                request.url().0
            }
            // RFC 6749 §4.1.1 + RFC 7636 §4.3, no OpenID parameters: a plain OAuth 2.0
            // provider (GitHub) gets no `openid` scope and no nonce.
            crate::provider::Protocol::Oauth2 => {
                let mut url = self.metadata.authorization_endpoint().url().clone();
                {
                    let mut q = url.query_pairs_mut();
                    q.append_pair("response_type", "code")
                        .append_pair("client_id", &self.config.client_id)
                        .append_pair("redirect_uri", redirect_uri.as_str())
                        .append_pair("scope", &self.config.scopes.join(" "))
                        .append_pair("state", state.secret())
                        .append_pair("code_challenge", challenge.as_str())
                        .append_pair("code_challenge_method", challenge.method().as_str());
                    for (k, v) in self.config.extra_params.iter().chain(&hint_params) {
                        q.append_pair(k, v);
                    }
                }
                url
            }
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
        })
    }
}

/// The steps that open the authorization request in the browser (RFC 8252 §8.12).
pub(crate) fn trace_opening(trace: &FlowTrace, authorization_url: &Url) {
    let mut step = FlowStep::new(
        Party::App,
        Party::Browser,
        "Open the authorization request in the system browser",
    );
    for (name, value) in authorization_url.query_pairs() {
        step = step.param(&name, crate::par::shown(&name, &value));
    }
    trace.push(
        step.check(Check::new(
            "PKCE S256 challenge sent; the verifier stays in the app",
            "RFC 7636 §4.2–4.3",
            true,
            None,
        ))
        .check(Check::new(
            "System browser, not an embedded webview",
            "RFC 8252 §8.12",
            true,
            None,
        )),
    );
    trace.push(
        FlowStep::new(
            Party::Browser,
            Party::AuthorizationEndpoint,
            &format!("GET {}", authorization_url.path()),
        )
        .note("You sign in at the provider. Pixie sees none of it."),
    );
}

impl Provider {
    /// Exchange, verify, fetch the profile: everything after a valid redirect.
    pub async fn complete(
        &self,
        pending: &PendingSignIn,
        callback: &ValidatedCallback,
    ) -> Result<SignedIn, Error> {
        if pending.is_expired() {
            return Err(Error::Expired);
        }
        let mut tokens = self.exchange(pending, callback).await?;
        let (profile, picture_error) = self
            .load_profile_traced(&tokens, Some(&pending.trace))
            .await?;
        if self.config.protocol == crate::provider::Protocol::Oauth2 {
            // OAuth 2.0: the account is the one the user API named.
            tokens.subject = SubjectIdentifier::new(profile.subject.clone());
        }
        Ok(SignedIn {
            profile,
            tokens,
            picture_error,
        })
    }

    /// Userinfo (with the `sub` check) and the picture, as the window shows them. A picture
    /// that cannot be used is reported beside the profile, not as a failure.
    pub async fn load_profile(&self, tokens: &Tokens) -> Result<(Profile, Option<Error>), Error> {
        self.load_profile_traced(tokens, None).await
    }

    pub(crate) async fn load_profile_traced(
        &self,
        tokens: &Tokens,
        trace: Option<&FlowTrace>,
    ) -> Result<(Profile, Option<Error>), Error> {
        let http = match trace {
            Some(t) => self.http.with_trace(t),
            None => self.http.clone(),
        };
        let (mut profile, picture) = match self.config.protocol {
            crate::provider::Protocol::OpenidConnect => {
                let claims = self.user_info_with(&http, tokens).await;
                if let Some(t) = trace {
                    let dpop = self.dpop_key_of(tokens.subject.as_str()).is_some();
                    t.push(userinfo_step(self, &claims, t, dpop));
                }
                let claims = claims?;
                let picture = claims
                    .picture()
                    .and_then(|p| p.get(None))
                    .map(|u| u.as_str().to_owned());
                (self.profile_from(tokens, &claims), picture)
            }
            crate::provider::Protocol::Oauth2 => {
                let result = self.user_api_profile(&http, tokens).await;
                if let Some(t) = trace {
                    let path = self
                        .metadata
                        .userinfo_endpoint()
                        .map(|u| u.url().path().to_owned())
                        .unwrap_or_default();
                    t.push(
                        FlowStep::new(Party::App, Party::Userinfo, &format!("GET {path}"))
                            .param("Authorization", format!("Bearer {NEVER_SHOWN}"))
                            .http(t.take_http())
                            .check(Check::new(
                                "the user API named the account",
                                "RFC 6750 §2.1",
                                result.is_ok(),
                                result.as_ref().err().map(|e| e.to_string()),
                            )),
                    );
                }
                result?
            }
        };
        let mut picture_error = None;
        if let Some(url) = picture {
            let result = fetch_picture(&http, &url, self.issuer()).await;
            if let Some(t) = trace {
                let shown = match Url::parse(&url) {
                    Ok(u) => format!("{}{}", u.origin().ascii_serialization(), u.path()),
                    Err(_) => "(not a URL)".into(),
                };
                t.push(
                    FlowStep::new(Party::App, Party::Picture, "GET picture")
                        .param("url", shown)
                        .http(t.take_http())
                        .check(Check::new(
                            "at most 2 MiB and 4096×4096, PNG/JPEG/GIF/WebP by its bytes, never SVG; kept at 192 px; this computer only for a local issuer",
                            "Pixie limits, RFC 9700 §2.6",
                            result.is_ok(),
                            result.as_ref().err().map(|e| e.to_string()),
                        ))
                        .note("Fetched once by the core; the window gets a data: URL and never touches the network."),
                );
            }
            match result {
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
        let (response, dpop) = match &pending.dpop_key {
            Some(key) => {
                let client = self.dpop_client(&http, key, "token");
                let r = request.request_async(&client).await.map_err(token_error);
                let r = r
                    .map_err(|e| crate::dpop::typed_refusal(e, "token"))
                    .and_then(|t| {
                        crate::dpop::check_token_type(&t, "token")?;
                        Ok(t)
                    });
                (r, Some((key, client.outcome())))
            }
            None => (
                request.request_async(&http).await.map_err(token_error),
                None,
            ),
        };
        let path = self
            .metadata
            .token_endpoint()
            .map(|u| u.url().path().to_owned())
            .unwrap_or_default();
        pending.trace.push(
            FlowStep::new(Party::App, Party::TokenEndpoint, &format!("POST {path}"))
                .param("grant_type", "authorization_code")
                .param("code", short(callback.code().secret()))
                .param("redirect_uri", pending.redirect_uri.as_str())
                .param("client_id", self.config.client_id.clone())
                .param("code_verifier", NEVER_SHOWN)
                .params(
                    dpop.as_ref()
                        .map(|(k, o)| crate::dpop::trace::proof_param(k, o))
                        .unwrap_or_default(),
                )
                .http(pending.trace.take_http())
                .check(Check::new(
                    "the provider accepted the code and the PKCE verifier",
                    "RFC 6749 §4.1.3, RFC 7636 §4.6",
                    response.is_ok(),
                    response.as_ref().err().map(|e| e.to_string()),
                ))
                .checks(
                    dpop.as_ref()
                        .map(|_| crate::dpop::trace::bound_check(&response)),
                )
                .note("Tokens come back to the core only, never through a browser URL."),
        );
        let response = response?;
        let tokens = self
            .verify_token_response(&response, Some(&pending.nonce), None, Some(&pending.trace))
            .await?;
        if let Some(key) = &pending.dpop_key {
            self.dpop.keep_key(tokens.subject.as_str(), key);
        }
        Ok(tokens)
    }

    /// Check a token endpoint response and keep what it holds. `nonce` is the sign-in's
    /// (OIDC Core §3.1.3.7 step 11); a refresh has none and must keep the subject (§12.2).
    pub(crate) async fn verify_token_response(
        &self,
        response: &CoreTokenResponse,
        nonce: Option<&Nonce>,
        expected_subject: Option<&SubjectIdentifier>,
        trace: Option<&FlowTrace>,
    ) -> Result<Tokens, Error> {
        let result = self
            .verify_token_response_inner(response, nonce, expected_subject)
            .await;
        if let Some(t) = trace {
            t.push(match self.config.protocol {
                crate::provider::Protocol::OpenidConnect => {
                    FlowStep::new(Party::App, Party::App, "Check the ID token")
                        .checks(id_token_checks(response, &result))
                }
                crate::provider::Protocol::Oauth2 => {
                    FlowStep::new(Party::App, Party::App, "No ID token (plain OAuth 2.0)")
                        .note("The account is the one the provider's user API names.")
                }
            });
        }
        result
    }

    async fn verify_token_response_inner(
        &self,
        response: &CoreTokenResponse,
        nonce: Option<&Nonce>,
        expected_subject: Option<&SubjectIdentifier>,
    ) -> Result<Tokens, Error> {
        // RFC 6749 §5.1: token_type is Bearer (case-insensitive), checked by the typed parser.
        // OIDC Core §3.1.3.3: a successful response to an `openid` request has an ID token;
        // §12.2: a refresh response may omit it.
        let oauth2 = self.config.protocol == crate::provider::Protocol::Oauth2;
        let id_token = match (response.id_token().cloned(), nonce) {
            // A plain OAuth 2.0 provider issues none; the account comes from its user API.
            (_, _) if oauth2 => None,
            (Some(t), _) => Some(t),
            (None, Some(_)) => {
                return Err(Error::IdToken("the token response has no id_token".into()));
            }
            (None, None) => None,
        };
        let now = (self.clock)();
        let mut subject = expected_subject.cloned();
        if let Some(id_token) = &id_token {
            // OIDC Core §3.1.3.7 steps 2-3 (iss, aud), 4-5 (azp), 6-8 (signature via JWKS,
            // alg allow-list, `none` refused), 9 (exp) and 11 (nonce) are checked by `claims()`.
            let mut verifier = self.id_token_verifier();
            let mut claims = claims_of(&verifier, id_token, nonce);
            if let Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) = claims
            {
                // OIDC Core §10.1.1: the provider may have rotated its keys; fetch the JWKS
                // once more, then judge with what it publishes now.
                self.refresh_jwks().await?;
                verifier = self.id_token_verifier();
                claims = claims_of(&verifier, id_token, nonce);
            }
            let claims = claims.map_err(|e| Error::IdToken(e.to_string()))?;

            // OIDC Core §3.1.3.7 step 2 for a multi-tenant issuer: `iss` must be the
            // metadata's `{tenantid}` template filled with the token's own (signed) `tid`
            // (Microsoft identity platform, "Validate the issuer").
            if self.is_multi_tenant() {
                let tid = signed_claim(id_token, "tid")
                    .filter(|t| {
                        !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    })
                    .ok_or_else(|| Error::IdToken("no tenant (tid) in the ID token".into()))?;
                let expected = self.issuer().replace("{tenantid}", &tid);
                if claims.issuer().as_str() != expected {
                    return Err(Error::IdToken(format!(
                        "the ID token's issuer is not its tenant's ({})",
                        claims.issuer().as_str()
                    )));
                }
            }

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
        let subject = match subject {
            Some(s) => s,
            // Filled in from the user API by `complete` (OAuth 2.0 has no ID token).
            None if oauth2 => SubjectIdentifier::new(String::new()),
            None => return Err(Error::IdToken("no subject to bind the tokens to".into())),
        };
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

    /// OIDC Core §3.1.3.7 steps 2–9 and 11 (iss, aud, azp, signature with the allow-listed
    /// algorithms, exp, nonce) against the keys Pixie holds now, without fetching anything.
    /// `nonce: None` is a refreshed token (§12.2), which carries none to compare.
    pub fn verify_id_token(
        &self,
        id_token: &CoreIdToken,
        nonce: Option<&Nonce>,
    ) -> Result<(), ClaimsVerificationError> {
        claims_of(&self.id_token_verifier(), id_token, nonce).map(|_| ())
    }

    /// OIDC Core §5.3: userinfo with the access token; §5.3.4: its `sub` must equal the
    /// ID token's.
    pub async fn user_info(&self, tokens: &Tokens) -> Result<UserInfo, Error> {
        self.user_info_with(&self.http, tokens).await
    }

    async fn user_info_with(
        &self,
        http: &crate::HttpClient,
        tokens: &Tokens,
    ) -> Result<UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim>, Error> {
        let request = self
            .client
            .user_info(tokens.access_token.clone(), Some(tokens.subject.clone()))
            .map_err(|e| Error::Config(e.to_string()))?;
        let map = |e: UserInfoError<crate::HttpError>| match e {
            UserInfoError::ClaimsVerification(
                openidconnect::ClaimsVerificationError::InvalidSubject(_),
            ) => Error::SubjectMismatch,
            UserInfoError::Request(source) => Error::http("userinfo", source),
            other => Error::UserInfo(other.to_string()),
        };
        // RFC 9449 §7.1: a DPoP-bound access token goes with a proof (and `ath`).
        match self.dpop_key_of(tokens.subject.as_str()) {
            Some(key) => {
                let client = self.dpop_client(http, &key, "userinfo");
                let result = request.request_async(&client).await.map_err(map);
                match client.outcome().failure {
                    Some(e) if result.is_err() => Err(e.into()),
                    _ => result,
                }
            }
            None => request.request_async(http).await.map_err(map),
        }
    }

    /// RFC 6750 §2.1: GET the user API of a plain OAuth 2.0 provider with the access token.
    pub(crate) async fn user_api(
        &self,
        http: &crate::HttpClient,
        access_token: &AccessToken,
    ) -> Result<openidconnect::HttpResponse, Error> {
        let url = self
            .metadata
            .userinfo_endpoint()
            .ok_or_else(|| Error::Config("no user API configured".into()))?
            .url();
        crate::provider::get_json(http, url, Some(access_token.secret()))
            .await
            .map_err(|e| Error::http("userinfo", e))
    }

    /// The profile in a user API answer. A refreshed or resumed token must still be about
    /// the same account.
    pub(crate) fn user_api_answer(
        &self,
        response: &openidconnect::HttpResponse,
        tokens: &Tokens,
    ) -> Result<(Profile, Option<String>), Error> {
        if !response.status().is_success() {
            return Err(Error::UserInfo(format!(
                "the user API answered HTTP {}",
                response.status()
            )));
        }
        let (profile, picture) =
            profile_from_user_api(response.body(), self.issuer(), &self.config.id)?;
        if !tokens.subject.as_str().is_empty() && tokens.subject.as_str() != profile.subject {
            return Err(Error::SubjectMismatch);
        }
        Ok((profile, picture))
    }

    async fn user_api_profile(
        &self,
        http: &crate::HttpClient,
        tokens: &Tokens,
    ) -> Result<(Profile, Option<String>), Error> {
        let response = self.user_api(http, &tokens.access_token).await?;
        self.user_api_answer(&response, tokens)
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

type UserInfo = UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim>;

/// The userinfo step of the flow record (OIDC Core §5.3).
fn userinfo_step(
    provider: &Provider,
    claims: &Result<UserInfo, Error>,
    t: &FlowTrace,
    dpop: bool,
) -> FlowStep {
    let path = provider
        .client
        .user_info_url()
        .map(|u| u.url().path().to_owned())
        .unwrap_or_default();
    let scheme = if dpop { "DPoP" } else { "Bearer" };
    FlowStep::new(Party::App, Party::Userinfo, &format!("GET {path}"))
        .param("Authorization", format!("{scheme} {NEVER_SHOWN}"))
        .params(
            (scheme == "DPoP").then(|| crate::flow::Param::new("DPoP", "proof with ath (ES256)")),
        )
        .http(t.take_http())
        .check(Check::new(
            "userinfo sub equals the ID token's sub",
            "OIDC Core §5.3.4",
            !matches!(claims, Err(Error::SubjectMismatch)),
            None,
        ))
        .checks(
            claims
                .as_ref()
                .err()
                .filter(|e| !matches!(e, Error::SubjectMismatch))
                .map(|e| {
                    Check::new(
                        "userinfo answered",
                        "OIDC Core §5.3.2",
                        false,
                        Some(e.to_string()),
                    )
                }),
        )
}

/// The account and profile a plain OAuth 2.0 user API returns (GitHub's `GET /user`:
/// `id`, `login`, `name`, `email`, `avatar_url`; the OpenID names `sub`, `name`,
/// `preferred_username`, `picture` are read too). Returns the profile and its picture URL.
pub fn profile_from_user_api(
    body: &[u8],
    issuer: &str,
    provider_id: &str,
) -> Result<(Profile, Option<String>), Error> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::UserInfo(format!("the user API did not answer JSON: {e}")))?;
    let text = |k: &str| {
        value
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(256).collect::<String>())
    };
    let subject = match value.get("sub").or_else(|| value.get("id")) {
        Some(serde_json::Value::String(s)) if !s.is_empty() && s.len() <= 255 => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => return Err(Error::UserInfo("the user API named no account id".into())),
    };
    let email = text("email");
    let name = text("name")
        .or_else(|| text("login"))
        .or_else(|| text("preferred_username"))
        .or_else(|| email.clone())
        .unwrap_or_else(|| subject.clone());
    let picture = text("picture").or_else(|| text("avatar_url"));
    Ok((
        Profile {
            subject,
            name,
            email,
            picture_data_url: None,
            issuer: issuer.to_owned(),
            provider_id: provider_id.to_owned(),
        },
        picture,
    ))
}

/// A claim of an ID token whose signature has already been checked, read from its payload
/// (for claims openidconnect does not model, such as Microsoft's `tid`).
fn signed_claim(id_token: &CoreIdToken, name: &str) -> Option<String> {
    use base64::Engine;
    let jwt = id_token.to_string();
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

/// The ID token's claims once `verifier` has checked them. `nonce: None` is a refreshed
/// token (OIDC Core §12.2), which carries none to compare.
fn claims_of<'t>(
    verifier: &openidconnect::core::CoreIdTokenVerifier<'_>,
    id_token: &'t CoreIdToken,
    nonce: Option<&Nonce>,
) -> Result<&'t openidconnect::core::CoreIdTokenClaims, ClaimsVerificationError> {
    match nonce {
        Some(nonce) => id_token.claims(verifier, nonce),
        None => id_token.claims(verifier, |_: Option<&Nonce>| Ok(())),
    }
}

/// The callback step: what arrived (shortened) and which checks it passed, in the order the
/// validator makes them.
fn callback_step(
    raw: &str,
    result: &Result<ValidatedCallback, CallbackError>,
    iss_required: bool,
) -> FlowStep {
    // RFC 8252 §7.3: a loopback redirect comes from the browser straight to the listener;
    // §7.1: a private-use scheme one is handed over by the OS.
    let mut step = if raw.starts_with("http://") {
        FlowStep::new(
            Party::Browser,
            Party::App,
            "Redirect to Pixie's loopback listener (127.0.0.1, this sign-in only)",
        )
    } else {
        FlowStep::new(
            Party::Desktop,
            Party::App,
            "Redirect delivered to the app by the OS",
        )
    };
    match Url::parse(raw) {
        Ok(url) => {
            step = step.param(
                "uri",
                format!("{}:{}", url.scheme(), url.path())
                    .chars()
                    .take(120)
                    .collect::<String>(),
            );
            for (k, v) in url.query_pairs().take(12) {
                let shown = match k.as_ref() {
                    "code" | "state" => short(&v),
                    "iss" | "error" | "error_description" | "error_uri" => {
                        v.chars().take(200).collect()
                    }
                    _ => "(ignored)".into(),
                };
                step = step.param(&k, shown);
            }
        }
        Err(_) => step = step.param("uri", "(not a URL)"),
    }
    use CallbackError as E;
    let failed_at = match result {
        Ok(_) => usize::MAX,
        Err(E::TooLong(_) | E::Malformed | E::WrongRedirect | E::DuplicateParameter(_)) => 0,
        Err(E::MissingState | E::StateMismatch) => 1,
        Err(E::MissingIssuer | E::IssuerMismatch(_)) => 2,
        Err(E::ProviderError { .. }) => 3,
        Err(E::MissingCode) => 4,
    };
    let detail = result.as_ref().err().map(|e| e.to_string());
    let checks = [
        (
            "exact redirect URI, each parameter once",
            "RFC 8252 §7.1, RFC 6749 §3.1",
        ),
        ("state matches (constant-time)", "RFC 6749 §10.12"),
        (
            if iss_required {
                "iss is the issuer Pixie asked"
            } else {
                "iss, when sent, is the issuer Pixie asked"
            },
            "RFC 9207 §2.4",
        ),
        ("no error response", "RFC 6749 §4.1.2.1"),
        ("an authorization code is present", "RFC 6749 §4.1.2"),
    ];
    for (i, (name, spec)) in checks.iter().enumerate() {
        if i > failed_at {
            break;
        }
        let ok = i < failed_at;
        step = step.check(Check::new(
            name,
            spec,
            ok,
            if ok { None } else { detail.clone() },
        ));
    }
    step
}

/// The ID token checks in the order they are made (openidconnect's verifier, then Pixie's
/// own), with the failing one marked.
pub(crate) fn id_token_checks(
    response: &CoreTokenResponse,
    result: &Result<Tokens, Error>,
) -> Vec<Check> {
    let (alg, kid) = response
        .id_token()
        .map(|t| {
            let alg = t
                .signing_alg()
                .map(|a| format!("{a:?}"))
                .unwrap_or_else(|_| "unknown".into());
            let kid = serde_json::to_value(t)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .and_then(|jwt| jwt.split('.').next().map(str::to_owned))
                .and_then(|h| {
                    use base64::Engine;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(h)
                        .ok()
                })
                .and_then(|h| serde_json::from_slice::<serde_json::Value>(&h).ok())
                .and_then(|h| h.get("kid").and_then(|k| k.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "-".into());
            (alg, kid)
        })
        .unwrap_or_else(|| ("-".into(), "-".into()));
    let steps: [(&str, String, &str); 9] = [
        (
            "an ID token is present",
            "OIDC Core §3.1.3.3".into(),
            "no id_token",
        ),
        (
            "iss is the provider's issuer",
            "OIDC Core §3.1.3.7 step 2".into(),
            "issuer",
        ),
        (
            "aud contains Pixie's client id",
            "OIDC Core §3.1.3.7 step 3".into(),
            "audience",
        ),
        (
            "azp, when present, is Pixie",
            "OIDC Core §3.1.3.7 steps 4–5".into(),
            "azp",
        ),
        (
            "signature verified with the provider's JWKS",
            format!("OIDC Core §3.1.3.7 steps 6–8 ({alg}, kid={kid})"),
            "signature",
        ),
        (
            "not expired (exp)",
            "OIDC Core §3.1.3.7 step 9".into(),
            "expired",
        ),
        (
            "issued now, not in the future (iat)",
            "OIDC Core §3.1.3.7 step 10".into(),
            "iat",
        ),
        (
            "nonce matches this sign-in",
            "OIDC Core §3.1.3.7 step 11".into(),
            "nonce",
        ),
        (
            "at_hash matches the access token",
            "OIDC Core §3.1.3.8".into(),
            "at_hash",
        ),
    ];
    let failure = match result {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    };
    let failed_at = failure.as_deref().map(|msg| {
        let lower = msg.to_lowercase();
        steps
            .iter()
            .position(|(_, _, key)| lower.contains(key))
            .unwrap_or(4)
    });
    let mut checks = Vec::new();
    for (i, (name, spec, _)) in steps.iter().enumerate() {
        match failed_at {
            Some(f) if i > f => break,
            Some(f) if i == f => checks.push(Check::new(name, spec, false, failure.clone())),
            _ => checks.push(Check::new(name, spec, true, None)),
        }
    }
    checks
}

#[cfg(test)]
mod flow_tests {
    use super::*;
    use crate::{HttpClient, ProviderConfig};
    use pixie_dev_idp::browser::{Answer, answer};
    use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID, PIXIE_REDIRECT_URI};

    async fn provider(idp: &DevIdp) -> Provider {
        let config = ProviderConfig::new(
            "demo",
            "Demo",
            idp.issuer(),
            PIXIE_CLIENT_ID,
            PIXIE_REDIRECT_URI,
        );
        Provider::discover(config, HttpClient::new().unwrap())
            .await
            .unwrap()
    }

    fn param(url: &Url, name: &str) -> String {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn the_trace_shows_every_step_and_no_secret() {
        let idp = DevIdp::start(IdpConfig::default()).await.unwrap();
        let provider = provider(&idp).await;
        let pending = provider.start_sign_in().unwrap();
        let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
            .await
            .unwrap();
        let cb = pending.validate_callback(&redirect).unwrap();
        let done = provider.complete(&pending, &cb).await.unwrap();

        let steps = pending.trace().steps();
        let labels: Vec<(Party, Party)> = steps.iter().map(|s| (s.from, s.to)).collect();
        assert_eq!(
            labels,
            [
                (Party::App, Party::Browser),
                (Party::Browser, Party::AuthorizationEndpoint),
                (Party::Desktop, Party::App),
                (Party::App, Party::TokenEndpoint),
                (Party::App, Party::App),
                (Party::App, Party::Userinfo),
                (Party::App, Party::Picture),
            ]
        );
        assert!(steps.iter().all(FlowStep::ok));
        let token = &steps[3];
        assert_eq!(token.status, Some(200));
        assert!(token.duration_ms.is_some());
        assert!(
            token
                .params
                .iter()
                .any(|p| p.name == "code_verifier" && p.value == NEVER_SHOWN)
        );
        assert!(steps[4].checks.iter().any(|c| {
            c.spec
                .starts_with("OIDC Core §3.1.3.7 steps 6–8 (RsaSsaPkcs1V15Sha256, kid=")
        }));
        assert_eq!(steps[5].status, Some(200));
        // The challenge is shown in full; it is public by design (RFC 7636 §4.2).
        let challenge = param(pending.authorization_url(), "code_challenge");
        assert!(steps[0].params.iter().any(|p| p.value == challenge));

        let code = param(&Url::parse(&redirect).unwrap(), "code");
        let secrets = [
            pending.verifier.secret().clone(),
            pending.state.secret().clone(),
            pending.nonce.secret().clone(),
            code,
            done.tokens.access_token.secret().clone(),
            done.tokens.refresh_token.as_ref().unwrap().secret().clone(),
            done.tokens.id_token.as_ref().unwrap().to_string(),
        ];
        let json = pending.trace().to_json();
        let mermaid = pending.trace().to_mermaid();
        for secret in &secrets {
            assert!(
                !json.contains(secret.as_str()),
                "the JSON export leaks a secret"
            );
            assert!(
                !mermaid.contains(secret.as_str()),
                "the Mermaid export leaks a secret"
            );
        }
        assert!(mermaid.contains("app->>provider: POST /token → 200"));
    }

    #[tokio::test]
    async fn the_trace_shows_where_a_sign_in_broke() {
        let idp = DevIdp::start(IdpConfig::default()).await.unwrap();
        let provider = provider(&idp).await;

        // A forged state: the redirect step fails at the state check.
        let pending = provider.start_sign_in().unwrap();
        let _ = pending.validate_callback("dev.pixie.app:/oauth/callback/demo?code=x&state=forged");
        let last = pending.trace().steps().pop().unwrap();
        assert_eq!(last.checks.len(), 2);
        assert!(last.checks[0].ok && !last.checks[1].ok);
        assert_eq!(last.checks[1].spec, "RFC 6749 §10.12");
        assert!(pending.trace().to_mermaid().contains("browser-xapp"));

        // Another nonce: the ID token step fails at step 11, after the signature passed.
        let pending = provider.start_sign_in().unwrap();
        let mut tampered = pending.authorization_url().clone();
        let pairs: Vec<(String, String)> = tampered
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "nonce" {
                    "other-nonce-0123456789".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        tampered.query_pairs_mut().clear().extend_pairs(pairs);
        let redirect = answer(tampered.as_str(), Answer::Preset("ada"))
            .await
            .unwrap();
        let cb = pending.validate_callback(&redirect).unwrap();
        assert!(provider.complete(&pending, &cb).await.is_err());
        let id_step = pending.trace().steps().pop().unwrap();
        let failed = id_step.checks.last().unwrap();
        assert!(!failed.ok);
        assert_eq!(failed.spec, "OIDC Core §3.1.3.7 step 11");
        assert!(id_step.checks.iter().rev().skip(1).all(|c| c.ok));
    }
}
