//! OpenID Connect RP-Initiated Logout 1.0: `/end_session`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Response};

use super::{AppState, redirect_to};
use crate::pages;

/// RP-Initiated Logout §2–3: back to a registered post-logout URI (with `state`), otherwise
/// a page.
pub(super) async fn end_session(
    State(s): AppState,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let target = q.get("post_logout_redirect_uri");
    let registered = q
        .get("client_id")
        .and_then(|cid| s.client(cid))
        .zip(target)
        .is_some_and(|(c, t)| c.post_logout_redirect_uris.iter().any(|u| u == t));
    // Only to a registered post-logout URI (RP-Initiated Logout §3); otherwise a page.
    if let (true, Some(target)) = (registered, target) {
        let mut params = Vec::new();
        if let Some(state) = q.get("state") {
            params.push(("state", state.as_str()));
        }
        return redirect_to(target, &params);
    }
    Html(pages::signed_out()).into_response()
}
