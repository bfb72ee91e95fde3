//! The decision: a message is prepared once against the settings, then each
//! recipient costs a few loads and compares (RULES §4).
//!
//! [`Settings::prepare`] does everything that depends only on the message:
//! the wall-clock time in every zone a period may be read in, the lookup of
//! the conversation's and subchannel's overrides, the resolution of the three
//! default layers into one fallback, the mentioned users as handles. What is
//! left per recipient is the walk of the user layers, in the order of the
//! code below, which is the order of the rules.

use crate::decide::walk::{first_set, Layer, Seen, FIRST_DEFAULT_LAYER, FIRST_LEVEL_LAYER};
use crate::error::Error;
use crate::model::expiring::Expiring;
use crate::model::policy::{MentionAllOff, Urgency};
use crate::model::zone::WallTime;
use crate::model::{ConversationType, Level, Mentioned, Mentions, Timestamp};
use crate::store::{Fans, LevelMap, Settings, UserHandle, UserRecord};

mod audience;
pub(crate) mod by_members;
mod clock;
mod conversation;
pub(crate) mod defer;
mod explain;
mod fanout;
mod groups;
mod holds;
mod observe;
pub(crate) mod walk;
use audience::Audience;
use clock::Walls;
pub use conversation::{Conversation, Message};
pub use explain::{Explanation, Step};

/// The answer for one recipient: push or not, which layer decided, and the
/// level it applied.
///
/// Four bytes (aligned to four), so that the fanout copies one from its
/// per-message table in one load and one store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[must_use]
#[repr(align(4))]
pub struct Decision {
    push: bool,
    by: Layer,
    level: Option<Level>,
}

impl Decision {
    const SENDER: Decision = Decision {
        push: false,
        by: Layer::Sender,
        level: None,
    };
    const DISABLED: Decision = Decision {
        push: false,
        by: Layer::DisablePush,
        level: None,
    };
    const MUTED: Decision = Decision {
        push: false,
        by: Layer::MutedSender,
        level: None,
    };

    /// Whether a push goes out.
    #[inline]
    pub const fn push(self) -> bool {
        self.push
    }

    /// The layer that decided.
    #[inline]
    pub const fn by(self) -> Layer {
        self.by
    }

    /// The level that was applied: `None` when the sender, `disablePush`, an
    /// urgent message or a VIP with scope `all` decided, [`Level::All`] when
    /// nothing was set.
    #[inline]
    pub const fn level(self) -> Option<Level> {
        self.level
    }
}

/// A recipient: a handle, or a user id (which may be unknown to the settings:
/// such a user has set nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recipient<'r> {
    /// A user the settings number.
    Handle(UserHandle),
    /// A user by id.
    Id(&'r str),
}

/// A user layer that lives with the conversation, as one message sees it.
#[derive(Clone, Copy, Debug)]
enum OverrideLayer<'a> {
    Skipped(&'static str),
    /// Somebody set a level here.
    Levels(&'a LevelMap),
    /// Nobody did.
    Empty,
}

impl<'a> OverrideLayer<'a> {
    fn of(map: Option<&'a LevelMap>) -> OverrideLayer<'a> {
        match map {
            Some(m) if !m.is_empty() => OverrideLayer::Levels(m),
            _ => OverrideLayer::Empty,
        }
    }

    #[inline(always)]
    fn get(self, h: UserHandle) -> Option<Level> {
        match self {
            OverrideLayer::Levels(m) => m.get(h),
            _ => None,
        }
    }

    /// Whether the fanout reads this layer's levels from a column.
    fn is_column(self) -> bool {
        matches!(self, OverrideLayer::Levels(m) if m.is_column())
    }
}

/// A message prepared against the settings: decides for any number of
/// recipients, each in a few loads and compares, allocating nothing.
///
/// It borrows the settings: while it lives they cannot change. Prepare a
/// message, decide its fanout, drop it.
#[derive(Debug)]
#[must_use = "a prepared message only decides when asked"]
pub struct PreparedMessage<'a> {
    settings: &'a Settings,
    message: Message<'a>,
    type_index: usize,
    mentions_count: bool,
    mention_all: bool,
    /// The sender and the mentioned users as handles, resolved when the
    /// first recipient is decided.
    audience: std::sync::OnceLock<Audience>,
    /// Whether a level pushes (`[mentions me][level index]`), for this
    /// message's mentions: RULES §2 as a table, read without branching.
    pushes: [[bool; 5]; 2],
    /// The message's wall-clock time in each zone of the settings' zone
    /// table, converted as first read.
    walls: Walls<'a>,
    /// The decision for a recipient whose only layers are the period and the
    /// type level, who is not mentioned: see `fanout.rs`.
    table: fanout::Table,
    /// The conversation's target (the sender for private and system messages) and subchannel.
    target: &'a str,
    bus_channel: Option<&'a str>,
    subchannel: OverrideLayer<'a>,
    conversation: OverrideLayer<'a>,
    /// What the default layers hold, in the order of the walk.
    defaults: [Seen; 3],
    /// The first default layer that is set at the message's time, or
    /// "nothing set" with -1.
    fallback: (Layer, Level),
    /// Whether the message is urgent and somebody allows urgent messages.
    urgent: bool,
    /// The users who list the sender as a VIP, if anyone does.
    fans: Option<&'a Fans>,
    /// Why the message's @all counts as no mention, if it does.
    all_off: MentionAllOff,
    /// Whether this private message counts as mentioning its recipient.
    private_mention: bool,
    /// The members of the user groups the message mentions (in a type that
    /// reads mentions).
    groups: groups::GroupMembers,
    /// The users who mute the sender, if anyone does.
    muters: Option<&'a crate::store::Muters>,
    /// The users' keywords found in the message's text (sorted pattern
    /// numbers): empty unless the type reads mentions, the message has text
    /// and somebody's keyword is in it.
    found: Vec<crate::matching::PatternId>,
    /// The recipients for whom the sender is a repeated sender, when the
    /// message is decided with a held store ([`Held`](crate::Held)).
    repeaters: Option<&'a crate::hold::Repeaters>,
}

impl Settings {
    /// Prepares `message` for deciding its recipients: everything that does
    /// not depend on the recipient is done here, once.
    ///
    /// The cost is one lookup of the conversation (and subchannel), one
    /// time-zone conversion per zone that some period names, and one handle
    /// lookup per mentioned user.
    pub fn prepare<'a>(&'a self, message: &Message<'a>) -> PreparedMessage<'a> {
        let conversation_type = message.conversation.conversation_type();
        let (target, bus_channel) = match message.conversation {
            Conversation::Private | Conversation::System => (message.sender, None),
            Conversation::Group { group_id } => (group_id, None),
            Conversation::UltraGroup { group_id, bus_channel } => (group_id, bus_channel),
        };
        let entry = self.conversations[conversation_type.index()].get(target);
        let sub_entry = entry.zip(bus_channel).and_then(|(e, bus)| e.subchannels.get(bus));

        let not_ultra = "not an ultra-group message";
        let is_ultra = conversation_type == ConversationType::UltraGroup;
        let subchannel = if !is_ultra {
            OverrideLayer::Skipped(not_ultra)
        } else if bus_channel.is_none() {
            OverrideLayer::Skipped("the message has no subchannel")
        } else {
            OverrideLayer::of(sub_entry.map(|s| &s.users))
        };
        let conversation = OverrideLayer::of(entry.map(|e| &e.users));
        let defaults = [
            match subchannel {
                OverrideLayer::Skipped(why) => Seen::Skipped(why),
                _ => Seen::Level(sub_entry.map_or(Expiring::NONE, |s| s.default)),
            },
            if is_ultra {
                Seen::Level(entry.map_or(Expiring::NONE, |e| e.default))
            } else {
                Seen::Skipped(not_ultra)
            },
            Seen::Level(Expiring::permanent(self.config.app_defaults.get(conversation_type))),
        ];
        let level_at = |seen: Seen| match seen {
            Seen::Level(e) => e.at(message.at.as_datetime()),
            _ => None,
        };
        let fallback = first_set(
            FIRST_DEFAULT_LAYER,
            defaults.map(level_at),
            (Layer::NothingSet, Level::All),
        );

        let mentions_count = conversation_type.mentions_count();
        // Governance: an @all may only count as no mention.
        let all_off = match message.mentions {
            Mentions::All if mentions_count => MentionAllOff {
                not_allowed: !message.mention_all_allowed,
                over_maximum: message
                    .member_count
                    .zip(self.config.mention_all_max_members)
                    .filter(|&(count, max)| count > max),
            },
            _ => MentionAllOff::default(),
        };
        let mention_all = mentions_count && matches!(message.mentions, Mentions::All) && !all_off.is_off();
        let private_mention = conversation_type == ConversationType::Private && self.config.private_as_mention;
        let pushes = {
            let others = if private_mention {
                Mentioned::Me
            } else if mention_all {
                Mentioned::All
            } else {
                Mentioned::No
            };
            // A recipient mentioned by id (or keyword) is also reached by
            // whatever reaches the others (an @all): being mentioned never
            // makes a level push less.
            [
                Level::ALL.map(|l| l.pushes(others)),
                Level::ALL.map(|l| l.pushes(Mentioned::Me) || l.pushes(others)),
            ]
        };

        PreparedMessage {
            settings: self,
            message: *message,
            type_index: conversation_type.index(),
            mentions_count,
            mention_all,
            audience: std::sync::OnceLock::new(),
            pushes,
            walls: Walls::new(message.at.as_datetime(), &self.zones),
            table: fanout::Table::new(
                conversation_type.index(),
                fallback,
                &pushes[0],
                [subchannel, conversation].into_iter().any(OverrideLayer::is_column),
            ),
            target,
            bus_channel,
            subchannel,
            conversation,
            defaults,
            fallback,
            urgent: message.urgent && self.policies.anyone_allows_urgent(),
            // The sender is looked up here only when somebody has a VIP list.
            fans: self.policies.fans_of_id(message.sender, |id| self.user(id)),
            all_off,
            private_mention,
            // Resolved once, here, never per recipient.
            groups: match mentions_count {
                true => groups::GroupMembers::of(self, message.mentioned_groups),
                false => groups::GroupMembers::default(),
            },
            // The sender is looked up here only when somebody mutes anyone.
            muters: self.mutes.muters_of_id(message.sender, |id| self.user(id)),
            // The one scan of the text, for every user's keywords at once.
            found: match mentions_count {
                true => self.keywords.scan(message.text),
                false => Vec::new(),
            },
            repeaters: None,
        }
    }
}

impl<'a> PreparedMessage<'a> {
    /// The message this was prepared from.
    pub fn message(&self) -> &Message<'a> {
        &self.message
    }

    /// The decision for the user with handle `recipient`;
    /// [`Error::ForeignHandle`] if these settings did not issue it (see
    /// [`UserHandle`]).
    #[inline]
    pub fn decide(&self, recipient: UserHandle) -> Result<Decision, Error> {
        self.settings.check_handle(recipient)?;
        Ok(self.decide_with(Some(recipient), self.settings.record(recipient), ""))
    }

    /// The decision for user `id`: one hash lookup, then as [`decide`](Self::decide).
    /// A user the settings do not know has set nothing.
    #[inline]
    pub fn decide_id(&self, id: &str) -> Decision {
        let handle = self.settings.user(id);
        self.decide_with(handle, self.record_of(handle), id)
    }

    /// The decision for `recipient`; an error only for a handle these
    /// settings did not issue.
    #[inline]
    pub fn decide_for(&self, recipient: Recipient<'_>) -> Result<Decision, Error> {
        match recipient {
            Recipient::Handle(h) => self.decide(h),
            Recipient::Id(id) => Ok(self.decide_id(id)),
        }
    }

    /// The settings the message was prepared against.
    pub(crate) fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// This prepared message, for whose recipients in `repeaters` the
    /// sender is a repeated sender (layer `repeat`).
    pub(crate) fn with_repeaters(mut self, repeaters: &'a crate::hold::Repeaters) -> Self {
        self.repeaters = Some(repeaters);
        self
    }

    /// The repeaters this message was prepared with, if any.
    pub(crate) fn repeaters(&self) -> Option<&'a crate::hold::Repeaters> {
        self.repeaters
    }

    /// Whether the sender is a repeated sender for the recipient with `handle`.
    #[inline]
    pub(crate) fn repeats(&self, handle: Option<UserHandle>, _id: &str) -> bool {
        match (self.repeaters, handle) {
            (Some(r), Some(h)) => r.contains(h),
            _ => false,
        }
    }

    /// The message's wall time in zone `z` of the settings.
    pub(crate) fn wall_at(&self, z: crate::store::ZoneIndex) -> WallTime {
        self.walls.at(z)
    }

    /// The sender and the mentioned users as handles.
    #[inline]
    pub(crate) fn audience(&self) -> &Audience {
        self.audience.get_or_init(|| {
            Audience::of(
                self.settings,
                self.message.sender,
                self.message.mentions,
                self.mentions_count,
            )
        })
    }

    /// A recipient as a handle (if the settings know the user) and an id; an
    /// error for a handle these settings did not issue.
    pub(crate) fn resolve<'r>(&self, recipient: Recipient<'r>) -> Result<(Option<UserHandle>, &'r str), Error>
    where
        'a: 'r,
    {
        Ok(match recipient {
            Recipient::Handle(h) => {
                self.settings.check_handle(h)?;
                (Some(h), self.settings.user_id(h).unwrap_or(""))
            }
            Recipient::Id(id) => (self.settings.user(id), id),
        })
    }

    pub(super) fn record_of(&self, handle: Option<UserHandle>) -> &'a UserRecord {
        match handle {
            Some(h) => self.settings.record(h),
            None => &UserRecord::EMPTY,
        }
    }

    /// The decisions for `recipients`, lazily, allocating nothing; the
    /// handles are all checked first, so that it is every decision or an
    /// error.
    pub fn decisions<'r>(
        &'r self,
        recipients: &'r [UserHandle],
    ) -> Result<impl ExactSizeIterator<Item = Decision> + 'r, Error> {
        if let Some(e) = self.settings.first_refused(recipients) {
            return Err(e);
        }
        Ok(recipients
            .iter()
            .map(move |&h| self.decide_with(Some(h), self.settings.record(h), "")))
    }

    /// Whether some recipient may break through their layers: somebody lists
    /// the sender as a VIP, or the message is urgent and somebody allows
    /// that. When not, the break-through layers hold for no one; when so,
    /// they hold at most for the users whose bit is set in the presence
    /// bitmaps of VIP lists and urgent consent, and the fanout's table path
    /// stands for everyone else (`fanout.rs`).
    #[inline]
    pub(crate) fn special(&self) -> bool {
        self.urgent
            || self.fans.is_some()
            || !self.found.is_empty()
            || self.muters.is_some()
            || !self.groups.filter().0.is_empty()
    }

    /// Whether the keywords found in the text are the only reason
    /// [`special`](Self::special) may hold: then the fanout reads the
    /// keyword holders' bitmap alone.
    #[inline]
    pub(crate) fn only_keywords_special(&self) -> bool {
        !self.urgent && self.fans.is_none() && self.muters.is_none() && self.groups.filter().0.is_empty()
    }

    /// What the muted-sender layer sees for the recipient with `handle`.
    #[inline]
    pub(crate) fn mute(&self, handle: Option<UserHandle>) -> Seen {
        match handle.and_then(|h| self.muters?.get(&h.number())) {
            Some(&until) => Seen::Muted { muted: true, until },
            None => Seen::Muted {
                muted: false,
                until: None,
            },
        }
    }

    /// The first of the recipient's keywords found in the message's text,
    /// if any (in a type that reads mentions).
    #[inline]
    pub(crate) fn keyword_of(&self, handle: Option<UserHandle>) -> Option<&'a str> {
        match handle {
            Some(h) if !self.found.is_empty() => self.settings.keywords.first_found(h.number(), &self.found),
            _ => None,
        }
    }

    /// The decision for the recipient with `handle` (or, without one, for the
    /// user `id` whom the settings do not know): RULES §4.
    #[inline(always)]
    pub(super) fn decide_with(&self, handle: Option<UserHandle>, record: &UserRecord, id: &str) -> Decision {
        let is_sender = match handle {
            Some(h) => self.audience().sender == Some(h),
            None => id == self.message.sender,
        };
        if is_sender {
            return Decision::SENDER;
        }
        if self.message.disable_push {
            return Decision::DISABLED;
        }
        if self.muters.is_some() && self.mute(handle).decides(self.message.at.as_datetime()).is_some() {
            return Decision::MUTED;
        }
        if record.extended() || self.repeaters.is_some_and(|_| self.repeats(handle, id)) {
            return self.decide_extended(handle, id);
        }
        if let (Some(h), true) = (handle, self.special()) {
            // The break-through layers: an urgent message they allow, a
            // sender they list. Such a recipient is decided as the full walk
            // decides (`observe.rs`).
            let (urgency, vip) = (self.urgency(handle), self.vip_scope(handle));
            if urgency == Urgency::Allowed || vip.is_some() {
                return self.decide_breaking(h, record, urgency, vip);
            }
        }
        let (layer, level) = self.choose(self.user_layers(handle, record));
        Decision {
            push: self.pushes[usize::from(self.mentions_me(handle, id))][level.index()],
            by: layer,
            level: Some(level),
        }
    }

    /// What each user layer holds for the recipient with `handle`.
    #[inline(always)]
    fn user_layers(&self, handle: Option<UserHandle>, record: &UserRecord) -> UserLayers {
        let Some(h) = handle else {
            return UserLayers::default();
        };
        UserLayers {
            period: {
                let p = record.period();
                p.contains(self.walls.seconds(p.zone.index()))
                    .then_some(p.level.level())
            },
            subchannel: self.subchannel.get(h),
            conversation: self.conversation.get(h),
            conversation_type: record.type_level(self.type_index),
        }
    }

    /// The first layer that holds a level decides (RULES §4): the user
    /// layers of the walk, then the defaults' answer.
    #[inline(always)]
    fn choose(&self, u: UserLayers) -> (Layer, Level) {
        first_set(
            FIRST_LEVEL_LAYER,
            [u.period, u.subchannel, u.conversation, u.conversation_type],
            self.fallback,
        )
    }

    /// Whether the message mentions the recipient by id, through a user
    /// group or by one of their keywords, in a conversation type that reads mentions.
    #[inline(always)]
    fn mentions_me(&self, handle: Option<UserHandle>, id: &str) -> bool {
        match handle {
            // The filter is empty unless the message mentions users the settings know.
            Some(h) => {
                self.audience().mentions(h) || self.groups.contains(h.number()) || self.keyword_of(handle).is_some()
            }
            // A user the settings do not know: compare ids.
            None => self.mentions_count && matches!(self.message.mentions, Mentions::Users(ids) if ids.contains(&id)),
        }
    }
}

/// What the user layers hold for one recipient of one message.
#[derive(Clone, Copy, Debug, Default)]
struct UserLayers {
    /// The period's level, while the message is inside its window.
    period: Option<Level>,
    subchannel: Option<Level>,
    conversation: Option<Level>,
    conversation_type: Option<Level>,
}
