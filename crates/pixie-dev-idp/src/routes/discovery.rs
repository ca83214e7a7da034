//! OpenID Connect Discovery 1.0 §4: `/.well-known/openid-configuration`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;
use crate::fault_hooks;

/// OIDC Discovery §3: the provider's metadata.
pub(super) async fn discovery(State(s): AppState) -> Json<Value> {
    let i = &s.issuer;
    let mut doc = json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "userinfo_endpoint": format!("{i}/userinfo"),
        "jwks_uri": format!("{i}/jwks"),
        "revocation_endpoint": format!("{i}/revoke"),
        "end_session_endpoint": format!("{i}/end_session"),
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", crate::device::DEVICE_CODE_GRANT],
        // RFC 8628 §4.
        "device_authorization_endpoint": format!("{i}/device_authorization"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "name", "given_name", "family_name", "email", "email_verified", "picture"],
        "authorization_response_iss_parameter_supported": s.config.issuer_identification,
    });
    // RFC 9126 §5.
    if s.config.par {
        doc["pushed_authorization_request_endpoint"] = json!(format!("{i}/par"));
    }
    // RFC 9449 §5.1.
    if s.config.dpop {
        doc["dpop_signing_alg_values_supported"] = json!([crate::dpop::ALG]);
    }
    fault_hooks::discovery(&s, &mut doc);
    Json(doc)
}
