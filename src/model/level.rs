//! DND levels (RULES §2 and §5): [`Level`], a level that is set ("not set"
//! is `None`), and [`PeriodLevel`], the two a user period may have.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Mentioned;
use crate::error::Error;

/// A DND level that is set (RULES §2).
///
/// "Not set" (0 on the wire) is not a level: it is the absence of one, an
/// `Option<Level>` that is `None`, so no code that applies a level has to
/// remember to skip it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
#[non_exhaustive]
pub enum Level {
    /// -1: push every message. An explicit choice that stops the walk.
    All,
    /// 1: push when the message mentions @all or the recipient.
    Mentions,
    /// 2: push when the message mentions the recipient by id.
    MentionsOfMe,
    /// 4: push when the message mentions @all.
    MentionsOfAll,
    /// 5: push nothing, not even mentions.
    Nothing,
}

impl Level {
    /// The five levels, in the order of their variants.
    pub(crate) const ALL: [Level; 5] = [
        Level::All,
        Level::Mentions,
        Level::MentionsOfMe,
        Level::MentionsOfAll,
        Level::Nothing,
    ];

    /// A dense index 0..5, the position in [`Level::ALL`].
    #[inline(always)]
    pub(crate) const fn index(self) -> usize {
        self as usize
    }

    /// The level's code on the wire.
    #[inline]
    pub const fn code(self) -> i64 {
        match self {
            Level::All => -1,
            Level::Mentions => 1,
            Level::MentionsOfMe => 2,
            Level::MentionsOfAll => 4,
            Level::Nothing => 5,
        }
    }

    /// The level whose wire code is `code`; 0 ("not set") is `Ok(None)`.
    ///
    /// ```
    /// use dnd_engine::Level;
    /// assert_eq!(Level::from_code(5), Ok(Some(Level::Nothing)));
    /// assert_eq!(Level::from_code(0), Ok(None));
    /// assert!(Level::from_code(3).is_err());
    /// ```
    pub fn from_code(code: i64) -> Result<Option<Level>, Error> {
        match code {
            -1 => Ok(Some(Level::All)),
            0 => Ok(None),
            1 => Ok(Some(Level::Mentions)),
            2 => Ok(Some(Level::MentionsOfMe)),
            4 => Ok(Some(Level::MentionsOfAll)),
            5 => Ok(Some(Level::Nothing)),
            other => Err(Error::Level(other)),
        }
    }

    /// The wire code of an optional level: 0 when it is not set.
    #[inline]
    pub fn code_of(level: Option<Level>) -> i64 {
        level.map_or(0, Level::code)
    }

    /// Whether a message that mentions the recipient as `mentioned` is pushed
    /// under this level (RULES §2).
    #[inline]
    pub const fn pushes(self, mentioned: Mentioned) -> bool {
        match self {
            Level::All => true,
            Level::Mentions => !matches!(mentioned, Mentioned::No),
            Level::MentionsOfMe => matches!(mentioned, Mentioned::Me),
            Level::MentionsOfAll => matches!(mentioned, Mentioned::All),
            Level::Nothing => false,
        }
    }

    /// Whether applying this level needs to know if the recipient is in the
    /// message's list of mentioned ids.
    #[inline]
    pub(crate) const fn reads_personal_mention(self) -> bool {
        matches!(self, Level::Mentions | Level::MentionsOfMe)
    }

    /// What the level means, in words.
    pub const fn describe(self) -> &'static str {
        match self {
            Level::All => "all messages",
            Level::Mentions => "only @mentions, of @all or of the recipient",
            Level::MentionsOfMe => "only @mentions of the recipient",
            Level::MentionsOfAll => "only @all",
            Level::Nothing => "nothing",
        }
    }
}

impl TryFrom<i64> for Level {
    type Error = Error;
    /// The level whose code is `code`: a level that is set, so 0 ("not set")
    /// is refused along with 3 and every other code that is not a level.
    fn try_from(code: i64) -> Result<Self, Error> {
        match Level::from_code(code) {
            Ok(Some(level)) => Ok(level),
            _ => Err(Error::SetLevel(code)),
        }
    }
}

impl From<Level> for i64 {
    fn from(level: Level) -> i64 {
        level.code()
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.describe())
    }
}

/// The level of a user period: 1 or 5 (RULES §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
#[non_exhaustive]
pub enum PeriodLevel {
    /// 1: only @mentions are pushed.
    Mentions,
    /// 5: nothing is pushed.
    Nothing,
}

impl PeriodLevel {
    /// The period level whose code is `code`.
    pub fn from_code(code: i64) -> Result<PeriodLevel, Error> {
        match code {
            1 => Ok(PeriodLevel::Mentions),
            5 => Ok(PeriodLevel::Nothing),
            other => Err(Error::PeriodLevel(other)),
        }
    }

    /// The general level this period level applies.
    pub const fn level(self) -> Level {
        match self {
            PeriodLevel::Mentions => Level::Mentions,
            PeriodLevel::Nothing => Level::Nothing,
        }
    }
}

impl TryFrom<i64> for PeriodLevel {
    type Error = Error;
    fn try_from(code: i64) -> Result<Self, Error> {
        PeriodLevel::from_code(code)
    }
}

impl From<PeriodLevel> for i64 {
    fn from(level: PeriodLevel) -> i64 {
        level.level().code()
    }
}
