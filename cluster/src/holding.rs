//! Held pushes in the cluster: each shard holds its users' held items,
//! keeps them in its snapshot, and releases their digests to the app's
//! released stream ([`crate::released`]) when its clock says they are due.
//!
//! Holding and releasing are entries of the app's stream, so that a shard
//! rebuilt from its snapshot and the stream, and every replica of it, hold
//! and release exactly what the others do:
//!
//! - **A hold record.** A decide with `"hold": true` is appended by the API
//!   node, before any shard decides it, as one record per partition of its
//!   recipients (at most [`RECORD_IDS`] ids a record) on that partition's
//!   subject, header [`ENTRY_HEADER`]` = hold`, payload `{"explain": BOOL,
//!   "push": PUSH}` (`PUSH` the push object with that partition's
//!   recipients). A shard applying it decides the push as the single node
//!   does (its settings and held items as of that entry: a repeated sender
//!   included), holds the deferred recipients, and keeps their decision
//!   lines for the API node to read ([`HeldRequest`], answered once the
//!   shard has applied the records). The decide is answered after the
//!   stream acknowledged every record: a held item is durable before the
//!   answer.
//! - **A release record.** Every [`DEFAULT_RELEASE_EVERY`] (`--release-every`),
//!   while it holds anything, a shard appends `{"at": MS}` (its clock, epoch
//!   ms) to its own mark subject, header [`ENTRY_HEADER`]` = release`,
//!   under the id `r.<n>.<i>.<slot>` (`slot` = MS divided by the interval),
//!   so that two replicas' ticks in one interval are stored once. Applying
//!   it evaluates the held items at `MS` ([`Held::release`]) and appends
//!   the digests due to the released stream, each under its stable id,
//!   before the shard applies anything else (and so before any snapshot
//!   covering the record): a digest is released once a record is applied,
//!   and a restarted shard or a second replica appending it again is told
//!   a duplicate ([`crate::released::publish`]).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::shard::{partition_of, Layout, Partition, ShardId};
use dnd_engine::{Held, Settings, Timestamp};
use futures::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::api::{Api, ANSWER_GRACE};
use crate::log::CALL_TIMEOUT;
use crate::space::Space;
use crate::wire::{self, Record};
use crate::worker::READ_DEADLINE;
use crate::{nats, Error};

/// The header telling a hold or release record from a settings request or
/// an empty marker.
pub const ENTRY_HEADER: &str = "Dnd-Entry";
/// [`ENTRY_HEADER`] of a hold record.
pub const HOLD: &str = "hold";
/// [`ENTRY_HEADER`] of a release record.
pub const RELEASE: &str = "release";
/// The most recipients in one hold record.
pub const RECORD_IDS: usize = 4_096;
/// How often a shard that holds anything evaluates its held items, by default.
pub const DEFAULT_RELEASE_EVERY: Duration = Duration::from_secs(1);
/// How long a shard keeps a hold record's decision lines for the API node
/// to read: past the longest an API node waits for them.
const ANSWERS_KEPT: Duration = Duration::from_secs(READ_DEADLINE.as_secs() + ANSWER_GRACE.as_secs() + 5);

/// A hold record: the push, with one partition's recipients.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldRecord {
    /// Whether the decision lines carry their explanations.
    #[serde(default)]
    pub explain: bool,
    /// The push.
    pub push: Push,
}

/// A release record: evaluate the held items at `at` (epoch ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRecord {
    /// The shard's clock when it appended the record.
    pub at: i64,
}

/// The API node's ask for the decision lines of hold records, to
/// `dnd.<app>.shard.<n>.<i>.held` ([`held_subject`]): answered once the
/// shard has applied `after`, with one [`Record`] per recipient of each
/// record, in order.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeldRequest {
    /// The sequence the shard must have applied (the last record's).
    pub after: u64,
    /// The records' sequences.
    pub holds: Vec<u64>,
}

/// The subject of shard `shard`'s held decision lines (a queue group of
/// its replicas, as gets and decides).
pub fn held_subject(space: &Space, layout: Layout, shard: ShardId) -> String {
    format!("dnd.{}.shard.{}.{}.held", space.token(), layout.shards(), shard)
}

/// What a stream entry is, by its header and subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Request,
    Hold,
    Release,
    Mark,
}

impl Kind {
    pub(crate) fn of(message: &async_nats::Message, mark_subject: &str) -> Kind {
        let entry = message
            .headers
            .as_ref()
            .and_then(|h| h.get(ENTRY_HEADER))
            .map(|v| v.as_str());
        let mark = message.subject.as_str() == mark_subject;
        match (entry, mark) {
            (Some(RELEASE), true) => Kind::Release,
            (_, true) => Kind::Mark,
            (Some(HOLD), false) => Kind::Hold,
            _ => Kind::Request,
        }
    }
}

/// A shard's held items and what it needs to release them.
pub(crate) struct Holds {
    pub(crate) held: Held,
    /// Decision lines of recent hold records, by sequence, with when they were made.
    answers: HashMap<u64, (Instant, Vec<u8>)>,
    js: jetstream::Context,
    released: stream::Stream,
    subject: String,
    mark_subject: String,
    every: Duration,
    /// `r.<n>.<i>`.
    release_id: String,
    /// A release record being appended.
    appending: Option<JoinHandle<Result<u64, String>>>,
    /// The sequence of the last release record appended: no other is
    /// appended before it is applied.
    appended: u64,
    /// The digests released at the last evaluation's instant.
    pub(crate) same_instant: SameInstant,
}

/// The digests released at the last evaluation's instant, by recipient:
/// how many of each recipient's digests were due at that very instant. An
/// item held after that evaluation and due at that instant is released by
/// the next as a digest of its own, the `k`-th of its recipient and instant
/// (its id `{at}-{userId}-{k}`, [`dnd_engine::released::digest_id`]).
/// Only that instant can repeat: every later digest is due at or after the
/// evaluation that precedes it. Kept in the shard's snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SameInstant {
    /// The last evaluation's instant (epoch ms).
    pub at: Option<i64>,
    /// Recipients with digests due at it, and how many.
    pub users: BTreeMap<String, u32>,
}

impl SameInstant {
    /// Whether there is nothing to keep.
    pub fn is_empty(&self) -> bool {
        self.at.is_none() && self.users.is_empty()
    }

    /// The `k` of each of `digests` (released by an evaluation at
    /// `evaluated`, the store's last evaluation instant after it), and
    /// the counts updated.
    pub fn ks(&mut self, digests: &[dnd_engine::Digest], evaluated: Option<i64>) -> Vec<u32> {
        let ks: Vec<u32> = digests
            .iter()
            .map(|d| match self.at == Some(d.at) {
                true => self.users.get(&d.user_id).copied().unwrap_or(0) + 1,
                false => 1,
            })
            .collect();
        if self.at != evaluated {
            self.users.clear();
            self.at = evaluated;
        }
        for (d, &k) in digests.iter().zip(&ks) {
            if Some(d.at) == evaluated {
                self.users.insert(d.user_id.clone(), k);
            }
        }
        ks
    }
}

impl Holds {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn open(
        js: jetstream::Context,
        space: &Space,
        layout: Layout,
        shard: ShardId,
        replicas: usize,
        every: Duration,
        held: Held,
        same_instant: SameInstant,
    ) -> Result<Holds, Error> {
        let released = crate::released::open(&js, space, replicas, crate::released::Keep::default()).await?;
        Ok(Holds {
            held,
            answers: HashMap::new(),
            js,
            released,
            subject: crate::released::subject(space, layout, shard),
            mark_subject: space.mark_subject(layout, shard),
            every,
            release_id: format!("r.{}.{}", layout.shards(), shard),
            appending: None,
            appended: 0,
            same_instant,
        })
    }

    /// Applies the hold record `payload` found at `seq`, stored at `stored`
    /// (unix seconds, the server's clock): its decision lines are kept
    /// unless it was stored longer ago than an API node waits for them (a
    /// replay after a restart holds without writing them).
    pub(crate) fn hold(&mut self, seq: u64, settings: &Settings, payload: &[u8], stored: Option<i64>) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        // A minute of slack for clocks apart.
        let wanted = stored.is_none_or(|t| now - t <= ANSWERS_KEPT.as_secs() as i64 + 60);
        let lines = match serde_json::from_slice::<HoldRecord>(payload) {
            Ok(record) => self.hold_record(settings, &record, wanted),
            Err(e) => {
                tracing::warn!("entry {seq} is not a hold record ({e}); skipped");
                wire::refused(&format!("hold record {seq}: {e}"))
            }
        };
        if !lines.is_empty() {
            self.answers.insert(seq, (Instant::now(), lines));
        }
    }

    /// Decides and holds `record`'s recipients: their decision lines as
    /// records (`lines`; else nothing), or a refusal.
    fn hold_record(&mut self, settings: &Settings, record: &HoldRecord, lines: bool) -> Vec<u8> {
        let mentioned = record.push.mentioned_ids();
        let message = match record.push.message(&mentioned) {
            Ok(m) => m,
            Err(e) => return wire::refused(&e.to_string()),
        };
        let repeaters = self.held.repeaters(settings, &message);
        let prepared = repeaters.prepare(settings, &message);
        let ids = &record.push.recipients;
        let holdings = match self
            .held
            .hold(&prepared, ids.iter().map(|r| (r.as_str(), prepared.decide_id(r))))
        {
            Ok(h) => h,
            Err(e) => return wire::refused(&e.to_string()),
        };
        if !lines {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(1 + ids.len() * 96);
        out.push(0);
        let mut line = Vec::with_capacity(256);
        for (id, holding) in ids.iter().zip(holdings) {
            line.clear();
            let decision = DecisionLine::of(&prepared, id, record.explain).with_held(holding.is_held());
            // Writing to a Vec fails only for a value serde cannot write: none here.
            let _ = decision.write_to(&mut line);
            Record::encode(decision.decision().by(), &line, &mut out);
        }
        out
    }

    /// Applies the release record `payload` found at `seq`: evaluates the
    /// held items and appends the digests due to the released stream.
    pub(crate) async fn release(&mut self, seq: u64, settings: &Settings, payload: &[u8]) -> Result<(), Error> {
        let at = match serde_json::from_slice::<ReleaseRecord>(payload)
            .map_err(|e| e.to_string())
            .and_then(|r| Timestamp::from_millis(r.at).map_err(|e| e.to_string()))
        {
            Ok(at) => at,
            Err(e) => {
                tracing::warn!("entry {seq} is not a release record ({e}); skipped");
                return Ok(());
            }
        };
        let release = self.held.release(settings, at);
        let ks = self.same_instant.ks(&release.digests, self.held.last_evaluation());
        crate::released::publish(&self.js, &self.released, &self.subject, seq, &release.digests, &ks).await
    }

    /// The decision lines of the hold records `seqs`, in order, as one answer.
    pub(crate) fn answer(&self, seqs: &[u64]) -> Vec<u8> {
        let mut out = vec![0];
        for seq in seqs {
            match self.answers.get(seq) {
                Some((_, lines)) => match wire::payload(lines) {
                    Ok(records) => out.extend_from_slice(records),
                    Err(e) => return wire::refused(&format!("hold record {seq}: {e}")),
                },
                None => {
                    return wire::refused(&format!(
                        "the decisions of hold record {seq} are not kept here (made before this shard started, or too long ago)"
                    ))
                }
            }
        }
        out
    }

    /// Forgets old decision lines, and appends a release record if one is
    /// due: the shard holds something, its last release record was applied,
    /// and none is being appended. `applied` is the shard's applied sequence.
    pub(crate) fn tick(&mut self, applied: u64) {
        let now = Instant::now();
        self.answers
            .retain(|_, (made, _)| now.duration_since(*made) < ANSWERS_KEPT);
        if let Some(done) = self.appending.as_mut().and_then(|h| h.now_or_never()) {
            self.appending = None;
            match done {
                Ok(Ok(seq)) => self.appended = self.appended.max(seq),
                Ok(Err(e)) => tracing::warn!("a release record was not appended: {e}"),
                Err(e) => tracing::warn!("a release record was not appended: {e}"),
            }
        }
        if self.every.is_zero() || self.appending.is_some() || self.appended > applied || self.held.is_empty() {
            return;
        }
        let Ok(elapsed) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) else {
            return;
        };
        let at = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        let slot = elapsed.as_millis() / self.every.as_millis().max(1);
        let (js, subject) = (self.js.clone(), self.mark_subject.clone());
        let id = format!("{}.{slot}", self.release_id);
        let payload = serde_json::to_vec(&ReleaseRecord { at }).unwrap_or_default();
        self.appending = Some(tokio::spawn(async move {
            let m = PublishMessage::build()
                .payload(payload.into())
                .message_id(id.as_str())
                .header(ENTRY_HEADER, RELEASE);
            let ack = async { js.send_publish(subject, m).await?.await };
            match tokio::time::timeout(CALL_TIMEOUT, ack).await {
                Ok(Ok(ack)) => Ok(ack.sequence),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("timed out".to_owned()),
            }
        }));
    }
}

/// The API node's side of a decide that holds: appends the hold records of
/// `recipients` (every one acknowledged before any shard is asked), then
/// reads each shard's decision lines of its records. The lines in
/// recipient order.
pub(crate) async fn decide_held(
    api: &Api,
    message: &Map<String, Value>,
    recipients: &[String],
    explain: bool,
    after: u64,
) -> Result<Vec<Record>, Error> {
    let mut by_partition: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for (i, r) in recipients.iter().enumerate() {
        by_partition.entry(partition_of(r).get()).or_default().push(i);
    }
    let records: Vec<(u16, &[usize])> = by_partition
        .iter()
        .flat_map(|(&p, positions)| positions.chunks(RECORD_IDS).map(move |c| (p, c)))
        .collect();
    let space = api.log().space();
    let appends = records
        .iter()
        .map(|&(p, positions)| append_hold(api, p, message, positions, recipients, explain));
    let seqs = futures::future::try_join_all(appends).await?;
    let last = seqs.iter().copied().max().unwrap_or(0).max(after);
    api.acknowledged(last);
    let layout = api.layout();
    let mut per_shard: Vec<(Vec<u64>, Vec<usize>)> = vec![(Vec::new(), Vec::new()); usize::from(layout.shards())];
    for (&(p, positions), &seq) in records.iter().zip(&seqs) {
        let Some(partition) = Partition::new(p) else { continue };
        let s = &mut per_shard[usize::from(layout.shard_of(partition).0)];
        s.0.push(seq);
        s.1.extend_from_slice(positions);
    }
    let asks = per_shard
        .into_iter()
        .enumerate()
        .filter(|(_, (seqs, _))| !seqs.is_empty())
        .map(|(s, (holds, positions))| async move {
            let body = serde_json::to_vec(&HeldRequest { after: last, holds }).map_err(|e| Error::frame("held", e))?;
            let answer = api.ask(held_subject(space, layout, ShardId(s as u16)), body).await?;
            let records = wire::records(wire::payload(&answer)?, positions.len())?;
            Ok::<_, Error>((positions, records))
        });
    let mut merged: Vec<Option<Record>> = vec![None; recipients.len()];
    for (positions, records) in futures::future::try_join_all(asks).await? {
        for (i, r) in positions.into_iter().zip(records) {
            merged[i] = Some(r);
        }
    }
    merged
        .into_iter()
        .map(|r| r.ok_or_else(|| Error::frame("held", "a recipient without a decision")))
        .collect()
}

/// Appends the hold record of `recipients[positions]` to partition `p`'s
/// subject: its sequence. Retried for up to 20 s under one id of its own,
/// so that a retry whose first attempt was stored is stored once.
async fn append_hold(
    api: &Api,
    p: u16,
    message: &Map<String, Value>,
    positions: &[usize],
    recipients: &[String],
    explain: bool,
) -> Result<u64, Error> {
    let space = api.log().space();
    let partition = Partition::new(p).ok_or_else(|| Error::frame("hold record", "no such partition"))?;
    let subject = space.partition_subject(partition);
    let mut push = message.clone();
    push.insert(
        "recipients".into(),
        positions
            .iter()
            .map(|&i| Value::String(recipients[i].clone()))
            .collect(),
    );
    let payload = bytes::Bytes::from(
        serde_json::to_vec(&serde_json::json!({ "explain": explain, "push": push }))
            .map_err(|e| Error::frame("hold record", e))?,
    );
    let inbox = api.client().new_inbox();
    let id = format!("h.{}", inbox.rsplit('.').next().unwrap_or(&inbox));
    let js = api.log().context();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let m = PublishMessage::build()
            .payload(payload.clone())
            .message_id(id.as_str())
            .header(ENTRY_HEADER, HOLD);
        let attempt = async { js.send_publish(subject.clone(), m).await?.await };
        match tokio::time::timeout(CALL_TIMEOUT, attempt).await {
            Ok(Ok(ack)) => return Ok(ack.sequence),
            Ok(Err(e)) if Instant::now() >= deadline => return Err(nats("append a hold record")(e)),
            Err(_) if Instant::now() >= deadline => return Err(Error::Timeout("append a hold record")),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dnd_engine::{chrono_tz, Config, Conversation, Message};

    /// An item held after the evaluation at 07:00 sharp (the end of the
    /// quiet time), due at that very instant, is released by the next
    /// evaluation as the second digest of its recipient and instant; a
    /// digest of another instant is a first again; the counts survive a
    /// save.
    #[test]
    fn a_second_digest_of_one_recipient_and_instant_is_numbered_two() {
        let mut settings = Settings::new(Config::new(chrono_tz::UTC));
        let set = settings.handle(
            "/user/blockPushPeriod/set.json",
            b"userId=u&startTime=22:00:00&period=540&level=5",
        );
        assert_eq!(set.code(), 200);
        let mut held = Held::new();
        let mut same = SameInstant::default();
        let hold = |held: &mut Held, at: &str| {
            let message = Message::new(Conversation::Group { group_id: "g" }, "s", at.parse().unwrap()).with_hold();
            let prepared = settings.prepare(&message);
            held.hold(&prepared, [("u", prepared.decide_id("u"))]).unwrap();
        };
        let seven: Timestamp = "2026-11-23T07:00:00Z".parse().unwrap();
        hold(&mut held, "2026-11-22T23:00:00Z");
        let first = held.release(&settings, seven);
        assert_eq!(first.digests[0].at, seven.millis());
        assert_eq!(same.ks(&first.digests, held.last_evaluation()), [1]);
        // Sent at 06:00, held after the 07:00 evaluation: due at 07:00, its lower bound.
        hold(&mut held, "2026-11-23T06:00:00Z");
        let saved: SameInstant = serde_json::from_str(&serde_json::to_string(&same).unwrap()).unwrap();
        assert_eq!(saved, same);
        let second = held.release(&settings, "2026-11-23T08:00:00Z".parse().unwrap());
        assert_eq!(second.digests[0].at, seven.millis());
        assert_eq!(same.ks(&second.digests, held.last_evaluation()), [2]);
        assert_eq!(
            dnd_engine::released::digest_id(&second.digests[0], 2),
            format!("{}-u-2", seven.millis())
        );
        // The next evaluation's instant is another: its digests are first ones.
        hold(&mut held, "2026-11-23T22:30:00Z");
        let third = held.release(&settings, "2026-11-24T09:00:00Z".parse().unwrap());
        assert_eq!(same.ks(&third.digests, held.last_evaluation()), [1]);
    }

    #[test]
    fn records_and_requests_read_back() {
        let r: HoldRecord = serde_json::from_str(
            r#"{"push":{"at":1,"conversationType":1,"targetId":"s","fromUserId":"s","recipients":["a"],"hold":true}}"#,
        )
        .unwrap();
        assert!(!r.explain && r.push.hold && r.push.recipients == ["a"]);
        assert!(serde_json::from_str::<HoldRecord>(r#"{"push":{},"other":1}"#).is_err());
        let back: ReleaseRecord =
            serde_json::from_slice(&serde_json::to_vec(&ReleaseRecord { at: 7 }).unwrap()).unwrap();
        assert_eq!(back.at, 7);
        assert!(serde_json::from_str::<ReleaseRecord>(r#"{"at":"x"}"#).is_err());
        let space = Space::app("app");
        assert_eq!(
            held_subject(&space, Layout::new(3).unwrap(), ShardId(1)),
            "dnd.app.shard.3.1.held"
        );
    }
}
