//! The ID token checks as the flow diagram shows them: in the order they are made, the
//! failing one marked with its words, the ones after it not drawn.

use openidconnect::TokenResponse;
use openidconnect::core::CoreTokenResponse;

use super::Expect;
use super::rules::IdTokenCheck;
use crate::Error;
use crate::flow::{Check, FlowStep, Party};
use crate::jwt::Jwt;
use crate::provider::Provider;
use crate::settings::Protocol;
use crate::tokens::Tokens;

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
