//! What the core does not yet do against oidc-provider, each written as the test it should
//! pass, `#[ignore]`d with the reason. Kept apart from `interop.rs` because the interop
//! command runs every ignored test there; run these by hand, with the provider:
//!
//!     tests/interop/run.sh cargo test -p pixie-auth --test interop_gaps -- --ignored

use std::time::Duration;

use pixie_auth::StoredSession;

#[path = "interop/harness.rs"]
mod harness;
use harness::{configured_at, discover, interop, person};

/// RFC 9449 §5 applies to every token request, the device code grant's included (§3.4 of
/// RFC 8628 is an ordinary token request). The core sends no DPoP proof when it polls
/// (`device/poll.rs` posts through the plain client), so a provider that binds this
/// client's tokens (`dpop_bound_access_tokens`, RFC 9449 §5.2) refuses every poll with
/// `invalid_grant` ("DPoP proof JWT not provided", oidc-provider's error_detail), and the
/// person sees "the provider did not accept this sign-in's code". Against the plain
/// provider the same flow succeeds but with a bearer token although `dpop_wanted()` is
/// true there.
#[tokio::test]
#[ignore = "core gap (src/device/poll.rs): the device flow's token requests carry no DPoP proof (RFC 9449 §5), so oidc-provider refuses a DPoP-bound client with invalid_grant"]
async fn a_device_sign_in_at_a_provider_that_binds_tokens_with_dpop() {
    let i = interop();
    let provider = discover(configured_at(&i.strict_issuer, &i, "deep-link")).await;
    assert!(provider.dpop_wanted());
    let pending = provider
        .start_device_sign_in()
        .await
        .expect("device authorization");
    let complete = pending.verification_uri_complete().unwrap().to_string();
    assert_eq!(person(&i, &["device", &complete]), ["approved"]);
    // A guard, not a speed target: the refusal ends polling at once; tokens come on the
    // first poll.
    let done = tokio::time::timeout(
        Duration::from_secs(180),
        provider.complete_device_sign_in(&pending),
    )
    .await
    .expect("the device sign-in ended")
    .expect("a DPoP-bound device sign-in");
    let session = StoredSession::from_tokens(&provider, &done.tokens, None).unwrap();
    assert!(session.dpop_key.is_some(), "the account's DPoP key is kept");
}
