//! Who receives `dev.pixie.app:` links on a freedesktop system, and what to do about a stale
//! registration. The decisions are pure functions of desktop-file text, paths and what exists;
//! the few reads and writes they need are at the bottom.
//!
//! Compiled twice: into the app library (the check at start-up, `scheme.rs`) and into the
//! binary (`pixie --unregister`, before Tauri starts, `main.rs`). Each uses its own part.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The MIME type desktops file URI-scheme handlers under.
pub const MIME: &str = "x-scheme-handler/dev.pixie.app";

/// The desktop file a dev run writes (the deep-link plugin names it `<binary>-handler.desktop`).
pub const DEV_HANDLER: &str = "pixie-handler.desktop";

/// The folders of the XDG Base Directory specification that hold desktop files and
/// `mimeapps.list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xdg {
    pub data_home: PathBuf,
    pub config_home: PathBuf,
    pub data_dirs: Vec<PathBuf>,
    pub config_dirs: Vec<PathBuf>,
}

impl Xdg {
    /// From the environment (`var` looks one up), with the specification's defaults. Relative
    /// paths are invalid there and are ignored. None without a home to fall back on.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Option<Self> {
        let absolute = |name: &str| var(name).map(PathBuf::from).filter(|p| p.is_absolute());
        let list = |name: &str, default: &str| -> Vec<PathBuf> {
            let value = var(name).filter(|v| !v.is_empty());
            value
                .as_deref()
                .unwrap_or(default)
                .split(':')
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .collect()
        };
        let home = absolute("HOME");
        let data_home =
            absolute("XDG_DATA_HOME").or_else(|| home.as_ref().map(|h| h.join(".local/share")))?;
        let config_home =
            absolute("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")))?;
        Some(Self {
            data_home,
            config_home,
            data_dirs: list("XDG_DATA_DIRS", "/usr/local/share:/usr/share"),
            config_dirs: list("XDG_CONFIG_DIRS", "/etc/xdg"),
        })
    }

    pub fn from_env() -> Option<Self> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The user's own applications folder, where runtime registrations are written.
    pub fn user_applications(&self) -> PathBuf {
        self.data_home.join("applications")
    }

    /// `mimeapps.list` files in the order the specification reads them.
    pub fn mimeapps_lists(&self) -> Vec<PathBuf> {
        let mut lists = vec![self.config_home.join("mimeapps.list")];
        lists.extend(self.config_dirs.iter().map(|d| d.join("mimeapps.list")));
        lists.push(self.user_applications().join("mimeapps.list"));
        lists.extend(
            self.data_dirs
                .iter()
                .map(|d| d.join("applications/mimeapps.list")),
        );
        lists
    }

    /// The `mimeapps.list` files a runtime registration may write: the user's.
    pub fn user_mimeapps_lists(&self) -> [PathBuf; 2] {
        [
            self.config_home.join("mimeapps.list"),
            self.user_applications().join("mimeapps.list"),
        ]
    }
}

/// The value of `key` in the `[Desktop Entry]` group of a desktop file.
pub fn entry_value<'a>(desktop: &'a str, key: &str) -> Option<&'a str> {
    let mut in_entry = false;
    for line in desktop.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_entry = line == "[Desktop Entry]";
        } else if in_entry
            && let Some((k, v)) = line.split_once('=')
            && k.trim_end() == key
        {
            return Some(v.trim_start());
        }
    }
    None
}

/// Whether a desktop file declares that it handles `mime`.
pub fn handles(desktop: &str, mime: &str) -> bool {
    entry_value(desktop, "MimeType").is_some_and(|v| v.split(';').any(|m| m.trim() == mime))
}

/// The program an `Exec=` line starts: the first word, or the first double-quoted string
/// (Desktop Entry Specification, "The Exec key"). None when there is none or a quote is open.
pub fn exec_program(desktop: &str) -> Option<String> {
    let exec = entry_value(desktop, "Exec")?;
    if let Some(quoted) = exec.strip_prefix('"') {
        let mut program = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => program.push(chars.next()?),
                '"' => return (!program.is_empty()).then_some(program),
                c => program.push(c),
            }
        }
        None
    } else {
        exec.split_whitespace().next().map(str::to_owned)
    }
}

/// Where a program named in `Exec=` lives: an absolute path as it is, a bare name looked up
/// in `path_var` (the `PATH`). None when it cannot be found.
pub fn resolve_program(
    program: &str,
    path_var: &str,
    exists: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return exists(&path).then_some(path);
    }
    path_var
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| exists(p))
}

/// The first desktop file `mimeapps.list` text names as the default for `mime`.
pub fn mimeapps_default(mimeapps: &str, mime: &str) -> Option<String> {
    let mut in_defaults = false;
    for line in mimeapps.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_defaults = line == "[Default Applications]";
        } else if in_defaults
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == mime
        {
            return v
                .split(';')
                .map(str::trim)
                .find(|id| !id.is_empty())
                .map(str::to_owned);
        }
    }
    None
}

/// `mimeapps.list` text without `id` among the handlers of `mime` (defaults and added
/// associations); a line left with no handler goes. None when `id` is not named there.
pub fn without_handler(mimeapps: &str, mime: &str, id: &str) -> Option<String> {
    let mut changed = false;
    let mut out = Vec::new();
    for line in mimeapps.lines() {
        if let Some((k, v)) = line.split_once('=')
            && k.trim() == mime
            && v.split(';').any(|e| e.trim() == id)
        {
            changed = true;
            let rest: Vec<&str> = v
                .split(';')
                .map(str::trim)
                .filter(|e| !e.is_empty() && *e != id)
                .collect();
            if !rest.is_empty() {
                out.push(format!("{}={};", k.trim(), rest.join(";")));
            }
            continue;
        }
        out.push(line.to_owned());
    }
    changed.then(|| {
        let mut text = out.join("\n");
        if mimeapps.ends_with('\n') {
            text.push('\n');
        }
        text
    })
}

/// A package's files: never written by Pixie.
pub fn is_package_path(path: &Path) -> bool {
    path.starts_with("/usr/") || path.starts_with("/opt/")
}

/// A desktop file that receives (or is named to receive) the links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    /// Its desktop file id, e.g. `pixie-handler.desktop`.
    pub id: String,
    /// Where the file is; None when the id names a file that is gone.
    pub path: Option<PathBuf>,
    /// The program its `Exec=` starts, resolved; None when it cannot be found.
    pub program: Option<PathBuf>,
}

impl Handler {
    /// A desktop file that is there and starts a program that is there.
    pub fn works(&self) -> bool {
        self.path.is_some() && self.program.is_some()
    }

    /// Written at run time into the user's applications folder by a dev run (or any
    /// unpackaged build), as opposed to a package's desktop file.
    pub fn is_runtime_registration(&self, xdg: &Xdg) -> bool {
        self.id.ends_with("-handler.desktop")
            && self
                .path
                .as_deref()
                .is_none_or(|p| p.starts_with(xdg.user_applications()))
    }
}

/// What is known when deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Who receives links now (the default in `mimeapps.list`, else what the desktop picks).
    pub current: Option<Handler>,
    /// A package's desktop file for the scheme whose program is there.
    pub installed: Option<Handler>,
    /// This process is a packaged copy (under /usr or /opt, not an AppImage).
    pub this_is_installed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave the handlers as they are, for this reason.
    Keep(&'static str),
    /// Register this binary (the deep-link plugin's `register_all`).
    Register,
    /// Make this desktop file id the default (`xdg-mime default ID x-scheme-handler/…`).
    PointAt(String),
}

/// The repair rule: an installed copy wins over a runtime registration; a registration whose
/// desktop file or program is gone is replaced (by the installed copy, else by this dev
/// run); a working handler that is not a Pixie registration is never clobbered.
pub fn decide(facts: &Facts, xdg: &Xdg) -> Action {
    let installed = facts.installed.as_ref().filter(|h| h.works());
    match &facts.current {
        Some(current) if current.works() => {
            if installed.is_some_and(|i| i.id == current.id) {
                Action::Keep("the installed copy receives links")
            } else if let Some(i) = installed
                && current.is_runtime_registration(xdg)
            {
                Action::PointAt(i.id.clone())
            } else if !facts.this_is_installed && current.id == DEV_HANDLER {
                Action::Register
            } else {
                Action::Keep("another program receives links; not ours to change")
            }
        }
        broken => {
            if let Some(i) = installed {
                if broken.as_ref().is_some_and(|b| b.id == i.id) {
                    Action::Keep("the installed copy receives links")
                } else {
                    Action::PointAt(i.id.clone())
                }
            } else if !facts.this_is_installed {
                Action::Register
            } else {
                Action::Keep("no desktop file of this installed copy was found")
            }
        }
    }
}

/// The link forwarder's file name (`src/bin/pixie-open.rs`), shipped next to `pixie`.
pub const FORWARDER: &str = "pixie-open";

/// The program a dev run registers for links: the forwarder next to this binary when it is
/// there (a second link then never loads GTK or WebKit), else this binary itself.
pub fn handler_program(exe: &Path, exists: impl Fn(&Path) -> bool) -> PathBuf {
    exe.parent()
        .map(|dir| dir.join(FORWARDER))
        .filter(|p| exists(p))
        .unwrap_or_else(|| exe.to_path_buf())
}

/// Quote a program for an `Exec=` line (Desktop Entry Specification, "The Exec key": inside
/// double quotes, `"`, `` ` ``, `$` and `\` are escaped with a backslash).
pub fn exec_quoted(program: &Path) -> String {
    let mut out = String::from("\"");
    for c in program.to_string_lossy().chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The desktop file a dev run writes for `program` (the deep-link plugin's template, with the
/// program this run picks).
pub fn dev_handler_file(name: &str, program: &Path) -> String {
    format!(
        "[Desktop Entry]\nType=Application\nName={name}\nExec={} %u\nTerminal=false\nMimeType={MIME}\nNoDisplay=true\n",
        exec_quoted(program)
    )
}

// ---- reading the desktop ------------------------------------------------------------------

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn program_of(text: &str) -> Option<PathBuf> {
    let path_var = std::env::var("PATH").unwrap_or_default();
    resolve_program(&exec_program(text)?, &path_var, |p| p.is_file())
}

/// The handler named `id`, looked up in the user's then the system's applications folders.
pub fn handler(xdg: &Xdg, id: &str) -> Handler {
    let dirs = std::iter::once(xdg.data_home.clone()).chain(xdg.data_dirs.iter().cloned());
    for dir in dirs {
        let path = dir.join("applications").join(id);
        if let Some(text) = read(&path) {
            return Handler {
                id: id.to_owned(),
                program: program_of(&text),
                path: Some(path),
            };
        }
    }
    Handler {
        id: id.to_owned(),
        path: None,
        program: None,
    }
}

/// The default named in the first `mimeapps.list` that names one.
pub fn named_default(xdg: &Xdg) -> Option<String> {
    xdg.mimeapps_lists()
        .iter()
        .filter_map(|p| read(p))
        .find_map(|text| mimeapps_default(&text, MIME))
}

/// A package's desktop file for the scheme, with its program there.
pub fn installed_handler(xdg: &Xdg) -> Option<Handler> {
    for dir in &xdg.data_dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("applications")) else {
            continue;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if path.extension().is_none_or(|e| e != "desktop") {
                continue;
            }
            let Some(text) = read(&path) else { continue };
            if !handles(&text, MIME) {
                continue;
            }
            let id = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if let (Some(id), Some(program)) = (id, program_of(&text)) {
                return Some(Handler {
                    id,
                    path: Some(path),
                    program: Some(program),
                });
            }
        }
    }
    None
}

// ---- pixie --unregister -------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
pub enum UnregisterError {
    #[error("no home folder to find the desktop's settings in (HOME and XDG_DATA_HOME are unset)")]
    NoHome,
    #[error("{path} belongs to an installed package; Pixie does not change it")]
    PackageFile { path: PathBuf },
    #[error("could not remove {path}: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not rewrite {path}: {source}")]
    Rewrite {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Remove a dev run's registration: its desktop file in the user's applications folder and
/// the user's `mimeapps.list` lines naming it. Never a package's file. Returns what was done,
/// one sentence each.
pub fn unregister(xdg: &Xdg) -> Result<Vec<String>, UnregisterError> {
    let mut done = Vec::new();
    let file = xdg.user_applications().join(DEV_HANDLER);
    if is_package_path(&file) {
        return Err(UnregisterError::PackageFile { path: file });
    }
    for list in xdg.user_mimeapps_lists() {
        if is_package_path(&list) {
            continue;
        }
        let Some(text) = read(&list) else { continue };
        if let Some(new) = without_handler(&text, MIME, DEV_HANDLER) {
            std::fs::write(&list, new).map_err(|source| UnregisterError::Rewrite {
                path: list.clone(),
                source,
            })?;
            done.push(format!(
                "removed {DEV_HANDLER} for {MIME} from {}",
                list.display()
            ));
        }
    }
    match std::fs::remove_file(&file) {
        Ok(()) => {
            done.push(format!("removed {}", file.display()));
            // Refresh the folder's MIME cache; it is only an optimisation when missing.
            let _ = std::process::Command::new("update-desktop-database")
                .arg(xdg.user_applications())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(UnregisterError::Remove { path: file, source }),
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xdg() -> Xdg {
        Xdg {
            data_home: "/home/ada/.local/share".into(),
            config_home: "/home/ada/.config".into(),
            data_dirs: vec!["/usr/local/share".into(), "/usr/share".into()],
            config_dirs: vec!["/etc/xdg".into()],
        }
    }

    const DEV_FILE: &str = "[Desktop Entry]\nType=Application\nName=Pixie\nExec=\"/home/ada/pixie/target/debug/pixie\" %u\nTerminal=false\nMimeType=x-scheme-handler/dev.pixie.app\nNoDisplay=true\n";
    const PACKAGE_FILE: &str = "[Desktop Entry]\nCategories=\nExec=pixie %u\nStartupWMClass=pixie\nIcon=pixie\nName=Pixie\nTerminal=false\nType=Application\nMimeType=x-scheme-handler/dev.pixie.app;\n";

    fn dev(program_there: bool) -> Handler {
        Handler {
            id: DEV_HANDLER.into(),
            path: Some("/home/ada/.local/share/applications/pixie-handler.desktop".into()),
            program: program_there.then(|| "/home/ada/pixie/target/debug/pixie".into()),
        }
    }

    fn package() -> Handler {
        Handler {
            id: "Pixie.desktop".into(),
            path: Some("/usr/share/applications/Pixie.desktop".into()),
            program: Some("/usr/bin/pixie".into()),
        }
    }

    fn other_app() -> Handler {
        Handler {
            id: "other.desktop".into(),
            path: Some("/usr/share/applications/other.desktop".into()),
            program: Some("/usr/bin/other".into()),
        }
    }

    fn facts(
        current: Option<Handler>,
        installed: Option<Handler>,
        this_is_installed: bool,
    ) -> Facts {
        Facts {
            current,
            installed,
            this_is_installed,
        }
    }

    #[test]
    fn the_program_of_an_exec_line() {
        assert_eq!(
            exec_program(DEV_FILE).as_deref(),
            Some("/home/ada/pixie/target/debug/pixie")
        );
        assert_eq!(exec_program(PACKAGE_FILE).as_deref(), Some("pixie"));
        let spaced = "[Desktop Entry]\nExec=\"/home/a b/pix\\\"ie\" %u\n";
        assert_eq!(exec_program(spaced).as_deref(), Some("/home/a b/pix\"ie"));
        assert_eq!(exec_program("[Desktop Entry]\nExec=\"/open %u\n"), None);
        assert_eq!(exec_program("[Desktop Entry]\nExec=\n"), None);
        // Only the [Desktop Entry] group counts, not an action's Exec.
        let action = "[Desktop Action new]\nExec=/bin/evil\n[Desktop Entry]\nExec=/bin/pixie %u\n";
        assert_eq!(exec_program(action).as_deref(), Some("/bin/pixie"));
        assert_eq!(exec_program("[Desktop Action new]\nExec=/bin/evil\n"), None);
    }

    #[test]
    fn a_dev_run_registers_the_forwarder_next_to_it() {
        let exe = Path::new("/home/ada/pixie/target/debug/pixie");
        let forwarder = Path::new("/home/ada/pixie/target/debug/pixie-open");
        assert_eq!(handler_program(exe, |p| p == forwarder), forwarder);
        // `cargo run` built only the app: the app itself receives links, as before.
        assert_eq!(handler_program(exe, |_| false), exe);
    }

    #[test]
    fn the_dev_handler_file_starts_the_forwarder_with_the_link() {
        let text = dev_handler_file("Pixie", Path::new("/home/a b/target/debug/pixie-open"));
        assert!(handles(&text, MIME));
        assert_eq!(
            entry_value(&text, "Exec"),
            Some("\"/home/a b/target/debug/pixie-open\" %u")
        );
        // The program read back from the file is the one written, even with quotes in it.
        assert_eq!(
            exec_program(&text).as_deref(),
            Some("/home/a b/target/debug/pixie-open")
        );
        let odd = dev_handler_file("Pixie", Path::new("/t/we\"ird$/pixie-open"));
        assert_eq!(
            exec_program(&odd).as_deref(),
            Some("/t/we\"ird$/pixie-open")
        );
    }

    #[test]
    fn which_files_handle_the_scheme() {
        assert!(handles(DEV_FILE, MIME));
        assert!(handles(PACKAGE_FILE, MIME));
        assert!(!handles(
            "[Desktop Entry]\nMimeType=x-scheme-handler/dev.pixie.apps;\n",
            MIME
        ));
        assert!(!handles("[Desktop Entry]\nExec=pixie\n", MIME));
    }

    #[test]
    fn programs_are_found_on_the_path_or_by_their_path() {
        let there = |p: &Path| p == Path::new("/usr/bin/pixie") || p == Path::new("/opt/x/pixie");
        assert_eq!(
            resolve_program("pixie", "/bin:/usr/bin", there),
            Some("/usr/bin/pixie".into())
        );
        assert_eq!(
            resolve_program("/opt/x/pixie", "", there),
            Some("/opt/x/pixie".into())
        );
        assert_eq!(resolve_program("/gone/pixie", "/usr/bin", there), None);
        assert_eq!(resolve_program("pixie", "/bin", there), None);
    }

    #[test]
    fn the_default_in_mimeapps_list() {
        let list = "[Added Associations]\nx-scheme-handler/dev.pixie.app=other.desktop;\n\n[Default Applications]\ntext/html=firefox.desktop\nx-scheme-handler/dev.pixie.app=pixie-handler.desktop;Pixie.desktop;\n";
        assert_eq!(mimeapps_default(list, MIME).as_deref(), Some(DEV_HANDLER));
        assert_eq!(
            mimeapps_default(
                "[Added Associations]\nx-scheme-handler/dev.pixie.app=a.desktop\n",
                MIME
            ),
            None
        );
        assert_eq!(mimeapps_default("", MIME), None);
    }

    #[test]
    fn removing_the_dev_handler_from_mimeapps_list() {
        let list = "[Default Applications]\ntext/html=firefox.desktop\nx-scheme-handler/dev.pixie.app=pixie-handler.desktop\n\n[Added Associations]\nx-scheme-handler/dev.pixie.app=pixie-handler.desktop;Pixie.desktop;\n";
        let out = without_handler(list, MIME, DEV_HANDLER).expect("named there");
        assert_eq!(
            out,
            "[Default Applications]\ntext/html=firefox.desktop\n\n[Added Associations]\nx-scheme-handler/dev.pixie.app=Pixie.desktop;\n"
        );
        assert_eq!(without_handler(&out, MIME, DEV_HANDLER), None);
        // An installed copy's default is not ours to remove.
        let installed = "[Default Applications]\nx-scheme-handler/dev.pixie.app=Pixie.desktop\n";
        assert_eq!(without_handler(installed, MIME, DEV_HANDLER), None);
    }

    #[test]
    fn xdg_folders_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let x = Xdg::from_vars(env(&[("HOME", "/home/ada")])).expect("a home");
        assert_eq!(x, xdg());
        let x = Xdg::from_vars(env(&[
            ("HOME", "/home/ada"),
            ("XDG_DATA_HOME", "/t/data"),
            ("XDG_CONFIG_HOME", "relative/is/ignored"),
            ("XDG_DATA_DIRS", "/t/sys:relative:/usr/share"),
        ]))
        .expect("a home");
        assert_eq!(x.data_home, PathBuf::from("/t/data"));
        assert_eq!(x.config_home, PathBuf::from("/home/ada/.config"));
        assert_eq!(
            x.data_dirs,
            vec![PathBuf::from("/t/sys"), PathBuf::from("/usr/share")]
        );
        assert_eq!(Xdg::from_vars(env(&[])), None);
        assert_eq!(
            x.user_mimeapps_lists()[0],
            PathBuf::from("/home/ada/.config/mimeapps.list")
        );
    }

    #[test]
    fn a_dev_run_keeps_refreshing_its_own_registration() {
        assert_eq!(
            decide(&facts(Some(dev(true)), None, false), &xdg()),
            Action::Register
        );
    }

    #[test]
    fn a_dev_run_registers_when_nothing_receives_links() {
        assert_eq!(decide(&facts(None, None, false), &xdg()), Action::Register);
    }

    #[test]
    fn after_cargo_clean_a_dev_run_registers_again() {
        assert_eq!(
            decide(&facts(Some(dev(false)), None, false), &xdg()),
            Action::Register
        );
    }

    #[test]
    fn a_registration_whose_desktop_file_is_gone_is_replaced() {
        let gone = Handler {
            id: "pixie-old-handler.desktop".into(),
            path: None,
            program: None,
        };
        assert_eq!(
            decide(&facts(Some(gone.clone()), None, false), &xdg()),
            Action::Register
        );
        assert_eq!(
            decide(&facts(Some(gone), Some(package()), true), &xdg()),
            Action::PointAt("Pixie.desktop".into())
        );
    }

    #[test]
    fn another_registration_whose_program_is_gone_is_replaced() {
        let stale = Handler {
            id: "pixie-old-handler.desktop".into(),
            path: Some("/home/ada/.local/share/applications/pixie-old-handler.desktop".into()),
            program: None,
        };
        assert_eq!(
            decide(&facts(Some(stale), None, false), &xdg()),
            Action::Register
        );
    }

    #[test]
    fn the_installed_copy_wins_over_a_dev_build() {
        // The installed app starts while links still go to the dev build (or to nothing).
        for current in [Some(dev(true)), Some(dev(false)), None] {
            assert_eq!(
                decide(&facts(current, Some(package()), true), &xdg()),
                Action::PointAt("Pixie.desktop".into())
            );
        }
        // A dev run started while a package is installed hands links back to it.
        assert_eq!(
            decide(&facts(Some(dev(true)), Some(package()), false), &xdg()),
            Action::PointAt("Pixie.desktop".into())
        );
    }

    #[test]
    fn the_installed_copy_receiving_links_is_left_alone() {
        for this_is_installed in [true, false] {
            assert!(matches!(
                decide(
                    &facts(Some(package()), Some(package()), this_is_installed),
                    &xdg()
                ),
                Action::Keep(_)
            ));
        }
    }

    #[test]
    fn a_working_handler_that_is_not_ours_is_never_clobbered() {
        for installed in [None, Some(package())] {
            for this_is_installed in [true, false] {
                assert!(matches!(
                    decide(
                        &facts(Some(other_app()), installed.clone(), this_is_installed),
                        &xdg()
                    ),
                    Action::Keep(_)
                ));
            }
        }
    }

    #[test]
    fn an_installed_copy_without_its_desktop_file_changes_nothing() {
        assert!(matches!(
            decide(&facts(None, None, true), &xdg()),
            Action::Keep(_)
        ));
        assert!(matches!(
            decide(&facts(Some(dev(false)), None, true), &xdg()),
            Action::Keep(_)
        ));
    }

    #[test]
    fn a_package_desktop_file_is_not_a_runtime_registration() {
        assert!(dev(true).is_runtime_registration(&xdg()));
        assert!(!package().is_runtime_registration(&xdg()));
        let lookalike = Handler {
            id: "pixie-handler.desktop".into(),
            path: Some("/usr/share/applications/pixie-handler.desktop".into()),
            program: Some("/usr/bin/pixie".into()),
        };
        assert!(!lookalike.is_runtime_registration(&xdg()));
        assert!(is_package_path(Path::new(
            "/usr/share/applications/Pixie.desktop"
        )));
        assert!(!is_package_path(Path::new(
            "/home/ada/.local/share/applications/pixie-handler.desktop"
        )));
    }
}

#[cfg(test)]
mod unregister_tests {
    use super::*;

    fn scratch() -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("pixie-unregister-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("data/applications")).expect("scratch folder");
        std::fs::create_dir_all(dir.join("config")).expect("scratch folder");
        dir
    }

    #[test]
    fn unregister_removes_the_dev_registration_and_nothing_else() {
        let dir = scratch();
        let xdg = Xdg {
            data_home: dir.join("data"),
            config_home: dir.join("config"),
            data_dirs: vec![],
            config_dirs: vec![],
        };
        let apps = xdg.user_applications();
        std::fs::write(
            apps.join(DEV_HANDLER),
            "[Desktop Entry]\nExec=\"/gone/pixie\" %u\n",
        )
        .expect("write");
        std::fs::write(
            apps.join("other.desktop"),
            "[Desktop Entry]\nExec=other %u\n",
        )
        .expect("write");
        let list = xdg.config_home.join("mimeapps.list");
        std::fs::write(
            &list,
            "[Default Applications]\nx-scheme-handler/dev.pixie.app=pixie-handler.desktop\ntext/html=firefox.desktop\n",
        )
        .expect("write");

        let done = unregister(&xdg).expect("unregistered");
        assert_eq!(done.len(), 2, "{done:?}");
        assert!(!apps.join(DEV_HANDLER).exists());
        assert!(apps.join("other.desktop").exists());
        assert_eq!(
            std::fs::read_to_string(&list).expect("read"),
            "[Default Applications]\ntext/html=firefox.desktop\n"
        );
        // Twice is harmless: nothing left to do.
        assert_eq!(
            unregister(&xdg).expect("nothing to do"),
            Vec::<String>::new()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unregister_refuses_a_package_folder() {
        let xdg = Xdg {
            data_home: "/usr/share".into(),
            config_home: "/nonexistent/config".into(),
            data_dirs: vec![],
            config_dirs: vec![],
        };
        assert!(matches!(
            unregister(&xdg),
            Err(UnregisterError::PackageFile { .. })
        ));
    }
}
