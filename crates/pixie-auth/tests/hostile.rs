//! Hostile input, one defect at a time: the misbehaving demo provider produces each defect the
//! OpenID RP certification tests and RFC 9700 describe for a code-flow public client, and the
//! core must refuse it with the expected typed error and a plain-words message.

use std::time::Duration;

mod common;

use pixie_auth::{
    CallbackError, DpopError, Error, HttpClient, ParError, Provider, ProviderConfig, SignInHints,
    SignedIn,
};
use pixie_dev_idp::browser::{Answer, answer};
use pixie_dev_idp::{ClientRegistration, DevIdp, Fault, IdpConfig, PIXIE_CLIENT_ID};

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
    provider.complete(pending, &callback).await
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
    // Mix-up (RFC 9700 §4.4): the provider sends the person on to an honest one that names
    // no issuer; it advertised RFC 9207 itself, so the answer without `iss` is refused. (The
    // per-provider redirect URIs that stop it without RFC 9207: `mix_up_*` below.)
    (
        Fault::AuthorizeForward,
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
    // An azp naming Pixie, its sole audience: steps 4–5 pass (its refresh: tests/session.rs).
    (Fault::IdTokenOwnAzp, Want::SignedIn),
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
    // Slow, within the timeout: a sign-in, not an error.
    (Fault::TokenSlow, Want::SignedIn),
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
    // Where `authorize-forward` sends the person: an honest provider without RFC 9207.
    let honest = DevIdp::start(IdpConfig {
        issuer_identification: false,
        ..IdpConfig::default()
    })
    .await
    .unwrap();
    let idp = DevIdp::start(IdpConfig {
        forward_to: Some(format!("{}/authorize", honest.issuer())),
        ..faulty()
    })
    .await
    .unwrap();
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
    // Every fault the provider knows is in a table (this one, or the device flow's below),
    // bar discovery (tested below).
    let covered: std::collections::HashSet<&str> = TABLE
        .iter()
        .chain(DEVICE_TABLE)
        .map(|(f, _)| f.name())
        .chain(PAR_DPOP_TABLE.iter().map(|row| row.0.name()))
        .collect();
    assert_eq!(covered.len() + 1, Fault::ALL.len());
}

/// PAR (RFC 9126) and DPoP (RFC 9449) defects: the fault, the typed error the core must
/// give, and its plain words.
type ParDpopRow = (Fault, fn(&Error) -> bool, &'static str);

const PAR_DPOP_TABLE: &[ParDpopRow] = &[
    // RFC 9449 §8: a nonce demanded for ever; the core retries once with it, then stops.
    (
        Fault::DpopNonceAlways,
        |e| {
            matches!(
                e,
                Error::Dpop(DpopError::NonceRefused { endpoint: "token" })
            )
        },
        "kept asking Pixie to prove",
    ),
    // RFC 9449 §4.3 / §11.1: every proof refused as a replay.
    (
        Fault::DpopProofRejected,
        |e| {
            matches!(e, Error::Dpop(DpopError::ProofRejected { endpoint: "token", error, .. })
                if error == "invalid_dpop_proof")
        },
        "did not accept Pixie's proof",
    ),
    // RFC 9449 §5: a bearer token when a DPoP one was asked for.
    (
        Fault::DpopBearerToken,
        |e| {
            matches!(e, Error::Dpop(DpopError::NotBound { endpoint: "token", token_type })
                if token_type.eq_ignore_ascii_case("bearer"))
        },
        "anyone who copied it could use",
    ),
    // RFC 9126 §2.2 / §4: the request_uri has expired when the browser brings it.
    (
        Fault::ParRequestUriExpired,
        |e| {
            matches!(e, Error::Callback(CallbackError::ProviderError { error, .. })
                if error == "invalid_request_uri")
        },
        "stopped the sign-in (invalid_request_uri)",
    ),
    // RFC 9126 §2.3: the push itself is refused.
    (
        Fault::ParRefused,
        |e| matches!(e, Error::Par(ParError::Refused { error, .. }) if error == "invalid_request"),
        "refused the sign-in request",
    ),
];

/// One sign-in that pushes its request (RFC 9126) and binds its tokens (RFC 9449), as far as
/// it gets; the link that came back, if any.
async fn pushed_sign_in(provider: &Provider) -> (Result<SignedIn, Error>, Option<String>) {
    let pending = match provider
        .prepare_sign_in(None, &SignInHints::default())
        .await
    {
        Ok(p) => p,
        Err(e) => return (Err(e), None),
    };
    // RFC 9126 §4: nothing but client_id and request_uri goes through the browser.
    let names: Vec<String> = pending
        .authorization_url()
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(names, ["client_id", "request_uri"]);
    let redirect = answer(pending.authorization_url().as_str(), Answer::Preset("ada"))
        .await
        .expect("the provider sends the person back");
    let result = match pending.validate_callback(&redirect) {
        Ok(callback) => provider.complete(pending, &callback).await,
        Err(e) => Err(e.into()),
    };
    (result, Some(redirect))
}

#[tokio::test]
async fn every_par_and_dpop_defect_is_refused_with_a_typed_error_and_plain_words() {
    let idp = DevIdp::start(IdpConfig {
        par: true,
        dpop: true,
        ..faulty()
    })
    .await
    .unwrap();
    // The honest path first: pushed, bound, signed in.
    let first = provider(&idp).await;
    assert!(first.dpop_wanted());
    let (honest, _) = pushed_sign_in(&first).await;
    assert_eq!(honest.expect("signs in").profile.name, "Ada Lovelace");
    let mut failures = Vec::new();
    for (fault, typed, words) in PAR_DPOP_TABLE {
        idp.set_fault(Some(*fault)).await.unwrap();
        let provider = provider(&idp).await;
        let (got, redirect) = pushed_sign_in(&provider).await;
        let Err(e) = &got else {
            failures.push(format!("{}: signed in", fault.name()));
            continue;
        };
        // The code (and the request_uri) stay out of what is shown and logged.
        let secrets: Vec<String> = redirect
            .iter()
            .flat_map(|r| url::Url::parse(r).ok())
            .flat_map(|u| {
                u.query_pairs()
                    .filter(|(k, _)| k == "code")
                    .map(|(_, v)| v.into_owned())
                    .collect::<Vec<_>>()
            })
            .collect();
        let shown = format!("{e} {} {e:?}", e.user_message());
        if !typed(e) || !e.user_message().contains(words) {
            failures.push(format!(
                "{}: got {e:?} / {}",
                fault.name(),
                e.user_message()
            ));
        } else if secrets.iter().any(|c| shown.contains(c.as_str()))
            || shown.contains("request_uri:")
        {
            failures.push(format!("{}: a secret in {shown}", fault.name()));
        }
    }
    idp.set_fault(None).await.unwrap();
    assert!(
        failures.is_empty(),
        "PAR/DPoP defects not refused as expected:\n{}",
        failures.join("\n")
    );
}

/// RFC 9449 §8 and §9: a provider that demands a nonce at the token endpoint and at
/// userinfo is answered once with it, and the sign-in goes through.
#[tokio::test]
async fn a_provider_that_demands_dpop_nonces_still_signs_in() {
    let idp = DevIdp::start(IdpConfig {
        dpop_nonce: true,
        ..faulty()
    })
    .await
    .unwrap();
    let (got, _) = pushed_sign_in(&provider(&idp).await).await;
    assert_eq!(got.expect("signs in").profile.name, "Ada Lovelace");
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

/// How a mix-up attempt ended for the person and for the attacker.
#[derive(Debug, PartialEq)]
enum MixUp {
    /// Pixie refused to use the attacking provider at all (this code).
    Unusable(&'static str),
    /// The honest provider would not send its answer to the attacker's redirect URI; the
    /// browser stays on its error page.
    StoppedAtTheHonestProvider,
    /// The answer came back and Pixie refused it (this code).
    Refused(&'static str),
    /// The answer came back and was taken for the attacker's sign-in.
    Accepted,
}

/// RFC 9700 §4.4.1: Pixie is configured (through `providers.toml`, as a person would) with
/// an honest provider that names no issuer (like Google) and an attacker that forwards the
/// person to it with Pixie's state, PKCE challenge and redirect URI. The person signs in with
/// the attacker. `extra` is added to both providers' entries; `attacker_iss` says whether the
/// attacker advertises RFC 9207. Returns the outcome and how many codes reached the
/// attacker's token endpoint.
async fn mix_up(extra: &str, attacker_iss: bool) -> (MixUp, usize) {
    let text = format!(
        "[[provider]]\nid = \"honest\"\nissuer = \"http://127.0.0.1:9\"\nclient_id = \"{PIXIE_CLIENT_ID}\"\n{extra}\n\
         [[provider]]\nid = \"evil\"\nissuer = \"http://127.0.0.1:9\"\nclient_id = \"{PIXIE_CLIENT_ID}\"\n{extra}\n"
    );
    let mut configs = pixie_auth::config::parse(std::path::Path::new("providers.toml"), &text)
        .expect("the configuration parses")
        .providers;
    let mut evil_config: ProviderConfig = configs.remove(1);
    let mut honest_config: ProviderConfig = configs.remove(0);
    // The honest provider knows Pixie by the redirect URI Pixie gives it.
    let honest = DevIdp::start(IdpConfig {
        issuer_identification: false,
        clients: vec![ClientRegistration {
            client_id: PIXIE_CLIENT_ID.into(),
            redirect_uris: vec![honest_config.redirect_uri.clone()],
            post_logout_redirect_uris: vec![],
        }],
        ..IdpConfig::default()
    })
    .await
    .unwrap();
    let evil = DevIdp::start(IdpConfig {
        issuer_identification: attacker_iss,
        forward_to: Some(format!("{}/authorize", honest.issuer())),
        ..faulty()
    })
    .await
    .unwrap();
    evil.set_fault(Some(Fault::AuthorizeForward)).await.unwrap();
    honest_config.issuer = honest.issuer().to_owned();
    evil_config.issuer = evil.issuer().to_owned();
    let http = HttpClient::new().unwrap();
    let honest_provider = Provider::discover(honest_config, http.clone()).await;
    let outcome = async {
        let provider = match Provider::discover(evil_config, http).await {
            Ok(p) => p,
            Err(e) => {
                assert!(e.user_message().contains("\u{201c}honest\u{201d}"), "{e:?}");
                return MixUp::Unusable(e.code());
            }
        };
        let pending = provider.start_sign_in().unwrap();
        let Ok(redirect) =
            answer(pending.authorization_url().as_str(), Answer::Preset("ada")).await
        else {
            return MixUp::StoppedAtTheHonestProvider;
        };
        match pending.validate_callback(&redirect) {
            Err(e) => MixUp::Refused(Error::from(e).code()),
            Ok(callback) => {
                let _ = provider.complete(pending, &callback).await;
                MixUp::Accepted
            }
        }
    }
    .await;
    // Sharing a redirect URI without RFC 9207 makes the honest provider unusable too (the
    // same forwarding works the other way round); with URIs of their own, it signs in.
    match honest_provider {
        Err(e) => assert!(
            extra.contains("redirect_uri") && e.code() == "shared_redirect",
            "{e:?}"
        ),
        Ok(p) => {
            assert!(!extra.contains("redirect_uri"));
            let done = sign_in(&p)
                .await
                .expect("a sign-in with the honest provider");
            assert_eq!(done.profile.name, "Ada Lovelace");
        }
    }
    (outcome, evil.code_exchanges())
}

#[tokio::test]
async fn mix_up_each_provider_has_its_own_redirect_uri() {
    // The default: `…/oauth/callback/evil` is not registered at the honest provider.
    let (outcome, codes) = mix_up("", false).await;
    assert_eq!(
        (outcome, codes),
        (MixUp::StoppedAtTheHonestProvider, 0),
        "the honest provider's code reached the attacker's token endpoint"
    );
    let (outcome, codes) = mix_up("redirect = \"loopback\"", false).await;
    assert_eq!((outcome, codes), (MixUp::StoppedAtTheHonestProvider, 0));
}

#[tokio::test]
async fn mix_up_a_shared_redirect_uri_needs_rfc_9207() {
    let shared = "redirect_uri = \"dev.pixie.app:/oauth/callback\"";
    // The attacker does not name itself on its redirects: it cannot be used at all.
    assert_eq!(
        mix_up(shared, false).await,
        (MixUp::Unusable("shared_redirect"), 0)
    );
    // It says it does: the forwarded answer has no `iss` and is refused.
    assert_eq!(
        mix_up(shared, true).await,
        (MixUp::Refused("issuer_mismatch"), 0)
    );
}

// ---------------------------------------------------------------------------------------
// Sign in on another device (RFC 8628): the same token, ID token, userinfo and picture
// defects through the device flow (the code flow's checks, unchanged), and the device flow's
// own. Time is virtual: each wait the core asks for moves the provider's clock as much.

/// Every row is reached with the person approving at once on the verification page.
const DEVICE_TABLE: &[(Fault, Want)] = &[
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
    // OIDC Core §3.1.3.7 step 11 compares a nonce only if one was sent; RFC 8628 §3.1 sends
    // none, so a nonce claim (or its absence) means nothing here.
    (Fault::IdTokenWrongNonce, Want::SignedIn),
    (Fault::IdTokenMissingNonce, Want::SignedIn),
    (
        Fault::IdTokenWrongAtHash,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (
        Fault::IdTokenCritHeader,
        Want::Refused("id_token_invalid", "failed Pixie's security checks"),
    ),
    (Fault::IdTokenExtraClaims, Want::SignedIn),
    (Fault::IdTokenUnknownKid, Want::SignedIn),
    (
        Fault::UserinfoSubMismatch,
        Want::Refused("subject_mismatch", "could not read your profile"),
    ),
    // RFC 6749 §5.2 `invalid_grant` (with markup, kept as text).
    (
        Fault::TokenErrorMarkup,
        Want::Refused("device_code_rejected", "did not accept"),
    ),
    (
        Fault::TokenRedirect,
        Want::Refused("token_response", "failed Pixie's security checks"),
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
    (Fault::PictureHugeDimensions, Want::NoPicture),
    (
        Fault::DeviceAuthOversized,
        Want::Refused("response_too_large", "far larger than any real one"),
    ),
    (
        Fault::DeviceAuthGarbage,
        Want::Refused("device_response_invalid", "failed Pixie's security checks"),
    ),
    // A `javascript:` verification URI never reaches the window.
    (
        Fault::DeviceVerificationUriHostile,
        Want::Refused("device_response_invalid", "failed Pixie's security checks"),
    ),
    // RFC 8628 §3.5: slow_down forever is honoured (5 s more each time) until the code runs out.
    (
        Fault::DeviceSlowDown,
        Want::Refused(
            "device_code_expired",
            "expired before the sign-in was finished",
        ),
    ),
    (
        Fault::DeviceExpiredToken,
        Want::Refused(
            "device_code_expired",
            "expired before the sign-in was finished",
        ),
    ),
    (
        Fault::DeviceAccessDenied,
        Want::Refused("access_denied", "declined on the other device"),
    ),
    // A wrong or replayed device code, as the provider reports it.
    (
        Fault::DeviceCodeRejected,
        Want::Refused("device_code_rejected", "did not accept"),
    ),
];

/// One sign-in on another device through the (misbehaving) provider, as far as it gets.
async fn device_sign_in(provider: &Provider, idp: &DevIdp) -> Result<SignedIn, Error> {
    let idp_clock = idp.clock().clone();
    let clock = std::sync::Arc::new(pixie_auth::device::VirtualClock::new(move |d| {
        idp_clock.advance(d)
    }));
    let pending = provider.start_device_sign_in_with_clock(clock).await?;
    pixie_dev_idp::browser::answer_device(pending.qr_uri().as_str(), None, Answer::Preset("ada"))
        .await
        .expect("the verification page answers");
    provider.complete_device_sign_in(&pending).await
}

#[tokio::test]
async fn every_defect_is_refused_on_the_device_flow_too() {
    let idp = DevIdp::start(faulty()).await.unwrap();
    let mut failures = Vec::new();
    for (fault, want) in DEVICE_TABLE {
        idp.set_fault(Some(*fault)).await.unwrap();
        let provider = provider(&idp).await;
        let got = device_sign_in(&provider, &idp).await;
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
        "device-flow defects not refused as expected:\n{}",
        failures.join("\n")
    );
}
