//! The pages of a sign-in on another device (RFC 8628 §3.3): enter the code, choose who to
//! be, done. Every value is escaped.

use crate::pages::{BADGE, choose_person, escape, page};

/// Ask for the code the device shows (a GET form: `/device?user_code=…` is also what
/// `verification_uri_complete` opens).
pub fn enter_code(typed: Option<&str>, problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| format!("<p role=\"alert\"><strong>{}</strong></p>", escape(p)))
        .unwrap_or_default();
    page(
        "Connect a device · Pixie demo provider",
        &format!(
            "{BADGE}<h1>Connect a device</h1>\
             <p>Enter the code shown on the device you are signing in to.</p>{problem}\
             <form method=\"get\" action=\"/device\">\
             <label for=\"user_code\">Code</label>\
             <input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"{typed}\" maxlength=\"16\" \
             autocomplete=\"one-time-code\" autocapitalize=\"characters\" spellcheck=\"false\" placeholder=\"XXXX-XXXX\" autofocus>\
             <div class=\"actions\"><button type=\"submit\" class=\"primary\">Next</button></div></form>",
            typed = escape(typed.unwrap_or_default()),
        ),
    )
}

/// Choose who to be, with the code repeated so the person can compare it with the device's
/// (RFC 8628 §5.4, remote phishing).
pub fn choose(tx: &str, client_id: &str, user_code: &str) -> String {
    page(
        "Connect a device · Pixie demo provider",
        &format!(
            "{BADGE}<h1>Sign in to {client} on your device</h1>\
             <p>Only continue if your device shows the code <strong id=\"device-code\">{code}</strong> \
             and you started this sign-in yourself.</p>\
             <form method=\"post\" action=\"/device\">{form}</form>",
            client = escape(client_id),
            code = escape(user_code),
            form = choose_person(tx),
        ),
    )
}

/// The end of the verification: signed in (or not); the device carries on by itself, so
/// the page sends the person back to it.
pub fn done(approved: bool, message: &str) -> String {
    let (title, last) = if approved {
        (
            "Device connected",
            "You can close this page and go back to Pixie.",
        )
    } else {
        ("Device not connected", "You can close this tab.")
    };
    page(
        &format!("{title} · Pixie demo provider"),
        &format!(
            "{BADGE}<h1 id=\"device-result\" data-approved=\"{approved}\">{}</h1><p>{}</p><p id=\"device-next\">{last}</p>",
            escape(title),
            escape(message)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_value() {
        assert!(!enter_code(Some("\"><script>"), Some("<b>")).contains("<script>"));
        let p = choose("\"><x", "<client>", "<code>");
        assert!(!p.contains("<client>") && !p.contains("<code>") && !p.contains("\"><x"));
        assert!(!done(false, "<b>").contains("<b>"));
    }

    #[test]
    fn the_last_page_sends_the_person_back_to_pixie() {
        assert!(
            done(true, "You're signed in.")
                .contains("You can close this page and go back to Pixie")
        );
        assert!(!done(false, "You declined.").contains("go back to Pixie"));
    }
}
