//! The one integration-test binary: real HTTP to real simulators on loopback.

mod apply;
mod cli;
mod demo;
mod diff;
mod environments;
mod hostile;
mod inputs;
mod layout;
mod model;
mod oracle;
mod org_races;
mod orgs;
mod pair_oracle;
mod props;
mod proxy;
mod read;
mod real;
mod report;
mod safety;
mod sim;
mod support;
mod v2;
mod watch;
