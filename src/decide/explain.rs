//! Explanations: the walk down the layers for one recipient, for people (its
//! `Display`) and as structured data (its `Serialize`). They report what the
//! walk saw at each layer ([`Seen`]), not a reconstruction.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use super::{PreparedMessage, Recipient};
use crate::decide::Decision;
use crate::defer::{Boundary, Deferral};
use crate::model::{ConversationType, Level, Mentioned};
use crate::schedule::weekday_name;
use crate::walk::{Layer, Quiet, Seen, WALK};

/// What one layer saw, and whether it decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    /// The layer.
    pub layer: Layer,
    /// What it saw.
    pub seen: Seen,
    /// Whether it decided (only the last step does).
    pub decided: bool,
}

impl PreparedMessage<'_> {
    /// The walk of RULES §4 for one recipient, layer by layer as the walk saw
    /// them, with the deferred push if there is one.
    #[must_use]
    pub fn explain(&self, recipient: Recipient<'_>) -> Explanation {
        let (handle, id) = self.resolve(recipient);
        let at = self.message().at;
        let walk = self.walk(handle, id, at, &|z| self.wall_at(z));
        let decision = self.decision_of(&walk, handle, id);
        debug_assert_eq!(decision, self.decide_for(recipient), "the walk and the fast path agree");
        let mut steps = Vec::new();
        for (&layer, &seen) in WALK.iter().zip(&walk.seen) {
            let decided = layer == decision.by();
            steps.push(Step { layer, seen, decided });
            if decided {
                break;
            }
        }
        let mentioned = decision
            .level()
            .map_or(Mentioned::No, |l| self.mentioned(l, handle, id));
        Explanation {
            recipient: id.to_owned(),
            at,
            zone: self.settings().config().time_zone,
            conversation_type: self.message().conversation.conversation_type(),
            steps,
            decision,
            mentioned,
            deferral: self.deferral(handle, id, decision),
        }
    }

    /// How the message mentions the recipient, as far as `level` cares (RULES §3).
    fn mentioned(&self, level: Level, handle: Option<crate::settings::UserHandle>, id: &str) -> Mentioned {
        if !self.mentions_count {
            Mentioned::No
        } else if self.mention_all {
            Mentioned::All
        } else if level.reads_personal_mention() && self.mentions_me(handle, id) {
            Mentioned::Me
        } else {
            Mentioned::No
        }
    }
}

/// The walk down the layers for one recipient: in words with `Display`, as
/// one JSON object with `Serialize`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    recipient: String,
    at: DateTime<Utc>,
    zone: Tz,
    conversation_type: ConversationType,
    steps: Vec<Step>,
    decision: Decision,
    mentioned: Mentioned,
    deferral: Option<Deferral>,
}

impl Explanation {
    /// The decision, the same as the fast path's.
    #[must_use]
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// What each layer saw, from the top down to the one that decided.
    #[must_use]
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// The deferred push, if there is one.
    #[must_use]
    pub fn deferral(&self) -> Option<Deferral> {
        self.deferral
    }

    /// The recipient's id, as given.
    #[must_use]
    pub fn recipient(&self) -> &str {
        &self.recipient
    }
}

/// An instant as a full local date-time with its offset and zone:
/// `2026-11-22T23:30:00+08:00 Asia/Shanghai`.
pub(crate) fn local(at: DateTime<Utc>, zone: Tz) -> String {
    format!(
        "{} {}",
        at.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::AutoSi, false),
        zone.name()
    )
}

/// An id as written for people: control characters escaped, so that an id
/// can never forge a line.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "\\u{{{:04x}}}", u32::from(c))?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// Why a level pushed or not, in words.
fn why(level: Level, mentioned: Mentioned, conversation_type: ConversationType) -> &'static str {
    match (level, mentioned) {
        (Level::All, _) => "level -1 pushes every message",
        (Level::Nothing, _) => "level 5 pushes nothing",
        _ if !conversation_type.mentions_count() => "mentions are not read in this conversation type",
        (_, Mentioned::All) => "the message mentions @all",
        (_, Mentioned::Me) => "the message mentions the recipient",
        (Level::MentionsOfAll, Mentioned::No) => "the message does not mention @all",
        (Level::MentionsOfMe, Mentioned::No) => "the message does not mention the recipient by id",
        (_, Mentioned::No) => "the message mentions neither @all nor the recipient",
    }
}

impl Explanation {
    /// What a quiet time is, in words.
    fn quiet_text(&self, q: Quiet) -> String {
        match q {
            Quiet::None => "no schedule or period is set".into(),
            Quiet::Period { period, zone, active } => format!(
                "the period {}, level {}, in {}{} is {} at {}",
                period.window,
                period.level.level().code(),
                zone.name(),
                if period.zone.is_none() {
                    " (the data center's zone)"
                } else {
                    ""
                },
                if active { "on" } else { "off" },
                local(self.at, zone)
            ),
            Quiet::Schedule { hit, zone, named } => {
                let in_zone = format!(
                    "in {}{}",
                    zone.name(),
                    if named { "" } else { " (the data center's zone)" }
                );
                match hit {
                    Some(hit) => {
                        let w = hit.window;
                        let start = window_start(self.at, zone, hit.day, w.start().seconds());
                        let end = start + chrono::Duration::minutes(i64::from(w.minutes()));
                        format!(
                            "the schedule window {} {} + {} min, level {}, {in_zone}, is on at {} (it runs from {} to {})",
                            weekday_name(hit.day),
                            w.start(),
                            w.minutes(),
                            w.level().level().code(),
                            local(self.at, zone),
                            wall_text(start, zone),
                            wall_text(end, zone),
                        )
                    }
                    None => format!("no window of the schedule {in_zone} holds {}", local(self.at, zone)),
                }
            }
        }
    }
}

/// The local wall-clock start of the window that began on ISO weekday `day`
/// at `start` seconds and holds `at`: the latest such day at or before `at`.
fn window_start(at: DateTime<Utc>, zone: Tz, day: u8, start: u32) -> chrono::NaiveDateTime {
    use chrono::Datelike;
    let today = at.with_timezone(&zone).date_naive();
    let back = (today.weekday().num_days_from_monday() as i64 - i64::from(day - 1)).rem_euclid(7);
    let mut date = today - chrono::Duration::days(back);
    let wall = at.with_timezone(&zone).naive_local();
    let begin =
        |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default() + chrono::Duration::seconds(i64::from(start));
    if begin(date) > wall {
        date -= chrono::Duration::days(7);
    }
    begin(date)
}

/// A wall-clock reading of `zone` as a full local date-time with its
/// offset (the earlier one when the reading repeats); a reading that the
/// zone skips is written as the wall time with "(skipped)".
fn wall_text(wall: chrono::NaiveDateTime, zone: Tz) -> String {
    use chrono::TimeZone;
    match zone.from_local_datetime(&wall).earliest() {
        Some(t) => format!("{} {}", t.to_rfc3339_opts(SecondsFormat::AutoSi, false), zone.name()),
        None => format!("{} (skipped) {}", wall.format("%Y-%m-%dT%H:%M:%S"), zone.name()),
    }
}

fn boundary_text(b: Boundary) -> String {
    match b {
        Boundary::Expiry(layer) => format!("the temporary {} expires then", layer.describe()),
        Boundary::SnoozeEnd => "the snooze ends then".into(),
        Boundary::WindowEdge => "the quiet time's wall clock reaches a window's edge then".into(),
        Boundary::ClockChange => "the quiet time's zone changes its clocks then".into(),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.decision;
        write!(
            f,
            "{}: {} -- {}",
            Escaped(&self.recipient),
            if d.push() { "PUSH" } else { "no push" },
            d.by().describe()
        )?;
        if let Some(level) = d.level() {
            write!(f, ", level {level}")?;
        }
        writeln!(f)?;
        for step in &self.steps {
            write!(f, "  {:<30} ", format!("{}:", step.layer.describe()))?;
            let verdict = |f: &mut fmt::Formatter<'_>, level: Level| {
                writeln!(
                    f,
                    "; {} -> {}",
                    why(level, self.mentioned, self.conversation_type),
                    if d.push() { "push" } else { "no push" }
                )
            };
            match (step.seen, step.decided) {
                (Seen::Outright(true), _) => match step.layer {
                    Layer::Sender => writeln!(f, "decides: the sender never gets a push for their own message")?,
                    _ => writeln!(
                        f,
                        "decides: the message was sent with disablePush, which pushes to no one"
                    )?,
                },
                (Seen::Outright(false), _) => match step.layer {
                    Layer::Sender => writeln!(f, "skipped: the recipient did not send the message")?,
                    _ => writeln!(f, "skipped: the message was sent without disablePush")?,
                },
                (Seen::Skipped(why), _) => writeln!(f, "skipped: {why}")?,
                (Seen::Quiet(q), decided) => {
                    write!(
                        f,
                        "{}: {}",
                        if decided { "decides" } else { "skipped" },
                        self.quiet_text(q)
                    )?;
                    match (decided, q) {
                        (true, Quiet::Period { period, .. }) => verdict(f, period.level.level())?,
                        (true, Quiet::Schedule { hit: Some(h), .. }) => verdict(f, h.window.level().level())?,
                        _ => writeln!(f)?,
                    }
                }
                (Seen::Level(e), decided) => {
                    let temp = e.temporary.map(|t| {
                        format!(
                            "a temporary level {} until {} ({}), over level {} set permanently",
                            Level::code_of(t.level),
                            local(t.until, self.zone),
                            if t.until > self.at { "in force" } else { "expired" },
                            Level::code_of(e.permanent)
                        )
                    });
                    match (decided, e.at(self.at), temp) {
                        (true, Some(level), Some(t)) => {
                            write!(f, "decides: {t}: level {level} applies")?;
                            verdict(f, level)?;
                        }
                        (true, Some(level), None) => {
                            write!(f, "decides: level {level} is set here")?;
                            verdict(f, level)?;
                        }
                        (_, _, Some(t)) => writeln!(f, "skipped: {t}: nothing applies")?,
                        _ => writeln!(f, "skipped: nothing is set here")?,
                    }
                }
                (Seen::Snooze(None), _) => writeln!(f, "skipped: no snooze is set")?,
                (Seen::Snooze(Some(s)), decided) => {
                    write!(
                        f,
                        "{}: the snooze until {}, level {}, is {}",
                        if decided { "decides" } else { "skipped" },
                        local(s.until, self.zone),
                        s.level.level().code(),
                        if s.is_on(self.at) { "on" } else { "over" }
                    )?;
                    if decided {
                        verdict(f, s.level.level())?;
                    } else {
                        writeln!(f)?;
                    }
                }
                (Seen::Terminal, _) => writeln!(f, "decides: nothing is set at any layer: push")?,
            }
        }
        let decided_at = WALK.iter().position(|&l| l == d.by()).unwrap_or(WALK.len() - 1);
        let below: &[Layer] = WALK.get(decided_at + 1..WALK.len() - 1).unwrap_or(&[]);
        if !below.is_empty() {
            let names: Vec<&str> = below.iter().map(|l| l.describe()).collect();
            writeln!(f, "  not consulted: {}", names.join(", "))?;
        }
        if let Some(defer) = self.deferral {
            let then = defer.decision;
            writeln!(
                f,
                "  deferUntil {} ({} ms): {}, and from then the walk pushes by {}, level {}",
                local(defer.until, self.zone),
                defer.until.timestamp_millis(),
                boundary_text(defer.because),
                then.by().describe(),
                Level::code_of(then.level()),
            )?;
        } else if !d.push() && d.level().is_some() {
            writeln!(
                f,
                "  no deferred push: it would push at no instant in the 7 days after the message"
            )?;
        }
        Ok(())
    }
}

fn instant(at: DateTime<Utc>, zone: Tz) -> Value {
    json!({ "ms": at.timestamp_millis(), "local": local(at, zone) })
}

fn level_json(level: Option<Level>) -> Value {
    json!(Level::code_of(level))
}

impl Explanation {
    fn seen_json(&self, seen: Seen) -> Value {
        match seen {
            Seen::Outright(holds) => json!({ "holds": holds }),
            Seen::Skipped(why) => json!({ "skipped": why }),
            Seen::Terminal => json!({ "nothingSet": true }),
            Seen::Level(e) => {
                let mut m = Map::new();
                m.insert("level".into(), level_json(e.at(self.at)));
                m.insert("permanent".into(), level_json(e.permanent));
                if let Some(t) = e.temporary {
                    m.insert(
                        "temporary".into(),
                        json!({ "level": Level::code_of(t.level), "until": instant(t.until, self.zone), "inForce": t.until > self.at }),
                    );
                }
                Value::Object(m)
            }
            Seen::Snooze(None) => json!({ "snooze": null }),
            Seen::Snooze(Some(s)) => json!({
                "snooze": { "level": s.level.level().code(), "until": instant(s.until, self.zone), "on": s.is_on(self.at) },
            }),
            Seen::Quiet(q) => match q {
                Quiet::None => json!({ "quiet": "none" }),
                Quiet::Period { period, zone, active } => json!({
                    "quiet": "period", "startTime": period.window.start().to_string(),
                    "period": period.window.minutes(), "level": period.level.level().code(),
                    "timezone": zone.name(), "at": instant(self.at, zone), "on": active,
                }),
                Quiet::Schedule { hit, zone, .. } => json!({
                    "quiet": "schedule", "timezone": zone.name(), "at": instant(self.at, zone),
                    "on": hit.is_some(),
                    "window": hit.map(|h| json!({
                        "day": h.day, "startTime": h.window.start().to_string(),
                        "period": h.window.minutes(), "level": h.window.level().level().code(),
                    })),
                }),
            },
        }
    }
}

impl Serialize for Explanation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.decision;
        let steps: Vec<Value> = self
            .steps
            .iter()
            .map(|s| json!({ "layer": s.layer.as_str(), "decides": s.decided, "seen": self.seen_json(s.seen) }))
            .collect();
        let mut m = Map::new();
        m.insert("userId".into(), json!(self.recipient));
        m.insert("at".into(), instant(self.at, self.zone));
        m.insert("push".into(), json!(d.push()));
        m.insert("by".into(), json!(d.by().as_str()));
        m.insert("level".into(), json!(d.level().map(Level::code)));
        m.insert("steps".into(), Value::Array(steps));
        if let Some(defer) = self.deferral {
            m.insert("deferUntil".into(), json!(defer.until.timestamp_millis()));
            m.insert(
                "deferral".into(),
                json!({
                    "until": instant(defer.until, self.zone),
                    "because": boundary_text(defer.because),
                    "by": defer.decision.by().as_str(),
                    "level": defer.decision.level().map(Level::code),
                }),
            );
        }
        Value::Object(m).serialize(serializer)
    }
}
