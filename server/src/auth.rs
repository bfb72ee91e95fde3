//! Request signatures as the platform checks them, nonces seen within the
//! window, and the rate per app key.
//!
//! A request carries `App-Key`, `Nonce`, `Timestamp` and `Signature`, the
//! lowercase hex SHA-1 of the app's secret, the nonce and the timestamp,
//! concatenated. The checks run in this order, so that nothing is learnt or
//! remembered about a request whose signature is wrong: the app key (1001),
//! the signature (1004, compared in constant time), the timestamp's window,
//! the nonce's freshness (both 1002 naming the header), the rate (1008).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::config::{App, Config};

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

/// The signature checker, shared by every connection.
#[derive(Debug)]
pub struct Auth {
    apps: HashMap<String, String>,
    window: Duration,
    nonces: Mutex<Nonces>,
    rate: Option<Mutex<HashMap<String, Bucket>>>,
    rate_per_sec: f64,
}

impl Auth {
    /// A checker for the apps and limits of `config`.
    pub fn new(config: &Config) -> Auth {
        Auth {
            apps: config
                .apps
                .iter()
                .map(|App { key, secret }| (key.clone(), secret.clone()))
                .collect(),
            window: config.window(),
            nonces: Mutex::new(Nonces::new(config.max_nonces)),
            rate: (config.rate_per_app_key > 0).then(|| Mutex::new(HashMap::new())),
            rate_per_sec: f64::from(config.rate_per_app_key),
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
        let secret = self
            .apps
            .get(app_key)
            .ok_or_else(|| refuse(1001, "header App-Key: unknown app key"))?;
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
        if at + window < now || at > now + window {
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
        let expires = tick + (at + window).saturating_sub(now);
        lock(&self.nonces).insert(app_key, nonce, expires, tick)?;
        if let Some(rate) = &self.rate {
            let mut buckets = lock(rate);
            let bucket = buckets.entry(app_key.to_owned()).or_insert(Bucket {
                tokens: self.rate_per_sec,
                at: tick,
            });
            if !bucket.take(self.rate_per_sec, tick) {
                return Err(refuse(
                    1008,
                    format!("app key {app_key}: more than {} requests per second", self.rate_per_sec),
                ));
            }
        }
        Ok(app_key)
    }

    /// How many nonces are remembered now.
    pub fn nonces_held(&self) -> usize {
        lock(&self.nonces).seen.len()
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

/// The nonces seen within the window, per app key, expiring with it.
#[derive(Debug)]
struct Nonces {
    seen: HashSet<(String, String)>,
    expiry: BinaryHeap<Reverse<(Instant, String, String)>>,
    cap: usize,
}

impl Nonces {
    fn new(cap: usize) -> Nonces {
        Nonces {
            seen: HashSet::new(),
            expiry: BinaryHeap::new(),
            cap,
        }
    }

    fn insert(&mut self, app: &str, nonce: &str, expires: Instant, now: Instant) -> Result<(), Refusal> {
        while let Some(Reverse((at, _, _))) = self.expiry.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, a, n))) = self.expiry.pop() {
                self.seen.remove(&(a, n));
            }
        }
        let key = (app.to_owned(), nonce.to_owned());
        if self.seen.contains(&key) {
            return Err(refuse(1002, "header Nonce: already used within the timestamp window"));
        }
        if self.seen.len() >= self.cap {
            return Err(refuse(1008, "too many requests within the timestamp window"));
        }
        self.expiry.push(Reverse((expires, key.0.clone(), key.1.clone())));
        self.seen.insert(key);
        Ok(())
    }
}

/// A token bucket: `rate` tokens a second, at most `rate` held.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self, rate: f64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
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
        let upper = sign("s", "n2", "1700000000").to_uppercase();
        let h2 = headers("n2", "1700000000", &upper);
        assert!(a.check_at(h2, TimeUnit::Seconds, now, later).is_ok());
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
        let now = Duration::from_secs(1_000_000);
        let t = Instant::now();
        let codes: Vec<u16> = (0..3)
            .map(|i| {
                let n = format!("n{i}");
                let sig = sign("s", &n, "1000000");
                a.check_at(headers(&n, "1000000", &sig), TimeUnit::Seconds, now, t)
                    .map_or_else(|e| e.code, |_| 200)
            })
            .collect();
        assert_eq!(codes, [200, 200, 1008]);
        let sig = sign("s", "late", "1000000");
        let h = headers("late", "1000000", &sig);
        assert!(a
            .check_at(h, TimeUnit::Seconds, now, t + Duration::from_millis(600))
            .is_ok());
    }
}
