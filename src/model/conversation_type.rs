//! The kind of a conversation (RULES §1): [`ConversationType`], its wire
//! codes and whether its messages' mentions are read.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The kind of a conversation (RULES §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
#[non_exhaustive]
pub enum ConversationType {
    /// 1: one-to-one.
    Private,
    /// 3: group.
    Group,
    /// 6: system.
    System,
    /// 10: ultra group (a community channel, which may carry a subchannel).
    UltraGroup,
}

impl ConversationType {
    /// The four types, in the order of their codes.
    pub const ALL: [ConversationType; 4] = [
        ConversationType::Private,
        ConversationType::Group,
        ConversationType::System,
        ConversationType::UltraGroup,
    ];

    /// The type's code on the wire: 1, 3, 6 or 10.
    pub const fn code(self) -> i64 {
        match self {
            ConversationType::Private => 1,
            ConversationType::Group => 3,
            ConversationType::System => 6,
            ConversationType::UltraGroup => 10,
        }
    }

    /// The type whose code is `code`.
    ///
    /// ```
    /// use dnd_engine::ConversationType;
    /// assert_eq!(ConversationType::from_code(10), Ok(ConversationType::UltraGroup));
    /// assert!(ConversationType::from_code(2).is_err());
    /// ```
    pub fn from_code(code: i64) -> Result<ConversationType, Error> {
        match code {
            1 => Ok(ConversationType::Private),
            3 => Ok(ConversationType::Group),
            6 => Ok(ConversationType::System),
            10 => Ok(ConversationType::UltraGroup),
            other => Err(Error::ConversationType(other)),
        }
    }

    /// Whether mentions are read in this type's messages (RULES §3): in
    /// groups and ultra groups they are, in private and system messages not.
    pub const fn mentions_count(self) -> bool {
        matches!(self, ConversationType::Group | ConversationType::UltraGroup)
    }

    /// A dense index 0..4, for tables with one slot per type.
    pub(crate) const fn index(self) -> usize {
        match self {
            ConversationType::Private => 0,
            ConversationType::Group => 1,
            ConversationType::System => 2,
            ConversationType::UltraGroup => 3,
        }
    }

    /// The type's lower-case name, as the explanations use it.
    pub const fn name(self) -> &'static str {
        match self {
            ConversationType::Private => "private",
            ConversationType::Group => "group",
            ConversationType::System => "system",
            ConversationType::UltraGroup => "ultra group",
        }
    }
}

impl TryFrom<i64> for ConversationType {
    type Error = Error;
    fn try_from(code: i64) -> Result<Self, Error> {
        ConversationType::from_code(code)
    }
}

impl From<ConversationType> for i64 {
    fn from(t: ConversationType) -> i64 {
        t.code()
    }
}

impl fmt::Display for ConversationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}
