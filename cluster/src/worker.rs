//! A shard worker: one process (or task) holding one shard's settings.
//!
//! A shard serves one app's space ([`Space`]): a process runs one worker
//! per app ([`crate::run::shard`]).
//!
//! On start it restores its newest snapshot (object `<app>/shard-<i>-of-<n>` in the
//! object store [`SNAPSHOTS`](crate::log::SNAPSHOTS), whose description is the sequence it covers)
//! and reads the stream from the next sequence through its feed
//! (`src/feed.rs`): a consumer of its own over its subjects
//! ([`Space::shard_subjects`]; ephemeral, one replica in memory, no
//! acknowledgements) that the shard replaces, under a fresh name and from
//! the sequence after the applied one, whenever it fails, skips an entry or
//! stalls (`src/watchdog.rs`). Each entry is applied through
//! [`Replica::apply_at`], so a redelivery or an overlapping replay changes
//! nothing: the snapshot's sequence is the recovery point, never a
//! consumer's acknowledgements (which a crashed single server can lose).
//!
//! **Read your writes.** A get or decide carries `after`, the stream sequence
//! of the client's last write (0 for none). The shard answers once it has
//! applied every entry of its subjects up to `after`: at once if its applied
//! sequence has reached `after`; otherwise it appends an empty marker to its
//! own mark subject. The marker lands past `after` (that write was already
//! acknowledged), so once the marker is applied every earlier entry of the
//! shard's subjects is too. A read that cannot be answered within
//! [`READ_DEADLINE`] is refused, never answered stale.
//!
//! **Snapshots** are taken every `snapshot_every` applied entries (and at a
//! clean stop), each replica of a shard saving its own; after each, the
//! stream is purged below the oldest of the current layout's snapshots
//! (every replica's), once every shard has one, but never inside the
//! stream's duplicate window (`src/trim.rs`). A periodic snapshot that
//! fails is counted in [`Progress`]'s `snapshot_failures` (consecutive
//! failures; the stream is not trimmed meanwhile) and tried again after
//! `snapshot_every` more entries.
//!
//! **Held pushes** ([`crate::holding`]): hold records on its partitions'
//! subjects hold the deferred recipients of a push that asks to hold;
//! release records on its mark subject, appended by its clock, release the
//! digests due to the app's released stream ([`crate::released`]) before
//! the next entry is applied. The held items are in its snapshot.
//!
//! **Replicas.** Several workers of one shard ([`ShardConfig::replica`])
//! each apply its subjects and share its reads (a queue group); a replica
//! without a snapshot of its own starts from replica 0's.

use std::time::Duration;

use async_nats::jetstream::object_store::{ObjectMetadata, ObjectStore};
use async_nats::jetstream::{self, stream::Stream as JsStream};
use async_nats::{Client, Message, Subject};
use dnd_engine::shard::{Layout, Replica, ShardId};
use dnd_engine::{Config, Held, Request, Settings};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::feed::{Entry, Feed};
use crate::holding::{HeldRequest, Holds, Kind};
use crate::log::{retry, retry_within, ATTEMPTS};
use crate::snapshot::save_timeout;
pub use crate::snapshot::{load_snapshot, snapshot_store, ShardState};
use crate::space::Space;
use crate::wire::{self, DecideRequest, GetRequest, Progress, Record};
use crate::{nats, Error};
use dnd_engine::push::{DecisionLine, Push};
use dnd_server::backend::Generation;

/// How long a read may wait for its shard to catch up before it is refused.
pub const READ_DEADLINE: Duration = Duration::from_secs(10);
/// The most reads a shard keeps waiting at once; more are refused.
pub const MAX_WAITING: usize = 10_000;
/// Attempts at a periodic snapshot before it counts as failed: few, since
/// the shard answers no read meanwhile and the next periodic snapshot is the
/// retry. The snapshot at a clean stop is tried as often as the start-up
/// calls.
const PERIODIC_ATTEMPTS: u32 = 3;

/// What a shard worker needs to know.
#[derive(Clone, Debug)]
pub struct ShardConfig {
    /// The app whose settings it holds.
    pub space: Space,
    /// The layout.
    pub layout: Layout,
    /// Which shard this is.
    pub shard: ShardId,
    /// Which replica of the shard this is (0 for the first): every replica
    /// applies the same subjects and serves the same reads, and saves a
    /// snapshot of its own ([`Space::replica_snapshot_name`]).
    pub replica: u16,
    /// The engine's set-up for a shard that has no snapshot yet.
    pub config: Config,
    /// Snapshot after this many applied entries.
    pub snapshot_every: u64,
    /// How often, while it holds anything, the shard evaluates its held
    /// items (a release record, `src/holding.rs`); zero: never by itself.
    pub release_every: Duration,
    /// The most items per recipient held in detail (the service's
    /// `hold_detail_limit`; the same on every shard).
    pub detail_limit: u32,
}

impl ShardConfig {
    /// The name of this replica's snapshot object.
    pub fn snapshot_name(&self) -> String {
        self.space.replica_snapshot_name(self.layout, self.shard, self.replica)
    }
}

/// A read waiting for the shard to catch up.
struct Waiting {
    after: u64,
    since: tokio::time::Instant,
    reply: Subject,
    kind: Read,
}

enum Read {
    Get(Request, Generation),
    /// The push, whether to explain, and the shape of the answer.
    Decide(Push, bool, Answer),
    /// The decision lines of these hold records.
    Held(Vec<u64>),
}

/// How a decide is answered: decision lines (a JSON request, or any with
/// explanations), or verdicts (a binary frame without: `src/frame.rs`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Lines,
    Verdicts,
    /// A page of this shard's members, for a push without recipients.
    Members(crate::wire::MembersPage),
}

/// A marker's sequence, or why it was not appended.
type MarkResult = Result<u64, String>;

/// The worker's state between events.
struct Worker {
    cfg: ShardConfig,
    client: Client,
    js: jetstream::Context,
    store: ObjectStore,
    replica: Replica,
    /// The held items, and what releasing them needs.
    holds: Holds,
    progress: Progress,
    since_snapshot: u64,
    waiting: Vec<Waiting>,
    marked: u64,
    marking: bool,
    marks: (mpsc::Sender<MarkResult>, mpsc::Receiver<MarkResult>),
    /// The subject of this shard's markers.
    mark_subject: String,
}

/// Whether a shard whose settings cover the stream up to `applied` can read
/// on from a stream whose first entry is `first`: only if nothing between
/// them was trimmed (an empty stream that was never written reports 0).
fn resumable(applied: u64, first: u64) -> Result<(), Error> {
    if first > applied.saturating_add(1) {
        Err(Error::Trimmed { applied, first })
    } else {
        Ok(())
    }
}

/// Runs shard `cfg.shard` until `stop` resolves (then it snapshots and
/// returns) or an unrecoverable error.
pub async fn run(client: Client, cfg: ShardConfig, stop: impl std::future::Future<Output = ()>) -> Result<(), Error> {
    let js = crate::log::context(client.clone());
    let stream: JsStream = retry("open the stream", || js.get_stream(cfg.space.stream())).await?;
    // The snapshots survive what the stream survives.
    let store = snapshot_store(&js, stream.cached_info().config.num_replicas).await?;
    let name = cfg.snapshot_name();
    let first_sequence = || async {
        retry("read the stream's first sequence", || stream.get_info())
            .await
            .map(|info| info.state.first_sequence)
    };
    let mut restored = load_snapshot(&store, &name).await?;
    if cfg.replica > 0 {
        // A replica without a snapshot of its own, or with one older than
        // the trim (it was down long), starts from replica 0's, and saves
        // it as its own before reading on: from then on the stream is
        // never trimmed past what this replica has applied.
        let first = first_sequence().await?;
        let applied = restored.as_ref().map(|s| s.replica.applied());
        if applied.is_none_or(|a| resumable(a, first).is_err()) {
            let base = load_snapshot(&store, &cfg.space.snapshot_name(cfg.layout, cfg.shard)).await?;
            if let Some(base) = base.filter(|b| applied.is_none_or(|a| b.replica.applied() > a)) {
                restored = Some(base);
            }
            let own = restored
                .take()
                .unwrap_or_else(|| ShardState::new(Settings::new(cfg.config.clone())));
            save(&store, &name, &own.replica, &own.held, &own.same_instant, ATTEMPTS).await?;
            restored = Some(own);
        }
    }
    let ShardState {
        replica,
        mut held,
        same_instant,
    } = restored.unwrap_or_else(|| ShardState::new(Settings::new(cfg.config.clone())));
    held.set_detail_limit(cfg.detail_limit);
    let holds = Holds::open(
        js.clone(),
        &cfg.space,
        cfg.layout,
        cfg.shard,
        stream.cached_info().config.num_replicas,
        cfg.release_every,
        held,
        same_instant,
    )
    .await?;
    // The stream as it stands now: a trim while the snapshot was read (a
    // rolling restart's old instance saving and trimming) counts too.
    resumable(replica.applied(), first_sequence().await?)?;
    let mut progress = Progress::restored(replica.applied());
    progress.replica = cfg.replica;
    let (layout, shard) = (cfg.layout, cfg.shard);
    let mut gets = client
        .queue_subscribe(cfg.space.get_subject(layout, shard), "shard".into())
        .await
        .map_err(nats("subscribe to gets"))?;
    let mut decides = client
        .queue_subscribe(cfg.space.decide_subject(layout, shard), "shard".into())
        .await
        .map_err(nats("subscribe to decides"))?;
    let mut held_requests = client
        .queue_subscribe(crate::holding::held_subject(&cfg.space, layout, shard), "shard".into())
        .await
        .map_err(nats("subscribe to held decisions"))?;
    let mut progress_requests = client
        .subscribe(cfg.space.progress_subject(layout, shard))
        .await
        .map_err(nats("subscribe to progress"))?;
    let mut w = Worker {
        cfg,
        client,
        js,
        store,
        replica,
        holds,
        progress,
        since_snapshot: 0,
        waiting: Vec::new(),
        marked: 0,
        marking: false,
        marks: mpsc::channel(4),
        mark_subject: String::new(),
    };
    w.mark_subject = w.cfg.space.mark_subject(layout, shard);
    let mut feed = Feed::new(
        stream,
        w.cfg.space.shard_subjects(layout, shard),
        format!("app {} shard {shard}", w.cfg.space),
        w.replica.applied(),
    );
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tokio::pin!(stop);
    loop {
        tokio::select! {
            entry = feed.next(w.replica.applied()) => w.entry(&entry?).await?,
            Some(m) = gets.next() => w.read(m, |payload| serde_json::from_slice::<GetRequest>(payload).map(|g| (g.after, Read::Get(g.request, g.generation))).map_err(|e| Error::frame("a get", e))).await,
            Some(m) = decides.next() => w.read(m, |payload| match payload.first() {
                Some(&crate::frame::VERSION) => crate::frame::decode_request(payload).map(|d| (d.after, Read::Decide(d.push, d.explain, Answer::Verdicts))),
                _ => serde_json::from_slice::<DecideRequest>(payload)
                    .map(|d| {
                        let answer = d.members.map_or(Answer::Lines, Answer::Members);
                        (d.after, Read::Decide(d.push, d.explain, answer))
                    })
                    .map_err(|e| Error::frame("a decide", e)),
            }).await,
            Some(m) = held_requests.next() => w.read(m, |payload| serde_json::from_slice::<HeldRequest>(payload)
                .map(|h| (h.after, Read::Held(h.holds)))
                .map_err(|e| Error::frame("a held request", e))).await,
            Some(m) = progress_requests.next() => {
                w.progress.consumers_opened = feed.opened();
                if let (Some(reply), Ok(body)) = (m.reply, serde_json::to_vec(&w.progress)) {
                    w.publish(reply, body).await;
                }
            }
            Some(mark) = w.marks.1.recv() => {
                w.marking = false;
                match mark {
                    Ok(seq) => {
                        w.marked = w.marked.max(seq);
                        // Starts the watchdog's clock of the marker now,
                        // not at the next tick.
                        feed.check(w.replica.applied(), w.marked);
                    }
                    Err(e) => tracing::warn!("shard {}: a marker was not appended: {e}", w.cfg.shard),
                }
                w.mark_if_needed();
            }
            _ = tick.tick() => {
                feed.check(w.replica.applied(), w.marked);
                w.expire().await;
                w.holds.tick(w.replica.applied());
            }
            () = &mut stop => {
                w.snapshot(ATTEMPTS).await?;
                tracing::info!(
                    shard = w.cfg.shard.0,
                    snapshot_seq = w.progress.snapshot,
                    "shard stopped; its snapshot covers every entry it applied"
                );
                return Ok(());
            }
        }
    }
}

impl Worker {
    /// Applies one stream entry, then answers the reads it unblocked.
    async fn entry(&mut self, entry: &Entry) -> Result<(), Error> {
        let (message, seq) = (&entry.message, entry.seq);
        let kind = Kind::of(message, &self.mark_subject);
        if kind == Kind::Mark {
            self.replica.skip_to(seq);
        } else if kind == Kind::Hold {
            if self.replica.skip_to(seq) {
                // Lines only for a record an API node may still wait for:
                // none for one replayed long after it was stored.
                let stored = message.info().map(|i| i.published.unix_timestamp()).ok();
                self.holds.hold(seq, self.replica.settings(), &message.payload, stored);
                self.since_snapshot += 1;
            }
        } else if kind == Kind::Release {
            // The digests are appended before anything else is applied,
            // so before any snapshot covering the record.
            if self.replica.skip_to(seq) {
                self.holds
                    .release(seq, self.replica.settings(), &message.payload)
                    .await?;
                self.since_snapshot += 1;
            }
        } else {
            match serde_json::from_slice::<Request>(&message.payload) {
                Ok(request) => {
                    if self.replica.apply_at(seq, &request).is_some() {
                        self.progress.applied_since_start += 1;
                        self.since_snapshot += 1;
                    }
                }
                Err(e) => {
                    // Only the API node appends, after validating; an entry
                    // that is not a request is reported and passed over.
                    tracing::warn!("shard {}: entry {seq} is not a request ({e}); skipped", self.cfg.shard);
                    self.replica.skip_to(seq);
                }
            }
        }
        self.progress.applied = self.replica.applied();
        if self.since_snapshot >= self.cfg.snapshot_every {
            if let Err(e) = self.snapshot(PERIODIC_ATTEMPTS).await {
                // The replica is intact, but the stream is not trimmed and a
                // restart replays more: counted where operators look.
                self.since_snapshot = 0;
                self.progress.snapshot_failures += 1;
                tracing::warn!(
                    "shard {}: no snapshot at {seq} ({e}; {} in a row, the stream is not trimmed meanwhile); the next after {} more entries",
                    self.cfg.shard, self.progress.snapshot_failures, self.cfg.snapshot_every
                );
            }
        }
        if !self.waiting.is_empty() && self.waiting.iter().any(|w| w.after <= self.replica.applied()) {
            let applied = self.replica.applied();
            let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
                .into_iter()
                .partition(|w| w.after <= applied);
            self.waiting = waiting;
            for w in ready {
                let answer = self.answer(&w.kind);
                self.publish(w.reply, answer).await;
            }
        }
        Ok(())
    }

    /// A get or decide: answered now if the shard has caught up with it,
    /// else kept waiting (and a marker appended).
    async fn read<F>(&mut self, m: Message, parse: F)
    where
        F: FnOnce(&[u8]) -> Result<(u64, Read), Error>,
    {
        let Some(reply) = m.reply else { return };
        match parse(&m.payload) {
            Err(e) => {
                self.publish(reply, wire::refused(&format!("a shard request: {e}")))
                    .await
            }
            Ok((after, kind)) if after <= self.replica.applied() => {
                let answer = self.answer(&kind);
                self.publish(reply, answer).await;
            }
            Ok(_) if self.waiting.len() >= MAX_WAITING => {
                self.publish(reply, wire::refused("too many reads waiting for this shard"))
                    .await;
            }
            Ok((after, kind)) => {
                self.waiting.push(Waiting {
                    after,
                    since: tokio::time::Instant::now(),
                    reply,
                    kind,
                });
                self.mark_if_needed();
            }
        }
    }

    /// Appends a marker if a waiting read is past everything marked so far.
    fn mark_if_needed(&mut self) {
        if self.marking || !self.waiting.iter().any(|w| w.after > self.marked) {
            return;
        }
        self.marking = true;
        let (js, subject, done) = (self.js.clone(), self.mark_subject.clone(), self.marks.0.clone());
        tokio::spawn(async move {
            let ack = async { js.publish(subject, bytes::Bytes::new()).await?.await };
            let result = match tokio::time::timeout(crate::log::CALL_TIMEOUT, ack).await {
                Ok(Ok(ack)) => Ok(ack.sequence),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("timed out".to_owned()),
            };
            let _ = done.send(result).await;
        });
    }

    /// Refuses reads that waited too long.
    async fn expire(&mut self) {
        let now = tokio::time::Instant::now();
        let (late, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| now - w.since > READ_DEADLINE);
        self.waiting = waiting;
        for w in late {
            let why = format!("shard {} has not applied sequence {} yet", self.cfg.shard, w.after);
            self.publish(w.reply, wire::refused(&why)).await;
        }
        self.mark_if_needed();
    }

    fn answer(&self, kind: &Read) -> Vec<u8> {
        match kind {
            Read::Get(request, generation) => match self.replica.settings().query(request) {
                Some(response) => wire::ok(generation.render(&response).json.as_bytes()),
                None => wire::refused("a change sent as a get"),
            },
            Read::Decide(push, explain, form) => {
                let mentioned = push.mentioned_ids();
                match push.message(&mentioned) {
                    Ok(message) if push.members => {
                        let Answer::Members(page) = *form else {
                            return wire::refused("a push without recipients needs a page of members");
                        };
                        let prepared = self.replica.settings().prepare(&message);
                        let mut part = Vec::new();
                        let (_, next) = dnd_engine::push::write_member_page(
                            &prepared,
                            push.answer,
                            *explain,
                            page.first,
                            page.limit as usize,
                            &mut part,
                        );
                        let mut out = vec![0];
                        out.extend_from_slice(b"{\"next\":");
                        match next {
                            Some(n) => out.extend_from_slice(n.to_string().as_bytes()),
                            None => out.extend_from_slice(b"null"),
                        }
                        out.extend_from_slice(b",\"part\":");
                        out.extend_from_slice(&part);
                        out.push(b'}');
                        out
                    }
                    Ok(message) => {
                        // A sender with a push held for a recipient may be a repeated sender.
                        let settings = self.replica.settings();
                        let repeaters = self.holds.held.repeaters(settings, &message);
                        let prepared = repeaters.prepare(settings, &message);
                        let verdicts = *form == Answer::Verdicts && !explain;
                        let mut out = Vec::with_capacity(1 + push.recipients.len() * if verdicts { 4 } else { 80 });
                        out.push(0);
                        let mut line = Vec::with_capacity(256);
                        for id in &push.recipients {
                            if verdicts {
                                let (decision, deferral) = prepared.decide_deferred_id(id);
                                crate::frame::encode_verdict(decision, deferral.as_ref(), &mut out);
                                continue;
                            }
                            line.clear();
                            let decision = DecisionLine::of(&prepared, id, *explain);
                            // Writing to a Vec fails only for a value serde
                            // cannot write: none here.
                            let _ = decision.write_to(&mut line);
                            Record::encode(decision.decision().by(), &line, &mut out);
                        }
                        out
                    }
                    Err(e) => wire::refused(&e.to_string()),
                }
            }
            Read::Held(seqs) => self.holds.answer(seqs),
        }
    }

    async fn publish(&self, subject: Subject, body: Vec<u8>) {
        if let Err(e) = self.client.publish(subject, body.into()).await {
            tracing::warn!("shard {}: an answer was not sent: {e}", self.cfg.shard);
        }
    }

    /// Saves the replica with its sequence (in at most `attempts` attempts,
    /// each within [`save_timeout`]), then trims the stream below the oldest
    /// snapshot of the layout, outside the duplicate window (`src/trim.rs`).
    async fn snapshot(&mut self, attempts: u32) -> Result<(), Error> {
        let seq = self.replica.applied();
        if seq == self.progress.snapshot {
            return Ok(());
        }
        save(
            &self.store,
            &self.cfg.snapshot_name(),
            &self.replica,
            &self.holds.held,
            &self.holds.same_instant,
            attempts,
        )
        .await?;
        self.progress.snapshot = seq;
        self.progress.snapshot_failures = 0;
        self.since_snapshot = 0;
        if let Err(e) = crate::trim::trim(&self.js, &self.store, &self.cfg.space, self.cfg.layout).await {
            tracing::warn!("shard {}: the stream was not trimmed: {e}", self.cfg.shard);
        }
        Ok(())
    }
}

/// Saves `replica` with its sequence as the object `name`, in at most
/// `attempts` attempts, each within [`save_timeout`].
pub(crate) async fn save(
    store: &ObjectStore,
    name: &str,
    replica: &Replica,
    held: &Held,
    same: &crate::holding::SameInstant,
    attempts: u32,
) -> Result<(), Error> {
    let bytes =
        serde_json::to_vec(&crate::snapshot::saving(replica, held, same)).map_err(|e| Error::frame("snapshot", e))?;
    let meta = ObjectMetadata {
        name: name.to_owned(),
        description: Some(replica.applied().to_string()),
        ..Default::default()
    };
    retry_within("save a snapshot", attempts, save_timeout(bytes.len()), || {
        let (meta, bytes) = (meta.clone(), &bytes);
        async move { store.put(meta, &mut bytes.as_slice()).await }
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_resumes_only_where_nothing_it_needs_was_trimmed() {
        // A new stream (first 0 or 1), a snapshot at or past the trim.
        for (applied, first) in [(0, 0), (0, 1), (10, 11), (10, 5), (10, 0), (u64::MAX, u64::MAX)] {
            assert!(resumable(applied, first).is_ok(), "{applied} {first}");
        }
        // No snapshot, or an older one, below a trim: entries are gone.
        for (applied, first) in [(0, 2), (10, 12), (0, 1_000)] {
            match resumable(applied, first) {
                Err(Error::Trimmed { applied: a, first: f }) => assert_eq!((a, f), (applied, first)),
                other => panic!("{applied} {first}: {other:?}"),
            }
        }
        let text = resumable(4, 11).unwrap_err().to_string();
        assert!(text.contains("entries 5 to 10 are gone"), "{text}");
    }
}
