//! Loading one side of a migration: a live cluster (all reads concurrent)
//! or a snapshot directory, into its canonical document.

use serde_json::{Map, Value};

use crate::api::{ApiError, Client, ErrorKind};
use crate::config::{ClusterRef, Settings};
use crate::document::{self, Canonical};
use crate::error::Error;

pub struct Side {
    pub label: String,
    pub canonical: Canonical,
    /// The document before ignore rules were applied (to fill PUT bodies).
    pub raw: Value,
    /// `GET admin/configinfo/overrides` (live clusters).
    pub overrides: Option<Map<String, Value>>,
    /// `GET metadata/listobjectheaders` (live clusters).
    pub objects: Option<Vec<Value>>,
    pub client: Option<Client>,
    /// Where the document's secrets are (ignored paths removed).
    pub secret_paths: Vec<Vec<String>>,
    /// The cluster's URL (for a snapshot: the URL it was exported from).
    pub url: String,
    pub parallel: Option<usize>,
}

impl Side {
    pub fn doc(&self) -> &Value {
        &self.canonical.doc
    }
}

/// Turns an API failure into the user-facing error (exit 6 for a cluster).
pub fn cluster_error(client: &Client, what: &str, e: ApiError) -> Error {
    let label = client.endpoint.label.clone();
    let message = match e.kind {
        ErrorKind::Refused => format!("{what}: the cluster refused the credentials ({e}); {}", client.endpoint.credentials_hint),
        ErrorKind::Transient => format!("{what}: the cluster is unreachable or failing ({e}); check the URL, the network and that the cluster is up"),
        ErrorKind::Rejected | ErrorKind::BadResponse => format!("{what}: {e}"),
    };
    Error::Cluster {
        cluster: label,
        message,
    }
}

pub async fn connect(r: &ClusterRef) -> Result<Client, Error> {
    let ClusterRef::Live { endpoint, .. } = r else {
        return Err(Error::Usage(format!(
            "{}: a snapshot directory is read-only; name a live cluster",
            r.label()
        )));
    };
    match Client::connect(endpoint.clone()).await {
        Ok(c) => Ok(c),
        Err(e) => {
            let message = match e.kind {
                ErrorKind::Refused => format!("login refused ({e}); {}", endpoint.credentials_hint),
                ErrorKind::Transient => {
                    format!("unreachable ({e}); check the URL and that the cluster is up")
                }
                _ => format!("login failed: {e}"),
            };
            Err(Error::Cluster {
                cluster: endpoint.label.clone(),
                message,
            })
        }
    }
}

/// Reads the canonical document of a live cluster.
pub async fn read_live(
    client: &Client,
) -> Result<(Canonical, Map<String, Value>, Vec<Value>), Error> {
    let (canonical, overrides, objects) = tokio::try_join!(
        read_document(client),
        async {
            client
                .overrides()
                .await
                .map_err(|e| cluster_error(client, "admin/configinfo/overrides", e))
        },
        async {
            client
                .object_headers()
                .await
                .map_err(|e| cluster_error(client, "metadata/listobjectheaders", e))
        },
    )?;
    Ok((canonical, overrides, objects))
}

/// Reads only the canonical document (configinfo and actions): enough to
/// verify an apply.
pub async fn read_document(client: &Client) -> Result<Canonical, Error> {
    let (config, actions) = tokio::try_join!(
        async {
            client
                .configinfo()
                .await
                .map_err(|e| cluster_error(client, "admin/configinfo", e))
        },
        async {
            client
                .actions()
                .await
                .map_err(|e| cluster_error(client, "admin/embed/actions", e))
        },
    )?;
    document::from_api(&client.endpoint.label, config, actions)
}

/// Loads a side; ignored paths are removed.
pub async fn load(r: &ClusterRef, settings: &Settings) -> Result<Side, Error> {
    let mut side = match r {
        ClusterRef::Snapshot(dir) => {
            // Off the async threads, so that two sides load in parallel.
            let dir = dir.clone();
            let rules = settings.ignore.clone();
            let (doc, url, secret_paths) = tokio::task::spawn_blocking(move || {
                let (mut doc, url) = crate::snapshot::read(&dir)?;
                crate::ignore::strip(&mut doc, &rules);
                let paths = crate::secrets::secret_paths(&doc);
                Ok::<_, Error>((doc, url, paths))
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
            Side {
                label: r.label(),
                // A snapshot is never written to: no PUT bodies to fill.
                raw: Value::Null,
                secret_paths,
                canonical: Canonical {
                    doc,
                    action_ids: Default::default(),
                },
                overrides: None,
                objects: None,
                client: None,
                url,
                parallel: None,
            }
        }
        ClusterRef::Live { endpoint, parallel } => {
            let client = connect(r).await?;
            let (canonical, overrides, objects) = read_live(&client).await?;
            Side {
                label: r.label(),
                raw: canonical.doc.clone(),
                secret_paths: Vec::new(),
                canonical,
                overrides: Some(overrides),
                objects: Some(objects),
                url: endpoint.url.clone(),
                client: Some(client),
                parallel: *parallel,
            }
        }
    };
    if side.client.is_some() {
        crate::ignore::strip(&mut side.canonical.doc, &settings.ignore);
        side.secret_paths = crate::secrets::secret_paths(&side.canonical.doc);
    }
    Ok(side)
}
