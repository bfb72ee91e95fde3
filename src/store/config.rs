//! How the engine is set up: [`Config`], and the application's defaults in it.

use chrono_tz::Tz;

use crate::model::{ConversationType, Level};

/// How the engine is set up: the data center's zone, the application's
/// default level per conversation type (RULES §4.7, §5), and the mention
/// policy (issue 11). Made by [`Config::new`] and the `with_` methods; later
/// versions may add fields, with defaults that keep today's answers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The data center's time zone: Asia/Shanghai for the China data center,
    /// UTC for the global one.
    pub time_zone: Tz,
    /// The application's default level for each conversation type.
    pub app_defaults: AppDefaults,
    /// Whether a private (type 1) message counts as mentioning its
    /// recipient, so that levels 1 and 2 push in private chats. Off by default.
    pub private_as_mention: bool,
    /// The most members a conversation may have for an @all to count: in a
    /// conversation with more (as the message says, [`Message::with_member_count`](crate::Message::with_member_count)),
    /// an @all counts as no mention. `None` (the default): no maximum.
    pub mention_all_max_members: Option<u32>,
}

impl Config {
    /// A configuration for the data center in `time_zone`, with no app
    /// defaults and no mention policy.
    pub fn new(time_zone: Tz) -> Config {
        Config {
            time_zone,
            app_defaults: AppDefaults::default(),
            private_as_mention: false,
            mention_all_max_members: None,
        }
    }

    /// This configuration with the app default for `conversation_type` set to `level`.
    #[must_use = "this returns the changed configuration"]
    pub fn with_app_default(mut self, conversation_type: ConversationType, level: Level) -> Config {
        self.app_defaults.set(conversation_type, Some(level));
        self
    }

    /// This configuration with private messages counting as mentions of their recipient.
    #[must_use = "this returns the changed configuration"]
    pub fn with_private_as_mention(mut self) -> Config {
        self.private_as_mention = true;
        self
    }

    /// This configuration with at most `max` members for an @all to count
    /// (exactly `max` keeps it).
    #[must_use = "this returns the changed configuration"]
    pub fn with_mention_all_max_members(mut self, max: u32) -> Config {
        self.mention_all_max_members = Some(max);
        self
    }
}

/// The application's default level per conversation type. Unset by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppDefaults([Option<Level>; 4]);

impl AppDefaults {
    /// The default for `conversation_type`.
    pub fn get(&self, conversation_type: ConversationType) -> Option<Level> {
        self.0[conversation_type.index()]
    }

    /// Sets (or with `None` clears) the default for `conversation_type`.
    pub fn set(&mut self, conversation_type: ConversationType, level: Option<Level>) {
        self.0[conversation_type.index()] = level;
    }
}
