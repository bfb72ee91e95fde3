//! Trimming the stream after a snapshot: below the oldest snapshot of the
//! layout, and never inside the stream's duplicate window.
//!
//! Why the window: JetStream remembers the ids of purged writes only in the
//! server's memory. A restarted server rebuilds its table of ids from the
//! messages it still stores, those younger than the window; an id whose
//! message was purged is forgotten, and a retry of that write inside the
//! window would be stored again (and undo a later write). So every message
//! the server would still deduplicate against stays in the stream: the
//! trim keeps every message stored at or after `last - window`, where
//! `last` is the time of the stream's newest message (the server's own
//! clock, so no clock of this machine is trusted; it is never later than
//! the server's now, so the trim keeps at least what a restart rebuilds).

use async_nats::jetstream;
use async_nats::jetstream::object_store::ObjectStore;
use dnd_engine::shard::{Layout, ShardId};
use futures::StreamExt;
use std::future::Future;

use crate::space::Space;
use crate::{nats, Error};

/// Purges the stream below the oldest snapshot of `layout`'s shards, every
/// replica's counted (if every shard has one), keeping the duplicate window.
/// Returns the new first sequence asked for (`None`: nothing to trim yet).
///
/// If the app has a layout record (`src/layouts.rs`), the snapshots of
/// every layout it names count (both while a reshard runs, so that neither
/// layout's shards lose entries they still need), nothing is trimmed while
/// the next layout's snapshots are being built, and a shard of a layout
/// the record does not name trims nothing.
///
/// Every replica of a shard saves a snapshot of its own, at or below what
/// it has applied, so the trim never passes an entry a live replica has not
/// applied yet (its consumer would not be told of entries purged ahead of
/// it). A replica gone for good keeps its snapshot, and so holds the trim
/// back, until its object is deleted.
pub(crate) async fn trim(
    js: &jetstream::Context,
    store: &ObjectStore,
    space: &Space,
    layout: Layout,
) -> Result<Option<u64>, Error> {
    let mut stream = js.get_stream(space.stream()).await.map_err(nats("open the stream"))?;
    let info = stream.info().await.map_err(nats("read the stream's state"))?;
    let (window, state) = (info.config.duplicate_window, info.state.clone());
    let record = crate::layouts::read_if_any(js, space, info.config.num_replicas).await?;
    let layouts = match record {
        None => vec![layout],
        Some(record) => match record.trimmed_by(layout) {
            Some(layouts) => layouts,
            None => return Ok(None),
        },
    };
    let slots: Vec<(Layout, ShardId)> = layouts.iter().flat_map(|&l| l.all().map(move |s| (l, s))).collect();
    let listed = async {
        let mut objects = store.list().await.map_err(nats("list the snapshots"))?;
        let mut oldest = vec![None::<u64>; slots.len()];
        while let Some(info) = objects.next().await {
            let info = info.map_err(nats("list the snapshots"))?;
            let Some(slot) = slots.iter().position(|&(l, s)| space.is_snapshot_of(&info.name, l, s)) else {
                continue;
            };
            let seq = info
                .description
                .as_deref()
                .and_then(|d| d.parse::<u64>().ok())
                .ok_or_else(|| Error::frame("snapshot description", "not a sequence"))?;
            let slot = &mut oldest[slot];
            *slot = Some(slot.map_or(seq, |o| o.min(seq)));
        }
        Ok::<_, Error>(oldest)
    };
    let oldest = tokio::time::timeout(2 * crate::log::CALL_TIMEOUT, listed)
        .await
        .unwrap_or(Err(Error::Timeout("list the snapshots")))?;
    let Some(oldest) = oldest.into_iter().try_fold(u64::MAX, |m, s| s.map(|s| m.min(s))) else {
        return Ok(None);
    };
    let below = oldest.saturating_add(1).min(state.last_sequence.saturating_add(1));
    if below <= state.first_sequence {
        return Ok(None);
    }
    let cutoff = state.last_timestamp - window;
    let keep = first_stored_since(state.first_sequence, below, |seq| {
        let stream = &stream;
        async move {
            let message = stream
                .get_raw_message(seq)
                .await
                .map_err(nats("read a message's time"))?;
            Ok(message.time >= cutoff)
        }
    })
    .await?;
    if keep <= state.first_sequence {
        return Ok(None);
    }
    stream.purge().sequence(keep).await.map_err(nats("trim the stream"))?;
    Ok(Some(keep))
}

/// The first sequence in `from..below` for which `recent` holds, or `below`
/// if it holds for none; `recent` must be false then true along the
/// sequences (messages are stored in time order). Asks `recent` about
/// log2(below - from) sequences.
pub(crate) async fn first_stored_since<F, Fut>(from: u64, below: u64, mut recent: F) -> Result<u64, Error>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<bool, Error>>,
{
    let (mut lo, mut hi) = (from, below);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if recent(mid).await? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search finds the first recent sequence wherever it stands, and
    /// `below` when none is recent.
    #[tokio::test]
    async fn the_first_message_inside_the_window_is_found() {
        for first_recent in 5..=20u64 {
            let asked = std::cell::Cell::new(0);
            let found = first_stored_since(5, 20, |seq| {
                asked.set(asked.get() + 1);
                async move { Ok(seq >= first_recent) }
            })
            .await
            .unwrap();
            assert_eq!(found, first_recent.min(20));
            assert!(asked.get() <= 5, "{}", asked.get());
        }
        assert_eq!(first_stored_since(7, 7, |_| async { Ok(true) }).await.unwrap(), 7);
        let failed = first_stored_since(1, 9, |_| async { Err::<bool, _>(Error::Timeout("x")) }).await;
        assert!(failed.is_err());
    }
}
