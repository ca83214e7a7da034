//! The one HTTP client the core uses: rustls, no redirects, a timeout on every request,
//! a size limit on every body, and plain `http` only for loopback addresses.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use url::{Host, Url};

use crate::proxy::ProxySettings;

pub(crate) mod request;

pub(crate) use request::Request;

/// Largest JSON body (discovery, JWKS, token, userinfo) we read.
pub const JSON_LIMIT: usize = 1024 * 1024;
/// Largest profile picture we read.
pub const PICTURE_LIMIT: usize = 2 * 1024 * 1024;

/// Why an HTTP request failed before a response could be judged.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// RFC 8252 §8.3 / RFC 9700 §2.6: only loopback may use plain HTTP.
    #[error("refusing plain http to a non-loopback host: {0}")]
    InsecureUrl(String),
    /// No answer within the client's timeout (10 s for [`HttpClient::new`]).
    #[error("the request timed out")]
    Timeout,
    /// No connection (DNS, TCP, TLS or proxy), or the loopback listener could not bind or
    /// accept; holds the causes, never the URL.
    #[error("could not connect: {0}")]
    Connect(String),
    /// The body was larger than the client's limit ([`JSON_LIMIT`] by default,
    /// [`PICTURE_LIMIT`] for pictures).
    #[error("the response was larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Any other failure (a bad URL or header, a broken response); holds what went wrong, never
    /// the URL.
    #[error("HTTP error: {0}")]
    Other(String),
}

impl HttpError {
    /// Redacted at the source: reqwest's errors quote the request URL (a picture URL, an
    /// endpoint with whatever query it carries), and these words reach the window's details
    /// and the log. Only what went wrong is kept, with its causes.
    fn from_reqwest(err: reqwest::Error) -> Self {
        if err.is_timeout() {
            return HttpError::Timeout;
        }
        let connect = err.is_connect();
        let err = err.without_url();
        let mut text = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        if connect {
            HttpError::Connect(text)
        } else {
            HttpError::Other(text)
        }
    }
}

/// True when a URL may be fetched: `https`, or `http` to a loopback address.
pub fn is_allowed_url(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// HTTP client with the limits above. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    body_limit: usize,
    /// Where to note each request's status and duration (the sign-in's flow trace).
    trace: Option<crate::flow::FlowTrace>,
}

impl HttpClient {
    /// A client with a 10 s per-request timeout and the JSON body limit.
    pub fn new() -> Result<Self, HttpError> {
        Self::with_timeout(Duration::from_secs(10))
    }

    /// A client with the given timeout and the proxy variables of the environment.
    pub fn with_timeout(timeout: Duration) -> Result<Self, HttpError> {
        Self::with_proxies(timeout, &ProxySettings::from_env())
    }

    /// A client with the given timeout and proxy settings. Loopback destinations never go
    /// through a proxy (see [`crate::proxy`]).
    pub fn with_proxies(timeout: Duration, proxies: &ProxySettings) -> Result<Self, HttpError> {
        // reqwest would read the proxy variables itself, loopback included: only ours.
        let mut builder = reqwest::Client::builder().no_proxy();
        for proxy in proxies.proxies() {
            builder = builder.proxy(proxy);
        }
        let inner = builder
            // RFC 9700 §4.11: never follow redirects from the token or userinfo endpoints.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("pixie/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(HttpError::from_reqwest)?;
        Ok(Self {
            inner,
            body_limit: JSON_LIMIT,
            trace: None,
        })
    }

    /// The same client with another body limit (pictures).
    pub fn with_body_limit(&self, limit: usize) -> Self {
        Self {
            inner: self.inner.clone(),
            body_limit: limit,
            trace: self.trace.clone(),
        }
    }

    /// The same client, noting each request in `trace`.
    pub fn with_trace(&self, trace: &crate::flow::FlowTrace) -> Self {
        Self {
            inner: self.inner.clone(),
            body_limit: self.body_limit,
            trace: Some(trace.clone()),
        }
    }

    /// Send one request and read at most `body_limit` bytes of the answer.
    pub async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url = Url::parse(&request.uri().to_string())
            .map_err(|e| HttpError::Other(format!("bad URL: {e}")))?;
        if !is_allowed_url(&url) {
            return Err(HttpError::InsecureUrl(url.origin().ascii_serialization()));
        }
        let (parts, body) = request.into_parts();
        let mut builder = self.inner.request(parts.method, url).body(body);
        for (name, value) in parts.headers.iter() {
            builder = builder.header(name, value);
        }
        let started = std::time::Instant::now();
        let mut response = builder.send().await.map_err(HttpError::from_reqwest)?;
        let limit = self.body_limit;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(HttpError::TooLarge { limit });
        }
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(HttpError::from_reqwest)? {
            if body.len() + chunk.len() > limit {
                return Err(HttpError::TooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        if let Some(trace) = &self.trace {
            trace.record_http(crate::flow::HttpExchange {
                status: status.as_u16(),
                duration: started.elapsed(),
            });
        }
        let mut out = HttpResponse::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_request_never_quotes_its_url() {
        // Nothing listens on port 9 of loopback: a connection error.
        let client = HttpClient::new().unwrap();
        let mut request = HttpRequest::new(Vec::new());
        *request.uri_mut() = "http://127.0.0.1:9/token?code=SECRET-CODE".parse().unwrap();
        let err = client.execute(request).await.unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRET-CODE"), "{text}");
        assert!(!text.contains("127.0.0.1:9"), "{text}");
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "https://accounts.example.com/",
            "http://127.0.0.1:8080/x",
            "http://[::1]:1/",
            "http://localhost:3000/",
        ] {
            assert!(is_allowed_url(&Url::parse(ok).unwrap()), "{ok}");
        }
        for bad in [
            "http://example.com/",
            "http://127.0.0.1.example.com/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
            "dev.pixie.app:/oauth/callback",
        ] {
            assert!(!is_allowed_url(&Url::parse(bad).unwrap()), "{bad}");
        }
    }
}
