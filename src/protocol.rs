//! What crosses the engine's boundary: the platform's form requests and
//! their JSON form ([`request`], public as `dnd_engine::api`), the v4
//! requests ([`v4`], public as `dnd_engine::api_v4`), the replay protocol's
//! push objects and decision lines ([`push`]), the saved form of the
//! settings (`snapshot`), routing to shards ([`shard`]), and the shapes
//! outside JSON may take (`shape`).

pub mod push;
pub mod request;
pub(crate) mod shape;
pub mod shard;
pub(crate) mod snapshot;
pub mod v4;
