//! The places where the misbehaving provider changes an answer. With the `faults` feature
//! they are `crate::faults::hooks`; without it, the no-ops below, so a default build holds no
//! fault code at all.

#[cfg(feature = "faults")]
pub(crate) use crate::faults::hooks::*;
#[cfg(not(feature = "faults"))]
pub(crate) use off::*;

#[cfg(not(feature = "faults"))]
mod off {
    use std::collections::HashMap;
    use std::sync::Arc;

    use axum::response::Response;
    use serde_json::Value;

    use crate::Shared;
    use crate::keys::Keys;

    pub(crate) fn discovery(_: &Shared, _: &mut Value) {}
    pub(crate) fn authorize(_: &Shared, _: &HashMap<String, String>) -> Option<Response> {
        None
    }
    pub(crate) fn authorization_response(_: &Shared, _: &mut Vec<(&'static str, String)>) {}
    pub(crate) async fn token(_: &Shared) -> Option<Response> {
        None
    }
    pub(crate) async fn token_answered(_: &Shared) {}
    pub(crate) fn id_token(_: &Shared, _: &Value, _: &str) -> Option<Result<String, String>> {
        None
    }
    pub(crate) fn userinfo(_: &Shared, _: &mut Value) {}
    pub(crate) fn avatar(_: &Shared) -> Option<Response> {
        None
    }
    pub(crate) fn device_authorization(_: &Shared) -> Option<Response> {
        None
    }
    pub(crate) fn verification_uri(_: &Shared, _: &mut String) {}
    pub(crate) fn device_grant(_: &Shared) -> Option<Response> {
        None
    }
    pub(crate) fn dpop_proof(_: &Shared) -> Option<crate::dpop::rules::ProofError> {
        None
    }
    pub(crate) fn token_type(_: &Shared, wanted: &'static str) -> &'static str {
        wanted
    }
    pub(crate) fn par(_: &Shared) -> Option<Response> {
        None
    }
    pub(crate) fn request_uri_expired(_: &Shared) -> bool {
        false
    }
    pub(crate) fn rotated_key(_: &Shared) -> Option<Arc<Keys>> {
        None
    }
    pub(crate) fn route(
        router: axum::Router<Arc<Shared>>,
        _: &Shared,
    ) -> axum::Router<Arc<Shared>> {
        router
    }
}
