//! The released-digest protocol: how a consumer reads the digests a
//! service released, in order, resuming from its cursor.
//!
//! The request, `POST /push/released.json`, signed as every other path, is
//! a form body:
//! - `after`: a cursor, 0 or more (absent: 0, from the oldest digest kept);
//!   only digests with a greater cursor are answered;
//! - `limit`: at most this many digests, 1 to [`MAX_LIMIT`] (absent:
//!   [`DEFAULT_LIMIT`]);
//! - `wait`: seconds to wait, 0 to [`MAX_WAIT_SECS`] (absent: 0), when no
//!   digest follows `after` yet: the answer comes as soon as one is
//!   released, or empty when the time is up (a long poll).
//!
//! Each value is refused with code 1002 naming the parameter.
//!
//! The answer: `{"code":200,"cursor":C,"digests":[...]}`, the digests in
//! order of cursor, each the digest's own JSON (`{"userId","at",
//! "conversations",...}`, see [`Digest`]) with its `"cursor"` and `"id"`
//! first; `C` is the cursor to pass as `after` next (the last digest's, or
//! `after` itself when none came). A cursor is a number that grows with
//! every digest released, per app: a consumer that keeps the last one it
//! handled and passes it again after any restart (its own or the
//! service's) reads every digest once, in order. A cursor older than the
//! digests kept (they are kept for a configured time) answers from the
//! oldest kept, with `"skipped": true`, so a consumer knows it missed some.
//!
//! A digest's `id` is stable: the same digest has the same id however
//! often it is written (an answer read twice, a webhook retried), so a
//! receiver drops repeats by it. It is [`digest_id`]: `{at}-{userId}`,
//! and `{at}-{userId}-{k}` for the `k`-th digest (from 2) of one recipient
//! at one instant (an item held after the evaluation that released the
//! first, due at that very instant, is a digest of its own).
//!
//! ```
//! use dnd_engine::released::{page_json, ReleasedRequest};
//! let r = ReleasedRequest::from_form(b"after=41&limit=2&wait=5")?;
//! assert_eq!((r.after, r.limit, r.wait_secs), (41, 2, 5));
//! let e = ReleasedRequest::from_form(b"limit=0").unwrap_err();
//! assert_eq!(e.parameter(), Some("limit"));
//! assert_eq!(page_json(41, false, std::iter::empty()), r#"{"code":200,"cursor":41,"digests":[]}"#);
//! # Ok::<(), dnd_engine::Error>(())
//! ```

use crate::error::Error;
use crate::hold::Digest;
use crate::protocol::request::form::Form;

/// The path of the request.
pub const PATH: &str = "/push/released.json";
/// The most digests one answer carries.
pub const MAX_LIMIT: u32 = 1_000;
/// How many digests an answer carries when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 100;
/// The longest wait, in seconds.
pub const MAX_WAIT_SECS: u32 = 30;

/// A request for released digests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReleasedRequest {
    /// Only digests with a greater cursor.
    pub after: u64,
    /// At most this many (1 to [`MAX_LIMIT`]).
    pub limit: u32,
    /// Seconds to wait for one when none follows `after` (0 to [`MAX_WAIT_SECS`]).
    pub wait_secs: u32,
}

impl Default for ReleasedRequest {
    fn default() -> Self {
        ReleasedRequest {
            after: 0,
            limit: DEFAULT_LIMIT,
            wait_secs: 0,
        }
    }
}

/// `name`'s value, a whole number from `min` to `max`, if given.
fn bounded(form: &Form<'_>, name: &'static str, min: i64, max: i64) -> Result<Option<i64>, Error> {
    let Some(n) = form.optional_number(name)? else {
        return Ok(None);
    };
    if (min..=max).contains(&n) {
        Ok(Some(n))
    } else {
        Err(Error::Invalid(format!("{n} is not from {min} to {max}")).in_parameter(name))
    }
}

impl ReleasedRequest {
    /// Reads the request's form body; the error names the parameter.
    pub fn from_form(body: &[u8]) -> Result<ReleasedRequest, Error> {
        let form = Form::decode(body);
        let after = bounded(&form, "after", 0, i64::MAX)?.unwrap_or(0);
        let limit = bounded(&form, "limit", 1, i64::from(MAX_LIMIT))?.unwrap_or(i64::from(DEFAULT_LIMIT));
        let wait = bounded(&form, "wait", 0, i64::from(MAX_WAIT_SECS))?.unwrap_or(0);
        Ok(ReleasedRequest {
            after: after as u64,
            limit: limit as u32,
            wait_secs: wait as u32,
        })
    }

    /// The form body that asks for this request.
    pub fn to_form(&self) -> String {
        format!("after={}&limit={}&wait={}", self.after, self.limit, self.wait_secs)
    }
}

/// The stable id of `digest`, the `k`-th (from 1) digest of its recipient
/// at its instant: `{at}-{userId}`, and `{at}-{userId}-{k}` from the second.
pub fn digest_id(digest: &Digest, k: u32) -> String {
    match k {
        0 | 1 => digest.id(),
        k => format!("{}-{k}", digest.id()),
    }
}

/// One released digest as an answer carries it: its JSON object with
/// `"cursor"` and `"id"` first, then the digest's own fields.
pub fn entry_json(cursor: u64, id: &str, digest: &Digest) -> String {
    let body = serde_json::to_string(digest).unwrap_or_else(|_| "{}".into());
    let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
    let rest = body.strip_prefix('{').unwrap_or(&body);
    format!("{{\"cursor\":{cursor},\"id\":{id},{rest}")
}

/// The answer: `{"code":200,"cursor":C,"digests":[...]}` with `entries`
/// (each an [`entry_json`]) in order, and `"skipped":true` after the cursor
/// when digests after the consumer's cursor were no longer kept.
pub fn page_json<'e>(cursor: u64, skipped: bool, entries: impl Iterator<Item = &'e str>) -> String {
    let mut out = format!("{{\"code\":200,\"cursor\":{cursor},");
    if skipped {
        out.push_str("\"skipped\":true,");
    }
    out.push_str("\"digests\":[");
    for (i, e) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(e);
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::{Conversation, Message};
    use crate::hold::Held;
    use crate::protocol::request::Response;
    use crate::store::{Config, Settings};

    fn digest() -> Digest {
        let mut settings = Settings::new(Config::new(chrono_tz::UTC));
        let ok = settings.handle(
            "/user/blockPushPeriod/set.json",
            b"userId=u&startTime=22:00:00&period=540&level=5",
        );
        assert_eq!(ok.code(), 200);
        let mut held = Held::new();
        let at = "2026-11-22T23:30:00Z".parse().unwrap();
        let message = Message::new(Conversation::Group { group_id: "g" }, "s", at)
            .with_hold()
            .with_message_id("m\"1");
        let prepared = settings.prepare(&message);
        held.hold(&prepared, [("u", prepared.decide_id("u"))]).unwrap();
        held.release(&settings, "2026-11-23T08:00:00Z".parse().unwrap())
            .digests
            .remove(0)
    }

    #[test]
    fn an_entry_is_the_digest_with_its_cursor_and_id_first_and_the_page_carries_them_in_order() {
        let d = digest();
        let e = entry_json(7, &digest_id(&d, 1), &d);
        let v: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(v["cursor"], 7);
        assert_eq!(v["id"], "1795417200000-u");
        assert_eq!(v["userId"], "u");
        assert_eq!(v["conversations"][0]["lastMessageId"], "m\"1");
        assert!(e.starts_with(r#"{"cursor":7,"id":"1795417200000-u","userId""#), "{e}");
        assert_eq!(digest_id(&d, 2), "1795417200000-u-2");
        let page = page_json(8, true, [e.as_str(), e.as_str()].into_iter());
        let v: serde_json::Value = serde_json::from_str(&page).unwrap();
        assert_eq!(
            (v["code"].as_i64(), v["cursor"].as_i64(), v["skipped"].as_bool()),
            (Some(200), Some(8), Some(true))
        );
        assert_eq!(v["digests"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn each_parameter_is_checked_and_refused_by_name() {
        assert_eq!(ReleasedRequest::from_form(b"").unwrap(), ReleasedRequest::default());
        let r = ReleasedRequest::from_form(b"after=18446744073709551615&limit=1000&wait=30");
        assert_eq!(r.unwrap_err().parameter(), Some("after"), "beyond i64");
        let r = ReleasedRequest::from_form(b"after=9&limit=1000&wait=30").unwrap();
        assert_eq!(ReleasedRequest::from_form(r.to_form().as_bytes()).unwrap(), r);
        for (body, name) in [
            (&b"after=-1"[..], "after"),
            (b"after=x", "after"),
            (b"after=", "after"),
            (b"after=1&after=2", "after"),
            (b"limit=0", "limit"),
            (b"limit=1001", "limit"),
            (b"wait=31", "wait"),
            (b"wait=-1", "wait"),
            (b"wait=1.5", "wait"),
        ] {
            let e = ReleasedRequest::from_form(body).unwrap_err();
            assert_eq!(e.parameter(), Some(name), "{}: {e}", String::from_utf8_lossy(body));
            assert_eq!(Response::from_error(&e).code(), 1002);
        }
    }
}
