//! The wording of an API failure met while reading a side: the
//! user-facing error (exit 6) that names the cluster, what was being done,
//! and where to look (the credentials, the URL, the network).

use crate::api::{ApiError, Cluster, ErrorKind};
use crate::config::settings::Endpoint;
use crate::error::Error;

pub(super) fn connect_error(endpoint: &Endpoint, e: ApiError) -> Error {
    let message = match e.kind {
        ErrorKind::Refused => format!("login refused ({e}); {}", endpoint.credentials_hint),
        ErrorKind::Transient => {
            format!("unreachable ({e}); check the URL and that the cluster is up")
        }
        _ => format!("login failed: {e}"),
    };
    Error::Cluster {
        cluster: endpoint.label.clone(),
        message,
    }
}

/// Turns an API failure into the user-facing error (exit 6 for a cluster).
pub fn cluster_error(cluster: &Cluster, what: &str, e: ApiError) -> Error {
    let endpoint = &cluster.session.endpoint;
    let message = match e.kind {
        ErrorKind::Refused => format!(
            "{what}: the cluster refused the credentials ({e}); {}",
            endpoint.credentials_hint
        ),
        ErrorKind::Transient => format!(
            "{what}: the cluster is unreachable or failing ({e}); check the URL, the network and that the cluster is up"
        ),
        ErrorKind::OrgMoved => format!(
            "{what}: another session of this user kept switching Orgs, so no answer could be proven to come from the Org asked for ({e})"
        ),
        ErrorKind::Server | ErrorKind::Rejected | ErrorKind::BadResponse => format!("{what}: {e}"),
    };
    Error::Cluster {
        cluster: endpoint.label.clone(),
        message,
    }
}
