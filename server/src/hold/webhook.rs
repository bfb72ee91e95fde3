//! The release webhook (`release_webhook` in the configuration): each
//! released digest of an app is POSTed, in order of cursor, to one
//! `http://` URL, signed with the app's secret as the platform signs its
//! requests (`App-Key`, `Nonce`, `Timestamp` in seconds, `Signature` the hex
//! SHA-1 of secret, nonce and timestamp), with the Standard Webhooks
//! headers `webhook-id` (the digest's stable id) and `webhook-timestamp`.
//! The body is the digest's JSON as `/push/released.json` answers it.
//!
//! A 2xx answer delivers it; anything else (a refusal, no answer within 10
//! seconds, no connection) is retried after an exponential backoff with full
//! jitter (`release_webhook_backoff_ms` doubled each time, at most a
//! minute), up to `release_webhook_attempts` attempts; then it is a dead
//! letter (logged and counted), and the next digest goes. The cursor
//! delivered up to is kept in the app's directory (`webhook.cursor`,
//! written whole and synced), so a restart goes on after it: delivery is at
//! least once (a crash between a delivery and its cursor's write repeats
//! that digest; a receiver drops repeats by `webhook-id`). Digests no
//! longer kept when their turn comes are counted as dead letters.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Holding;

/// What the webhook did, for the metrics.
#[derive(Debug, Default)]
pub struct WebhookStats {
    /// Digests delivered (a 2xx answer).
    pub delivered: AtomicU64,
    /// Attempts that failed and were retried.
    pub retries: AtomicU64,
    /// Digests given up on (every attempt failed, or no longer kept).
    pub dead_letters: AtomicU64,
}

/// Where and how one app's digests are delivered.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// `host:port`.
    authority: String,
    /// The path and query.
    path: String,
    /// The app key sent as `App-Key`.
    pub key: String,
    /// The app's secret, which signs.
    pub secret: String,
    /// Attempts per digest (at least 1).
    pub attempts: u32,
    /// The first retry's backoff.
    pub backoff: Duration,
    /// The file of the cursor delivered up to.
    pub cursor_file: PathBuf,
}

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest backoff.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl Webhook {
    /// A webhook to `url` (`http://host[:port][/path]`); an error naming
    /// what is wrong with it.
    pub fn new(url: &str, key: &str, secret: &str, cursor_file: PathBuf) -> Result<Webhook, String> {
        let rest = url.strip_prefix("http://").ok_or_else(|| {
            format!("release_webhook {url:?}: an http:// URL (serve HTTPS receivers through a local TLS proxy)")
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains(['@', ' ']) || path.contains([' ', '\r', '\n']) {
            return Err(format!(
                "release_webhook {url:?}: not a URL of the form http://host[:port][/path]"
            ));
        }
        let authority = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
        {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Ok(Webhook {
            authority,
            path: path.to_owned(),
            key: key.to_owned(),
            secret: secret.to_owned(),
            attempts: 10,
            backoff: Duration::from_millis(500),
            cursor_file,
        })
    }

    /// One attempt: POSTs `entry` (whose id is `id`) and reads the status.
    async fn post(&self, id: &str, entry: &str) -> Result<u16, String> {
        let nonce = format!("{:016x}", jitter_seed());
        let ts = (super::now_ms() / 1000).to_string();
        let signature = crate::auth::sign(&self.secret, &nonce, &ts);
        let host = self.authority.trim_end_matches(":80");
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Connection: close\r\nApp-Key: {}\r\nNonce: {nonce}\r\nTimestamp: {ts}\r\nSignature: {signature}\r\n\
             webhook-id: {id}\r\nwebhook-timestamp: {ts}\r\n\r\n",
            self.path,
            entry.len(),
            self.key
        );
        let attempt = async {
            let mut stream = tokio::net::TcpStream::connect(&self.authority)
                .await
                .map_err(|e| format!("connecting to {}: {e}", self.authority))?;
            stream.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
            stream.write_all(entry.as_bytes()).await.map_err(|e| e.to_string())?;
            // The status line is all that is read (at most 1 KiB of it).
            let mut buf = Vec::with_capacity(64);
            let mut byte = [0u8; 1];
            while !buf.ends_with(b"\r\n") && buf.len() < 1024 {
                if stream.read(&mut byte).await.map_err(|e| e.to_string())? == 0 {
                    break;
                }
                buf.push(byte[0]);
            }
            let line = String::from_utf8_lossy(&buf);
            line.split(' ')
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok())
                .ok_or_else(|| format!("no HTTP status in {:?}", line.trim_end()))
        };
        tokio::time::timeout(ATTEMPT_TIMEOUT, attempt)
            .await
            .map_err(|_| format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs()))?
    }

    fn read_cursor(&self) -> u64 {
        match std::fs::read_to_string(&self.cursor_file) {
            Ok(text) => text.trim().parse().unwrap_or_else(|_| {
                tracing::warn!(file = %self.cursor_file.display(), "the webhook's cursor file is damaged; delivering every kept digest again (receivers drop repeats by webhook-id)");
                0
            }),
            Err(_) => 0,
        }
    }

    fn write_cursor(&self, cursor: u64) {
        let tmp = self.cursor_file.with_extension("tmp");
        let written = (|| -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut f, format!("{cursor}\n").as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.cursor_file)
        })();
        if let Err(e) = written {
            tracing::warn!(error = %e, "writing the webhook's cursor failed; a restart repeats some deliveries");
        }
    }
}

/// A fresh pseudo-random number (for nonces and jitter).
fn jitter_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// The backoff before retry `n` (from 0): full jitter over `base` doubled `n` times, at most a minute.
fn backoff(base: Duration, n: u32) -> Duration {
    let ceiling = base.saturating_mul(1u32 << n.min(16)).min(MAX_BACKOFF);
    let ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX).max(1);
    Duration::from_millis(jitter_seed() % ms + 1)
}

/// Delivers `holding`'s digests to `hook`, in order, until the holding stops.
pub async fn run_webhook(holding: Arc<Holding>, hook: Webhook) {
    let mut delivered = hook.read_cursor();
    let mut changed = holding.subscribe();
    let stats = &holding.webhook;
    while !holding.is_stopped() {
        let entries = holding.released().entries_after(delivered, 100);
        if entries.is_empty() {
            let _ = changed.changed().await;
            continue;
        }
        for (cursor, entry) in entries {
            if cursor > delivered + 1 {
                stats.dead_letters.fetch_add(cursor - delivered - 1, Ordering::Relaxed);
                tracing::error!(
                    from = delivered + 1,
                    to = cursor - 1,
                    "digests were no longer kept when the webhook came to them"
                );
            }
            let id = serde_json::from_str::<serde_json::Value>(&entry)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned))
                .unwrap_or_default();
            let mut done = false;
            for n in 0..hook.attempts.max(1) {
                match hook.post(&id, &entry).await {
                    Ok(status) if (200..300).contains(&status) => {
                        done = true;
                        break;
                    }
                    outcome => {
                        if holding.is_stopped() {
                            return;
                        }
                        tracing::warn!(id, attempt = n + 1, outcome = ?outcome, "the release webhook did not take a digest");
                        if n + 1 < hook.attempts.max(1) {
                            stats.retries.fetch_add(1, Ordering::Relaxed);
                            tokio::select! {
                                _ = tokio::time::sleep(backoff(hook.backoff, n)) => {}
                                _ = changed.changed() => if holding.is_stopped() { return },
                            }
                        }
                    }
                }
            }
            if done {
                stats.delivered.fetch_add(1, Ordering::Relaxed);
            } else {
                stats.dead_letters.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    id,
                    attempts = hook.attempts,
                    "the release webhook refused a digest every time: a dead letter"
                );
            }
            delivered = cursor;
            hook.write_cursor(delivered);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_read_or_refused_and_backoff_grows_with_jitter_under_its_ceiling() {
        let w = Webhook::new("http://127.0.0.1:9/hook?x=1", "k", "s", PathBuf::new()).unwrap();
        assert_eq!((w.authority.as_str(), w.path.as_str()), ("127.0.0.1:9", "/hook?x=1"));
        let w = Webhook::new("http://example.com", "k", "s", PathBuf::new()).unwrap();
        assert_eq!((w.authority.as_str(), w.path.as_str()), ("example.com:80", "/"));
        for bad in ["https://x/", "ftp://x", "http:///p", "http://a b/"] {
            assert!(Webhook::new(bad, "k", "s", PathBuf::new()).is_err(), "{bad}");
        }
        let base = Duration::from_millis(100);
        for n in 0..20 {
            let b = backoff(base, n);
            assert!(
                b >= Duration::from_millis(1) && b <= base.saturating_mul(1 << n.min(16)).min(MAX_BACKOFF),
                "{n}: {b:?}"
            );
        }
    }
}
