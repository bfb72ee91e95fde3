//! The values of the DND domain: conversation types, levels, times of day, the
//! daily window, the user period, ids, mentions, expiring levels, weekly
//! schedules, the break-through policy values and the wall clock of a zone.
//!
//! Every type here is valid by construction: a constructor that takes outside
//! data checks it and answers a typed [`Error`](crate::Error), so code that holds one of
//! these values never checks it again.
//!
//! One idea per file: [`ConversationType`] (`conversation_type.rs`),
//! [`Level`] and [`PeriodLevel`] (`level.rs`), [`TimeOfDay`], [`DndWindow`]
//! and [`DndPeriod`] (`window.rs`), [`Timestamp`] (`timestamp.rs`), the
//! ids (`ids.rs`), [`Mentions`] and [`Mentioned`] (`mention.rs`); the
//! values with a time: [`Expiring`](crate::Expiring) and
//! [`Snooze`](crate::Snooze) (`expiring.rs`),
//! [`WeeklySchedule`](crate::WeeklySchedule) (`schedule.rs`), a zone's wall
//! clock and offset spans (`zone.rs`); the break-through values,
//! [`VipList`](crate::VipList) and [`Urgency`](crate::Urgency)
//! (`policy.rs`); and the shapes JSON from outside may take beyond serde's
//! derived checks, which every value read from JSON keeps to (`shape.rs`).
//! The first six files are re-exported here, as
//! `crate::model::X`; everything public is re-exported at the crate root.

mod conversation_type;
pub(crate) mod expiring;
pub(crate) mod id_list;
mod ids;
pub(crate) mod keyword;
mod level;
pub(crate) mod mention;
pub(crate) mod muted;
pub(crate) mod policy;
pub(crate) mod schedule;
pub(crate) mod shape;
mod timestamp;
mod window;
pub(crate) mod zone;

pub use conversation_type::ConversationType;
pub use ids::{BusChannel, ConversationKey, TargetId, UserId, MAX_BUS_CHANNEL_LEN, MAX_ID_BYTES};
pub use level::{Level, PeriodLevel};
pub use timestamp::{instant_from_millis, parse_instant, Timestamp};
pub use window::{parse_zone, DndPeriod, DndWindow, TimeOfDay};

pub use mention::{Mentioned, Mentions};
