//! `tsmigrate sim`: a stateful simulated ThoughtSpot cluster over HTTP.
//! Used by the tests, the benchmarks and `demo`. Every accepted write is
//! saved atomically before it is answered (group commit: one fsync serves
//! every write that arrived while the previous one was being saved).

mod faults;
mod routes;
pub mod state;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{watch, Mutex, Notify};

pub use faults::Faults;
pub use state::{SimError, SimState};

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
    /// Log every request at info level.
    pub log_requests: bool,
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
            log_requests: false,
        }
    }
}

/// Shared by every request handler.
pub(crate) struct Sim {
    state: Mutex<Versioned>,
    /// Serialized `GET admin/configinfo` answer; reset by every write.
    configinfo_cache: std::sync::Mutex<Option<bytes::Bytes>>,
    sessions: std::sync::Mutex<HashSet<String>>,
    opts: SimOptions,
    faults: faults::FaultState,
    persist_wanted: Notify,
    persisted: watch::Receiver<Persisted>,
    writes_seen: AtomicU64,
    requests_seen: AtomicU64,
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

    /// Sessions logged in and not logged out (nor expired).
    pub fn open_sessions(&self) -> usize {
        self.sim.sessions.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Stops accepting requests and waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Loads (or creates) the state file and binds the listener.
pub async fn start(opts: SimOptions) -> Result<RunningSim, Error> {
    if !opts.listen.ip().is_loopback() {
        return Err(Error::Usage(format!(
            "--listen {}: the simulator serves loopback addresses only (it has default credentials)",
            opts.listen
        )));
    }
    let state = load_or_create(&opts.state_file)?;
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", opts.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Usage(format!("--listen {}: {e}", opts.listen)))?;

    let (persisted_tx, persisted_rx) = watch::channel(Persisted {
        generation: 0,
        error: None,
    });
    let sim = Arc::new(Sim {
        state: Mutex::new(Versioned {
            state,
            generation: 0,
        }),
        configinfo_cache: std::sync::Mutex::new(None),
        sessions: std::sync::Mutex::new(HashSet::new()),
        faults: faults::FaultState::new(&opts.faults),
        opts,
        persist_wanted: Notify::new(),
        persisted: persisted_rx,
        writes_seen: AtomicU64::new(0),
        requests_seen: AtomicU64::new(0),
    });
    tokio::spawn(persist_loop(sim.clone(), persisted_tx));

    let sim_for_stats = sim.clone();
    let app = routes::router(sim);
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
        sim: sim_for_stats,
    })
}

fn load_or_create(path: &Path) -> Result<SimState, Error> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let state: SimState = crate::jsonfile::parse(&bytes, path)?;
            state.validate().map_err(|why| Error::Input {
                file: path.display().to_string(),
                message: why,
            })?;
            Ok(state)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let state = SimState::example();
            let bytes =
                serde_json::to_vec_pretty(&state).map_err(|e| Error::Internal(e.to_string()))?;
            crate::fsutil::write_atomic(path, &bytes).map_err(|e| Error::io(path, e))?;
            Ok(state)
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Saves the state whenever a write asks for it; concurrent writes share a save.
async fn persist_loop(sim: Arc<Sim>, tx: watch::Sender<Persisted>) {
    loop {
        sim.persist_wanted.notified().await;
        let (generation, bytes) = {
            let guard = sim.state.lock().await;
            // Compact: this runs for every group of writes (pretty would be slower).
            (guard.generation, serde_json::to_vec(&guard.state))
        };
        let path = sim.opts.state_file.clone();
        let result = match bytes {
            Ok(bytes) => {
                tokio::task::spawn_blocking(move || crate::fsutil::write_atomic(&path, &bytes))
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
            }
            Err(e) => Err(e.to_string()),
        };
        let error = result.err();
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
        f: impl FnOnce(&mut SimState) -> Result<T, SimError>,
    ) -> Result<T, SimError> {
        let (out, generation) = {
            let mut guard = self.state.lock().await;
            let out = f(&mut guard.state)?;
            guard.generation += 1;
            (out, guard.generation)
        };
        if let Ok(mut cache) = self.configinfo_cache.lock() {
            *cache = None;
        }
        self.persist_wanted.notify_one();
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
