//! One side of a migration: a live cluster or a snapshot directory, read
//! into its canonical document. Live reads are concurrent and do not trust
//! any single answer for associations: the action list may show them empty
//! (as the API page's example does), so they come from configinfo's action
//! list, and from each action's own endpoint where neither says.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use crate::api::{self, ApiError, Cluster, ErrorKind, Host, NetOptions, Session};
use crate::config::{ClusterRef, LiveRef, Settings};
use crate::document;
use crate::error::Error;
use crate::model::{self, ObjectQuery, OrgSpec};

/// Concurrent per-action reads when the list is not enough.
const READ_PARALLEL: usize = 8;

/// A loaded side.
#[derive(Clone)]
pub struct Side {
    pub label: String,
    /// The canonical document, ignored paths removed.
    pub doc: Value,
    /// The document before ignore rules (to fill PUT bodies); `Null` for a
    /// snapshot, which is never written to.
    pub raw: Value,
    /// Action name → GUID on this cluster (empty for snapshots).
    pub ids: BTreeMap<String, String>,
    pub cluster: Option<Cluster>,
    /// Where the document's secrets are (ignored paths removed).
    pub secret_paths: Vec<Vec<String>>,
    /// Which `--ignore`/`--only` rules match somewhere in the document
    /// as read (before ignored paths were removed).
    pub matched: crate::select::Matched,
    /// The secret placeholders (where, and the pointer each names) in what
    /// was left out of the document as alike on both sides
    /// (`load_snapshot_pair`); empty otherwise.
    pub left_out_placeholders: Vec<(Vec<String>, String)>,
    /// A snapshot's fingerprint (`snapshot::fingerprint`), from its
    /// files; `None` for a live cluster, whose is computed from its
    /// document when a plan needs it.
    pub fingerprint: Option<String>,
    /// On a target read side by side with its source
    /// (`load_snapshot_pair`): the arrays both documents hold reduced,
    /// which the diff and the plan's guards must know. Empty otherwise.
    pub reduced: crate::diff::Reduced,
    /// The cluster's URL (for a snapshot: the URL it was exported from).
    pub url: String,
    /// The profile it is (by name or URL), for `[[maps]]`.
    pub profile: Option<String>,
    /// The Org (for a snapshot: the one it was exported from); `None` on
    /// a cluster without Orgs.
    pub org: Option<model::Org>,
    /// The API it was read through (for a snapshot: the one it was
    /// exported through). On REST v2 the config holds only the keys
    /// `system/config-overrides` shows.
    pub api: api::Api,
}

impl Side {
    /// The Org's id: the Primary Org's (0) on a cluster without Orgs.
    pub fn org_id(&self) -> i64 {
        self.org.as_ref().map_or(model::PRIMARY_ORG, |o| o.id)
    }

    /// Where it came from, for the snapshot's `tsmigrate.json`.
    pub fn origin(&self) -> crate::snapshot::Origin {
        crate::snapshot::Origin {
            api: self.api,
            ..crate::snapshot::Origin::new(&self.url, self.org.clone())
        }
    }

    /// Whether its config holds only some keys (REST v2: the overridden
    /// ones), so that a key it lacks says nothing.
    pub fn partial_config(&self) -> bool {
        self.api == api::Api::V2
    }

    /// The live cluster, or a usage error naming the snapshot.
    pub fn live(&self) -> Result<&Cluster, Error> {
        self.cluster.as_ref().ok_or_else(|| {
            Error::Usage(format!(
                "--target {}: a snapshot directory cannot be written to; name a live cluster",
                self.label
            ))
        })
    }
}

/// The target's `GET admin/configinfo/overrides`, which validation checks
/// config values against: read when `desired` changes the config, else
/// not needed (`None`).
pub async fn overrides_for(
    side: &Side,
    desired: &Value,
) -> Result<Option<Map<String, Value>>, Error> {
    let Some(cluster) = &side.cluster else {
        return Ok(None);
    };
    if desired.get("config") == side.doc.get("config") {
        return Ok(None);
    }
    cluster
        .overrides()
        .await
        .map(Some)
        .map_err(|e| cluster_error(cluster, "admin/configinfo/overrides", e))
}

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
    fn take_read_ahead(&self, live: &LiveRef) -> Option<LiveDocument> {
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
        if matches!(live.endpoint.credentials, api::Credentials::None) {
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

fn connect_error(endpoint: &api::Endpoint, e: ApiError) -> Error {
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
        ErrorKind::Server | ErrorKind::Rejected | ErrorKind::BadResponse => format!("{what}: {e}"),
    };
    Error::Cluster {
        cluster: endpoint.label.clone(),
        message,
    }
}

/// A live cluster's canonical document and action GUIDs.
pub struct LiveDocument {
    pub doc: Value,
    pub ids: BTreeMap<String, String>,
}

/// Reads the canonical document (configinfo and actions with their
/// associations and user groups): also what verification reads.
pub async fn read_document(cluster: &Cluster) -> Result<LiveDocument, Error> {
    let (config, list) = tokio::try_join!(
        async {
            cluster
                .configinfo()
                .await
                .map_err(|e| cluster_error(cluster, "admin/configinfo", e))
        },
        async {
            cluster
                .actions()
                .await
                .map_err(|e| cluster_error(cluster, "admin/embed/actions", e))
        },
    )?;
    // REST v2 searches answer every action whole (associations and groups).
    let (config, actions) = if cluster.api() == api::Api::V2 {
        (config, list)
    } else {
        complete_actions(cluster, config, list).await?
    };
    let (doc, ids) = document::from_api(cluster.label(), config, actions)?;
    Ok(LiveDocument { doc, ids })
}

/// The action list made whole: associations from configinfo's list when
/// the action list shows none, and from the action itself when neither
/// says; user groups from the action itself when the list lacks them.
async fn complete_actions(
    cluster: &Cluster,
    mut config: Map<String, Value>,
    list: Vec<Value>,
) -> Result<(Map<String, Value>, Vec<Value>), Error> {
    let embedded: HashMap<String, Value> = match config.remove(model::ACTION_LIST_KEY) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|a| {
                let id = a.get("id")?.as_str()?.to_string();
                Some((id, a))
            })
            .collect(),
        _ => HashMap::new(),
    };
    let mut actions = Vec::with_capacity(list.len());
    let mut look_up: Vec<(usize, String, bool, bool)> = Vec::new();
    for (i, mut action) in list.into_iter().enumerate() {
        let id = action.get("id").and_then(Value::as_str).map(str::to_string);
        if let (Some(id), Some(obj)) = (&id, action.as_object_mut()) {
            let listed = obj
                .get(model::ASSOCIATION_MAP)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.is_empty());
            let from_config = embedded
                .get(id)
                .and_then(|e| e.get(model::ASSOCIATION_MAP))
                .filter(|m| m.is_object());
            let need_assoc = match (listed, from_config) {
                (true, _) => false,
                (false, Some(map)) => {
                    obj.insert(model::ASSOCIATION_MAP.into(), map.clone());
                    false
                }
                (false, None) => true,
            };
            let need_groups = !obj.get(model::USER_GROUPS).is_some_and(Value::is_array);
            if need_groups {
                if let Some(groups) = embedded.get(id).and_then(|e| e.get(model::USER_GROUPS)) {
                    obj.insert(model::USER_GROUPS.into(), groups.clone());
                }
            }
            let need_groups = !obj.get(model::USER_GROUPS).is_some_and(Value::is_array);
            if need_assoc || need_groups {
                look_up.push((i, id.clone(), need_assoc, need_groups));
            }
        }
        actions.push(action);
    }
    let found: Vec<(usize, Option<Value>, Option<Value>)> = stream::iter(look_up)
        .map(|(i, id, need_assoc, need_groups)| async move {
            let assoc = if need_assoc {
                let map = cluster.associations(&id).await.map_err(|e| {
                    cluster_error(cluster, "admin/embed/actions/{id}/associations", e)
                })?;
                Some(Value::Object(map))
            } else {
                None
            };
            let groups = if need_groups {
                let one = cluster
                    .action(&id)
                    .await
                    .map_err(|e| cluster_error(cluster, "admin/embed/actions/{id}", e))?;
                one.get(model::USER_GROUPS).cloned()
            } else {
                None
            };
            Ok::<_, Error>((i, assoc, groups))
        })
        .buffer_unordered(READ_PARALLEL)
        .try_collect()
        .await?;
    for (i, assoc, groups) in found {
        if let Some(obj) = actions.get_mut(i).and_then(Value::as_object_mut) {
            if let Some(a) = assoc {
                obj.insert(model::ASSOCIATION_MAP.into(), a);
            }
            if let Some(g) = groups {
                obj.insert(model::USER_GROUPS.into(), g);
            }
        }
    }
    Ok((config, actions))
}

/// Which of `guids` exist on the cluster as objects of `query`'s kind.
pub async fn find_objects(
    cluster: &Cluster,
    query: ObjectQuery,
    guids: &[String],
) -> Result<HashSet<String>, Error> {
    if guids.is_empty() {
        return Ok(HashSet::new());
    }
    let headers = cluster
        .object_headers(query, guids)
        .await
        .map_err(|e| cluster_error(cluster, "metadata/listobjectheaders", e))?;
    Ok(headers
        .iter()
        .filter_map(|h| h.get("id").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// Two snapshot directories read for their diff only
/// (`snapshot::read_pair`: what both hold byte for byte is left out of
/// both documents). `None` where that would not give the diff, notes and
/// warnings of the full read: a REF that is not a snapshot, ignore or
/// only rules (one that matches nothing is reported, and it may match
/// only what was left out), a side read through REST v2 (its partial
/// config is compared by counting keys), or a mapping between the two
/// (it changes the source, so bytes alike may not stay alike). With
/// `fingerprint`, the target side has its snapshot's fingerprint.
pub async fn load_snapshot_pair(
    source: &ClusterRef,
    target: &ClusterRef,
    settings: &Settings,
    fingerprint: bool,
) -> Result<Option<(Side, Side)>, Error> {
    let (ClusterRef::Snapshot(a, _), ClusterRef::Snapshot(b, _)) = (source, target) else {
        return Ok(None);
    };
    if settings.selection.has_rules() {
        return Ok(None);
    }
    let (oa, ob) = (crate::snapshot::origin(a)?, crate::snapshot::origin(b)?);
    let id = |o: &crate::snapshot::Origin| o.org.as_ref().map_or(model::PRIMARY_ORG, |o| o.id);
    let mapping = settings.mapping_between(
        (
            settings.profile_for_url(&oa.url).as_deref(),
            &oa.url,
            id(&oa),
        ),
        (
            settings.profile_for_url(&ob.url).as_deref(),
            &ob.url,
            id(&ob),
        ),
    )?;
    if mapping.is_some() || oa.api != api::Api::V1 || ob.api != api::Api::V1 {
        return Ok(None);
    }
    let (a, b, selection) = (a.clone(), b.clone(), settings.selection.clone());
    let ([(da, oa), (db, ob)], reduced) = tokio::task::spawn_blocking(move || {
        let pair = crate::snapshot::read_pair(&a, &b, fingerprint)?;
        // Alike on both sides: the same placeholders, where not ignored.
        let left_out: Vec<(Vec<String>, String)> = pair
            .left_out_placeholders
            .into_iter()
            .filter(|(at, _)| selection.visibility(at) != crate::select::Visibility::Hidden)
            .collect();
        let [(da, oa), (db, ob)] = pair.sides;
        let mut sa = Selected::of(da, &selection);
        let mut sb = Selected::of(db, &selection);
        sa.left_out_placeholders.clone_from(&left_out);
        sb.left_out_placeholders = left_out;
        sb.fingerprint = pair.target_fingerprint;
        Ok::<_, Error>(([(sa, oa), (sb, ob)], pair.reduced))
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))??;
    let source_side = snapshot_side(source, da, oa, settings)?;
    let mut target_side = snapshot_side(target, db, ob, settings)?;
    target_side.reduced = reduced;
    Ok(Some((source_side, target_side)))
}

/// A document with its ignored paths removed, and where its secrets are.
struct Selected {
    doc: Value,
    matched: crate::select::Matched,
    secret_paths: Vec<Vec<String>>,
    left_out_placeholders: Vec<(Vec<String>, String)>,
    /// The snapshot's fingerprint, where it was read.
    fingerprint: Option<String>,
}

impl Selected {
    fn of(mut doc: Value, selection: &crate::select::Selection) -> Selected {
        let matched = selection.matched_in(&doc);
        selection.strip(&mut doc);
        let secret_paths = crate::secrets::secret_paths(&doc);
        Selected {
            doc,
            matched,
            secret_paths,
            left_out_placeholders: Vec::new(),
            fingerprint: None,
        }
    }
}

/// The side of a snapshot read as `doc`: ignored paths removed, and
/// checked to be of the Org its REF asks for.
fn snapshot_side(
    r: &ClusterRef,
    doc: Selected,
    origin: crate::snapshot::Origin,
    settings: &Settings,
) -> Result<Side, Error> {
    if let ClusterRef::Snapshot(_, Some(spec)) = r {
        let primary = model::Org {
            id: model::PRIMARY_ORG,
            name: String::new(),
        };
        let org = origin.org.as_ref().unwrap_or(&primary);
        if !spec.matches(org) {
            return Err(Error::Usage(format!(
                "{}: the snapshot is of {}, not of Org {spec}",
                r.label(),
                origin.describe()
            )));
        }
    }
    let Selected {
        doc,
        matched,
        secret_paths,
        left_out_placeholders,
        fingerprint,
    } = doc;
    let url = origin.url;
    Ok(Side {
        api: origin.api,
        org: origin.org,
        label: r.label(),
        doc,
        raw: Value::Null,
        ids: BTreeMap::new(),
        cluster: None,
        secret_paths,
        matched,
        left_out_placeholders,
        fingerprint,
        reduced: Default::default(),
        profile: settings.profile_for_url(&url),
        url,
    })
}

pub async fn load(r: &ClusterRef, settings: &Settings, conns: &Connections) -> Result<Side, Error> {
    match r {
        ClusterRef::Snapshot(dir, _) => {
            // Off the async threads, so that two sides load in parallel.
            let dir = dir.clone();
            let selection = settings.selection.clone();
            let (doc, origin) = tokio::task::spawn_blocking(move || {
                let (doc, origin, fingerprint) = crate::snapshot::read_fingerprinted(&dir)?;
                let mut selected = Selected::of(doc, &selection);
                selected.fingerprint = Some(fingerprint);
                Ok::<_, Error>((selected, origin))
            })
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
            snapshot_side(r, doc, origin, settings)
        }
        ClusterRef::Live(live) => {
            let cluster = conns.cluster(live, &settings.net).await?;
            let org = cluster.org();
            let api = cluster.api();
            // The overrides metadata is read when a config key is to
            // change (`overrides_for`): most applies to an Org change none.
            let document = match conns.take_read_ahead(live) {
                Some(read) => read,
                None => read_document(&cluster).await?,
            };
            crate::secrets::remember_all(&document.doc);
            let raw = document.doc.clone();
            let mut doc = document.doc;
            let matched = settings.selection.matched_in(&doc);
            settings.selection.strip(&mut doc);
            let secret_paths = crate::secrets::secret_paths(&doc);
            Ok(Side {
                label: r.label(),
                doc,
                raw,
                ids: document.ids,
                cluster: Some(cluster),
                secret_paths,
                matched,
                left_out_placeholders: Vec::new(),
                fingerprint: None,
                reduced: Default::default(),
                url: live.endpoint.url.clone(),
                profile: live.profile.clone(),
                org,
                api,
            })
        }
    }
}
