//! A scripted user agent for tests: what a person's browser does at this provider.
//! Loads the authorization URL, submits the sign-in form and returns the link the last page
//! hands to the app ("Open Pixie"), without following it (feature `scripted-browser`).

use url::Url;

/// Why the scripted person could not finish.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// The provider could not be reached, or answered with an error status.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The page has no sign-in form.
    #[error("the sign-in page has no form")]
    NoForm,
    /// The provider answered with this status instead of sending the person back.
    #[error("the provider answered {0} instead of redirecting back")]
    NoRedirect(u16),
    /// A URL that does not parse.
    #[error("bad URL: {0}")]
    Url(#[from] url::ParseError),
}

/// What the person does on the sign-in page.
#[derive(Clone, Debug)]
pub enum Answer<'a> {
    /// Continue as one of the preset people (`ada`, `grace`, `alan`).
    Preset(&'a str),
    /// Continue with a typed name.
    Named(&'a str),
    /// Deny.
    Deny,
}

/// Sign in at the provider and return the link it hands back to the app (the redirect URI
/// with the code or the error).
pub async fn answer(auth_url: &str, answer: Answer<'_>) -> Result<String, BrowserError> {
    let ua = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    // Like a browser, follow redirects between web pages (a provider may send the person
    // on); a redirect to anything else (the app's own scheme) is handed back at once.
    let mut page = Url::parse(auth_url)?;
    let mut resp = ua.get(page.clone()).send().await?;
    for _ in 0..5 {
        if !resp.status().is_redirection() {
            break;
        }
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned)
            .ok_or(BrowserError::NoRedirect(resp.status().as_u16()))?;
        let next = page.join(&location)?;
        if !matches!(next.scheme(), "http" | "https") {
            return Ok(location);
        }
        page = next;
        resp = ua.get(page.clone()).send().await?;
    }
    let html = resp.error_for_status()?.text().await?;
    let tx = form_tx(&html).ok_or(BrowserError::NoForm)?;
    let fields = form_fields(tx, &answer);
    let action = page.join("/authorize")?;
    let resp = ua.post(action).form(&fields).send().await?;
    let status = resp.status();
    // A scripted client may still be answered with a redirect (`auto_approve`).
    if status.is_redirection() {
        return resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned)
            .ok_or(BrowserError::NoRedirect(status.as_u16()));
    }
    if !status.is_success() {
        return Err(BrowserError::NoRedirect(status.as_u16()));
    }
    // The person's way back when the browser does not hand the link over: "Open …".
    let html = resp.text().await?;
    crate::handoff_link(&html).ok_or(BrowserError::NoRedirect(status.as_u16()))
}

/// The one-time id of a page's form for choosing who to be.
fn form_tx(html: &str) -> Option<&str> {
    html.split("name=\"tx\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
}

/// What the person sends from that form.
fn form_fields<'a>(tx: &'a str, answer: &Answer<'a>) -> Vec<(&'static str, &'a str)> {
    let mut fields = vec![("tx", tx)];
    match *answer {
        Answer::Preset(id) => fields.extend([("action", "allow"), ("user", id)]),
        Answer::Named(name) => fields.extend([("action", "allow"), ("name", name)]),
        Answer::Deny => fields.push(("action", "deny")),
    }
    fields
}

/// What the verification page said at the end of a sign-in on another device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceOutcome {
    /// "Device connected": the device's next poll gets tokens.
    Approved,
    /// "Device not connected": declined, or a wrong, expired or used code (the page's words).
    Refused(String),
}

/// Play the person at the verification page of a sign-in on another device (RFC 8628 §3.3):
/// open `verification_uri` (typing `user_code` into its form when given) or
/// `verification_uri_complete` (`user_code: None`), then answer as on the sign-in page.
pub async fn answer_device(
    verification_uri: &str,
    user_code: Option<&str>,
    answer: Answer<'_>,
) -> Result<DeviceOutcome, BrowserError> {
    let ua = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut page = Url::parse(verification_uri)?;
    if let Some(code) = user_code {
        // The code form is a GET form: typing the code is the same request.
        page.query_pairs_mut()
            .clear()
            .append_pair("user_code", code);
    }
    let html = ua
        .get(page.clone())
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let Some(tx) = form_tx(&html) else {
        return Ok(DeviceOutcome::Refused(first_paragraph(&html)));
    };
    let fields = form_fields(tx, &answer);
    let html = ua
        .post(page.join("/device")?)
        .form(&fields)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    if html.contains("data-approved=\"true\"") {
        Ok(DeviceOutcome::Approved)
    } else if html.contains("data-approved=\"false\"") {
        Ok(DeviceOutcome::Refused(first_paragraph(&html)))
    } else {
        Err(BrowserError::NoForm)
    }
}

/// The words of a page's first message (`<strong>` alert or first paragraph), for tests.
fn first_paragraph(html: &str) -> String {
    let after = |tag: &str| html.split(tag).nth(1).and_then(|r| r.split('<').next());
    after("<strong>")
        .or_else(|| after("</h1><p>"))
        .unwrap_or_default()
        .to_owned()
}
