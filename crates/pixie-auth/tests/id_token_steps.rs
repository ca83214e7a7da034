//! Each ID-token defect fails at its own step of OIDC Core §3.1.3.7, as a typed error, and
//! the flow diagram marks that step, not a neighbour: an `azp` failure is not drawn as an
//! `aud` one, nor a missing `tid` as a bad signature (see also `templates.rs`).

mod common;

use std::time::Duration;

use pixie_auth::{Error, HttpClient, IdTokenCheck, IdTokenError, Provider};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{DevIdp, Fault, IdpConfig};

use IdTokenCheck as C;

/// Every ID-token fault of the demo provider that is refused at an ID-token step. (Faults
/// whose token cannot even be parsed as a token response are `token_response` errors in the
/// hostile table; a rotated key and unknown claims sign in.)
const STEPS: &[(Fault, IdTokenCheck)] = &[
    (Fault::IdTokenWrongIss, C::Issuer),
    (Fault::IdTokenWrongAud, C::Audience),
    // `aud` names Pixie alone; `azp` names another party (steps 4–5).
    (Fault::IdTokenWrongAzp, C::AuthorizedParty),
    // A second audience Pixie does not trust is step 3's ("additional audiences not trusted
    // by the Client"), whether or not `azp` is there.
    (Fault::IdTokenMultiAudNoAzp, C::Audience),
    (Fault::IdTokenBadSignature, C::Signature),
    (Fault::IdTokenAlgNone, C::Signature),
    (Fault::IdTokenAlgConfusion, C::Signature),
    (Fault::IdTokenCritHeader, C::Signature),
    (Fault::IdTokenExpired, C::Expiry),
    (Fault::IdTokenWrongNonce, C::Nonce),
    (Fault::IdTokenMissingNonce, C::Nonce),
    (Fault::IdTokenIatFuture, C::IssuedAt),
    (Fault::IdTokenWrongAtHash, C::AtHash),
];

#[tokio::test]
async fn each_id_token_defect_fails_at_its_own_step_and_the_diagram_marks_it() {
    let idp = DevIdp::start(IdpConfig {
        allow_faults: true,
        ..IdpConfig::default()
    })
    .await
    .unwrap();
    let mut wrong = Vec::new();
    for (fault, want) in STEPS {
        idp.set_fault(Some(*fault)).await.unwrap();
        let http = HttpClient::with_timeout(Duration::from_secs(5)).unwrap();
        let provider: Provider = common::provider_with(&idp, http).await;
        let pending = provider.start_sign_in().unwrap();
        let trace = pending.trace().clone();
        let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
            .await
            .unwrap();
        let callback = pending.validate_callback(&redirect).unwrap();
        let result = provider.complete(pending, &callback).await;
        let typed = match &result {
            Err(Error::IdToken(e)) => Some(e.check()),
            _ => None,
        };
        // The diagram: the ID-token step's last check is the failed one, all before it passed.
        let step = trace
            .steps()
            .into_iter()
            .find(|s| s.label == "Check the ID token");
        let drawn = step.as_ref().and_then(|s| {
            let (last, before) = s.checks.split_last()?;
            (!last.ok && before.iter().all(|c| c.ok)).then(|| last.name.clone())
        });
        if typed != Some(*want) || drawn.as_deref() != Some(want.name()) {
            wrong.push(format!(
                "{}: typed {typed:?}, drawn {drawn:?}, want {want:?} ({})",
                fault.name(),
                result.err().map(|e| e.to_string()).unwrap_or_default()
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn every_step_names_its_spec() {
    for check in IdTokenCheck::sequence(true, true) {
        assert!(check.spec().starts_with("OIDC Core §"), "{check:?}");
    }
    // Steps 2 (one of its two forms) to 11, in the order they are made.
    assert_eq!(IdTokenCheck::sequence(false, false).len(), 9);
    assert_eq!(IdTokenCheck::sequence(true, true).len(), 10);
    let e = IdTokenError::AuthorizedParty("x".into());
    assert_eq!(e.check(), C::AuthorizedParty);
}
