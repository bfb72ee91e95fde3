//! A shard process serves every app: one worker per app's stream, started
//! as the app's stream appears (an API node creates it when it starts for
//! that app), so that shards are configured with no app keys and an app
//! added to the API nodes is served without restarting them.
//!
//! Each app's worker has its own stream, consumer, settings and snapshot
//! ([`crate::space`]): nothing of one app reaches another's. A worker that
//! stops with an error stops the process (as a lone shard does), the others
//! first stopping cleanly (each saves its snapshot).

use std::collections::HashMap;
use std::time::Duration;

use async_nats::Client;
use dnd_engine::shard::{Layout, ShardId};
use dnd_engine::Config;
use futures::StreamExt;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::log::CALL_TIMEOUT;
use crate::space::Space;
use crate::worker::{self, ShardConfig};
use crate::{nats, Error};

/// How often a shard process looks for new apps' streams.
pub const DISCOVERY: Duration = Duration::from_secs(1);

/// One shard of a layout, for every app: what `dnd cluster shard` runs.
#[derive(Clone, Debug)]
pub struct ShardProcess {
    /// The layout.
    pub layout: Layout,
    /// Which shard this is.
    pub shard: ShardId,
    /// Which replica of the shard this is (0 for the first): R processes
    /// of the same shard each apply its subjects and share its reads.
    pub replica: u16,
    /// The engine's set-up for an app's shard that has no snapshot yet.
    pub config: Config,
    /// Snapshot after this many applied entries (per app).
    pub snapshot_every: u64,
    /// How often, while it holds anything, an app's shard evaluates its
    /// held items ([`crate::holding::DEFAULT_RELEASE_EVERY`] by default;
    /// zero: never by itself).
    pub release_every: std::time::Duration,
    /// The most items per recipient held in detail.
    pub detail_limit: u32,
}

impl ShardProcess {
    /// The worker's configuration for the app of `space`.
    pub fn for_app(&self, space: Space) -> ShardConfig {
        ShardConfig {
            space,
            layout: self.layout,
            shard: self.shard,
            replica: self.replica,
            config: self.config.clone(),
            snapshot_every: self.snapshot_every,
            release_every: self.release_every,
            detail_limit: self.detail_limit,
        }
    }
}

/// The apps whose streams exist now.
pub async fn spaces(client: &Client) -> Result<Vec<Space>, Error> {
    let js = crate::log::context(client.clone());
    let list = async {
        let mut names = js.stream_names();
        let mut spaces = Vec::new();
        while let Some(name) = names.next().await {
            if let Some(space) = Space::of_stream(&name.map_err(nats("list the streams"))?) {
                spaces.push(space);
            }
        }
        Ok(spaces)
    };
    tokio::time::timeout(2 * CALL_TIMEOUT, list)
        .await
        .unwrap_or(Err(Error::Timeout("list the streams")))
}

/// Runs `process`'s shard for every app until `stop` resolves (then each
/// app's worker snapshots and returns) or a worker fails.
pub async fn run(
    client: Client,
    process: ShardProcess,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), Error> {
    let (stopping, stopped) = watch::channel(false);
    let mut running: HashMap<Space, JoinHandle<Result<(), Error>>> = HashMap::new();
    let mut look = tokio::time::interval(DISCOVERY);
    look.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    let failed = loop {
        tokio::select! {
            _ = look.tick() => {
                match spaces(&client).await {
                    Ok(found) => {
                        for space in found {
                            if running.contains_key(&space) {
                                continue;
                            }
                            let cfg = process.for_app(space.clone());
                            let (client, mut stopped) = (client.clone(), stopped.clone());
                            let until = async move {
                                let _ = stopped.wait_for(|&s| s).await;
                            };
                            running.insert(space, tokio::spawn(worker::run(client, cfg, until)));
                        }
                    }
                    Err(e) => eprintln!("shard {}: looking for apps failed: {e}", process.shard),
                }
                if let Some(space) = running.iter().find(|(_, w)| w.is_finished()).map(|(s, _)| s.clone()) {
                    let worker = running.remove(&space).expect("found");
                    let why = match worker.await {
                        Ok(Ok(())) => Error::Server(format!("app {space}: its shard stopped")),
                        Ok(Err(e)) => e,
                        Err(e) => Error::Server(format!("app {space}: its shard panicked: {e}")),
                    };
                    eprintln!("shard {}: app {space}: {why}", process.shard);
                    break Some(why);
                }
            }
            () = &mut stop => break None,
        }
    };
    let _ = stopping.send(true);
    let mut first = failed;
    for (space, worker) in running {
        let outcome = match worker.await {
            Ok(outcome) => outcome,
            Err(e) => Err(Error::Server(format!("app {space}: its shard panicked: {e}"))),
        };
        if let Err(e) = outcome {
            eprintln!("shard {}: app {space}: {e}", process.shard);
            first.get_or_insert(e);
        }
    }
    first.map_or(Ok(()), Err)
}
