//! Held pushes: a push that a quiet time defers is kept, and delivered, one
//! digest per recipient, when it is due (`docs/rules.md`, "Held pushes").
//!
//! [`Held`] is the store of held items, apart from [`Settings`]: holding
//! copies nothing of the settings, and the plain fanout does not read it.
//! A message asks to be held with [`Message::with_hold`](crate::Message::with_hold);
//! the caller decides its recipients as always, then hands the decisions to
//! [`Held::hold`] (by id) or [`Held::hold_fanout`] (a fanout by handle),
//! which keep each recipient whose push is deferred; or decides and holds a
//! fanout by handle in one pass with [`Held::decide_and_hold`]. [`Held::release`]
//! evaluates every held item against the settings as they are at that
//! evaluation and answers the digests due at or before its instant, each
//! once, with what was re-timed or dropped and why.
//!
//! A repeated sender (layer `repeat`) needs the held items at decide time:
//! [`Held::repeaters`] answers, for one message, the recipients for whom its
//! sender is one, and [`Repeaters::prepare`] prepares the message with them.
//!
//! ```
//! use dnd_engine::{chrono_tz, Config, Conversation, Held, Message, Settings, Timestamp};
//! let mut settings = Settings::new(Config::new(chrono_tz::UTC));
//! let ok = settings.handle("/user/blockPushPeriod/set.json", b"userId=u&startTime=22:00:00&period=540&level=5");
//! assert_eq!(ok.code(), 200);
//! let mut held = Held::new();
//!
//! // 23:30: quiet until 07:00, so held.
//! let at: Timestamp = "2026-11-22T23:30:00Z".parse()?;
//! let message = Message::new(Conversation::Group { group_id: "g" }, "s", at).with_hold().with_message_id("m1");
//! let prepared = settings.prepare(&message);
//! let decision = prepared.decide_id("u");
//! let holdings = held.hold(&prepared, [("u", decision)])?;
//! assert!(holdings[0].is_held());
//!
//! // Nothing is due at 06:00; at 08:00 the 07:00 digest is.
//! assert!(held.release(&settings, "2026-11-23T06:00:00Z".parse()?).digests.is_empty());
//! let release = held.release(&settings, "2026-11-23T08:00:00Z".parse()?);
//! assert_eq!(release.digests.len(), 1);
//! let digest = &release.digests[0];
//! assert_eq!((digest.user_id.as_str(), digest.at), ("u", 1_795_417_200_000));
//! assert_eq!(digest.conversations[0].last_message_id.as_deref(), Some("m1"));
//! assert!(held.is_empty());
//! # Ok::<(), dnd_engine::Error>(())
//! ```

mod digest;
mod message;
mod recipients;
mod release;
mod repeat;
mod saved;

use std::collections::{BTreeMap, BTreeSet};

pub use digest::{Digest, DigestConversation};
pub use release::{Note, NoteKind, Release};
pub use repeat::{Repeat, Repeaters};
pub use saved::{SavedItem, SavedMentions, SavedMessage};

use crate::decide::{Decision, PreparedMessage, Recipient};
use crate::error::Error;
use crate::store::UserHandle;
use message::{HeldMessage, Item};
use recipients::Recipients;

/// How many items of one recipient are kept in detail by default.
pub const DEFAULT_DETAIL_LIMIT: u32 = 1_000;

/// The most bytes a message id (`messageId`) may have.
pub const MAX_MESSAGE_ID_BYTES: usize = 64;

/// What became of one recipient handed to [`Held::hold`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Holding {
    /// Not held: the message pushes now, or would push at no instant in the
    /// 7 days after it (or was not asked to hold).
    NotHeld,
    /// Held in detail.
    Held,
    /// Held as a count only: the recipient has the most items kept in
    /// detail; their next digest says how many were folded.
    Folded,
}

impl Holding {
    /// Whether the recipient is held (in detail or folded).
    #[must_use]
    pub const fn is_held(self) -> bool {
        !matches!(self, Holding::NotHeld)
    }
}

/// The held items: what was held, for whom, and when the items were last
/// evaluated. Pure data: it reads no clock; every instant is an input.
#[derive(Clone, Debug)]
pub struct Held {
    limit: u32,
    next_seq: u64,
    /// The held messages by the order they were held, each with its items.
    messages: BTreeMap<u64, HeldMessage>,
    /// The held messages of each sender, for repeated senders.
    by_sender: hashbrown::HashMap<Box<str>, BTreeSet<u64>>,
    /// The recipients of held items, and their counts.
    recipients: Recipients,
    /// The instant of the last evaluation ([`Held::release`]).
    last_evaluation: Option<i64>,
    /// Items dropped for good so far.
    dropped: u64,
}

impl Default for Held {
    fn default() -> Self {
        Held::new()
    }
}

impl Held {
    /// An empty store that keeps at most [`DEFAULT_DETAIL_LIMIT`] items per
    /// recipient in detail.
    pub fn new() -> Held {
        Held::with_detail_limit(DEFAULT_DETAIL_LIMIT)
    }

    /// An empty store that keeps at most `limit` items per recipient in
    /// detail (at least 1).
    pub fn with_detail_limit(limit: u32) -> Held {
        Held {
            limit: limit.max(1),
            next_seq: 0,
            messages: BTreeMap::new(),
            by_sender: hashbrown::HashMap::new(),
            recipients: Recipients::default(),
            last_evaluation: None,
            dropped: 0,
        }
    }

    /// The most items per recipient kept in detail.
    pub fn detail_limit(&self) -> u32 {
        self.limit
    }

    /// Whether nothing is held (in detail or folded).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.recipients.entries.iter().all(|c| c.folded == 0)
    }

    /// How many items are held in detail.
    pub fn len(&self) -> usize {
        self.messages.values().map(|m| m.items.len()).sum()
    }

    /// How many items are held as counts only.
    pub fn folded(&self) -> u64 {
        self.recipients.entries.iter().map(|c| c.folded).sum()
    }

    /// How many items were dropped for good (no instant in the 7 days from
    /// their lower bound pushed).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The instant (epoch ms) of the last evaluation, if there was one.
    pub fn last_evaluation(&self) -> Option<i64> {
        self.last_evaluation
    }

    /// Holds, for `prepared`'s message, each recipient (by id) whose
    /// decision (from `prepared`) is a deferred push, if the message asks
    /// to be held ([`Message::hold`](crate::Message::hold)); one
    /// [`Holding`] per recipient, in order. A recipient given twice is
    /// held once. A message with an id ([`Message::message_id`](crate::Message::message_id))
    /// is held once per recipient: holding it again (a client retrying a
    /// decide whose answer it lost) answers [`Holding::Held`] for a
    /// recipient it is still held for in detail, and holds nothing more.
    ///
    /// An error, with nothing held, when the message's id is not 1 to 64
    /// bytes (`messageId`).
    pub fn hold<'r>(
        &mut self,
        prepared: &PreparedMessage<'_>,
        recipients: impl IntoIterator<Item = (&'r str, Decision)>,
    ) -> Result<Vec<Holding>, Error> {
        check_message_id(prepared.message().message_id)?;
        let hold = prepared.message().hold;
        let mut out = Vec::new();
        let mut holder = Holder::new(self, prepared);
        for (id, decision) in recipients {
            // The deferred push's instant: the item's due until its first evaluation.
            let deferral = match hold {
                true => prepared.deferral(prepared.settings().user(id), id, decision),
                false => None,
            };
            out.push(match deferral {
                Some(d) => holder.hold(id, d.until.timestamp_millis()),
                None => Holding::NotHeld,
            });
        }
        holder.finish();
        Ok(out)
    }

    /// Holds, for `prepared`'s message, every recipient of a fanout by
    /// handle whose decision (`decisions[i]` for `recipients[i]`, as
    /// [`PreparedMessage::decide_into`] wrote them) is a deferred push, if
    /// the message asks to be held; how many were held. A recipient given
    /// twice is held once, and a message with an id once per recipient, as
    /// [`Held::hold`] holds.
    ///
    /// An error, with nothing held, when the lengths differ, a handle is
    /// not the settings' or the message's id is not 1 to 64 bytes.
    pub fn hold_fanout(
        &mut self,
        prepared: &PreparedMessage<'_>,
        recipients: &[UserHandle],
        decisions: &[Decision],
    ) -> Result<usize, Error> {
        check_message_id(prepared.message().message_id)?;
        if recipients.len() != decisions.len() {
            return Err(Error::Invalid(format!(
                "{} recipients and {} decisions",
                recipients.len(),
                decisions.len()
            )));
        }
        if !prepared.message().hold {
            return match prepared.settings().refused(recipients) {
                Some(e) => Err(e),
                None => Ok(0),
            };
        }
        let mut deferred = Vec::new();
        prepared.deferred_positions(recipients, decisions, &mut deferred)?;
        self.hold_positions(prepared, recipients, &deferred);
        Ok(deferred.len())
    }

    /// Decides a fanout by handle and holds it, in one pass: as
    /// [`PreparedMessage::decide_into`] then [`hold_fanout`](Self::hold_fanout),
    /// with the decisions of repeated senders as
    /// [`Repeaters::correct_fanout`] corrects them (for a message prepared
    /// by [`Repeaters::prepare`]); how many were held. `out` holds the
    /// decisions, one per recipient, in order. Each recipient who does not
    /// push is tested for a deferred push while their record is at hand, so
    /// that a fanout that asks to hold and defers nobody costs what the
    /// fanout costs.
    ///
    /// An error, with nothing held and `out` empty, when a handle is not
    /// the settings' or the message's id is not 1 to 64 bytes.
    ///
    /// ```
    /// use dnd_engine::{chrono_tz, Config, Conversation, Held, Message, Settings, Timestamp};
    /// let mut settings = Settings::new(Config::new(chrono_tz::UTC));
    /// let ok = settings.handle("/user/blockPushPeriod/set.json", b"userId=u&startTime=22:00:00&period=540&level=5");
    /// assert_eq!(ok.code(), 200);
    /// let handles = [settings.user("u").unwrap()];
    /// let at: Timestamp = "2026-11-22T23:30:00Z".parse()?;
    /// let message = Message::new(Conversation::Group { group_id: "g" }, "s", at).with_hold();
    /// let prepared = settings.prepare(&message);
    /// let (mut held, mut out) = (Held::new(), Vec::new());
    /// assert_eq!(held.decide_and_hold(&prepared, &handles, &mut out)?, 1);
    /// assert!(!out[0].push());
    /// assert_eq!(held.held_for("u"), (1, 0));
    /// # Ok::<(), dnd_engine::Error>(())
    /// ```
    ///
    /// [`Repeaters::correct_fanout`]: crate::Repeaters::correct_fanout
    /// [`Repeaters::prepare`]: crate::Repeaters::prepare
    pub fn decide_and_hold(
        &mut self,
        prepared: &PreparedMessage<'_>,
        recipients: &[UserHandle],
        out: &mut Vec<Decision>,
    ) -> Result<usize, Error> {
        out.clear();
        check_message_id(prepared.message().message_id)?;
        if !prepared.message().hold {
            prepared.decide_into(recipients, out)?;
            if let Some(repeaters) = prepared.repeaters() {
                repeaters.correct_fanout(prepared, recipients, out)?;
            }
            return Ok(0);
        }
        let mut deferred = Vec::new();
        prepared.decide_deferred_into(recipients, out, &mut deferred)?;
        self.hold_positions(prepared, recipients, &deferred);
        Ok(deferred.len())
    }

    /// Holds `recipients[i]` (checked handles) for each `i` of `deferred`.
    fn hold_positions(&mut self, prepared: &PreparedMessage<'_>, recipients: &[UserHandle], deferred: &[usize]) {
        if deferred.is_empty() {
            return;
        }
        let settings = prepared.settings();
        let mut holder = Holder::new(self, prepared);
        holder.reserve(deferred.len());
        let (mut numbers, mut ids) = ([0; 64], Vec::with_capacity(64));
        for batch in deferred.chunks(numbers.len()) {
            for (n, &i) in numbers.iter_mut().zip(batch) {
                *n = recipients[i].index();
            }
            settings.user_ids_at(&numbers[..batch.len()], &mut ids);
            for id in &ids {
                holder.hold(id, i64::MIN);
            }
        }
        holder.finish();
    }

    /// The counts of recipient `id`: items held in detail, and folded.
    pub fn held_for(&self, id: &str) -> (u32, u64) {
        self.recipients.find(id).map_or((0, 0), |n| {
            let e = &self.recipients.entries[n as usize];
            (e.detailed, e.folded)
        })
    }

    /// The recipients (by number) with an item held in detail for a message
    /// from `sender` with id `message_id`: a message held again with the
    /// same id (a retried decide) holds none of them again. The cost is a
    /// look at each message of the sender still held.
    fn held_for_message(&self, sender: &str, message_id: &str) -> hashbrown::HashSet<u32> {
        let mut out = hashbrown::HashSet::new();
        for seq in self.by_sender.get(sender).into_iter().flatten() {
            let Some(m) = self.messages.get(seq) else { continue };
            if m.message_id.as_deref() == Some(message_id) {
                out.extend(m.items.iter().map(|i| i.recipient));
            }
        }
        out
    }

    /// The recipients, among `user_ids`, with an item of the message from
    /// `sender` with id `message_id` held in detail, in the order given
    /// holding that message again (a retried decide) holds nothing more
    /// for them. One look at the sender's held messages for all of them.
    pub fn holding_message<'u>(
        &self,
        sender: &str,
        message_id: &str,
        user_ids: impl IntoIterator<Item = &'u str>,
    ) -> Vec<&'u str> {
        let held = self.held_for_message(sender, message_id);
        if held.is_empty() {
            return Vec::new();
        }
        user_ids
            .into_iter()
            .filter(|id| self.recipients.find(id).is_some_and(|n| held.contains(&n)))
            .collect()
    }

    /// Forgets the recipients who have nothing held, once they are at least
    /// half of those numbered, and the senders with nothing held.
    fn prune(&mut self) {
        let empty = self
            .recipients
            .entries
            .iter()
            .filter(|e| e.detailed == 0 && e.folded == 0)
            .count();
        if empty > 0 && empty * 2 >= self.recipients.len() {
            let renumber = self.recipients.compact();
            for m in self.messages.values_mut() {
                for item in &mut m.items {
                    item.recipient = renumber[item.recipient as usize];
                }
            }
        }
        let messages = &self.messages;
        self.by_sender.retain(|_, seqs| {
            seqs.retain(|s| messages.contains_key(s));
            !seqs.is_empty()
        });
    }
}

/// Checks a message id: 1 to 64 bytes.
pub(crate) fn check_message_id(id: Option<&str>) -> Result<(), Error> {
    match id {
        Some(id) if id.is_empty() || id.len() > MAX_MESSAGE_ID_BYTES => Err(Error::field(
            "messageId",
            Error::Invalid(format!(
                "{} bytes; a message id has 1 to {MAX_MESSAGE_ID_BYTES}",
                id.len()
            )),
        )),
        _ => Ok(()),
    }
}

/// Holds the recipients of one message: the message is stored once, with
/// the first recipient held.
struct Holder<'h, 'p, 'a> {
    held: &'h mut Held,
    prepared: &'p PreparedMessage<'a>,
    seq: u64,
    message: Option<HeldMessage>,
    /// The recipients already held for a message of the same sender and id.
    again: hashbrown::HashSet<u32>,
}

impl<'h, 'p, 'a> Holder<'h, 'p, 'a> {
    fn new(held: &'h mut Held, prepared: &'p PreparedMessage<'a>) -> Self {
        let seq = held.next_seq;
        let m = prepared.message();
        let again = match m.message_id {
            Some(id) => held.held_for_message(m.sender, id),
            None => hashbrown::HashSet::new(),
        };
        Holder {
            held,
            prepared,
            seq,
            message: None,
            again,
        }
    }

    /// Room for `n` items held in detail, and for as many new recipients
    /// as are sure to be new (those beyond the recipients numbered): a
    /// fanout to recipients held before reserves nothing for them.
    fn reserve(&mut self, n: usize) {
        let recipients = &mut self.held.recipients;
        recipients.reserve(n.saturating_sub(recipients.len()));
        let prepared = self.prepared;
        self.message
            .get_or_insert_with(|| HeldMessage::of(prepared.message()))
            .items
            .reserve_exact(n);
    }

    /// Holds recipient `id`, due at `due` as far as is known (`i64::MIN` when not).
    fn hold(&mut self, id: &str, due: i64) -> Holding {
        let limit = self.held.limit;
        let n = self.held.recipients.number(id);
        let entry = &mut self.held.recipients.entries[n as usize];
        if entry.last_seq == self.seq || self.again.contains(&n) {
            return Holding::Held;
        }
        entry.last_seq = self.seq;
        if entry.detailed >= limit {
            entry.folded += 1;
            return Holding::Folded;
        }
        entry.detailed += 1;
        let prepared = self.prepared;
        let message = self.message.get_or_insert_with(|| HeldMessage::of(prepared.message()));
        message.items.push(Item { recipient: n, due });
        Holding::Held
    }

    fn finish(self) {
        // The sequence number is taken even when nothing was held in
        // detail, so that a recipient's `last_seq` never names a later message.
        self.held.next_seq += 1;
        let Some(mut message) = self.message.filter(|m| !m.items.is_empty()) else {
            return;
        };
        // Held for a while: no growth slack.
        message.items.shrink_to_fit();
        self.held
            .by_sender
            .entry(message.sender.clone())
            .or_default()
            .insert(self.seq);
        self.held.messages.insert(self.seq, message);
    }
}

impl PreparedMessage<'_> {
    /// Whether `recipient`'s decision `decision` is a push deferred, which
    /// a message asking to hold would hold.
    pub fn is_deferred(&self, recipient: Recipient<'_>, decision: Decision) -> Result<bool, Error> {
        let (handle, id) = self.resolve(recipient)?;
        Ok(self.holds(handle, id, decision))
    }
}
