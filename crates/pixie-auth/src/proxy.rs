//! Which requests may go through a proxy. The person's proxy variables (`HTTP_PROXY`,
//! `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`, in either case) are honoured for providers on the
//! network, and never for loopback: a loopback issuer talks plain `http` (RFC 8252 §8.3), so
//! a proxy would receive the code, the verifier and the tokens in clear text.

use reqwest::{NoProxy, Proxy};
use url::{Host, Url};

/// The proxy variables, read once. Tests build their own instead of changing the process
/// environment.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    http: Option<String>,
    https: Option<String>,
    all: Option<String>,
    no_proxy: Option<String>,
}

impl std::fmt::Debug for ProxySettings {
    // A proxy URL may carry a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxySettings")
            .field("http", &self.http.is_some())
            .field("https", &self.https.is_some())
            .field("all", &self.all.is_some())
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

impl ProxySettings {
    /// From the process environment.
    pub fn from_env() -> Self {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// From any lookup of variable names; lower case wins over upper case, as in curl.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Self {
        let var = |lower: &str| {
            get(lower)
                .or_else(|| get(&lower.to_ascii_uppercase()))
                .filter(|v| !v.trim().is_empty())
        };
        Self {
            http: var("http_proxy"),
            https: var("https_proxy"),
            all: var("all_proxy"),
            no_proxy: var("no_proxy"),
        }
    }

    /// The proxies for reqwest: each one refuses loopback destinations.
    pub(crate) fn proxies(&self) -> Vec<Proxy> {
        let mut out = Vec::new();
        for (name, scheme, value) in [
            ("HTTP_PROXY", Some("http"), &self.http),
            ("HTTPS_PROXY", Some("https"), &self.https),
            ("ALL_PROXY", None, &self.all),
        ] {
            let Some(value) = value else { continue };
            let Some(proxy) = Url::parse(value)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"))
            else {
                // reqwest ignores a proxy it cannot use, too; the value is not logged (it may
                // hold a password).
                tracing::warn!(variable = name, "ignoring a proxy setting Pixie cannot use");
                continue;
            };
            let p = Proxy::custom(move |url: &Url| {
                // RFC 8252 §8.3: loopback traffic never leaves the machine, proxy or not.
                if is_loopback_host(url) {
                    return None;
                }
                scheme
                    .is_none_or(|s| s == url.scheme())
                    .then(|| proxy.clone())
            });
            out.push(p.no_proxy(self.no_proxy.as_deref().and_then(NoProxy::from_string)));
        }
        out
    }
}

/// 127.0.0.0/8, ::1 (and IPv4-mapped loopback), `localhost` and its subdomains (RFC 6761 §6.3).
pub fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => {
            ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cases_are_read_and_lower_case_wins() {
        let vars = [
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "http://lower:1"),
            ("ALL_PROXY", "http://all:1"),
            ("NO_PROXY", "corp.example"),
            ("https_proxy", " "),
        ];
        let s = ProxySettings::from_vars(|n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        });
        assert_eq!(s.http.as_deref(), Some("http://lower:1"));
        assert_eq!(s.https, None);
        assert_eq!(s.all.as_deref(), Some("http://all:1"));
        assert_eq!(s.no_proxy.as_deref(), Some("corp.example"));
        assert_eq!(s.proxies().len(), 2);
        assert!(!format!("{s:?}").contains("lower"));
    }

    #[test]
    fn loopback_hosts() {
        for yes in [
            "http://127.0.0.1/",
            "http://127.9.8.7:1/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://id.localhost/",
        ] {
            assert!(is_loopback_host(&Url::parse(yes).unwrap()), "{yes}");
        }
        for no in [
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost.example/",
            "https://example.com/",
        ] {
            assert!(!is_loopback_host(&Url::parse(no).unwrap()), "{no}");
        }
    }
}
