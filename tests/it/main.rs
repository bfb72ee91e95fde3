//! The integration tests: one binary, one module per concern.

mod alloc;
mod api;
mod checks;
mod defer_edge;
mod fanout;
mod fuzz_found;
mod gen;
mod handles;
mod inputs;
mod json;
mod keywords;
mod naive;
mod policy;
mod policy_api;
mod policy_props;
mod properties;
mod push;
mod rules;
mod shards;
mod shared;
mod snapshot_null;
mod sparse;
mod support;
mod time;
mod time_props;
mod times;
