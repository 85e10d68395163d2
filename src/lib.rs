//! tsmigrate: migrate the configuration of a ThoughtSpot cluster.
//!
//! Data flows one way: arguments → config → fetch → canonical document →
//! diff → plan → apply → verify. `commands::run` runs one command; the
//! modules made public here are those the binary, the tests, the
//! benchmarks and the fuzz targets use.

// Primitives: the API's vocabulary, documents, diffs, secrets.
#[doc(hidden)]
pub mod benchdata;
pub mod diff;
pub mod document;
pub mod error;
pub mod model;
pub mod plan;
pub mod pointer;
pub mod secrets;
pub mod snapshot;

// The edge: command line, output, settings, commands.
pub mod cli;
pub mod commands;
pub mod config;
pub mod output;

// The simulated cluster (tests, benchmarks, `demo`).
pub mod sim;

// The pipeline, used through the commands.
pub(crate) mod api;
pub(crate) mod apply;
pub(crate) mod compare;
pub(crate) mod fetch;
pub(crate) mod fsutil;
pub(crate) mod json;
pub(crate) mod mapping;
pub(crate) mod net;
pub(crate) mod parallel;
pub(crate) mod select;
pub(crate) mod signals;
pub(crate) mod validate;

pub use error::Error;
