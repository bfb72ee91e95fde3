//! dnd-engine's settings sharded over NATS JetStream, deciding exactly as one
//! node does (`docs/scaling.md`).
//!
//! - [`space`]: apps kept apart: each app key's own stream, subjects, shard
//!   state and snapshots.
//! - [`log`]: an app's stream of accepted settings requests, one subject per
//!   logical partition plus a broadcast subject, appended with the client's
//!   id as `Nats-Msg-Id` so that a retry is stored once, and stamped with
//!   the append call so that the node's own retry is told apart.
//! - [`worker`]: a shard: restores its newest snapshot, applies its subjects
//!   in stream order exactly once ([`dnd_engine::shard::Replica`]), answers
//!   gets and decisions for its users after the writes they must see, and
//!   snapshots with the sequence covered, trimming the stream below the
//!   oldest snapshot still needed but never inside the duplicate window.
//! - [`api`]: the API node, a [`dnd_server::Backend`] behind the settings
//!   service's HTTP front: appends changes, routes gets; splits a push by
//!   shard, decides chunk by chunk and merges in recipient order.
//! - [`holding`]: held pushes: a decide that holds goes to the stream as
//!   hold records before the answer; each shard holds its users' items,
//!   keeps them in its snapshot and, at its clock's release records,
//!   releases the digests due.
//! - [`released`]: the app's released digests, a stream push workers
//!   consume and API nodes serve `/push/released.json` from.
//! - [`apps`]: a shard process, one worker per app's stream.
//! - [`layouts`] and [`reshard`]: the layout an app's API nodes route by,
//!   and changing it while the app serves, from the old shards' snapshots
//!   split by partition (no replay from the stream's start).
//! - [`run`]: the processes, as `dnd serve --cluster` and `dnd cluster
//!   shard|local` start them.
//! - [`wire`] and [`frame`]: what travels between them (a decide as a
//!   binary frame of ids, answered with verdicts).
//! - [`nats_server`]: starts a `nats-server` on a free loopback port:
//!   `$NATS_SERVER` or one on `PATH` (tests, and `dnd cluster local`).
//!
//! The core crate knows nothing of NATS: routing, the exactly-once guard and
//! the sequenced snapshot are in [`dnd_engine::shard`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod apps;
pub mod ask;
mod decider;
mod feed;
pub mod frame;
pub mod holding;
pub mod layouts;
pub mod log;
pub mod members;
pub mod nats_server;
pub mod released;
pub mod reshard;
pub mod run;
mod snapshot;
pub mod space;
mod trim;
mod watchdog;
pub mod wire;
pub mod worker;

use std::fmt::Display;

/// What can go wrong between the nodes: each names the operation.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A NATS or JetStream call failed.
    #[error("{what}: {why}")]
    Nats {
        /// The operation.
        what: &'static str,
        /// The client's error, as text.
        why: String,
    },
    /// A call did not answer in time.
    #[error("{0}: no answer in time")]
    Timeout(&'static str),
    /// A frame from another node, a snapshot or a stream entry could not be read.
    #[error("{what}: {why}")]
    Frame {
        /// What was being read.
        what: &'static str,
        /// Why it was refused.
        why: String,
    },
    /// The NATS server cannot serve this design (for example a 2.9 server
    /// that dropped several filter subjects), or could not be started.
    #[error("nats-server: {0}")]
    Server(String),
    /// The stream was trimmed past the point this shard's snapshot covers
    /// (its snapshot is missing or older than the trim): the entries in
    /// between are gone, so the shard refuses to start rather than decide
    /// without them.
    #[error(
        "the stream starts at sequence {first}, but this shard's snapshot covers only up to {applied} \
         (missing, or older than the stream's trim): entries {} to {} are gone; \
         put back a snapshot covering at least sequence {}",
        applied.saturating_add(1),
        first.saturating_sub(1),
        first.saturating_sub(1)
    )]
    Trimmed {
        /// The last sequence the shard's snapshot covers (0: no snapshot).
        applied: u64,
        /// The stream's first sequence.
        first: u64,
    },
    /// An input was refused by the engine.
    #[error(transparent)]
    Engine(#[from] dnd_engine::Error),
}

impl Error {
    pub(crate) fn frame(what: &'static str, why: impl Display) -> Error {
        Error::Frame {
            what,
            why: why.to_string(),
        }
    }
}

/// Maps a client error to [`Error::Nats`] naming `what`.
pub(crate) fn nats<E: Display>(what: &'static str) -> impl FnOnce(E) -> Error {
    move |e| Error::Nats {
        what,
        why: e.to_string(),
    }
}
