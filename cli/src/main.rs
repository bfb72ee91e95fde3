//! `dnd`: replay the platform's DND requests and messages through the engine,
//! and explain its decisions. A thin layer over the library; `dnd --help`
//! documents the protocol.
//!
//! - [`args`]: the command line (clap) and the protocol's documentation;
//! - [`input`]: files and standard input as one stream of bounded lines;
//! - [`line`](mod@line): a line's JSON, understood;
//! - [`timeline`]: one user's week as an SVG picture;
//! - [`output`]: each line's answer, written as it is made (input values
//!   written for people with the engine's `Escaped` and `Excerpt`).

#![forbid(unsafe_code)]

mod args;
mod digest_text;
mod input;
mod line;
mod output;
mod probe;
mod timeline;

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::Parser;
use dnd_engine::Settings;

use args::{Cli, Command, Common};
use input::Lines;
use output::{Mode, Session};

/// Every line was understood.
const OK: u8 = 0;
/// Some line answered an error, or reading or writing failed.
const FAILED: u8 = 1;
/// Bad arguments, or an input that cannot be opened.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let text = e.render().to_string();
                    let written = io::stdout()
                        .lock()
                        .write_all(text.as_bytes())
                        .and_then(|()| io::stdout().flush());
                    ExitCode::from(status_after_writing(written, OK))
                }
                _ => {
                    say(format_args!("{}", e.render()));
                    ExitCode::from(USAGE)
                }
            };
        }
    };
    ExitCode::from(match cli.command {
        Command::Replay(a) => run(Mode::Replay, &a.common),
        Command::Explain(a) => {
            let mode = match (a.json, a.summary) {
                (true, _) => Mode::ExplainJson,
                (_, true) => Mode::Summary,
                _ => Mode::Explain,
            };
            run(mode, &a.common)
        }
        Command::Timeline(a) => match timeline::run(&a) {
            Ok(svg) => {
                let written = io::stdout()
                    .lock()
                    .write_all(svg.as_bytes())
                    .and_then(|()| io::stdout().flush());
                status_after_writing(written, OK)
            }
            Err(e) => {
                say(format_args!("dnd timeline: {e}\n"));
                FAILED
            }
        },
        Command::Serve(a) => serve(&a),
        Command::Cluster(c) => cluster(c),
        Command::Store(c) => store(c),
        Command::Probe(a) => match probe::probe(&a.url) {
            Ok(_) => OK,
            Err(e) => {
                say(format_args!("dnd probe: {e}\n"));
                FAILED
            }
        },
    })
}

/// The service's configuration: the file, if any, then the environment.
fn service_config(file: Option<&std::path::Path>) -> Result<dnd_server::Config, String> {
    match file {
        Some(path) => dnd_server::Config::from_file(path),
        None => Ok(dnd_server::Config::default()),
    }
    .and_then(dnd_server::Config::with_env)
}

fn layout(shards: u16) -> Result<dnd_engine::shard::Layout, String> {
    dnd_engine::shard::Layout::new(shards).map_err(|e| format!("--shards: {e}"))
}

/// Runs the service until SIGTERM or SIGINT.
fn serve(args: &args::ServeArgs) -> u8 {
    let outcome = service_config(args.config.as_deref()).and_then(|mut config| {
        if args.tls_cert.is_some() {
            config.tls_cert.clone_from(&args.tls_cert);
            config.tls_key.clone_from(&args.tls_key);
        }
        if let Some(zone) = args.time_zone {
            config.time_zone = Some(zone.name().to_owned());
        }
        match (&args.cluster, &args.data) {
            (Some(nats), _) => dnd_cluster::run::serve(config, nats, layout(args.shards)?, args.replicas, args.listen),
            (None, Some(data)) => dnd_server::run(config, data, args.listen),
            (None, None) => Err("--data DIR or --cluster URLS is required".into()),
        }
    });
    finish("dnd serve", outcome)
}

/// `dnd store show|set-zone`.
fn store(command: args::StoreCommand) -> u8 {
    let outcome = match command {
        args::StoreCommand::Show(a) => dnd_server::admin::describe(&a.data).map(|lines| lines.join("\n")),
        args::StoreCommand::SetZone(a) => dnd_server::admin::set_zone(&a.data, a.app.as_deref(), a.zone.name()),
    };
    match outcome {
        Ok(text) => {
            let written = writeln!(io::stdout().lock(), "{text}");
            status_after_writing(written, OK)
        }
        Err(e) => finish("dnd store", Err(e)),
    }
}

/// `dnd cluster shard|local|reshard`.
fn cluster(command: args::ClusterCommand) -> u8 {
    match command {
        args::ClusterCommand::Shard(a) => {
            let outcome = service_config(a.config.as_deref())
                .and_then(|config| {
                    dnd_cluster::run::replica_config(&config, a.shards, a.index, a.replica, a.snapshot_every)
                })
                .map(|mut cfg| {
                    cfg.release_every = std::time::Duration::from_millis(a.release_every);
                    cfg
                })
                .and_then(|cfg| dnd_cluster::run::shard(&a.nats, cfg));
            finish("dnd cluster shard", outcome)
        }
        args::ClusterCommand::Local(a) => {
            let outcome = service_config(a.config.as_deref()).and_then(|config| {
                let exe = std::env::current_exe().map_err(|e| format!("this program's path: {e}"))?;
                dnd_cluster::run::local(&exe, config, a.config.as_deref(), layout(a.shards)?, a.listen, a.dir)
            });
            finish("dnd cluster local", outcome)
        }
        args::ClusterCommand::Reshard(a) => {
            let outcome = service_config(a.config.as_deref()).and_then(|config| {
                let order = match a.to {
                    None => dnd_cluster::reshard::Order::Abort,
                    Some(to) => dnd_cluster::reshard::Order::To {
                        from: a.shards.map(layout).transpose()?,
                        to: dnd_engine::shard::Layout::new(to).map_err(|e| format!("--to: {e}"))?,
                        wait: std::time::Duration::from_secs(a.wait),
                    },
                };
                dnd_cluster::reshard::command(&a.nats, config.engine()?, order)
            });
            finish("dnd cluster reshard", outcome)
        }
    }
}

fn finish(what: &str, outcome: Result<(), String>) -> u8 {
    match outcome {
        Ok(()) => OK,
        Err(e) => {
            say(format_args!("{what}: {e}\n"));
            FAILED
        }
    }
}

/// Answers every line of the inputs; the exit status.
fn run(mode: Mode, common: &Common) -> u8 {
    let mut lines = match Lines::open(&common.files, common.max_line_bytes) {
        Ok(lines) => lines,
        Err(e) => {
            say(format_args!("dnd: {e}\n"));
            return USAGE;
        }
    };
    if common.time_zone.is_none() {
        say(format_args!(
            "dnd: no --time-zone given: periods without a zone of their own are read in UTC\n"
        ));
    }
    let out = BufWriter::new(io::stdout().lock());
    let mut session = Session::new(Settings::new(common.config()), mode, common.max_line_bytes, out);
    let mut status = OK;
    loop {
        match lines.next_line() {
            Ok(Some((number, line))) => match session.answer(number, line) {
                Ok(true) => {}
                Ok(false) => status = FAILED,
                Err(e) => return status_after_writing(Err(e), status),
            },
            Ok(None) => break,
            Err(e) => {
                say(format_args!("dnd: {e}\n"));
                return FAILED;
            }
        }
    }
    status_after_writing(session.finish(), status)
}

/// The exit status once the output is written (or not): a closed pipe ends
/// the command quietly, with the status so far, as Unix tools end; any other
/// failure is said on standard error.
fn status_after_writing(written: io::Result<()>, status: u8) -> u8 {
    match written {
        Ok(()) => status,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => status,
        Err(e) => {
            say(format_args!("dnd: writing standard output: {e}\n"));
            FAILED
        }
    }
}

/// Writes to standard error; if even that fails there is no one left to tell.
fn say(what: std::fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(what);
}
