//! `dnd`: replay the platform's DND requests and messages through the engine,
//! and explain its decisions. A thin layer over the library; `dnd --help`
//! documents the protocol.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use dnd_engine::push::Push;
use dnd_engine::{
    parse_zone, Config, ConversationType, Decision, Deferral, Escaped, Level, Mentions, Recipient, Settings,
};
use serde::Serialize;
use serde_json::{json, Value};

const USAGE: &str = "\
usage: dnd replay  [--time-zone ZONE] [--app-default TYPE=LEVEL]... < LINES.jsonl
       dnd explain [--json] [--time-zone ZONE] [--app-default TYPE=LEVEL]... < LINES.jsonl
       dnd --help";

const HELP: &str = r#"dnd: replay DND settings requests and messages, and explain push decisions.

Commands
  replay    one JSON line out for each JSON line in, in order, flushed after each
  explain   the same input; for each message, each recipient's walk down the layers in words
            (with --json: one JSON object per recipient, the walk as structured data)

Options
  --time-zone ZONE          the data center's IANA time zone (default UTC)
  --app-default TYPE=LEVEL  the application's default level for a conversation type,
                            for example 3=1; may repeat
  -h, --help                this text

Input lines (JSON Lines on standard input)
  {"request": PATH, "body": FORM}
      A settings request: PATH is one of the platform's nine paths or an
      extension path below, FORM its application/x-www-form-urlencoded body.
      replay answers the platform's response object, e.g. {"code":200}.

Extension requests (times: ms since the Unix epoch or RFC 3339 with an offset,
whose '+' must be sent as %2B in a form body)
  the three set paths (/conversation/notification/set.json,
  /conversation/type/notification/set.json, /ultragroup/notdisturb/set.json)
      take an optional until=TIME: the level (0 included) applies to messages
      before TIME, the permanent level from TIME on. Their gets then add
      "until" and "thenIsMuted" (or "thenUnpushLevel").
  /user/snooze/set.json         userId, until, optional level (1, 2, 4, 5; default 5):
                                the quiet-time layer decides with level before until
  /user/snooze/get.json         userId -> {"code":200,"data":{"until":MS,"level":L}}
  /user/snooze/delete.json      userId
  /user/blockPushSchedule/set.json
      userId, windows, optional timezone. windows is a JSON array of 1 to 32
      {"days":[1..7],"startTime":"HH:MM:SS","period":1-1440,"level":1|2|4|5}
      (ISO weekdays; a window belongs to the day it starts; no overlaps). A
      schedule replaces the period and a period replaces the schedule.
  /user/blockPushSchedule/get.json     userId -> {"code":200,"data":{"windows":[...]}}
  /user/blockPushSchedule/delete.json  userId
  {"push": {"at": AT, "conversationType": N, "targetId": ID, "busChannel": ID,
            "fromUserId": ID, "mentionedInfo": {"type": 1 or 2, "userIdList": [IDS]},
            "disablePush": BOOL, "recipients": [IDS]}}
      A message. AT is milliseconds since the Unix epoch or RFC 3339 with an
      offset. busChannel (type 10 only), mentionedInfo (type 1 @all, 2 a list)
      and disablePush are optional. For private (1) and system (6) messages the
      recipient's conversation is the one with the sender, so targetId is not
      used there.
      replay answers {"decisions": [{"userId": ID, "push": BOOL, "by": LAYER,
      "level": N or null}, ...]}, one per recipient in order. LAYER is sender,
      disable_push, user_snooze, user_period, user_subchannel, user_conversation,
      user_conversation_type, subchannel_default, channel_default, app_default
      or none; level is the level applied (-1 when nothing was set, null for
      sender and disable_push). A decision not to push adds "deferUntil": MS
      when the same message would push to that recipient within the 7 days
      (604800000 ms) after its time: the earliest such instant.
  Anything else answers {"error": "..."} and the replay goes on.

Exit status
  0 every line was understood, 1 some line answered an error, 2 bad arguments."#;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Replay,
    Explain,
    ExplainJson,
}

/// The command line, parsed: a mode and the engine's configuration.
fn parse_args(args: &[String]) -> Result<Option<(Mode, Config)>, String> {
    let mut args = args.iter();
    let mut mode = match args.next().map(String::as_str) {
        Some("replay") => Mode::Replay,
        Some("explain") => Mode::Explain,
        Some("-h" | "--help" | "help") => return Ok(None),
        Some(other) => return Err(format!("unknown command {other:?}")),
        None => return Err("a command is required".into()),
    };
    let mut config = Config::new(chrono_tz::UTC);
    let mut app_defaults = Vec::new();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "--time-zone" => config.time_zone = parse_zone(&value()?).map_err(|e| format!("--time-zone: {e}"))?,
            "--app-default" => app_defaults.push(value()?),
            "--json" if mode == Mode::Explain && inline.is_none() => mode = Mode::ExplainJson,
            "--json" if mode == Mode::ExplainJson => return Err("--json is given twice".into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    for spec in app_defaults {
        let bad = |why: String| format!("--app-default {spec:?}: {why}; expected TYPE=LEVEL, for example 3=1");
        let (t, l) = spec.split_once('=').ok_or_else(|| bad("no '='".into()))?;
        let t = t.parse::<i64>().map_err(|_| bad(format!("{t:?} is not a number")))?;
        let l = l.parse::<i64>().map_err(|_| bad(format!("{l:?} is not a number")))?;
        let t = ConversationType::from_code(t).map_err(|e| bad(e.to_string()))?;
        let l = Level::from_code(l).map_err(|e| bad(e.to_string()))?;
        config.app_defaults.set(t, l);
    }
    Ok(Some((mode, config)))
}

/// One input line, understood.
enum Line {
    Request { path: String, body: String },
    Push(Push),
}

fn parse_line(text: &str) -> Result<Line, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(mut object) = value else {
        return Err("a line must be a JSON object with \"request\" and \"body\", or \"push\"".into());
    };
    if let Some(push) = object.remove("push") {
        if let Some(key) = object.keys().next() {
            return Err(format!("unknown key {key:?} beside \"push\""));
        }
        return serde_json::from_value(push)
            .map(Line::Push)
            .map_err(|e| format!("push: {e}"));
    }
    match (object.remove("request"), object.remove("body")) {
        (Some(Value::String(path)), Some(Value::String(body))) => match object.keys().next() {
            Some(key) => Err(format!("unknown key {key:?} beside \"request\"")),
            None => Ok(Line::Request { path, body }),
        },
        (Some(_), Some(_)) => Err("\"request\" and \"body\" must be strings".into()),
        (Some(_), None) => Err("a request line needs a \"body\" (the form, possibly empty)".into()),
        (None, _) => match object.keys().next() {
            Some(key) => Err(format!(
                "unknown key {key:?}: a line has \"request\" and \"body\", or \"push\""
            )),
            None => Err("an empty object: a line has \"request\" and \"body\", or \"push\"".into()),
        },
    }
}

/// One recipient's entry in a `decisions` line, its keys in the protocol's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DecisionLine<'a> {
    user_id: &'a str,
    push: bool,
    by: &'static str,
    level: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    defer_until: Option<i64>,
}

impl<'a> DecisionLine<'a> {
    fn new(user_id: &'a str, (d, defer): (Decision, Option<Deferral>)) -> Self {
        DecisionLine {
            user_id,
            push: d.push(),
            by: d.by().as_str(),
            level: d.level().map(Level::code),
            defer_until: defer.map(|d| d.until.timestamp_millis()),
        }
    }
}

/// Handles one line: the output line (or lines, when explaining), or an error.
fn handle(settings: &mut Settings, mode: Mode, text: &str) -> Result<String, String> {
    match parse_line(text)? {
        Line::Request { path, body } => {
            let response = settings.handle(&path, body.as_bytes()).to_json();
            Ok(match mode {
                Mode::Replay | Mode::ExplainJson => response,
                Mode::Explain => format!("request {path} {body}\n  -> {response}\n"),
            })
        }
        Line::Push(push) => {
            let ids = push.mentioned_ids();
            let message = push.message(&ids).map_err(|e| e.to_string())?;
            let prepared = settings.prepare(&message);
            Ok(match mode {
                Mode::Replay => {
                    let decisions: Vec<DecisionLine<'_>> = push
                        .recipients
                        .iter()
                        .map(|r| DecisionLine::new(r, prepared.decide_deferred(Recipient::Id(r))))
                        .collect();
                    #[derive(Serialize)]
                    struct Decisions<'a> {
                        decisions: Vec<DecisionLine<'a>>,
                    }
                    serde_json::to_string(&Decisions { decisions }).map_err(|e| e.to_string())?
                }
                Mode::ExplainJson => {
                    let mut text = String::new();
                    for r in &push.recipients {
                        text.push_str(
                            &serde_json::to_string(&prepared.explain(Recipient::Id(r))).map_err(|e| e.to_string())?,
                        );
                        text.push('\n');
                    }
                    text
                }
                Mode::Explain => {
                    let mut text = format!(
                        "\nmessage at {} from {} in {} conversation {}{}{}\n",
                        message.at.with_timezone(&settings.config().time_zone).to_rfc3339(),
                        Escaped(&push.from_user_id),
                        message.conversation.conversation_type().name(),
                        Escaped(&push.target_id),
                        push.bus_channel
                            .as_deref()
                            .map(|b| format!(", subchannel {b}"))
                            .unwrap_or_default(),
                        match message.mentions {
                            Mentions::None => String::new(),
                            Mentions::All => ", mentioning @all".into(),
                            Mentions::Users(ids) => format!(
                                ", mentioning {}",
                                ids.iter()
                                    .map(|id| Escaped(id).to_string())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        },
                    );
                    for r in &push.recipients {
                        text.push_str(&prepared.explain(Recipient::Id(r)).to_string());
                    }
                    text
                }
            })
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, config) = match parse_args(&args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("dnd: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut settings = Settings::new(config);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = false;
    let mut input = io::stdin().lock();
    let mut bytes = Vec::new();
    for n in 1.. {
        bytes.clear();
        match input.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("dnd: reading standard input: {e}");
                return ExitCode::from(1);
            }
        }
        let text = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let answer = match std::str::from_utf8(text) {
            Ok(text) => handle(&mut settings, mode, text),
            Err(e) => Err(format!("not UTF-8: {e}")),
        };
        let written = match answer {
            Ok(text) => writeln!(out, "{}", text.trim_end()),
            Err(e) => {
                failed = true;
                let e = format!("line {n}: {e}");
                match mode {
                    Mode::Replay | Mode::ExplainJson => writeln!(out, "{}", json!({ "error": e })),
                    Mode::Explain => writeln!(out, "error: {e}"),
                }
            }
        };
        if written.and_then(|()| out.flush()).is_err() {
            // The reader went away (a closed pipe): nothing more can be said.
            return ExitCode::from(1);
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
