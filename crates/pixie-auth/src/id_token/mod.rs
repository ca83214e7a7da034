//! The ID token of a token response, checked as OIDC Core §3.1.3.7 says, with one typed
//! failure per step ([`IdTokenError`]) so the app's words and the flow diagram name the step
//! that failed. `openidconnect`'s verifier makes steps 2–9 and 11; Pixie adds the
//! multi-tenant issuer, `iat`, the subject of a refresh and `at_hash`.

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AccessTokenHash, ClaimsVerificationError, ClientId, DiscoveryError, Nonce,
    OAuth2TokenResponse, SignatureVerificationError, SubjectIdentifier, TokenResponse,
};

use crate::Error;
use crate::flow::FlowTrace;
use crate::jwt::Jwt;
use crate::provider::Provider;
use crate::settings::Protocol;
use crate::tokens::{IdToken, Tokens};

mod checks;
pub(crate) mod rules;

pub(crate) use checks::id_token_step;
pub use rules::{ALLOWED_ALGS, IdTokenCheck, IdTokenError};

/// Clock skew tolerated on `iat` (OIDC Core §3.1.3.7 step 10).
const MAX_IAT_SKEW: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

/// What a token response's ID token is checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Expect<'a> {
    /// The answer to this sign-in's authorization request: an ID token carrying its nonce.
    SignIn(&'a Nonce),
    /// The device grant (RFC 8628): an ID token; no nonce was sent, so none is compared
    /// (OIDC Core §3.1.3.7 step 11 applies "if a nonce value was sent").
    Device,
    /// A refresh (OIDC Core §12.2): an ID token is optional, about the same account, and
    /// has the `iss`, `aud`, `azp` and `auth_time` of the original one.
    Refresh(Original<'a>),
}

/// What a refreshed ID token is compared with (OIDC Core §12.2): the session's account, its
/// newest ID token (whose `iss`, `aud` and `azp` each refresh had to keep, so they are the
/// original's), and the time of the original authentication, kept apart because a refreshed
/// ID token may leave `auth_time` out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Original<'a> {
    pub subject: &'a SubjectIdentifier,
    pub id_token: Option<&'a IdToken>,
    pub auth_time: Option<i64>,
}

impl Provider {
    /// Check a token endpoint response against `expect` and keep what it holds; the check
    /// goes to `trace` as one step.
    pub(crate) async fn verify_token_response(
        &self,
        response: &CoreTokenResponse,
        expect: Expect<'_>,
        trace: Option<&FlowTrace>,
    ) -> Result<Tokens, Error> {
        let result = self.verify_tokens(response, expect).await;
        if let Some(t) = trace {
            t.push(id_token_step(self, response, expect, &result));
        }
        result
    }

    async fn verify_tokens(
        &self,
        response: &CoreTokenResponse,
        expect: Expect<'_>,
    ) -> Result<Tokens, Error> {
        let now = (self.clock)();
        let id_token = self.id_token_of(response, expect)?;
        let subject = match (&id_token, expect) {
            (Some(t), _) => self.check(t, response.access_token(), expect, now).await?,
            (None, Expect::Refresh(original)) => original.subject.clone(),
            // Filled in from the user API by the caller (OAuth 2.0 has no ID token).
            (None, _) => SubjectIdentifier::new(String::new()),
        };
        let expires_at = expires_at(now, response.expires_in());
        Ok(Tokens {
            access_token: response.access_token().clone(),
            refresh_token: response.refresh_token().cloned(),
            id_token: id_token.map(IdToken::new),
            expires_at,
            subject,
            // Set by the caller, which holds the key the request was proven with.
            dpop_key: None,
        })
    }

    /// OIDC Core §3.1.3.3: the ID token a response must or may carry. A plain OAuth 2.0
    /// provider issues none (its user API names the account); §12.2: a refresh may omit it.
    fn id_token_of(
        &self,
        response: &CoreTokenResponse,
        expect: Expect<'_>,
    ) -> Result<Option<CoreIdToken>, IdTokenError> {
        if self.config.protocol == Protocol::Oauth2 {
            return Ok(None);
        }
        match (response.id_token(), expect) {
            (Some(t), _) => Ok(Some(t.clone())),
            (None, Expect::Refresh(_)) => Ok(None),
            (None, Expect::SignIn(_) | Expect::Device) => Err(IdTokenError::Missing),
        }
    }

    /// Every check on one ID token, in the order they are made; returns its subject.
    async fn check(
        &self,
        id_token: &CoreIdToken,
        access_token: &AccessToken,
        expect: Expect<'_>,
        now: DateTime<Utc>,
    ) -> Result<SubjectIdentifier, Error> {
        let (verifier, claims) = self.verified_claims(id_token, expect).await?;
        Ok(self.own_checks(&verifier, id_token, claims, access_token, expect, now)?)
    }

    /// The checks Pixie makes itself once `openidconnect`'s verifier has passed the token.
    fn own_checks(
        &self,
        verifier: &CoreIdTokenVerifier<'_>,
        id_token: &CoreIdToken,
        claims: &CoreIdTokenClaims,
        access_token: &AccessToken,
        expect: Expect<'_>,
        now: DateTime<Utc>,
    ) -> Result<SubjectIdentifier, IdTokenError> {
        self.check_authorized_party(claims)?;
        if self.is_multi_tenant() {
            self.check_tenant(id_token, claims)?;
        }
        // OIDC Core §3.1.3.7 step 10: an `iat` far in the future means a broken or forged token.
        if claims.issue_time() > now + MAX_IAT_SKEW {
            return Err(IdTokenError::IssuedInFuture);
        }
        if let Expect::Refresh(original) = expect {
            same_as_original(claims, &original)?;
        }
        check_at_hash(verifier, id_token, claims, access_token)?;
        Ok(claims.subject().clone())
    }

    /// OIDC Core §3.1.3.7 steps 4–5, which `openidconnect` leaves to the client: with
    /// several audiences `azp` must be there, and when there it must name Pixie.
    fn check_authorized_party(&self, claims: &CoreIdTokenClaims) -> Result<(), IdTokenError> {
        let client_id = self.config.client_id.as_str();
        match claims.authorized_party() {
            Some(azp) if azp.as_str() != client_id => {
                let named: String = azp.as_str().chars().take(64).collect();
                Err(IdTokenError::AuthorizedParty(format!(
                    "issued to `{named}`, not to Pixie"
                )))
            }
            None if claims.audiences().len() > 1 => Err(IdTokenError::AuthorizedParty(
                "several audiences and no azp naming Pixie".into(),
            )),
            _ => Ok(()),
        }
    }

    /// OIDC Core §3.1.3.7 step 2 for a multi-tenant issuer (Microsoft identity platform,
    /// "Validate the issuer"): `iss` is the metadata's `{tenantid}` template filled with the
    /// token's own, signed, `tid`.
    fn check_tenant(
        &self,
        id_token: &CoreIdToken,
        claims: &CoreIdTokenClaims,
    ) -> Result<(), IdTokenError> {
        // Read without verifying here: the verifier has checked this very token's signature.
        let tid = Jwt::decode(&id_token.to_string())
            .and_then(|j| j.claim("tid").map(str::to_owned))
            .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .ok_or(IdTokenError::MissingTenant)?;
        let expected = self.issuer().replace("{tenantid}", &tid);
        if claims.issuer().as_str() != expected {
            return Err(IdTokenError::TenantIssuer(claims.issuer().to_string()));
        }
        Ok(())
    }

    /// OIDC Core §3.1.3.7 steps 2–9 and 11 by `openidconnect`'s verifier. An unknown `kid`
    /// may be a key rotation (§10.1.1): the JWKS is fetched once more and the token judged
    /// with what the provider publishes now.
    async fn verified_claims<'t>(
        &self,
        id_token: &'t CoreIdToken,
        expect: Expect<'_>,
    ) -> Result<(CoreIdTokenVerifier<'static>, &'t CoreIdTokenClaims), Error> {
        let mut verifier = self.id_token_verifier();
        let mut claims = claims_of(&verifier, id_token, expect);
        if let Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) = claims
        {
            self.refresh_jwks().await?;
            verifier = self.id_token_verifier();
            claims = claims_of(&verifier, id_token, expect);
        }
        match claims {
            Ok(c) => Ok((verifier, c)),
            Err(e) => Err(from_verifier(e).into()),
        }
    }

    /// Every check a sign-in makes on its ID token (OIDC Core §3.1.3.7 steps 2–11, the
    /// multi-tenant issuer and `at_hash`), against the keys Pixie holds now: nothing is
    /// fetched, so an unknown `kid` fails at the signature. Returns the token's subject.
    pub fn verify_id_token(
        &self,
        id_token: &CoreIdToken,
        access_token: &AccessToken,
        nonce: &Nonce,
    ) -> Result<SubjectIdentifier, IdTokenError> {
        let verifier = self.id_token_verifier();
        let expect = Expect::SignIn(nonce);
        let claims = claims_of(&verifier, id_token, expect).map_err(from_verifier)?;
        let now = (self.clock)();
        self.own_checks(&verifier, id_token, claims, access_token, expect, now)
    }

    /// A verifier over the keys Pixie holds now, with the algorithm allow-list and the clock.
    fn id_token_verifier(&self) -> CoreIdTokenVerifier<'static> {
        let jwks = self
            .jwks
            .read()
            .map(|k| k.clone())
            .unwrap_or_else(|p| p.into_inner().clone());
        let clock = self.clock.clone();
        CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.config.client_id.clone()),
            self.metadata.issuer().clone(),
            jwks,
        )
        .set_allowed_algs(ALLOWED_ALGS)
        .set_time_fn(move || clock())
        // A `{tenantid}` issuer template cannot equal any token's `iss`; `check` compares
        // the filled-in template instead (OIDC Core §3.1.3.7 step 2).
        .require_issuer_match(!self.is_multi_tenant())
    }

    /// Fetch the JWKS again (after an unknown `kid`).
    async fn refresh_jwks(&self) -> Result<(), Error> {
        let fresh = CoreJsonWebKeySet::fetch_async(self.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| match e {
                DiscoveryError::Request(source) => Error::http("jwks", source),
                other => IdTokenError::Keys(other.to_string()).into(),
            })?;
        tracing::info!(
            keys = fresh.keys().len(),
            "fetched the provider's JWKS again"
        );
        match self.jwks.write() {
            Ok(mut k) => *k = fresh,
            Err(p) => *p.into_inner() = fresh,
        }
        Ok(())
    }
}

/// Longest access-token lifetime taken from a provider's `expires_in`.
const MAX_EXPIRES_IN: std::time::Duration = std::time::Duration::from_secs(366 * 24 * 3600);

/// RFC 6749 §5.1: `expires_in` is seconds from the response. A provider's number is input:
/// capped at a year, so no value can overflow the clock.
fn expires_at(
    now: DateTime<Utc>,
    expires_in: Option<std::time::Duration>,
) -> Option<DateTime<Utc>> {
    let d = chrono::TimeDelta::from_std(expires_in?.min(MAX_EXPIRES_IN)).ok()?;
    now.checked_add_signed(d)
}

/// OIDC Core §12.2: a refreshed ID token is about the same account, and its `iss`, `aud`,
/// `azp` (present or absent alike) and `auth_time` are the original one's. The kept ID token
/// was verified when it came; it is read back here without verifying it again.
fn same_as_original(
    claims: &CoreIdTokenClaims,
    original: &Original<'_>,
) -> Result<(), IdTokenError> {
    if claims.subject() != original.subject {
        return Err(IdTokenError::SubjectChanged);
    }
    let kept = original.id_token.and_then(|t| Jwt::decode(&t.compact()));
    if let Some(kept) = &kept {
        let mut audiences: Vec<&str> = claims.audiences().iter().map(|a| a.as_str()).collect();
        audiences.sort_unstable();
        audiences.dedup();
        if kept.claim("iss") != Some(claims.issuer().as_str()) {
            return Err(IdTokenError::ChangedOnRefresh("iss"));
        }
        if kept.audiences() != audiences {
            return Err(IdTokenError::ChangedOnRefresh("aud"));
        }
        if kept.claim("azp") != claims.authorized_party().map(|a| a.as_str()) {
            return Err(IdTokenError::ChangedOnRefresh("azp"));
        }
    }
    // "its value MUST represent the time of the original authentication": comparable only
    // when the original authentication's time is known.
    let first = original
        .auth_time
        .or_else(|| kept.as_ref().and_then(|k| k.number("auth_time")));
    if let (Some(new), Some(first)) = (claims.auth_time().map(|t| t.timestamp()), first)
        && new != first
    {
        return Err(IdTokenError::ChangedOnRefresh("auth_time"));
    }
    Ok(())
}

/// OIDC Core §3.1.3.8 / §3.2.2.9: when `at_hash` is present it must match the access token.
fn check_at_hash(
    verifier: &CoreIdTokenVerifier<'_>,
    id_token: &CoreIdToken,
    claims: &CoreIdTokenClaims,
    access_token: &AccessToken,
) -> Result<(), IdTokenError> {
    let Some(expected) = claims.access_token_hash() else {
        return Ok(());
    };
    let unreadable = |e: &dyn std::fmt::Display| IdTokenError::Unreadable(e.to_string());
    let alg = id_token.signing_alg().map_err(|e| unreadable(&e))?;
    let key = id_token
        .signing_key(verifier)
        .map_err(|e| IdTokenError::Signature(e.to_string()))?;
    let actual = AccessTokenHash::from_token(access_token, alg, key).map_err(|e| unreadable(&e))?;
    match actual == *expected {
        true => Ok(()),
        false => Err(IdTokenError::AtHash),
    }
}

/// The ID token's claims once `verifier` has checked them, with the nonce `expect` names.
fn claims_of<'t>(
    verifier: &CoreIdTokenVerifier<'_>,
    id_token: &'t CoreIdToken,
    expect: Expect<'_>,
) -> Result<&'t CoreIdTokenClaims, ClaimsVerificationError> {
    match expect {
        Expect::SignIn(nonce) => id_token.claims(verifier, nonce),
        Expect::Device | Expect::Refresh(_) => {
            id_token.claims(verifier, |_: Option<&Nonce>| Ok(()))
        }
    }
}

/// `openidconnect`'s verdict as a step (steps 2, 3, 6–9 and 11; steps 4–5 are
/// [`Provider::check`]'s).
fn from_verifier(e: ClaimsVerificationError) -> IdTokenError {
    use ClaimsVerificationError as V;
    match e {
        V::InvalidIssuer(m) => IdTokenError::Issuer(m),
        V::InvalidAudience(m) => IdTokenError::Audience(m),
        V::SignatureVerification(e) => IdTokenError::Signature(e.to_string()),
        V::Unsupported(m) => IdTokenError::Signature(m),
        V::Expired(m) => IdTokenError::Expired(m),
        V::InvalidNonce(m) => IdTokenError::Nonce(m),
        other => IdTokenError::Unreadable(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
