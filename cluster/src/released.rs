//! The released digests of an app: a JetStream stream of their own,
//! `DNDR_<T>` (`T` the app's token, [`crate::space`]), that the shards
//! append due digests to and that push workers consume directly, or read
//! through an API node's `POST /push/released.json` (the cursor is the
//! stream sequence).
//!
//! | subject | holds |
//! |---|---|
//! | `dnd.T.released.<n>.<i>` | the digests shard `i` of `n` released, in order of release |
//!
//! A push worker subscribes to `dnd.T.released.>`. Each message is one
//! digest: its JSON as `dnd replay` writes it (`{"userId", "at",
//! "conversations": [...]}`, `docs/rules.md`) with its stable `"id"` first
//! (`{at}-{userId}`, and `{at}-{userId}-{k}` for the `k`-th digest of one
//! recipient at one instant: [`dnd_engine::released::digest_id`]), as an
//! entry of `/push/released.json` is without its cursor; headers
//! `Nats-Msg-Id` (`d-` and the hex SHA-1 of the payload: the same digest,
//! released again by a replica or a restarted shard, is stored once, and
//! two digests of one recipient and instant with different items, released
//! by two evaluations, are both kept)
//! and [`RELEASE_HEADER`] (the stream sequence of the release record that
//! released it, in the app's own stream).
//!
//! Why a stream apart from the app's: the app's stream is trimmed below
//! the shards' snapshots, the released digests are kept for their own
//! time ([`KEEP`]), and a consumer reads one subject tree in one order.

use std::time::Duration;

use async_nats::jetstream::{self, context::Context, message::PublishMessage, stream};
use dnd_engine::released::{digest_id, page_json, ReleasedRequest};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::Digest;
use futures::StreamExt;
use sha1::{Digest as _, Sha1};

use crate::log::{retry, CALL_TIMEOUT};
use crate::space::Space;
use crate::{nats, Error};

/// The prefix of every app's released stream: not an app stream's
/// ([`crate::space::STREAM_PREFIX`] is `DND_`), so the shards never take
/// it for an app.
pub const STREAM_PREFIX: &str = "DNDR_";
/// The header naming the release record (its sequence in the app's
/// stream) that released a digest.
pub const RELEASE_HEADER: &str = "Dnd-Release";
/// How long a second release of a digest is recognized as a duplicate by
/// its `Nats-Msg-Id` at most (the stream's duplicate window; past it, the
/// check of the last released digest's record keeps it from being stored
/// again): a day, or the keeping time if shorter.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// How the released stream keeps digests (set when an API node creates it;
/// a stream made earlier keeps its own): the service's `release_keep_secs`
/// and `release_keep_max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keep {
    /// How long a digest is kept after its release.
    pub age: Duration,
    /// The most digests kept; past it the oldest are forgotten.
    pub digests: usize,
}

impl Default for Keep {
    /// The service's defaults: a week, a million digests.
    fn default() -> Keep {
        Keep {
            age: Duration::from_secs(7 * 24 * 3600),
            digests: 1_000_000,
        }
    }
}
/// The most digests one read answers (the protocol's own limit).
pub const MAX_LIMIT: usize = dnd_engine::released::MAX_LIMIT as usize;
/// The longest a read may wait for a digest (`wait`).
pub const MAX_WAIT: Duration = Duration::from_secs(dnd_engine::released::MAX_WAIT_SECS as u64);

/// The released stream's name for `space`.
pub fn stream_name(space: &Space) -> String {
    format!("{STREAM_PREFIX}{}", space.token())
}

/// Every subject of `space`'s released stream.
pub fn subjects(space: &Space) -> String {
    format!("dnd.{}.released.>", space.token())
}

/// The subject shard `shard` of `layout` releases its digests on.
pub fn subject(space: &Space, layout: Layout, shard: ShardId) -> String {
    format!("dnd.{}.released.{}.{}", space.token(), layout.shards(), shard)
}

/// A released digest as stored: its JSON with `"id"` first.
pub fn stored_json(id: &str, digest: &Digest) -> String {
    let body = serde_json::to_string(digest).unwrap_or_else(|_| "{}".into());
    let id = serde_json::to_string(id).unwrap_or_else(|_| "\"\"".into());
    let rest = body.strip_prefix('{').unwrap_or(&body);
    format!("{{\"id\":{id},{rest}")
}

/// A digest as read back from the stream: its cursor and JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadDigest {
    /// Its stream sequence: a read `after` it answers the digests past it.
    pub cursor: u64,
    /// Its JSON as stored ([`stored_json`]), `"id"` first.
    pub json: String,
}

impl ReadDigest {
    /// Its entry of `/push/released.json`: `"cursor"` first, then `"id"`
    /// and the digest's fields.
    pub fn entry_json(&self) -> String {
        let rest = self.json.strip_prefix('{').unwrap_or(&self.json);
        format!("{{\"cursor\":{},{rest}", self.cursor)
    }
}

/// The `Nats-Msg-Id` of a released digest whose payload is `payload`:
/// header-safe whatever the user id holds.
pub fn message_id(payload: &[u8]) -> String {
    let hash = Sha1::digest(payload);
    let mut out = String::with_capacity(42);
    out.push_str("d-");
    for b in hash {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Opens `space`'s released stream, creating it (with `replicas` copies,
/// keeping digests as `keep` says) if there is none; an existing stream
/// keeps its own settings.
pub async fn open(js: &Context, space: &Space, replicas: usize, keep: Keep) -> Result<stream::Stream, Error> {
    let config = stream::Config {
        name: stream_name(space),
        subjects: vec![subjects(space)],
        storage: stream::StorageType::File,
        max_age: keep.age,
        max_messages: i64::try_from(keep.digests).unwrap_or(i64::MAX).max(1),
        duplicate_window: keep.age.min(DUPLICATE_WINDOW),
        num_replicas: replicas,
        allow_direct: true,
        ..Default::default()
    };
    retry("create the released stream", || js.get_or_create_stream(config.clone())).await
}

/// Appends the digests of the release record at `release` (a sequence of
/// the app's stream) to `subject`, unless a later release record's digests
/// are already there (a replica or an earlier run of this shard released
/// them all, in order). Each digest under its [`message_id`], so that one
/// already stored is not stored again. Retried as the start-up calls are;
/// an error means some may not be stored (the caller stops, and a restart
/// releases them again).
pub async fn publish(
    js: &Context,
    stream: &stream::Stream,
    subject: &str,
    release: u64,
    digests: &[Digest],
    ks: &[u32],
) -> Result<(), Error> {
    if digests.is_empty() {
        return Ok(());
    }
    let last = retry("read the last released digest", || async {
        match stream.get_last_raw_message_by_subject(subject).await {
            Ok(m) => Ok(m
                .headers
                .get(RELEASE_HEADER)
                .and_then(|v| v.as_str().parse::<u64>().ok())),
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(e),
        }
    })
    .await?;
    if last.is_some_and(|l| l > release) {
        return Ok(());
    }
    let mut messages = Vec::with_capacity(digests.len());
    for (d, &k) in digests.iter().zip(ks) {
        let payload = stored_json(&digest_id(d, k), d).into_bytes();
        messages.push((message_id(&payload), bytes::Bytes::from(payload)));
    }
    let release = release.to_string();
    retry("release digests", || async {
        let mut acks = Vec::with_capacity(messages.len());
        for (id, payload) in &messages {
            let m = PublishMessage::build()
                .payload(payload.clone())
                .message_id(id.as_str())
                .header(RELEASE_HEADER, release.as_str());
            acks.push(js.send_publish(subject.to_owned(), m).await?);
        }
        for ack in acks {
            ack.await?;
        }
        Ok::<_, async_nats::Error>(())
    })
    .await
}

/// Up to `limit` digests of `stream` past the cursor `after`, in order,
/// waiting up to `wait` for the first when there is none yet (a
/// subscription to the stream's subjects wakes the read).
pub async fn read(
    client: &async_nats::Client,
    stream: &stream::Stream,
    space: &Space,
    after: u64,
    limit: usize,
    wait: Duration,
) -> Result<Vec<ReadDigest>, Error> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
    // Subscribed before the first look, so that a digest stored between the
    // look and the wait wakes it.
    let mut woken = if wait.is_zero() {
        None
    } else {
        Some(
            client
                .subscribe(subjects(space))
                .await
                .map_err(nats("subscribe to released digests"))?,
        )
    };
    loop {
        let found = read_now(stream, space, after, limit).await?;
        if !found.is_empty() {
            return Ok(found);
        }
        let Some(sub) = woken.as_mut() else { return Ok(found) };
        // Woken by a digest, or looked at again every second (a message
        // missed by the subscription is found then).
        let next = (tokio::time::Instant::now() + Duration::from_secs(1)).min(deadline);
        let _ = tokio::time::timeout_at(next, sub.next()).await;
        if tokio::time::Instant::now() >= deadline {
            return read_now(stream, space, after, limit).await;
        }
    }
}

/// The digests past `after` stored now, at most `limit`.
async fn read_now(stream: &stream::Stream, space: &Space, after: u64, limit: usize) -> Result<Vec<ReadDigest>, Error> {
    let filter = subjects(space);
    let mut out = Vec::new();
    let mut next = after.saturating_add(1);
    while out.len() < limit {
        let got = tokio::time::timeout(CALL_TIMEOUT, stream.get_first_raw_message_by_subject(&filter, next)).await;
        let message = match got {
            Ok(Ok(m)) => m,
            Ok(Err(e)) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => break,
            Ok(Err(e)) => return Err(nats("read released digests")(e)),
            Err(_) => return Err(Error::Timeout("read released digests")),
        };
        let json = String::from_utf8(message.payload.to_vec()).map_err(|e| Error::frame("a released digest", e))?;
        if !json.starts_with("{\"id\":") {
            return Err(Error::frame(
                "a released digest",
                format!("sequence {}: not a digest", message.sequence),
            ));
        }
        out.push(ReadDigest {
            cursor: message.sequence,
            json,
        });
        next = message.sequence.saturating_add(1);
    }
    Ok(out)
}

/// The answer of `POST /push/released.json` from `space`'s released
/// stream ([`dnd_engine::released`] for the protocol): the digests past
/// `request.after`, at most `request.limit`, waiting up to `wait_secs` for
/// the first; `"skipped": true` when digests past the cursor are no longer
/// kept (the stream's first sequence is past `after + 1`).
pub async fn page(
    client: &async_nats::Client,
    js: &Context,
    space: &Space,
    request: ReleasedRequest,
) -> Result<String, Error> {
    // Opening it reads its state: the first sequence kept now.
    let stream = retry("open the released stream", || js.get_stream(stream_name(space))).await?;
    let first = stream.cached_info().state.first_sequence;
    let skipped = request.after > 0 && request.after.saturating_add(1) < first;
    let found = read(
        client,
        &stream,
        space,
        request.after,
        request.limit as usize,
        Duration::from_secs(u64::from(request.wait_secs)),
    )
    .await?;
    let cursor = found.last().map_or(request.after, |d| d.cursor);
    let entries: Vec<String> = found.iter().map(ReadDigest::entry_json).collect();
    Ok(page_json(cursor, skipped, entries.iter().map(String::as_str)))
}

/// The JetStream context of `client` with the cluster's call timeout.
pub fn context(client: async_nats::Client) -> jetstream::Context {
    crate::log::context(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_apart_from_the_apps_streams() {
        let space = Space::app("app");
        assert_eq!(stream_name(&space), "DNDR_app");
        assert_eq!(Space::of_stream(&stream_name(&space)), None);
        assert_eq!(
            subject(&space, Layout::new(3).unwrap(), ShardId(2)),
            "dnd.app.released.3.2"
        );
        assert!(!space
            .stream_subjects()
            .iter()
            .any(|s| s.starts_with("dnd.app.released")));
        // Header-safe and stable.
        assert_eq!(message_id(b"1-u\r\n"), message_id(b"1-u\r\n"));
        assert_ne!(message_id(b"1-u"), message_id(b"1-v"));
        assert!(message_id(b"1-u\r\n")
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        assert_eq!(message_id(b"x").len(), 42);
    }

    #[test]
    fn two_apps_share_no_released_stream_or_subject() {
        let (a, b) = (Space::app("a"), Space::app("a.b"));
        assert_ne!(stream_name(&a), stream_name(&b));
        // No subject of one app's stream is matched by the other's filter.
        let layout = Layout::new(2).unwrap();
        for (x, y) in [(&a, &b), (&b, &a)] {
            let filter = subjects(x);
            let prefix = filter.trim_end_matches('>');
            assert!(!subject(y, layout, ShardId(1)).starts_with(prefix), "{filter}");
        }
    }
}
