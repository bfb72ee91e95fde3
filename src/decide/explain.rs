//! Explanations: the walk down the layers for one recipient, for people (its
//! `Display`) and as structured data (its `Serialize`). They report what the
//! walk saw at each layer ([`Seen`]), not a reconstruction.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};
use serde_json::{json, Map, Value};

use super::{PreparedMessage, Recipient};
use crate::decide::defer::{Boundary, Deferral};
use crate::decide::walk::{Layer, LayerKind, Quiet, Seen, WALK};
use crate::decide::Decision;
use crate::error::excerpt::Escaped;
use crate::model::policy::{MentionAllOff, Urgency, VipScope};
use crate::model::schedule::weekday_name;
use crate::model::{ConversationType, Level, Mentioned, Mentions};

mod as_json;

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
    /// Whether a VIP sender with scope `quiet` passed over this quiet-time
    /// layer: it would have held the message back, and the walk went on below.
    pub read_through: bool,
}

impl PreparedMessage<'_> {
    /// The walk of RULES §4 for user `id`, as [`explain`](Self::explain)
    /// does it for a recipient given by id, which cannot fail.
    pub fn explain_id(&self, id: &str) -> Explanation {
        self.explain_resolved(self.settings().user(id), id)
    }

    /// The walk of RULES §4 for one recipient, layer by layer as the walk saw
    /// them, with the deferred push if there is one; an error only for a
    /// handle these settings did not issue.
    pub fn explain(&self, recipient: Recipient<'_>) -> Result<Explanation, crate::error::Error> {
        let (handle, id) = self.resolve(recipient)?;
        Ok(self.explain_resolved(handle, id))
    }

    fn explain_resolved(&self, handle: Option<crate::store::UserHandle>, id: &str) -> Explanation {
        let at = self.message().at.as_datetime();
        let walk = self.walk(handle, id, at, &|z| self.wall_at(z));
        let (decision, second) = self.readings(&walk, handle, id);
        // The second reading decided (a VIP's, or a repeated sender's): the
        // quiet time that held the message back was passed over.
        let passed_over = second.is_some_and(|s| s.push()) && decision.push();
        let mut steps = Vec::new();
        for (&layer, &seen) in WALK.iter().zip(&walk.seen) {
            // The repeated-sender layer is shown only when it holds: it is
            // read with a held store (`Held`), and a walk without one never
            // sees a repeated sender.
            if seen == Seen::Repeat(false) {
                continue;
            }
            // A repeated sender's push is decided at the repeat layer and by
            // the layer of the reading without the quiet time, which the
            // steps go down to.
            let last = match (decision.by(), second) {
                (Layer::Repeat, Some(s)) => s.by(),
                _ => decision.by(),
            };
            let decided = layer == decision.by() || layer == last;
            let read_through = passed_over && layer.kind() == LayerKind::Quiet && seen.decides(at).is_some();
            steps.push(Step {
                layer,
                seen,
                decided,
                read_through,
            });
            if layer == last {
                break;
            }
        }
        let mentioned = decision
            .level()
            .map_or(Mentioned::No, |l| self.mentioned(l, handle, id));
        // The first mentioned user group the recipient is a member of.
        let group = handle.and_then(|h| {
            self.message().mentioned_groups.iter().find(|g| {
                self.mentions_count
                    && self
                        .settings()
                        .user_groups
                        .members(g)
                        .is_some_and(|m| m.contains(&h.number()))
            })
        });
        let group = group.map(|g| (*g).to_owned());
        Explanation {
            recipient: id.to_owned(),
            at,
            zone: self.settings().config().time_zone,
            conversation_type: self.message().conversation.conversation_type(),
            steps,
            decision,
            second,
            mentioned,
            mention_all: (self.mentions_count && matches!(self.message().mentions, Mentions::All))
                .then_some(self.all_off),
            private_mention: self.private_mention,
            keyword: match mentioned {
                Mentioned::Me if !self.private_mention && !self.audience_mentions(handle) && group.is_none() => {
                    self.keyword_of(handle).map(str::to_owned)
                }
                _ => None,
            },
            group: match mentioned {
                Mentioned::Me if !self.private_mention && !self.audience_mentions(handle) => group,
                _ => None,
            },
            deferral: self.deferral(handle, id, decision),
        }
    }

    /// Whether the message mentions the recipient with `handle` by id.
    fn audience_mentions(&self, handle: Option<crate::store::UserHandle>) -> bool {
        handle.is_some_and(|h| self.audience().mentions(h))
    }

    /// How the message mentions the recipient, as far as `level` cares (RULES §3).
    fn mentioned(&self, level: Level, handle: Option<crate::store::UserHandle>, id: &str) -> Mentioned {
        if self.private_mention {
            Mentioned::Me
        } else if !self.mentions_count {
            Mentioned::No
        } else if level.reads_personal_mention() && self.mentions_me(handle, id) {
            Mentioned::Me
        } else if self.mention_all {
            Mentioned::All
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
    /// The reading without the quiet time that a VIP with scope `quiet` made
    /// the decision take, if it took one.
    second: Option<Decision>,
    mentioned: Mentioned,
    /// For a message with an @all that is read: why it counts as no mention, if it does.
    mention_all: Option<MentionAllOff>,
    private_mention: bool,
    /// The recipient's keyword that made the message mention them, when
    /// that, and not their id, did.
    keyword: Option<String>,
    /// The mentioned user group the recipient is a member of, when that,
    /// and not their id, made the message mention them.
    group: Option<String>,
    deferral: Option<Deferral>,
}

impl Explanation {
    /// The decision, the same as the fast path's.
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

impl Explanation {
    /// Why a level pushed or not, in words.
    fn why(&self, level: Level) -> String {
        let off = self.mention_all.filter(|off| off.is_off());
        match (level, self.mentioned) {
            (Level::All, _) => "level -1 pushes every message".into(),
            (Level::Nothing, _) => "level 5 pushes nothing".into(),
            (Level::MentionsOfAll, _) if self.private_mention => {
                "a private message counts as mentioning its recipient, which is not @all".into()
            }
            _ if self.private_mention => {
                "a private message counts as mentioning its recipient (private chats as mentions)".into()
            }
            _ if !self.conversation_type.mentions_count() => "mentions are not read in this conversation type".into(),
            (_, Mentioned::All) => "the message mentions @all".into(),
            (_, Mentioned::Me) => match (&self.group, &self.keyword) {
                (Some(g), _) => format!(
                    "the message mentions the user group \"{}\", of which the recipient is a member",
                    Escaped(g)
                ),
                (_, Some(k)) => format!("the message's text holds the recipient's keyword \"{}\"", Escaped(k)),
                _ => "the message mentions the recipient".into(),
            },
            (Level::MentionsOfAll, _) => match off {
                Some(off) => format!("the message's @all counts as no mention: {off}"),
                None => "the message does not mention @all".into(),
            },
            (Level::MentionsOfMe, _) => "the message does not mention the recipient by id".into(),
            _ => match off {
                Some(off) => {
                    format!("the message does not mention the recipient, and its @all counts as no mention: {off}")
                }
                None => "the message mentions neither @all nor the recipient".into(),
            },
        }
    }

    /// What the VIP layer saw, in words.
    fn vip_text(&self, scope: Option<VipScope>) -> String {
        match (scope, self.second) {
            (None, _) => "skipped: the sender is not on the recipient's VIP list".into(),
            (Some(VipScope::All), _) => {
                "decides: the sender is on the recipient's VIP list with scope all: push, whatever the layers below say"
                    .into()
            }
            (Some(_), None) => "skipped: the sender is on the recipient's VIP list with scope quiet, \
                 which passes over the quiet time only when it holds the message back; it does not"
                .into(),
            (Some(_), Some(s)) if s.push() => format!(
                "reads through: the sender is on the recipient's VIP list with scope quiet: \
                 the quiet time is passed over, and without it the walk pushes by {}",
                s.by().describe()
            ),
            (Some(_), Some(s)) => format!(
                "skipped: the sender is on the recipient's VIP list with scope quiet, but without the quiet time \
                 the walk would not push either ({}, level {})",
                s.by().describe(),
                Level::code_of(s.level())
            ),
        }
    }
}

impl Explanation {
    /// What the repeated-sender layer saw (it is shown only when it holds), in words.
    fn repeat_text(&self) -> String {
        let what = "the sender has a push to the recipient still held, sent within the recipient's repeat window";
        match self.second {
            Some(s) if s.push() => format!(
                "decides: {what}: the quiet time is passed over, and without it the walk pushes by {}",
                s.by().describe()
            ),
            Some(s) => format!(
                "skipped: {what}, but without the quiet time the walk would not push either ({}, level {})",
                s.by().describe(),
                Level::code_of(s.level())
            ),
            None => format!("skipped: {what}, but the quiet time does not hold the message back"),
        }
    }

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
        Boundary::MuteEnd => "the recipient's mute of the sender ends then".into(),
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
        if let Some(off) = self.mention_all.filter(|off| off.is_off()) {
            writeln!(f, "  @all counts as no mention: {off}")?;
        }
        for step in &self.steps {
            write!(f, "  {:<30} ", format!("{}:", step.layer.describe()))?;
            // What a quiet time or a snooze did: decided, was read through
            // for a VIP whose scope passes over quiet time, or was skipped.
            let outcome = |decided: bool| match (decided, step.read_through) {
                (true, _) => "decides",
                (false, true) if d.by() == Layer::Repeat => "passed over for the repeated sender",
                (false, true) => "passed over for the VIP",
                (false, false) => "skipped",
            };
            let verdict = |f: &mut fmt::Formatter<'_>, level: Level| {
                writeln!(
                    f,
                    "; {} -> {}",
                    self.why(level),
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
                (Seen::Muted { muted: false, .. }, _) => {
                    writeln!(f, "skipped: the recipient does not mute the sender")?
                }
                (Seen::Muted { until, .. }, true) => writeln!(
                    f,
                    "decides: the recipient mutes the sender{}: no push, whatever the layers below say",
                    until.map_or_else(|| " (no end)".to_owned(), |u| format!(" until {}", local(u, self.zone)))
                )?,
                (Seen::Muted { until, .. }, false) => writeln!(
                    f,
                    "skipped: the recipient's mute of the sender ended{}",
                    until.map_or_else(String::new, |u| format!(" at {}", local(u, self.zone)))
                )?,
                (Seen::Urgent(Urgency::Allowed), _) => writeln!(
                    f,
                    "decides: the message is urgent and the recipient allows urgent messages: push, whatever the layers below say"
                )?,
                (Seen::Urgent(Urgency::NotAllowed), _) => writeln!(
                    f,
                    "skipped: the message is urgent, but the recipient does not allow urgent messages"
                )?,
                (Seen::Urgent(_), _) => writeln!(f, "skipped: the message is not urgent")?,
                (Seen::Vip(scope), _) => writeln!(f, "{}", self.vip_text(scope))?,
                (Seen::Repeat(_), _) => writeln!(f, "{}", self.repeat_text())?,
                (Seen::Quiet(q), decided) => {
                    write!(
                        f,
                        "{}: {}",
                        outcome(decided),
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
                        outcome(decided),
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
        let last = self.steps.last().map_or(d.by(), |s| s.layer);
        let decided_at = WALK.iter().position(|&l| l == last).unwrap_or(WALK.len() - 1);
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
