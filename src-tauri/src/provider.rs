//! Which providers Pixie can sign in with: those of `providers.toml` and, always, the demo
//! provider, started in-process on 127.0.0.1 so a fresh machine signs in with no account
//! anywhere. A broken file is reported (file:line:column and the field) and the demo stays.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use pixie_auth::RedirectMode;
use pixie_auth::config;
use pixie_auth::settings::default_redirect_uri;
use pixie_auth::{HttpClient, Provider, ProviderConfig};
use pixie_dev_idp::{DevIdp, IdpConfig, PIXIE_CLIENT_ID};

use crate::error::AppError;
use crate::keystore::BoxFuture;
use crate::machine::ProviderOption;

/// Where `providers.toml` is, instead of the XDG config dir.
pub const CONFIG_ENV: &str = "PIXIE_CONFIG";
/// The provider to use (its id), like `--provider ID`.
pub const PROVIDER_ENV: &str = "PIXIE_PROVIDER";
/// Use another OpenID provider without a file: its issuer URL (id `custom`).
pub const ISSUER_ENV: &str = "PIXIE_ISSUER";
/// The client id registered at `PIXIE_ISSUER` (default `pixie-desktop`).
pub const CLIENT_ID_ENV: &str = "PIXIE_CLIENT_ID";

pub const DEMO_ID: &str = "demo";
pub const DEMO_NAME: &str = "Pixie demo provider";
/// The file in the app data dir that remembers the last provider used.
const LAST_USED_FILE: &str = "last-provider";

/// The providers on offer and how the one to use was chosen.
pub struct Registry {
    configs: Vec<(ProviderOption, Option<ProviderConfig>)>,
    /// The provider to start with.
    pub initial: String,
    /// A mistake in the file, for the window.
    pub config_error: Option<String>,
    /// A passing word for the window (an unknown `--provider`).
    pub notice: Option<String>,
    last_used: Option<PathBuf>,
    started: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Arc<Provider>>>>>,
    idp: Mutex<Option<DevIdp>>,
    idp_state_file: Option<PathBuf>,
}

/// `--provider ID` or `--provider=ID` among the arguments.
fn provider_arg(args: &[String]) -> Option<String> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--provider" {
            return it.next().cloned();
        }
        if let Some(v) = a.strip_prefix("--provider=") {
            return Some(v.to_owned());
        }
    }
    None
}

/// Where the configuration is read from.
pub fn config_path(config_dir: Option<&Path>) -> Option<PathBuf> {
    match std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => config_dir.map(|d| d.join("providers.toml")),
    }
}

impl Registry {
    /// Read the configuration and decide where to start: `--provider`/`PIXIE_PROVIDER`,
    /// else the provider last used, else the file's `default`, else its first provider, else
    /// the demo.
    pub fn load(config_dir: Option<&Path>, data_dir: Option<&Path>, args: &[String]) -> Self {
        let file = read_file(config_dir);
        let mut configs = file.configs;
        let env_issuer = add_env_issuer(&mut configs);
        if !configs.iter().any(|(o, _)| o.id == DEMO_ID) {
            configs.push((
                ProviderOption {
                    id: DEMO_ID.into(),
                    name: DEMO_NAME.into(),
                },
                None,
            ));
        }
        let last_used = data_dir.map(|d| d.join(LAST_USED_FILE));
        // PIXIE_ISSUER is asked for by name, like `--provider custom`.
        let requested = provider_arg(args)
            .or_else(|| {
                std::env::var(PROVIDER_ENV)
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            })
            .or_else(|| env_issuer.then(|| "custom".to_owned()));
        let (initial, notice) =
            choose_initial(&configs, last_used.as_deref(), file.default, requested);
        let idp_state_file = data_dir.map(|d| d.join("demo-provider.json"));
        Self {
            configs,
            initial,
            config_error: file.error,
            notice,
            last_used,
            started: Mutex::new(HashMap::new()),
            idp: Mutex::new(None),
            idp_state_file,
        }
    }

    pub fn options(&self) -> Vec<ProviderOption> {
        self.configs.iter().map(|(o, _)| o.clone()).collect()
    }

    /// Whether `id` is the embedded demo provider (started in-process on first use).
    pub fn is_demo(&self, id: &str) -> bool {
        self.configs
            .iter()
            .any(|(o, config)| o.id == id && config.is_none())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.configs.iter().any(|(o, _)| o.id == id)
    }

    /// Remember `id` for the next launch. Only an id is written, never anything secret.
    pub fn remember(&self, id: &str) {
        let Some(path) = &self.last_used else { return };
        if let Some(dir) = path.parent()
            && let Err(e) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(path, id))
        {
            tracing::warn!(error = %e, "could not remember the provider");
        }
    }

    /// The provider `id`, discovered (or, for the demo, started) on first use. A failure is
    /// not kept: the next call tries again (the network may be back).
    pub async fn provider(&self, id: &str) -> Result<Arc<Provider>, AppError> {
        let Some((_, config)) = self.configs.iter().find(|(o, _)| o.id == id) else {
            return Err(AppError::UnknownProvider(id.to_owned()));
        };
        let cell = self
            .started
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_owned())
            .or_default()
            .clone();
        cell.get_or_try_init(|| async {
            let http = HttpClient::new().map_err(|e| pixie_auth::Error::Config(e.to_string()))?;
            let provider = match config {
                Some(config) => Provider::discover(config.clone(), http).await?,
                None => self.start_demo(http).await?,
            };
            Ok(Arc::new(provider))
        })
        .await
        .cloned()
    }

    async fn start_demo(&self, http: HttpClient) -> Result<Provider, AppError> {
        // A stable port and key across launches keep the issuer, and so the saved session,
        // valid.
        let idp = DevIdp::start(IdpConfig {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: self.idp_state_file.clone(),
            ..IdpConfig::default()
        })
        .await
        .map_err(|e| AppError::DemoProvider(e.to_string()))?;
        let config = ProviderConfig::new(
            DEMO_ID,
            DEMO_NAME,
            idp.issuer(),
            PIXIE_CLIENT_ID,
            &default_redirect_uri(DEMO_ID, RedirectMode::DeepLink),
        );
        // The demo provider registers both of Pixie's ways back.
        let config = ProviderConfig {
            loopback_fallback: true,
            ..config
        };
        *self.idp.lock().unwrap_or_else(|p| p.into_inner()) = Some(idp);
        Ok(Provider::discover(config, http).await?)
    }
}

impl crate::owner::Providers for Registry {
    fn provider<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Arc<Provider>, AppError>> {
        Box::pin(Registry::provider(self, id))
    }

    fn contains(&self, id: &str) -> bool {
        Registry::contains(self, id)
    }

    fn remember(&self, id: &str) {
        Registry::remember(self, id)
    }
}

/// What `providers.toml` gave: its providers in order, its default, or its mistake.
struct FileProviders {
    configs: Vec<(ProviderOption, Option<ProviderConfig>)>,
    default: Option<String>,
    error: Option<String>,
}

fn read_file(config_dir: Option<&Path>) -> FileProviders {
    let mut out = FileProviders {
        configs: Vec::new(),
        default: None,
        error: None,
    };
    let Some(path) = config_path(config_dir) else {
        return out;
    };
    match config::load(&path) {
        Ok(Some(file)) => {
            out.default = file.default;
            for p in file.providers {
                let option = ProviderOption {
                    id: p.id.clone(),
                    name: p.display_name.clone(),
                };
                out.configs.push((option, Some(p)));
            }
            tracing::info!(path = %path.display(), providers = out.configs.len(), "read the provider configuration");
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, "the provider configuration has a mistake");
            out.error = Some(e.to_string());
        }
    }
    out
}

/// `PIXIE_ISSUER` (and `PIXIE_CLIENT_ID`): a provider named `custom` first in the list,
/// unless the file has one. Returns whether it was added.
fn add_env_issuer(configs: &mut Vec<(ProviderOption, Option<ProviderConfig>)>) -> bool {
    let Ok(issuer) = std::env::var(ISSUER_ENV).map(|i| i.trim().to_owned()) else {
        return false;
    };
    if issuer.is_empty() || configs.iter().any(|(o, _)| o.id == "custom") {
        return false;
    }
    let client_id = std::env::var(CLIENT_ID_ENV).unwrap_or_else(|_| PIXIE_CLIENT_ID.to_owned());
    let redirect = default_redirect_uri("custom", RedirectMode::DeepLink);
    let config = ProviderConfig::new("custom", &issuer, &issuer, &client_id, &redirect);
    let option = ProviderOption {
        id: "custom".into(),
        name: issuer,
    };
    configs.insert(0, (option, Some(config)));
    true
}

/// The provider selected at launch: the one asked for (argument or environment), else the
/// one used last, else the file's default, else the first; with a notice when the one asked
/// for does not exist.
fn choose_initial(
    configs: &[(ProviderOption, Option<ProviderConfig>)],
    last_used: Option<&Path>,
    file_default: Option<String>,
    requested: Option<String>,
) -> (String, Option<String>) {
    let known = |id: &str| configs.iter().any(|(o, _)| o.id == id);
    let remembered = last_used
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.trim().to_owned())
        .filter(|id| known(id));
    let fallback = remembered
        .or(file_default.filter(|d| known(d)))
        .or_else(|| configs.first().map(|(o, _)| o.id.clone()))
        .unwrap_or_else(|| DEMO_ID.to_owned());
    match requested {
        Some(id) if known(&id) => (id, None),
        Some(id) => {
            let name = configs
                .iter()
                .find(|(o, _)| o.id == fallback)
                .map_or(DEMO_NAME, |(o, _)| o.name.as_str());
            let notice = format!(
                "There is no provider named \u{201c}{}\u{201d} in providers.toml, so Pixie uses {name}.",
                id.chars().take(64).collect::<String>()
            );
            (fallback, Some(notice))
        }
        None => (fallback, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_provider_argument_is_found_in_both_spellings() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            provider_arg(&args(&["pixie", "--provider", "work"])).as_deref(),
            Some("work")
        );
        assert_eq!(
            provider_arg(&args(&["pixie", "--provider=google"])).as_deref(),
            Some("google")
        );
        assert_eq!(
            provider_arg(&args(&["pixie", "dev.pixie.app:/oauth/callback?code=x"])),
            None
        );
    }

    #[test]
    fn a_broken_file_keeps_the_demo_and_says_where() {
        let dir = std::env::temp_dir().join(format!("pixie-registry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("providers.toml"),
            "[[provider]]\nid = \"work\"\nclient_idd = \"x\"\n",
        )
        .unwrap();
        let r = Registry::load(Some(&dir), None, &[]);
        let error = r.config_error.clone().unwrap();
        assert!(error.contains("providers.toml:3:"), "{error}");
        assert!(error.contains("client_idd"), "{error}");
        assert_eq!(r.initial, DEMO_ID);
        assert_eq!(r.options().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_last_used_provider_wins_over_the_default_and_an_argument_over_both() {
        let dir = std::env::temp_dir().join(format!("pixie-registry-last-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("providers.toml"),
            "default = \"a\"\n[[provider]]\nid = \"a\"\nissuer = \"https://a.example\"\nclient_id = \"x\"\n\
             [[provider]]\nid = \"b\"\nissuer = \"https://b.example\"\nclient_id = \"y\"\n",
        )
        .unwrap();
        let r = Registry::load(Some(&dir), Some(&dir), &[]);
        assert_eq!(r.initial, "a");
        assert_eq!(
            r.options()
                .iter()
                .map(|o| o.id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b", DEMO_ID]
        );
        r.remember("b");
        assert_eq!(Registry::load(Some(&dir), Some(&dir), &[]).initial, "b");
        let r = Registry::load(
            Some(&dir),
            Some(&dir),
            &["pixie".into(), "--provider".into(), DEMO_ID.into()],
        );
        assert_eq!(r.initial, DEMO_ID);
        let r = Registry::load(
            Some(&dir),
            Some(&dir),
            &["pixie".into(), "--provider=nope".into()],
        );
        assert_eq!(r.initial, "b");
        assert!(r.notice.unwrap().contains("nope"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
