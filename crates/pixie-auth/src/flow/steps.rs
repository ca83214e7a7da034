//! The steps of a sign-in as the flow record shows them, built in one place from what each
//! part of the core did: the opening of the authorization request, the redirect and its
//! checks, the token request, userinfo or the user API, and the picture. Values are shown
//! redacted ([`short`], [`NEVER_SHOWN`]).

use url::Url;

use super::{Check, FlowStep, FlowTrace, NEVER_SHOWN, Param, Party, short};
use crate::Error;
use crate::callback::{CallbackError, ValidatedCallback};

/// The steps that open the authorization request in the browser (RFC 8252 §8.12).
pub(crate) fn trace_opening(trace: &FlowTrace, authorization_url: &Url) {
    let mut step = FlowStep::new(
        Party::App,
        Party::Browser,
        "Open the authorization request in the system browser",
    );
    for (name, value) in authorization_url.query_pairs() {
        step = step.param(&name, shown(&name, &value));
    }
    trace.push(
        step.check(Check::new(
            "PKCE S256 challenge sent; the verifier stays in the app",
            "RFC 7636 §4.2–4.3",
            true,
            None,
        ))
        .check(Check::new(
            "System browser, not an embedded webview",
            "RFC 8252 §8.12",
            true,
            None,
        )),
    );
    trace.push(
        FlowStep::new(
            Party::Browser,
            Party::AuthorizationEndpoint,
            &format!("GET {}", authorization_url.path()),
        )
        .note("You sign in at the provider. Pixie sees none of it."),
    );
}

/// The callback step: what arrived (shortened) and which checks it passed, in the order the
/// validator makes them.
pub(crate) fn callback_step(
    raw: &str,
    result: &Result<ValidatedCallback, CallbackError>,
    iss_required: bool,
) -> FlowStep {
    // RFC 8252 §7.3: a loopback redirect comes from the browser straight to the listener;
    // §7.1: a private-use scheme one is handed over by the OS.
    let mut step = if raw.starts_with("http://") {
        FlowStep::new(
            Party::Browser,
            Party::App,
            "Redirect to Pixie's loopback listener (127.0.0.1, this sign-in only)",
        )
    } else {
        FlowStep::new(
            Party::Desktop,
            Party::App,
            "Redirect delivered to the app by the OS",
        )
    };
    step = arrived(step, raw);
    use CallbackError as E;
    let failed_at = match result {
        Ok(_) => usize::MAX,
        Err(E::TooLong(_) | E::Malformed | E::WrongRedirect | E::DuplicateParameter(_)) => 0,
        Err(E::MissingState | E::StateMismatch) => 1,
        Err(E::MissingIssuer | E::IssuerMismatch(_)) => 2,
        Err(E::ProviderError { .. }) => 3,
        Err(E::MissingCode) => 4,
    };
    let detail = result.as_ref().err().map(|e| e.to_string());
    let checks = [
        (
            "exact redirect URI, each parameter once",
            "RFC 8252 §7.1, RFC 6749 §3.1",
        ),
        ("state matches (constant-time)", "RFC 6749 §10.12"),
        (
            if iss_required {
                "iss is the issuer Pixie asked"
            } else {
                "iss, when sent, is the issuer Pixie asked"
            },
            "RFC 9207 §2.4",
        ),
        ("no error response", "RFC 6749 §4.1.2.1"),
        ("an authorization code is present", "RFC 6749 §4.1.2"),
    ];
    for (i, (name, spec)) in checks.iter().enumerate() {
        if i > failed_at {
            break;
        }
        let ok = i < failed_at;
        step = step.check(Check::new(
            name,
            spec,
            ok,
            if ok { None } else { detail.clone() },
        ));
    }
    step
}

/// What arrived on the redirect: its address and the known parameters, shortened; the
/// rest only named.
fn arrived(mut step: FlowStep, raw: &str) -> FlowStep {
    match Url::parse(raw) {
        Ok(url) => {
            step = step.param(
                "uri",
                format!("{}:{}", url.scheme(), url.path())
                    .chars()
                    .take(120)
                    .collect::<String>(),
            );
            for (k, v) in url.query_pairs().take(12) {
                let shown = match k.as_ref() {
                    "code" | "state" => short(&v),
                    "iss" | "error" | "error_description" | "error_uri" => {
                        v.chars().take(200).collect()
                    }
                    _ => "(ignored)".into(),
                };
                step = step.param(&k, shown);
            }
        }
        Err(_) => step = step.param("uri", "(not a URL)"),
    }
    step
}

/// The userinfo step of the flow record (OIDC Core §5.3).
pub(crate) fn userinfo_step<T>(
    path: &str,
    claims: &Result<T, Error>,
    t: &FlowTrace,
    dpop: bool,
) -> FlowStep {
    let scheme = if dpop { "DPoP" } else { "Bearer" };
    FlowStep::new(Party::App, Party::Userinfo, &format!("GET {path}"))
        .param("Authorization", format!("{scheme} {NEVER_SHOWN}"))
        .params((scheme == "DPoP").then(|| Param::new("DPoP", "proof with ath (ES256)")))
        .http(t.take_http())
        .check(Check::new(
            "userinfo sub equals the ID token's sub",
            "OIDC Core §5.3.4",
            !matches!(claims, Err(Error::SubjectMismatch)),
            None,
        ))
        .checks(
            claims
                .as_ref()
                .err()
                .filter(|e| !matches!(e, Error::SubjectMismatch))
                .map(|e| {
                    Check::new(
                        "userinfo answered",
                        "OIDC Core §5.3.2",
                        false,
                        Some(e.to_string()),
                    )
                }),
        )
}

/// The user API step of a plain OAuth 2.0 provider (RFC 6750 §2.1).
pub(crate) fn user_api_step<T>(path: &str, result: &Result<T, Error>, t: &FlowTrace) -> FlowStep {
    FlowStep::new(Party::App, Party::Userinfo, &format!("GET {path}"))
        .param("Authorization", format!("Bearer {NEVER_SHOWN}"))
        .http(t.take_http())
        .check(Check::new(
            "the user API named the account",
            "RFC 6750 §2.1",
            result.is_ok(),
            result.as_ref().err().map(|e| e.to_string()),
        ))
}

/// The picture step: its address without query, and the limits it passed.
pub(crate) fn picture_step<T>(url: &str, result: &Result<T, Error>, t: &FlowTrace) -> FlowStep {
    let shown = match Url::parse(url) {
        Ok(u) => format!("{}{}", u.origin().ascii_serialization(), u.path()),
        Err(_) => "(not a URL)".into(),
    };
    FlowStep::new(Party::App, Party::Picture, "GET picture")
        .param("url", shown)
        .http(t.take_http())
        .check(Check::new(
            "at most 2 MiB and 4096×4096, PNG/JPEG/GIF/WebP by its bytes, never SVG; kept at 192 px; this computer only for a local issuer",
            "Pixie limits, RFC 9700 §2.6",
            result.is_ok(),
            result.as_ref().err().map(|e| e.to_string()),
        ))
        .note("Fetched once by the core; the window gets a data: URL and never touches the network.")
}

/// What the token request of the code flow showed (RFC 6749 §4.1.3).
pub(crate) struct TokenRequest<'a> {
    pub(crate) path: &'a str,
    pub(crate) callback: &'a ValidatedCallback,
    pub(crate) redirect_uri: &'a Url,
    pub(crate) client_id: &'a str,
    /// The DPoP proof, described ([`crate::dpop`]).
    pub(crate) dpop: Vec<Param>,
    /// The check that the token is bound to the key, when one was asked for.
    pub(crate) bound: Option<Check>,
}

/// The token request step of the code flow.
pub(crate) fn token_step<T>(
    req: TokenRequest<'_>,
    response: &Result<T, Error>,
    t: &FlowTrace,
) -> FlowStep {
    FlowStep::new(
        Party::App,
        Party::TokenEndpoint,
        &format!("POST {}", req.path),
    )
    .param("grant_type", "authorization_code")
    .param("code", short(req.callback.code().secret()))
    .param("redirect_uri", req.redirect_uri.as_str())
    .param("client_id", req.client_id.to_owned())
    .param("code_verifier", NEVER_SHOWN)
    .params(req.dpop)
    .http(t.take_http())
    .check(Check::new(
        "the provider accepted the code and the PKCE verifier",
        "RFC 6749 §4.1.3, RFC 7636 §4.6",
        response.is_ok(),
        response.as_ref().err().map(|e| e.to_string()),
    ))
    .checks(req.bound)
    .note("Tokens come back to the core only, never through a browser URL.")
}

/// How a request parameter is shown in the flow record: `state`, `nonce` and `request_uri`
/// by their start, the rest (the challenge, `dpop_jkt`, the redirect URI) in full.
pub(crate) fn shown(name: &str, value: &str) -> String {
    match name {
        "state" | "nonce" | "request_uri" => short(value),
        _ => value.to_owned(),
    }
}
