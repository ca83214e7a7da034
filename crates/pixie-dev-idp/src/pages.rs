//! The HTML a person sees at the demo provider. Every value is escaped.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::users::PRESET_USERS;

/// The badge at the top of every page.
pub(crate) const BADGE: &str = "<span class=\"badge\">Local demo provider</span>";

/// HTML-escape `s` for text and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --accent: #6d4aff; --fg: #1d1b29; --muted: #5f5b73; --bg: #f6f5fb; --card: #fff; --line: #dedbea; }
@media (prefers-color-scheme: dark) { :root { --fg: #ecebf5; --muted: #aaa6c0; --bg: #15141c; --card: #201e2a; --line: #393548; } }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--fg);
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Cantarell, "DejaVu Sans", sans-serif; }
main { width: min(420px, 92vw); background: var(--card); border: 1px solid var(--line); border-radius: 16px; padding: 28px; box-shadow: 0 10px 30px rgb(0 0 0 / .08); }
h1 { font-size: 1.3rem; margin: 0 0 4px; }
p { color: var(--muted); margin: 0 0 18px; }
fieldset { border: 0; padding: 0; margin: 0 0 14px; display: grid; gap: 8px; }
label.person { display: flex; gap: 10px; align-items: center; padding: 10px 12px; border: 1px solid var(--line); border-radius: 10px; cursor: pointer; }
label.person:has(input:checked) { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
input[type=text] { width: 100%; padding: 10px 12px; border-radius: 10px; border: 1px solid var(--line); background: transparent; color: inherit; font: inherit; }
.actions { display: flex; gap: 10px; margin-top: 18px; }
button { flex: 1; padding: 11px; border-radius: 10px; font: inherit; font-weight: 600; cursor: pointer; border: 1px solid var(--line); background: transparent; color: inherit; }
a.button { flex: 1; display: block; text-align: center; text-decoration: none; padding: 11px; border-radius: 10px; font-weight: 600; }
.copy { display: flex; gap: 8px; margin-top: 6px; } .copy input { flex: 1; font-family: ui-monospace, monospace; font-size: .85rem; } .copy button { flex: 0 0 auto; padding: 8px 14px; }
label.field { display: block; margin-top: 18px; color: var(--muted); font-size: .9rem; }
button.primary, a.button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
.badge { display: inline-block; font-size: .75rem; padding: 2px 8px; border-radius: 99px; background: var(--line); color: var(--muted); margin-bottom: 12px; }
"#;

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// CSP Level 3 §8.3: the `'sha256-…'` source that allows exactly the inline `script`.
pub(crate) fn csp_hash(script: &str) -> String {
    format!(
        "sha256-{}",
        STANDARD.encode(Sha256::digest(script.as_bytes()))
    )
}

/// The form's fields for choosing who to be (a preset person or a typed name) and its
/// Deny / Continue buttons, for the request kept under `tx`.
pub(crate) fn choose_person(tx: &str) -> String {
    let mut people = String::new();
    for (i, (id, name)) in PRESET_USERS.iter().enumerate() {
        people.push_str(&format!(
            "<label class=\"person\"><input type=\"radio\" name=\"user\" value=\"{}\"{}> {}</label>",
            escape(id),
            if i == 0 { " checked" } else { "" },
            escape(name)
        ));
    }
    format!(
        "<input type=\"hidden\" name=\"tx\" value=\"{tx}\">\
         <fieldset><legend class=\"sr\">Demo people</legend>{people}</fieldset>\
         <label for=\"name\">Or type any name</label>\
         <input type=\"text\" id=\"name\" name=\"name\" maxlength=\"64\" autocomplete=\"name\" placeholder=\"Your name\">\
         <div class=\"actions\">\
         <button type=\"submit\" name=\"action\" value=\"deny\">Deny</button>\
         <button type=\"submit\" name=\"action\" value=\"allow\" class=\"primary\" autofocus>Continue</button>\
         </div>",
        tx = escape(tx),
    )
}

/// The sign-in page: pick a demo person or type a name; Continue or Deny.
pub fn sign_in(tx: &str, client_id: &str) -> String {
    page(
        "Sign in · Pixie demo provider",
        &format!(
            "{BADGE}<h1>Sign in to {client}</h1>\
             <p>This provider runs on your computer for trying Pixie. No password: choose who to be.</p>\
             <form method=\"post\" action=\"/authorize\">{form}</form>",
            client = escape(client_id),
            form = choose_person(tx),
        ),
    )
}

/// The hand-off page's only script: copy the link (CSP allows it by its hash alone).
pub(crate) const HANDOFF_SCRIPT: &str = "document.getElementById('copy-link').addEventListener('click',function(){\
var f=document.getElementById('handoff-link'),b=this;f.select();\
var done=function(){b.textContent='Copied';};\
if(navigator.clipboard){navigator.clipboard.writeText(f.value).then(done,function(){document.execCommand('copy');done();});}\
else{document.execCommand('copy');done();}});";

/// The name of the app a client id stands for, as the person knows it.
fn app_name(client_id: &str) -> &str {
    if client_id.starts_with("pixie") {
        "Pixie"
    } else {
        client_id
    }
}

/// The last page of a sign-in (RFC 6749 §4.1.2, RFC 8252 §7): the browser is sent on to
/// `link` (the app's redirect URI with the code or the error) at once, and when it does not
/// hand the link to the app, the person can: an "Open …" button and the link to copy.
pub fn handoff(link: &str, client_id: &str, approved: bool) -> String {
    let app = escape(app_name(client_id));
    let link = escape(link);
    let (heading, doing) = if approved {
        ("You're signed in", "handing you back to")
    } else {
        ("You declined", "telling")
    };
    let words = format!(
        "Your browser is {doing} {app}. If {app} did not open, open it here, or copy the link and paste it in {app}."
    );
    let body = format!(
        "{BADGE}<h1 id=\"handoff\" data-approved=\"{approved}\">{heading}</h1><p>{words}</p>\
         <div class=\"actions\"><a class=\"button primary\" id=\"open-app\" href=\"{link}\">Open {app}</a></div>\
         <label class=\"field\" for=\"handoff-link\">The link for {app}</label>\
         <div class=\"copy\"><input type=\"text\" id=\"handoff-link\" readonly value=\"{link}\" spellcheck=\"false\">\
         <button type=\"button\" id=\"copy-link\">Copy</button></div>\
         <script>{HANDOFF_SCRIPT}</script>"
    );
    let title = format!("{heading} · Pixie demo provider");
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"refresh\" content=\"0;url={link}\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(&title)
    )
}

/// The link of the hand-off page's "Open …" button (the client's redirect URI with the
/// code or the error), unescaped as a browser reads it: for scripted people in tests.
pub fn handoff_link(html: &str) -> Option<String> {
    let href = html
        .split("id=\"open-app\" href=\"")
        .nth(1)?
        .split('"')
        .next()?;
    Some(
        href.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// An error the provider cannot send back to the client (RFC 6749 §4.1.2.1: unknown client
/// or redirect URI, so it must not redirect).
pub fn error(message: &str) -> String {
    page(
        "Sign-in error · Pixie demo provider",
        &format!(
            "{BADGE}<h1>This sign-in request can't be used</h1><p>{}</p>",
            escape(message)
        ),
    )
}

/// After RP-initiated logout with no registered way back.
pub fn signed_out() -> String {
    page(
        "Signed out · Pixie demo provider",
        &format!("{BADGE}<h1>You're signed out</h1><p>You can close this tab.</p>"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("<script>\"&'"), "&lt;script&gt;&quot;&amp;&#39;");
        assert!(!sign_in("\"><script>", "x").contains("<script>"));
    }
}
