//! The saved form's structs: what serde reads and writes, field by field.
//!
//! Every struct is read and written in camelCase and refuses unknown
//! fields (each is held in `Obj`, so only a JSON object is read as one),
//! and every `Option` field is optional in the format's one sense: left out
//! of a save when not set, and refused when given as `null` (never read as
//! absent). `format_struct!` writes those attributes, so that a new field
//! cannot forget them; anything else about a field is written at the
//! field. Turning these into `Settings` and back is the parent module's
//! work.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::expiring::{Snooze, Temporary};
use crate::model::policy::VipScope;
use crate::model::schedule::WeeklySchedule;
use crate::model::shape::{self, Obj};
use crate::model::{ConversationType, DndPeriod, Level};

/// The format a save is written in (format 1 still restores).
pub(super) const FORMAT: u32 = 2;
/// The format a save that holds a repeated-sender setting or held items is
/// written in; any other save keeps [`FORMAT`], which every earlier reader
/// takes.
pub(super) const FORMAT_3: u32 = 3;

/// Defines a struct of the saved form: derived serde in camelCase with
/// unknown fields refused, and on each `Option` field
/// `#[serde(default, deserialize_with = "shape::optional", skip_serializing_if = "Option::is_none")]`.
/// Each field is written with its trailing comma.
macro_rules! format_struct {
    ($(#[$attr:meta])* $svis:vis struct $name:ident { $($fields:tt)* }) => {
        format_struct!(@fields [$(#[$attr])* $svis struct $name] [] $($fields)*);
    };
    // An optional field of the format.
    (@fields $head:tt [$($done:tt)*]
        $(#[$fattr:meta])* $vis:vis $field:ident: Option<$t:ty>, $($rest:tt)*) => {
        format_struct!(@fields $head [
            $($done)*
            $(#[$fattr])*
            #[serde(default, deserialize_with = "shape::optional", skip_serializing_if = "Option::is_none")]
            $vis $field: Option<$t>,
        ] $($rest)*);
    };
    // Any other field, as it is written.
    (@fields $head:tt [$($done:tt)*]
        $(#[$fattr:meta])* $vis:vis $field:ident: $t:ty, $($rest:tt)*) => {
        format_struct!(@fields $head [$($done)* $(#[$fattr])* $vis $field: $t,] $($rest)*);
    };
    (@fields [$($head:tt)*] [$($done:tt)*]) => {
        #[derive(Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        $($head)* { $($done)* }
    };
}

format_struct! {
    /// The whole saved state: the configuration, then users, then
    /// conversations.
    pub(super) struct Snapshot {
        pub(super) format: u32,
        pub(super) time_zone: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub(super) app_defaults: Vec<Obj<TypeLevel>>,
        /// `Some` only when given (saved only when true): present in format 1, it is refused.
        pub(super) private_as_mention: Option<bool>,
        pub(super) mention_all_max_members: Option<u32>,
        #[serde(default)]
        pub(super) users: Vec<Obj<UserSnapshot>>,
        #[serde(default)]
        pub(super) conversations: Vec<Obj<ConversationSnapshot>>,
        /// Saved only when a user group exists (format 2; refused in format
        /// 1), sorted by group id.
        pub(super) user_groups: Option<Vec<Obj<UserGroupSnapshot>>>,
        /// Saved only when a conversation has members (formats 2 and 3;
        /// refused in format 1), sorted by type and target id.
        pub(super) members: Option<Vec<Obj<MembersSnapshot>>>,
        /// The held items, when a save with them holds any (format 3;
        /// refused in formats 1 and 2, and by a restore of the settings alone).
        pub(super) held: Option<Obj<HeldSnapshot>>,
    }
}

format_struct! {
    /// A group's or an ultra group's members, in member order, users of `users`.
    pub(super) struct MembersSnapshot {
        pub(super) conversation_type: ConversationType,
        pub(super) target_id: String,
        pub(super) member_ids: Vec<String>,
    }
}

format_struct! {
    /// The held items: the messages in the order held, each with its
    /// items, the recipients' folded counts, and the store's counters.
    pub(super) struct HeldSnapshot {
        /// The instant of the last evaluation (epoch ms), once there was one.
        pub(super) last_evaluation: Option<i64>,
        /// Items dropped for good so far, when any.
        pub(super) dropped: Option<u64>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub(super) messages: Vec<Obj<HeldMessageSnapshot>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub(super) folded: Vec<Obj<FoldedSnapshot>>,
    }
}

format_struct! {
    /// A held message: the push's fields a decision reads, named as a
    /// push names them, and its items.
    pub(super) struct HeldMessageSnapshot {
        pub(super) conversation_type: ConversationType,
        /// The group or ultra group (types 3 and 10 only).
        pub(super) target_id: Option<String>,
        pub(super) bus_channel: Option<String>,
        pub(super) from_user_id: String,
        /// Epoch ms.
        pub(super) at: i64,
        /// `true` for an @all (saved only then).
        pub(super) mention_all: Option<bool>,
        /// The users mentioned by id (saved only for a mention by id).
        pub(super) mentioned_user_ids: Option<Vec<String>>,
        /// The user groups mentioned (saved only when some are).
        pub(super) mentioned_user_group_ids: Option<Vec<String>>,
        /// The text scanned for keywords (saved only when not empty).
        pub(super) text: Option<String>,
        /// Saved only when true.
        pub(super) urgent: Option<bool>,
        pub(super) member_count: Option<u32>,
        /// Saved only when false.
        pub(super) mention_all_allowed: Option<bool>,
        pub(super) message_id: Option<String>,
        pub(super) items: Vec<Obj<HeldItemSnapshot>>,
    }
}

format_struct! {
    /// One held item: the recipient, and the instant it was last found due
    /// at (absent before its first evaluation).
    pub(super) struct HeldItemSnapshot {
        pub(super) user_id: String,
        pub(super) due: Option<i64>,
    }
}

format_struct! {
    /// A recipient's items folded into a count, for their next digest.
    pub(super) struct FoldedSnapshot {
        pub(super) user_id: String,
        pub(super) count: u64,
    }
}

format_struct! {
    /// A user group: its id and 1 to 10,000 members, users of `users`.
    pub(super) struct UserGroupSnapshot {
        pub(super) group_id: String,
        pub(super) member_ids: Vec<String>,
    }
}

format_struct! {
    /// A level for one conversation type (an app default or a user's).
    pub(super) struct TypeLevel {
        pub(super) conversation_type: ConversationType,
        pub(super) unpush_level: Level,
    }
}

format_struct! {
    /// A temporary level: `unpushLevel` 0 is "not set".
    pub(super) struct TemporarySnapshot {
        pub(super) unpush_level: i64,
        #[serde(with = "chrono::serde::ts_milliseconds")]
        pub(super) until: DateTime<Utc>,
    }
}

impl TemporarySnapshot {
    /// `t` as saved.
    pub(super) fn of(t: Temporary) -> Obj<TemporarySnapshot> {
        Obj(TemporarySnapshot {
            unpush_level: Level::code_of(t.level),
            until: t.until,
        })
    }

    /// The temporary level saved, refused when its level is not one.
    pub(super) fn temporary(&self) -> Result<Temporary, Error> {
        Ok(Temporary {
            level: Level::from_code(self.unpush_level)
                .map_err(|e| Error::snapshot(format_args!("unpushLevel: {e}")))?,
            until: self.until,
        })
    }
}

format_struct! {
    /// A user's temporary level for one conversation type.
    pub(super) struct TemporaryTypeLevel {
        pub(super) conversation_type: ConversationType,
        pub(super) temporary: Obj<TemporarySnapshot>,
    }
}

format_struct! {
    /// A user's temporary level for one conversation (or subchannel).
    pub(super) struct TemporaryConversationLevel {
        pub(super) conversation_type: ConversationType,
        pub(super) target_id: String,
        pub(super) bus_channel: Option<String>,
        pub(super) temporary: Obj<TemporarySnapshot>,
    }
}

format_struct! {
    /// One user and everything set for them but their conversation levels
    /// (those are under the conversations). The default is a user with
    /// nothing set (an id other users' lists name).
    #[derive(Default)]
    pub(super) struct UserSnapshot {
        pub(super) user_id: String,
        pub(super) period: Option<Obj<DndPeriod>>,
        pub(super) schedule: Option<Obj<WeeklySchedule>>,
        pub(super) snooze: Option<Obj<Snooze>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub(super) conversation_types: Vec<Obj<TypeLevel>>,
        /// These three are `Some` only when given (saved only when not empty or
        /// false): present in format 1, even empty or false, they are refused.
        pub(super) temporary_conversation_types: Option<Vec<Obj<TemporaryTypeLevel>>>,
        pub(super) temporary_conversations: Option<Vec<Obj<TemporaryConversationLevel>>>,
        pub(super) vip: Option<Obj<VipSnapshot>>,
        pub(super) urgent_allowed: Option<bool>,
        /// Saved only when the user has keywords (format 2; refused in
        /// format 1), each checked as the request checks it.
        pub(super) keywords: Option<crate::model::keyword::Keywords>,
        /// Saved only when the user mutes somebody (format 2; refused in
        /// format 1): `{"senderIds": [...], "until": MS}`, the senders
        /// users of `users`.
        pub(super) muted_senders: Option<crate::model::muted::MutedSenders>,
        /// The repeated-sender setting, when not the default (format 3).
        pub(super) repeat: Option<Obj<crate::hold::Repeat>>,
    }
}

format_struct! {
    /// A VIP list: 1 to 100 ids of users listed in `users`, none twice.
    pub(super) struct VipSnapshot {
        pub(super) user_ids: Vec<String>,
        pub(super) scope: VipScope,
    }
}

format_struct! {
    /// One user's level in a conversation or subchannel.
    pub(super) struct UserLevel {
        pub(super) user_id: String,
        pub(super) unpush_level: Level,
    }
}

format_struct! {
    /// A conversation: its users' levels and, for an ultra group, its
    /// default and subchannels.
    pub(super) struct ConversationSnapshot {
        pub(super) conversation_type: ConversationType,
        pub(super) target_id: String,
        pub(super) default: Option<Level>,
        pub(super) default_temporary: Option<Obj<TemporarySnapshot>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub(super) users: Vec<Obj<UserLevel>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub(super) subchannels: Vec<Obj<SubchannelSnapshot>>,
    }
}

format_struct! {
    /// An ultra group's subchannel: its default and its users' levels.
    pub(super) struct SubchannelSnapshot {
        pub(super) bus_channel: String,
        pub(super) default: Option<Level>,
        pub(super) default_temporary: Option<Obj<TemporarySnapshot>>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub(super) users: Vec<Obj<UserLevel>>,
    }
}
