//! The service's configuration: a TOML file, the app keys from the file or
//! the environment, and every limit with a default.
//!
//! Secrets never come from the command line (where `ps` shows them) and are
//! never printed: [`App`]'s `Debug` hides the secret.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use dnd_engine::{parse_zone, ConversationType, Level};
use serde::Deserialize;

/// One application allowed to call the service.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// The `App-Key` header's value.
    pub key: String,
    /// The secret the signature is made with.
    pub secret: String,
}

impl fmt::Debug for App {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("key", &self.key)
            .field("secret", &"<hidden>")
            .finish()
    }
}

/// The service's configuration. Every field has a default; see
/// `docs/service.md` for what each bounds.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// The applications allowed to call the service.
    pub apps: Vec<App>,
    /// The data center's IANA time zone. A store keeps the zone it was
    /// created with: given here, it must be the store's (else the service
    /// refuses to start, naming both); not given, a store keeps its own and a
    /// new store is made in UTC, with a warning.
    pub time_zone: Option<String>,
    /// The application's default levels by conversation type code; as
    /// [`Config::time_zone`], kept by the store (none for a new store).
    pub app_defaults: Option<Vec<(i64, i64)>>,
    /// Whether private messages count as mentioning their recipient; as
    /// [`Config::time_zone`], kept by the store (false for a new store).
    pub private_as_mention: Option<bool>,
    /// The most members for an @all to count; as [`Config::time_zone`],
    /// kept by the store (no maximum for a new store).
    pub mention_all_max_members: Option<u32>,
    /// How far a request's `Timestamp` may be from the server's clock, in seconds.
    pub timestamp_window_secs: u64,
    /// The most nonces remembered at once per app key; past it that app
    /// key's requests are refused with 1008.
    pub max_nonces: usize,
    /// The largest settings request body, in bytes.
    pub max_body_bytes: usize,
    /// The largest decide request body, in bytes.
    pub max_decide_body_bytes: usize,
    /// The most recipients in one decide request.
    pub max_recipients: usize,
    /// The largest request head (request line and headers), in bytes.
    pub max_header_bytes: usize,
    /// How long a client may take to send its request head, in milliseconds.
    pub header_timeout_ms: u64,
    /// How long a client may take to send a settings body, or between two
    /// pieces of a decide body, in milliseconds.
    pub body_timeout_ms: u64,
    /// The least rate of a decide body, in bytes a second, after its first
    /// `body_timeout_ms` (0: no floor).
    pub min_body_bytes_per_sec: u32,
    /// Threads deciding pushes at once (0: four per core, since a
    /// cluster's decides wait on the network as much as they compute).
    pub decide_threads: usize,
    /// How long a write to a client may make no progress before the
    /// connection is closed, in milliseconds.
    pub send_timeout_ms: u64,
    /// The kernel's send buffer per connection, in bytes (0: the kernel's
    /// own, which grows to megabytes): how much of its answers a client
    /// that does not read can leave waiting.
    pub send_buffer_bytes: u32,
    /// The most connections served at once; past it a connection whose
    /// writes are stalled is closed to make room, or the newcomer waits.
    pub max_connections: usize,
    /// The certificate chain (PEM) to serve HTTPS with, beside `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Requests per second allowed per app key (with a burst of the same
    /// size); 0 means no limit.
    pub rate_per_app_key: u32,
    /// How many logged changes trigger a new snapshot.
    pub compact_every: u64,
    /// The most items per recipient a push that asks to hold keeps in
    /// detail; beyond, counts only (their next digest says how many).
    pub hold_detail_limit: u32,
    /// How long released digests are kept for `/push/released.json`, in
    /// seconds (counted from each release).
    pub release_keep_secs: u64,
    /// The most released digests kept; past it the oldest are forgotten.
    pub release_keep_max: usize,
    /// An `http://` URL each released digest is POSTed to, signed with its
    /// app's secret (see `docs/service.md`, "Holding"); none by default.
    pub release_webhook: Option<String>,
    /// Attempts per digest before it is a dead letter.
    pub release_webhook_attempts: u32,
    /// The first retry's backoff, in milliseconds (doubled each retry, with
    /// full jitter, at most a minute).
    pub release_webhook_backoff_ms: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            apps: Vec::new(),
            time_zone: None,
            app_defaults: None,
            private_as_mention: None,
            mention_all_max_members: None,
            timestamp_window_secs: 300,
            max_nonces: 1_000_000,
            max_body_bytes: 64 * 1024,
            max_decide_body_bytes: 128 * 1024 * 1024,
            max_recipients: 1_000_000,
            max_header_bytes: 16 * 1024,
            header_timeout_ms: 10_000,
            body_timeout_ms: 10_000,
            min_body_bytes_per_sec: 64 * 1024,
            decide_threads: 0,
            send_timeout_ms: 10_000,
            send_buffer_bytes: 256 * 1024,
            max_connections: 1024,
            tls_cert: None,
            tls_key: None,
            rate_per_app_key: 0,
            compact_every: 100_000,
            hold_detail_limit: dnd_engine::DEFAULT_DETAIL_LIMIT,
            release_keep_secs: 7 * 24 * 3600,
            release_keep_max: 1_000_000,
            release_webhook: None,
            release_webhook_attempts: 10,
            release_webhook_backoff_ms: 500,
        }
    }
}

impl Config {
    /// Reads a TOML configuration file.
    pub fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Adds the app named by `DND_APP_KEY` and `DND_APP_SECRET`, if both
    /// are set, and takes the time zone from `DND_TIME_ZONE` if it is set
    /// (over the file's).
    pub fn with_env(mut self) -> Result<Config, String> {
        match (std::env::var("DND_APP_KEY"), std::env::var("DND_APP_SECRET")) {
            (Ok(key), Ok(secret)) => self.apps.push(App { key, secret }),
            (Err(_), Err(_)) => {}
            _ => return Err("DND_APP_KEY and DND_APP_SECRET are set together or not at all".into()),
        }
        if let Ok(zone) = std::env::var("DND_TIME_ZONE") {
            self.time_zone = Some(zone);
        }
        Ok(self)
    }

    /// Checks the configuration and builds the engine's configuration for a new store.
    pub fn engine_config(&self) -> Result<dnd_engine::Config, String> {
        if self.apps.is_empty() {
            return Err("no app key: set DND_APP_KEY and DND_APP_SECRET, or [[apps]] in the config file".into());
        }
        for (i, app) in self.apps.iter().enumerate() {
            if app.key.is_empty() || app.secret.is_empty() {
                return Err(format!("app {:?}: the key and the secret must not be empty", app.key));
            }
            crate::apps::check_key(&app.key)?;
            if let Some(other) = self.apps[..i].iter().find(|o| o.key.eq_ignore_ascii_case(&app.key)) {
                return Err(format!(
                    "app {:?}: the key is given twice (as {:?}; keys name directories, compared ignoring case)",
                    app.key, other.key
                ));
            }
        }
        if self.max_header_bytes < 8192 {
            return Err("max_header_bytes must be at least 8192".into());
        }
        self.engine()
    }

    /// The engine's configuration (`time_zone`, `app_defaults`, the mention
    /// policy) alone, with the defaults of a new store for the keys not
    /// given: what a cluster's shard needs, which serves no app.
    pub fn engine(&self) -> Result<dnd_engine::Config, String> {
        let zone = parse_zone(self.time_zone.as_deref().unwrap_or("UTC")).map_err(|e| format!("time_zone: {e}"))?;
        let mut config = dnd_engine::Config::new(zone);
        for &(t, l) in self.app_defaults.iter().flatten() {
            let t = ConversationType::from_code(t).map_err(|e| format!("app_defaults: {e}"))?;
            let l = Level::from_code(l).map_err(|e| format!("app_defaults: {e}"))?;
            config.app_defaults.set(t, l);
        }
        config.private_as_mention = self.private_as_mention.unwrap_or(false);
        config.mention_all_max_members = self.mention_all_max_members;
        Ok(config)
    }

    /// Where the engine settings this configuration gives differ from
    /// `store`'s (the settings a store keeps): one line per key, naming
    /// both values. Keys not given never differ.
    pub fn differences(&self, store: &dnd_engine::Config) -> Result<Vec<String>, String> {
        let given = self.engine()?;
        let mut out = Vec::new();
        if self.time_zone.is_some() && given.time_zone != store.time_zone {
            out.push(format!(
                "time_zone: the configuration says {}, the store keeps {}",
                given.time_zone.name(),
                store.time_zone.name()
            ));
        }
        if self.app_defaults.is_some() && given.app_defaults != store.app_defaults {
            out.push(format!(
                "app_defaults: the configuration says {}, the store keeps {}",
                app_defaults_text(&given.app_defaults),
                app_defaults_text(&store.app_defaults)
            ));
        }
        if self.private_as_mention.is_some() && given.private_as_mention != store.private_as_mention {
            out.push(format!(
                "private_as_mention: the configuration says {}, the store keeps {}",
                given.private_as_mention, store.private_as_mention
            ));
        }
        if self.mention_all_max_members.is_some() && given.mention_all_max_members != store.mention_all_max_members {
            let text = |m: Option<u32>| m.map_or_else(|| "no maximum".to_owned(), |m| m.to_string());
            out.push(format!(
                "mention_all_max_members: the configuration says {}, the store keeps {}",
                text(given.mention_all_max_members),
                text(store.mention_all_max_members)
            ));
        }
        Ok(out)
    }

    /// Whether the time zone was given (in the file, `DND_TIME_ZONE` or
    /// `--time-zone`) rather than left to the store or the default.
    pub fn zone_given(&self) -> bool {
        self.time_zone.is_some()
    }

    /// [`Config::release_keep_secs`] in milliseconds.
    pub fn release_keep_ms(&self) -> i64 {
        i64::try_from(self.release_keep_secs.saturating_mul(1000)).unwrap_or(i64::MAX)
    }

    /// [`Config::timestamp_window_secs`] as a duration.
    pub fn window(&self) -> Duration {
        Duration::from_secs(self.timestamp_window_secs)
    }
}

/// App defaults as `TYPE=LEVEL` pairs, `none` when there are none.
fn app_defaults_text(d: &dnd_engine::AppDefaults) -> String {
    let pairs: Vec<String> = ConversationType::ALL
        .iter()
        .filter_map(|&t| d.get(t).map(|l| format!("{}={}", t.code(), l.code())))
        .collect();
    if pairs.is_empty() {
        "none".into()
    } else {
        pairs.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_overrides_defaults_and_hides_secrets() {
        let config = Config::from_toml(
            "time_zone = \"Asia/Shanghai\"\nrate_per_app_key = 5\n[[apps]]\nkey = \"k\"\nsecret = \"s3cret\"\n",
        )
        .unwrap();
        assert_eq!(config.rate_per_app_key, 5);
        let engine = config.engine().unwrap();
        assert!(!engine.private_as_mention && engine.mention_all_max_members.is_none());
        let policy = Config::from_toml("private_as_mention = true\nmention_all_max_members = 500\n").unwrap();
        let engine = policy.engine().unwrap();
        assert!(engine.private_as_mention);
        assert_eq!(engine.mention_all_max_members, Some(500));
        assert!(Config::from_toml("mention_all_max_members = -1\n").is_err());
        assert_eq!(config.max_body_bytes, Config::default().max_body_bytes);
        assert!(config.engine_config().is_ok());
        assert!(!format!("{config:?}").contains("s3cret"));
        assert!(Config::from_toml("nonsense = 1").is_err());
        assert!(Config::default().engine_config().unwrap_err().contains("no app key"));
    }
}
