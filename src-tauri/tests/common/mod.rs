//! Shared set-up for the app's tests: the real demo provider on loopback, discovered.

use std::sync::Arc;

use pixie_auth::{HttpClient, Provider, ProviderConfig};
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID, PIXIE_REDIRECT_URI};

/// A demo provider (keep the `DevIdp` alive as long as the provider is used) and Pixie's
/// provider for it.
#[allow(dead_code)] // lifecycle.rs sets its provider up with `demo_with`
pub async fn demo() -> (DevIdp, Arc<Provider>) {
    demo_with(IdpConfig::default()).await
}

/// The same with the demo provider set up as `config` says.
pub async fn demo_with(config: IdpConfig) -> (DevIdp, Arc<Provider>) {
    let idp = DevIdp::start(config).await.unwrap();
    let config = ProviderConfig::new(
        "demo",
        "Demo",
        idp.issuer(),
        PIXIE_CLIENT_ID,
        PIXIE_REDIRECT_URI,
    );
    let provider = Provider::discover(config, HttpClient::new().unwrap())
        .await
        .unwrap();
    (idp, Arc::new(provider))
}
