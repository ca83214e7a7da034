//! The flow record of whole sign-ins against the demo provider.
use url::Url;

use crate::flow::{FlowStep, NEVER_SHOWN, Party};
use crate::{HttpClient, Provider, ProviderConfig};
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
    let trace = pending.trace().clone();
    let challenge = param(pending.authorization_url(), "code_challenge");
    let kept = [
        pending.verifier.secret().clone(),
        pending.state.secret().clone(),
        pending.nonce.secret().clone(),
    ];
    let done = provider.complete(pending, &cb).await.unwrap();

    let steps = trace.steps();
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
            .starts_with("OIDC Core §3.1.3.7 steps 6–8 (RS256, kid=")
    }));
    assert_eq!(steps[5].status, Some(200));
    // The challenge is shown in full; it is public by design (RFC 7636 §4.2).
    assert!(steps[0].params.iter().any(|p| p.value == challenge));

    let code = param(&Url::parse(&redirect).unwrap(), "code");
    let [verifier, state, nonce] = kept;
    let secrets = [
        verifier,
        state,
        nonce,
        code,
        done.tokens.access_token.secret().clone(),
        done.tokens.refresh_token.as_ref().unwrap().secret().clone(),
        done.tokens.id_token.as_ref().unwrap().compact(),
    ];
    let json = trace.to_json();
    let mermaid = trace.to_mermaid();
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
    let trace = pending.trace().clone();
    assert!(provider.complete(pending, &cb).await.is_err());
    let id_step = trace.steps().pop().unwrap();
    let failed = id_step.checks.last().unwrap();
    assert!(!failed.ok);
    assert_eq!(failed.spec, "OIDC Core §3.1.3.7 step 11");
    assert!(id_step.checks.iter().rev().skip(1).all(|c| c.ok));
}
