//! A scripted user agent for tests: what a person's browser does at this provider.
//! Loads the authorization URL, submits the sign-in form and returns the redirect the
//! provider sends the browser to, without following it (feature `scripted-browser`).

use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the sign-in page has no form")]
    NoForm,
    #[error("the provider answered {0} instead of redirecting back")]
    NoRedirect(u16),
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
    Deny,
}

/// Sign in at the provider and return the `Location` it redirects to.
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
    let tx = html
        .split("name=\"tx\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or(BrowserError::NoForm)?;
    let mut fields = vec![("tx", tx)];
    match answer {
        Answer::Preset(id) => fields.extend([("action", "allow"), ("user", id)]),
        Answer::Named(name) => fields.extend([("action", "allow"), ("name", name)]),
        Answer::Deny => fields.push(("action", "deny")),
    }
    let action = page.join("/authorize")?;
    let resp = ua.post(action).form(&fields).send().await?;
    let status = resp.status();
    if !status.is_redirection() {
        return Err(BrowserError::NoRedirect(status.as_u16()));
    }
    resp.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned)
        .ok_or(BrowserError::NoRedirect(status.as_u16()))
}
