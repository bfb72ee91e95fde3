//! What crosses the engine's boundary: the platform's form requests and
//! their JSON form ([`request`], public as `dnd_engine::api`), the v4
//! requests ([`v4`], public as `dnd_engine::api_v4`), the replay protocol's
//! push objects and decision lines ([`push`]), the released-digest protocol
//! ([`released`]), the saved form of the
//! settings (`snapshot`) and routing to shards ([`shard`]).

pub mod push;
pub mod released;
pub mod request;
pub mod shard;
pub mod snapshot;
pub mod v4;
