//! Answering each line: a request's response, a message's decisions or
//! explanations, or an error, written straight to the output as they are
//! made, never collected first.

use std::io::{self, Write};

use dnd_engine::push::{AnswerForm, Compact, DecisionLine, Push};
use dnd_engine::{api_v4, Held, Holding, Mentions, Message, Response, Settings, Timestamp};

use crate::input;
use crate::line::{self, Line};
use dnd_engine::Escaped;

/// What the answers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One JSON line for each line.
    Replay,
    /// Words for people.
    Explain,
    /// The walk as JSON, one object per recipient.
    ExplainJson,
    /// One line per decision, one per request.
    Summary,
}

/// The settings as the lines so far have left them, and where answers go.
pub struct Session<W: Write> {
    settings: Settings,
    /// The pushes held so far, for `release` lines.
    held: Held,
    mode: Mode,
    max_line_bytes: u64,
    out: W,
}

impl<W: Write> Session<W> {
    /// A session that answers in `mode` to `out`.
    pub fn new(settings: Settings, mode: Mode, max_line_bytes: u64, out: W) -> Self {
        Session {
            settings,
            held: Held::new(),
            mode,
            max_line_bytes,
            out,
        }
    }

    /// Answers line `number` and flushes. `Ok(false)` when the line answered
    /// an error; `Err` when writing failed.
    pub fn answer(&mut self, number: u64, line: input::Line<'_>) -> io::Result<bool> {
        let understood = match line {
            input::Line::Blank => return Ok(true),
            input::Line::TooLong(bytes) => Err(format!(
                "{bytes} bytes, more than the most a line may have, {} (--max-line-bytes)",
                self.max_line_bytes
            )),
            input::Line::Text(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => line::parse(text),
                Err(e) => Err(format!("not UTF-8: {e}")),
            },
        };
        let answered = match understood {
            Ok(Line::Request { path, body }) => {
                self.request(&path, &body)?;
                true
            }
            Ok(Line::V4 { path, body }) => {
                self.v4_request(&path, &body)?;
                true
            }
            Ok(Line::Release(at)) => {
                self.release(at)?;
                true
            }
            Ok(Line::Push(push)) => {
                let ids = push.mentioned_ids();
                match push.message(&ids) {
                    Ok(message) => {
                        self.push(&push, &message)?;
                        true
                    }
                    Err(e) => {
                        self.error(number, &e.to_string())?;
                        false
                    }
                }
            }
            Err(e) => {
                self.error(number, &e)?;
                false
            }
        };
        self.out.flush()?;
        Ok(answered)
    }

    /// Flushes the output (every answer is flushed already; this is for the end).
    pub fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// A request of the platform's form API.
    fn request(&mut self, path: &str, body: &str) -> io::Result<()> {
        let response = self.settings.handle(path, body.as_bytes()).to_json();
        self.respond(path, body, &response)
    }

    /// A v4 request: the same settings, the v4 answer.
    fn v4_request(&mut self, path: &str, body: &str) -> io::Result<()> {
        let response = match api_v4::parse(path, body.as_bytes()) {
            Ok(request) => self.settings.apply(&request),
            Err(e) => Response::from_error(&e),
        };
        self.respond(path, body, &api_v4::to_json(&response))
    }

    /// Writes a request's `response` (JSON) of either generation: alone, or
    /// for people after the request it answers.
    fn respond(&mut self, path: &str, body: &str, response: &str) -> io::Result<()> {
        match self.mode {
            Mode::Replay | Mode::ExplainJson => writeln!(self.out, "{response}"),
            Mode::Explain => writeln!(
                self.out,
                "request {} {}\n  -> {response}",
                Escaped(path).cut(Escaped::LONG_CHARS),
                Escaped(body).cut(Escaped::LONG_CHARS)
            ),
            Mode::Summary => writeln!(
                self.out,
                "request {} -> {response}",
                Escaped(path).cut(Escaped::LONG_CHARS)
            ),
        }
    }

    fn push(&mut self, push: &Push, message: &Message<'_>) -> io::Result<()> {
        // A sender with a push held for a recipient may be a repeated sender.
        let repeaters = self.held.repeaters(&self.settings, message);
        let prepared = repeaters.prepare(&self.settings, message);
        // A push without recipients goes to every member the settings keep.
        let members: Vec<String>;
        let ids: &[String] = if push.members {
            members = prepared
                .member_ids()
                .into_iter()
                .map(|id| id.as_str().to_owned())
                .collect();
            &members
        } else {
            &push.recipients
        };
        // One byte a recipient, only for a message that asks to hold; a
        // message id that is not 1 to 64 bytes was refused with the push.
        let holdings = match message.hold {
            true => self
                .held
                .hold(&prepared, ids.iter().map(|r| (r.as_str(), prepared.decide_id(r))))
                .unwrap_or_default(),
            false => Vec::new(),
        };
        let holding = |i: usize| holdings.get(i).copied().unwrap_or(Holding::NotHeld);
        let out = &mut self.out;
        match self.mode {
            Mode::Replay if push.answer != AnswerForm::Lines => {
                let mut compact = Compact::new(push.answer);
                for r in ids {
                    compact.add(r, prepared.decide_id(r).push());
                }
                let mut line = Vec::new();
                compact.write_to(&mut line);
                out.write_all(&line)?;
                out.write_all(b"\n")
            }
            Mode::Replay => {
                out.write_all(b"{\"decisions\":[")?;
                for (i, r) in ids.iter().enumerate() {
                    if i > 0 {
                        out.write_all(b",")?;
                    }
                    DecisionLine::decide(&prepared, r)
                        .with_held(holding(i).is_held())
                        .write_to(&mut *out)?;
                }
                out.write_all(b"]}\n")
            }
            Mode::ExplainJson => {
                for (i, r) in ids.iter().enumerate() {
                    let held = holding(i);
                    let mut value = serde_json::to_value(prepared.explain_id(r))?;
                    if let (true, Some(m)) = (held.is_held(), value.as_object_mut()) {
                        m.insert("held".into(), serde_json::Value::Bool(true));
                        if held == Holding::Folded {
                            m.insert("folded".into(), serde_json::Value::Bool(true));
                        }
                    }
                    serde_json::to_writer(&mut *out, &value)?;
                    out.write_all(b"\n")?;
                }
                Ok(())
            }
            Mode::Explain => {
                header(out, &self.settings, message)?;
                for (i, r) in ids.iter().enumerate() {
                    write!(out, "{}", prepared.explain_id(r))?;
                    match holding(i) {
                        Holding::Held => writeln!(
                            out,
                            "  held: the message asks to hold, and the push is deferred: it waits for the digest \
                             of when it is due (re-timed at each release by the settings then)"
                        )?,
                        Holding::Folded => writeln!(
                            out,
                            "  held as a count: the recipient has the most items kept in detail ({}); \
                             their next digest says how many were folded",
                            self.held.detail_limit()
                        )?,
                        _ if message.hold && !prepared.decide_id(r).push() => writeln!(
                            out,
                            "  not held: the message asks to hold, but there is no deferred push"
                        )?,
                        _ => {}
                    }
                }
                Ok(())
            }
            Mode::Summary => {
                let zone = self.settings.config().time_zone;
                let at = rfc9557(message.at.as_datetime(), zone);
                for r in ids {
                    let (d, deferral) = prepared.decide_deferred_id(r);
                    write!(
                        out,
                        "{at} {} -> {}: {} by {}",
                        Escaped(message.sender),
                        Escaped(r),
                        if d.push() { "push" } else { "no push" },
                        d.by().as_str()
                    )?;
                    if let Some(level) = d.level() {
                        write!(out, ", level {}", level.code())?;
                    }
                    if let Some(deferral) = deferral {
                        write!(out, ", deferred until {}", rfc9557(deferral.until, zone))?;
                    }
                    writeln!(out)?;
                }
                Ok(())
            }
        }
    }

    /// A release line: every digest due at or before `at` not yet released.
    fn release(&mut self, at: Timestamp) -> io::Result<()> {
        let release = self.held.release(&self.settings, at);
        let out = &mut self.out;
        match self.mode {
            // Written as serialized, so that each digest's keys keep the protocol's order.
            Mode::Replay => {
                out.write_all(b"{\"digests\":")?;
                serde_json::to_writer(&mut *out, &release.digests)?;
                out.write_all(b"}\n")
            }
            Mode::ExplainJson => {
                let notes: Vec<_> = release.notes.iter().map(crate::digest_text::note_json).collect();
                out.write_all(b"{\"digests\":")?;
                serde_json::to_writer(&mut *out, &release.digests)?;
                out.write_all(b",\"notes\":")?;
                serde_json::to_writer(&mut *out, &notes)?;
                out.write_all(b"}\n")
            }
            Mode::Explain | Mode::Summary => {
                let zone = self.settings.config().time_zone;
                crate::digest_text::write_release(out, &release, at, zone)
            }
        }
    }

    fn error(&mut self, number: u64, why: &str) -> io::Result<()> {
        let why = format!("line {number}: {why}");
        match self.mode {
            Mode::Replay | Mode::ExplainJson => {
                serde_json::to_writer(&mut self.out, &serde_json::json!({ "error": why }))?;
                self.out.write_all(b"\n")
            }
            Mode::Explain | Mode::Summary => writeln!(self.out, "error: {}", Escaped(&why)),
        }
    }
}

/// The line above a message's explanations: when, from whom, where, whom it mentions.
fn header(out: &mut impl Write, settings: &Settings, message: &Message<'_>) -> io::Result<()> {
    let conversation = message.conversation;
    write!(
        out,
        "\nmessage at {} from {} in {} conversation",
        message
            .at
            .as_datetime()
            .with_timezone(&settings.config().time_zone)
            .to_rfc3339(),
        Escaped(message.sender),
        conversation.conversation_type().name(),
    )?;
    match conversation {
        dnd_engine::Conversation::Group { group_id } => write!(out, " {}", Escaped(group_id))?,
        dnd_engine::Conversation::UltraGroup { group_id, bus_channel } => {
            write!(out, " {}", Escaped(group_id))?;
            if let Some(b) = bus_channel {
                write!(out, ", subchannel {}", Escaped(b))?;
            }
        }
        _ => write!(out, " with the sender")?,
    }
    match message.mentions {
        Mentions::None => {}
        Mentions::All => write!(out, ", mentioning @all")?,
        Mentions::Users(ids) => {
            write!(out, ", mentioning ")?;
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    write!(out, ", ")?;
                }
                write!(out, "{}", Escaped(id))?;
            }
        }
        // A kind of mention a later engine adds.
        other => write!(out, ", mentioning {}", Escaped(&format!("{other:?}")))?,
    }
    if let Some(n) = message.member_count {
        write!(out, ", {n} members")?;
    }
    if !message.mention_all_allowed {
        write!(out, ", from a sender who may not mention everyone")?;
    }
    if message.urgent {
        write!(out, ", urgent")?;
    }
    writeln!(out)
}

/// An instant as RFC 9557 writes it: the local time in `zone` with its
/// offset, then the zone's name, `2026-11-23T20:30:00+08:00[Asia/Shanghai]`.
fn rfc9557(at: chrono::DateTime<chrono::Utc>, zone: chrono_tz::Tz) -> String {
    format!(
        "{}[{}]",
        at.with_timezone(&zone)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
        zone.name()
    )
}
