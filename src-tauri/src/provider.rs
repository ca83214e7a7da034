//! Which provider Pixie signs in with. The default is the demo provider, started in-process
//! on 127.0.0.1 so a fresh machine signs in with no account anywhere.

use std::sync::Arc;

use pixie_auth::{Error, HttpClient, Provider, ProviderConfig};
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID, PIXIE_REDIRECT_URI};

/// Use another OpenID provider instead of the embedded one: its issuer URL.
pub const ISSUER_ENV: &str = "PIXIE_ISSUER";
/// The client id registered at `PIXIE_ISSUER` (default `pixie-desktop`).
pub const CLIENT_ID_ENV: &str = "PIXIE_CLIENT_ID";

pub const DEMO_NAME: &str = "Pixie demo provider";

/// The provider to use and, when it is the embedded one, the running server.
pub struct Resolved {
    pub provider: Arc<Provider>,
    pub idp: Option<DevIdp>,
}

pub fn display_name() -> String {
    match std::env::var(ISSUER_ENV) {
        Ok(issuer) if !issuer.is_empty() => issuer,
        _ => DEMO_NAME.to_owned(),
    }
}

pub async fn resolve(state_file: Option<std::path::PathBuf>) -> Result<Resolved, Error> {
    let http = HttpClient::new().map_err(|e| Error::Config(e.to_string()))?;
    let client_id = std::env::var(CLIENT_ID_ENV).unwrap_or_else(|_| PIXIE_CLIENT_ID.to_owned());
    if let Ok(issuer) = std::env::var(ISSUER_ENV).map(|i| i.trim().to_owned())
        && !issuer.is_empty()
    {
        let config =
            ProviderConfig::new("custom", &issuer, &issuer, &client_id, PIXIE_REDIRECT_URI);
        let provider = Provider::discover(config, http).await?;
        return Ok(Resolved {
            provider: Arc::new(provider),
            idp: None,
        });
    }
    // A stable port and key across launches keep the issuer, and so the saved session, valid.
    let idp = DevIdp::start(IdpConfig {
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        state_file,
        ..IdpConfig::default()
    })
    .await
    .map_err(|e| Error::Config(format!("the demo provider could not start: {e}")))?;
    let config = ProviderConfig::new(
        "demo",
        DEMO_NAME,
        idp.issuer(),
        PIXIE_CLIENT_ID,
        PIXIE_REDIRECT_URI,
    );
    let provider = Provider::discover(config, http).await?;
    Ok(Resolved {
        provider: Arc::new(provider),
        idp: Some(idp),
    })
}
