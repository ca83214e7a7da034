//! `pixie-bench ISSUER CLIENT_ID REDIRECT_URI N WARMUP`
//!
//! Runs discovery once, then WARMUP untimed and N timed sign-ins against a provider whose
//! authorization endpoint answers with a redirect (the demo provider's `--auto-approve`).
//! The browser's hop (GET the authorization URL, read `Location`) is not timed. Timed: the
//! `start` (the authorization request; pushed to the provider first where it offers RFC 9126,
//! as the app does), the `callback` (validate the redirect, exchange the code, verify the ID
//! token), `userinfo` (with the `sub` check), the `picture` (size- and type-limited download)
//! and the `total`, each through the same functions the app's sign-in uses. Tokens are
//! DPoP-bound (RFC 9449) when the provider offers it, as in the app. Prints one JSON object
//! (with `par` and `dpop`: whether the path used them).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use pixie_auth::picture::fetch_picture;
use pixie_auth::{HttpClient, Provider, ProviderConfig, SignInHints};
use serde_json::json;

struct Args {
    issuer: String,
    client_id: String,
    redirect_uri: String,
    n: usize,
    warmup: usize,
}

fn args() -> Result<Args, String> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [issuer, client_id, redirect_uri, n, warmup] = a.as_slice() else {
        return Err("usage: pixie-bench ISSUER CLIENT_ID REDIRECT_URI N WARMUP".into());
    };
    let count = |s: &str, what| {
        s.parse::<usize>()
            .map_err(|_| format!("{what} must be a whole number, got `{s}`"))
    };
    Ok(Args {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        redirect_uri: redirect_uri.clone(),
        n: count(n, "N")?.max(1),
        warmup: count(warmup, "WARMUP")?,
    })
}

#[derive(Default)]
struct Samples {
    start: Vec<Duration>,
    callback: Vec<Duration>,
    userinfo: Vec<Duration>,
    picture: Vec<Duration>,
    total: Vec<Duration>,
}

fn summary(samples: &mut [Duration]) -> serde_json::Value {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    let r = |v: f64| (v * 1000.0).round() / 1000.0;
    json!({"median_ms": r(at(0.5)), "p95_ms": r(at(0.95)), "min_ms": r(at(0.0)), "max_ms": r(at(1.0))})
}

async fn one(provider: &Provider, browser: &reqwest::Client) -> Result<[Duration; 4], String> {
    let t = Instant::now();
    let pending = provider
        .prepare_sign_in(None, &SignInHints::default())
        .await
        .map_err(|e| e.to_string())?;
    let start = t.elapsed();
    // The browser's hop: not timed.
    let resp = browser
        .get(pending.authorization_url().as_str())
        .send()
        .await
        .map_err(|e| format!("authorization request: {e}"))?;
    let redirect = resp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| {
            format!(
                "the authorization endpoint answered {} without a redirect (start the demo provider with --auto-approve)",
                resp.status()
            )
        })?
        .to_owned();

    let t0 = Instant::now();
    let callback = pending
        .validate_callback(&redirect)
        .map_err(|e| e.to_string())?;
    let tokens = provider
        .exchange(pending, &callback)
        .await
        .map_err(|e| e.to_string())?;
    let t1 = Instant::now();
    let claims = provider
        .user_info(&tokens)
        .await
        .map_err(|e| e.to_string())?;
    let t2 = Instant::now();
    let picture = claims
        .picture()
        .and_then(|p| p.get(None))
        .ok_or("userinfo has no picture")?;
    fetch_picture(provider.http(), picture.as_str(), provider.issuer())
        .await
        .map_err(|e| e.to_string())?;
    let t3 = Instant::now();
    Ok([start, t1 - t0, t2 - t1, t3 - t2])
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let run = async {
        let http = HttpClient::new().map_err(|e| e.to_string())?;
        let config = ProviderConfig::new(
            "bench",
            "bench",
            &args.issuer,
            &args.client_id,
            &args.redirect_uri,
        );
        let provider = Provider::discover(config, http)
            .await
            .map_err(|e| e.to_string())?;
        let browser = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        let mut s = Samples::default();
        for i in 0..args.warmup + args.n {
            let [start, callback, userinfo, picture] = one(&provider, &browser).await?;
            if i >= args.warmup {
                s.start.push(start);
                s.callback.push(callback);
                s.userinfo.push(userinfo);
                s.picture.push(picture);
                s.total.push(start + callback + userinfo + picture);
            }
        }
        // As the app decides (par = auto, dpop = auto): pushed and bound when offered.
        let par = provider
            .metadata()
            .additional_metadata()
            .pushed_authorization_request_endpoint
            .is_some();
        Ok::<_, String>((s, par, provider.dpop_wanted()))
    };
    let (mut s, par, dpop) = match run.await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pixie-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let out = json!({
        "peer": match (par, dpop) {
            (false, false) => "pixie",
            (true, true) => "pixie (PAR + DPoP)",
            (true, false) => "pixie (PAR)",
            (false, true) => "pixie (DPoP)",
        },
        "issuer": args.issuer,
        "n": args.n,
        "warmup": args.warmup,
        "par": par,
        "dpop": dpop,
        "steps": {
            "start": summary(&mut s.start),
            "callback": summary(&mut s.callback),
            "userinfo": summary(&mut s.userinfo),
            "picture": summary(&mut s.picture),
            "total": summary(&mut s.total),
        },
        "versions": {
            "pixie-auth": env!("CARGO_PKG_VERSION"),
            "build": if cfg!(debug_assertions) { "debug" } else { "release" },
        },
    });
    println!("{out}");
    ExitCode::SUCCESS
}
