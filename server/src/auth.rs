//! Request signatures as the platform checks them, nonces seen within the
//! window, and the rate per app key.
//!
//! A request carries `App-Key`, `Nonce`, `Timestamp` and `Signature`, the
//! lowercase hex SHA-1 of the app's secret, the nonce and the timestamp,
//! concatenated. The checks run in this order, so that nothing is learnt or
//! remembered about a request whose signature is wrong: the app key (1001),
//! the signature (1004, compared in constant time), the timestamp's window,
//! the nonce's freshness (both 1002 naming the header), the rate (1008).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::config::{App, Config};
use crate::nonces::Nonces;

/// The longest nonce accepted, in bytes.
pub const MAX_NONCE_BYTES: usize = 128;

/// Why a request was refused: the platform's code and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The platform's code (1001, 1002, 1004, 1008).
    pub code: u16,
    /// What was wrong, naming the header.
    pub message: String,
}

fn refuse(code: u16, message: impl Into<String>) -> Refusal {
    Refusal {
        code,
        message: message.into(),
    }
}

/// The signature headers of one request.
#[derive(Clone, Copy, Debug)]
pub struct Headers<'a> {
    /// `App-Key`.
    pub app_key: Option<&'a str>,
    /// `Nonce`.
    pub nonce: Option<&'a str>,
    /// `Timestamp`.
    pub timestamp: Option<&'a str>,
    /// `Signature`.
    pub signature: Option<&'a str>,
}

/// The unit of a request's `Timestamp`: seconds for the form API,
/// milliseconds for the v4 API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds since the Unix epoch.
    Seconds,
    /// Milliseconds since the Unix epoch.
    Millis,
}

impl TimeUnit {
    /// What a request of this unit's API sends, in words.
    fn expects(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "the form API and the decide endpoint take seconds since the Unix epoch",
            TimeUnit::Millis => "the v4 API takes milliseconds since the Unix epoch",
        }
    }
}

/// What the checker keeps per app key: its secret, the nonces it used
/// within the window, and its rate.
struct AppState {
    secret: String,
    nonces: Mutex<Nonces>,
    rate: Option<DefaultDirectRateLimiter>,
}

/// The signature checker, shared by every connection.
pub struct Auth {
    apps: HashMap<String, AppState>,
    window: Duration,
    rate_per_sec: u32,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("apps", &self.apps.keys().collect::<Vec<_>>())
            .field("window", &self.window)
            .field("rate_per_sec", &self.rate_per_sec)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// A checker for the apps and limits of `config`.
    pub fn new(config: &Config) -> Auth {
        let window = config.window();
        let quota = NonZeroU32::new(config.rate_per_app_key).map(Quota::per_second);
        Auth {
            apps: config
                .apps
                .iter()
                .map(|App { key, secret }| {
                    let state = AppState {
                        secret: secret.clone(),
                        nonces: Mutex::new(Nonces::new(config.max_nonces, window)),
                        rate: quota.map(RateLimiter::direct),
                    };
                    (key.clone(), state)
                })
                .collect(),
            window,
            rate_per_sec: config.rate_per_app_key,
        }
    }

    /// Checks a request's headers at the current time; on success returns the app key.
    pub fn check<'a>(&self, headers: Headers<'a>, unit: TimeUnit) -> Result<&'a str, Refusal> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        self.check_at(headers, unit, now, Instant::now())
    }

    /// [`Auth::check`] at wall-clock time `now` (since the epoch) and monotonic time `tick`.
    pub fn check_at<'a>(
        &self,
        headers: Headers<'a>,
        unit: TimeUnit,
        now: Duration,
        tick: Instant,
    ) -> Result<&'a str, Refusal> {
        let app_key = headers
            .app_key
            .ok_or_else(|| refuse(1001, "header App-Key is missing"))?;
        let app = self
            .apps
            .get(app_key)
            .ok_or_else(|| refuse(1001, "header App-Key: unknown app key"))?;
        let secret = &app.secret;
        let nonce = headers.nonce.ok_or_else(|| refuse(1002, "header Nonce is missing"))?;
        let timestamp = headers
            .timestamp
            .ok_or_else(|| refuse(1002, "header Timestamp is missing"))?;
        let signature = headers
            .signature
            .ok_or_else(|| refuse(1004, "header Signature is missing"))?;
        if !signature_matches(secret, nonce, timestamp, signature) {
            return Err(refuse(1004, "header Signature: the signature is wrong"));
        }
        if nonce.is_empty() || nonce.len() > MAX_NONCE_BYTES {
            return Err(refuse(
                1002,
                format!("header Nonce must be 1 to {MAX_NONCE_BYTES} bytes"),
            ));
        }
        let at = parse_timestamp(timestamp, unit).ok_or_else(|| {
            refuse(
                1002,
                format!(
                    "header Timestamp: {timestamp:?} is not a whole number ({})",
                    unit.expects()
                ),
            )
        })?;
        let window = self.window;
        // A timestamp so large that it overflows is as far off as any.
        let late = at.checked_add(window).is_none_or(|end| end < now);
        if late || at > now + window {
            return Err(refuse(
                1002,
                format!(
                    "header Timestamp: {timestamp} is more than {} s from the server's clock ({})",
                    window.as_secs(),
                    unit.expects()
                ),
            ));
        }
        // Remembered until the timestamp leaves the window: after that the
        // same request is refused for its timestamp.
        let left = (at + window).saturating_sub(now);
        lock(&app.nonces).insert(nonce, left, tick)?;
        if let Some(rate) = &app.rate {
            if rate.check().is_err() {
                return Err(refuse(
                    1008,
                    format!("app key {app_key}: more than {} requests per second", self.rate_per_sec),
                ));
            }
        }
        Ok(app_key)
    }

    /// How many nonces are remembered now, over every app key.
    pub fn nonces_held(&self) -> usize {
        self.apps.values().map(|a| lock(&a.nonces).len()).sum()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The hex SHA-1 of `secret + nonce + timestamp`, as the SDKs compute it.
pub fn sign(secret: &str, nonce: &str, timestamp: &str) -> String {
    hex::encode(digest(secret, nonce, timestamp))
}

fn digest(secret: &str, nonce: &str, timestamp: &str) -> [u8; 20] {
    let mut h = Sha1::new();
    h.update(secret.as_bytes());
    h.update(nonce.as_bytes());
    h.update(timestamp.as_bytes());
    h.finalize().into()
}

/// Whether `signature` (hex, either case) is the request's signature; the
/// digests are compared in constant time.
fn signature_matches(secret: &str, nonce: &str, timestamp: &str, signature: &str) -> bool {
    let mut given = [0u8; 20];
    if hex::decode_to_slice(signature, &mut given).is_err() {
        return false;
    }
    digest(secret, nonce, timestamp).ct_eq(&given).into()
}

fn parse_timestamp(text: &str, unit: TimeUnit) -> Option<Duration> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = text.parse().ok()?;
    Some(match unit {
        TimeUnit::Seconds => Duration::from_secs(n),
        TimeUnit::Millis => Duration::from_millis(n),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(rate: u32, cap: usize) -> Auth {
        let mut config = Config::default();
        config.apps.push(App {
            key: "k".into(),
            secret: "s".into(),
        });
        config.rate_per_app_key = rate;
        config.max_nonces = cap;
        Auth::new(&config)
    }

    fn headers<'a>(nonce: &'a str, ts: &'a str, sig: &'a str) -> Headers<'a> {
        Headers {
            app_key: Some("k"),
            nonce: Some(nonce),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    #[test]
    fn the_sdk_signature_is_accepted_once_within_the_window() {
        let a = auth(0, 10);
        let now = Duration::from_secs(1_700_000_000);
        let t0 = Instant::now();
        // sha1("s" + "n1" + "1700000000"), as the SDKs compute it.
        let sig = sign("s", "n1", "1700000000");
        assert_eq!(sig.len(), 40);
        let h = headers("n1", "1700000000", &sig);
        assert_eq!(a.check_at(h, TimeUnit::Seconds, now, t0), Ok("k"));
        assert_eq!(a.check_at(h, TimeUnit::Seconds, now, t0).unwrap_err().code, 1002);
        // The nonce is forgotten once its timestamp has left the window, and
        // the request is then refused for its timestamp instead.
        let later = t0 + Duration::from_secs(301);
        let err = a
            .check_at(h, TimeUnit::Seconds, now + Duration::from_secs(301), later)
            .unwrap_err();
        assert!(err.message.contains("Timestamp"), "{err:?}");
        assert_eq!(a.nonces_held(), 1);
        // Well past the window (and the slot the nonce was kept in), a new
        // request makes room: the first nonce is forgotten.
        let much_later = t0 + Duration::from_secs(330);
        let ts2 = (1_700_000_000u64 + 330).to_string();
        let upper = sign("s", "n2", &ts2).to_uppercase();
        let h2 = headers("n2", &ts2, &upper);
        assert!(a
            .check_at(h2, TimeUnit::Seconds, now + Duration::from_secs(330), much_later)
            .is_ok());
        assert_eq!(a.nonces_held(), 1, "the first nonce expired");
    }

    #[test]
    fn refusals_carry_the_platform_codes() {
        let a = auth(0, 1);
        let now = Duration::from_millis(1_700_000_000_123);
        let t = Instant::now();
        let ts = "1700000000123";
        let good = sign("s", "n", ts);
        let mut h = headers("n", ts, &good);
        h.app_key = Some("other");
        assert_eq!(a.check_at(h, TimeUnit::Millis, now, t).unwrap_err().code, 1001);
        let bad = sign("t", "n", ts);
        assert_eq!(
            a.check_at(headers("n", ts, &bad), TimeUnit::Millis, now, t)
                .unwrap_err()
                .code,
            1004
        );
        assert_eq!(
            a.check_at(headers("n", ts, "zz"), TimeUnit::Millis, now, t)
                .unwrap_err()
                .code,
            1004
        );
        // Milliseconds read as seconds are far in the future.
        let err = a
            .check_at(headers("n", ts, &good), TimeUnit::Seconds, now, t)
            .unwrap_err();
        assert_eq!((err.code, err.message.contains("Timestamp")), (1002, true));
        assert_eq!(a.nonces_held(), 0, "refused requests leave no nonce");
        assert!(a.check_at(headers("n", ts, &good), TimeUnit::Millis, now, t).is_ok());
        let other = sign("s", "m", ts);
        assert_eq!(
            a.check_at(headers("m", ts, &other), TimeUnit::Millis, now, t)
                .unwrap_err()
                .code,
            1008,
            "the nonce memory is full"
        );
    }

    #[test]
    fn the_rate_per_app_key_refuses_past_the_burst_and_refills() {
        let a = auth(2, 100);
        let check = |n: &str| {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let ts = now.as_secs().to_string();
            let sig = sign("s", n, &ts);
            a.check_at(headers(n, &ts, &sig), TimeUnit::Seconds, now, Instant::now())
                .map_or_else(|e| e.code, |_| 200)
        };
        let codes: Vec<u16> = (0..3).map(|i| check(&format!("n{i}"))).collect();
        assert_eq!(codes, [200, 200, 1008]);
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(check("late"), 200, "refilled");
    }

    #[test]
    fn a_timestamp_too_large_to_add_to_is_refused_not_a_panic() {
        let a = auth(0, 10);
        let now = Duration::from_secs(1_700_000_000);
        for (ts, unit) in [
            (u64::MAX.to_string(), TimeUnit::Seconds),
            (u64::MAX.to_string(), TimeUnit::Millis),
            ((u64::MAX - 100).to_string(), TimeUnit::Seconds),
        ] {
            let sig = sign("s", "n", &ts);
            let err = a
                .check_at(headers("n", &ts, &sig), unit, now, Instant::now())
                .unwrap_err();
            assert_eq!(err.code, 1002, "{ts}");
            assert!(err.message.contains("Timestamp"), "{err:?}");
        }
    }

    #[test]
    fn each_app_key_has_its_own_nonces_and_limit() {
        let mut config = Config::default();
        for (key, secret) in [("k", "s"), ("k2", "s2")] {
            config.apps.push(App {
                key: key.into(),
                secret: secret.into(),
            });
        }
        config.max_nonces = 3;
        let a = Auth::new(&config);
        let now = Duration::from_secs(1_700_000_000);
        let t = Instant::now();
        let ts = "1700000000";
        let check = |key: &'static str, secret: &str, nonce: &str| {
            let sig = sign(secret, nonce, ts);
            let mut h = headers(nonce, ts, &sig);
            h.app_key = Some(key);
            a.check_at(h, TimeUnit::Seconds, now, t)
                .map_or_else(|e| e.code, |_| 200)
        };
        // One app fills its own memory ...
        let filled: Vec<u16> = (0..4).map(|i| check("k", "s", &format!("n{i}"))).collect();
        assert_eq!(filled, [200, 200, 200, 1008]);
        // ... and the other is not touched, not even by the same nonces.
        assert_eq!(check("k2", "s2", "n0"), 200);
        assert_eq!(check("k2", "s2", "other"), 200);
        assert_eq!(check("k2", "s2", "n0"), 1002);
    }
}
