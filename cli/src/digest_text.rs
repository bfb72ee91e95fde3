//! A release for people: what was re-timed or dropped and why, then each
//! digest; and a note as JSON, for `dnd explain --json`.

use std::io::{self, Write};

use dnd_engine::chrono_tz::Tz;
use dnd_engine::{Note, NoteKind, Release, Timestamp};
use serde_json::{json, Value};

use dnd_engine::Escaped;

/// An instant in epoch ms as local time in `zone`.
fn local(ms: i64, zone: Tz) -> String {
    match Timestamp::from_millis(ms) {
        Ok(t) => format!("{} {}", t.as_datetime().with_timezone(&zone).to_rfc3339(), zone.name()),
        Err(_) => format!("{ms} ms"),
    }
}

/// What changes at an instant, in words.
fn because(b: Option<dnd_engine::Boundary>) -> &'static str {
    match b {
        None => "the message pushes at its lower bound (the previous release), with the settings now",
        Some(dnd_engine::Boundary::Expiry(_)) => "a temporary level expires then",
        Some(dnd_engine::Boundary::SnoozeEnd) => "the snooze ends then",
        Some(dnd_engine::Boundary::WindowEdge) => "the quiet time's wall clock reaches a window's edge then",
        Some(dnd_engine::Boundary::ClockChange) => "the quiet time's zone changes its clocks then",
        Some(_) => "the settings change then",
    }
}

/// One note as JSON.
pub fn note_json(note: &Note) -> Value {
    let mut m = json!({
        "userId": note.user_id, "fromUserId": note.from_user_id,
        "conversationType": note.conversation_type.code(), "targetId": note.target_id,
        "messageAt": note.message_at,
    });
    if let Some(id) = &note.message_id {
        m["messageId"] = json!(id);
    }
    match note.kind {
        NoteKind::Retimed { from, to, because: b } => {
            m["retimed"] = json!({ "from": from, "to": to, "because": because(b) });
        }
        NoteKind::Dropped { bound, by, level } => {
            m["dropped"] = json!({ "bound": bound, "by": by.as_str(), "level": level.map(|l| l.code()) });
        }
        _ => {}
    }
    m
}

/// Writes a release for people.
pub fn write_release(out: &mut impl Write, release: &Release, at: Timestamp, zone: Tz) -> io::Result<()> {
    writeln!(out, "\nrelease at {}", local(at.millis(), zone))?;
    for note in &release.notes {
        let what = format!(
            "{}'s held push from {} in {} conversation {} at {}{}",
            Escaped(&note.user_id),
            Escaped(&note.from_user_id),
            note.conversation_type.name(),
            Escaped(&note.target_id),
            local(note.message_at, zone),
            note.message_id
                .as_deref()
                .map(|id| format!(" (message {})", Escaped(id)))
                .unwrap_or_default()
        );
        match note.kind {
            NoteKind::Retimed { from, to, because: b } => writeln!(
                out,
                "  re-timed: {what} was due at {}, now at {}: the settings changed; {}",
                if from == i64::MIN {
                    "its hold".to_owned()
                } else {
                    local(from, zone)
                },
                local(to, zone),
                because(b)
            )?,
            NoteKind::Dropped { bound, by, level } => writeln!(
                out,
                "  dropped: {what}: from {} it would push at no instant in the next 7 days \
                 (decided then by {}, level {})",
                local(bound, zone),
                by.describe(),
                level.map_or(0, |l| l.code())
            )?,
            _ => {}
        }
    }
    if release.digests.is_empty() {
        writeln!(out, "  no digest is due")?;
    }
    for d in &release.digests {
        writeln!(out, "  digest for {} at {}:", Escaped(&d.user_id), local(d.at, zone))?;
        for c in &d.conversations {
            writeln!(
                out,
                "    {} conversation {}{}: {} message{}, {} mentioning them, from {} to {}, the last from {}{}",
                c.conversation_type.name(),
                Escaped(&c.target_id),
                c.bus_channel
                    .as_deref()
                    .map(|b| format!(", subchannel {}", Escaped(b)))
                    .unwrap_or_default(),
                c.count,
                if c.count == 1 { "" } else { "s" },
                c.mentions,
                local(c.first, zone),
                local(c.last, zone),
                Escaped(&c.last_from_user_id),
                c.last_message_id
                    .as_deref()
                    .map(|id| format!(" (message {})", Escaped(id)))
                    .unwrap_or_default()
            )?;
        }
        if d.folded > 0 {
            writeln!(out, "    and {} more, folded into this count", d.folded)?;
        }
    }
    Ok(())
}
