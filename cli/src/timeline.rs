//! `dnd timeline`: one user's week as a picture. The input is replayed as
//! `dnd replay` replays it; what the user has set (the period, the weekly
//! schedule's windows, a snooze, overrides and their expiry) and the admins'
//! defaults that reach the user become bars on a time axis, and each message
//! to the user becomes a mark, pushed or not, with an arrow to its
//! `deferUntil`. The drawing is `timeline/svg.rs`.
//!
//! A request carries no time of its own: the settings a run of requests
//! leaves are drawn from the time of the user's message before it (or the
//! start of the picture) to the time of the next one (or its end), the span
//! in which they decided.

mod svg;

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use dnd_engine::{
    api_v4, parse_instant, BusChannel, ConversationKey, ConversationType, Expiring, Layer, Level, Request, Settings,
    TargetId, WeeklySchedule, WEEK_MS,
};

use crate::args::TimelineArgs;
use crate::input::{self, Lines};
use crate::line::{self, Line};

/// What a bar stands for, which gives its look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The user's daily period.
    Period,
    /// A window of the user's weekly schedule.
    Schedule,
    /// The user's snooze.
    Snooze,
    /// A level the user set on a conversation or a conversation type.
    Override,
    /// An admin's default on an ultra group or subchannel, or the app's.
    Default,
}

/// One bar: a level in force on a lane over a span of time.
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    /// The lane's name.
    pub lane: String,
    /// What it stands for.
    pub kind: Kind,
    /// From.
    pub start: DateTime<Utc>,
    /// To.
    pub end: DateTime<Utc>,
    /// The level (`None`: "not set", a temporary level that removes one).
    pub level: Option<Level>,
    /// Whether the bar ends because its setting expires there.
    pub expires: bool,
}

/// One message to the user, as decided.
#[derive(Clone, Debug)]
pub struct Mark {
    /// The message's time.
    pub at: DateTime<Utc>,
    /// Whether it pushed.
    pub push: bool,
    /// The layer that decided.
    pub by: Layer,
    /// The level that decided, if a level did.
    pub level: Option<Level>,
    /// When it would push, if it did not and a later instant in the week does.
    pub defer_until: Option<DateTime<Utc>>,
    /// The conversation and the sender, for the tooltip.
    pub what: String,
}

/// Everything the picture shows.
#[derive(Debug)]
pub struct Week {
    /// The user.
    pub user: String,
    /// The zone the times are written in.
    pub zone: Tz,
    /// The picture's start.
    pub from: DateTime<Utc>,
    /// The picture's end.
    pub to: DateTime<Utc>,
    /// The bars, lane by lane in the order the lanes are drawn.
    pub spans: Vec<Span>,
    /// The lanes, in order.
    pub lanes: Vec<(String, Kind)>,
    /// The messages.
    pub marks: Vec<Mark>,
}

/// What the user has set, and the defaults that reach them, at one moment of the replay.
#[derive(Clone, Debug, PartialEq)]
struct State {
    period: Option<dnd_engine::DndPeriod>,
    schedule: Option<WeeklySchedule>,
    snooze: Option<dnd_engine::Snooze>,
    /// (lane, setting) for every conversation, type and default the user meets.
    levels: Vec<(String, Kind, Expiring)>,
}

/// What the replay has seen of the user: the conversations they set levels
/// on or got messages in, the groups whose defaults reach them.
#[derive(Default)]
struct Seen {
    conversations: BTreeSet<(i64, String, Option<String>)>,
    types: BTreeSet<i64>,
    groups: BTreeSet<(String, Option<String>)>,
}

/// Replays the inputs and draws the week; the SVG text, or why not.
pub fn run(args: &TimelineArgs) -> Result<String, String> {
    let week = collect(args)?;
    Ok(svg::render(&week))
}

/// Replays the inputs and gathers what the picture shows.
pub fn collect(args: &TimelineArgs) -> Result<Week, String> {
    let config = args.common.config();
    let data_center = config.time_zone;
    let mut settings = Settings::new(config);
    let user = args.user.as_str();
    let mut lines = Lines::open(&args.common.files, args.common.max_line_bytes).map_err(|e| e.to_string())?;
    let mut seen = Seen::default();
    // The state that decided each of the user's messages, with the message.
    let mut decided: Vec<(State, Mark)> = Vec::new();
    while let Some((number, line)) = lines.next_line().map_err(|e| e.to_string())? {
        let text = match line {
            input::Line::Blank => continue,
            input::Line::TooLong(bytes) => return Err(format!("line {number}: {bytes} bytes, too long")),
            input::Line::Text(bytes) => std::str::from_utf8(bytes).map_err(|e| format!("line {number}: {e}"))?,
        };
        let request = match line::parse(text).map_err(|e| format!("line {number}: {e}"))? {
            Line::Request { path, body } => Request::parse(&path, body.as_bytes()),
            Line::V4 { path, body } => api_v4::parse(&path, body.as_bytes()),
            // A release changes no setting and decides no message of the week.
            Line::Release(_) => continue,
            Line::Push(push) => {
                if !push.recipients.iter().any(|r| r == user) {
                    continue;
                }
                let ids = push.mentioned_ids();
                let message = push.message(&ids).map_err(|e| format!("line {number}: {e}"))?;
                let bus = push.bus_channel.clone();
                seen.conversations
                    .insert((push.conversation_type, push.target_id.clone(), bus.clone()));
                seen.types.insert(push.conversation_type);
                if push.conversation_type == 10 {
                    seen.groups.insert((push.target_id.clone(), None));
                    if bus.is_some() {
                        seen.groups.insert((push.target_id.clone(), bus));
                    }
                }
                let prepared = settings.prepare(&message);
                let (decision, deferral) = prepared.decide_deferred_id(user);
                let mark = Mark {
                    at: message.at.as_datetime(),
                    push: decision.push(),
                    by: decision.by(),
                    level: decision.level(),
                    defer_until: deferral.map(|d| d.until),
                    what: format!(
                        "type {} {} from {}",
                        push.conversation_type, push.target_id, push.from_user_id
                    ),
                };
                decided.push((state(&settings, user, &seen), mark));
                continue;
            }
        };
        // A refused request changes nothing; the picture shows what was accepted.
        if let Ok(request) = request {
            note(&mut seen, user, &request);
            let _ = settings.apply(&request);
        }
    }
    let last = state(&settings, user, &seen);
    let zone = user_zone(&last, decided.iter().map(|(s, _)| s), data_center);
    let from = match &args.from {
        Some(t) => parse_instant(t).map_err(|e| format!("--from: {e}"))?.as_datetime(),
        None => {
            let first = decided
                .iter()
                .map(|(_, m)| m.at)
                .min()
                .ok_or_else(|| format!("no message to {user} in the input: give --from"))?;
            monday_midnight(first, zone)
        }
    };
    let to = match &args.to {
        Some(t) => parse_instant(t).map_err(|e| format!("--to: {e}"))?.as_datetime(),
        None => from + chrono::Duration::milliseconds(WEEK_MS),
    };
    if to <= from {
        return Err("--to must be after --from".into());
    }
    let mut spans = Vec::new();
    let mut start = from;
    let mut states: Vec<(&State, DateTime<Utc>)> = decided.iter().map(|(s, m)| (s, m.at)).collect();
    states.push((&last, to));
    for (state, until) in &states {
        let end = (*until).clamp(start, to);
        draw(state, start, end, data_center, &mut spans);
        start = end;
    }
    let spans = merge(spans);
    let mut lanes: Vec<(String, Kind)> = vec![
        ("quiet time: period".into(), Kind::Period),
        ("quiet time: schedule".into(), Kind::Schedule),
        ("snooze".into(), Kind::Snooze),
    ];
    for (lane, kind, _) in states.iter().flat_map(|(s, _)| &s.levels) {
        if !lanes.iter().any(|(l, _)| l == lane) {
            lanes.push((lane.clone(), *kind));
        }
    }
    let marks = decided
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.at >= from && m.at <= to)
        .collect();
    Ok(Week {
        user: user.to_owned(),
        zone,
        from,
        to,
        spans,
        lanes,
        marks,
    })
}

/// Keeps in `seen` the conversations, types and groups a request of the user's names.
fn note(seen: &mut Seen, user: &str, request: &Request) {
    let key_of = |k: &ConversationKey| {
        (
            k.conversation_type().code(),
            k.target_id().as_str().to_owned(),
            k.bus_channel().map(|b| b.as_str().to_owned()),
        )
    };
    match request {
        Request::SetConversationLevel {
            user_id, conversation, ..
        }
        | Request::SetConversationLevelUntil {
            user_id, conversation, ..
        } if user_id.as_str() == user => {
            seen.conversations.insert(key_of(conversation));
        }
        Request::SetTypeLevel {
            user_id,
            conversation_type,
            ..
        }
        | Request::SetTypeLevelUntil {
            user_id,
            conversation_type,
            ..
        } if user_id.as_str() == user => {
            seen.types.insert(conversation_type.code());
        }
        _ => {}
    }
}

/// The user's settings now, and the defaults of the groups they meet.
fn state(settings: &Settings, user: &str, seen: &Seen) -> State {
    let mut levels = Vec::new();
    for (t, target, bus) in &seen.conversations {
        let key = (|| {
            let bus = bus.as_deref().map(BusChannel::new).transpose().ok()?;
            ConversationKey::new(ConversationType::from_code(*t).ok()?, TargetId::new(target).ok()?, bus).ok()
        })();
        if let Some(key) = key {
            let setting = settings.conversation_setting(user, &key);
            if !setting.is_empty() {
                let lane = match bus {
                    Some(b) => format!("level on {target}/{b}"),
                    None => format!("level on {target}"),
                };
                levels.push((lane, Kind::Override, setting));
            }
        }
    }
    for t in &seen.types {
        if let Ok(ct) = ConversationType::from_code(*t) {
            let setting = settings.type_setting(user, ct);
            if !setting.is_empty() {
                levels.push((format!("level on type {t}"), Kind::Override, setting));
            }
            if let Some(level) = settings.config().app_defaults.get(ct) {
                let app = Expiring {
                    permanent: Some(level),
                    temporary: None,
                };
                levels.push((format!("app default, type {t}"), Kind::Default, app));
            }
        }
    }
    for (group, bus) in &seen.groups {
        let setting = settings.ultra_group_setting(group, bus.as_deref());
        if !setting.is_empty() {
            let lane = match bus {
                Some(b) => format!("admin default {group}/{b}"),
                None => format!("admin default {group}"),
            };
            levels.push((lane, Kind::Default, setting));
        }
    }
    State {
        period: settings.period(user),
        schedule: settings.schedule(user).cloned(),
        snooze: settings.snooze(user),
        levels,
    }
}

/// The zone the user reads their quiet time in: the schedule's, else the
/// period's, else the data center's.
fn user_zone<'s>(last: &'s State, states: impl Iterator<Item = &'s State>, data_center: Tz) -> Tz {
    let all: Vec<&State> = std::iter::once(last).chain(states).collect();
    all.iter()
        .find_map(|s| s.schedule.as_ref().and_then(WeeklySchedule::zone))
        .or_else(|| all.iter().find_map(|s| s.period.and_then(|p| p.zone)))
        .unwrap_or(data_center)
}

/// The Monday 00:00 before `at`, in `zone`.
fn monday_midnight(at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
    let local = at.with_timezone(&zone).date_naive();
    let monday = local - Days::new(u64::from(local.weekday().num_days_from_monday()));
    local_instant(zone, monday, NaiveTime::MIN)
}

/// `date` at `time` in `zone`: the earlier of two readings, or the first
/// instant after a gap.
pub fn local_instant(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut naive = date.and_time(time);
    loop {
        if let Some(t) = zone.from_local_datetime(&naive).earliest() {
            return t.with_timezone(&Utc);
        }
        naive += chrono::Duration::minutes(1);
    }
}

/// The bars of `state` over `[start, end)`.
fn draw(state: &State, start: DateTime<Utc>, end: DateTime<Utc>, data_center: Tz, out: &mut Vec<Span>) {
    if end <= start {
        return;
    }
    let mut clipped = |lane: &str, kind: Kind, a: DateTime<Utc>, b: DateTime<Utc>, level: Option<Level>, expires| {
        // The bar ends at an expiry only if the expiry is inside the span.
        let expires = expires && b <= end;
        let (a, b) = (a.max(start), b.min(end));
        if a < b {
            out.push(Span {
                lane: lane.to_owned(),
                kind,
                start: a,
                end: b,
                level,
                expires,
            });
        }
    };
    // Windows that start on the wall clock of each day around the span.
    let days = |zone: Tz| {
        let first = start.with_timezone(&zone).date_naive() - Days::new(1);
        let last = end.with_timezone(&zone).date_naive();
        first.iter_days().take_while(move |d| *d <= last)
    };
    if let Some(p) = state.period {
        let zone = p.zone.unwrap_or(data_center);
        for day in days(zone) {
            let s = local_instant(zone, day, seconds_time(p.window.start().seconds()));
            let e = s + chrono::Duration::minutes(i64::from(p.window.minutes()));
            clipped("quiet time: period", Kind::Period, s, e, Some(p.level.level()), false);
        }
    }
    if let Some(schedule) = &state.schedule {
        let zone = schedule.zone().unwrap_or(data_center);
        for day in days(zone) {
            let weekday = day.weekday().number_from_monday() as u8;
            for w in schedule.windows() {
                if w.days().any(|d| d == weekday) {
                    let s = local_instant(zone, day, seconds_time(w.start().seconds()));
                    let e = s + chrono::Duration::minutes(i64::from(w.minutes()));
                    clipped(
                        "quiet time: schedule",
                        Kind::Schedule,
                        s,
                        e,
                        Some(w.level().level()),
                        false,
                    );
                }
            }
        }
    }
    if let Some(s) = state.snooze {
        clipped("snooze", Kind::Snooze, start, s.until, Some(s.level.level()), true);
    }
    for (lane, kind, setting) in &state.levels {
        let mut after = start;
        if let Some(t) = setting.temporary {
            clipped(lane, *kind, start, t.until, t.level, true);
            after = t.until.max(start);
        }
        if let Some(level) = setting.permanent {
            clipped(lane, *kind, after, end, Some(level), false);
        }
    }
}

fn seconds_time(seconds: u32) -> NaiveTime {
    NaiveTime::from_num_seconds_from_midnight_opt(seconds, 0).unwrap_or(NaiveTime::MIN)
}

/// Joins bars of one lane and level that meet, so that the spans between
/// messages do not cut a setting that did not change.
fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_by(|a, b| (&a.lane, a.start).cmp(&(&b.lane, b.start)));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(p) if p.lane == s.lane && p.level == s.level && p.end == s.start && !p.expires => {
                p.end = s.end;
                p.expires = s.expires;
            }
            _ => out.push(s),
        }
    }
    out
}
