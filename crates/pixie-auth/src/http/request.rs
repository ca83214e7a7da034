//! The requests the core builds itself (those `openidconnect` does not build for it): the
//! user API and discovery GETs, pictures, and the form POSTs of revocation, pushed
//! authorization and the device flow. One builder, so every one of them gets the same
//! headers, the same URL handling and the same client authentication.

use base64::Engine;
use openidconnect::HttpRequest;
use openidconnect::http::{HeaderName, HeaderValue, Method, header};
use url::Url;

use super::HttpError;

/// A request being built. Errors are kept until [`Request::build`].
pub(crate) struct Request {
    method: Method,
    url: String,
    headers: Vec<(HeaderName, String)>,
    body: Vec<u8>,
}

impl Request {
    /// `GET url`.
    pub(crate) fn get(url: &Url) -> Self {
        Self {
            method: Method::GET,
            url: url.as_str().to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// `POST url` with `fields` form-encoded (RFC 6749 Appendix B) and JSON asked back
    /// (GitHub answers form-encoded otherwise).
    pub(crate) fn form_post(url: &Url, fields: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish()
            .into_bytes();
        Self {
            method: Method::POST,
            url: url.as_str().to_owned(),
            headers: vec![(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded".into(),
            )],
            body,
        }
        .accept("application/json")
    }

    /// The `Accept` header.
    pub(crate) fn accept(mut self, types: &str) -> Self {
        self.headers.push((header::ACCEPT, types.to_owned()));
        self
    }

    /// RFC 6750 §2.1: the access token as a bearer credential.
    pub(crate) fn bearer(mut self, token: &str) -> Self {
        self.headers
            .push((header::AUTHORIZATION, format!("Bearer {token}")));
        self
    }

    /// RFC 6749 §2.3.1: HTTP Basic client authentication, each part form-encoded first.
    pub(crate) fn basic(mut self, client_id: &str, secret: &str) -> Self {
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", enc(client_id), enc(secret));
        let value = base64::engine::general_purpose::STANDARD.encode(pair);
        self.headers
            .push((header::AUTHORIZATION, format!("Basic {value}")));
        self
    }

    /// The request, or why it cannot be sent. The error never quotes a header's value (a
    /// token or a secret).
    pub(crate) fn build(self) -> Result<HttpRequest, HttpError> {
        let mut request = HttpRequest::new(self.body);
        *request.method_mut() = self.method;
        *request.uri_mut() = self
            .url
            .parse()
            .map_err(|_| HttpError::Other("the endpoint is not a valid URL".into()))?;
        for (name, value) in self.headers {
            let value = HeaderValue::from_str(&value).map_err(|_| {
                HttpError::Other(format!("a value for the `{name}` header is not valid"))
            })?;
            request.headers_mut().insert(name, value);
        }
        Ok(request)
    }
}

/// A GET with an optional bearer token, as JSON bytes. For discovery that cannot go through
/// `openidconnect` (a multi-tenant issuer) and for OAuth 2.0 user APIs.
pub(crate) async fn get_json(
    http: &super::HttpClient,
    url: &Url,
    bearer: Option<&str>,
) -> Result<openidconnect::HttpResponse, HttpError> {
    let mut request = Request::get(url).accept("application/json");
    if let Some(token) = bearer {
        request = request.bearer(token);
    }
    http.execute(request.build()?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_post_carries_its_fields_and_asks_for_json() {
        let url = Url::parse("https://id.example/revoke").unwrap();
        let r = Request::form_post(&url, &[("token", "a b&c"), ("client_id", "pixie")])
            .basic("pixie app", "s:cret")
            .build()
            .unwrap();
        assert_eq!(r.method(), Method::POST);
        assert_eq!(r.body(), b"token=a+b%26c&client_id=pixie");
        let h = r.headers();
        assert_eq!(h[header::ACCEPT], "application/json");
        assert_eq!(h[header::CONTENT_TYPE], "application/x-www-form-urlencoded");
        // RFC 6749 §2.3.1: "pixie+app:s%3Acret", base64.
        assert_eq!(h[header::AUTHORIZATION], "Basic cGl4aWUrYXBwOnMlM0FjcmV0");
    }

    #[test]
    fn a_bad_header_value_is_an_error_that_does_not_quote_it() {
        let url = Url::parse("https://id.example/user").unwrap();
        let err = Request::get(&url).bearer("tok\nen").build().unwrap_err();
        assert!(!err.to_string().contains("tok"), "{err}");
    }
}
