//! How a provider is set up: its registered clients and its behaviour ([`IdpConfig`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// The redirect URI Pixie registers for the demo provider (RFC 8252 §7.1 private-use
/// scheme): Pixie's callback path for the provider id `demo` (each provider has its own,
/// RFC 9700 §4.4).
pub const PIXIE_REDIRECT_URI: &str = "dev.pixie.app:/oauth/callback/demo";
/// The loopback redirect URI Pixie registers for the demo provider (RFC 8252 §7.3: any port).
pub const PIXIE_LOOPBACK_REDIRECT_URI: &str = "http://127.0.0.1/oauth/callback/demo";
/// The client id Pixie uses with the demo provider.
pub const PIXIE_CLIENT_ID: &str = "pixie-desktop";

/// A registered client.
#[derive(Clone, Debug)]
pub struct ClientRegistration {
    /// The `client_id` (RFC 6749 §2.2). Every client here is public (§2.1): no secret.
    pub client_id: String,
    /// Exact redirect URIs. A `http://127.0.0.1/…` entry matches any port (RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser back to.
    pub post_logout_redirect_uris: Vec<String>,
}

impl ClientRegistration {
    /// Pixie's own registration: its deep-link and loopback redirect URIs and its logout
    /// return.
    pub fn pixie() -> Self {
        Self {
            client_id: PIXIE_CLIENT_ID.into(),
            redirect_uris: vec![
                PIXIE_REDIRECT_URI.into(),
                PIXIE_LOOPBACK_REDIRECT_URI.into(),
            ],
            post_logout_redirect_uris: vec!["dev.pixie.app:/oauth/logout".into()],
        }
    }
}

/// How the provider behaves.
#[derive(Clone, Debug)]
pub struct IdpConfig {
    /// Address to listen on; port 0 picks a free one.
    pub addr: SocketAddr,
    /// The clients that may sign people in here.
    pub clients: Vec<ClientRegistration>,
    /// Life of an authorization code (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub code_ttl: Duration,
    /// Life of an access token (`expires_in`, RFC 6749 §5.1).
    pub access_token_ttl: Duration,
    /// Life of an ID token (`exp`, OIDC Core §2).
    pub id_token_ttl: Duration,
    /// Where to keep the signing key, the port and the refresh-token records (hashed) across
    /// restarts, so sessions of an app that embeds the provider survive a relaunch. When the
    /// port of `addr` is 0, the port from the file is tried first.
    pub state_file: Option<PathBuf>,
    /// Whether faults may be switched on at all (they also need the `faults` feature). Off by
    /// default, so an embedding app cannot be made to misbehave even in a build where cargo
    /// unified that feature in.
    pub allow_faults: bool,
    /// Benchmarks only: approve every authorization request at once as this preset person
    /// (`ada`, `grace`, `alan`), answering `/authorize` with the redirect. The app never sets it.
    pub auto_approve: Option<String>,
    /// RFC 9207: name the issuer (`iss`) on every authorization response and say so in the
    /// metadata. On by default; off plays a provider that does neither (Google, GitHub).
    pub issuer_identification: bool,
    /// The authorization endpoint the `authorize-forward` fault sends the browser on to.
    pub forward_to: Option<String>,
    /// RFC 9126: offer pushed authorization requests (`/par`, advertised as
    /// `pushed_authorization_request_endpoint`). On by default.
    pub par: bool,
    /// RFC 9449: check DPoP proofs and bind tokens to their key, and advertise
    /// `dpop_signing_alg_values_supported: ["ES256"]`. On by default; off plays a provider
    /// that ignores the `DPoP` header and issues bearer tokens.
    pub dpop: bool,
    /// RFC 9449 §8, §9: demand a server nonce in every proof (`use_dpop_nonce`, then the
    /// `DPoP-Nonce` to use). Off by default (one more round trip per request).
    pub dpop_nonce: bool,
}

impl Default for IdpConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            clients: vec![ClientRegistration::pixie()],
            code_ttl: Duration::from_secs(60),
            access_token_ttl: Duration::from_secs(3600),
            id_token_ttl: Duration::from_secs(600),
            state_file: None,
            allow_faults: false,
            auto_approve: None,
            issuer_identification: true,
            forward_to: None,
            par: true,
            dpop: true,
            dpop_nonce: false,
        }
    }
}

impl ClientRegistration {
    /// RFC 6749 §3.1.2.3: exact match; RFC 8252 §7.3: loopback redirects match on any port.
    pub(crate) fn allows_redirect(&self, uri: &str) -> bool {
        if self.redirect_uris.iter().any(|r| r == uri) {
            return true;
        }
        let Ok(asked) = Url::parse(uri) else {
            return false;
        };
        if asked.scheme() != "http" || asked.host_str() != Some("127.0.0.1") {
            return false;
        }
        self.redirect_uris
            .iter()
            .filter_map(|r| Url::parse(r).ok())
            .any(|r| {
                r.scheme() == "http"
                    && r.host_str() == Some("127.0.0.1")
                    && r.path() == asked.path()
                    && r.query() == asked.query()
                    && asked.fragment().is_none()
            })
    }
}
