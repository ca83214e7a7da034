//! The app's state machine against the real demo provider, without a window: every
//! transition the window relies on, and that no View ever carries a secret.

use std::sync::Arc;

mod common;

use pixie_app::error::AppError;
use pixie_app::machine::{
    Finished, Machine, NOTICE_ALREADY_USED, NOTICE_CANCELLED, NOTICE_FOREIGN,
    NOTICE_NOT_IN_PROGRESS, Phase, RedirectOutcome, View,
};
use pixie_auth::Provider;
use pixie_dev_idp::DevIdp;
use pixie_dev_idp::browser::{Answer, answer};

async fn setup() -> (DevIdp, Arc<Provider>, Machine) {
    let (idp, provider) = common::demo().await;
    (idp, provider, Machine::new("Demo"))
}

fn notice(view: &View) -> &str {
    view.notice.as_ref().map(|n| n.text.as_str()).unwrap_or("")
}

trait Redirect {
    fn redirect_(&mut self, raw: &str) -> RedirectOutcome;
}

impl Redirect for Machine {
    fn redirect_(&mut self, raw: &str) -> RedirectOutcome {
        self.redirect(raw, false)
    }
}

fn ignored(outcome: RedirectOutcome) -> View {
    match outcome {
        RedirectOutcome::Ignored(v) => v,
        RedirectOutcome::Failed(v) => panic!("expected ignored, got failed: {:?}", v.error),
        RedirectOutcome::Exchange { .. } => panic!("expected ignored, got an exchange"),
    }
}

/// Start a sign-in and return the redirect the provider sends the browser to.
async fn start(m: &mut Machine, provider: &Arc<Provider>, a: Answer<'_>) -> (u64, String) {
    let (attempt, _, view) = m.start(None).expect("a sign-in may start");
    assert_eq!(view.phase, Phase::Starting);
    assert!(m.start(None).is_none(), "a second click starts nothing");
    let pending = provider.start_sign_in().unwrap();
    let url = pending.authorization_url().to_string();
    let view = m
        .authorize(attempt, provider.clone(), pending, None)
        .unwrap();
    assert_eq!(view.phase, Phase::Authorizing);
    (attempt, answer(&url, a).await.unwrap())
}

fn finished(f: Finished) -> Option<View> {
    match f {
        Finished::Stale(_) => None,
        Finished::Failed(v) | Finished::SignedIn { view: v, .. } => Some(v),
    }
}

#[tokio::test]
async fn a_full_sign_in_with_every_kind_of_stray_link() {
    let (_idp, provider, mut m) = setup().await;

    // No sign-in yet: a link is ignored with a notice.
    let v = ignored(m.redirect_("dev.pixie.app:/oauth/callback?code=x&state=y"));
    assert_eq!(v.phase, Phase::SignedOut);
    assert_eq!(notice(&v), NOTICE_NOT_IN_PROGRESS);

    // Cancelled sign-in: its late redirect is recognised.
    let (_, late) = start(&mut m, &provider, Answer::Preset("ada")).await;
    assert_eq!(m.cancel().phase, Phase::SignedOut);
    assert_eq!(notice(&ignored(m.redirect_(&late))), NOTICE_CANCELLED);

    // A forged link while pending keeps the sign-in open.
    let (attempt, genuine) = start(&mut m, &provider, Answer::Named("Ada Lovelace")).await;
    let v = ignored(m.redirect_("dev.pixie.app:/oauth/callback?code=forged&state=forged"));
    assert_eq!((v.phase, notice(&v)), (Phase::Authorizing, NOTICE_FOREIGN));
    let v = ignored(m.redirect_("dev.pixie.evil:/oauth/callback?code=a&state=b"));
    assert_eq!(v.phase, Phase::Authorizing);

    // The genuine one is exchanged.
    let RedirectOutcome::Exchange { view, job } = m.redirect_(&genuine) else {
        panic!("the genuine redirect should be exchanged");
    };
    assert_eq!(view.phase, Phase::Exchanging);
    assert_eq!(job.attempt, attempt);
    // Delivered twice: the second is ignored while exchanging...
    assert_eq!(notice(&ignored(m.redirect_(&genuine))), NOTICE_ALREADY_USED);
    let result = job.provider.complete(job.pending, &job.callback).await;
    let access = result
        .as_ref()
        .unwrap()
        .tokens
        .access_token
        .secret()
        .clone();
    let v = finished(m.finish(job.attempt, &job.provider, result.map_err(AppError::from))).unwrap();
    assert_eq!(v.phase, Phase::SignedIn);
    assert_eq!(v.profile.as_ref().unwrap().name, "Ada Lovelace");
    // ...and after.
    let v = ignored(m.redirect_(&genuine));
    assert_eq!(
        (v.phase, notice(&v)),
        (Phase::SignedIn, NOTICE_ALREADY_USED)
    );

    // The View the window gets never holds a token.
    let json = serde_json::to_string(&m.view()).unwrap();
    assert!(!json.contains(&access));
    assert!(!json.contains("token"));

    let (gone, v) = m.sign_out(None, false);
    assert!(gone.len() == 1 && gone[0].tokens.is_some() && gone[0].kept.is_some());
    assert_eq!(v.phase, Phase::SignedOut);
    assert!(v.profile.is_none());
}

#[tokio::test]
async fn an_error_redirect_ends_the_sign_in_and_try_again_works() {
    let (_idp, provider, mut m) = setup().await;
    let (_, denied) = start(&mut m, &provider, Answer::Deny).await;
    let RedirectOutcome::Failed(v) = m.redirect_(&denied) else {
        panic!("a denial ends the sign-in");
    };
    assert_eq!(v.phase, Phase::Failed);
    assert_eq!(v.error.as_ref().unwrap().code, "access_denied");
    // Try again replaces the failure with a fresh pending sign-in.
    let (_, ok) = start(&mut m, &provider, Answer::Preset("grace")).await;
    assert!(m.view().error.is_none());
    assert!(matches!(m.redirect_(&ok), RedirectOutcome::Exchange { .. }));
}

#[tokio::test]
async fn late_results_of_an_abandoned_attempt_are_dropped() {
    let (_idp, provider, mut m) = setup().await;
    let (_, redirect) = start(&mut m, &provider, Answer::Preset("ada")).await;
    let RedirectOutcome::Exchange { job, .. } = m.redirect_(&redirect) else {
        panic!("exchange");
    };
    // The person cancels while the exchange is in flight.
    assert_eq!(m.cancel().phase, Phase::SignedOut);
    let result = job.provider.complete(job.pending, &job.callback).await;
    assert!(
        matches!(
            m.finish(job.attempt, &job.provider, result.map_err(AppError::from)),
            Finished::Stale(Some(_))
        ),
        "the late tokens are handed back to be revoked"
    );
    assert_eq!(m.phase(), Phase::SignedOut);
    // And an expiry timer of an old attempt changes nothing.
    assert!(m.expire(job.attempt).is_none());
}

#[tokio::test]
async fn a_pending_sign_in_expires() {
    let (_idp, provider, mut m) = setup().await;
    let (attempt, _) = start(&mut m, &provider, Answer::Preset("ada")).await;
    let v = m.expire(attempt).unwrap();
    assert_eq!(v.phase, Phase::Failed);
    assert_eq!(v.error.unwrap().code, "expired");
    assert_eq!(m.cancel().phase, Phase::SignedOut);
}

#[tokio::test]
async fn the_provider_is_picked_only_while_signed_out_and_a_restore_points_at_its_own() {
    use pixie_app::machine::ProviderOption;
    let (_idp, provider, _) = setup().await;
    let option = |id: &str, name: &str| ProviderOption {
        id: id.into(),
        name: name.into(),
    };
    let mut m = Machine::with_providers(
        vec![option("work", "Work"), option("demo", "Demo")],
        Some("nope"),
        Some("providers.toml:3:1: `clientid`: unknown field".into()),
    );
    // An unknown id falls back to the first; the config error stays in every view.
    let v = m.view();
    assert_eq!((v.provider_id.as_str(), v.providers.len()), ("work", 2));
    assert!(v.config_error.as_deref().is_some_and(|e| e.contains(":3:")));
    assert!(m.select("nope").is_none(), "an unknown id changes nothing");
    let v = m.select("demo").expect("signed out: may pick");
    assert_eq!(
        (v.provider_id.as_str(), v.provider_name.as_str()),
        ("demo", "Demo")
    );

    // While waiting for the browser, the provider cannot change under the sign-in.
    let (_, redirect) = start(&mut m, &provider, Answer::Preset("ada")).await;
    assert!(!m.view().loopback, "a deep-link sign-in");
    assert!(m.select("work").is_none());
    assert_eq!(m.view().provider_id, "demo");
    let _ = m.redirect_(&redirect);
    assert!(m.select("work").is_none(), "nor while exchanging");

    // A restored session shows the provider it belongs to.
    let mut m = Machine::with_providers(
        vec![option("work", "Work"), option("demo", "Demo")],
        Some("work"),
        None,
    );
    let profile = pixie_auth::Profile {
        subject: "s".into(),
        name: "Ada".into(),
        email: None,
        picture_data_url: None,
        issuer: "http://127.0.0.1:1".into(),
        provider_id: "demo".into(),
    };
    let (_, v) = m
        .restore(pixie_app::machine::CachedAccounts {
            active: None,
            profiles: vec![profile],
        })
        .unwrap();
    assert_eq!((v.phase, v.provider_id.as_str()), (Phase::SignedIn, "demo"));
    assert!(
        m.select("work").is_some(),
        "signed in: another account may be added"
    );
}

#[tokio::test]
async fn a_loopback_sign_in_says_so_to_the_window() {
    let (_idp, provider, mut m) = setup().await;
    let listener = pixie_auth::loopback::LoopbackListener::bind("/oauth/callback")
        .await
        .unwrap();
    let pending = provider.start_sign_in_to(listener.redirect_uri()).unwrap();
    let (attempt, _, _) = m.start(None).unwrap();
    let view = m
        .authorize(attempt, provider.clone(), pending, None)
        .unwrap();
    assert!(view.loopback);
}
