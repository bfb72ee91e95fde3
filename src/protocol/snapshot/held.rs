//! The settings and the held items saved together, and restored together.
//!
//! [`Held`] lives apart from [`Settings`], so a save of both is its own
//! value: [`save_with_held`] writes the settings' saved form with a `held`
//! object beside them (format 3 when anything is held), and [`Restored`]
//! reads such a save back (any format: a save of formats 1 and 2, or of
//! the settings alone, restores with nothing held). Restoring the settings
//! alone from a save that carries held items is refused, never a silent
//! loss of them.
//!
//! ```
//! use dnd_engine::snapshot::{save_with_held, Restored};
//! use dnd_engine::{chrono_tz, Config, Conversation, Held, Message, Settings};
//! let mut settings = Settings::new(Config::new(chrono_tz::UTC));
//! settings.handle("/user/blockPushPeriod/set.json", b"userId=u&startTime=22:00:00&period=540&level=5");
//! let mut held = Held::new();
//! let message = Message::new(Conversation::Group { group_id: "g" }, "s", "2026-11-22T23:30:00Z".parse()?).with_hold();
//! let prepared = settings.prepare(&message);
//! held.hold(&prepared, [("u", prepared.decide_id("u"))])?;
//!
//! let saved = serde_json::to_string(&save_with_held(&settings, &held)).unwrap();
//! assert!(saved.starts_with(r#"{"format":3,"#));
//! let Restored { settings: s2, held: mut h2, .. } = serde_json::from_str(&saved).unwrap();
//! assert_eq!(h2.len(), 1);
//! let at = "2026-11-23T08:00:00Z".parse()?;
//! assert_eq!(h2.release(&s2, at), held.release(&settings, at));
//! assert!(serde_json::from_str::<Settings>(&saved).is_err(), "the held items would be lost");
//! # Ok::<(), dnd_engine::Error>(())
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::format::{FoldedSnapshot, HeldItemSnapshot, HeldMessageSnapshot, HeldSnapshot, FORMAT_3};
use super::{at, read_snapshot};
use crate::error::Error;
use crate::hold::{Held, SavedItem, SavedMentions, SavedMessage};
use crate::model::shape::Obj;
use crate::model::ConversationType;
use crate::store::Settings;

/// The settings and the held items, to be saved as one value (its
/// `Serialize`).
#[derive(Clone, Copy, Debug)]
pub struct WithHeld<'a> {
    /// The settings.
    pub settings: &'a Settings,
    /// The held items.
    pub held: &'a Held,
}

/// `settings` and `held`, saved together: the settings' saved form with the
/// held items beside them, in format 3 when anything is held or was ever
/// evaluated (otherwise exactly the settings' own save).
pub fn save_with_held<'a>(settings: &'a Settings, held: &'a Held) -> WithHeld<'a> {
    WithHeld { settings, held }
}

/// The settings and the held items restored from one save.
#[derive(Debug)]
#[non_exhaustive]
pub struct Restored {
    /// The settings.
    pub settings: Settings,
    /// The held items (none for a save without them), with the default
    /// detail limit ([`Held::set_detail_limit`] changes it).
    pub held: Held,
}

/// Whether `held` has anything a save must keep.
fn worth_saving(held: &Held) -> bool {
    !held.is_empty() || held.last_evaluation().is_some() || held.dropped() > 0
}

fn message_snapshot(m: SavedMessage) -> Obj<HeldMessageSnapshot> {
    let grouped = matches!(
        m.conversation_type,
        ConversationType::Group | ConversationType::UltraGroup
    );
    let (mention_all, mentioned_user_ids) = match m.mentions {
        SavedMentions::All => (Some(true), None),
        SavedMentions::Users(ids) => (None, Some(ids)),
        _ => (None, None),
    };
    Obj(HeldMessageSnapshot {
        conversation_type: m.conversation_type,
        target_id: grouped.then_some(m.target_id),
        bus_channel: m.bus_channel,
        from_user_id: m.from_user_id,
        at: m.at,
        mention_all,
        mentioned_user_ids,
        mentioned_user_group_ids: Some(m.mentioned_groups).filter(|g| !g.is_empty()),
        text: Some(m.text).filter(|t| !t.is_empty()),
        urgent: m.urgent.then_some(true),
        member_count: m.member_count,
        mention_all_allowed: (!m.mention_all_allowed).then_some(false),
        message_id: m.message_id,
        items: m
            .items
            .into_iter()
            .map(|i| {
                Obj(HeldItemSnapshot {
                    user_id: i.user_id,
                    due: i.due,
                })
            })
            .collect(),
    })
}

fn held_snapshot(held: &Held) -> HeldSnapshot {
    HeldSnapshot {
        last_evaluation: held.last_evaluation(),
        dropped: Some(held.dropped()).filter(|&n| n > 0),
        messages: held.saved_messages().map(message_snapshot).collect(),
        folded: held
            .saved_folded()
            .map(|(user_id, count)| Obj(FoldedSnapshot { user_id, count }))
            .collect(),
    }
}

impl Serialize for WithHeld<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut snapshot = self.settings.snapshot();
        if worth_saving(self.held) {
            snapshot.format = FORMAT_3;
            snapshot.held = Some(Obj(held_snapshot(self.held)));
        }
        snapshot.serialize(serializer)
    }
}

/// A saved message as a held message of the saved form, unchecked (the
/// restore checks it).
fn saved_of(m: HeldMessageSnapshot) -> Result<SavedMessage, Error> {
    let mentions = match (m.mention_all, m.mentioned_user_ids) {
        (None, None) => SavedMentions::None,
        (Some(true), None) => SavedMentions::All,
        (None, Some(ids)) => SavedMentions::Users(ids),
        (Some(false), _) => return Err(Error::snapshot("mentionAll: false is never saved (leave it out)")),
        (Some(true), Some(_)) => {
            return Err(Error::snapshot(
                "mentionAll and mentionedUserIds: a message mentions everyone or users, not both",
            ))
        }
    };
    let grouped = matches!(
        m.conversation_type,
        ConversationType::Group | ConversationType::UltraGroup
    );
    let target_id = match (grouped, m.target_id) {
        (true, Some(t)) => t,
        (true, None) => return Err(Error::snapshot("targetId: a group's message names its group")),
        (false, Some(_)) => return Err(Error::snapshot("targetId: a private or system message has none")),
        (false, None) => String::new(),
    };
    let mut saved = SavedMessage::new(m.conversation_type, target_id, m.from_user_id, m.at);
    saved.bus_channel = m.bus_channel;
    saved.mentions = mentions;
    saved.mentioned_groups = match m.mentioned_user_group_ids {
        Some(g) if g.is_empty() => {
            return Err(Error::snapshot(
                "mentionedUserGroupIds: [] is never saved (leave it out)",
            ))
        }
        g => g.unwrap_or_default(),
    };
    saved.text = match m.text {
        Some(t) if t.is_empty() => return Err(Error::snapshot("text: \"\" is never saved (leave it out)")),
        t => t.unwrap_or_default(),
    };
    saved.urgent = m.urgent.unwrap_or(false);
    saved.member_count = m.member_count;
    saved.mention_all_allowed = m.mention_all_allowed.unwrap_or(true);
    saved.message_id = m.message_id;
    saved.items = m
        .items
        .into_iter()
        .map(|Obj(i)| SavedItem::new(i.user_id, i.due))
        .collect();
    Ok(saved)
}

fn restore_message(held: &mut Held, m: HeldMessageSnapshot) -> Result<(), Error> {
    held.restore_message(saved_of(m)?).map_err(|e| match e {
        Error::Field { path, source } => Error::snapshot(format_args!("{path}: {source}")),
        e => e,
    })
}

fn restore_held(s: HeldSnapshot) -> Result<Held, Error> {
    let mut held = Held::new();
    for (i, Obj(m)) in s.messages.into_iter().enumerate() {
        restore_message(&mut held, m).map_err(at(&format!("held.messages[{i}]")))?;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, Obj(f)) in s.folded.iter().enumerate() {
        let place = format!("held.folded[{i}]");
        super::once(&mut seen, f.user_id.as_str(), &format!("{place}.userId"))?;
        held.restore_folded(&f.user_id, f.count).map_err(at(&place))?;
    }
    if s.dropped == Some(0) {
        return Err(Error::snapshot("held.dropped: 0 is never saved (leave it out)"));
    }
    held.restore_counters(s.last_evaluation, s.dropped.unwrap_or(0));
    Ok(held)
}

impl<'de> Deserialize<'de> for Restored {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Restored, D::Error> {
        let mut snapshot = read_snapshot(deserializer)?;
        let held = snapshot.held.take();
        if held.is_some() && snapshot.format < FORMAT_3 {
            return Err(serde::de::Error::custom("held is not in formats 1 and 2"));
        }
        let settings = Settings::restore(snapshot).map_err(serde::de::Error::custom)?;
        let held = match held {
            Some(Obj(h)) => restore_held(h).map_err(serde::de::Error::custom)?,
            None => Held::new(),
        };
        Ok(Restored { settings, held })
    }
}

/// A held message in the JSON of a save's `held.messages[i]`: what a
/// service's log records for a hold.
impl Serialize for SavedMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        message_snapshot(self.clone()).serialize(serializer)
    }
}

/// Read from the JSON of a save's `held.messages[i]`; its values are
/// checked when it is restored ([`Held::restore_message`]).
impl<'de> Deserialize<'de> for SavedMessage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SavedMessage, D::Error> {
        let Obj(m) = Obj::<HeldMessageSnapshot>::deserialize(deserializer)?;
        saved_of(m).map_err(serde::de::Error::custom)
    }
}
