//! Changing an app's number of shards while it serves (`dnd cluster
//! reshard`), without a replay from the stream's start (`docs/scaling.md`,
//! "Resharding").
//!
//! 1. **Announce.** The app's layout record (`src/layouts.rs`) gets
//!    `next: M`: from then on no shard trims the stream, so every entry
//!    after the old shards' snapshots stays.
//! 2. **Build.** The old layout's snapshots (replica 0 of each shard) are
//!    read and each brought to one sequence `B`, the stream's last when the
//!    build started, by applying the entries of its subjects after its own
//!    snapshot ([`Replica::apply_at`]); then they are split by partition
//!    and merged into the new layout's shards ([`Replica::regroup`]), saved
//!    as the new layout's snapshots (any older object of the new layout
//!    deleted first), and the record gets `base: B`. The trim then counts
//!    both layouts' snapshots.
//! 3. **Catch up.** The operator starts the new layout's shard processes;
//!    each restores its snapshot at `B` and reads on from `B + 1`. The
//!    command waits until each has applied the stream as it stood when the
//!    wait began (a get carrying that sequence as `after`, which a shard
//!    answers only once it has applied it).
//! 4. **Switch.** The record becomes `{epoch + 1, shards: M}`. API nodes
//!    follow the record and route every read that starts after they see it
//!    by the new layout; a read carries `after` as ever, so the new shard
//!    answers it only once it has applied everything the client wrote. The
//!    old shards still run and answer reads already routed to them.
//! 5. **Retire.** After [`RETIRE_GRACE`] the operator stops the old shard
//!    processes; once none answers, their snapshots are deleted. The trim
//!    counts the new layout's snapshots only from the switch on, and a
//!    shard of the old layout trims nothing.
//!
//! Writes go on throughout: they need only the stream. A command killed at
//! any step leaves the record saying where it was: run again with the same
//! `--to`, it resumes (a build without `base` is done again from the start,
//! replacing what a killed build saved), or with `--abort` it puts the
//! record back to the old layout and deletes the new layout's snapshots.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{pull, DeliverPolicy};
use async_nats::jetstream::object_store::ObjectStore;
use async_nats::jetstream::{self, kv};
use async_nats::Client;
use dnd_engine::shard::{Layout, Partition, Replica};
use dnd_engine::{Config, Request, Settings, UserId};
use dnd_server::backend::Generation;
use futures::StreamExt;

use crate::layouts::{self, Record};
use crate::log::{retry, ATTEMPTS, CALL_TIMEOUT};
use crate::snapshot::{load_snapshot, snapshot_store};
use crate::space::Space;
use crate::wire::GetRequest;
use crate::{nats, Error};

/// How long after the switch the command asks for the old shards to be
/// stopped: API nodes watch the record and see a change within
/// milliseconds; this leaves reads routed just before the switch time to
/// be answered by the old shards.
pub const RETIRE_GRACE: Duration = Duration::from_secs(2);
/// Attempts at a build whose stream was trimmed under it (a trim that had
/// read the record before the announcement).
const BUILD_ATTEMPTS: u32 = 3;

/// What a build did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Built {
    /// The sequence the new layout's snapshots cover.
    pub base: u64,
    /// Stream entries applied to bring the old snapshots to `base`.
    pub replayed: u64,
    /// How long the build took (announcement to record).
    pub took: Duration,
}

/// The parts of a reshard, for one app.
pub struct Reshard {
    js: jetstream::Context,
    client: Client,
    space: Space,
    records: kv::Store,
    store: ObjectStore,
    config: Config,
}

impl Reshard {
    /// Opens what a reshard of `space` needs; `config` is the engine's
    /// set-up of a shard that never saved a snapshot.
    pub async fn open(client: Client, space: Space, config: Config) -> Result<Reshard, Error> {
        let js = crate::log::context(client.clone());
        let stream = retry("open the stream", || js.get_stream(space.stream())).await?;
        let replicas = stream.cached_info().config.num_replicas;
        let records = layouts::bucket(&js, replicas).await?;
        let store = snapshot_store(&js, replicas).await?;
        Ok(Reshard {
            js,
            client,
            space,
            records,
            store,
            config,
        })
    }

    /// The app's record and its revision, if it has one.
    pub async fn record(&self) -> Result<Option<(Record, u64)>, Error> {
        layouts::read(&self.records, &self.space).await
    }

    /// Steps 1 and 2: announces the move from `from` (the record's layout,
    /// or the one given if the app has no record) to `to` and builds the
    /// new layout's snapshots, or finds them built by an earlier run.
    /// Returns `None` if the app is served by `to` already.
    pub async fn prepare(&self, from: Option<Layout>, to: Layout) -> Result<Option<Built>, Error> {
        let started = Instant::now();
        let (record, revision) = match self.record().await? {
            None => {
                let Some(from) = from else {
                    return Err(Error::Server(format!(
                        "app {}: no layout record yet: give the layout it runs (--shards)",
                        self.space
                    )));
                };
                if from == to {
                    return Ok(None);
                }
                let record = Record {
                    epoch: 1,
                    shards: from.shards(),
                    next: Some(to.shards()),
                    base: None,
                };
                (record, layouts::write(&self.records, &self.space, &record, None).await?)
            }
            Some((r, rev)) => {
                if let Some(from) = from.filter(|f| f.shards() != r.shards) {
                    return Err(Error::Server(format!(
                        "app {}: its layout record says {} shards, not {}",
                        self.space,
                        r.shards,
                        from.shards()
                    )));
                }
                match r.next {
                    None if r.shards == to.shards() => return Ok(None),
                    None => {
                        let record = Record {
                            next: Some(to.shards()),
                            base: None,
                            ..r
                        };
                        (record, layouts::write(&self.records, &self.space, &record, Some(rev)).await?)
                    }
                    Some(next) if next != to.shards() => {
                        return Err(Error::Server(format!(
                            "app {}: a reshard to {next} shards is under way: finish it (--to {next}) or abort it (--abort)",
                            self.space
                        )))
                    }
                    Some(_) => match r.base {
                        Some(base) => {
                            return Ok(Some(Built {
                                base,
                                replayed: 0,
                                took: started.elapsed(),
                            }))
                        }
                        None => (r, rev),
                    },
                }
            }
        };
        let from = record.layout()?;
        let mut attempt = 1;
        let (base, replayed) = loop {
            match self.build(from, to).await {
                Err(e @ Error::Trimmed { .. }) if attempt < BUILD_ATTEMPTS => {
                    tracing::warn!("app {}: {e}; building again from newer snapshots", self.space);
                    attempt += 1;
                }
                other => break other?,
            }
        };
        let record = Record {
            base: Some(base),
            ..record
        };
        layouts::write(&self.records, &self.space, &record, Some(revision)).await?;
        Ok(Some(Built {
            base,
            replayed,
            took: started.elapsed(),
        }))
    }

    /// Builds and saves the snapshots of `to` from those of `from`; returns
    /// the sequence they cover and the entries replayed.
    async fn build(&self, from: Layout, to: Layout) -> Result<(u64, u64), Error> {
        let mut replicas = Vec::with_capacity(usize::from(from.shards()));
        for shard in from.all() {
            let name = self.space.snapshot_name(from, shard);
            let replica = match load_snapshot(&self.store, &name).await? {
                // Held items are not split by partition yet: refused, never lost.
                Some(state) if !state.held.is_empty() => return Err(holds(&self.space, &name)),
                Some(state) => state.replica,
                None => Replica::new(Settings::new(self.config.clone())),
            };
            replicas.push(replica);
        }
        let stream = retry("open the stream", || self.js.get_stream(self.space.stream())).await?;
        let state = retry("read the stream's state", || stream.get_info())
            .await?
            .state
            .clone();
        let base = state.last_sequence;
        let oldest = replicas.iter().map(Replica::applied).min().unwrap_or(0);
        let start = oldest.saturating_add(1);
        let trimmed = || Error::Trimmed {
            applied: oldest,
            first: state.first_sequence,
        };
        if start <= base && state.first_sequence > start {
            return Err(trimmed());
        }
        let mut replayed = 0;
        if start <= base {
            replayed = self.replay(&stream, start, base, from, &mut replicas).await?;
            // A trim that read the record before the announcement may have
            // purged entries under the replay: then it missed some.
            let first = retry("read the stream's state", || stream.get_info())
                .await?
                .state
                .first_sequence;
            if first > start {
                return Err(Error::Trimmed { applied: oldest, first });
            }
        }
        for replica in &mut replicas {
            replica.skip_to(base);
        }
        let sources: Vec<_> = from
            .all()
            .map(|s| (from.partitions(s), &replicas[usize::from(s.0)]))
            .collect();
        let built = to
            .all()
            .map(|s| Replica::regroup(&sources, to.partitions(s)))
            .collect::<Result<Vec<_>, _>>()?;
        self.delete_layout(to).await?;
        // Nothing is held (refused above), and no digest released at an instant yet to repeat.
        let (held, same) = (dnd_engine::Held::new(), crate::holding::SameInstant::default());
        for (shard, replica) in to.all().zip(&built) {
            let name = self.space.snapshot_name(to, shard);
            crate::worker::save(&self.store, &name, replica, &held, &same, ATTEMPTS).await?;
        }
        Ok((base, replayed))
    }

    /// Applies the entries `start..=base` to the old layout's replicas, each
    /// entry to the shards whose subjects hold it. Returns how many were read.
    async fn replay(
        &self,
        stream: &jetstream::stream::Stream,
        start: u64,
        base: u64,
        from: Layout,
        replicas: &mut [Replica],
    ) -> Result<u64, Error> {
        let consumer = retry("open a replay consumer", || {
            stream.create_consumer(pull::OrderedConfig {
                deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: start },
                ..Default::default()
            })
        })
        .await?;
        let mut messages = consumer.messages().await.map_err(nats("read the stream"))?;
        let partitions = format!("dnd.{}.p.", self.space.token());
        let broadcast = self.space.broadcast();
        let mut read = 0;
        loop {
            let message = tokio::time::timeout(4 * CALL_TIMEOUT, messages.next())
                .await
                .map_err(|_| Error::Timeout("read the stream"))?
                .ok_or_else(|| Error::Server("the replay's consumer ended".into()))?
                .map_err(nats("read the stream"))?;
            let seq = message
                .info()
                .map_err(|e| Error::frame("a stream entry", e))?
                .stream_sequence;
            if seq > base {
                break;
            }
            read += 1;
            let subject = message.subject.as_str();
            let shards: Vec<usize> = if subject == broadcast {
                (0..replicas.len()).collect()
            } else if let Some(p) = subject
                .strip_prefix(partitions.as_str())
                .and_then(|p| p.parse::<u16>().ok())
                .and_then(Partition::new)
            {
                vec![usize::from(from.shard_of(p).0)]
            } else {
                Vec::new()
            };
            let hold = message
                .headers
                .as_ref()
                .and_then(|h| h.get(crate::holding::ENTRY_HEADER))
                .is_some_and(|v| v.as_str() == crate::holding::HOLD);
            if hold && !shards.is_empty() {
                return Err(holds(&self.space, &format!("entry {seq}")));
            }
            if !shards.is_empty() {
                match serde_json::from_slice::<Request>(&message.payload) {
                    Ok(request) => {
                        for s in shards {
                            replicas[s].apply_at(seq, &request);
                        }
                    }
                    Err(e) => tracing::warn!("app {}: entry {seq} is not a request ({e}); skipped", self.space),
                }
            }
            if seq >= base {
                break;
            }
        }
        Ok(read)
    }

    /// Deletes every snapshot of `layout` (every replica's).
    async fn delete_layout(&self, layout: Layout) -> Result<(), Error> {
        let names = tokio::time::timeout(2 * CALL_TIMEOUT, async {
            let mut objects = self.store.list().await.map_err(nats("list the snapshots"))?;
            let mut names = Vec::new();
            while let Some(info) = objects.next().await {
                let info = info.map_err(nats("list the snapshots"))?;
                if layout.all().any(|s| self.space.is_snapshot_of(&info.name, layout, s)) {
                    names.push(info.name);
                }
            }
            Ok::<_, Error>(names)
        })
        .await
        .unwrap_or(Err(Error::Timeout("list the snapshots")))?;
        for name in names {
            retry("delete a snapshot", || self.store.delete(&name)).await?;
        }
        Ok(())
    }

    /// Step 3: waits until every shard of `to` has applied the stream as it
    /// stands now, for at most `wait`. Returns that sequence.
    pub async fn caught_up(&self, to: Layout, wait: Duration) -> Result<u64, Error> {
        let stream = retry("open the stream", || self.js.get_stream(self.space.stream())).await?;
        let target = retry("read the stream's state", || stream.get_info())
            .await?
            .state
            .last_sequence;
        let deadline = tokio::time::Instant::now() + wait;
        let probe = serde_json::to_vec(&GetRequest {
            after: target,
            request: Request::GetPeriod {
                user_id: UserId::new("dnd-reshard-probe")?,
            },
            generation: Generation::Form,
        })
        .map_err(|e| Error::frame("a get", e))?;
        for shard in to.all() {
            let subject = self.space.get_subject(to, shard);
            loop {
                let asked = self.client.request(subject.clone(), probe.clone().into());
                if let Ok(Ok(answer)) = tokio::time::timeout(Duration::from_secs(1), asked).await {
                    if crate::wire::payload(&answer.payload).is_ok() {
                        break;
                    }
                }
                if tokio::time::Instant::now() >= deadline {
                    return Err(Error::Server(format!(
                        "app {}: shard {shard} of {} has not applied sequence {target} within {} s: is it running?",
                        self.space,
                        to.shards(),
                        wait.as_secs()
                    )));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(target)
    }

    /// Step 4: API nodes route by `to` from now on. Returns the new epoch.
    pub async fn switch(&self, to: Layout) -> Result<u64, Error> {
        let Some((record, revision)) = self.record().await? else {
            return Err(Error::Server(format!("app {}: no reshard under way", self.space)));
        };
        if record.next != Some(to.shards()) || record.base.is_none() {
            return Err(Error::Server(format!(
                "app {}: the layout record is {record:?}, not a built reshard to {}",
                self.space,
                to.shards()
            )));
        }
        let switched = Record {
            epoch: record.epoch + 1,
            shards: to.shards(),
            next: None,
            base: None,
        };
        layouts::write(&self.records, &self.space, &switched, Some(revision)).await?;
        Ok(switched.epoch)
    }

    /// Step 5: once no process of the layout `from` (which no longer
    /// serves) answers any more, for at most `wait`, deletes its snapshots
    /// (every replica's), so that none is restored by mistake.
    pub async fn retire(&self, from: Layout, wait: Duration) -> Result<(), Error> {
        if let Some((record, _)) = self.record().await? {
            if record.shards == from.shards() || record.next == Some(from.shards()) {
                return Err(Error::Server(format!(
                    "app {}: the layout record names {} shards still",
                    self.space,
                    from.shards()
                )));
            }
        }
        let deadline = tokio::time::Instant::now() + wait;
        for shard in from.all() {
            let subject = self.space.progress_subject(from, shard);
            loop {
                let asked = self.client.request(subject.clone(), bytes::Bytes::new());
                match tokio::time::timeout(Duration::from_secs(1), asked).await {
                    Ok(Err(e)) if e.kind() == async_nats::client::RequestErrorKind::NoResponders => break,
                    _ if tokio::time::Instant::now() >= deadline => {
                        return Err(Error::Server(format!(
                            "app {}: shard {shard} of {} still runs after {} s: stop it, then run the command again",
                            self.space,
                            from.shards(),
                            wait.as_secs()
                        )))
                    }
                    _ => tokio::time::sleep(Duration::from_millis(200)).await,
                }
            }
        }
        self.delete_layout(from).await
    }

    /// Abandons a reshard under way: the record names the old layout alone
    /// again and the new layout's snapshots are deleted. Returns the
    /// layout that was being built, if any.
    pub async fn abort(&self) -> Result<Option<Layout>, Error> {
        let Some((record, revision)) = self.record().await? else {
            return Ok(None);
        };
        let Some(next) = record.next else { return Ok(None) };
        let next = Layout::new(next).map_err(|e| Error::frame("layout record: next", e))?;
        let back = Record {
            next: None,
            base: None,
            ..record
        };
        // The record first: the trim then counts the old layout alone, and
        // no snapshot of the new one is needed any more.
        layouts::write(&self.records, &self.space, &back, Some(revision)).await?;
        self.delete_layout(next).await?;
        Ok(Some(next))
    }
}

/// What `dnd cluster reshard` is asked to do.
#[derive(Clone, Debug)]
pub enum Order {
    /// Move every app to `to` shards; `from` is the layout of apps that
    /// have no record yet (the `--shards` the cluster was started with).
    To {
        /// The layout of apps without a record.
        from: Option<Layout>,
        /// The new layout.
        to: Layout,
        /// How long to wait for the new shards to catch up.
        wait: Duration,
    },
    /// Abandon the reshard under way of every app.
    Abort,
}

/// `dnd cluster reshard`: runs `order` for every app whose stream exists,
/// telling the operator on stderr what to start and stop.
pub fn command(nats: &str, config: Config, order: Order) -> Result<(), String> {
    dnd_server::init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let client = crate::run::connect(nats).await?;
        let spaces = crate::apps::spaces(&client).await.map_err(|e| e.to_string())?;
        let mut apps = Vec::with_capacity(spaces.len());
        for space in spaces {
            apps.push(
                Reshard::open(client.clone(), space, config.clone())
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        match order {
            Order::Abort => {
                for app in &apps {
                    match app.abort().await.map_err(|e| e.to_string())? {
                        Some(next) => eprintln!(
                            "app {}: the reshard to {} shards is abandoned; stop those shards' processes",
                            app.space,
                            next.shards()
                        ),
                        None => eprintln!("app {}: no reshard under way", app.space),
                    }
                }
                Ok(())
            }
            Order::To { from, to, wait } => move_apps(&apps, from, to, wait).await.map_err(|e| e.to_string()),
        }
    })
}

/// Steps 1 to 5 for every app, each step for all apps before the next.
async fn move_apps(apps: &[Reshard], from: Option<Layout>, to: Layout, wait: Duration) -> Result<(), Error> {
    let mut moving = Vec::new();
    for app in apps {
        let old = match app.record().await? {
            Some((r, _)) => r.layout()?,
            None => from.unwrap_or(to),
        };
        match app.prepare(from, to).await? {
            None => eprintln!("app {}: served by {} shards already", app.space, to.shards()),
            Some(built) => {
                eprintln!(
                    "app {}: the snapshots of {} shards cover sequence {} (built in {} ms, {} entries replayed past the old snapshots)",
                    app.space,
                    to.shards(),
                    built.base,
                    built.took.as_millis(),
                    built.replayed
                );
                moving.push((app, old));
            }
        }
    }
    if moving.is_empty() {
        return Ok(());
    }
    eprintln!(
        "start the new layout's shards now: dnd cluster shard --shards {} --index I (I = 0 to {}, with the same --config); waiting up to {} s",
        to.shards(),
        to.shards() - 1,
        wait.as_secs()
    );
    for (app, _) in &moving {
        let at = app.caught_up(to, wait).await?;
        eprintln!("app {}: every new shard has applied sequence {at}", app.space);
    }
    for (app, _) in &moving {
        let epoch = app.switch(to).await?;
        eprintln!("app {}: routed by {} shards (epoch {epoch})", app.space, to.shards());
    }
    tokio::time::sleep(RETIRE_GRACE).await;
    for (app, old) in &moving {
        eprintln!(
            "app {}: stop the shard processes of {} shards now (SIGTERM); waiting up to {} s",
            app.space,
            old.shards(),
            wait.as_secs()
        );
        app.retire(*old, wait).await?;
        eprintln!(
            "app {}: the snapshots of {} shards are deleted",
            app.space,
            old.shards()
        );
    }
    Ok(())
}

/// Why a layout change is refused for an app that holds pushes: held items
/// (in `what`, a snapshot or a hold record to replay) are not split by
/// partition into the new layout's shards yet (`docs/scaling.md`, "Not done").
fn holds(space: &Space, what: &str) -> Error {
    Error::Server(format!(
        "app {space}: {what} holds pushes; a change of layout of an app with held pushes is not built \
         (wait until its held pushes are released, and for its stream to be trimmed past their hold records)"
    ))
}
