//! The HTTP client of the ThoughtSpot APIs, one file per job: a `Host`
//! (host.rs) is one cluster URL, the connection pool and what all requests
//! to it share; a `Session` (session.rs) is one login on a host, with its
//! own cookies, so several Orgs of one cluster can be open at once; every
//! call goes through the one retry loop (retry.rs), which logs in again
//! when the cluster forgets the session; `Cluster` (cluster.rs) has the
//! typed calls, in REST v1 or v2 (v2.rs, v2map.rs). A failed call is an
//! `ApiError` (error.rs).

mod cluster;
mod error;
mod host;
pub mod org_gate;
mod pace;
mod request;
pub mod retry;
mod session;
mod v2;
pub mod v2map;

pub use cluster::Cluster;
pub use error::{ApiError, ErrorKind};
pub use host::Host;
pub use org_gate::OrgMode;
pub use request::{Body, Request, Retry};
pub use session::{Session, Sessions};
pub use v2map::Api;
