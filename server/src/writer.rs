//! The one writer: accepted changes → the durable log → the settings → the
//! answers, in one order.
//!
//! Changes queue for a single thread. It takes every change waiting (up to a
//! batch), appends them to the [`ChangeLog`] with one sync (group commit),
//! applies them in the same order and publishes them as one new version of
//! the shared settings (`SharedSettings::apply_all`: readers see the whole
//! batch or none of it, and never wait for it), and only then answers each.
//! So a change is visible to gets only once it is durable, every get after
//! its answer sees it, and the settings always equal the snapshot plus the
//! log. A failed append (a full disk, an I/O error) refuses its batch
//! (1000; the log takes back whatever part of it was written, nothing is
//! applied) and turns `/ready` 503; the next batch tries again, so the
//! service recovers on its own once the disk has room.
//!
//! Holds and evaluations of the held items ([`crate::hold`]) go the same
//! way, in the same order as the changes around them: appended with the
//! batch, then applied in order (an evaluation reads the settings with
//! every change before it applied), then answered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use dnd_engine::{Request, Response};
use tokio::sync::{mpsc, oneshot};

use crate::hold::{apply_hold, apply_release, HoldRecord, Holding, ReleaseRecord};
use crate::store::{ChangeLog, Entry, StateRef};
use crate::{read, Shared};

/// The most changes appended with one sync.
const MAX_BATCH: usize = 1024;

/// A change, a hold or an evaluation and where its answer goes, or the
/// order to stop.
enum Job {
    Change(Request, oneshot::Sender<Response>),
    Hold(HoldRecord, oneshot::Sender<Result<(), Response>>),
    Release(ReleaseRecord, oneshot::Sender<Result<usize, Response>>),
    Stop,
}

impl Job {
    fn entry(&self) -> Entry<'_> {
        match self {
            Job::Change(r, _) => Entry::Change(r),
            Job::Hold(h, _) => Entry::Hold(h),
            Job::Release(r, _) => Entry::Release(*r),
            Job::Stop => unreachable!("a stop is never batched"),
        }
    }

    /// Answers a job that could not be made durable.
    fn refuse(self, message: &str) {
        match self {
            Job::Change(_, reply) => drop(reply.send(internal(message))),
            Job::Hold(_, reply) => drop(reply.send(Err(internal(message)))),
            Job::Release(_, reply) => drop(reply.send(Err(internal(message)))),
            Job::Stop => {}
        }
    }
}

/// The writer's queue; cloned into every connection.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    healthy: Arc<AtomicBool>,
    holding: Arc<Holding>,
}

/// The writer thread, to be joined at shutdown.
#[derive(Debug)]
pub struct WriterThread(JoinHandle<()>);

impl WriterThread {
    /// Waits until every queued change is logged and applied and the log's
    /// final snapshot is written. Call after every [`Writer`] is dropped.
    pub fn join(self) {
        let _ = self.0.join();
    }
}

/// A change could not be made durable.
fn internal(message: &str) -> Response {
    Response::Error {
        code: 1000,
        message: message.to_owned(),
    }
}

impl Writer {
    /// Starts the writer thread over `log` and `settings`, with nothing
    /// held; a snapshot is taken every `compact_every` changes and at shutdown.
    pub fn start<L: ChangeLog>(
        log: L,
        settings: Arc<Shared>,
        compact_every: u64,
    ) -> std::io::Result<(Writer, WriterThread)> {
        Writer::start_holding(log, settings, Arc::new(Holding::default()), compact_every)
    }

    /// Starts the writer thread over `log`, `settings` and `holding` (the
    /// held items and released digests recovered with the settings); a
    /// snapshot is taken every `compact_every` records and at shutdown.
    pub fn start_holding<L: ChangeLog>(
        mut log: L,
        settings: Arc<Shared>,
        holding: Arc<Holding>,
        compact_every: u64,
    ) -> std::io::Result<(Writer, WriterThread)> {
        let (queue, mut jobs) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let healthy = Arc::new(AtomicBool::new(true));
        let flag = healthy.clone();
        let state = holding.clone();
        let thread = std::thread::Builder::new().name("dnd-writer".into()).spawn(move || {
            let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
            let mut stop = false;
            while !stop {
                let Some(first) = jobs.blocking_recv() else { break };
                let mut next = Some(first);
                while let Some(job) = next.take() {
                    if let Job::Stop = job {
                        stop = true;
                        break;
                    }
                    batch.push(job);
                    if batch.len() < MAX_BATCH {
                        next = jobs.try_recv().ok();
                    }
                }
                if batch.is_empty() {
                    continue;
                }
                let entries: Vec<Entry<'_>> = batch.iter().map(Job::entry).collect();
                let appended = log.append_entries(&entries);
                drop(entries);
                if let Err(e) = appended {
                    // The log took the batch back: nothing of it was applied,
                    // and the next batch tries again (a disk freed meanwhile).
                    tracing::error!(error = %e, "appending to the log failed; the batch is refused");
                    flag.store(false, Ordering::Release);
                    for job in batch.drain(..) {
                        job.refuse("the change could not be made durable; it was not applied");
                    }
                    continue;
                }
                if !flag.swap(true, Ordering::AcqRel) {
                    tracing::info!("appending to the log works again");
                }
                apply(&mut batch, &settings, &state);
                if log.since_snapshot() >= compact_every {
                    snapshot(&mut log, &settings, &state);
                }
            }
            if log.since_snapshot() > 0 {
                snapshot(&mut log, &settings, &state);
            }
        })?;
        Ok((
            Writer {
                queue,
                healthy,
                holding,
            },
            WriterThread(thread),
        ))
    }

    /// The held items and released digests this writer changes.
    pub fn holding(&self) -> &Arc<Holding> {
        &self.holding
    }

    /// Logs, applies and answers a change.
    pub async fn change(&self, request: Request) -> Response {
        let (reply, answer) = oneshot::channel();
        if self.queue.send(Job::Change(request, reply)).await.is_err() {
            return internal("the service is shutting down");
        }
        answer
            .await
            .unwrap_or_else(|_| internal("the writer stopped before answering"))
    }

    /// Logs and applies a hold, once it is durable.
    pub async fn hold(&self, record: HoldRecord) -> Result<(), Response> {
        let (reply, answer) = oneshot::channel();
        if self.queue.send(Job::Hold(record, reply)).await.is_err() {
            return Err(internal("the service is shutting down"));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(internal("the writer stopped before answering")))
    }

    /// Logs and applies an evaluation of the held items at `at` (epoch ms):
    /// how many digests it released.
    pub async fn release(&self, at: i64) -> Result<usize, Response> {
        let (reply, answer) = oneshot::channel();
        if self
            .queue
            .send(Job::Release(ReleaseRecord { at }, reply))
            .await
            .is_err()
        {
            return Err(internal("the service is shutting down"));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(internal("the writer stopped before answering")))
    }

    /// Asks the writer to stop after the changes queued before this call;
    /// changes sent later are refused.
    pub async fn stop(&self) {
        let _ = self.queue.send(Job::Stop).await;
    }

    /// Whether changes can be made durable: the last append worked.
    pub fn healthy(&self) -> bool {
        self.healthy.load(Ordering::Acquire) && !self.queue.is_closed()
    }
}

/// Applies a durable batch in order, and answers each job: runs of
/// changes as one new version of the settings, holds and evaluations
/// between them.
fn apply(batch: &mut Vec<Job>, settings: &Shared, holding: &Holding) {
    let mut changes: Vec<Request> = Vec::new();
    let mut replies: Vec<oneshot::Sender<Response>> = Vec::new();
    let mut held_changed = false;
    let flush = |changes: &mut Vec<Request>, replies: &mut Vec<oneshot::Sender<Response>>| {
        if changes.is_empty() {
            return;
        }
        // One new version for the run: a refused change changes nothing.
        let answers = settings.apply_all(changes);
        changes.clear();
        for (reply, answer) in replies.drain(..).zip(answers) {
            let _ = reply.send(answer);
        }
        holding.settings_changed();
    };
    for job in batch.drain(..) {
        match job {
            Job::Change(r, reply) => {
                changes.push(r);
                replies.push(reply);
            }
            Job::Hold(record, reply) => {
                flush(&mut changes, &mut replies);
                let outcome = apply_hold(&mut holding.held_mut(), &record);
                holding.held_record(&record);
                if let Err(e) = &outcome {
                    // Logged and refused alike by recovery: nothing held.
                    tracing::error!(error = %e, "a hold was refused after it was logged");
                }
                held_changed = true;
                let _ = reply.send(outcome.map_err(|e| internal(&e.to_string())));
            }
            Job::Release(record, reply) => {
                flush(&mut changes, &mut replies);
                let current = read(settings);
                let outcome = apply_release(
                    &mut holding.held_mut(),
                    &current,
                    &mut holding.released_mut(),
                    record.at,
                );
                holding.evaluated();
                held_changed = true;
                let _ = reply.send(outcome.map_err(|e| internal(&e.to_string())));
            }
            Job::Stop => {}
        }
    }
    flush(&mut changes, &mut replies);
    if held_changed {
        holding.published(true);
    }
}

fn snapshot<L: ChangeLog>(log: &mut L, settings: &Shared, holding: &Holding) {
    let started = std::time::Instant::now();
    // Only this thread changes the settings and the held items, so the
    // current version is exactly the state the log describes; gets and
    // decisions go on while it is written.
    let current = read(settings);
    let held = holding.held();
    let released = holding.released();
    let state = StateRef {
        settings: &current,
        held: &held,
        released: &released,
    };
    match log.snapshot_state(&state) {
        Ok(()) => tracing::info!(ms = started.elapsed().as_millis() as u64, "snapshot written"),
        // The log still holds every change: nothing is lost, it grows.
        Err(e) => tracing::error!(error = %e, "writing a snapshot failed; the log keeps growing"),
    }
}
