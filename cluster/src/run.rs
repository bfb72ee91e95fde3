//! The processes of a cluster, as the `dnd` command starts them:
//!
//! ```text
//! dnd serve --listen ADDR --cluster URL[,URL...] [--shards N] [--replicas R] [--config FILE]
//! dnd cluster shard --nats URL[,URL...] --shards N --index I [--replica K] [--config FILE] [--snapshot-every K]
//! dnd cluster local [--shards N] [--listen ADDR] [--dir DIR] [--config FILE]
//! dnd cluster reshard --nats URL[,URL...] --to M [--shards N] [--wait SECS] [--config FILE] | --abort
//! ```
//!
//! `serve --cluster` is the HTTP API node (the same front as `dnd serve`,
//! over the log and the shards); `cluster shard` one shard; `cluster local`
//! a whole cluster on loopback: a `nats-server` (`$NATS_SERVER` or on
//! `PATH`), N shard processes and an API node, until
//! SIGTERM or Ctrl-C; `cluster reshard` moves every app to M shards while
//! the cluster serves ([`crate::reshard`]).

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
    dnd_server::run_with(|| async move {
        let client = connect(nats).await.map_err(std::io::Error::other)?;
        let apps = app_backends(&client, &config, layout, replicas).await?;
        dnd_server::serve_apps(apps, config, listen).await
    })
}

/// Whether `DND_CLUSTER_DECIDE=json` asks the API node to decide with the
/// shards in JSON rather than binary frames (the baseline of the figures;
/// binary frames fall back to JSON for older shards by themselves).
fn json_decides() -> bool {
    std::env::var("DND_CLUSTER_DECIDE").is_ok_and(|v| v == "json")
}

/// The API node's backend for each app of `config`, each over its own
/// space (stream, subjects, shards' state): one process serves every app,
/// and no app sees another's settings.
async fn app_backends(
    client: &async_nats::Client,
    config: &dnd_server::Config,
    layout: Layout,
    replicas: usize,
) -> std::io::Result<dnd_server::Apps<Api>> {
    let mut apps = dnd_server::Apps::new();
    for app in &config.apps {
        let keep = crate::released::Keep {
            age: Duration::from_secs(config.release_keep_secs),
            digests: config.release_keep_max,
        };
        let api = Api::new_keeping(client.clone(), Space::app(&app.key), layout, replicas, keep)
            .await
            .map_err(|e| std::io::Error::other(format!("app {}: {e}", app.key)))?
            .with_json_decides(json_decides());
        apps.insert(app.key.clone(), api);
    }
    Ok(apps)
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
        // The handlers first: a SIGTERM while the shard connects or restores
        // stops it cleanly instead of killing it.
        let stop = stop_signal_now().map_err(|e| format!("signal handlers: {e}"))?;
        let client = connect(nats).await?;
        crate::apps::run(client, cfg, stop).await.map_err(|e| e.to_string())
    })
}

/// SIGTERM or SIGINT, with both handlers installed now (not when first
/// awaited). Call within a runtime.
pub fn stop_signal_now() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
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

/// A child process, killed when dropped (after [`stop_all`], only one that
/// did not stop in time).
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// How long a shard asked to stop may take to save its snapshot.
const SHARD_STOP: Duration = Duration::from_secs(30);

/// Asks every process to stop (SIGTERM: a shard saves its snapshot), waits
/// up to `grace` for them, then kills those still running.
fn stop_all(kids: Vec<Kid>, grace: Duration) {
    for kid in &kids {
        if let Some(pid) = i32::try_from(kid.0.id()).ok().and_then(rustix::process::Pid::from_raw) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
    }
    let deadline = std::time::Instant::now() + grace;
    let mut kids = kids;
    while !kids.is_empty() && std::time::Instant::now() < deadline {
        kids.retain_mut(|kid| matches!(kid.0.try_wait(), Ok(None)));
        std::thread::sleep(Duration::from_millis(20));
    }
    for kid in &kids {
        eprintln!(
            "dnd cluster local: shard process {} did not stop within {} s; killing it",
            kid.0.id(),
            grace.as_secs()
        );
    }
    drop(kids);
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
    // Without a directory, a temporary one, removed when the cluster stops.
    let temporary = match dir {
        Some(_) => None,
        None => Some(
            tempfile::Builder::new()
                .prefix("dnd-cluster-")
                .tempdir()
                .map_err(|e| format!("a temporary directory: {e}"))?,
        ),
    };
    let dir = dir.unwrap_or_else(|| temporary.as_ref().map_or_else(PathBuf::new, |t| t.path().to_owned()));
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
        // The API node creates the apps' streams before the shards look for them.
        let apps = app_backends(&client, &config, layout, 1).await?;
        start_shards(kids_now).map_err(std::io::Error::other)?;
        tokio::time::sleep(Duration::from_millis(100)).await;
        dnd_server::serve_apps(apps, config, listen).await
    });
    // The shards save their snapshots while the server still runs.
    stop_all(kids, SHARD_STOP);
    drop(server);
    drop(temporary);
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
        release_every: crate::holding::DEFAULT_RELEASE_EVERY,
        detail_limit: config.hold_detail_limit,
    })
}
