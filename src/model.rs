//! The values of the DND domain: conversation types, levels, times of day, the
//! daily window, the user period, ids and mentions.
//!
//! Every type here is valid by construction: a constructor that takes outside
//! data checks it and answers a typed [`Error`](crate::Error), so code that holds one of
//! these values never checks it again.
//!
//! One idea per file: [`ConversationType`] (`conversation_type.rs`),
//! [`Level`] and [`PeriodLevel`] (`level.rs`), [`TimeOfDay`], [`DndWindow`]
//! and [`DndPeriod`] (`window.rs`), [`Timestamp`] (`timestamp.rs`), and the
//! ids (`ids.rs`). Everything is re-exported here, as `crate::model::X`, and
//! at the crate root.

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
mod timestamp;
mod window;
pub(crate) mod zone;

pub use conversation_type::ConversationType;
pub use ids::{BusChannel, ConversationKey, TargetId, UserId, MAX_BUS_CHANNEL_LEN, MAX_ID_BYTES};
pub use level::{Level, PeriodLevel};
pub use timestamp::{instant_from_millis, parse_instant, Timestamp};
pub use window::{parse_zone, DndPeriod, DndWindow, TimeOfDay};

pub use mention::{Mentioned, Mentions};
