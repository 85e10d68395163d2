//! `tsmigrate sim`: a stateful simulated ThoughtSpot cluster over HTTP,
//! used by the tests, the benchmarks and `demo`. Every accepted write is in
//! the store's log, fsynced, before it is answered (group commit: one fsync
//! serves every write that arrived while the previous one was being saved).
//! It imports the API model and leaf utilities only, so that it can
//! disagree with the tool where a real cluster might: switches choose the
//! behaviours the documentation leaves open. It speaks REST v1, v2 or both
//! over the same stored state.

mod action_list;
mod custom_actions;
mod faults;
mod latency;
mod routes;
pub mod state;
mod store;
mod v2;
mod v2_state;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{watch, Mutex, Notify};

pub use faults::Faults;
pub use state::{Behaviour, Mutation, OrgState, SimError, SimState};

use crate::error::Error;

/// Everything `tsmigrate sim` takes on its command line.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub state_file: PathBuf,
    pub listen: SocketAddr,
    pub username: String,
    pub password: String,
    pub token: Option<String>,
    pub faults: Faults,
    pub behaviour: Behaviour,
    /// Which REST APIs are served; the other's paths answer 404.
    pub api: ApiChoice,
    /// What the v2 endpoints do where the v2 spec leaves it open.
    pub v2: V2Behaviour,
    /// Log every request at info level.
    pub log_requests: bool,
    /// Longest request target (path and query) served; longer ones answer
    /// 414, as web servers in front of a cluster do (8 KiB is common).
    pub max_url_bytes: usize,
    /// Trusted authentication on, with this secret key (`auth/token/full`
    /// with `secret_key`).
    pub secret_key: Option<String>,
    /// Multi-factor authentication on: every login with a password is
    /// refused, as the docs say; only a secret key (or a token) gets in.
    pub mfa: bool,
}

/// The simulator's default `max_url_bytes` (also the default of `sim --max-url-bytes`).
pub const MAX_URL_BYTES: usize = 8192;

/// The REST APIs a simulated cluster serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ApiChoice {
    /// `/callosum/v1/tspublic/v1/` only (a cluster before v2).
    V1,
    /// `/api/rest/2.0/` only.
    V2,
    #[default]
    Both,
}

impl ApiChoice {
    pub fn serves_v1(self) -> bool {
        self != ApiChoice::V2
    }

    pub fn serves_v2(self) -> bool {
        self != ApiChoice::V1
    }
}

impl std::str::FromStr for ApiChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v1" => Ok(ApiChoice::V1),
            "v2" => Ok(ApiChoice::V2),
            "both" => Ok(ApiChoice::Both),
            other => Err(format!("{other:?} is not v1, v2 or both")),
        }
    }
}

/// REST v2 behaviours the spec leaves open, chosen per simulator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct V2Behaviour {
    /// `system/config-overrides` nests keys as objects
    /// (`{"samlConfiguration": {"enabled": true}}`) instead of dotting them.
    pub config_nested: bool,
    /// A custom-action search for an unknown identifier is a 400 ("Custom
    /// action identifier is invalid or malformed."), not `[]`.
    pub search_unknown_400: bool,
    /// `auth/token/revoke` also ends the token the call was made with
    /// (the docs: a revoke makes "the current user session" invalid).
    pub revoke_ends_caller: bool,
    /// `system/config-overrides` answers the keys without the
    /// `config_override_info` wrapper (clusters before 10.11.0.cl).
    pub overrides_unwrapped: bool,
    /// `system/config-overrides` lists only the overrides applied: keys
    /// whose value differs from the factory default (the example
    /// cluster's value), so a key set back to its default leaves the list.
    pub overrides_applied_only: bool,
}

impl SimOptions {
    pub fn new(state_file: impl Into<PathBuf>) -> Self {
        SimOptions {
            state_file: state_file.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            username: "admin".into(),
            password: "admin".into(),
            token: None,
            faults: Faults::default(),
            behaviour: Behaviour::default(),
            api: ApiChoice::default(),
            v2: V2Behaviour::default(),
            log_requests: false,
            max_url_bytes: MAX_URL_BYTES,
            secret_key: None,
            mfa: false,
        }
    }
}

/// The state a state file holds (snapshot and logged changes): what a
/// restarted simulator would serve. For tests and tools that inspect it.
pub fn load_state(path: &Path) -> Result<SimState, Error> {
    store::read(path)?.ok_or_else(|| {
        Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no simulator state"),
        )
    })
}

/// Key prefix of bearer tokens in the session table (the `--token` and
/// those minted by v2 `auth/token/full`); other keys are session cookies.
pub(crate) const TOKEN_KEY: &str = "token:";

/// A logged-in session (or a bearer token): when it began, its Org, and
/// for a minted token when it expires.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionInfo {
    pub began: Instant,
    pub org: i64,
    pub expires: Option<Instant>,
}

/// Shared by every request handler.
pub(crate) struct Sim {
    state: Mutex<Versioned>,
    /// Serialized `GET admin/configinfo` answers per Org; reset by writes.
    configinfo_cache: std::sync::Mutex<HashMap<i64, bytes::Bytes>>,
    /// Session id (or `token:` and the bearer token) → session.
    sessions: std::sync::Mutex<HashMap<String, SessionInfo>>,
    /// The Org the user last switched to: where a new login lands, as on a
    /// real cluster (not necessarily the Primary Org).
    last_org: std::sync::Mutex<i64>,
    started: Instant,
    opts: SimOptions,
    faults: faults::FaultState,
    /// Keeps `--latency-ms` deadlines (none without latency).
    latency: Option<latency::Deadlines>,
    pending: std::sync::Mutex<Vec<Mutation>>,
    persist_wanted: Notify,
    persisted: watch::Receiver<Persisted>,
    store: Arc<std::sync::Mutex<store::Store>>,
    writes_seen: AtomicU64,
    requests_seen: AtomicU64,
    logins_seen: AtomicU64,
    throttled_seen: AtomicU64,
}

struct Versioned {
    state: SimState,
    generation: u64,
}

#[derive(Clone, Debug)]
struct Persisted {
    generation: u64,
    error: Option<String>,
}

/// A simulator serving in the background of this process.
pub struct RunningSim {
    pub addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    sim: Arc<Sim>,
}

impl RunningSim {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes received (refused ones too): what a client sent that would
    /// change the cluster.
    pub fn writes_seen(&self) -> u64 {
        self.sim.writes_seen.load(Ordering::SeqCst)
    }

    /// Requests received, of any kind.
    pub fn requests_seen(&self) -> u64 {
        self.sim.requests_seen.load(Ordering::SeqCst)
    }

    /// Successful logins.
    pub fn logins_seen(&self) -> u64 {
        self.sim.logins_seen.load(Ordering::SeqCst)
    }

    /// Requests answered 429 by the rate limit or the throttle fault.
    pub fn throttled_seen(&self) -> u64 {
        self.sim.throttled_seen.load(Ordering::SeqCst)
    }

    /// Sessions logged in and not logged out (nor expired).
    pub fn open_sessions(&self) -> usize {
        let ttl = self.sim.opts.faults.session_ttl;
        self.sim
            .sessions
            .lock()
            .map(|s| {
                s.iter()
                    .filter(|(k, v)| {
                        !k.starts_with(TOKEN_KEY) && ttl.is_none_or(|t| v.began.elapsed() < t)
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    /// Bearer tokens minted by v2 `auth/token/full` (or `auth/session/token`)
    /// that are neither revoked nor expired.
    pub fn live_tokens(&self) -> usize {
        let now = Instant::now();
        self.sim
            .sessions
            .lock()
            .map(|s| {
                s.values()
                    .filter(|v| v.expires.is_some_and(|e| now < e))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Stops accepting requests, waits for the server to end and compacts
    /// the state into the state file alone.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
        let bytes = {
            let state = self.sim.state.lock().await;
            serde_json::to_vec(&state.state)
        };
        let store = self.sim.store.clone();
        let result = match bytes {
            Ok(bytes) => tokio::task::spawn_blocking(move || match store.lock() {
                Ok(mut s) => s.compact_to(&bytes),
                Err(_) => Err(std::io::Error::other("store lock poisoned")),
            })
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string()))),
            Err(e) => Err(std::io::Error::other(e)),
        };
        if let Err(e) = result {
            tracing::error!("could not compact the simulator state: {e}");
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Loads (or creates) the state and binds the listener.
pub async fn start(opts: SimOptions) -> Result<RunningSim, Error> {
    if !opts.listen.ip().is_loopback() {
        return Err(Error::Usage(format!(
            "--listen {}: the simulator serves loopback addresses only (it has default credentials)",
            opts.listen
        )));
    }
    let (state, store) = store::Store::open(&opts.state_file, SimState::example)?;
    if opts.behaviour.no_orgs && !state.orgs.is_empty() {
        return Err(Error::Input {
            file: opts.state_file.display().to_string(),
            message: "at /orgs: --no-orgs simulates a cluster without Orgs, and the state has Orgs"
                .into(),
        });
    }
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", opts.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", opts.listen)))?;

    let latency = match opts.faults.latency_ms {
        0 => None,
        _ => Some(
            latency::Deadlines::start()
                .map_err(|e| Error::Internal(format!("cannot start the latency thread: {e}")))?,
        ),
    };
    let (persisted_tx, persisted_rx) = watch::channel(Persisted {
        generation: 0,
        error: None,
    });
    let sim = Arc::new(Sim {
        state: Mutex::new(Versioned {
            state,
            generation: 0,
        }),
        configinfo_cache: std::sync::Mutex::new(HashMap::new()),
        sessions: std::sync::Mutex::new(HashMap::new()),
        last_org: std::sync::Mutex::new(crate::model::PRIMARY_ORG),
        started: Instant::now(),
        faults: faults::FaultState::new(&opts.faults),
        latency,
        opts,
        pending: std::sync::Mutex::new(Vec::new()),
        persist_wanted: Notify::new(),
        persisted: persisted_rx,
        store: Arc::new(std::sync::Mutex::new(store)),
        writes_seen: AtomicU64::new(0),
        requests_seen: AtomicU64::new(0),
        logins_seen: AtomicU64::new(0),
        throttled_seen: AtomicU64::new(0),
    });
    tokio::spawn(persist_loop(sim.clone(), persisted_tx));

    let app = routes::router(sim.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = rx.await;
        });
        if let Err(e) = server.await {
            tracing::error!("simulator stopped: {e}");
        }
    });
    Ok(RunningSim {
        addr,
        shutdown: Some(tx),
        task,
        sim,
    })
}

/// Saves the pending changes whenever a write asks for it; concurrent
/// writes share one append and one fsync.
async fn persist_loop(sim: Arc<Sim>, tx: watch::Sender<Persisted>) {
    loop {
        sim.persist_wanted.notified().await;
        // The generation is read under the state lock, so every change up
        // to it is in `pending` already.
        let generation = sim.state.lock().await.generation;
        let batch: Vec<Mutation> = match sim.pending.lock() {
            Ok(mut p) => std::mem::take(&mut *p),
            Err(_) => Vec::new(),
        };
        let store = sim.store.clone();
        let appended = tokio::task::spawn_blocking(move || match store.lock() {
            Ok(mut s) => s.append(&batch).map(|()| s.wants_compaction()),
            Err(_) => Err(std::io::Error::other("store lock poisoned")),
        })
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
        let error = match appended {
            Ok(true) => {
                // Rare: the log outgrew the snapshot. Writes wait meanwhile.
                let state = sim.state.lock().await;
                let r = serde_json::to_vec(&state.state)
                    .map_err(std::io::Error::other)
                    .and_then(|bytes| match sim.store.lock() {
                        Ok(mut s) => s.compact_to(&bytes),
                        Err(_) => Err(std::io::Error::other("store lock poisoned")),
                    });
                r.err().map(|e| e.to_string())
            }
            Ok(false) => None,
            Err(e) => Some(e.to_string()),
        };
        if let Some(e) = &error {
            tracing::error!("could not save the simulator state: {e}");
        }
        let _ = tx.send(Persisted { generation, error });
    }
}

impl Sim {
    /// Runs one write against the state, then waits until it is on disk.
    pub(crate) async fn write<T>(
        &self,
        f: impl FnOnce(&mut SimState) -> Result<(T, Mutation), SimError>,
    ) -> Result<T, SimError> {
        let generation = {
            let mut guard = self.state.lock().await;
            let (out, change) = f(&mut guard.state)?;
            guard.generation += 1;
            if let Ok(mut p) = self.pending.lock() {
                p.push(change);
            }
            let generation = guard.generation;
            drop(guard);
            if let Ok(mut cache) = self.configinfo_cache.lock() {
                cache.clear();
            }
            self.persist_wanted.notify_one();
            (out, generation)
        };
        let (out, generation) = generation;
        let mut rx = self.persisted.clone();
        let saved = rx.wait_for(|p| p.generation >= generation).await;
        match saved {
            Ok(p) if p.error.is_none() => Ok(out),
            Ok(p) => Err(SimError {
                status: 500,
                message: format!("state not saved: {}", p.error.clone().unwrap_or_default()),
            }),
            Err(_) => Err(SimError {
                status: 500,
                message: "state saver stopped".into(),
            }),
        }
    }

    pub(crate) async fn read<T>(&self, f: impl FnOnce(&SimState) -> T) -> T {
        let guard = self.state.lock().await;
        f(&guard.state)
    }

    pub(crate) fn count_write(&self) -> u64 {
        self.writes_seen.fetch_add(1, Ordering::SeqCst) + 1
    }
}
