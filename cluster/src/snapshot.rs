//! A shard's snapshot in the object store [`SNAPSHOTS`]: object
//! `<app>/shard-<i>-of-<n>` ([`crate::space::Space::snapshot_name`]), the
//! [`ShardState`]'s JSON (`{"applied": SEQ, "settings": SAVED}`, `SAVED` the
//! settings' save with the shard's held items beside them: format 3 when
//! anything is held), its sequence in the description. Read once at start, however large and however slow the
//! link; saved under a limit that grows with its size.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::object_store::{self, ObjectStore};
use dnd_engine::shard::Replica;
use dnd_engine::snapshot::{save_with_held, Restored, WithHeld};
use dnd_engine::{Held, Settings};

use crate::holding::SameInstant;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;

use crate::log::{retry, CALL_TIMEOUT, SNAPSHOTS};
use crate::{nats, Error};

/// The slowest snapshot transfer still waited for, in bytes a second: a
/// save of `n` bytes may take [`CALL_TIMEOUT`] twice (the calls before and
/// after its chunks) plus `n` bytes at this rate ([`save_timeout`]). A dead
/// server is noticed sooner: each chunk's acknowledgement is a call of its
/// own, limited to [`CALL_TIMEOUT`].
pub(crate) const SLOWEST_TRANSFER: u64 = 1 << 20;
/// Attempts at reading a snapshot's body (each after asking for the object
/// again) before the shard gives up starting.
const BODY_ATTEMPTS: u32 = 3;

/// Opens the snapshot store, creating it with `replicas` copies if there is
/// none (the shards pass the stream's, so that the snapshots survive what
/// the stream survives; a store made earlier keeps the copies it was made
/// with). Retried as the other start-up calls are.
pub async fn snapshot_store(js: &jetstream::Context, replicas: usize) -> Result<ObjectStore, Error> {
    retry("open the snapshot store", || async {
        match js.get_object_store(SNAPSHOTS).await {
            Ok(store) => Ok(store),
            Err(_) => js
                .create_object_store(object_store::Config {
                    bucket: SNAPSHOTS.to_owned(),
                    num_replicas: replicas.max(1),
                    ..Default::default()
                })
                .await
                .map_err(|e| e.to_string()),
        }
    })
    .await
}

/// Reads the newest snapshot of `name`, if there is one.
///
/// Asking for the object is a call, retried as the other start-up calls
/// are (each within [`CALL_TIMEOUT`]). Its body may be large: no limit is
/// put on the whole read, but each read must bring bytes within
/// [`CALL_TIMEOUT`]; a body read that fails or stalls is tried again from
/// the start, three times in all. A body that
/// is not a snapshot (a failed digest, more or fewer bytes than its
/// metadata says, or JSON that is not a replica) is a frame error at once:
/// reading it again would give the same bytes.
pub async fn load_snapshot(store: &ObjectStore, name: &str) -> Result<Option<ShardState>, Error> {
    let mut attempt = 1;
    loop {
        let object = retry("read a snapshot", || async {
            match store.get(name).await {
                Ok(object) => Ok(Some(object)),
                Err(e) if e.kind() == object_store::GetErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await?;
        let Some(object) = object else { return Ok(None) };
        let size = object.info().size;
        match read_body(object, size, CALL_TIMEOUT).await {
            Ok(bytes) => {
                return serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|e| Error::frame("snapshot", e))
            }
            Err(e @ Error::Frame { .. }) => return Err(e),
            Err(e) if attempt >= BODY_ATTEMPTS => return Err(e),
            Err(e) => {
                tracing::warn!("{name}: reading the snapshot failed ({e}); reading it again");
                attempt += 1;
            }
        }
    }
}

/// What a shard saves: its settings with the log position they cover, its
/// held items, and the digests of its last evaluation's instant.
#[derive(Debug)]
pub struct ShardState {
    /// The settings and their sequence.
    pub replica: Replica,
    /// The held items.
    pub held: Held,
    /// The digests released at the last evaluation's instant, by recipient
    /// (their ids' `k`).
    pub same_instant: SameInstant,
}

impl ShardState {
    /// A shard's state with nothing applied and nothing held.
    pub fn new(settings: Settings) -> ShardState {
        ShardState {
            replica: Replica::new(settings),
            held: Held::new(),
            same_instant: SameInstant::default(),
        }
    }
}

/// The saved form of `replica`, `held` and `same`, to be written (its
/// `Serialize`): `{"applied": SEQ, "settings": SAVED, "sameInstant": ...}`,
/// `SAVED` the settings' save with the held items beside them (format 3
/// when anything is held), `sameInstant` only when there is one.
pub(crate) fn saving<'a>(replica: &'a Replica, held: &'a Held, same: &'a SameInstant) -> impl Serialize + 'a {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Saving<'a> {
        applied: u64,
        settings: WithHeld<'a>,
        #[serde(skip_serializing_if = "SameInstant::is_empty")]
        same_instant: &'a SameInstant,
    }
    Saving {
        applied: replica.applied(),
        settings: save_with_held(replica.settings(), held),
        same_instant: same,
    }
}

/// The saved form, read: a shard's snapshot of any build (formats 1 to 3).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Saved {
    applied: u64,
    settings: Restored,
    #[serde(default)]
    same_instant: SameInstant,
}

impl Serialize for ShardState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        saving(&self.replica, &self.held, &self.same_instant).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ShardState {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<ShardState, D::Error> {
        let saved = Saved::deserialize(deserializer)?;
        let mut replica = Replica::new(saved.settings.settings);
        replica.skip_to(saved.applied);
        Ok(ShardState {
            replica,
            held: saved.settings.held,
            same_instant: saved.same_instant,
        })
    }
}

/// The body of an object of `size` bytes (as its metadata says), each read
/// bringing bytes within `progress`: a large body on a slow link is read to
/// its end, a stalled one is given up ([`Error::Timeout`]). Holds at most
/// `size + 1` bytes whatever the object sends.
pub(crate) async fn read_body(
    reader: impl tokio::io::AsyncRead + Unpin,
    size: usize,
    progress: Duration,
) -> Result<Vec<u8>, Error> {
    // The metadata is the server's word; growth past 64 MiB is by doubling.
    let mut bytes = Vec::with_capacity(size.min(64 << 20).saturating_add(1));
    let mut limited = reader.take(u64::try_from(size).unwrap_or(u64::MAX).saturating_add(1));
    loop {
        match tokio::time::timeout(progress, limited.read_buf(&mut bytes)).await {
            Err(_) => return Err(Error::Timeout("read a snapshot's body")),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(Error::frame("snapshot", e));
            }
            Ok(Err(e)) => return Err(nats("read a snapshot's body")(e)),
            Ok(Ok(0)) => break,
            Ok(Ok(_)) if bytes.len() > size => {
                return Err(Error::frame(
                    "snapshot",
                    format!("more than the {size} bytes its metadata declares"),
                ));
            }
            Ok(Ok(_)) => {}
        }
    }
    if bytes.len() != size {
        return Err(Error::frame(
            "snapshot",
            format!("{} bytes where its metadata declares {size}", bytes.len()),
        ));
    }
    Ok(bytes)
}

/// How long saving a snapshot of `bytes` bytes may take, at the least
/// ([`SLOWEST_TRANSFER`]).
pub(crate) fn save_timeout(bytes: usize) -> Duration {
    let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
    2 * CALL_TIMEOUT + Duration::from_millis(bytes.saturating_mul(1000) / SLOWEST_TRANSFER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    const S: Duration = Duration::from_secs(1);

    /// A body sent in `chunks`, `gap` apart (in paused time).
    fn slow_body(chunks: Vec<Vec<u8>>, gap: Duration) -> tokio::io::DuplexStream {
        let (reader, mut writer) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            for chunk in chunks {
                tokio::time::sleep(gap).await;
                if writer.write_all(&chunk).await.is_err() {
                    return;
                }
            }
        });
        reader
    }

    /// A snapshot that takes far longer than one call to arrive is read to
    /// its end as long as bytes keep coming (a whole-read limit of 3 s
    /// failed it on every start).
    #[tokio::test(start_paused = true)]
    async fn a_slow_body_is_read_while_it_progresses() {
        let chunks: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 1000]).collect();
        let all = chunks.concat();
        let started = tokio::time::Instant::now();
        let body = read_body(slow_body(chunks, 2 * S), all.len(), CALL_TIMEOUT)
            .await
            .unwrap();
        assert_eq!(body, all);
        assert!(started.elapsed() >= 80 * S, "{:?}", started.elapsed());
    }

    /// A body that stops arriving is given up after one call's time.
    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_times_out() {
        let started = tokio::time::Instant::now();
        let got = read_body(slow_body(vec![vec![1; 10], vec![2; 10]], 4 * S), 20, CALL_TIMEOUT).await;
        assert!(matches!(got, Err(Error::Timeout(_))), "{got:?}");
        assert!(started.elapsed() < 4 * S);
    }

    /// More or fewer bytes than the metadata declares, or an object that
    /// fails its digest, is a frame error (never retried), and no more than
    /// one byte past the declared size is held.
    #[tokio::test]
    async fn a_body_that_is_not_the_declared_one_is_a_frame_error() {
        let got = read_body(&b"0123456789"[..], 4, CALL_TIMEOUT).await;
        assert!(
            matches!(&got, Err(Error::Frame { what: "snapshot", why }) if why.contains("more than the 4 bytes")),
            "{got:?}"
        );
        let got = read_body(&b"0123"[..], 10, CALL_TIMEOUT).await;
        assert!(
            matches!(&got, Err(Error::Frame { what: "snapshot", why }) if why.contains("4 bytes where")),
            "{got:?}"
        );

        struct BadDigest;
        impl tokio::io::AsyncRead for BadDigest {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                _: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "wrong digest",
                )))
            }
        }
        let got = read_body(BadDigest, 10, CALL_TIMEOUT).await;
        assert!(matches!(got, Err(Error::Frame { what: "snapshot", .. })), "{got:?}");
    }

    #[test]
    fn a_save_may_take_longer_the_larger_the_snapshot() {
        assert_eq!(save_timeout(0), 6 * S);
        assert_eq!(save_timeout(1 << 20), 7 * S);
        assert_eq!(save_timeout(1 << 30), 6 * S + 1024 * S);
        assert!(save_timeout(usize::MAX) > save_timeout(1 << 40));
    }
}
