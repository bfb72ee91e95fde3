//! The integration tests: one binary, one module per concern.

mod alloc;
mod api;
mod handles;
mod inputs;
mod json;
mod naive;
mod properties;
mod rules;
mod shared;
mod support;
mod times;
