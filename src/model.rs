//! The values of the DND domain: conversation types, levels, times of day, the
//! daily window, the user period, ids and mentions.
//!
//! Every type here is valid by construction: a constructor that takes outside
//! data checks it and answers a typed [`Error`], so code that holds one of
//! these values never checks it again.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::Excerpt;
pub use crate::mention::{Mentioned, Mentions};
use crate::Error;

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

/// Seconds in a day.
const DAY: u32 = 86_400;

/// A wall-clock time of day to the second, 00:00:00 to 23:59:59.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(u32);

impl TimeOfDay {
    /// Midnight, 00:00:00.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);

    /// The time `hour:minute:second`.
    pub fn new(hour: u32, minute: u32, second: u32) -> Result<TimeOfDay, Error> {
        if hour < 24 && minute < 60 && second < 60 {
            Ok(TimeOfDay(hour * 3600 + minute * 60 + second))
        } else {
            Err(Error::TimeOfDay(format!("{hour:02}:{minute:02}:{second:02}").into()))
        }
    }

    /// The time `seconds` after midnight; `seconds` must be below 86 400.
    pub fn from_seconds(seconds: u32) -> Result<TimeOfDay, Error> {
        if seconds < DAY {
            Ok(TimeOfDay(seconds))
        } else {
            Err(Error::TimeOfDay(format!("{seconds} s").into()))
        }
    }

    /// The wall-clock time of day of `instant` in `zone`, to the second (a
    /// leap second reads as 23:59:59). `instant` is a [`Timestamp`], so the
    /// zone's tables cover it.
    pub fn of_instant(instant: Timestamp, zone: Tz) -> TimeOfDay {
        use chrono::Timelike;
        let wall = instant.as_datetime().with_timezone(&zone);
        TimeOfDay(wall.num_seconds_from_midnight())
    }

    /// Seconds after midnight, below 86 400.
    pub const fn seconds(self) -> u32 {
        self.0
    }
}

impl FromStr for TimeOfDay {
    type Err = Error;

    /// Parses exactly `HH:MM:SS`, two digits each.
    fn from_str(s: &str) -> Result<TimeOfDay, Error> {
        let bad = || Error::TimeOfDay(Excerpt::new(s));
        let b = s.as_bytes();
        if b.len() != 8 || b[2] != b':' || b[5] != b':' {
            return Err(bad());
        }
        let two = |i: usize| -> Option<u32> {
            let (h, l) = (b[i], b[i + 1]);
            (h.is_ascii_digit() && l.is_ascii_digit()).then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
        };
        match (two(0), two(3), two(6)) {
            (Some(h), Some(m), Some(sec)) => TimeOfDay::new(h, m, sec).map_err(|_| bad()),
            _ => Err(bad()),
        }
    }
}

impl TryFrom<String> for TimeOfDay {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        t.to_string()
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        write!(f, "{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    }
}

/// A daily window of wall-clock time: from `start` for `minutes` minutes,
/// half-open, wrapping past midnight (RULES §5).
///
/// A window of 1439 minutes, the longest the API accepts, is the documented
/// "permanent all-day" setting and covers the whole day whatever its start.
///
/// ```
/// use dnd_engine::{DndWindow, TimeOfDay};
/// let night = DndWindow::new("22:00:00".parse()?, 540)?;
/// assert!(night.contains("22:00:00".parse()?));
/// assert!(night.contains("06:59:59".parse()?));
/// assert!(!night.contains("07:00:00".parse()?));
/// # Ok::<(), dnd_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DndWindow {
    start: TimeOfDay,
    minutes: u16,
}

impl DndWindow {
    /// The longest window, which covers the whole day.
    pub const WHOLE_DAY_MINUTES: u16 = 1439;

    /// A window from `start` lasting `minutes`, 1 to 1439.
    pub fn new(start: TimeOfDay, minutes: i64) -> Result<DndWindow, Error> {
        match u16::try_from(minutes) {
            Ok(m @ 1..=Self::WHOLE_DAY_MINUTES) => Ok(DndWindow { start, minutes: m }),
            _ => Err(Error::PeriodMinutes(minutes, "1 to 1439 for a window")),
        }
    }

    /// Where the window starts.
    pub const fn start(self) -> TimeOfDay {
        self.start
    }

    /// How long it lasts, in minutes, as set.
    pub const fn minutes(self) -> u16 {
        self.minutes
    }

    /// How many seconds of each day it covers: all 86 400 for 1439 minutes.
    #[inline]
    pub const fn len_seconds(self) -> u32 {
        if self.minutes == Self::WHOLE_DAY_MINUTES {
            DAY
        } else {
            self.minutes as u32 * 60
        }
    }

    /// Whether the wall-clock time `t` lies in the window.
    #[inline]
    pub const fn contains(self, t: TimeOfDay) -> bool {
        // Distance from the start, forward around the clock.
        let since_start = (t.0 + DAY - self.start.0) % DAY;
        since_start < self.len_seconds()
    }
}

impl fmt::Display for DndWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} + {} min", self.start, self.minutes)?;
        if self.minutes == Self::WHOLE_DAY_MINUTES {
            f.write_str(" (the whole day)")?;
        }
        Ok(())
    }
}

/// A user's global DND period (RULES §5): a daily window, its level, and the
/// zone whose wall clock it is read on (the data center's when `None`).
///
/// In JSON it reads as the request's parameters:
/// `{"startTime":"22:00:00","period":540,"level":5,"timezone":"Asia/Tokyo"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PeriodRepr", into = "PeriodRepr")]
pub struct DndPeriod {
    /// The daily window.
    pub window: DndWindow,
    /// What may still be pushed inside the window.
    pub level: PeriodLevel,
    /// The period's own IANA zone, if it was given one.
    pub zone: Option<Tz>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PeriodRepr {
    start_time: TimeOfDay,
    period: i64,
    level: PeriodLevel,
    #[serde(
        default,
        deserialize_with = "crate::shape::optional",
        skip_serializing_if = "Option::is_none"
    )]
    timezone: Option<String>,
}

impl TryFrom<PeriodRepr> for DndPeriod {
    type Error = Error;
    fn try_from(r: PeriodRepr) -> Result<Self, Error> {
        Ok(DndPeriod {
            window: DndWindow::new(r.start_time, r.period)?,
            level: r.level,
            zone: r.timezone.as_deref().map(parse_zone).transpose()?,
        })
    }
}

impl From<DndPeriod> for PeriodRepr {
    fn from(p: DndPeriod) -> PeriodRepr {
        PeriodRepr {
            start_time: p.window.start,
            period: p.window.minutes.into(),
            level: p.level,
            timezone: p.zone.map(|z| z.name().to_owned()),
        }
    }
}

/// Parses an IANA time-zone name.
pub fn parse_zone(name: &str) -> Result<Tz, Error> {
    name.parse::<Tz>().map_err(|_| Error::TimeZone(Excerpt::new(name)))
}

/// An instant the engine decides at, such as a message's time: from
/// 1970-01-01T00:00:00Z up to, not including, 2100-01-01T00:00:00Z.
///
/// The upper bound is where the time-zone tables end: chrono-tz holds every
/// zone's transitions up to the end of 2099 and reads later times without
/// daylight saving time, so a message at 23:30 in New York in July 2100 would
/// be read at 22:30 and decided silently wrong. The lower bound is the Unix
/// epoch: message times are milliseconds since it, and no message is older.
/// Every way to make a `Timestamp` checks the range, so a
/// [`Message`](crate::Message), which holds one, is always decided right.
///
/// ```
/// use dnd_engine::Timestamp;
/// let t: Timestamp = "2026-11-22T22:30:00+08:00".parse()?;
/// assert_eq!(t.millis(), 1_795_357_800_000);
/// assert_eq!(Timestamp::from_millis(1_795_357_800_000)?, t);
/// assert!(Timestamp::from_millis(Timestamp::END_MILLIS).is_err()); // 2100-01-01T00:00:00Z
/// assert!(Timestamp::from_millis(-1).is_err());
/// # Ok::<(), dnd_engine::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// The first instant of the range, the Unix epoch.
    pub const MIN: Timestamp = Timestamp(DateTime::UNIX_EPOCH);

    /// 2100-01-01T00:00:00Z in milliseconds since the epoch: the first
    /// instant past the range.
    pub const END_MILLIS: i64 = 4_102_444_800_000;

    /// `instant`, if it lies in the range.
    pub fn new(instant: DateTime<Utc>) -> Result<Timestamp, Error> {
        // `timestamp()` is the whole second, so a leap second (23:59:60 on
        // 2099-12-31) counts as the second before it.
        if instant >= DateTime::UNIX_EPOCH && instant.timestamp() < Self::END_MILLIS / 1000 {
            Ok(Timestamp(instant))
        } else {
            Err(Error::TimeOutOfRange(Excerpt::new(
                &instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            )))
        }
    }

    /// The instant `ms` milliseconds after the Unix epoch, if it lies in the range.
    pub fn from_millis(ms: i64) -> Result<Timestamp, Error> {
        if (0..Self::END_MILLIS).contains(&ms) {
            DateTime::from_timestamp_millis(ms)
                .map(Timestamp)
                .ok_or_else(|| Error::TimeOutOfRange(Excerpt::new(&ms.to_string())))
        } else {
            Err(Error::TimeOutOfRange(Excerpt::new(&ms.to_string())))
        }
    }

    /// The instant, as chrono's.
    pub const fn as_datetime(self) -> DateTime<Utc> {
        self.0
    }

    /// Milliseconds since the Unix epoch.
    pub fn millis(self) -> i64 {
        self.0.timestamp_millis()
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    /// Parses milliseconds since the Unix epoch (`1700000000000`) or RFC 3339
    /// with an offset (`2026-11-22T22:30:00+08:00`), then checks the range.
    fn from_str(s: &str) -> Result<Timestamp, Error> {
        if let Ok(ms) = s.parse::<i64>() {
            return Timestamp::from_millis(ms);
        }
        let instant = DateTime::parse_from_rfc3339(s).map_err(|_| Error::Instant(Excerpt::new(s)))?;
        Timestamp::new(instant.with_timezone(&Utc))
    }
}

impl TryFrom<DateTime<Utc>> for Timestamp {
    type Error = Error;
    fn try_from(instant: DateTime<Utc>) -> Result<Self, Error> {
        Timestamp::new(instant)
    }
}

/// A `Timestamp` reads as the chrono instant it holds (`t.timestamp_millis()`,
/// `t.with_timezone(&zone)`); only making one checks the range.
impl std::ops::Deref for Timestamp {
    type Target = DateTime<Utc>;
    fn deref(&self) -> &DateTime<Utc> {
        &self.0
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> DateTime<Utc> {
        t.0
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, with as many fractional digits as needed:
    /// `2026-11-22T14:30:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

/// Parses a message time: milliseconds since the Unix epoch (`1700000000000`)
/// or RFC 3339 with an offset (`2026-11-22T22:30:00+08:00`), in the range of
/// a [`Timestamp`].
///
/// ```
/// use dnd_engine::parse_instant;
/// assert_eq!(parse_instant("0")?.millis(), 0);
/// assert_eq!(parse_instant("1970-01-01T08:00:00+08:00")?.millis(), 0);
/// assert!(parse_instant("yesterday").is_err());
/// assert!(parse_instant("2100-01-01T00:00:00Z").is_err());
/// # Ok::<(), dnd_engine::Error>(())
/// ```
pub fn parse_instant(s: &str) -> Result<Timestamp, Error> {
    s.parse()
}

/// The instant `ms` milliseconds after the Unix epoch, in the range of a
/// [`Timestamp`].
pub fn instant_from_millis(ms: i64) -> Result<Timestamp, Error> {
    Timestamp::from_millis(ms)
}

/// A validated id: a newtype over `Box<str>` whose `new` accepts `id` when
/// `$valid` holds and answers `$error` otherwise; serde goes through `new`.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, |$id:ident| $valid:expr, $error:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Box<str>);

        impl $name {
            /// Checks `id` against the rule in the type's description.
            pub fn new($id: &str) -> Result<$name, Error> {
                if $valid {
                    Ok($name($id.into()))
                } else {
                    Err($error)
                }
            }

            /// The id.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                $name::new(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.into()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// The most bytes a user, target or group id may have.
pub const MAX_ID_BYTES: usize = 64;

/// The most characters a subchannel id may have.
pub const MAX_BUS_CHANNEL_LEN: usize = 20;

id_type!(
    /// A user id: 1 to 64 bytes.
    UserId,
    |id| (1..=MAX_ID_BYTES).contains(&id.len()),
    Error::id("user id", id, MAX_ID_BYTES)
);
id_type!(
    /// The id of a conversation's target (a user, a group, an ultra group): 1
    /// to 64 bytes.
    TargetId,
    |id| (1..=MAX_ID_BYTES).contains(&id.len()),
    Error::id("target id", id, MAX_ID_BYTES)
);
id_type!(
    /// An ultra-group subchannel id (`busChannel`): 1 to 20 ASCII letters and
    /// digits.
    BusChannel,
    |id| (1..=MAX_BUS_CHANNEL_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()),
    Error::BusChannel(Excerpt::new(id))
);

/// A conversation as a user's setting names it: a type and a target, and for
/// an ultra group optionally one of its subchannels.
///
/// The subchannel can only be given with type 10: the constructor refuses it
/// otherwise, so a key with a subchannel of a regular group cannot exist.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawConversationKey", rename_all = "camelCase")]
pub struct ConversationKey {
    conversation_type: ConversationType,
    target_id: TargetId,
    #[serde(skip_serializing_if = "Option::is_none")]
    bus_channel: Option<BusChannel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawConversationKey {
    conversation_type: ConversationType,
    target_id: TargetId,
    bus_channel: Option<BusChannel>,
}

impl TryFrom<RawConversationKey> for ConversationKey {
    type Error = Error;
    fn try_from(raw: RawConversationKey) -> Result<Self, Error> {
        ConversationKey::new(raw.conversation_type, raw.target_id, raw.bus_channel)
    }
}

impl ConversationKey {
    /// The conversation `(conversation_type, target_id)`, or with `bus_channel`
    /// one subchannel of the ultra group `target_id`.
    ///
    /// For private and system conversations the target is the other party:
    /// the user or system account whose messages the setting is about.
    pub fn new(
        conversation_type: ConversationType,
        target_id: TargetId,
        bus_channel: Option<BusChannel>,
    ) -> Result<ConversationKey, Error> {
        if bus_channel.is_some() && conversation_type != ConversationType::UltraGroup {
            return Err(Error::BusChannelType(conversation_type.code()));
        }
        Ok(ConversationKey {
            conversation_type,
            target_id,
            bus_channel,
        })
    }

    /// The conversation's type.
    pub fn conversation_type(&self) -> ConversationType {
        self.conversation_type
    }

    /// The conversation's target.
    pub fn target_id(&self) -> &TargetId {
        &self.target_id
    }

    /// The subchannel, for a key that names one.
    pub fn bus_channel(&self) -> Option<&BusChannel> {
        self.bus_channel.as_ref()
    }
}
