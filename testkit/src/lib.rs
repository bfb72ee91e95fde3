//! What the workspace's tests and benchmarks share, in one place instead of
//! a copy per member: the signing HTTP/1.1 client ([`client`]), the
//! keep-alive load client of the benchmarks ([`load`]), a started
//! server's address ([`process`]), the tests' `nats-server` ([`nats`]) and a generated world of settings
//! requests and pushes ([`world`]).
//!
//! A dev-dependency of `dnd-server`, `dnd-cluster` and `dnd-cli` only, never
//! published (`publish = false`). It panics freely: its callers are tests.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod client;
pub mod load;
pub mod nats;
pub mod process;
pub mod world;
