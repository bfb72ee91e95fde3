//! Levels that can expire: the one shape every stored level has (a permanent
//! level and, optionally, a temporary one with its end), and the snooze.
//!
//! The engine has no clock: "now" is always the time of the message being
//! decided, so a temporary level is in force for messages before its `until`
//! and the permanent level applies to every message from `until` on.

use chrono::{DateTime, Utc};

use crate::model::schedule::QuietLevel;
use crate::model::Level;

/// A temporary level: `level` (`None` is "not set") applies to messages whose
/// time is before `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Temporary {
    /// The level while it is in force; `None` means "not set" (the layer is skipped).
    pub level: Option<Level>,
    /// The first instant at which it is no longer in force.
    pub until: DateTime<Utc>,
}

/// A stored level as every layer stores it: the permanent level, and a
/// temporary level in force until some instant.
///
/// ```
/// use dnd_engine::{Expiring, Level, Temporary};
/// use chrono::{TimeZone, Utc};
/// let until = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
/// let muted_for_now = Expiring {
///     permanent: Some(Level::All),
///     temporary: Some(Temporary { level: Some(Level::Nothing), until }),
/// };
/// assert_eq!(muted_for_now.at(until - chrono::Duration::milliseconds(1)), Some(Level::Nothing));
/// assert_eq!(muted_for_now.at(until), Some(Level::All));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Expiring {
    /// The level that applies when no temporary level is in force.
    pub permanent: Option<Level>,
    /// A temporary level, if one is stored (in force or not).
    pub temporary: Option<Temporary>,
}

impl Expiring {
    /// Nothing stored.
    pub const NONE: Expiring = Expiring {
        permanent: None,
        temporary: None,
    };

    /// A permanent `level` and no temporary one.
    #[must_use]
    pub const fn permanent(level: Option<Level>) -> Expiring {
        Expiring {
            permanent: level,
            temporary: None,
        }
    }

    /// The level that applies to a message at `at`.
    #[inline]
    #[must_use]
    pub fn at(self, at: DateTime<Utc>) -> Option<Level> {
        match self.in_force(at) {
            Some(t) => t.level,
            None => self.permanent,
        }
    }

    /// The temporary level, if it is in force at `at`.
    #[inline]
    #[must_use]
    pub fn in_force(self, at: DateTime<Utc>) -> Option<Temporary> {
        self.temporary.filter(|t| at < t.until)
    }

    /// Whether nothing is stored.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.permanent.is_none() && self.temporary.is_none()
    }
}

/// A snooze: for messages before `until`, the recipient's quiet-time layer
/// decides with `level`, whatever the period or schedule says. In JSON:
/// `{"until":MS,"level":L}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snooze {
    /// The first instant at which the snooze is over.
    #[serde(with = "chrono::serde::ts_milliseconds")]
    pub until: DateTime<Utc>,
    /// What may still be pushed while it lasts.
    pub level: QuietLevel,
}

impl Snooze {
    /// Whether the snooze is on for a message at `at`.
    #[inline]
    #[must_use]
    pub fn is_on(self, at: DateTime<Utc>) -> bool {
        at < self.until
    }
}
