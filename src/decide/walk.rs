//! The walk down the layers (RULES §4), written once, as data.
//!
//! [`WALK`] lists the layers in the order they are consulted. The decision
//! (fast and full), the explanation and the defer computation all iterate
//! this one list: the full walk records what it saw at each layer as a
//! [`Seen`], and the first layer whose `Seen` holds a level decides.
//!
//! The break-through layers (docs/rules.md §10) are entries of the same list. An
//! urgent message with the recipient's consent and a VIP sender with scope
//! `all` are [`LayerKind::BreakThrough`] entries placed after `DisablePush`
//! (so the sender rule and `disablePush` still come first): when their
//! `Seen` holds, the walk stops there and the message pushes. A VIP with
//! scope `quiet` decides nothing itself: it makes the decision take a second
//! reading of the same walk with the [`LayerKind::Quiet`] layers passed over
//! ([`Walk::first_without_quiet`]), and the message pushes if either reading
//! does. Neither needs a walk of its own.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::model::expiring::{Expiring, Snooze};
use crate::model::policy::{Urgency, VipScope};
use crate::model::schedule::WindowHit;
use crate::model::{DndPeriod, Level};

/// The layers of RULES §4, in the order they are consulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Layer {
    /// The recipient sent the message.
    Sender,
    /// The message was sent with `disablePush`.
    DisablePush,
    /// The recipient mutes the message's sender: no push, with no level,
    /// whatever the layers below say (urgent, VIP and mentions included).
    MutedSender,
    /// An urgent message to a recipient who allows urgent messages: push.
    Urgent,
    /// A message from a sender on the recipient's VIP list: push, with
    /// scope `all`; with scope `quiet`, the quiet time is passed over.
    Vip,
    /// A sender who has a push to the recipient still held, sent at most
    /// the recipient's repeat window before this message, when the
    /// recipient allows repeated senders through: the quiet time is passed
    /// over, as for a VIP with scope `quiet` (decided with a held store:
    /// see [`Held`](crate::Held)).
    Repeat,
    /// The recipient's snooze, while it is on: the quiet-time layer, ahead
    /// of the period or schedule.
    UserSnooze,
    /// The recipient's quiet time: a weekly schedule or a daily period.
    UserPeriod,
    /// The recipient's level for the ultra group's subchannel.
    UserSubchannel,
    /// The recipient's level for the conversation.
    UserConversation,
    /// The recipient's level for the conversation type.
    UserConversationType,
    /// The admin's default for the subchannel.
    SubchannelDefault,
    /// The admin's default for the ultra group.
    ChannelDefault,
    /// The application's default for the conversation type.
    AppDefault,
    /// Nothing was set anywhere: push.
    NothingSet,
}

/// The layers in the order they are consulted: the one place that order is written.
pub const WALK: [Layer; 15] = [
    Layer::Sender,
    Layer::DisablePush,
    Layer::MutedSender,
    Layer::Urgent,
    Layer::Vip,
    Layer::Repeat,
    Layer::UserSnooze,
    Layer::UserPeriod,
    Layer::UserSubchannel,
    Layer::UserConversation,
    Layer::UserConversationType,
    Layer::SubchannelDefault,
    Layer::ChannelDefault,
    Layer::AppDefault,
    Layer::NothingSet,
];

/// The position of `layer` in [`WALK`].
pub(crate) const fn position(layer: Layer) -> usize {
    let mut i = 0;
    while i < WALK.len() {
        if WALK[i] as u8 == layer as u8 {
            return i;
        }
        i += 1;
    }
    panic!("every layer is in WALK")
}

/// The position in [`WALK`] of the first layer that the fast path reads (the
/// period; the snooze and the break-through layers are read by the full walk).
pub(crate) const FIRST_LEVEL_LAYER: usize = position(Layer::UserPeriod);
/// The position in [`WALK`] of the first default layer.
pub(crate) const FIRST_DEFAULT_LAYER: usize = position(Layer::SubchannelDefault);
/// The position in [`WALK`] of the VIP layer.
pub(crate) const VIP_LAYER: usize = position(Layer::Vip);
/// The position in [`WALK`] of the repeated-sender layer.
pub(crate) const REPEAT_LAYER: usize = position(Layer::Repeat);

/// What kind of layer a layer is, which says what it can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LayerKind {
    /// Decides outright not to push, with no level (the sender,
    /// `disablePush`, a muted sender).
    Outright,
    /// Decides outright to push, with no level, whatever the layers below
    /// say (an urgent message by consent, a VIP sender with scope `all`).
    BreakThrough,
    /// The recipient's quiet time: a snooze, a schedule or a period.
    Quiet,
    /// A level the recipient stored.
    User,
    /// A default an admin or the application stored.
    Default,
    /// The end of the walk: nothing was set, push.
    Terminal,
}

impl Layer {
    /// Every layer, highest priority first: [`WALK`].
    pub const ALL: [Layer; WALK.len()] = WALK;

    /// Its kind.
    #[must_use]
    pub const fn kind(self) -> LayerKind {
        match self {
            Layer::Sender | Layer::DisablePush | Layer::MutedSender => LayerKind::Outright,
            Layer::Urgent | Layer::Vip | Layer::Repeat => LayerKind::BreakThrough,
            Layer::UserSnooze | Layer::UserPeriod => LayerKind::Quiet,
            Layer::UserSubchannel | Layer::UserConversation | Layer::UserConversationType => LayerKind::User,
            Layer::SubchannelDefault | Layer::ChannelDefault | Layer::AppDefault => LayerKind::Default,
            Layer::NothingSet => LayerKind::Terminal,
        }
    }

    /// The layer's name in the replay protocol: `sender`, `disable_push`,
    /// `urgent`, `vip`, `user_snooze`, `user_period`, ..., `none`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Layer::Sender => "sender",
            Layer::DisablePush => "disable_push",
            Layer::MutedSender => "muted_sender",
            Layer::Urgent => "urgent",
            Layer::Vip => "vip",
            Layer::Repeat => "repeat",
            Layer::UserSnooze => "user_snooze",
            Layer::UserPeriod => "user_period",
            Layer::UserSubchannel => "user_subchannel",
            Layer::UserConversation => "user_conversation",
            Layer::UserConversationType => "user_conversation_type",
            Layer::SubchannelDefault => "subchannel_default",
            Layer::ChannelDefault => "channel_default",
            Layer::AppDefault => "app_default",
            Layer::NothingSet => "none",
        }
    }

    /// The layer's name in words.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Layer::Sender => "sender",
            Layer::DisablePush => "disablePush",
            Layer::MutedSender => "muted sender",
            Layer::Urgent => "urgent message",
            Layer::Vip => "VIP sender",
            Layer::Repeat => "repeated sender",
            Layer::UserSnooze => "user snooze",
            Layer::UserPeriod => "user quiet time",
            Layer::UserSubchannel => "user subchannel level",
            Layer::UserConversation => "user conversation level",
            Layer::UserConversationType => "user conversation-type level",
            Layer::SubchannelDefault => "subchannel default",
            Layer::ChannelDefault => "channel default",
            Layer::AppDefault => "app default",
            Layer::NothingSet => "nothing set",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The recipient's quiet time as the walk saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Quiet {
    /// No schedule or period.
    None,
    /// A daily period, read in `zone`.
    Period {
        /// The period.
        period: DndPeriod,
        /// The zone it was read in (the data center's unless it names one).
        zone: Tz,
        /// Whether the instant was inside its window.
        active: bool,
    },
    /// A weekly schedule, read in `zone`.
    Schedule {
        /// The window holding the instant, if one does.
        hit: Option<WindowHit>,
        /// The zone it was read in.
        zone: Tz,
        /// Whether the schedule names its own zone.
        named: bool,
    },
}

/// What the walk saw at one layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Seen {
    /// An outright layer: whether it holds (the recipient is the sender, the
    /// message has `disablePush`).
    Outright(bool),
    /// The layer does not apply to this message; the text says why.
    Skipped(&'static str),
    /// Whether the recipient mutes the sender, and until when (never
    /// ending without an `until`): it decides (no push) while the mute is on.
    Muted {
        /// Whether the recipient mutes the sender.
        muted: bool,
        /// When the mute ends, if it does.
        until: Option<DateTime<Utc>>,
    },
    /// Whether the message is urgent, and whether the recipient allows
    /// urgent messages: it decides (a push) when both hold.
    Urgent(Urgency),
    /// The scope of the sender on the recipient's VIP list, if the sender
    /// is on it: it decides (a push) with scope `all`; with scope `quiet` it
    /// decides nothing itself, and the decision takes a second reading of
    /// the walk with the quiet time passed over.
    Vip(Option<VipScope>),
    /// Whether the sender is a repeated sender for the recipient (a push
    /// of theirs held within the recipient's repeat window): like a VIP
    /// with scope `quiet`, it decides nothing itself, and the decision
    /// takes a second reading with the quiet time passed over.
    Repeat(bool),
    /// The recipient's snooze, if one is stored (on or over at the walk's
    /// instant: see [`Snooze::is_on`]).
    Snooze(Option<Snooze>),
    /// The recipient's quiet time.
    Quiet(Quiet),
    /// A stored level, permanent and temporary.
    Level(Expiring),
    /// The end of the walk.
    Terminal,
}

impl Seen {
    /// The level this layer holds at `at`, if it holds one; for an outright
    /// or break-through layer that holds, `Some(None)` (the layer's
    /// [`LayerKind`] says whether that is a push).
    #[inline]
    #[must_use]
    pub fn decides(self, at: DateTime<Utc>) -> Option<Option<Level>> {
        match self {
            Seen::Outright(true) | Seen::Urgent(Urgency::Allowed) | Seen::Vip(Some(VipScope::All)) => Some(None),
            Seen::Muted { muted, until } => (muted && until.is_none_or(|u| at < u)).then_some(None),
            Seen::Outright(false) | Seen::Skipped(_) | Seen::Urgent(_) | Seen::Vip(_) | Seen::Repeat(_) => None,
            Seen::Snooze(s) => s.filter(|s| s.is_on(at)).map(|s| Some(s.level.level())),
            Seen::Quiet(q) => match q {
                Quiet::Period {
                    period, active: true, ..
                } => Some(Some(period.level.level())),
                Quiet::Schedule { hit: Some(hit), .. } => Some(Some(hit.window.level().level())),
                _ => None,
            },
            Seen::Level(e) => e.at(at).map(Some),
            Seen::Terminal => Some(Some(Level::All)),
        }
    }
}

/// A whole walk for one recipient at one instant: what each layer of
/// [`WALK`] saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Walk {
    pub(crate) at: DateTime<Utc>,
    pub(crate) seen: [Seen; WALK.len()],
}

impl Walk {
    /// The first layer that decides, and its level (`None` for an outright
    /// or break-through one).
    pub(crate) fn first(&self) -> (Layer, Option<Level>) {
        self.first_of(|_| true)
    }

    /// The first layer that decides when the quiet-time layers are passed
    /// over: the reading a VIP with scope `quiet` adds.
    pub(crate) fn first_without_quiet(&self) -> (Layer, Option<Level>) {
        self.first_of(|layer| layer.kind() != LayerKind::Quiet)
    }

    /// Whether the sender is on the recipient's VIP list with scope `quiet`.
    pub(crate) fn vip_quiet(&self) -> bool {
        self.seen[VIP_LAYER] == Seen::Vip(Some(VipScope::Quiet))
    }

    /// Whether the sender is a repeated sender for the recipient.
    pub(crate) fn repeat(&self) -> bool {
        self.seen[REPEAT_LAYER] == Seen::Repeat(true)
    }

    fn first_of(&self, read: impl Fn(Layer) -> bool) -> (Layer, Option<Level>) {
        WALK.iter()
            .zip(&self.seen)
            .filter(|(&layer, _)| read(layer))
            .find_map(|(&layer, seen)| seen.decides(self.at).map(|level| (layer, level)))
            .unwrap_or((Layer::NothingSet, Some(Level::All)))
    }
}

/// The first layer of `levels` (consecutive layers of [`WALK`] from
/// `first`) holding a level, else `below`. Written from the lowest layer
/// up, each set layer replacing what is below it, so that it compiles to
/// selects rather than to branches that the data would mispredict.
#[inline(always)]
pub(crate) fn first_set<const N: usize>(
    first: usize,
    levels: [Option<Level>; N],
    below: (Layer, Level),
) -> (Layer, Level) {
    let mut chosen = below;
    let mut i = N;
    while i > 0 {
        i -= 1;
        if let Some(level) = levels[i] {
            chosen = (WALK[first + i], level);
        }
    }
    chosen
}
