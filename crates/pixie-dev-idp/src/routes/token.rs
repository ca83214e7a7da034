//! The token endpoint (RFC 6749 §3.2): the authorization code grant with PKCE (§4.1.3,
//! RFC 7636 §4.6), the refresh token grant with rotation (§6, RFC 9700 §4.14.2) and the
//! device code grant (RFC 8628 §3.4).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::authorize::is_pkce_value;
use super::{
    AppState, Refusal, invalid_grant, no_store, registered_client, server_error, token_error,
};
use crate::claims::{self, IdTokenFor};
use crate::store::{AccessGrant, CodeGrant, RefreshGrant, token_key};
use crate::users::User;
use crate::{Shared, dpop, fault_hooks, random_token};

/// `POST /token`: the client, then the grant its `grant_type` names.
pub(super) async fn token(
    State(s): AppState,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) == Some("authorization_code") {
        s.count_code_exchange();
    }
    let client_id = match registered_client(&s, &headers, &form) {
        Ok(c) => c,
        Err(refusal) => return refusal.into_response(),
    };
    if let Some(resp) = fault_hooks::token(&s).await {
        return resp;
    }
    // RFC 9449 §5: a proof, when sent, binds the tokens to its key.
    let htu = format!("{}/token", s.issuer);
    let expect = dpop::Expect {
        method: "POST",
        htu: &htu,
        access_token: None,
    };
    let jkt = match dpop::check(&s, &headers, &expect) {
        Ok(jkt) => jkt,
        Err(e) => return dpop::token_refusal(&s, e),
    };
    let jkt = jkt.as_deref();
    let response = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => code_grant(&s, &client_id, &form, jkt),
        Some("refresh_token") => refresh_grant(&s, &client_id, &form, jkt),
        Some(crate::device::DEVICE_CODE_GRANT) => {
            super::device::device_grant(&s, &client_id, &form, jkt)
        }
        Some(_) => token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Only authorization_code and refresh_token are supported.",
        ),
        None => token_error(StatusCode::BAD_REQUEST, "invalid_request", "No grant_type."),
    };
    s.persist();
    fault_hooks::token_answered(&s).await;
    response
}

/// RFC 6749 §4.1.3: exchange a code for tokens (bound to `jkt`, the proof's key, if any).
fn code_grant(
    s: &Shared,
    client_id: &str,
    form: &HashMap<String, String>,
    jkt: Option<&str>,
) -> Response {
    let Some(code) = form.get("code") else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "No code.");
    };
    let grant = match take_code(s, code) {
        Ok(g) => g,
        Err(refusal) => return refusal.into_response(),
    };
    if let Err(refusal) = check_code_grant(s, &grant, client_id, form) {
        return refusal.into_response();
    }
    // RFC 9449 §10: a code asked for with `dpop_jkt` goes only with a proof of that key.
    if let Some(bound) = &grant.request.dpop_jkt
        && jkt != Some(bound.as_str())
    {
        return Refusal::bad(
            "invalid_dpop_proof",
            "The DPoP proof's key is not the one the authorization request named (dpop_jkt).",
        )
        .into_response();
    }
    let Ok(family) = random_token(12) else {
        return server_error("RNG.").into_response();
    };
    if let Ok(mut store) = s.store.lock() {
        store.used_codes.insert(code.clone(), family.clone());
    }
    issue_tokens(
        s,
        &Issue {
            client_id,
            user: &grant.user,
            scope: &grant.request.scope,
            family: &family,
            auth_time: grant.auth_time,
            nonce: grant.request.nonce.as_deref(),
            code: Some(code),
            jkt,
        },
    )
}

/// RFC 6749 §4.1.2: a code is single-use; a second use revokes what the first issued.
fn take_code(s: &Shared, code: &str) -> Result<CodeGrant, Refusal> {
    let Ok(mut store) = s.store.lock() else {
        return Err(server_error("Store."));
    };
    if let Some(family) = store.used_codes.get(code).cloned() {
        store.revoke_family(&family);
        return Err(invalid_grant(
            "This code was already used; its tokens are now revoked.",
        ));
    }
    store
        .codes
        .remove(code)
        .ok_or_else(|| invalid_grant("Unknown code."))
}

/// A code is bound to its lifetime, its client, its redirect URI (RFC 6749 §4.1.3) and its
/// challenge (RFC 7636 §4.6).
fn check_code_grant(
    s: &Shared,
    grant: &CodeGrant,
    client_id: &str,
    form: &HashMap<String, String>,
) -> Result<(), Refusal> {
    if grant.expires <= s.clock.now() {
        return Err(invalid_grant("The code has expired."));
    }
    if grant.request.client_id != client_id {
        return Err(invalid_grant("The code was issued to another client."));
    }
    if form.get("redirect_uri") != Some(&grant.request.redirect_uri) {
        return Err(invalid_grant(
            "redirect_uri does not match the authorization request.",
        ));
    }
    let Some(verifier) = form.get("code_verifier") else {
        return Err(Refusal::bad(
            "invalid_request",
            "PKCE code_verifier is required.",
        ));
    };
    // RFC 7636 §4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let matches: bool = computed
        .as_bytes()
        .ct_eq(grant.request.code_challenge.as_bytes())
        .into();
    if !is_pkce_value(verifier) || !matches {
        return Err(invalid_grant("PKCE verification failed."));
    }
    Ok(())
}

/// RFC 6749 §6: new tokens for a refresh token, which is rotated away.
fn refresh_grant(
    s: &Shared,
    client_id: &str,
    form: &HashMap<String, String>,
    jkt: Option<&str>,
) -> Response {
    let Some(presented) = form.get("refresh_token") else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "No refresh_token.",
        );
    };
    let grant = match rotate(s, presented, client_id, jkt) {
        Ok(g) => g,
        Err(refusal) => return refusal.into_response(),
    };
    issue_tokens(
        s,
        &Issue {
            client_id,
            user: &grant.user,
            scope: &grant.scope,
            family: &grant.family,
            auth_time: grant.auth_time,
            nonce: None,
            code: None,
            // RFC 9449 §5: a bound refresh token keeps its key.
            jkt: grant.jkt.as_deref().or(jkt),
        },
    )
}

/// Take a live refresh token of `client_id` (and of the key `jkt`, when it is bound) out of
/// the store and remember it as rotated.
fn rotate(
    s: &Shared,
    presented: &str,
    client_id: &str,
    jkt: Option<&str>,
) -> Result<RefreshGrant, Refusal> {
    let Ok(mut store) = s.store.lock() else {
        return Err(server_error("Store."));
    };
    // RFC 9700 §4.14.2: a rotated refresh token used again means it leaked: revoke the family.
    let key = token_key(presented);
    if let Some(family) = store.rotated.get(&key).cloned() {
        store.revoke_family(&family);
        return Err(invalid_grant(
            "This refresh token was already used; the session is revoked.",
        ));
    }
    let Some(grant) = store.refresh.remove(&key) else {
        return Err(invalid_grant("Unknown or revoked refresh token."));
    };
    if grant.client_id != client_id {
        store.refresh.insert(key, grant);
        return Err(invalid_grant(
            "The refresh token was issued to another client.",
        ));
    }
    // RFC 9449 §5: a public client's bound refresh token goes only with a proof of its key;
    // a thief's attempt leaves it where it was.
    if grant.jkt.is_some() && grant.jkt.as_deref() != jkt {
        store.refresh.insert(key, grant);
        return Err(Refusal::bad(
            "invalid_dpop_proof",
            "The refresh token is bound to another DPoP key.",
        ));
    }
    store.rotated.insert(key, grant.family.clone());
    Ok(grant)
}

/// What a set of tokens is issued for.
pub(crate) struct Issue<'a> {
    pub client_id: &'a str,
    pub user: &'a User,
    pub scope: &'a str,
    /// The refresh-token family (one per sign-in).
    pub family: &'a str,
    pub auth_time: DateTime<Utc>,
    pub nonce: Option<&'a str>,
    /// The code exchanged, if any (`c_hash`).
    pub code: Option<&'a str>,
    /// RFC 9449 §6.1: the DPoP key the tokens are bound to (`jkt`), if any.
    pub jkt: Option<&'a str>,
}

/// RFC 6749 §5.1: an access token, a refresh token and an ID token (OIDC Core §3.1.3.3).
pub(crate) fn issue_tokens(s: &Shared, issue: &Issue<'_>) -> Response {
    let (Ok(access), Ok(refresh)) = (random_token(32), random_token(32)) else {
        return server_error("RNG.").into_response();
    };
    let now = s.clock.now();
    let access_ttl = TimeDelta::from_std(s.config.access_token_ttl).unwrap_or(TimeDelta::hours(1));
    let id_ttl = TimeDelta::from_std(s.config.id_token_ttl).unwrap_or(TimeDelta::minutes(10));
    let id_token = claims::signed_id_token(
        s,
        &IdTokenFor {
            client_id: issue.client_id,
            user: issue.user,
            auth_time: issue.auth_time,
            nonce: issue.nonce,
            access_token: &access,
            code: issue.code,
            now,
            ttl: id_ttl,
        },
    );
    let id_token = match id_token {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "could not sign ID token");
            return server_error("Signing failed.").into_response();
        }
    };
    remember_tokens(s, issue, &access, &refresh, now + access_ttl);
    // RFC 9449 §5: a bound access token is a DPoP token.
    let token_type = match issue.jkt {
        Some(_) => fault_hooks::token_type(s, "DPoP"),
        None => "Bearer",
    };
    no_store(
        Json(json!({
            "access_token": access,
            "token_type": token_type,
            "expires_in": access_ttl.num_seconds(),
            "refresh_token": refresh,
            "id_token": id_token,
            "scope": issue.scope,
        }))
        .into_response(),
    )
}

/// Keep the access token and the refresh token (by its hash) for later requests.
fn remember_tokens(
    s: &Shared,
    issue: &Issue<'_>,
    access: &str,
    refresh: &str,
    expires: DateTime<Utc>,
) {
    let Ok(mut store) = s.store.lock() else {
        return;
    };
    store.access.insert(
        access.to_owned(),
        AccessGrant {
            client_id: issue.client_id.to_owned(),
            user: issue.user.clone(),
            family: issue.family.to_owned(),
            expires,
            jkt: issue.jkt.map(str::to_owned),
        },
    );
    store.refresh.insert(
        token_key(refresh),
        RefreshGrant {
            client_id: issue.client_id.to_owned(),
            user: issue.user.clone(),
            scope: issue.scope.to_owned(),
            family: issue.family.to_owned(),
            auth_time: issue.auth_time,
            // RFC 9449 §5: every client here is public, so its refresh token is bound too.
            jkt: issue.jkt.map(str::to_owned),
        },
    );
}
