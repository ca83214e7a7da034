//! The ID token checks as the flow diagram shows them: in the order they are made, the
//! failing one marked with its words, the ones after it not drawn.

use openidconnect::TokenResponse;
use openidconnect::core::CoreTokenResponse;
use serde::Serialize;

use super::Expect;
use crate::Error;
use crate::flow::{Check, FlowStep, Party};
use crate::jwt::Jwt;
use crate::provider::Provider;
use crate::settings::Protocol;
use crate::tokens::Tokens;

/// One check on an ID token, named after its step in OIDC Core §3.1.3.7 (and the few
/// outside it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenCheck {
    /// §3.1.3.3: present and readable.
    Present,
    /// Step 2.
    Issuer,
    /// Step 3.
    Audience,
    /// Steps 4–5.
    AuthorizedParty,
    /// Steps 6–8.
    Signature,
    /// Step 9.
    Expiry,
    /// Step 11.
    Nonce,
    /// Step 2 for a multi-tenant issuer, made after the verifier's checks.
    Tenant,
    /// Step 10.
    IssuedAt,
    /// §12.2, a refresh only.
    SameSubject,
    /// §3.1.3.8.
    AtHash,
}

impl IdTokenCheck {
    /// The checks of one token response, in the order they are made.
    pub fn sequence(multi_tenant: bool, refresh: bool) -> Vec<IdTokenCheck> {
        use IdTokenCheck as C;
        let mut out = vec![C::Present];
        // A `{tenantid}` issuer is compared after the verifier, filled with the token's `tid`.
        if !multi_tenant {
            out.push(C::Issuer);
        }
        out.extend([
            C::Audience,
            C::AuthorizedParty,
            C::Signature,
            C::Expiry,
            C::Nonce,
        ]);
        if multi_tenant {
            out.push(C::Tenant);
        }
        out.push(C::IssuedAt);
        if refresh {
            out.push(C::SameSubject);
        }
        out.push(C::AtHash);
        out
    }

    /// What the check asks, in words.
    pub fn name(self) -> &'static str {
        match self {
            Self::Present => "an ID token is present and readable",
            Self::Issuer => "iss is the provider's issuer",
            Self::Audience => "aud contains Pixie's client id",
            Self::AuthorizedParty => {
                "azp, when present, is Pixie (required with several audiences)"
            }
            Self::Signature => "signature verified with the provider's JWKS",
            Self::Expiry => "not expired (exp)",
            Self::Nonce => "nonce matches this sign-in",
            Self::Tenant => "iss is the issuer of the token's own tenant (tid)",
            Self::IssuedAt => "issued now, not in the future (iat)",
            Self::SameSubject => "about the same account as before (sub)",
            Self::AtHash => "at_hash, when present, matches the access token",
        }
    }

    /// Where the check is written.
    pub fn spec(self) -> &'static str {
        match self {
            Self::Present => "OIDC Core §3.1.3.3",
            Self::Issuer => "OIDC Core §3.1.3.7 step 2",
            Self::Audience => "OIDC Core §3.1.3.7 step 3",
            Self::AuthorizedParty => "OIDC Core §3.1.3.7 steps 4–5",
            Self::Signature => "OIDC Core §3.1.3.7 steps 6–8",
            Self::Expiry => "OIDC Core §3.1.3.7 step 9",
            Self::Nonce => "OIDC Core §3.1.3.7 step 11",
            Self::Tenant => "OIDC Core §3.1.3.7 step 2 (multi-tenant issuer)",
            Self::IssuedAt => "OIDC Core §3.1.3.7 step 10",
            Self::SameSubject => "OIDC Core §12.2",
            Self::AtHash => "OIDC Core §3.1.3.8",
        }
    }
}

/// The check that `result` failed at. An error that is not the token's own (the provider's
/// keys could not be fetched) stops the signature check.
fn failed_at(result: &Result<Tokens, Error>) -> Option<IdTokenCheck> {
    match result {
        Ok(_) => None,
        Err(Error::IdToken(e)) => Some(e.check()),
        Err(_) => Some(IdTokenCheck::Signature),
    }
}

/// The flow step of a token response's ID token checks.
pub(crate) fn id_token_step(
    provider: &Provider,
    response: &CoreTokenResponse,
    expect: Expect<'_>,
    result: &Result<Tokens, Error>,
) -> FlowStep {
    if provider.config.protocol == Protocol::Oauth2 {
        return FlowStep::new(Party::App, Party::App, "No ID token (plain OAuth 2.0)")
            .note("The account is the one the provider's user API names.");
    }
    let failed = failed_at(result);
    let detail = result.as_ref().err().map(ToString::to_string);
    let header = response
        .id_token()
        .and_then(|t| Jwt::decode(&t.to_string()))
        .map(|j| {
            let alg = j
                .header("alg")
                .unwrap_or("unknown")
                .chars()
                .take(16)
                .collect::<String>();
            let kid = j
                .header("kid")
                .unwrap_or("-")
                .chars()
                .take(64)
                .collect::<String>();
            format!(" ({alg}, kid={kid})")
        })
        .unwrap_or_default();
    let mut checks = Vec::new();
    let sequence = IdTokenCheck::sequence(
        provider.is_multi_tenant(),
        matches!(expect, Expect::Refresh(_)),
    );
    for check in sequence {
        let ok = Some(check) != failed;
        let (name, spec) = match (check, expect) {
            // RFC 8628 §3.1 has no nonce parameter: none was sent, none is compared.
            (IdTokenCheck::Nonce, Expect::Device) => (
                "no nonce to compare: the device flow sends none",
                "OIDC Core §3.1.3.7 step 11, RFC 8628 §3.1".to_owned(),
            ),
            (IdTokenCheck::Nonce, Expect::Refresh(_)) => (
                "no nonce to compare: a refreshed token carries none",
                "OIDC Core §12.2".to_owned(),
            ),
            (IdTokenCheck::Signature, _) => (check.name(), format!("{}{header}", check.spec())),
            _ => (check.name(), check.spec().to_owned()),
        };
        checks.push(Check::new(
            name,
            &spec,
            ok,
            if ok { None } else { detail.clone() },
        ));
        if !ok {
            break;
        }
    }
    FlowStep::new(Party::App, Party::App, "Check the ID token").checks(checks)
}
