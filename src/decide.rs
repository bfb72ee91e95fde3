//! The decision: a message is prepared once against the settings, then each
//! recipient costs a few loads and compares (RULES §4).
//!
//! [`Settings::prepare`] does everything that depends only on the message:
//! the wall-clock time in every zone a period may be read in, the lookup of
//! the conversation's and subchannel's overrides, the resolution of the three
//! default layers into one fallback, the mentioned users as handles. What is
//! left per recipient is the walk of the user layers, in the order of the
//! code below, which is the order of the rules.

use chrono::{DateTime, Utc};

use crate::expiring::Expiring;
use crate::model::{ConversationType, Level, Mentioned, Mentions};
use crate::policy::MentionAllOff;
use crate::settings::{Fans, LevelMap, Settings, UserHandle, UserRecord};
use crate::walk::{first_set, Layer, Seen, FIRST_DEFAULT_LAYER, FIRST_LEVEL_LAYER};
use crate::zone::WallTime;

mod explain;
mod mention_filter;
mod observe;
pub use explain::{Escaped, Explanation, Step};
use mention_filter::MentionFilter;

/// The conversation a message was sent in, as its recipients see it.
///
/// A private or system conversation is named, on the recipient's side, by the
/// other party, which is the sender: so those variants carry no target, and
/// the recipient's conversation level is looked up under the sender's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversation<'a> {
    /// A one-to-one message.
    Private,
    /// A message to group `group_id`.
    Group {
        /// The group.
        group_id: &'a str,
    },
    /// A system message.
    System,
    /// A message to ultra group `group_id`, in subchannel `bus_channel` if any.
    UltraGroup {
        /// The ultra group.
        group_id: &'a str,
        /// The subchannel, if the message was sent in one.
        bus_channel: Option<&'a str>,
    },
}

impl Conversation<'_> {
    /// The conversation's type.
    pub const fn conversation_type(&self) -> ConversationType {
        match self {
            Conversation::Private => ConversationType::Private,
            Conversation::Group { .. } => ConversationType::Group,
            Conversation::System => ConversationType::System,
            Conversation::UltraGroup { .. } => ConversationType::UltraGroup,
        }
    }
}

/// One message, as the decision needs it.
///
/// Made by [`Message::new`] and the `with_` methods; later versions may add
/// fields, with defaults that keep today's answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Message<'a> {
    /// Where it was sent.
    pub conversation: Conversation<'a>,
    /// Who sent it.
    pub sender: &'a str,
    /// Whom it mentions.
    pub mentions: Mentions<'a>,
    /// Whether it was sent with `disablePush`.
    pub disable_push: bool,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// Whether it is urgent: it then pushes to every recipient who allows
    /// urgent messages, whatever their layers say (after the sender rule and
    /// `disablePush`). Who may send urgent messages, and how often, is the
    /// calling service's decision; the engine trusts this flag.
    pub urgent: bool,
    /// The conversation's member count, if the caller knows it: with
    /// [`Config::mention_all_max_members`](crate::Config::mention_all_max_members),
    /// an @all in a conversation with more members counts as no mention.
    pub member_count: Option<u32>,
    /// Whether the sender may mention everyone (`true` unless the caller
    /// says otherwise): an @all from a sender who may not counts as no mention.
    pub mention_all_allowed: bool,
}

impl<'a> Message<'a> {
    /// A message from `sender` in `conversation` at `at`, with no mentions and
    /// pushes allowed.
    pub fn new(conversation: Conversation<'a>, sender: &'a str, at: DateTime<Utc>) -> Message<'a> {
        Message {
            conversation,
            sender,
            mentions: Mentions::None,
            disable_push: false,
            at,
            urgent: false,
            member_count: None,
            mention_all_allowed: true,
        }
    }

    /// This message, mentioning `mentions`.
    pub fn with_mentions(mut self, mentions: Mentions<'a>) -> Message<'a> {
        self.mentions = mentions;
        self
    }

    /// This message, sent with `disablePush`.
    pub fn with_push_disabled(mut self) -> Message<'a> {
        self.disable_push = true;
        self
    }

    /// This message, marked urgent (see [`Message::urgent`]).
    #[must_use]
    pub fn with_urgent(mut self) -> Message<'a> {
        self.urgent = true;
        self
    }

    /// This message, in a conversation of `members` members (see [`Message::member_count`]).
    #[must_use]
    pub fn with_member_count(mut self, members: u32) -> Message<'a> {
        self.member_count = Some(members);
        self
    }

    /// This message, from a sender who may (`true`) or may not mention
    /// everyone (see [`Message::mention_all_allowed`]).
    #[must_use]
    pub fn with_mention_all_allowed(mut self, allowed: bool) -> Message<'a> {
        self.mention_all_allowed = allowed;
        self
    }
}

/// The answer for one recipient: push or not, which layer decided, and the
/// level it applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
}

/// How many recipients a batch gathers before deciding them. The gathering
/// loops do nothing but independent loads (hash lookups, user records), so
/// the processor keeps many cache misses in flight at once; interleaved with
/// the decisions' branches it would keep few. 64 records are 1 KiB of
/// stack; 64 measured better than 32 for shuffled members.
const CHUNK: usize = 64;

/// A message prepared against the settings: decides for any number of
/// recipients, each in a few loads and compares, allocating nothing.
///
/// It borrows the settings: while it lives they cannot change. Prepare a
/// message, decide its fanout, drop it.
#[derive(Debug)]
pub struct PreparedMessage<'a> {
    settings: &'a Settings,
    message: Message<'a>,
    type_index: usize,
    mentions_count: bool,
    mention_all: bool,
    sender: Option<UserHandle>,
    /// Handles of the mentioned users, sorted.
    mentioned: Vec<UserHandle>,
    /// A filter over them.
    mention_filter: MentionFilter,
    /// Whether a level pushes (`[mentions me][level index]`), for this
    /// message's mentions: RULES §2 as a table, read without branching.
    pushes: [[bool; 5]; 2],
    /// The message's wall-clock time in each zone of the settings' zone table.
    wall: Vec<WallTime>,
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
    /// The users who list the sender as a VIP, if anyone does.
    fans: Option<&'a Fans>,
    /// Whether the message is urgent and somebody allows urgent messages.
    urgent: bool,
    /// Whether some recipient may break through (`fans` or `urgent`): when
    /// not, the fast path reads nothing of issue 11 per recipient.
    special: bool,
    /// Why the message's @all counts as no mention, if it does.
    all_off: MentionAllOff,
    /// Whether this private message counts as mentioning its recipient.
    private_mention: bool,
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
            Seen::Level(e) => e.at(message.at),
            _ => None,
        };
        let fallback = first_set(
            FIRST_DEFAULT_LAYER,
            defaults.map(level_at),
            (Layer::NothingSet, Level::All),
        );

        let mentions_count = conversation_type.mentions_count();
        let mut mentioned = Vec::new();
        let mut mention_all = false;
        let mut all_off = MentionAllOff::default();
        if mentions_count {
            match message.mentions {
                Mentions::None => {}
                Mentions::All => {
                    // Governance: an @all may only count as no mention.
                    all_off = MentionAllOff {
                        not_allowed: !message.mention_all_allowed,
                        over_maximum: message
                            .member_count
                            .zip(self.config.mention_all_max_members)
                            .filter(|&(count, max)| count > max),
                    };
                    mention_all = !all_off.is_off();
                }
                Mentions::Users(ids) => {
                    mentioned.extend(ids.iter().filter_map(|id| self.user(id)));
                    mentioned.sort_unstable();
                    mentioned.dedup();
                }
            }
        }
        let private_mention = conversation_type == ConversationType::Private && self.config.private_as_mention;
        let sender = self.user(message.sender);
        let fans = sender.and_then(|h| self.policies.fans_of(h));
        let urgent = message.urgent && self.policies.anyone_allows_urgent();

        PreparedMessage {
            settings: self,
            message: *message,
            type_index: conversation_type.index(),
            mentions_count,
            mention_all,
            sender,
            mention_filter: MentionFilter::of(&mentioned),
            pushes: {
                let others = if private_mention {
                    Mentioned::Me
                } else if mention_all {
                    Mentioned::All
                } else {
                    Mentioned::No
                };
                [
                    Level::ALL.map(|l| l.pushes(others)),
                    Level::ALL.map(|l| l.pushes(Mentioned::Me)),
                ]
            },
            mentioned,
            wall: self.zones.iter().map(|&z| WallTime::of(message.at, z)).collect(),
            target,
            bus_channel,
            subchannel,
            conversation: OverrideLayer::of(entry.map(|e| &e.users)),
            defaults,
            fallback,
            fans,
            urgent,
            special: fans.is_some() || urgent,
            all_off,
            private_mention,
        }
    }
}

impl<'a> PreparedMessage<'a> {
    /// The message this was prepared from.
    pub fn message(&self) -> &Message<'a> {
        &self.message
    }

    /// The decision for the user with handle `recipient`.
    #[inline]
    pub fn decide(&self, recipient: UserHandle) -> Decision {
        let record = self.settings.record(recipient);
        match self.special {
            false => self.decide_with::<false>(Some(recipient), record, ""),
            true => self.decide_with::<true>(Some(recipient), record, ""),
        }
    }

    /// The decision for user `id`: one hash lookup, then as [`decide`](Self::decide).
    /// A user the settings do not know has set nothing.
    #[inline]
    pub fn decide_id(&self, id: &str) -> Decision {
        let handle = self.settings.user(id);
        match self.special {
            false => self.decide_with::<false>(handle, self.record_of(handle), id),
            true => self.decide_with::<true>(handle, self.record_of(handle), id),
        }
    }

    /// The decision for `recipient`.
    #[inline]
    pub fn decide_for(&self, recipient: Recipient<'_>) -> Decision {
        match recipient {
            Recipient::Handle(h) => self.decide(h),
            Recipient::Id(id) => self.decide_id(id),
        }
    }

    /// Replaces the contents of `out` with the decision for each of
    /// `recipients`, in order. Allocates nothing when `out` has the capacity.
    pub fn decide_into(&self, recipients: &[UserHandle], out: &mut Vec<Decision>) {
        // A message that concerns nobody's VIP list or urgent consent runs a
        // loop compiled without those checks: the fast path as it was before them.
        match self.special {
            false => self.handles_into::<false>(recipients, out),
            true => self.handles_into::<true>(recipients, out),
        }
    }

    /// As [`decide_into`](Self::decide_into), for recipients given by id.
    pub fn decide_ids_into<S: AsRef<str>>(&self, recipients: &[S], out: &mut Vec<Decision>) {
        match self.special {
            false => self.ids_into::<false, S>(recipients, out),
            true => self.ids_into::<true, S>(recipients, out),
        }
    }

    fn handles_into<const SPECIAL: bool>(&self, recipients: &[UserHandle], out: &mut Vec<Decision>) {
        out.clear();
        let mut records = [UserRecord::EMPTY; CHUNK];
        for chunk in recipients.chunks(CHUNK) {
            // Gather first, decide after: see `CHUNK`.
            for (record, &h) in records.iter_mut().zip(chunk) {
                *record = *self.settings.record(h);
            }
            out.extend(
                chunk
                    .iter()
                    .zip(&records)
                    .map(|(&h, record)| self.decide_with::<SPECIAL>(Some(h), record, "")),
            );
        }
    }

    fn ids_into<const SPECIAL: bool, S: AsRef<str>>(&self, recipients: &[S], out: &mut Vec<Decision>) {
        out.clear();
        let mut handles = [None; CHUNK];
        let mut records = [UserRecord::EMPTY; CHUNK];
        for chunk in recipients.chunks(CHUNK) {
            // Look up, then gather, then decide: see `CHUNK`.
            self.settings.users_batch(chunk, &mut handles);
            for (record, &h) in records.iter_mut().zip(&handles) {
                *record = *self.record_of(h);
            }
            out.extend(
                chunk
                    .iter()
                    .zip(handles.iter().zip(&records))
                    .map(|(id, (&h, record))| self.decide_with::<SPECIAL>(h, record, id.as_ref())),
            );
        }
    }

    /// The settings the message was prepared against.
    pub(crate) fn settings(&self) -> &'a Settings {
        self.settings
    }

    /// The message's wall time in zone `z` of the settings.
    pub(crate) fn wall_at(&self, z: crate::settings::ZoneIndex) -> WallTime {
        self.wall[z.index()]
    }

    /// A recipient as a handle (if the settings know the user) and an id.
    pub(crate) fn resolve<'r>(&self, recipient: Recipient<'r>) -> (Option<UserHandle>, &'r str)
    where
        'a: 'r,
    {
        match recipient {
            Recipient::Handle(h) => (Some(h), self.settings.user_id(h).unwrap_or("")),
            Recipient::Id(id) => (self.settings.user(id), id),
        }
    }

    fn record_of(&self, handle: Option<UserHandle>) -> &'a UserRecord {
        match handle {
            Some(h) => self.settings.record(h),
            None => &UserRecord::EMPTY,
        }
    }

    /// The decisions for `recipients`, lazily, allocating nothing.
    pub fn decisions<'r>(&'r self, recipients: &'r [UserHandle]) -> impl ExactSizeIterator<Item = Decision> + 'r {
        recipients.iter().map(move |&h| self.decide(h))
    }

    /// The decision for the recipient with `handle` (or, without one, for the
    /// user `id` whom the settings do not know): RULES §4. `SPECIAL` is
    /// [`PreparedMessage::special`]: without it, the break-through layers
    /// cannot hold for anyone, and are not looked at.
    #[inline(always)]
    fn decide_with<const SPECIAL: bool>(&self, handle: Option<UserHandle>, record: &UserRecord, id: &str) -> Decision {
        let is_sender = match handle {
            Some(h) => self.sender == Some(h),
            None => id == self.message.sender,
        };
        if is_sender {
            return Decision::SENDER;
        }
        if self.message.disable_push {
            return Decision::DISABLED;
        }
        if record.period.extended || (SPECIAL && self.breaks_through(handle)) {
            return self.decide_extended(handle, id);
        }
        let (layer, level) = self.choose(self.user_layers(handle, record));
        Decision {
            push: self.pushes[usize::from(self.mentions_me(handle, id))][level.index()],
            by: layer,
            level: Some(level),
        }
    }

    /// Whether the recipient with `handle` may break through its layers: the
    /// message is urgent and they allow urgent messages, or they list the
    /// sender as a VIP. Such a recipient takes the full walk.
    #[inline]
    fn breaks_through(&self, handle: Option<UserHandle>) -> bool {
        handle.is_some_and(|h| {
            (self.urgent && self.settings.policies.allows_urgent(h)) || self.fans.is_some_and(|f| f.contains_key(&h))
        })
    }

    /// What each user layer holds for the recipient with `handle`.
    #[inline(always)]
    fn user_layers(&self, handle: Option<UserHandle>, record: &UserRecord) -> UserLayers {
        let Some(h) = handle else {
            return UserLayers::default();
        };
        UserLayers {
            period: {
                let p = record.period;
                let wall = self
                    .wall
                    .get(p.zone.index())
                    .copied()
                    .unwrap_or(WallTime::MONDAY_MIDNIGHT);
                p.contains(wall.seconds).then_some(p.level.level())
            },
            subchannel: self.subchannel.get(h),
            conversation: self.conversation.get(h),
            conversation_type: record.type_levels[self.type_index],
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

    /// Whether the message mentions the recipient by id, in a conversation
    /// type that reads mentions.
    #[inline(always)]
    fn mentions_me(&self, handle: Option<UserHandle>, id: &str) -> bool {
        match handle {
            // The filter is empty unless the message mentions users the settings know.
            Some(h) => self.mention_filter.may_contain(h) && self.mentioned.binary_search(&h).is_ok(),
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
