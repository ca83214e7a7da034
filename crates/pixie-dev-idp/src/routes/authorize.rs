//! The authorization endpoint (RFC 6749 §4.1.1–4.1.2): `GET /authorize` checks the request
//! and shows the sign-in page; `POST /authorize` takes the person's answer and sends the
//! browser back with a code or an error.

use std::collections::HashMap;

use axum::extract::{Form, Query, State};
use axum::response::Response;
use chrono::TimeDelta;

use super::{AppState, PersonChoice, error_page, html_page, redirect_to, with_params};
use crate::store::{AuthRequest, CodeGrant};
use crate::users::User;
use crate::{Shared, fault_hooks, pages, random_token};

/// RFC 7636 §4.1 / §4.2: 43..128 characters of the unreserved set.
pub(super) fn is_pkce_value(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The parameters of an authorization response: `base`, then RFC 9207 §2 `iss` (when the
/// provider names itself) and RFC 6749 §4.1.2 `state` (when the request had one).
fn response_params(
    s: &Shared,
    state: Option<&str>,
    base: Vec<(&'static str, String)>,
) -> Vec<(&'static str, String)> {
    let mut params = base;
    if s.config.issuer_identification {
        params.push(("iss", s.issuer.clone()));
    }
    if let Some(state) = state {
        params.push(("state", state.to_owned()));
    }
    params
}

/// RFC 6749 §4.1.2.1: an error sent back to the client's redirect URI.
fn error_params(
    s: &Shared,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> Vec<(&'static str, String)> {
    let base = vec![
        ("error", error.to_owned()),
        ("error_description", description.to_owned()),
    ];
    response_params(s, state, base)
}

/// `params` as the pairs a URL query takes.
fn pairs<'p>(params: &'p [(&'static str, String)]) -> Vec<(&'static str, &'p str)> {
    params.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn redirect_with(uri: &str, params: &[(&'static str, String)]) -> Response {
    redirect_to(uri, &pairs(params))
}

/// `GET /authorize`: check the request (the pushed one, RFC 9126 §4), then ask the person.
pub(super) async fn authorize_page(
    State(s): AppState,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if let Some(resp) = fault_hooks::authorize(&s, &q) {
        return resp;
    }
    let checked = pushed_request(&s, q).and_then(|q| validate(&s, &q));
    let request = match checked {
        Ok(r) => r,
        Err(problem) => return problem.into_response(s.as_ref()),
    };
    // Benchmarks only (`--auto-approve` on the standalone binary; the app never sets it):
    // answer at once, as if the person had clicked Continue.
    if let Some(person) = &s.config.auto_approve {
        return match User::chosen(Some(person), None) {
            Some(user) => answer(&s, request, Some(user), Reply::Redirect),
            None => error_page("Unknown demo person."),
        };
    }
    sign_in_page(&s, request)
}

/// Why an authorization request cannot be used.
#[derive(Debug)]
pub(super) enum Problem {
    /// RFC 6749 §4.1.2.1: an unknown client or redirect URI (or an unusable `request_uri`):
    /// shown to the person, never redirected to.
    Page(&'static str),
    /// An error the client hears about at its redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: &'static str,
    },
}

impl Problem {
    fn into_response(self, s: &Shared) -> Response {
        match self {
            Problem::Page(message) => error_page(message),
            Problem::Redirect {
                redirect_uri,
                state,
                error,
                description,
            } => redirect_with(
                &redirect_uri,
                &error_params(s, state.as_deref(), error, description),
            ),
        }
    }

    /// The error and its words, for an answer on a back channel (RFC 9126 §2.3).
    pub(super) fn words(&self) -> (&'static str, &'static str) {
        match self {
            Problem::Page(message) => ("invalid_request", message),
            Problem::Redirect {
                error, description, ..
            } => (error, description),
        }
    }
}

/// RFC 6749 §4.1.1–4.1.2.1, RFC 7636 §4.4, OIDC Core §3.1.2.1: the checks of an
/// authorization request, sent in the URL or pushed.
pub(super) fn validate(s: &Shared, q: &HashMap<String, String>) -> Result<AuthRequest, Problem> {
    let get = |k: &str| q.get(k).map(String::as_str);
    let Some(client_id) = get("client_id") else {
        return Err(Problem::Page(
            "The request names no client (client_id is missing).",
        ));
    };
    let Some(client) = s.client(client_id) else {
        return Err(Problem::Page(
            "This app is not registered with the provider (unknown client_id).",
        ));
    };
    let Some(redirect_uri) = get("redirect_uri") else {
        return Err(Problem::Page("The request has no redirect_uri."));
    };
    if !client.allows_redirect(redirect_uri) {
        return Err(Problem::Page(
            "The redirect_uri is not registered for this app.",
        ));
    }
    let state = get("state");
    let challenge = check_parameters(&get).map_err(|(error, description)| Problem::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.map(str::to_owned),
        error,
        description,
    })?;
    Ok(AuthRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scope: get("scope").unwrap_or_default().to_owned(),
        state: state.map(str::to_owned),
        nonce: get("nonce").map(str::to_owned),
        code_challenge: challenge.to_owned(),
        // RFC 9449 §10: the code will be bound to this key.
        dpop_jkt: get("dpop_jkt").filter(|_| s.config.dpop).map(str::to_owned),
        created: s.clock.now(),
    })
}

/// The checks of a request from a known client: the response type, the scope and PKCE.
/// Returns the code challenge, or the error and its description.
fn check_parameters<'q>(
    get: &impl Fn(&str) -> Option<&'q str>,
) -> Result<&'q str, (&'static str, &'static str)> {
    // RFC 6749 §4.1.1: only the code flow.
    if get("response_type") != Some("code") {
        return Err((
            "unsupported_response_type",
            "Only the authorization code flow (response_type=code) is supported.",
        ));
    }
    // OIDC Core §3.1.2.1: `openid` makes it an OpenID request.
    if !get("scope")
        .unwrap_or_default()
        .split(' ')
        .any(|s| s == "openid")
    {
        return Err(("invalid_scope", "The openid scope is required."));
    }
    // RFC 7636 §4.4.1 and RFC 9700 §2.1.1: PKCE is required, and only S256.
    let Some(challenge) = get("code_challenge") else {
        return Err((
            "invalid_request",
            "PKCE is required (code_challenge is missing).",
        ));
    };
    if get("code_challenge_method") != Some("S256") {
        return Err((
            "invalid_request",
            "Only code_challenge_method=S256 is accepted.",
        ));
    }
    if !is_pkce_value(challenge) {
        return Err(("invalid_request", "code_challenge is malformed."));
    }
    // RFC 9449 §10: `dpop_jkt` is an RFC 7638 SHA-256 thumbprint, base64url.
    if get("dpop_jkt").is_some_and(|j| {
        j.len() != 43
            || !j
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }) {
        return Err(("invalid_request", "dpop_jkt is malformed."));
    }
    Ok(challenge)
}

/// Keep the request under a one-time transaction id and show the sign-in page.
fn sign_in_page(s: &Shared, request: AuthRequest) -> Response {
    let Ok(tx) = random_token(24) else {
        let params = error_params(
            s,
            request.state.as_deref(),
            "server_error",
            "The provider could not create a request id.",
        );
        return redirect_with(&request.redirect_uri, &params);
    };
    let html = pages::sign_in(&tx, &request.client_id);
    if let Ok(mut store) = s.store.lock() {
        store.prune(s.clock.now());
        store.transactions.insert(tx, request);
    }
    html_page(html, "'self' *", None)
}

/// `POST /authorize`: the person's answer to the request kept under its `tx`.
pub(super) async fn authorize_decision(
    State(s): AppState,
    Form(choice): Form<PersonChoice>,
) -> Response {
    let request = s
        .store
        .lock()
        .ok()
        .and_then(|mut st| st.transactions.remove(choice.tx()));
    let Some(request) = request else {
        return error_page(
            "This sign-in page has expired or was already used. Start again from the app.",
        );
    };
    match choice.answer() {
        Ok(approved) => answer(&s, request, approved, Reply::Page),
        Err(()) => error_page("Unknown demo person."),
    }
}

/// How the authorization response reaches the client.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reply {
    /// A page for the person: it sends the browser on at once and offers "Open …" and the
    /// link to copy for when the browser does not hand the link over (issue 18).
    Page,
    /// A 303 to the redirect URI (`auto_approve`: no person is there).
    Redirect,
}

/// The answer to an authorization request: a code for `approved`, or `access_denied`
/// (RFC 6749 §4.1.2 / §4.1.2.1), sent back to the client's redirect URI.
fn answer(s: &Shared, request: AuthRequest, approved: Option<User>, reply: Reply) -> Response {
    let state = request.state.clone();
    let mut params = match approved {
        // RFC 6749 §4.1.2.1: the person said no.
        None => error_params(
            s,
            state.as_deref(),
            "access_denied",
            "The person declined to sign in.",
        ),
        Some(user) => match issue_code(s, &request, user) {
            Some(code) => response_params(s, state.as_deref(), vec![("code", code)]),
            None => return error_page("The provider could not create a code."),
        },
    };
    fault_hooks::authorization_response(s, &mut params);
    if reply == Reply::Redirect {
        return redirect_with(&request.redirect_uri, &params);
    }
    let Some(link) = with_params(&request.redirect_uri, &pairs(&params)) else {
        return error_page("The redirect URI is not a valid URL.");
    };
    let has_code = params.iter().any(|(k, _)| *k == "code");
    // The link holds the code: it is on this page only (no-store, no referrer), never logged.
    html_page(
        pages::handoff(link.as_str(), &request.client_id, has_code),
        "'none'",
        Some(pages::HANDOFF_SCRIPT),
    )
}

/// RFC 6749 §4.1.2: a new one-time code for `user`, bound to the request.
fn issue_code(s: &Shared, request: &AuthRequest, user: User) -> Option<String> {
    let code = random_token(32).ok()?;
    let now = s.clock.now();
    let grant = CodeGrant {
        user,
        auth_time: now,
        expires: now + TimeDelta::from_std(s.config.code_ttl).unwrap_or(TimeDelta::seconds(60)),
        request: request.clone(),
    };
    s.store.lock().ok()?.codes.insert(code.clone(), grant);
    Some(code)
}

/// The parameters of the authorization request at `/authorize`: the query itself, or, when
/// it names a `request_uri`, the pushed ones (RFC 9126 §4): used once, within their life,
/// by the client that pushed them, and never mixed with parameters in the URL.
fn pushed_request(
    s: &Shared,
    q: HashMap<String, String>,
) -> Result<HashMap<String, String>, Problem> {
    let Some(request_uri) = q.get("request_uri") else {
        return Ok(q);
    };
    // RFC 9126 §4: the browser carries `client_id` and `request_uri`, nothing more.
    if q.keys().any(|k| k != "client_id" && k != "request_uri") {
        return Err(Problem::Page(
            "A pushed sign-in request cannot be mixed with other parameters in the URL.",
        ));
    }
    // RFC 9126 §7.3: a request_uri is used once.
    let pushed = s
        .store
        .lock()
        .ok()
        .and_then(|mut st| st.pushed.remove(request_uri));
    let Some(pushed) = pushed else {
        return Err(Problem::Page(
            "This sign-in request is unknown or was already used (invalid_request_uri). Start again from the app.",
        ));
    };
    // RFC 9126 §4: the client_id must be the one that pushed the request.
    if q.get("client_id") != Some(&pushed.client_id) {
        return Err(Problem::Page(
            "This sign-in request belongs to another app (client_id does not match).",
        ));
    }
    // RFC 9126 §2.2 `expires_in`; the redirect URI was checked when the request was pushed,
    // so the client can be told at it.
    if pushed.expires <= s.clock.now() || fault_hooks::request_uri_expired(s) {
        return Err(Problem::Redirect {
            redirect_uri: pushed
                .params
                .get("redirect_uri")
                .cloned()
                .unwrap_or_default(),
            state: pushed.params.get("state").cloned(),
            error: "invalid_request_uri",
            description: "The sign-in request has expired. Start again from the app.",
        });
    }
    Ok(pushed.params)
}

#[cfg(test)]
mod tests {
    use crate::config::ClientRegistration;

    #[test]
    fn loopback_redirects_match_any_port_but_nothing_else() {
        let c = ClientRegistration::pixie();
        assert!(c.allows_redirect("dev.pixie.app:/oauth/callback/demo"));
        assert!(c.allows_redirect("http://127.0.0.1:51234/oauth/callback/demo"));
        assert!(!c.allows_redirect("http://127.0.0.1:51234/other"));
        assert!(!c.allows_redirect("http://localhost:51234/oauth/callback/demo"));
        // Another provider's callback, or the one once shared by all (RFC 9700 §4.4).
        assert!(!c.allows_redirect("dev.pixie.app:/oauth/callback/x"));
        assert!(!c.allows_redirect("dev.pixie.app:/oauth/callback"));
        assert!(!c.allows_redirect("http://127.0.0.1:51234/oauth/callback"));
        assert!(!c.allows_redirect("https://evil.example/oauth/callback"));
    }
}
