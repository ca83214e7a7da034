//! Property tests over the parsers that take input from outside: the redirect, JWTs and JWKS,
//! and provider metadata. Bounded in CI; for a long run:
//! `PROPTEST_CASES=200000 cargo test -p pixie-auth --test fuzz --release`.

use openidconnect::core::{CoreIdToken, CoreJsonWebKeySet};
use pixie_auth::callback::{CallbackExpectation, validate_callback};
use pixie_auth::provider::Metadata;
use proptest::prelude::*;
use url::Url;

const STATE: &str = "Q2hvb3NlIGEgc3Ryb25nIHN0YXRlIHZhbHVlIQ";
const ISSUER: &str = "https://id.example";

fn check(raw: &str) -> Result<pixie_auth::ValidatedCallback, pixie_auth::CallbackError> {
    let redirect = Url::parse("dev.pixie.app:/oauth/callback").unwrap();
    validate_callback(
        raw,
        &CallbackExpectation {
            redirect_uri: &redirect,
            state: STATE,
            issuer: ISSUER,
            iss_required: true,
        },
    )
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Any string: never a panic, and never accepted unless it carries our exact state and iss.
    #[test]
    fn the_callback_parser_takes_anything(raw in ".{0,300}") {
        if check(&raw).is_ok() {
            prop_assert!(raw.contains(STATE));
        }
    }

    /// Well-formed redirects with arbitrary parameters: accepted only with the right state and
    /// issuer, whatever else is added.
    #[test]
    fn only_the_right_state_and_issuer_pass(
        state in "[A-Za-z0-9_-]{0,48}",
        iss in prop_oneof![Just(ISSUER.to_owned()), "https://[a-z]{1,10}\\.example"],
        code in "[A-Za-z0-9_-]{1,40}",
        extra in proptest::collection::vec(("[a-z]{1,8}", "[ -~]{0,20}"), 0..4),
    ) {
        let mut url = Url::parse("dev.pixie.app:/oauth/callback").unwrap();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("code", &code).append_pair("state", &state).append_pair("iss", &iss);
            for (k, v) in &extra {
                if !matches!(k.as_str(), "code" | "state" | "iss" | "error" | "error_description" | "error_uri") {
                    q.append_pair(k, v);
                }
            }
        }
        let ok = check(url.as_str()).is_ok();
        prop_assert_eq!(ok, state == STATE && iss == ISSUER);
    }

    /// JWT-shaped garbage never panics the ID token parser.
    #[test]
    fn id_token_parsing_takes_anything(
        parts in proptest::collection::vec("[A-Za-z0-9_=+/-]{0,60}", 0..5),
    ) {
        let jwt = parts.join(".");
        let _ = serde_json::from_value::<CoreIdToken>(serde_json::Value::String(jwt));
    }

    /// Arbitrary JSON for JWKS and metadata: parsed or refused, never a panic.
    #[test]
    fn jwks_and_metadata_parsing_take_anything(json in arb_json()) {
        let _ = serde_json::from_value::<CoreJsonWebKeySet>(json.clone());
        let _ = serde_json::from_value::<Metadata>(json);
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[ -~]{0,30}".prop_map(serde_json::Value::from),
        Just(serde_json::json!("RS256")),
        Just(serde_json::json!("https://id.example/authorize")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    "[a-z_]{1,12}",
                    Just("keys".to_owned()),
                    Just("kty".to_owned()),
                    Just("issuer".to_owned()),
                    Just("jwks_uri".to_owned()),
                    Just("authorization_endpoint".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
