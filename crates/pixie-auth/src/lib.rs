//! Pixie's sign-in core: OAuth 2.0 authorization code with PKCE for native apps
//! (RFC 6749, RFC 7636, RFC 8252), OpenID Connect ID token and userinfo checks,
//! RFC 9207 issuer identification. Knows nothing of Tauri or any UI.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pixie_auth::Error> {
//! use pixie_auth::{HttpClient, Provider, ProviderConfig};
//! let http = HttpClient::new().map_err(|e| pixie_auth::Error::Config(e.to_string()))?;
//! let provider = Provider::discover(ProviderConfig::new("demo", "Demo", "http://127.0.0.1:4000", "pixie", "dev.pixie.app:/oauth/callback"), http).await?;
//! let pending = provider.start_sign_in()?;
//! // open pending.authorization_url() in the system browser, wait for the redirect ...
//! # let redirect = String::new();
//! let callback = pending.validate_callback(&redirect)?;
//! let signed_in = provider.complete(pending, &callback).await?;
//! println!("hello {}", signed_in.profile.name);
//! # Ok(()) }
//! ```

pub mod callback;
pub mod config;
pub mod device;
pub mod dpop;
pub mod error;
pub mod flow;
pub mod hints;
pub mod http;
pub mod id_token;
mod jwt;
pub mod logout;
pub mod loopback;
pub mod mixup;
pub mod par;
pub mod picture;
pub mod profile;
pub mod provider;
pub mod proxy;
pub mod qr;
pub mod random;
pub mod session;
pub mod settings;
pub mod signin;
pub mod tokens;

pub use callback::{CallbackError, ValidatedCallback};
pub use device::{DeviceError, PendingDeviceSignIn};
pub use dpop::{DpopError, DpopKey};
pub use error::Error;
pub use flow::{FlowStep, FlowTrace};
pub use hints::SignInHints;
pub use http::{HttpClient, HttpError};
pub use id_token::{IdTokenCheck, IdTokenError};
pub use logout::PendingLogout;
pub use par::ParError;
pub use profile::Profile;
pub use provider::Provider;
pub use proxy::ProxySettings;
pub use session::StoredSession;
pub use settings::{
    DpopMode, Endpoints, LogoutHint, ParMode, Protocol, ProviderConfig, RedirectMode,
};
pub use signin::{PendingSignIn, SignedIn};
pub use tokens::{IdToken, Tokens};
