//! The loopback redirect (RFC 8252 §7.3), for providers that accept no private-use scheme
//! (Google's desktop clients): a listener on `127.0.0.1` and an ephemeral port that lives for
//! one sign-in, answers the browser with a small page, and hands the redirect to the same
//! validator as a deep link.

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use url::Url;

use crate::callback::ValidatedCallback;
use crate::http::HttpError;
use crate::{Error, PendingSignIn};

/// The largest request head we read; a browser's is a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;
/// How long one connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long writing an answer may take (a browser that stops reading gets no more).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections read at the same time. More wait in the OS backlog until one is done (each
/// is done within [`READ_TIMEOUT`]), so idle connections cost a bounded amount of memory.
pub const MAX_CONNECTIONS: usize = 16;

/// A listener for one sign-in's redirect.
pub struct LoopbackListener {
    listener: TcpListener,
    redirect_uri: Url,
}

impl std::fmt::Debug for LoopbackListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoopbackListener")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .finish()
    }
}

impl LoopbackListener {
    /// RFC 8252 §7.3 / §8.3: bind the loopback IP literal (never `localhost`, never all
    /// interfaces) on a port the OS picks. `path` is the callback path, e.g. `/oauth/callback`.
    pub async fn bind(path: &str) -> Result<Self, Error> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| Error::http("loopback", HttpError::Connect(e.to_string())))?;
        let port = listener
            .local_addr()
            .map_err(|e| Error::http("loopback", HttpError::Connect(e.to_string())))?
            .port();
        let redirect_uri = Url::parse(&format!("http://127.0.0.1:{port}{path}"))
            .map_err(|e| Error::Config(format!("loopback path `{path}`: {e}")))?;
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    /// The redirect URI to send in the authorization request.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Serve the browser until `handler` says the sign-in is settled. Connections are read
    /// concurrently, each with its own limits ([`READ_TIMEOUT`], [`MAX_HEAD`], at most
    /// [`MAX_CONNECTIONS`] at once), so idle or slow connections never hold up the real
    /// redirect. Requests for other paths (favicon, prefetch) and unreadable ones are answered
    /// here. Each request on the callback path goes to `handler` (one at a time) with the
    /// full redirect URL; its [`Reply`] says what the browser sees and whether to go on.
    ///
    /// Returns the value of the first [`Reply::Finish`], after answering that browser; the
    /// port is closed then, and also when the future is dropped (a task aborted, a sign-in
    /// cancelled).
    pub async fn serve<T, F, Fut>(self, mut handler: F) -> Result<T, Error>
    where
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Reply<T>>,
    {
        let base = format!(
            "{}://{}",
            self.redirect_uri.scheme(),
            self.redirect_uri.authority()
        );
        let path: std::sync::Arc<str> = self.redirect_uri.path().into();
        // Dropping the set (when this future ends or is dropped) aborts every reader.
        let mut reading: JoinSet<Option<(TcpStream, String)>> = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept(), if reading.len() < MAX_CONNECTIONS => {
                    let (stream, _) = accepted
                        .map_err(|e| Error::http("loopback", HttpError::Connect(e.to_string())))?;
                    let (path, base) = (path.clone(), base.clone());
                    reading.spawn(read_callback(stream, path, base));
                }
                Some(read) = reading.join_next() => {
                    let Ok(Some((mut stream, url))) = read else { continue };
                    match handler(url).await {
                        Reply::Listen(answer) => {
                            // Answered aside, so a browser that does not read cannot stall us.
                            reading.spawn(async move {
                                answer.write(&mut stream).await;
                                None
                            });
                        }
                        Reply::Finish(answer, value) => {
                            answer.write(&mut stream).await;
                            return Ok(value);
                        }
                    }
                }
            }
        }
    }

    /// Wait for the pending sign-in's redirect. Redirects that do not belong to it (wrong
    /// `state`) are answered and ignored; the first that does is answered with a page saying
    /// how it went, and the listener closes (it is consumed).
    pub async fn accept(self, pending: &PendingSignIn) -> Result<ValidatedCallback, Error> {
        self.serve(|url| {
            let reply = match pending.validate_callback(&url) {
                Ok(callback) => Reply::Finish(Answer::SignedIn, Ok(callback)),
                Err(e) if e.is_unrelated() => Reply::Listen(Answer::Ignored),
                Err(e) => {
                    let error = Error::from(e);
                    Reply::Finish(Answer::Failed(error.user_message()), Err(error))
                }
            };
            std::future::ready(reply)
        })
        .await?
    }
}

/// What [`LoopbackListener::serve`]'s handler decides for one redirect.
#[derive(Debug)]
pub enum Reply<T> {
    /// Answer the browser and keep listening (the redirect belongs to no sign-in in
    /// progress: usually [`Answer::Ignored`]).
    Listen(Answer),
    /// Answer the browser, close the port and return `T` from `serve`.
    Finish(Answer, T),
}

/// The page the browser gets after its redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// "You're signed in to Pixie. You can close this tab."
    SignedIn,
    /// The redirect belongs to no sign-in in progress.
    Ignored,
    /// The sign-in failed; the plain-words reason (escaped on the page).
    Failed(String),
}

impl Answer {
    /// Status, title and message of the page.
    fn parts(&self) -> (u16, &'static str, &str) {
        match self {
            Answer::SignedIn => (
                200,
                "Signed in to Pixie",
                "You're signed in to Pixie. You can close this tab.",
            ),
            Answer::Ignored => (
                400,
                "Pixie",
                "This link doesn't belong to a sign-in in progress, so Pixie ignored it.",
            ),
            Answer::Failed(reason) => (200, "Pixie couldn't sign you in", reason),
        }
    }

    async fn write(&self, stream: &mut TcpStream) {
        let (status, title, message) = self.parts();
        let _ = tokio::time::timeout(WRITE_TIMEOUT, respond(stream, status, title, message)).await;
    }
}

/// Read one request; answer it here unless it is a `GET` of the callback path, which is
/// handed back with its full URL.
async fn read_callback(
    mut stream: TcpStream,
    path: std::sync::Arc<str>,
    base: String,
) -> Option<(TcpStream, String)> {
    let Some(target) = read_target(&mut stream).await else {
        let answer = respond(&mut stream, 400, "Pixie", "That request could not be read.");
        let _ = tokio::time::timeout(WRITE_TIMEOUT, answer).await;
        return None;
    };
    if target.split('?').next() != Some(&*path) {
        let answer = respond(&mut stream, 404, "Not found", "Nothing here.");
        let _ = tokio::time::timeout(WRITE_TIMEOUT, answer).await;
        return None;
    }
    Some((stream, format!("{base}{target}")))
}

/// The request target of a `GET` (`/path?query`), or `None` for anything else.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 || head.len() + n > MAX_HEAD {
                return None;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(READ_TIMEOUT, read).await.ok()??;
    let line = head.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (method == "GET" && target.starts_with('/') && version.starts_with("HTTP/1."))
        .then(|| target.to_owned())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A small page; provider text in it is escaped.
async fn respond(stream: &mut TcpStream, status: u16, title: &str, message: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font:16px system-ui,sans-serif;display:grid;place-items:center;min-height:90vh\">\
         <main><h1 style=\"font-size:1.3rem\">{}</h1><p>{}</p></main></body></html>",
        escape(title),
        escape(title),
        escape(message)
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}
