//! What the integration tests share: a demo provider and Pixie's provider for it.
#![allow(dead_code)] // each test file uses its own subset

use pixie_auth::{HttpClient, Provider, ProviderConfig};
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID, PIXIE_REDIRECT_URI};

/// Pixie's configuration for the demo provider at `idp`.
pub fn config(idp: &DevIdp) -> ProviderConfig {
    ProviderConfig::new(
        "demo",
        "Demo",
        idp.issuer(),
        PIXIE_CLIENT_ID,
        PIXIE_REDIRECT_URI,
    )
}

/// Discover the demo provider at `idp` with `http`.
pub async fn provider_with(idp: &DevIdp, http: HttpClient) -> Provider {
    Provider::discover(config(idp), http)
        .await
        .expect("discovery")
}

/// Start a demo provider with `config` and discover it.
pub async fn demo(config: IdpConfig) -> (DevIdp, Provider) {
    let idp = DevIdp::start(config).await.expect("idp starts");
    let provider = provider_with(&idp, HttpClient::new().expect("http client")).await;
    (idp, provider)
}
