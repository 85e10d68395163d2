//! tsmigrate: migrate the configuration of a ThoughtSpot cluster.
//!
//! Data flows one way: arguments → config → fetch → canonical document →
//! diff → plan → apply → verify. `run::run` is the whole program.

pub mod api;
pub mod apply;
#[doc(hidden)]
pub mod benchdata;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod diff;
pub mod document;
pub mod error;
pub mod fsutil;
pub mod ignore;
pub mod jsonfile;
pub mod jsonvalue;
pub mod mapping;
pub mod plan;
pub mod pointer;
pub mod run;
pub mod secrets;
pub mod signals;
pub mod sim;
pub mod snapshot;
pub mod validate;
pub mod watch;

pub use error::Error;
