//! An evaluation of the held items: each is re-timed against the settings
//! as they are now, dropped when nothing in the week from its lower bound
//! pushes, and released, one digest per recipient and instant, when due.

use std::collections::BTreeMap;

use super::digest::{Digest, DigestConversation};
use super::Held;
use crate::decide::defer::Boundary;
use crate::decide::walk::Layer;
use crate::model::{ConversationType, Level, Timestamp};
use crate::store::Settings;

/// What one evaluation ([`Held::release`]) did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Release {
    /// The digests due at or before the evaluation's instant, in order of
    /// `at`, then `userId`; each is released once.
    pub digests: Vec<Digest>,
    /// The items re-timed (their due instant changed since the hold or the
    /// last evaluation) or dropped, in the order of the held messages.
    pub notes: Vec<Note>,
}

/// One item that an evaluation re-timed or dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Note {
    /// The recipient.
    pub user_id: String,
    /// The message's sender.
    pub from_user_id: String,
    /// The message's conversation type.
    pub conversation_type: ConversationType,
    /// The message's conversation (its sender for private and system messages).
    pub target_id: String,
    /// The message's time (epoch ms).
    pub message_at: i64,
    /// The message's id, if it was given one.
    pub message_id: Option<String>,
    /// What happened.
    pub kind: NoteKind,
}

/// What an evaluation did to an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoteKind {
    /// Its due instant moved from `from` to `to` (epoch ms): the settings
    /// changed. `because` is what changes at `to` (`None` when the message
    /// pushes at its lower bound, `to`, itself).
    Retimed {
        /// The instant it was due at before.
        from: i64,
        /// The instant it is due at now.
        to: i64,
        /// What changes at `to`.
        because: Option<Boundary>,
    },
    /// No instant in the 7 days from `bound` pushes: dropped for good.
    /// `by` and `level` are the decision at `bound`.
    Dropped {
        /// The lower bound: the message's time or the previous evaluation's, whichever is later.
        bound: i64,
        /// The layer that decided at `bound`.
        by: Layer,
        /// The level it applied.
        level: Option<Level>,
    },
}

/// One item released: its instant, its recipient's number, its message's
/// sequence number, whether the message mentions the recipient.
type Released = (i64, u32, u64, bool);

impl Held {
    /// Evaluates every held item at `now` against `settings` as they are,
    /// and releases the digests due at or before `now`.
    ///
    /// An item is due at the earliest instant, not before the message's
    /// time nor before the previous evaluation's instant, at which the same
    /// message, decided then with `settings`, pushes; with no such instant
    /// in the 7 days (604,800,000 ms) from that lower bound, it is dropped
    /// for good (counted in [`dropped`](Self::dropped), and noted). Items of
    /// one recipient due at the same instant are one digest; a recipient's
    /// folded count goes with their next digest.
    ///
    /// The cost is one `prepare` per held message and one decision per
    /// item, and the defer computation for each item that does not push at
    /// its lower bound.
    pub fn release(&mut self, settings: &Settings, now: Timestamp) -> Release {
        let now_ms = now.millis();
        let previous = self.last_evaluation;
        self.last_evaluation = Some(previous.map_or(now_ms, |p| p.max(now_ms)));
        let mut notes = Vec::new();
        let mut released: Vec<Released> = Vec::new();
        let mut emptied = Vec::new();
        for (&seq, m) in &mut self.messages {
            // The lower bound: the message's time (read as the message
            // was), or the previous evaluation's instant if later.
            let bound = match previous {
                Some(p) if p > m.at.millis() => Timestamp::from_millis(p).unwrap_or(m.at),
                _ => m.at,
            };
            let mentioned = m.mentioned();
            let message = m.message_at(bound, &mentioned);
            let prepared = settings.prepare(&message);
            let note = |user_id: &str, kind| Note {
                user_id: user_id.to_owned(),
                from_user_id: m.sender.to_string(),
                conversation_type: m.conversation_type,
                target_id: m.conversation_key().1.to_owned(),
                message_at: m.at.millis(),
                message_id: m.message_id.as_deref().map(str::to_owned),
                kind,
            };
            let mut kept = Vec::with_capacity(m.items.len());
            for mut item in m.items.iter().copied() {
                let (id, entry) = self.recipients.id_and_entry(item.recipient);
                let handle = settings.user(id);
                let decision = prepared.decide_id(id);
                let due = if decision.push() {
                    Some((bound.millis(), None))
                } else {
                    prepared
                        .deferral(handle, id, decision)
                        .map(|d| (d.until.timestamp_millis(), Some(d.because)))
                };
                let Some((due, because)) = due else {
                    notes.push(note(
                        id,
                        NoteKind::Dropped {
                            bound: bound.millis(),
                            by: decision.by(),
                            level: decision.level(),
                        },
                    ));
                    entry.detailed -= 1;
                    self.dropped += 1;
                    if entry.detailed == 0 {
                        // Nothing left to carry the folded count.
                        self.dropped += std::mem::take(&mut entry.folded);
                    }
                    continue;
                };
                if item.due != i64::MIN && item.due != due {
                    notes.push(note(
                        id,
                        NoteKind::Retimed {
                            from: item.due,
                            to: due,
                            because,
                        },
                    ));
                }
                item.due = due;
                if due <= now_ms {
                    released.push((due, item.recipient, seq, prepared.mentions_recipient(handle, id)));
                } else {
                    kept.push(item);
                }
            }
            m.items = kept;
            if m.items.is_empty() {
                emptied.push(seq);
            }
        }
        let digests = self.digests(released);
        for seq in emptied {
            self.messages.remove(&seq);
        }
        self.prune();
        Release { digests, notes }
    }

    /// The digests of `released`, in order of `at`, then `userId`.
    fn digests(&mut self, released: Vec<Released>) -> Vec<Digest> {
        let mut by_digest: BTreeMap<(i64, &str), Vec<(u64, bool)>> = BTreeMap::new();
        for &(at, recipient, seq, mentions) in &released {
            let id = self.recipients.id(recipient);
            by_digest.entry((at, id)).or_default().push((seq, mentions));
        }
        let mut digests = Vec::with_capacity(by_digest.len());
        for ((at, user_id), items) in by_digest {
            let mut conversations: Vec<DigestConversation> = Vec::new();
            // Items in the order held: the last of equal times is the latest held.
            for (seq, mentions) in items {
                let m = &self.messages[&seq];
                let (conversation_type, target, bus) = m.conversation_key();
                let ms = m.at.millis();
                let c = match conversations.iter_mut().find(|c| {
                    c.conversation_type == conversation_type && c.target_id == target && c.bus_channel.as_deref() == bus
                }) {
                    Some(c) => c,
                    None => {
                        conversations.push(DigestConversation {
                            conversation_type,
                            target_id: target.to_owned(),
                            bus_channel: bus.map(str::to_owned),
                            count: 0,
                            mentions: 0,
                            first: ms,
                            last: ms,
                            last_from_user_id: m.sender.to_string(),
                            last_message_id: m.message_id.as_deref().map(str::to_owned),
                        });
                        conversations.last_mut().expect("just pushed")
                    }
                };
                c.count += 1;
                c.mentions += u64::from(mentions);
                c.first = c.first.min(ms);
                if ms >= c.last {
                    c.last = ms;
                    c.last_from_user_id = m.sender.to_string();
                    c.last_message_id = m.message_id.as_deref().map(str::to_owned);
                }
            }
            conversations.sort_by(|a, b| {
                b.last.cmp(&a.last).then_with(|| {
                    (a.conversation_type.code(), &a.target_id, &a.bus_channel).cmp(&(
                        b.conversation_type.code(),
                        &b.target_id,
                        &b.bus_channel,
                    ))
                })
            });
            digests.push(Digest {
                user_id: user_id.to_owned(),
                at,
                conversations,
                folded: 0,
            });
        }
        for (&(_, recipient, _, _), _) in released.iter().zip(0..) {
            self.recipients.entries[recipient as usize].detailed -= 1;
        }
        // A recipient's folded count goes with their first digest of this release.
        for d in &mut digests {
            if let Some(n) = self.recipients.find(&d.user_id) {
                d.folded = std::mem::take(&mut self.recipients.entries[n as usize].folded);
            }
        }
        digests
    }
}
