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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use dnd_engine::{Request, Response};
use tokio::sync::{mpsc, oneshot};

use crate::store::ChangeLog;
use crate::{read, Shared};

/// The most changes appended with one sync.
const MAX_BATCH: usize = 1024;

/// A change and where its answer goes, or the order to stop.
enum Job {
    Change(Request, oneshot::Sender<Response>),
    Stop,
}

/// The writer's queue; cloned into every connection.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: mpsc::Sender<Job>,
    healthy: Arc<AtomicBool>,
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
    /// Starts the writer thread over `log` and `settings`; a snapshot is
    /// taken every `compact_every` changes and at shutdown.
    pub fn start<L: ChangeLog>(
        mut log: L,
        settings: Arc<Shared>,
        compact_every: u64,
    ) -> std::io::Result<(Writer, WriterThread)> {
        let (queue, mut jobs) = mpsc::channel::<Job>(4 * MAX_BATCH);
        let healthy = Arc::new(AtomicBool::new(true));
        let flag = healthy.clone();
        let thread = std::thread::Builder::new().name("dnd-writer".into()).spawn(move || {
            let mut batch: Vec<Request> = Vec::with_capacity(MAX_BATCH);
            let mut replies: Vec<oneshot::Sender<Response>> = Vec::with_capacity(MAX_BATCH);
            let mut stop = false;
            while !stop {
                let Some(first) = jobs.blocking_recv() else { break };
                let mut next = Some(first);
                while let Some(job) = next.take() {
                    match job {
                        Job::Change(r, reply) => {
                            batch.push(r);
                            replies.push(reply);
                        }
                        Job::Stop => {
                            stop = true;
                            break;
                        }
                    }
                    if batch.len() < MAX_BATCH {
                        next = jobs.try_recv().ok();
                    }
                }
                if batch.is_empty() {
                    continue;
                }
                let requests: Vec<&Request> = batch.iter().collect();
                if let Err(e) = log.append(&requests) {
                    // The log took the batch back: nothing of it was applied,
                    // and the next batch tries again (a disk freed meanwhile).
                    tracing::error!(error = %e, "appending to the log failed; the batch is refused");
                    flag.store(false, Ordering::Release);
                    batch.clear();
                    for reply in replies.drain(..) {
                        let _ = reply.send(internal("the change could not be made durable; it was not applied"));
                    }
                    continue;
                }
                if !flag.swap(true, Ordering::AcqRel) {
                    tracing::info!("appending to the log works again");
                }
                // One new version for the batch: a refused change changes nothing.
                let answers = settings.apply_all(&batch);
                batch.clear();
                for (reply, answer) in replies.drain(..).zip(answers) {
                    let _ = reply.send(answer);
                }
                if log.since_snapshot() >= compact_every {
                    snapshot(&mut log, &settings);
                }
            }
            if log.since_snapshot() > 0 {
                snapshot(&mut log, &settings);
            }
        })?;
        Ok((Writer { queue, healthy }, WriterThread(thread)))
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

fn snapshot<L: ChangeLog>(log: &mut L, settings: &Shared) {
    let started = std::time::Instant::now();
    // Only this thread changes the settings, so the current version is
    // exactly the state the log describes; gets and decisions go on while it
    // is written.
    match log.snapshot(&read(settings)) {
        Ok(()) => tracing::info!(ms = started.elapsed().as_millis() as u64, "snapshot written"),
        // The log still holds every change: nothing is lost, it grows.
        Err(e) => tracing::error!(error = %e, "writing a snapshot failed; the log keeps growing"),
    }
}
