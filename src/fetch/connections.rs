//! The Org pool of one command: one connection pool per cluster URL, one
//! session per REF and Org, reused for the next Org of the same cluster;
//! a session is put in its Org, and checked to be there, before anything
//! read through it is used (and again after every later login).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::error::{cluster_error, connect_error};
use super::reader::{read_document, LiveDocument};
use crate::api::{self, ApiError, Cluster, ErrorKind, Host, OrgMode, Session};
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
            self.enter_org(&cluster, live, None, net).await?;
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
        let (entered, read) =
            tokio::join!(self.enter_org(&cluster, live, Some(&switching), net), read);
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
        net: &NetOptions,
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
        let session = &cluster.session;
        let v1_gated = cluster.api() == api::Api::V1
            && self.org_mode(cluster, live, net, &orgs, current).await? == OrgMode::PerUser;
        let entered = if v1_gated {
            // One Org per user: the session's first wave switches (and
            // every answer is proven); nothing read meanwhile is kept.
            session.set_gate(session.host.gate_of(&user_of(live)));
            if let Some(s) = switching {
                s.notify_one();
            }
            session
                .enter_org(id, true)
                .await
                .map_err(|e| cluster_error(cluster, &format!("entering Org {org}"), e))?;
            Entered::Switched
        } else if current == Some(id) {
            // Already there; still the Org of every later login.
            if cluster.api() == api::Api::V1 {
                session.set_org_target(id);
            }
            Entered::AlreadyThere
        } else {
            // Elsewhere, or where a new login landed is not known: switch,
            // then check, before anything may use the session.
            if let Some(s) = switching {
                s.notify_one();
            }
            let switched = match cluster.api() {
                api::Api::V1 => session.enter_org(id, true).await,
                api::Api::V2 => v2_switch_and_check(cluster, id).await,
            };
            switched.map_err(|e| cluster_error(cluster, &format!("switching to Org {org}"), e))?;
            Entered::Switched
        };
        session.set_org(Some(org));
        Ok(entered)
    }

    /// How the cluster of `live` keeps the current Org of `live`'s user
    /// (REST v1, a password, two Orgs or more: else per session, which is
    /// all that matters there), found out once per cluster and user: a
    /// second login is switched to another Org, and the first session's
    /// Org read again. If it moved, the Org is the user's. The second
    /// session is kept for the next Org of the cluster.
    async fn org_mode(
        &self,
        cluster: &Cluster,
        live: &LiveRef,
        net: &NetOptions,
        orgs: &[model::Org],
        current: Option<i64>,
    ) -> Result<OrgMode, Error> {
        if orgs.len() < 2 || !matches!(live.endpoint.credentials, Credentials::Password { .. }) {
            return Ok(OrgMode::PerSession);
        }
        let host = cluster.session.host.clone();
        let cell = host.org_mode_of(&user_of(live));
        if let Some(mode) = cell.get() {
            return Ok(*mode);
        }
        let what = "finding out whether the current Org is the session's or the user's";
        let current = match current {
            Some(c) => c,
            None => match cluster.session.current_org_now().await {
                Ok(Some(c)) => c,
                Ok(None) => return Ok(OrgMode::PerSession),
                Err(e) => return Err(cluster_error(cluster, what, e)),
            },
        };
        let Some(other) = orgs.iter().find(|o| o.id != current) else {
            return Ok(OrgMode::PerSession);
        };
        let found = cell
            .get_or_try_init(|| async {
                let probe = Session::open(host.clone(), live.endpoint.clone(), net)
                    .await
                    .map_err(|e| connect_error(&live.endpoint, e))?;
                self.sessions.register(&probe);
                // Per session only on proof: the probe in `other` while
                // the first session stayed in `current`, both read after
                // the switch. Any movement seen (a switch that did not stay,
                // the first session moved) can only be the user's Org
                // moving: per user, which costs speed, never safety.
                let mode = match probe.enter_org(other.id, true).await {
                    Err(e) if e.kind == ErrorKind::OrgMoved => OrgMode::PerUser,
                    Err(e) => return Err(cluster_error(cluster, what, e)),
                    Ok(()) => {
                        // Both read after the probe's switch was proven:
                        // at once (one round trip, not two).
                        let (first, second) = tokio::join!(
                            cluster.session.current_org_now(),
                            probe.current_org_now()
                        );
                        let first = first.map_err(|e| cluster_error(cluster, what, e))?;
                        let second = second.map_err(|e| cluster_error(cluster, what, e))?;
                        // A session like any other: the next Org of this
                        // cluster takes it instead of logging in again.
                        if second == Some(other.id) {
                            if let Ok(mut idle) = self.idle.lock() {
                                idle.entry(endpoint_key(live)).or_default().push(probe);
                            }
                        }
                        match (first, second) {
                            (Some(a), Some(b)) if a == current && b == other.id => {
                                OrgMode::PerSession
                            }
                            _ => OrgMode::PerUser,
                        }
                    }
                };
                tracing::info!(
                    "{}: the current Org is kept {}",
                    live.endpoint.label,
                    match mode {
                        OrgMode::PerUser => "per user: requests go in waves of one Org",
                        OrgMode::PerSession => "per session",
                    }
                );
                Ok::<_, Error>(mode)
            })
            .await?;
        Ok(*found)
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

/// REST v2: logs in again in Org `id` (a token carries its Org) and
/// reads the current Org back: it must be `id`.
async fn v2_switch_and_check(cluster: &Cluster, id: i64) -> Result<(), ApiError> {
    cluster.switch_org(id).await?;
    let now = cluster
        .org_list()
        .await?
        .map_or(model::PRIMARY_ORG, |l| l.current);
    if now != id {
        return Err(ApiError {
            kind: ErrorKind::BadResponse,
            status: None,
            message: format!(
                "the new token answered success, but it is for Org {now}, not Org {id}"
            ),
            attempts: 1,
            answer: None,
        });
    }
    Ok(())
}

/// Whose Org a cluster may keep per user: the login's user name.
fn user_of(live: &LiveRef) -> String {
    match &live.endpoint.credentials {
        Credentials::Password { username, .. } | Credentials::SecretKey { username, .. } => {
            username.clone()
        }
        _ => String::new(),
    }
}
