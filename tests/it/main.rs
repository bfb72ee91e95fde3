//! The integration tests: one binary, one module per concern.

mod alloc;
mod api;
mod fanout;
mod naive;
mod properties;
mod push;
mod rules;
mod shards;
mod support;
mod time;
mod time_props;
