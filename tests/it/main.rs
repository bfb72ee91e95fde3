//! The integration tests: one binary, one module per concern.

mod alloc;
mod api;
mod naive;
mod properties;
mod push;
mod rules;
mod sparse;
mod support;
mod time;
mod time_props;
