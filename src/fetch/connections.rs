//! The Org pool of one command: one connection pool per cluster URL, one
//! session per REF and Org, reused for the next Org of the same cluster;
//! a session is put in its Org, and checked to be there, before anything
//! read through it is used (and again after every later login).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::error::{cluster_error, connect_error};
use super::reader::{read_document, LiveDocument};
use crate::api::{self, ApiError, Cluster, ErrorKind, Host, Session};
use crate::config::settings::{Credentials, NetOptions};
use crate::config::LiveRef;
use crate::error::Error;
use crate::model::{self, OrgSpec};

/// Hosts and sessions of one command: one connection pool (and one rate
/// limiter) per cluster URL, one session per REF and Org, all closed at
/// the end. A session released by one Org's work is reused, switched, for
/// the next Org of the same cluster and credentials (a rollout to many
/// Orgs logs in once per parallel target, not once per Org).
#[derive(Default)]
pub struct Connections {
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    clusters: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Cluster>>>>,
    /// Released sessions, by endpoint (label and URL: the same credentials).
    idle: Mutex<HashMap<String, Vec<Arc<Session>>>>,
    /// `GET session/orgs` of each cluster URL (`None`: it has no Orgs).
    orgs: Mutex<HashMap<String, Option<Vec<model::Org>>>>,
    /// Documents read while the Org was being checked (`read_ahead`), by
    /// REF and Org, for the first `load` to take.
    read_ahead: Mutex<HashMap<String, LiveDocument>>,
    sessions: api::Sessions,
}

fn endpoint_key(live: &LiveRef) -> String {
    format!("{}\n{}", live.endpoint.label, live.endpoint.url)
}

fn cluster_key(live: &LiveRef) -> String {
    format!("{}\n{}", endpoint_key(live), live.org_spec())
}

impl Connections {
    /// The cluster of `live`, connected (and logged in, in its Org) on
    /// first use. Connections to different REFs or Orgs are made
    /// concurrently; one REF and Org is connected once.
    pub async fn cluster(&self, live: &LiveRef, net: &NetOptions) -> Result<Cluster, Error> {
        self.connected(live, net, false).await
    }

    /// Connects as `cluster` does, reading the document at the same time
    /// as the Org is checked: the first `load` of `live` takes that
    /// document when the session was in the Org all along (a login lands
    /// in the Org the user last used), which saves a round trip. For a
    /// caller that holds the target's lock and loads it next.
    pub async fn cluster_reading_ahead(
        &self,
        live: &LiveRef,
        net: &NetOptions,
    ) -> Result<Cluster, Error> {
        self.connected(live, net, true).await
    }

    /// The cluster of `live`, connected once (whoever asks first says
    /// whether it reads ahead).
    async fn connected(
        &self,
        live: &LiveRef,
        net: &NetOptions,
        read_ahead: bool,
    ) -> Result<Cluster, Error> {
        let cell = {
            let mut clusters = self
                .clusters
                .lock()
                .map_err(|_| Error::Internal("session table poisoned".into()))?;
            clusters.entry(cluster_key(live)).or_default().clone()
        };
        cell.get_or_try_init(|| self.connect(live, net, read_ahead))
            .await
            .cloned()
    }

    /// The document read ahead for `live`, once.
    pub(super) fn take_read_ahead(&self, live: &LiveRef) -> Option<LiveDocument> {
        self.read_ahead
            .lock()
            .ok()
            .and_then(|mut r| r.remove(&cluster_key(live)))
    }

    async fn connect(
        &self,
        live: &LiveRef,
        net: &NetOptions,
        read_ahead: bool,
    ) -> Result<Cluster, Error> {
        if matches!(live.endpoint.credentials, Credentials::None) {
            return Err(Error::Cluster {
                cluster: live.endpoint.label.clone(),
                message: format!(
                    "no credentials to log in with: {}",
                    live.endpoint.credentials_hint
                ),
            });
        }
        let reused = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.get_mut(&endpoint_key(live)).and_then(Vec::pop));
        let session = match reused {
            Some(s) => s,
            None => {
                let host = self.host(live, net)?;
                let session = Session::open(host, live.endpoint.clone(), net)
                    .await
                    .map_err(|e| connect_error(&live.endpoint, e))?;
                self.sessions.register(&session);
                session
            }
        };
        let cluster = Cluster::new(session);
        if !read_ahead {
            self.enter_org(&cluster, live, None).await?;
            return Ok(cluster);
        }
        let logins = cluster.session.logins();
        // The reads stop as soon as the session has to switch: what they
        // would answer is of another Org.
        let switching = tokio::sync::Notify::new();
        let read = async {
            tokio::select! {
                read = read_document(&cluster) => read.ok(),
                () = switching.notified() => None,
            }
        };
        let (entered, read) = tokio::join!(self.enter_org(&cluster, live, Some(&switching)), read);
        // Kept only if the session never left the Org: not switched, and
        // not logged in again (a new login may land elsewhere) meanwhile.
        let stayed = entered? == Entered::AlreadyThere && cluster.session.logins() == logins;
        if let (true, Some(doc)) = (stayed, read) {
            if let Ok(mut r) = self.read_ahead.lock() {
                r.insert(cluster_key(live), doc);
            }
        }
        Ok(cluster)
    }

    /// Done with `live` in this command: its session may serve another Org
    /// of the same cluster. It stays logged in until `close_all`.
    pub fn release(&self, live: &LiveRef) {
        let cell = self
            .clusters
            .lock()
            .ok()
            .and_then(|mut c| c.remove(&cluster_key(live)));
        let Some(cluster) = cell.and_then(|c| c.get().cloned()) else {
            return;
        };
        if let Ok(mut idle) = self.idle.lock() {
            idle.entry(endpoint_key(live))
                .or_default()
                .push(cluster.session);
        }
    }

    fn host(&self, live: &LiveRef, net: &NetOptions) -> Result<Arc<Host>, Error> {
        let mut hosts = self
            .hosts
            .lock()
            .map_err(|_| Error::Internal("host table poisoned".into()))?;
        if let Some(h) = hosts.get(&live.endpoint.url) {
            return Ok(h.clone());
        }
        let host = Host::new(&live.endpoint.url, live.endpoint.insecure_tls, net)
            .map_err(|e| connect_error(&live.endpoint, e))?;
        hosts.insert(live.endpoint.url.clone(), host.clone());
        Ok(host)
    }

    /// The Orgs of the cluster of `live` (`None`: it has no Orgs), asked
    /// once per cluster.
    pub async fn org_list(
        &self,
        live: &LiveRef,
        net: &NetOptions,
    ) -> Result<Option<Vec<model::Org>>, Error> {
        if let Some(known) = self.known_orgs(&live.endpoint.url) {
            return Ok(known);
        }
        let cluster = self.cluster(live, net).await?;
        let list = cluster
            .org_list()
            .await
            .map_err(|e| cluster_error(&cluster, "GET session/orgs", e))?;
        let orgs = list.map(|l| l.orgs);
        self.remember_orgs(&live.endpoint.url, orgs.clone());
        Ok(orgs)
    }

    fn known_orgs(&self, url: &str) -> Option<Option<Vec<model::Org>>> {
        self.orgs.lock().ok().and_then(|o| o.get(url).cloned())
    }

    fn remember_orgs(&self, url: &str, orgs: Option<Vec<model::Org>>) {
        if let Ok(mut o) = self.orgs.lock() {
            o.insert(url.to_string(), orgs);
        }
    }

    /// Puts the session of `cluster` in the Org `live` names (the Primary
    /// Org unless named) and checks that it took: a login lands in
    /// whatever Org the user last used, so nothing is written, and nothing
    /// read is used, before this. After every later login (an expired
    /// session) the session is put back in it. `switching` (reads ahead)
    /// is told before a switch.
    async fn enter_org(
        &self,
        cluster: &Cluster,
        live: &LiveRef,
        switching: Option<&tokio::sync::Notify>,
    ) -> Result<Entered, Error> {
        let spec = live.org_spec();
        let url = &live.endpoint.url;
        // The Orgs of the cluster, and where the session is when that is
        // known from the same answer.
        let (orgs, current) = match self.known_orgs(url) {
            Some(orgs) => (orgs, cluster.org().map(|o| o.id)),
            None => {
                let list = cluster
                    .org_list()
                    .await
                    .map_err(|e| cluster_error(cluster, "GET session/orgs", e))?;
                let current = list.as_ref().map(|l| l.current);
                let orgs = list.map(|l| l.orgs);
                self.remember_orgs(url, orgs.clone());
                (orgs, current)
            }
        };
        let Some(orgs) = orgs else {
            // No Orgs: everything is the Primary Org's.
            if spec != OrgSpec::Id(model::PRIMARY_ORG) {
                return Err(Error::Usage(format!(
                    "{}: Org {spec} was asked for, but the cluster has no Orgs",
                    live.endpoint.label
                )));
            }
            cluster.session.set_org(None);
            return Ok(Entered::AlreadyThere);
        };
        let Some(org) = spec.find(&orgs).cloned() else {
            let known: Vec<String> = orgs.iter().map(|o| o.to_string()).collect();
            return Err(Error::Usage(format!(
                "{}: there is no Org {spec} that this user can see; the Orgs are: {}",
                live.endpoint.label,
                known.join(", ")
            )));
        };
        let id = org.id;
        let entered = if current == Some(id) {
            Entered::AlreadyThere
        } else {
            // Elsewhere, or where a new login landed is not known: switch,
            // then check.
            if let Some(s) = switching {
                s.notify_one();
            }
            switch_and_check(cluster, id, true)
                .await
                .map_err(|e| cluster_error(cluster, &format!("switching to Org {org}"), e))?;
            Entered::Switched
        };
        let hook: api::AfterLogin = Arc::new(move |session: Arc<Session>| {
            let c = Cluster::new(session);
            Box::pin(async move { switch_and_check(&c, id, false).await })
        });
        cluster.session.set_after_login(hook);
        cluster.session.set_org(Some(org));
        Ok(entered)
    }

    /// Logs out of every session opened.
    pub async fn close_all(&self) {
        self.sessions.close_all().await;
        if let Ok(mut c) = self.clusters.lock() {
            c.clear();
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }
}

/// Whether entering an Org had to switch the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entered {
    AlreadyThere,
    Switched,
}

/// Switches the session to Org `id` and reads the current Org back: the
/// switch must have taken. Unless `blind`, the current Org is read first
/// and a session already there is left alone.
async fn switch_and_check(cluster: &Cluster, id: i64, blind: bool) -> Result<(), ApiError> {
    let current = |l: Option<api::OrgList>| l.map_or(model::PRIMARY_ORG, |l| l.current);
    if !blind && current(cluster.org_list().await?) == id {
        return Ok(());
    }
    cluster.switch_org(id).await?;
    let now = current(cluster.org_list().await?);
    if now != id {
        return Err(ApiError {
            kind: ErrorKind::BadResponse,
            status: None,
            message: format!(
                "PUT session/orgs answered success, but the session is in Org {now}, not Org {id}"
            ),
            attempts: 1,
        });
    }
    Ok(())
}
