//! The demo people: the presets offered on the sign-in page and anyone typed in, each
//! derived from a name alone.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The demo people offered on the sign-in page: (id, display name).
pub const PRESET_USERS: [(&str, &str); 3] = [
    ("ada", "Ada Lovelace"),
    ("grace", "Grace Hopper"),
    ("alan", "Alan Turing"),
];

/// A person at the demo provider. Everything is derived from the name.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub sub: String,
    pub name: String,
    pub given_name: String,
    pub family_name: Option<String>,
    pub email: String,
}

impl User {
    /// The person chosen on a sign-in page: the typed `name` (trimmed, at most 64
    /// characters) if any, else the preset person `preset` (Ada when none). `None` for an
    /// unknown preset.
    pub fn chosen(preset: Option<&str>, name: Option<&str>) -> Option<Self> {
        if let Some(typed) = name.map(str::trim).filter(|n| !n.is_empty()) {
            return Some(Self::from_name(&typed.chars().take(64).collect::<String>()));
        }
        let id = preset.unwrap_or("ada");
        PRESET_USERS
            .iter()
            .find(|(pid, _)| *pid == id)
            .map(|(_, n)| Self::from_name(n))
    }

    /// The person called `name`; the subject and email are derived from it.
    pub fn from_name(name: &str) -> Self {
        let name: String = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let digest = Sha256::digest(name.to_lowercase().as_bytes());
        let sub = format!(
            "user-{}",
            digest[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let mut words = name.splitn(2, ' ');
        let given_name = words.next().unwrap_or_default().to_owned();
        let family_name = words.next().map(str::to_owned);
        let local: String = name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '.' })
            .collect::<String>()
            .split('.')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(".");
        let local = if local.is_empty() { sub.clone() } else { local };
        Self {
            sub,
            email: format!("{local}@example.com"),
            name,
            given_name,
            family_name,
        }
    }
}
