//! `dnd`: replay the platform's DND requests and messages through the engine,
//! and explain its decisions. A thin layer over the library; `dnd --help`
//! documents the protocol.

use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use dnd_engine::push::Push;
use dnd_engine::{
    api_v4, parse_zone, Config, ConversationType, Decision, Level, Mentions, Recipient, Response, Settings,
};
use serde::Serialize;
use serde_json::{json, Value};

const USAGE: &str = "\
usage: dnd replay  [--time-zone ZONE] [--app-default TYPE=LEVEL]... < LINES.jsonl
       dnd explain [--time-zone ZONE] [--app-default TYPE=LEVEL]... < LINES.jsonl
       dnd serve   --listen ADDR --data DIR [--config FILE]
       dnd --help";

const HELP: &str = r#"dnd: replay DND settings requests and messages, and explain push decisions.

Commands
  replay    one JSON line out for each JSON line in, in order, flushed after each
  explain   the same input; for each message, each recipient's walk down the layers in words
  serve     the settings service: the platform's signed HTTP API (form and v4 JSON
            generations) and POST /push/decide.json, durable in DIR (a snapshot and
            a synced log); see docs/service.md

Options of serve
  --listen ADDR             the address to listen on, e.g. 127.0.0.1:8080
  --data DIR                the store's directory (created if needed)
  --config FILE             a TOML file: [[apps]] key/secret, limits, time_zone
  App keys and secrets come from the config file or from DND_APP_KEY and
  DND_APP_SECRET, never from the command line. Stops on SIGTERM or SIGINT.

Options of replay and explain
  --time-zone ZONE          the data center's IANA time zone (default UTC)
  --app-default TYPE=LEVEL  the application's default level for a conversation type,
                            for example 3=1; may repeat
  -h, --help                this text

Input lines (JSON Lines on standard input)
  {"request": PATH, "body": FORM}
      A settings request: PATH is one of the platform's nine paths, FORM its
      application/x-www-form-urlencoded body.
      replay answers the platform's response object, e.g. {"code":200}.
  {"request": "/v4/...", "body": OBJECT}
      A request of the platform's v4 JSON API (/v4/channel/push/set and /get,
      /v4/channel-type/push/set and /get), OBJECT its JSON body, e.g.
      {"channelType": "3", "requestId": "u1", "noDisturbLevel": 5}.
      replay answers the v4 response object, e.g. {"code":0}.
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
      disable_push, user_period, user_subchannel, user_conversation,
      user_conversation_type, subchannel_default, channel_default, app_default
      or none; level is the level applied (-1 when nothing was set, null for
      sender and disable_push).
  Anything else answers {"error": "..."} and the replay goes on.

Exit status
  0 every line was understood, 1 some line answered an error, 2 bad arguments."#;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Replay,
    Explain,
}

/// The command line, parsed: a mode and the engine's configuration.
fn parse_args(args: &[String]) -> Result<Option<(Mode, Config)>, String> {
    let mut args = args.iter();
    let mode = match args.next().map(String::as_str) {
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
    V4 { path: String, body: String },
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
        (Some(Value::String(path)), Some(body @ Value::Object(_))) => match object.keys().next() {
            Some(key) => Err(format!("unknown key {key:?} beside \"request\"")),
            None if api_v4::is_v4(&path) => Ok(Line::V4 {
                path,
                body: body.to_string(),
            }),
            None => Err(format!(
                "{path}: a JSON object body is for /v4/ paths; a form body is a string"
            )),
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
}

impl<'a> DecisionLine<'a> {
    fn new(user_id: &'a str, d: Decision) -> Self {
        DecisionLine {
            user_id,
            push: d.push(),
            by: d.by().as_str(),
            level: d.level().map(Level::code),
        }
    }
}

/// Handles one line: the output line (or lines, when explaining), or an error.
fn handle(settings: &mut Settings, mode: Mode, text: &str) -> Result<String, String> {
    match parse_line(text)? {
        Line::Request { path, body } => {
            let response = settings.handle(&path, body.as_bytes()).to_json();
            Ok(match mode {
                Mode::Replay => response,
                Mode::Explain => format!("request {path} {body}\n  -> {response}\n"),
            })
        }
        Line::V4 { path, body } => {
            let response = match api_v4::parse(&path, body.as_bytes()) {
                Ok(request) => settings.apply(&request),
                Err(e) => Response::from_error(&e),
            };
            let response = api_v4::to_json(&response);
            Ok(match mode {
                Mode::Replay => response,
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
                        .map(|r| DecisionLine::new(r, prepared.decide_id(r)))
                        .collect();
                    #[derive(Serialize)]
                    struct Decisions<'a> {
                        decisions: Vec<DecisionLine<'a>>,
                    }
                    serde_json::to_string(&Decisions { decisions }).map_err(|e| e.to_string())?
                }
                Mode::Explain => {
                    let mut text = format!(
                        "\nmessage at {} from {} in {} conversation {}{}{}\n",
                        message.at.with_timezone(&settings.config().time_zone).to_rfc3339(),
                        push.from_user_id,
                        message.conversation.conversation_type().name(),
                        push.target_id,
                        push.bus_channel
                            .as_deref()
                            .map(|b| format!(", subchannel {b}"))
                            .unwrap_or_default(),
                        match message.mentions {
                            Mentions::None => String::new(),
                            Mentions::All => ", mentioning @all".into(),
                            Mentions::Users(ids) => format!(", mentioning {}", ids.join(", ")),
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

/// `dnd serve --listen ADDR --data DIR [--config FILE]`.
fn serve(args: &[String]) -> ExitCode {
    let (mut listen, mut data, mut config_file) = (None, None, None);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
            _ => (arg.as_str(), None),
        };
        let slot = match flag {
            "--listen" => &mut listen,
            "--data" => &mut data,
            "--config" => &mut config_file,
            "-h" | "--help" => {
                println!("{HELP}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("dnd serve: unknown argument {other:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        *slot = inline.or_else(|| args.next().cloned());
    }
    let (Some(listen), Some(data)) = (listen, data) else {
        eprintln!("dnd serve: --listen and --data are required\n{USAGE}");
        return ExitCode::from(2);
    };
    let outcome = (|| {
        let listen = listen.parse().map_err(|e| format!("--listen {listen:?}: {e}"))?;
        let config = match config_file {
            Some(path) => dnd_server::Config::from_file(path.as_ref())?,
            None => dnd_server::Config::default(),
        }
        .with_env()?;
        dnd_server::run(config, data.as_ref(), listen)
    })();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dnd serve: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("serve") {
        return serve(&args[1..]);
    }
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
                    Mode::Replay => writeln!(out, "{}", json!({ "error": e })),
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
