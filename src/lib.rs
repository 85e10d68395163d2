//! tsmigrate: migrate the configuration of a ThoughtSpot cluster.
//!
//! Data flows one way: arguments → config → fetch → canonical document →
//! diff → plan → apply → verify. `commands::run` runs one command. Public
//! here is only what the binary, the integration tests, the benchmarks,
//! the examples and the fuzz targets use; the rest is the crate's own, so
//! that what nothing uses shows up as dead code.

// The edge: command line, settings, output, commands.
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod output;

// What the tests, benchmarks and fuzz targets call directly.
#[doc(hidden)]
pub mod benchdata;
pub mod diff;
pub mod document;
pub mod plan;
pub mod pointer;
pub mod secrets;
pub mod snapshot;

// The simulated cluster (tests, benchmarks, `demo`).
pub mod sim;

// The crate's own.
pub(crate) mod api;
pub(crate) mod apply;
pub(crate) mod compare;
pub(crate) mod fetch;
pub(crate) mod fsutil;
pub(crate) mod json;
pub(crate) mod mapping;
pub(crate) mod model;
pub(crate) mod net;
pub(crate) mod parallel;
pub(crate) mod select;
pub(crate) mod signals;
pub(crate) mod validate;
pub(crate) mod words;

pub use error::Error;
