//! The settings API of RULES §6: every path, every validation rule, atomicity,
//! save and restore, and the shared handle under concurrency.
//!
//! One module per family: the requests themselves (`requests.rs`), what is
//! refused (`validation.rs`), requests and settings as data
//! (`persistence.rs`), and concurrency (`concurrency.rs`). The helpers all
//! use are here.

mod concurrency;
mod persistence;
mod requests;
mod validation;

use chrono_tz::Asia;
use dnd_engine::{Config, Settings};

fn state(s: &Settings) -> String {
    serde_json::to_string(s).unwrap()
}

/// Sends `body` to `path` and returns the JSON answer, checking that a
/// rejected request left the settings as they were.
fn send(s: &mut Settings, path: &str, body: &str) -> String {
    let before = state(s);
    let r = s.handle(path, body.as_bytes());
    if r.code() != 200 {
        assert_eq!(state(s), before, "{path} {body} was rejected but changed the settings");
    }
    r.to_json()
}

fn fresh() -> Settings {
    Settings::new(Config::new(Asia::Shanghai))
}

fn error_of(json: &str) -> (i64, String) {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    (
        v["code"].as_i64().unwrap(),
        v["errorMessage"].as_str().unwrap_or_default().to_owned(),
    )
}

/// Asserts a 1002 whose message names `parameter`.
fn assert_rejects(path: &str, body: &str, parameter: &str) {
    let mut s = fresh();
    let (code, message) = error_of(&send(&mut s, path, body));
    assert_eq!(code, 1002, "{path} {body}");
    assert!(
        message.contains(parameter),
        "{body}: {message:?} does not name {parameter}"
    );
}
