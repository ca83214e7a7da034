//! The providers file's tests: templates, mistakes with their place, shared redirects.
use std::path::Path;

use super::*;
use crate::settings::{LogoutHint, Protocol, RedirectMode};

fn p(text: &str) -> Result<Providers, ConfigError> {
    parse(Path::new("providers.toml"), text)
}

#[test]
fn the_example_file_parses() {
    let text = include_str!("../../../../providers.example.toml");
    let file = p(text).unwrap();
    assert!(!file.providers.is_empty());
}

#[test]
fn templates_fill_in_everything_but_the_client() {
    let file = p(r#"
default = "work"

[[provider]]
id = "google"
template = "google"
client_id = "123.apps.googleusercontent.com"
client_secret = "not-really-secret"

[[provider]]
id = "work"
template = "keycloak"
display_name = "Work"
issuer = "https://sso.example.com/realms/staff"
client_id = "pixie"
"#)
    .unwrap();
    assert_eq!(file.default.as_deref(), Some("work"));
    let g = &file.providers[0];
    assert_eq!(g.issuer, "https://accounts.google.com");
    assert_eq!(g.redirect, RedirectMode::Loopback);
    assert_eq!(g.redirect_uri, "http://127.0.0.1/oauth/callback/google");
    assert_eq!(g.display_name, "Google");
    assert!(g.client_secret.is_some());
    assert!(!format!("{g:?}").contains("not-really-secret"));
    let w = &file.providers[1];
    assert_eq!(
        (w.display_name.as_str(), w.redirect),
        ("Work", RedirectMode::DeepLink)
    );
    assert_eq!(w.redirect_uri, "dev.pixie.app:/oauth/callback/work");
    assert!(
        file.providers
            .iter()
            .all(|p| p.shares_redirect_with.is_empty())
    );
}

#[test]
fn mistakes_name_the_file_the_line_and_the_field() {
    let cases: &[(&str, usize, &str)] = &[
        (
            "[[provider]]\nid = \"a\"\nclientid = \"x\"\n",
            3,
            "clientid",
        ),
        ("[[provider]]\nid = \"a\"\n", 1, "client_id"),
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nredirect = \"carrier-pigeon\"\n",
            5,
            "redirect",
        ),
        (
            "[[provider]]\nid = \"a\"\ntemplate = \"okta\"\nclient_id = \"x\"\n",
            2,
            "issuer",
        ),
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"http://id.example\"\n",
            4,
            "issuer",
        ),
        (
            "[[provider]]\nid = \"g\"\ntemplate = \"google\"\nclient_id = \"x\"\nredirect = \"deep-link\"\n",
            5,
            "redirect",
        ),
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nscopes = [\"email\"]\n",
            5,
            "scopes",
        ),
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\n[[provider]]\nid = \"a\"\nclient_id = \"y\"\nissuer = \"https://id.example\"\n",
            6,
            "id",
        ),
        ("default = \"nope\"\n", 1, "default"),
        // Endpoints by hand: complete for the protocol, and https.
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nprotocol = \"oauth2\"\n",
            5,
            "protocol",
        ),
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nauthorization_endpoint = \"https://id.example/auth\"\ntoken_endpoint = \"https://id.example/token\"\n",
            2,
            "jwks_uri",
        ),
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\ntoken_endpoint = \"http://id.example/token\"\n",
            5,
            "token_endpoint",
        ),
        // RFC 9126: `par = "always"` needs a pushed authorization request endpoint.
        (
            "[[provider]]\nid = \"a\"\ntemplate = \"github\"\nclient_id = \"x\"\npar = \"always\"\n",
            5,
            "par",
        ),
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\ndpop = \"sometimes\"\n",
            5,
            "dpop",
        ),
    ];
    for (text, line, field) in cases {
        let e = p(text).unwrap_err();
        assert_eq!(
            (e.line, e.field.as_deref()),
            (*line, Some(*field)),
            "{text}\n{e}"
        );
        assert!(
            e.to_string()
                .starts_with(&format!("providers.toml:{line}:")),
            "{e}"
        );
        assert!(e.to_string().len() < 200, "short enough to read: {e}");
    }
}

#[test]
fn microsoft_and_github_templates() {
    let file = p(r#"
[[provider]]
id = "ms"
template = "microsoft"
client_id = "6731de76-14a6-49ae-97bc-6eba6914391e"

[[provider]]
id = "contoso"
template = "microsoft"
issuer = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
client_id = "x"

[[provider]]
id = "gh"
template = "github"
client_id = "Iv1.abc"
client_secret = "shipped-with-the-app"
authorization_params = { allow_signup = "false" }
"#)
    .unwrap();
    let ms = &file.providers[0];
    assert_eq!(ms.issuer, "https://login.microsoftonline.com/common/v2.0");
    assert!(ms.multi_tenant);
    assert_eq!(ms.redirect, RedirectMode::DeepLink);
    assert!(ms.scopes.iter().any(|s| s == "offline_access"));
    assert!(
        !file.providers[1].multi_tenant,
        "one tenant: the issuer is exact"
    );
    let gh = &file.providers[2];
    assert_eq!(gh.protocol, Protocol::Oauth2);
    assert_eq!(gh.redirect, RedirectMode::Loopback);
    assert_eq!(gh.display_name, "GitHub");
    assert_eq!(
        gh.extra_params,
        [("allow_signup".to_owned(), "false".to_owned())]
    );
}

#[test]
fn the_id_token_goes_to_logout_only_where_the_provider_needs_it() {
    let file = p(r#"
[[provider]]
id = "okta"
template = "okta"
issuer = "https://example.okta.com/oauth2/default"
client_id = "x"

[[provider]]
id = "kc"
template = "keycloak"
issuer = "https://sso.example.com/realms/staff"
client_id = "x"

[[provider]]
id = "own"
issuer = "https://id.example"
client_id = "x"
logout_hint = "id-token"
"#)
    .unwrap();
    let hints: Vec<LogoutHint> = file.providers.iter().map(|p| p.logout_hint).collect();
    assert_eq!(
        hints,
        [
            LogoutHint::IdToken,
            LogoutHint::ClientId,
            LogoutHint::IdToken
        ]
    );
    let e = p("[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nlogout_hint = \"email\"\n").unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (5, Some("logout_hint")),
        "{e}"
    );
}

#[test]
fn a_shared_redirect_uri_is_marked_on_each_provider() {
    let file = p(r#"
[[provider]]
id = "a"
issuer = "https://a.example"
client_id = "x"
redirect_uri = "dev.pixie.app:/oauth/callback"

[[provider]]
id = "b"
issuer = "https://b.example"
client_id = "x"
redirect_uri = "dev.pixie.app:/oauth/callback"

[[provider]]
id = "c"
issuer = "https://c.example"
client_id = "x"

[[provider]]
id = "d"
issuer = "https://d.example"
client_id = "x"
redirect = "loopback"
redirect_uri = "http://127.0.0.1/oauth/callback/c"

[[provider]]
id = "e"
issuer = "https://e.example"
client_id = "x"
redirect = "loopback"
redirect_uri = "http://127.0.0.1/cb"
"#)
    .unwrap();
    let shared: Vec<(&str, Vec<String>)> = file
        .providers
        .iter()
        .map(|p| (p.id.as_str(), p.shares_redirect_with.clone()))
        .collect();
    assert_eq!(
        shared,
        [
            ("a", vec!["b".to_owned()]),
            ("b", vec!["a".to_owned()]),
            ("c", vec![]),
            ("d", vec![]),
            ("e", vec![]),
        ]
    );
    for (text, field) in [
        (
            "[[provider]]\nid = \"a b\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\n",
            "id",
        ),
        (
            "[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nredirect_uri = \"https://evil.example/cb\"\n",
            "redirect_uri",
        ),
    ] {
        assert_eq!(p(text).unwrap_err().field.as_deref(), Some(field), "{text}");
    }
}

#[test]
fn a_misspelt_field_gets_a_suggestion() {
    let e = p("[[provider]]\nid = \"a\"\nclientid = \"x\"\n").unwrap_err();
    assert_eq!(e.message, "unknown field; did you mean `client_id`?");
    let e = p("[[provider]]\nid = \"a\"\ncolour = \"x\"\n").unwrap_err();
    assert!(
        e.message
            .starts_with("unknown field; the fields are id, template"),
        "{e}"
    );
}

#[test]
fn a_loopback_fallback_is_for_deep_link_providers_only() {
    let file = p("[[provider]]\nid = \"a\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nloopback_fallback = true\n\
         [[provider]]\nid = \"b\"\nclient_id = \"x\"\nissuer = \"https://id.example\"\nredirect = \"loopback\"\nloopback_fallback = true\n")
        .unwrap();
    let fallback: Vec<bool> = file.providers.iter().map(|p| p.loopback_fallback).collect();
    assert_eq!(fallback, [true, false]);
}

#[test]
fn a_missing_file_is_not_an_error() {
    assert!(
        load(Path::new("/nonexistent/pixie/providers.toml"))
            .unwrap()
            .is_none()
    );
}
