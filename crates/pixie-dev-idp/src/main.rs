//! `pixie-dev-idp --port N`: run the demo OpenID Provider on loopback until stopped.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use clap::Parser;
use pixie_dev_idp::{ClientRegistration, DevIdp, IdpConfig};

#[derive(Parser)]
#[command(
    version,
    about = "A local OpenID Provider for developing native-app sign-in"
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Extra client to register, as CLIENT_ID=REDIRECT_URI (repeatable).
    #[arg(long = "client", value_name = "ID=URI")]
    clients: Vec<String>,
    /// Keep the signing key, port and (hashed) refresh-token records in this file, so
    /// sessions survive a restart.
    #[arg(long, value_name = "PATH")]
    state_file: Option<std::path::PathBuf>,
    /// Approve every sign-in at once as a demo person (for benchmarks): `/authorize`
    /// answers with the redirect instead of the sign-in page.
    #[arg(long, value_name = "PERSON", num_args = 0..=1, default_missing_value = "ada")]
    auto_approve: Option<String>,
    /// Do not offer pushed authorization requests (RFC 9126).
    #[arg(long)]
    no_par: bool,
    /// Ignore DPoP proofs and issue bearer tokens (RFC 9449 off).
    #[arg(long)]
    no_dpop: bool,
    /// Demand a server nonce in every DPoP proof (RFC 9449 §8, §9).
    #[arg(long)]
    dpop_nonce: bool,
    /// Misbehave in one way (hostile-input testing); see `--list-faults`.
    #[cfg(feature = "faults")]
    #[arg(long, value_name = "NAME")]
    fault: Option<pixie_dev_idp::Fault>,
    /// List the faults `--fault` accepts.
    #[cfg(feature = "faults")]
    #[arg(long)]
    list_faults: bool,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    {
        // RUST_LOG as `target=level,…` (a plain target filter, no regex engine).
        use tracing_subscriber::filter::Targets;
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        let filter = std::env::var("RUST_LOG")
            .ok()
            .and_then(|v| v.parse::<Targets>().ok())
            .unwrap_or_else(|| Targets::new().with_target("pixie_dev_idp", tracing::Level::INFO));
        let _ = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .with(filter)
            .try_init();
    }
    let args = Args::parse();
    #[cfg(feature = "faults")]
    if args.list_faults {
        for f in pixie_dev_idp::Fault::ALL {
            println!("{:28} {}", f.name(), f.describe());
        }
        return std::process::ExitCode::SUCCESS;
    }
    #[cfg(feature = "faults")]
    let fault = args.fault;
    let config = match config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return std::process::ExitCode::from(2);
        }
    };
    let idp = match DevIdp::start(config).await {
        Ok(idp) => idp,
        Err(e) => {
            eprintln!("pixie-dev-idp: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    #[cfg(feature = "faults")]
    if let Err(e) = idp.set_fault(fault).await {
        eprintln!("pixie-dev-idp: {e}");
        return std::process::ExitCode::FAILURE;
    }
    // The issuer on stdout, alone on its line, so scripts can read it.
    println!("{}", idp.issuer());
    let _ = tokio::signal::ctrl_c().await;
    idp.shutdown().await;
    std::process::ExitCode::SUCCESS
}

/// The provider's configuration from the command line.
fn config(args: Args) -> Result<IdpConfig, String> {
    let mut config = IdpConfig {
        addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), args.port),
        state_file: args.state_file,
        auto_approve: args.auto_approve,
        allow_faults: cfg!(feature = "faults"),
        par: !args.no_par,
        dpop: !args.no_dpop,
        dpop_nonce: args.dpop_nonce,
        ..IdpConfig::default()
    };
    for spec in &args.clients {
        let (id, uri) = spec
            .split_once('=')
            .ok_or_else(|| format!("--client wants ID=REDIRECT_URI, got `{spec}`"))?;
        config.clients.push(ClientRegistration {
            client_id: id.into(),
            redirect_uris: vec![uri.into()],
            post_logout_redirect_uris: vec![],
        });
    }
    Ok(config)
}
