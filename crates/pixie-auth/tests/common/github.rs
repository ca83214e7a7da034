//! The GitHub REST API as both GitHub-shaped test servers answer it (templates.rs for the
//! web flow, github_device.rs for the device flow): the token they issue, `GET /user` (which
//! wants a User-Agent and that token, as api.github.com does) and the avatar it names.
#![allow(dead_code)] // each test file uses its own subset

use axum::Json;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use pixie_auth::SignedIn;

/// The access token the servers issue (the shape of a GitHub OAuth app's `gho_` token).
pub const ACCESS_TOKEN: &str = "gho_16C7e42F292c6912E7710c838347Ae178B4a";

/// `GET /user` for a server at `base`: the octocat, its avatar on that server.
pub fn user(base: &str, headers: &HeaderMap) -> Response {
    if headers.get(header::USER_AGENT).is_none() {
        return (StatusCode::FORBIDDEN, "Request forbidden by administrative rules. Please make sure your request has a User-Agent header").into_response();
    }
    let bearer = format!("Bearer {ACCESS_TOKEN}");
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        != Some(bearer.as_str())
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Bad credentials"})),
        )
            .into_response();
    }
    Json(
        json!({"login": "octocat", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": format!("{base}/u/583231"), "type": "User", "name": "The Octocat",
        "company": "@github", "email": null}),
    )
    .into_response()
}

/// `GET /u/583231`: the octocat's avatar.
pub async fn avatar() -> Response {
    (
        [(header::CONTENT_TYPE, "image/png")],
        pixie_dev_idp::avatar_png("octocat"),
    )
        .into_response()
}

/// A sign-in through either server ended as the octocat: the user API's id as the subject,
/// no ID token (plain OAuth 2.0), and the avatar re-encoded as a PNG `data:` URL.
pub fn assert_signed_in_as_octocat(done: &SignedIn, what: &str) {
    assert_eq!(done.profile.name, "The Octocat", "{what}");
    assert_eq!(done.profile.subject, "583231", "{what}");
    assert_eq!(done.tokens.subject.as_str(), "583231", "{what}");
    assert!(done.tokens.id_token.is_none(), "{what}");
    assert!(
        done.profile
            .picture_data_url
            .as_deref()
            .is_some_and(|d| d.starts_with("data:image/png;base64,")),
        "{what}: {:?}",
        done.picture_error
    );
}
