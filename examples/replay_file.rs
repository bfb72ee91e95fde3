//! Replays a JSON Lines file of the `dnd replay` protocol through the engine
//! in process: settings requests (`{"request": PATH, "body": FORM}`) and
//! pushes (`{"push": {...}}`), printing each answer as `dnd replay` does.
//!
//! ```sh
//! cargo run --example replay_file -- examples/night.jsonl Asia/Shanghai
//! ```

use std::io::{BufRead, BufReader, Write};

use dnd_engine::push::{DecisionLine, Push};
use dnd_engine::{parse_zone, Config, Settings};
use serde_json::Value;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/night.jsonl").into());
    let zone = parse_zone(&args.next().unwrap_or_else(|| "Asia/Shanghai".into()))?;
    let mut settings = Settings::new(Config::new(zone));
    let out = std::io::stdout();
    let mut out = out.lock();
    for (number, line) in BufReader::new(std::fs::File::open(&path)?).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)?;
        if let (Some(path), Some(body)) = (value["request"].as_str(), value["body"].as_str()) {
            writeln!(out, "{}", settings.handle(path, body.as_bytes()).to_json())?;
        } else if let Some(push) = value.get("push") {
            let push = Push::from_json(&push.to_string()).map_err(|e| format!("line {}: {e}", number + 1))?;
            let mentioned = push.mentioned_ids();
            let message = push.message(&mentioned)?;
            let prepared = settings.prepare(&message);
            out.write_all(b"{\"decisions\":[")?;
            for (i, r) in push.recipients.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                DecisionLine::decide(&prepared, r).write_to(&mut out)?;
            }
            out.write_all(b"]}\n")?;
        } else {
            writeln!(out, "line {}: neither a request nor a push", number + 1)?;
        }
    }
    Ok(())
}
