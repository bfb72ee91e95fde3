//! The processes of a cluster, as the `dnd` command starts them:
//!
//! ```text
//! dnd serve --listen ADDR --cluster URL[,URL...] [--shards N] [--replicas R] [--config FILE]
//! dnd cluster shard --nats URL[,URL...] --shards N --index I [--replica K] [--config FILE] [--snapshot-every K]
//! dnd cluster local [--shards N] [--listen ADDR] [--dir DIR] [--config FILE]
//! ```
//!
//! `serve --cluster` is the HTTP API node (the same front as `dnd serve`,
//! over the log and the shards); `cluster shard` one shard; `cluster local`
//! a whole cluster on loopback: a `nats-server` (found or installed by
//! `scripts/nats-server.sh`), N shard processes and an API node, until
//! SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use dnd_engine::shard::{Layout, ShardId};

use crate::api::Api;
pub use crate::apps::ShardProcess;
use crate::nats_server::NatsServer;
use crate::space::Space;

/// Connects to the servers of `URL[,URL...]`, retrying until one answers.
pub async fn connect(urls: &str) -> Result<async_nats::Client, String> {
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

/// Runs the HTTP API node on `listen` over the cluster at `nats` until
/// SIGTERM or SIGINT (`dnd serve --cluster`).
pub fn serve(
    config: dnd_server::Config,
    nats: &str,
    layout: Layout,
    replicas: usize,
    listen: SocketAddr,
) -> Result<(), String> {
    config.engine_config()?;
    let space = one_app(&config)?;
    dnd_server::run_with(|| async move {
        let client = connect(nats).await.map_err(std::io::Error::other)?;
        let api = Api::new(client, space, layout, replicas)
            .await
            .map_err(std::io::Error::other)?
            .with_json_decides(json_decides());
        dnd_server::serve(api, config, listen).await
    })
}

/// Whether `DND_CLUSTER_DECIDE=json` asks the API node to decide with the
/// shards in JSON rather than binary frames (the baseline of the figures;
/// binary frames fall back to JSON for older shards by themselves).
fn json_decides() -> bool {
    std::env::var("DND_CLUSTER_DECIDE").is_ok_and(|v| v == "json")
}

/// The space of the configuration's one app. An API node process serves
/// one app, over that app's stream and shards: a configuration of several
/// is refused rather than letting them share settings (start a node per
/// app; the shards serve every app).
fn one_app(config: &dnd_server::Config) -> Result<Space, String> {
    match config.apps.as_slice() {
        [app] => Ok(Space::app(&app.key)),
        apps => Err(format!(
            "an API node of a cluster serves one app, and the configuration has {}: start one node per app key (the shards serve them all), so that apps never see each other's settings",
            apps.len()
        )),
    }
}

/// Runs one shard, for every app, until SIGTERM or SIGINT, then snapshots
/// (`dnd cluster shard`).
pub fn shard(nats: &str, cfg: ShardProcess) -> Result<(), String> {
    if cfg.shard.0 >= cfg.layout.shards() {
        return Err(format!(
            "--index {} is not below --shards {}",
            cfg.shard,
            cfg.layout.shards()
        ));
    }
    dnd_server::init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = connect(nats).await?;
        crate::apps::run(client, cfg, stop_signal())
            .await
            .map_err(|e| e.to_string())
    })
}

/// SIGTERM or SIGINT.
pub async fn stop_signal() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// A child process, killed when dropped.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A local cluster on loopback (`dnd cluster local`): a nats-server storing
/// in `dir` (a temporary directory if none), `layout`'s shards as processes
/// of `exe` (`dnd cluster shard`), and the HTTP API node in this process on
/// `listen`, until SIGTERM or SIGINT. `config_file` is passed to the shards
/// (their time zone and app defaults).
pub fn local(
    exe: &Path,
    config: dnd_server::Config,
    config_file: Option<&Path>,
    layout: Layout,
    listen: SocketAddr,
    dir: Option<PathBuf>,
) -> Result<(), String> {
    config.engine_config()?;
    let space = one_app(&config)?;
    let dir = dir.unwrap_or_else(|| std::env::temp_dir().join(format!("dnd-cluster-{}", std::process::id())));
    let server = NatsServer::start(&dir).map_err(|e| e.to_string())?;
    eprintln!(
        "dnd cluster local: nats-server at {} storing in {}",
        server.url(),
        dir.display()
    );
    let mut kids = Vec::new();
    let n = layout.shards().to_string();
    let start_shards = |kids: &mut Vec<Kid>| -> Result<(), String> {
        for shard in layout.all() {
            let mut c = Command::new(exe);
            c.args(["cluster", "shard", "--nats", server.url(), "--shards", &n, "--index"])
                .arg(shard.to_string());
            if let Some(file) = config_file {
                c.arg("--config").arg(file);
            }
            kids.push(Kid(c.spawn().map_err(|e| format!("{}: {e}", exe.display()))?));
        }
        Ok(())
    };
    let url = server.url().to_owned();
    let kids_now = &mut kids;
    let outcome = dnd_server::run_with(|| async move {
        let client = connect(&url).await.map_err(std::io::Error::other)?;
        // The API node creates the stream before the shards look for it.
        let api = Api::new(client, space, layout, 1)
            .await
            .map_err(std::io::Error::other)?;
        start_shards(kids_now).map_err(std::io::Error::other)?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        dnd_server::serve(api, config, listen).await
    });
    drop(kids);
    drop(server);
    outcome
}

/// The configuration of shard `index` of `shards` (for every app), as
/// its replica 0.
pub fn shard_config(
    config: &dnd_server::Config,
    shards: u16,
    index: u16,
    snapshot_every: u64,
) -> Result<ShardProcess, String> {
    replica_config(config, shards, index, 0, snapshot_every)
}

/// The configuration of replica `replica` of shard `index` of `shards`
/// (for every app).
pub fn replica_config(
    config: &dnd_server::Config,
    shards: u16,
    index: u16,
    replica: u16,
    snapshot_every: u64,
) -> Result<ShardProcess, String> {
    Ok(ShardProcess {
        layout: Layout::new(shards).map_err(|e| e.to_string())?,
        shard: ShardId(index),
        replica,
        config: config.engine()?,
        snapshot_every: snapshot_every.max(1),
    })
}
