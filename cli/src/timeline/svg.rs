//! The week drawn as SVG: a time axis in the user's zone (a column a day,
//! a faint line every six hours), a lane per kind of setting, the messages'
//! lane with their marks and defer arrows, and a legend.
//!
//! The geometry is fixed so that a test can read it back: the plot area is
//! the rectangle `id="axis"`, a time `t` is at `x = axis.x + (t - from) /
//! (to - from) * axis.width`; each mark is a circle `id="mark-N-push"` or
//! `id="mark-N-held"` (N counts the marks in time order of the input) centred
//! on its message's time, and a deferral is the line `id="defer-N"` from the
//! mark to its `deferUntil` (cut at the picture's end).

use std::fmt::Write;

use chrono::{DateTime, NaiveTime, Utc};
use dnd_engine::{Escaped, Level};

use super::{local_instant, Kind, Week};

/// Where the plot starts, and how wide it is.
pub const PLOT_X: f64 = 200.0;
/// The plot's width.
pub const PLOT_WIDTH: f64 = 1050.0;
const TOP: f64 = 64.0;
const LANE: f64 = 26.0;
const GAP: f64 = 6.0;

/// The colour of a level, from pushing everything to nothing.
fn colour(level: Option<Level>) -> &'static str {
    match level {
        Some(Level::All) => "#66bb6a",
        Some(Level::Mentions) => "#b3e5fc",
        Some(Level::MentionsOfMe) => "#4fc3f7",
        Some(Level::MentionsOfAll) => "#0288d1",
        Some(Level::Nothing) => "#37474f",
        None => "#e0e0e0",
        Some(_) => "#9e9e9e",
    }
}

/// Text for SVG: control characters escaped as for people, then XML's five.
fn text(s: &str) -> String {
    let escaped = Escaped(s).cut(Escaped::LONG_CHARS).to_string();
    let mut out = String::with_capacity(escaped.len());
    for c in escaped.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn level_code(level: Option<Level>) -> String {
    Level::code_of(level).to_string()
}

/// The SVG of `week`.
pub fn render(week: &Week) -> String {
    let span_ms = (week.to - week.from).num_milliseconds() as f64;
    let x = |t: DateTime<Utc>| PLOT_X + (t - week.from).num_milliseconds() as f64 / span_ms * PLOT_WIDTH;
    let lane_y = |i: usize| TOP + i as f64 * (LANE + GAP);
    let messages_y = lane_y(week.lanes.len());
    let legend_y = messages_y + LANE + 40.0;
    let height = legend_y + 90.0;
    let width = PLOT_X + PLOT_WIDTH + 30.0;
    let local = |t: DateTime<Utc>| t.with_timezone(&week.zone);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"##
    );
    s.push_str(
        r##"<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#6a1b9a"/></marker></defs>
<rect width="100%" height="100%" fill="#ffffff"/>
"##,
    );
    let _ = writeln!(
        s,
        r##"<text x="{PLOT_X}" y="22" font-size="16" font-weight="bold">{} — {} to {} ({})</text>"##,
        text(&week.user),
        local(week.from).format("%a %Y-%m-%d %H:%M"),
        local(week.to).format("%a %Y-%m-%d %H:%M"),
        text(week.zone.name())
    );
    // The plot area, then the days and the six-hour lines.
    let bottom = messages_y + LANE;
    let _ = writeln!(
        s,
        r##"<rect id="axis" x="{PLOT_X}" y="{TOP}" width="{PLOT_WIDTH}" height="{}" fill="#fafafa" stroke="#bdbdbd"/>"##,
        bottom - TOP
    );
    let first = local(week.from).date_naive();
    let last = local(week.to).date_naive();
    for day in first.iter_days().take_while(|d| *d <= last) {
        for hour in [0u32, 6, 12, 18] {
            let t = local_instant(
                week.zone,
                day,
                NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN),
            );
            if t < week.from || t > week.to {
                continue;
            }
            let xt = x(t);
            if hour == 0 {
                let _ = writeln!(
                    s,
                    r##"<line x1="{xt:.2}" y1="{}" x2="{xt:.2}" y2="{bottom}" stroke="#9e9e9e"/>"##,
                    TOP - 18.0
                );
            } else {
                let _ = writeln!(
                    s,
                    r##"<line x1="{xt:.2}" y1="{TOP}" x2="{xt:.2}" y2="{bottom}" stroke="#eeeeee"/>"##
                );
            }
            if hour == 12 || (hour == 0 && day == first && t == week.from) {
                let label = if hour == 12 {
                    day.format("%a %d %b").to_string()
                } else {
                    String::new()
                };
                let _ = writeln!(
                    s,
                    r##"<text x="{xt:.2}" y="{}" text-anchor="middle" fill="#424242">{label}</text>"##,
                    TOP - 6.0
                );
            }
        }
    }
    // The lanes and their bars.
    for (i, (lane, kind)) in week.lanes.iter().enumerate() {
        let y = lane_y(i);
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end">{}</text>"##,
            PLOT_X - 8.0,
            y + LANE / 2.0 + 4.0,
            text(lane)
        );
        for span in week.spans.iter().filter(|sp| &sp.lane == lane) {
            let (x1, x2) = (x(span.start), x(span.end));
            let dash = match kind {
                Kind::Snooze => r##" stroke="#6a1b9a" stroke-dasharray="4 2""##,
                Kind::Default => r##" stroke="#795548" stroke-dasharray="1 2""##,
                _ => "",
            };
            let _ = writeln!(
                s,
                r##"<rect x="{x1:.2}" y="{:.2}" width="{:.2}" height="{}" fill="{}"{dash}><title>{}: level {} from {} to {}</title></rect>"##,
                y + 3.0,
                (x2 - x1).max(0.5),
                LANE - 6.0,
                colour(span.level),
                text(lane),
                level_code(span.level),
                local(span.start).format("%a %H:%M"),
                local(span.end).format("%a %H:%M"),
            );
            if x2 - x1 > 16.0 {
                let fill = if matches!(span.level, Some(Level::Nothing | Level::MentionsOfAll)) {
                    "#ffffff"
                } else {
                    "#212121"
                };
                let _ = writeln!(
                    s,
                    r##"<text x="{:.2}" y="{}" fill="{fill}" font-size="10">{}</text>"##,
                    x1 + 3.0,
                    y + LANE / 2.0 + 4.0,
                    level_code(span.level)
                );
            }
            if span.expires {
                let _ = writeln!(
                    s,
                    r##"<line class="expiry" x1="{x2:.2}" y1="{}" x2="{x2:.2}" y2="{}" stroke="#d32f2f" stroke-width="2"><title>expires {}</title></line>"##,
                    y,
                    y + LANE,
                    local(span.end).format("%a %Y-%m-%d %H:%M")
                );
            }
        }
    }
    // The messages.
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" text-anchor="end" font-weight="bold">messages</text>"##,
        PLOT_X - 8.0,
        messages_y + LANE / 2.0 + 4.0
    );
    let cy = messages_y + LANE / 2.0;
    for (n, mark) in week.marks.iter().enumerate() {
        let cx = x(mark.at);
        if let Some(until) = mark.defer_until {
            let end = x(until.min(week.to));
            let _ = writeln!(
                s,
                r##"<path id="defer-{n}" d="M{cx:.2},{cy} L{end:.2},{cy}" stroke="#6a1b9a" stroke-width="1.5" fill="none" marker-end="url(#arrowhead)"><title>deferUntil {}</title></path>"##,
                local(until).format("%a %Y-%m-%d %H:%M:%S")
            );
        }
        let (id, style) = if mark.push {
            ("push", r##"fill="#2e7d32""##)
        } else {
            ("held", r##"fill="#ffffff" stroke="#c62828" stroke-width="2""##)
        };
        let level = mark.level.map(|l| format!(", level {}", l.code())).unwrap_or_default();
        let _ = writeln!(
            s,
            r##"<circle id="mark-{n}-{id}" cx="{cx:.2}" cy="{cy}" r="6" {style}><title>{} {}: {} by {}{level}</title></circle>"##,
            local(mark.at).format("%a %H:%M"),
            text(&mark.what),
            if mark.push { "pushed" } else { "not pushed" },
            mark.by.describe(),
        );
    }
    legend(&mut s, legend_y);
    s.push_str("</svg>\n");
    s
}

/// The legend: the levels' colours, the kinds of bar, the marks.
fn legend(s: &mut String, y: f64) {
    let _ = writeln!(s, r##"<text x="20" y="{y}" font-weight="bold">legend</text>"##);
    let levels = [
        (Some(Level::All), "-1 every message"),
        (Some(Level::Mentions), "1 mentions"),
        (Some(Level::MentionsOfMe), "2 mentions of me"),
        (Some(Level::MentionsOfAll), "4 @all only"),
        (Some(Level::Nothing), "5 nothing"),
        (None, "0 not set (temporary)"),
    ];
    for (i, (level, label)) in levels.iter().enumerate() {
        let x = 20.0 + i as f64 * 170.0;
        let _ = writeln!(
            s,
            r##"<rect x="{x}" y="{}" width="16" height="12" fill="{}" stroke="#9e9e9e"/><text x="{}" y="{}">level {label}</text>"##,
            y + 10.0,
            colour(*level),
            x + 22.0,
            y + 20.0
        );
    }
    let row = y + 44.0;
    let _ = writeln!(
        s,
        r##"<circle cx="26" cy="{}" r="6" fill="#2e7d32"/><text x="38" y="{}">pushed</text>
<circle cx="126" cy="{}" r="6" fill="#ffffff" stroke="#c62828" stroke-width="2"/><text x="138" y="{}">not pushed</text>
<path d="M236,{} L286,{}" stroke="#6a1b9a" stroke-width="1.5" marker-end="url(#arrowhead)"/><text x="292" y="{}">to deferUntil</text>
<line x1="406" y1="{}" x2="406" y2="{}" stroke="#d32f2f" stroke-width="2"/><text x="414" y="{}">setting expires</text>
<rect x="536" y="{}" width="30" height="12" fill="#0288d1" stroke="#6a1b9a" stroke-dasharray="4 2"/><text x="572" y="{}">snooze</text>
<rect x="636" y="{}" width="30" height="12" fill="#66bb6a" stroke="#795548" stroke-dasharray="1 2"/><text x="672" y="{}">admin or app default</text>
<text x="836" y="{}" fill="#616161">settings drawn from the message before them to the next</text>"##,
        row - 4.0,
        row,
        row - 4.0,
        row,
        row - 4.0,
        row - 4.0,
        row,
        row - 12.0,
        row + 4.0,
        row,
        row - 10.0,
        row,
        row - 10.0,
        row,
        row
    );
}
