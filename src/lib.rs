//! Decides, for every recipient of a chat message, whether a push
//! notification goes out under the recipients' and the admins'
//! Do-Not-Disturb settings.
//!
//! The rules are those of a large IM platform's public DND server API, with
//! every open point settled (`docs/rules.md`). The crate is pure: no I/O, no
//! clock (a message's time is an input), no globals.
//!
//! # Example
//!
//! ```
//! use dnd_engine::chrono_tz::Asia::Shanghai;
//! use dnd_engine::{Config, Conversation, ConversationType, Layer, Level, Mentions, Message, Settings, Timestamp};
//!
//! // The engine for the China data center, where group messages by default
//! // push only @mentions.
//! let config = Config::new(Shanghai).with_app_default(ConversationType::Group, Level::Mentions);
//! let mut settings = Settings::new(config);
//!
//! // Settings arrive as the platform's requests...
//! let ok = settings.handle("/user/blockPushPeriod/set.json", b"userId=alice&startTime=22:00:00&period=540&level=5");
//! assert_eq!(ok.code(), 200);
//! let ok = settings.handle("/ultragroup/notdisturb/set.json", b"groupId=club&busChannel=news&unpushLevel=4");
//! assert_eq!(ok.code(), 200);
//! let ok = settings.handle("/conversation/notification/set.json", b"conversationType=10&requestId=bob&targetId=club&unpushLevel=-1");
//! assert_eq!(ok.code(), 200);
//!
//! // ...and a message is prepared once, then decided per recipient.
//! let at: Timestamp = "2026-11-22T23:30:00+08:00".parse()?;
//! let message = Message::new(Conversation::UltraGroup { group_id: "club", bus_channel: Some("news") }, "carol", at)
//!     .with_mentions(Mentions::All);
//! let prepared = settings.prepare(&message);
//!
//! let alice = prepared.decide_id("alice"); // inside her period, level 5
//! assert!(!alice.push());
//! assert_eq!(alice.by(), Layer::UserPeriod);
//!
//! let bob = prepared.decide_id("bob"); // his -1 on the group beats the admin's default
//! assert!(bob.push());
//! assert_eq!(bob.by(), Layer::UserConversation);
//!
//! let dave = prepared.decide_id("dave"); // nothing of his own: the subchannel default, 4, and @all
//! assert!(dave.push());
//! assert_eq!((dave.by(), dave.level()), (Layer::SubchannelDefault, Some(Level::MentionsOfAll)));
//!
//! assert_eq!(prepared.decide_id("carol").by(), Layer::Sender);
//!
//! // Why? The walk, in words.
//! let why = prepared.explain(dnd_engine::Recipient::Id("alice"))?.to_string();
//! assert!(why.contains("the period 22:00:00 + 540 min, level 5, in Asia/Shanghai"));
//! # Ok::<(), dnd_engine::Error>(())
//! ```
//!
//! # Overview
//!
//! - The values of the domain, each valid by construction:
//!   [`ConversationType`], [`Level`] (where "not set" is `None`, not a
//!   variant), [`TimeOfDay`], [`DndWindow`] (which answers `contains`),
//!   [`DndPeriod`], [`UserId`], [`TargetId`], [`BusChannel`], and
//!   [`Timestamp`], an instant in the range the time-zone tables cover.
//! - [`Error`], the one error type, for everything from outside that is
//!   refused; it quotes at most an [`Excerpt`] of a value.
//! - [`Settings`]: everything stored, laid out for the fanout loop, with typed
//!   setters; [`api`] puts the platform's nine requests in front of it, and
//!   [`SharedSettings`] shares it between threads, as immutable versions that
//!   readers hold without blocking writers. `Settings` is serde data: save
//!   and restore it whole.
//! - [`shard`]: routing users and requests to shards, applying a log
//!   exactly once, and a snapshot with its log position, for deployments
//!   past one machine.
//! - [`Settings::prepare`] turns a [`Message`] into a [`PreparedMessage`],
//!   which [decides](PreparedMessage::decide) for each recipient, by
//!   [`UserHandle`] or by id, one at a time or a whole fanout into a buffer,
//!   and [explains](PreparedMessage::explain) a decision. A handle carries
//!   the identity of the settings that issued it, and other settings refuse
//!   it.
//! - Break-through and mention policy: a user's [`VipList`] (scope
//!   [`VipScope::Quiet`] or [`VipScope::All`]), consent to urgent messages
//!   ([`Settings::set_urgent_allowed`], [`Message::with_urgent`]), private
//!   chats as mentions and the most members for an @all ([`Config`]). The
//!   layers they add, [`Layer::Urgent`] and [`Layer::Vip`], are entries of
//!   [`WALK`] like every other.
//! - The crate re-exports [`chrono`] and [`chrono_tz`], the versions its
//!   types use, so that a program names zones and instants with the same
//!   crates.
//!
//! # Performance
//!
//! Preparing a message does the work that does not depend on the
//! recipient: the conversation lookup, the defaults, the decisions of the
//! common case as a 32-entry table; each zone's wall clock is converted when
//! the first recipient reading in it is decided, once per message. A
//! decision by [`UserHandle`] then checks the handle (a subtraction and a
//! compare), reads one 8-byte record and, for the conversation's and the
//! subchannel's overrides, usually one bit of a
//! bitmap each; it allocates nothing and does no time-zone math. By `&str` id
//! it costs one hash lookup more. Batches ([`PreparedMessage::decide_into`])
//! gather records before deciding, so that cache misses overlap. See
//! `docs/performance.md` for figures.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod decide;
mod error;
mod hold;
mod matching;
mod model;
mod protocol;
mod shared;
mod store;

pub use decide::by_members::MEMBER_BATCH;
pub use decide::defer::{Boundary, Deferral};
pub use decide::walk::{Layer, LayerKind, Quiet, Seen, WALK};
pub use decide::{Conversation, Decision, Explanation, Message, PreparedMessage, Recipient, Step};
pub use error::excerpt::{Escaped, Excerpt};
pub use error::Error;
pub use hold::{
    Digest, DigestConversation, Held, Holding, Note, NoteKind, Release, Repeat, Repeaters, SavedItem, SavedMentions,
    SavedMessage, DEFAULT_DETAIL_LIMIT, MAX_MESSAGE_ID_BYTES,
};
pub use matching::keyword_occurs;
pub use model::expiring::{Expiring, Snooze, Temporary};
pub use model::id_list::MAX_GROUP_MEMBERS;
pub use model::keyword::Keywords;
pub use model::muted::MutedSenders;
pub use model::policy::{MentionAllOff, Urgency, VipList, VipScope};
pub use model::schedule::{QuietLevel, ScheduleWindow, WeeklySchedule, WindowHit, MAX_WINDOWS};
pub use model::zone::WEEK_MS;
pub use model::{
    instant_from_millis, parse_instant, parse_zone, BusChannel, ConversationKey, ConversationType, DndPeriod,
    DndWindow, Level, Mentioned, Mentions, PeriodLevel, TargetId, TimeOfDay, Timestamp, UserId, MAX_BUS_CHANNEL_LEN,
    MAX_ID_BYTES,
};
pub use protocol::request::{Request, Response};
pub use protocol::{push, released, request as api, shard, snapshot, v4 as api_v4};
pub use shared::SharedSettings;
pub use store::{AppDefaults, Config, Settings, UserHandle};
/// The time crates this one's API speaks, re-exported so that callers use the same versions.
pub use {chrono, chrono_tz};

/// The shape of the public API, which lets it grow without a breaking
/// release, checked as doctests.
///
/// A `Message` is `Copy`, so a builder's result that is dropped would change
/// nothing: it is an error under `deny(unused_must_use)`, and so is a
/// dropped decision or response.
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// use dnd_engine::{Conversation, Mentions, Message, Timestamp};
/// let message = Message::new(Conversation::System, "s", Timestamp::MIN);
/// message.with_mentions(Mentions::All);
/// ```
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// use dnd_engine::{chrono_tz, Config, Conversation, Message, Settings, Timestamp};
/// let settings = Settings::new(Config::new(chrono_tz::UTC));
/// let message = Message::new(Conversation::System, "s", Timestamp::MIN);
/// settings.prepare(&message).decide_id("r");
/// ```
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// use dnd_engine::{chrono_tz, Config, Settings};
/// let mut settings = Settings::new(Config::new(chrono_tz::UTC));
/// settings.handle("/user/blockPushPeriod/get.json", b"userId=u");
/// ```
///
/// Used, the same lines compile:
///
/// ```
/// #![deny(unused_must_use)]
/// use dnd_engine::{chrono_tz, Config, Conversation, Mentions, Message, Settings, Timestamp};
/// let mut settings = Settings::new(Config::new(chrono_tz::UTC));
/// let message = Message::new(Conversation::System, "s", Timestamp::MIN);
/// let message = message.with_mentions(Mentions::All);
/// let _decision = settings.prepare(&message).decide_id("r");
/// let _response = settings.handle("/user/blockPushPeriod/get.json", b"userId=u");
/// ```
///
/// Messages and configurations are made by their constructors, and
/// mentions, layers, steps, requests, responses and errors are matched with
/// a wildcard, so that later versions can add fields and variants:
///
/// ```compile_fail,E0639
/// use dnd_engine::{Conversation, Mentions, Message, Timestamp};
/// let message = Message { conversation: Conversation::System, sender: "s", mentions: Mentions::None, disable_push: false, at: Timestamp::MIN };
/// ```
///
/// ```compile_fail,E0639
/// use dnd_engine::{chrono_tz, AppDefaults, Config};
/// let config = Config { time_zone: chrono_tz::UTC, app_defaults: AppDefaults::default() };
/// ```
///
/// ```compile_fail,E0004
/// fn count(m: dnd_engine::Mentions<'_>) -> usize {
///     match m {
///         dnd_engine::Mentions::None => 0,
///         dnd_engine::Mentions::All => 1,
///         dnd_engine::Mentions::Users(ids) => ids.len(),
///     }
/// }
/// ```
#[cfg(doctest)]
struct ApiForGrowth;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
