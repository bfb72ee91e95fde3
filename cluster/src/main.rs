//! `dnd-cluster`: the settings service sharded over NATS JetStream.
//!
//! ```text
//! dnd-cluster shard --nats URL[,URL...] --shards N --index I [--time-zone TZ] [--snapshot-every K]
//! dnd-cluster api   --nats URL[,URL...] --shards N [--replicas R]
//! dnd-cluster local [--shards N] [--dir DIR]
//! ```
//!
//! `local` starts a nats-server on a free loopback port (installed by
//! `scripts/nats-server.sh` if needed), N shard processes and an API node,
//! prints the NATS URL, and stops them all on Ctrl-C.

#![forbid(unsafe_code)]

use std::process::{Command, ExitCode};
use std::time::Duration;

use dnd_cluster::nats_server::NatsServer;
use dnd_cluster::{api::Api, worker, Error};
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::{parse_zone, Config};

const USAGE: &str = "usage:
  dnd-cluster shard --nats URL[,URL...] --shards N --index I [--time-zone TZ] [--snapshot-every K]
  dnd-cluster api   --nats URL[,URL...] --shards N [--replicas R]
  dnd-cluster local [--shards N] [--dir DIR]";

/// The value of `--name`, if given.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn number<T: std::str::FromStr>(args: &[String], name: &str, default: Option<T>) -> Result<T, String> {
    match flag(args, name) {
        Some(v) => v.parse().map_err(|_| format!("{name}: {v:?} is not a number")),
        None => default.ok_or_else(|| format!("{name} is required")),
    }
}

async fn stop_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

/// Connects to the servers of `--nats URL[,URL...]`.
async fn connect(args: &[String]) -> Result<async_nats::Client, String> {
    let urls = flag(args, "--nats").ok_or("--nats is required")?;
    let addrs = urls
        .split(',')
        .map(|u| {
            u.parse::<async_nats::ServerAddr>()
                .map_err(|e| format!("--nats {u:?}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    async_nats::ConnectOptions::new()
        .retry_on_initial_connect()
        .connect(addrs)
        .await
        .map_err(|e| format!("connect to {urls}: {e}"))
}

async fn run(args: Vec<String>) -> Result<(), String> {
    let command = args.first().map(String::as_str);
    let layout = |default| -> Result<Layout, String> {
        Layout::new(number(&args, "--shards", default)?).map_err(|e| e.to_string())
    };
    match command {
        Some("shard") => {
            let zone = parse_zone(flag(&args, "--time-zone").unwrap_or("UTC")).map_err(|e| e.to_string())?;
            let cfg = worker::ShardConfig {
                layout: layout(None)?,
                shard: ShardId(number(&args, "--index", None)?),
                config: Config::new(zone),
                snapshot_every: number(&args, "--snapshot-every", Some(20_000))?,
            };
            if cfg.shard.0 >= cfg.layout.shards() {
                return Err(format!(
                    "--index {} is not below --shards {}",
                    cfg.shard,
                    cfg.layout.shards()
                ));
            }
            let client = connect(&args).await?;
            worker::run(client, cfg, stop_signal())
                .await
                .map_err(|e: Error| e.to_string())
        }
        Some("api") => {
            let client = connect(&args).await?;
            let api = Api::new(client, layout(None)?, number(&args, "--replicas", Some(1))?)
                .await
                .map_err(|e| e.to_string())?;
            api.serve(stop_signal()).await.map_err(|e| e.to_string())
        }
        Some("local") => local(layout(Some(3))?, flag(&args, "--dir")).await,
        _ => Err(USAGE.to_owned()),
    }
}

/// A local cluster: one server, the shards and an API node, until Ctrl-C.
async fn local(layout: Layout, dir: Option<&str>) -> Result<(), String> {
    let dir = match dir {
        Some(d) => std::path::PathBuf::from(d),
        None => std::env::temp_dir().join(format!("dnd-cluster-{}", std::process::id())),
    };
    let server = NatsServer::start(&dir).map_err(|e| e.to_string())?;
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let n = layout.shards().to_string();
    let mut children = Vec::new();
    let mut api = Command::new(&me);
    api.args(["api", "--nats", server.url(), "--shards", &n]);
    children.push(api.spawn().map_err(|e| e.to_string())?);
    tokio::time::sleep(Duration::from_millis(300)).await; // the API node creates the stream
    for shard in layout.all() {
        let mut c = Command::new(&me);
        c.args([
            "shard",
            "--nats",
            server.url(),
            "--shards",
            &n,
            "--index",
            &shard.to_string(),
        ]);
        children.push(c.spawn().map_err(|e| e.to_string())?);
    }
    println!(
        "dnd-cluster: {} shards and an API node on {} (store {}); Ctrl-C stops",
        n,
        server.url(),
        dir.display()
    );
    stop_signal().await;
    for mut c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
    drop(server);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dnd-cluster: {e}");
            ExitCode::FAILURE
        }
    }
}
