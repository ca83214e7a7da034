//! Sign in on another device: the OAuth 2.0 Device Authorization Grant (RFC 8628).
//!
//! For a computer with no usable browser (reached over SSH or remote desktop, a browser that
//! never hands the redirect back): Pixie asks the provider for a device code and a short user
//! code, the window shows the user code, the verification URI and a QR code of
//! `verification_uri_complete`, and the person signs in on a phone or any other device while
//! the core polls the token endpoint. The tokens then go through the same ID token, userinfo
//! and picture checks as the code flow and end in the same [`SignedIn`].
//!
//! ```no_run
//! # async fn demo(provider: pixie_auth::Provider) -> Result<(), pixie_auth::Error> {
//! if provider.supports_device_flow() {
//!     let pending = provider.start_device_sign_in().await?;
//!     println!("Go to {} and enter {}", pending.verification_uri(), pending.user_code());
//!     // The window shows `pending.qr_code()` as an <img>. Dropping this future cancels.
//!     let signed_in = provider.complete_device_sign_in(&pending).await?;
//!     println!("hello {}", signed_in.profile.name);
//! }
//! # Ok(()) }
//! ```

mod authorization;
mod clock;
pub(crate) mod error;
mod poll;
mod steps;
mod wire;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use url::Url;

pub use authorization::{DEFAULT_INTERVAL, DEVICE_CODE_GRANT, MAX_DEVICE_WAIT, MAX_USER_CODE};
pub use clock::{DeviceClock, SystemClock, VirtualClock};
pub use error::DeviceError;
pub use poll::SLOW_DOWN_STEP;

use crate::dpop::DpopKey;
use crate::flow::{Check, FlowStep, FlowTrace, NEVER_SHOWN, Party, short};
use crate::http::is_allowed_url;
use crate::id_token::Expect;
use crate::settings::Protocol;
use crate::{Error, Provider, SignedIn};
use authorization::{DeviceCode, read_authorization};

/// Polling state that survives a cancelled poll: the interval (raised by `slow_down`) and
/// when the last answer came, so a restarted poll is never early either.
#[derive(Debug)]
struct PollState {
    interval: Duration,
    last_answer: Instant,
    polls: u32,
}

/// A device sign-in waiting for the person: what the window shows, and the device code
/// (never shown; `Debug` redacts it). Only [`Provider::start_device_sign_in`] builds it.
pub struct PendingDeviceSignIn {
    provider_id: String,
    client_id: String,
    sends_secret: bool,
    device_code: DeviceCode,
    user_code: String,
    verification_uri: Url,
    verification_uri_complete: Option<Url>,
    qr_code: Option<String>,
    lifetime: Duration,
    expires_at: Instant,
    expires_at_utc: DateTime<Utc>,
    clock: Arc<dyn DeviceClock>,
    state: Mutex<PollState>,
    trace: FlowTrace,
    /// The new account's DPoP key (RFC 9449), when the provider binds tokens.
    dpop_key: Option<DpopKey>,
}

impl std::fmt::Debug for PendingDeviceSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingDeviceSignIn")
            .field("provider_id", &self.provider_id)
            .field("device_code", &self.device_code)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri.as_str())
            .field("expires_at", &self.expires_at_utc)
            .finish_non_exhaustive()
    }
}

impl PendingDeviceSignIn {
    fn lock(&self) -> MutexGuard<'_, PollState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The id of the provider this sign-in is with.
    pub fn provider_id(&self) -> &str {
        &self.provider_id
    }

    /// The code the person types on the other device (RFC 8628 §3.2 `user_code`). Show it in
    /// large type, as text.
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// Where the person goes to type the code (RFC 8628 §3.2 `verification_uri`; https,
    /// loopback excepted).
    pub fn verification_uri(&self) -> &Url {
        &self.verification_uri
    }

    /// The same page with the code already in it, when the provider offers one (RFC 8628
    /// §3.2 `verification_uri_complete`). For the QR code and an "Open in this browser" link;
    /// the person must still compare the code shown there with [`Self::user_code`] (§5.4).
    pub fn verification_uri_complete(&self) -> Option<&Url> {
        self.verification_uri_complete.as_ref()
    }

    /// The URI a scanner should open: `verification_uri_complete`, else `verification_uri`.
    pub fn qr_uri(&self) -> &Url {
        self.verification_uri_complete
            .as_ref()
            .unwrap_or(&self.verification_uri)
    }

    /// A QR code of [`Self::qr_uri`] as a `data:image/png;base64,…` URL (black on white,
    /// with its quiet zone), for an `<img>` under `img-src data:`. `None` if it could not be
    /// made (a URI too long to scan well).
    pub fn qr_code(&self) -> Option<&str> {
        self.qr_code.as_deref()
    }

    /// When the codes stop working (RFC 8628 §3.2 `expires_in`, at most
    /// [`MAX_DEVICE_WAIT`]), on the provider's clock. For "expires in 14:32".
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at_utc
    }

    /// Time left before the codes stop working.
    pub fn time_left(&self) -> Duration {
        self.expires_at.saturating_duration_since(self.clock.now())
    }

    /// Whether the codes have stopped working (their `expires_in`, RFC 8628 §3.2, has run out
    /// on this sign-in's clock).
    pub fn is_expired(&self) -> bool {
        self.clock.now() >= self.expires_at
    }

    /// The current polling interval: the provider's (default 5 s), plus 5 s per `slow_down`.
    pub fn interval(&self) -> Duration {
        self.lock().interval
    }

    /// How many times the token endpoint has been polled.
    pub fn polls(&self) -> u32 {
        self.lock().polls
    }

    /// The redacted record of this sign-in's steps so far (the device code shortened, the
    /// user code shown: it is meant to be read out).
    pub fn trace(&self) -> &FlowTrace {
        &self.trace
    }

    /// How long to wait before the next poll: the interval after the last answer.
    fn next_poll_in(&self) -> Duration {
        let st = self.lock();
        st.last_answer
            .checked_add(st.interval)
            .map_or(st.interval, |at| {
                at.saturating_duration_since(self.clock.now())
            })
    }
}

impl Provider {
    /// The device authorization endpoint (RFC 8628 §4 `device_authorization_endpoint` in the
    /// discovery metadata, or `device_authorization_endpoint` in providers.toml), when it is
    /// a URL Pixie may use (https, loopback excepted).
    pub fn device_authorization_endpoint(&self) -> Option<Url> {
        let raw = self
            .metadata
            .additional_metadata()
            .device_authorization_endpoint
            .as_deref()?;
        Url::parse(raw).ok().filter(is_allowed_url)
    }

    /// Whether "Sign in on another device" can be offered for this provider.
    pub fn supports_device_flow(&self) -> bool {
        self.device_authorization_endpoint().is_some() && self.metadata.token_endpoint().is_some()
    }

    /// Ask for a device code and user code (RFC 8628 §3.1–3.2). Polling waits on real time.
    pub async fn start_device_sign_in(&self) -> Result<PendingDeviceSignIn, Error> {
        self.start_device_sign_in_with_clock(Arc::new(SystemClock))
            .await
    }

    /// The same, with the clock the polling loop waits on (tests pass a [`VirtualClock`]).
    pub async fn start_device_sign_in_with_clock(
        &self,
        clock: Arc<dyn DeviceClock>,
    ) -> Result<PendingDeviceSignIn, Error> {
        // RFC 8628 §4: only a provider that advertises (or is configured with) the endpoint.
        let advertised = self
            .metadata
            .additional_metadata()
            .device_authorization_endpoint
            .is_some();
        let Some(endpoint) = self.device_authorization_endpoint() else {
            // RFC 9700 §2.6 / RFC 8252 §8.3: an endpoint without TLS is refused, not ignored.
            if advertised {
                return Err(Error::Discovery(
                    "the device authorization endpoint must use https".into(),
                ));
            }
            return Err(DeviceError::NotSupported.into());
        };
        if self.metadata.token_endpoint().is_none() {
            return Err(DeviceError::NotSupported.into());
        }
        let trace = FlowTrace::new();
        let auth = self.request_device_code(&endpoint, &trace).await?;
        // RFC 9449 §5: a key for the new account when the provider binds tokens.
        let dpop_key = match self.dpop_wanted() {
            true => Some(DpopKey::generate()?),
            false => None,
        };
        let now = clock.now();
        let qr_uri = auth
            .verification_uri_complete
            .as_ref()
            .unwrap_or(&auth.verification_uri);
        let qr_code = crate::qr::qr_png_data_url(qr_uri.as_str());
        trace.push(shown_step(&auth, qr_code.is_some()));
        Ok(PendingDeviceSignIn {
            provider_id: self.config.id.clone(),
            client_id: self.config.client_id.clone(),
            sends_secret: self.config.client_secret.is_some(),
            device_code: auth.device_code,
            user_code: auth.user_code,
            verification_uri: auth.verification_uri,
            verification_uri_complete: auth.verification_uri_complete,
            qr_code,
            lifetime: auth.expires_in,
            expires_at: now + auth.expires_in,
            expires_at_utc: (self.clock)()
                + chrono::TimeDelta::from_std(auth.expires_in).unwrap_or_default(),
            clock,
            state: Mutex::new(PollState {
                interval: auth.interval,
                last_answer: now,
                polls: 0,
            }),
            trace,
            dpop_key,
        })
    }

    /// RFC 8628 §3.1–3.2: ask for the codes, and record the request and its checks.
    async fn request_device_code(
        &self,
        endpoint: &Url,
        trace: &FlowTrace,
    ) -> Result<authorization::DeviceAuthorization, Error> {
        let http = self.http.with_trace(trace);

        // RFC 8628 §3.1: `client_id` (a public client, RFC 6749 §3.2.1) and `scope`; an OpenID
        // request carries `openid` (OIDC Core §3.1.2.1).
        let mut scopes = self.config.scopes.clone();
        if self.config.protocol == Protocol::OpenidConnect && !scopes.iter().any(|s| s == "openid")
        {
            scopes.insert(0, "openid".into());
        }
        let scope = scopes.join(" ");
        // RFC 8628 §3.1: the client authentication of RFC 6749 §3.2.1, as at the token
        // endpoint (a provider may hand desktop apps a non-confidential secret: Google).
        let request = self
            .client_form(
                endpoint,
                &[("client_id", &self.config.client_id), ("scope", &scope)],
            )
            .map_err(|e| Error::http("device authorization", e))?;
        let response = http.execute(request).await;
        let mut step = FlowStep::new(
            Party::App,
            Party::DeviceAuthorizationEndpoint,
            &format!("POST {}", endpoint.path()),
        )
        .param("client_id", self.config.client_id.clone())
        .param("scope", scope.clone());
        if self.config.client_secret.is_some() {
            step = step.param("client_secret", NEVER_SHOWN);
        }
        let step = step.http(trace.take_http());
        let read = match response {
            Ok(r) => read_authorization(&r).map_err(Error::from),
            Err(e) => Err(Error::http("device authorization", e)),
        };
        trace.push(
            step.check(Check::new(
                "a device code, a user code, an https verification URI and expires_in",
                "RFC 8628 §3.2",
                read.is_ok(),
                read.as_ref().err().map(|e| e.to_string()),
            ))
            .note("No browser on this computer: the person signs in on any device."),
        );
        read
    }

    /// Wait for the person to finish on the other device, then check and load everything as
    /// the code flow does: the ID token (OIDC Core §3.1.3.7, no nonce: see below), userinfo
    /// with the `sub` match (§5.3.4) and the picture. Polls as RFC 8628 §3.4–3.5 say.
    ///
    /// **Cancelling**: drop the future (e.g. `JoinHandle::abort`, or lose a `select!`). No task
    /// is left behind; `pending` stays usable until it expires, and a later call keeps the
    /// interval `slow_down` raised and never polls earlier than it allows.
    pub async fn complete_device_sign_in(
        &self,
        pending: &PendingDeviceSignIn,
    ) -> Result<SignedIn, Error> {
        let response = self.poll_for_tokens(pending).await?;
        // The code flow's checks with one difference: RFC 8628 §3.1 has no nonce parameter,
        // so none was sent and none is compared (OIDC Core §3.1.3.7 step 11 applies "if a
        // nonce value was sent"); the ID token itself is still required (§3.1.3.3).
        let mut tokens = self
            .verify_token_response(&response, Expect::Device, Some(&pending.trace))
            .await?;
        // RFC 9449 §5: the account's tokens work only with its key from now on.
        tokens.dpop_key = pending.dpop_key.clone();
        self.signed_in(tokens, &pending.trace).await
    }
}

/// The step where the person is shown the code (RFC 8628 §3.3).
fn shown_step(auth: &authorization::DeviceAuthorization, has_qr: bool) -> FlowStep {
    let mut shown = FlowStep::new(
        Party::App,
        Party::OtherDevice,
        "Show the code; the person enters it on another device",
    )
    .param("user_code", auth.user_code.clone())
    .param("verification_uri", auth.verification_uri.as_str())
    .param("device_code", short(auth.device_code.secret()))
    .param("expires_in", format!("{} s", auth.expires_in.as_secs()))
    .param("interval", format!("{} s", auth.interval.as_secs()));
    if let Some(c) = &auth.verification_uri_complete {
        shown = shown.param("verification_uri_complete", c.as_str());
    }
    shown
                .check(Check::new(
                    "the device code stays in the app; only the user code is shown",
                    "RFC 8628 §3.3, §5.2",
                    true,
                    None,
                ))
                .check(Check::new(
                    if has_qr {
                        "QR code of the verification URI, made in the core"
                    } else {
                        "no QR code: the URI is too long to scan well"
                    },
                    "RFC 8628 §3.3.1",
                    true,
                    None,
                ))
                .note("The person signs in at the provider on their phone or another computer. Pixie sees none of it.")
}
