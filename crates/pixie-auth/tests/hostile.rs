//! Hostile input, one defect at a time: the misbehaving demo provider produces each defect the
//! OpenID RP certification tests and RFC 9700 describe for a code-flow public client, and the
//! core must refuse it with the expected typed error and a plain-words message.

use std::time::Duration;

mod common;

use pixie_auth::{CallbackError, Error, HttpClient, Provider, SignedIn};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{DevIdp, Fault, IdpConfig};

fn faulty() -> IdpConfig {
    IdpConfig {
        allow_faults: true,
        ..IdpConfig::default()
    }
}

async fn provider(idp: &DevIdp) -> Provider {
    // A short timeout so the stalling token endpoint is judged quickly.
    let http = HttpClient::with_timeout(Duration::from_secs(2)).unwrap();
    common::provider_with(idp, http).await
}

/// One sign-in through the (misbehaving) provider, as far as it gets.
async fn sign_in(provider: &Provider) -> Result<SignedIn, Error> {
    let pending = provider.start_sign_in()?;
    let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
        .await
        .expect("the provider redirects back");
    let callback = pending.validate_callback(&redirect)?;
    provider.complete(&pending, &callback).await
}

/// What the core must answer to each defect: an error code and the plain words the window
/// shows for it, or a sign-in (without a picture).
enum Want {
    Refused(&'static str, &'static str),
    NoPicture,
    SignedIn,
}

const TABLE: &[(Fault, Want)] = &[
    (
        Fault::RedirectWrongState,
        Want::Refused("state_mismatch", "does not match this sign-in"),
    ),
    (
        Fault::RedirectWrongIss,
        Want::Refused("issuer_mismatch", "came from a different provider"),
    ),
    (
        Fault::RedirectErrorMarkup,
        Want::Refused("access_denied", "cancelled at the provider"),
    ),
    (
        Fault::IdTokenBadSignature,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenAlgNone,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenAlgConfusion,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenWrongIss,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    // A missing required claim already fails parsing the token response.
    (
        Fault::IdTokenMissingIss,
        Want::Refused("token_response", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenWrongAud,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenMissingAud,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenWrongAzp,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenMultiAudNoAzp,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenExpired,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenMissingExp,
        Want::Refused("token_response", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenIatFuture,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenMissingSub,
        Want::Refused("token_response", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenWrongNonce,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenMissingNonce,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenWrongAtHash,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenCritHeader,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    // Unknown claims are ignored (OIDC Core §5.1 / RFC 7519 §4).
    (Fault::IdTokenExtraClaims, Want::SignedIn),
    // Key rotation: the right answer is to fetch the JWKS once more, then accept.
    (Fault::IdTokenUnknownKid, Want::SignedIn),
    (
        Fault::UserinfoSubMismatch,
        Want::Refused("subject_mismatch", "could not read your profile"),
    ),
    (
        Fault::TokenErrorMarkup,
        Want::Refused("token_rejected", "did not accept the sign-in code"),
    ),
    (
        Fault::TokenRedirect,
        Want::Refused("token_response", "failed Pixie's security checks"),
    ),
    (
        Fault::TokenStall,
        Want::Refused("network", "could not reach the sign-in provider"),
    ),
    (
        Fault::TokenOversized,
        Want::Refused("response_too_large", "far larger than any real one"),
    ),
    (
        Fault::TokenGarbage,
        Want::Refused("token_response", "failed Pixie's security checks"),
    ),
    (Fault::PictureHuge, Want::NoPicture),
    (Fault::PictureNotImage, Want::NoPicture),
    (Fault::PictureSvg, Want::NoPicture),
    // A decompression bomb: refused from its header, before any pixel is decoded.
    (Fault::PictureHugeDimensions, Want::NoPicture),
];

#[tokio::test]
async fn every_defect_is_refused_with_a_typed_error_and_plain_words() {
    let idp = DevIdp::start(faulty()).await.unwrap();
    let mut failures = Vec::new();
    for (fault, want) in TABLE {
        idp.set_fault(Some(*fault)).await.unwrap();
        // A fresh provider each time: no JWKS or metadata carried over between cases.
        let provider = provider(&idp).await;
        let got = sign_in(&provider).await;
        let verdict = match (want, &got) {
            (Want::Refused(code, words), Err(e))
                if e.code() == *code && e.user_message().contains(words) =>
            {
                None
            }
            (Want::NoPicture, Ok(done))
                if done.profile.picture_data_url.is_none() && done.picture_error.is_some() =>
            {
                None
            }
            (Want::SignedIn, Ok(done)) if done.profile.name == "Ada Lovelace" => None,
            _ => Some(format!(
                "{}: got {:?}",
                fault.name(),
                got.map(|d| d.profile.name)
            )),
        };
        failures.extend(verdict);
    }
    idp.set_fault(None).await.unwrap();
    assert!(
        failures.is_empty(),
        "defects not refused as expected:\n{}",
        failures.join("\n")
    );
    // Every fault the provider knows is in the table, bar discovery (tested below).
    assert_eq!(TABLE.len() + 1, Fault::ALL.len());
}

#[tokio::test]
async fn discovery_that_names_another_issuer_is_refused() {
    let idp = DevIdp::start(faulty()).await.unwrap();
    idp.set_fault(Some(Fault::DiscoveryIssuerMismatch))
        .await
        .unwrap();
    let err = Provider::discover(common::config(&idp), HttpClient::new().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "discovery", "{err:?}");
}

#[tokio::test]
async fn markup_from_the_provider_stays_text() {
    let idp = DevIdp::start(faulty()).await.unwrap();
    idp.set_fault(Some(Fault::RedirectErrorMarkup))
        .await
        .unwrap();
    let provider = provider(&idp).await;
    let pending = provider.start_sign_in().unwrap();
    let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
        .await
        .unwrap();
    let err = pending.validate_callback(&redirect).unwrap_err();
    let CallbackError::ProviderError { description, .. } = &err else {
        panic!("{err:?}");
    };
    // Kept verbatim as text: the UI inserts it with textContent, never as HTML.
    assert!(
        description
            .as_deref()
            .unwrap()
            .contains("<img src=x onerror=alert(1)>")
    );
}

#[tokio::test]
async fn the_key_rotation_refetch_happens_once_not_forever() {
    let idp = DevIdp::start(faulty()).await.unwrap();
    let provider = provider(&idp).await;
    // A token signed by a key that is in no JWKS at all: one refetch, then refused.
    idp.set_fault(Some(Fault::IdTokenAlgConfusion))
        .await
        .unwrap();
    assert_eq!(
        sign_in(&provider).await.unwrap_err().code(),
        "id_token_invalid"
    );
    idp.set_fault(Some(Fault::IdTokenUnknownKid)).await.unwrap();
    sign_in(&provider)
        .await
        .expect("rotated key accepted after one refetch");
    // And the refreshed keys stay: the next sign-in needs no refetch.
    sign_in(&provider).await.expect("still accepted");
}

#[tokio::test]
async fn a_provider_not_configured_for_faults_refuses_them() {
    let idp = DevIdp::start(IdpConfig::default()).await.unwrap();
    assert!(idp.set_fault(Some(Fault::IdTokenAlgNone)).await.is_err());
    let status = reqwest::Client::new()
        .post(format!("{}/_fault", idp.issuer()))
        .form(&[("fault", "id-token-alg-none")])
        .send()
        .await
        .unwrap()
        .status();
    assert!(status == 404 || status == 405, "{status}");
}
