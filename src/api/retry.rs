//! The one retry loop (`retrying`): an attempt that fails is made again
//! after the backoff (exponential with jitter, from `backon`), within the
//! budget in attempts and in time. Every call of a session goes through it
//! (`send_once`, with a new login when the session expired), and so does a
//! create that looks before it sends again (apply's executor). Also the
//! pause that a `Retry-After` puts on every request to the cluster.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;

use super::error::{describe_transport, error_message, ApiError, ErrorKind};
use super::host::read_bounded;
use super::org_gate::OrgProbe;
use super::request::{set_cookies, Answer, Body, Cookies, Request, Retry};
use super::session::Session;
use crate::config::settings::RetryPolicy;
use crate::model;
use crate::signals::Abort;

/// The waits between attempts, in order: `base`, doubling, with jitter,
/// capped at `max_delay`.
fn delays(policy: &RetryPolicy) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::new()
        .with_min_delay(policy.base)
        .with_max_delay(policy.max_delay)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
        .build()
}

/// What a failed attempt asks of the retry loop.
pub enum Failed<E> {
    /// Worth another try, within `attempts` in all: after the policy's
    /// backoff, or at once when something else spaces the tries.
    Retry {
        error: E,
        attempts: u32,
        backoff: bool,
    },
    /// Not worth another try.
    Stop(E),
    /// Not an attempt of its own (the session logged in again first):
    /// again at once, not counted.
    Again,
}

/// The one retry loop. `attempt` is called with the attempt's number
/// until it succeeds or fails for good; between failures it waits the
/// backoff of `policy`. No try starts after the attempts a failure allows,
/// after `until` since the first (if given), or once `abort` is set, which
/// also ends a wait.
pub async fn retrying<T, E, F>(
    policy: &RetryPolicy,
    until: Option<Duration>,
    abort: Option<&Abort>,
    what: &(dyn std::fmt::Display + Sync),
    mut attempt: impl FnMut(u32) -> F,
) -> Result<T, E>
where
    E: std::fmt::Display,
    F: std::future::Future<Output = Result<T, Failed<E>>>,
{
    let started = Instant::now();
    let mut delays = delays(policy);
    let mut number = 0u32;
    loop {
        number += 1;
        let (err, attempts, backoff) = match attempt(number).await {
            Ok(done) => return Ok(done),
            Err(Failed::Stop(err)) => return Err(err),
            Err(Failed::Again) => {
                number -= 1;
                continue;
            }
            Err(Failed::Retry {
                error,
                attempts,
                backoff,
            }) => (error, attempts, backoff),
        };
        let late = until.is_some_and(|u| started.elapsed() >= u);
        let aborted = abort.is_some_and(Abort::is_set);
        if number >= attempts || late || aborted {
            return Err(err);
        }
        let wait = if backoff {
            delays.next().unwrap_or(policy.max_delay)
        } else {
            Duration::ZERO
        };
        tracing::debug!("{what}: {err}; retry {number} in {wait:?}");
        match abort {
            Some(a) => {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = a.wait() => return Err(err),
                }
            }
            None => tokio::time::sleep(wait).await,
        }
    }
}

/// A pause shared by every request to one cluster: a 429 with
/// `Retry-After` holds back the whole pool, not just the request that got it.
#[derive(Debug, Clone, Default)]
pub struct PoolPause(Arc<Mutex<Option<Instant>>>);

impl PoolPause {
    pub fn extend(&self, until: Instant) {
        if let Ok(mut slot) = self.0.lock() {
            if slot.is_none_or(|cur| cur < until) {
                *slot = Some(until);
            }
        }
    }

    pub async fn wait(&self) {
        let until = self.0.lock().ok().and_then(|s| *s);
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                tokio::time::sleep(until - now).await;
            }
        }
    }
}

/// Every call of a session goes through the retry loop.
impl Session {
    /// One API call with retries and, when the session has expired and we
    /// hold a password, a new login; returns the body of a 2xx answer.
    pub async fn call(
        self: &Arc<Self>,
        req: &Request<'_>,
        abort: Option<&Abort>,
    ) -> Result<bytes::Bytes, ApiError> {
        if req.is_write() {
            self.host.stats.writes.fetch_add(1, Ordering::Relaxed);
        }
        self.send_with_retries(req, abort, true)
            .await
            .map(|r| r.body)
    }

    /// `call`, in a wave of Org `org` rather than of the session's own
    /// (where the cluster keeps one Org per user: to find and remove what
    /// a request served in another Org left there).
    pub async fn call_in_org(
        self: &Arc<Self>,
        req: &Request<'_>,
        org: i64,
    ) -> Result<bytes::Bytes, ApiError> {
        if req.is_write() {
            self.host.stats.writes.fetch_add(1, Ordering::Relaxed);
        }
        self.send_gated(req, None, true, Cookies::Published, Some(org))
            .await
            .map(|r| r.body)
    }

    pub(super) async fn send_with_retries(
        self: &Arc<Self>,
        req: &Request<'_>,
        abort: Option<&Abort>,
        may_relogin: bool,
    ) -> Result<Answer, ApiError> {
        self.send_with_retries_as(req, abort, may_relogin, Cookies::Published)
            .await
    }

    /// `send_with_retries` with the given cookies. A request of a session
    /// that has a gate (one Org per user) goes out in a wave of its Org,
    /// and its answer counts only if the Org stayed (org_gate.rs).
    pub(super) async fn send_with_retries_as(
        self: &Arc<Self>,
        req: &Request<'_>,
        abort: Option<&Abort>,
        may_relogin: bool,
        cookies: Cookies<'_>,
    ) -> Result<Answer, ApiError> {
        self.send_gated(req, abort, may_relogin, cookies, None)
            .await
    }

    async fn send_gated(
        self: &Arc<Self>,
        req: &Request<'_>,
        abort: Option<&Abort>,
        may_relogin: bool,
        cookies: Cookies<'_>,
        org: Option<i64>,
    ) -> Result<Answer, ApiError> {
        // Session calls (login, switch, the current Org) prove the Org
        // themselves; everything else of a gated session waits its turn.
        let gated = match (cookies, req.path.contains("/session/")) {
            (Cookies::Published, false) => self.gate().zip(org.or(self.org_target())),
            _ => None,
        };
        // Each attempt is a future of its own that borrows the count.
        let relogins = AtomicU32::new(0);
        let until = Some(self.policy.max_total);
        let gated = &gated;
        retrying(&self.policy, until, abort, req, |attempt| {
            let relogins = &relogins;
            async move {
                if may_relogin && self.token_ending().await {
                    let generation = self.generation.load(Ordering::SeqCst);
                    Box::pin(self.login(generation))
                        .await
                        .map_err(Failed::Stop)?;
                }
                self.host.pause.wait().await;
                let sent = self.host.pacer.wait().await;
                let generation = self.generation.load(Ordering::SeqCst);
                let probe = SessionProbe(self);
                let ticket = match &gated {
                    Some((gate, org)) => match gate.enter(*org, &probe).await {
                        Some(t) => Some(t),
                        None => {
                            let mut err = moved(req, *org, None);
                            err.attempts = attempt;
                            return Err(Failed::Retry {
                                error: err,
                                attempts: self.policy.max_attempts,
                                backoff: true,
                            });
                        }
                    },
                    None => None,
                };
                let result = self.send_once_as(req, cookies).await;
                if let (Some((gate, org)), Some(ticket)) = (&gated, ticket) {
                    gate.leave(&probe).await;
                    // A 401 changed nothing, wherever it was answered: the
                    // session logs in again below.
                    let unauthorized = matches!(&result, Err(e) if e.status == Some(401));
                    if !ticket.proven().await && !unauthorized {
                        // Served, or refused, perhaps in another Org.
                        let mut err = moved(req, *org, result.ok().map(|a| a.body));
                        err.attempts = attempt;
                        return Err(match req.retry {
                            Retry::Transient => Failed::Retry {
                                error: err,
                                attempts: self.policy.max_attempts_429,
                                backoff: false,
                            },
                            // A create is looked up before it is sent again.
                            Retry::OnlyThrottled => Failed::Stop(err),
                        });
                    }
                }
                let mut err = match result {
                    Ok(answer) => {
                        self.host.pacer.succeeded();
                        return Ok(answer);
                    }
                    Err(e) => e,
                };
                err.attempts = attempt;
                if err.status == Some(429) {
                    self.host.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    self.host.pacer.throttled(sent);
                }
                let expired = err.status == Some(401)
                    && may_relogin
                    && relogins.load(Ordering::Relaxed) < 2
                    && self.endpoint.credentials.can_log_in();
                if expired {
                    relogins.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(
                        "{}: the session expired; logging in again",
                        self.endpoint.label
                    );
                    Box::pin(self.login(generation))
                        .await
                        .map_err(Failed::Stop)?;
                    return Err(Failed::Again);
                }
                let attempts = match (err.kind, req.retry) {
                    (ErrorKind::Transient, _) if err.status == Some(429) => {
                        self.policy.max_attempts_429
                    }
                    (ErrorKind::Transient, Retry::Transient) => self.policy.max_attempts,
                    (ErrorKind::Server, Retry::Transient) => self.policy.max_attempts_500,
                    _ => 1,
                };
                // A 429 without Retry-After has slowed the pacer, which spaces
                // the retry; with Retry-After the pool pause does. No backoff.
                let backoff = err.status != Some(429);
                Err(Failed::Retry {
                    error: err,
                    attempts,
                    backoff,
                })
            }
        })
        .await
    }

    pub(super) async fn send_once(&self, req: &Request<'_>) -> Result<Answer, ApiError> {
        self.send_once_as(req, Cookies::Published).await
    }

    async fn send_once_as(
        &self,
        req: &Request<'_>,
        cookies: Cookies<'_>,
    ) -> Result<Answer, ApiError> {
        self.host.stats.requests.fetch_add(1, Ordering::Relaxed);
        let url = format!("{}{}", self.host.url, req.path);
        let mut builder = self
            .host
            .http
            .request(req.method.clone(), url)
            .header("Accept", "application/json")
            .header(model::REQUESTED_BY.0, model::REQUESTED_BY.1);
        if !req.query.is_empty() {
            builder = builder.query(req.query);
        }
        builder = match &req.body {
            Body::None => builder,
            Body::Form(form) => builder.form(form),
            Body::Json(v) => builder.json(v),
        };
        let bearer = self.bearer.lock().ok().and_then(|b| b.clone());
        if let Some(token) = bearer {
            builder = builder.bearer_auth(token);
        }
        let cookies = match cookies {
            Cookies::Published => self.cookie_header.lock().ok().and_then(|c| c.clone()),
            Cookies::These(c) => c.map(str::to_string),
        };
        if let Some(c) = cookies {
            builder = builder.header(reqwest::header::COOKIE, c);
        }
        tracing::debug!("{} {}", req.method, req.path);
        let mut resp = builder
            .send()
            .await
            .map_err(|e| ApiError::new(ErrorKind::Transient, None, describe_transport(&e)))?;
        let status = resp.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            if let Some(secs) = wait {
                self.host
                    .pause
                    .extend(Instant::now() + Duration::from_secs(secs.min(300)));
            }
        }
        let cookies = set_cookies(resp.headers());
        let body = read_bounded(&mut resp).await?;
        if status.is_success() {
            return Ok(Answer { body, cookies });
        }
        let kind = match status.as_u16() {
            429 | 502 | 503 | 504 => ErrorKind::Transient,
            500 => ErrorKind::Server,
            401 | 403 => ErrorKind::Refused,
            s if s >= 500 => ErrorKind::Transient,
            _ => ErrorKind::Rejected,
        };
        Err(ApiError::new(
            kind,
            Some(status.as_u16()),
            error_message(&body),
        ))
    }
}

/// The error of a request whose Org could not be proven.
fn moved(req: &Request<'_>, org: i64, answer: Option<bytes::Bytes>) -> ApiError {
    let mut e = ApiError::new(
        ErrorKind::OrgMoved,
        None,
        format!(
            "{req}: another session of this user switched Orgs while it was out; it may have been served outside Org {org}"
        ),
    );
    e.answer = answer;
    e
}

/// The gate's view of the user's Org, through one of its sessions.
struct SessionProbe<'a>(&'a Arc<Session>);

impl OrgProbe for SessionProbe<'_> {
    fn current(&self) -> futures::future::BoxFuture<'_, Option<i64>> {
        Box::pin(async { self.0.current_org_now().await.ok().flatten() })
    }

    fn switch(&self, org: i64) -> futures::future::BoxFuture<'_, bool> {
        Box::pin(async move { self.0.switch_published(org).await.is_ok() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_stay_capped_and_end() {
        let p = RetryPolicy {
            max_attempts: 5,
            max_attempts_500: 3,
            max_attempts_429: 40,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_total: Duration::from_secs(10),
        };
        let d: Vec<Duration> = delays(&p).collect();
        assert_eq!(d.len(), 4, "one wait between each two of 5 attempts");
        assert!(d[0] >= Duration::from_millis(100) && d[0] <= Duration::from_millis(200));
        assert!(d.iter().all(|x| *x <= Duration::from_millis(2000)));
    }

    #[tokio::test]
    async fn the_loop_counts_attempts_but_not_logins_and_stops_when_told() {
        let policy = RetryPolicy::with_base(Duration::from_millis(1));
        let seen = Mutex::new(Vec::new());
        let result: Result<(), String> = retrying(&policy, None, None, &"t", |n| {
            let seen = &seen;
            async move {
                let mut s = seen.lock().unwrap();
                s.push(n);
                Err(match s.len() {
                    2 => Failed::Again,
                    _ => Failed::Retry {
                        error: format!("try {n}"),
                        attempts: 3,
                        backoff: true,
                    },
                })
            }
        })
        .await;
        assert_eq!(result.unwrap_err(), "try 3");
        assert_eq!(*seen.lock().unwrap(), vec![1, 2, 2, 3]);
        let stopped: Result<(), &str> = retrying(&policy, None, None, &"t", |_| async {
            Err(Failed::Stop("no"))
        })
        .await;
        assert_eq!(stopped.unwrap_err(), "no");
        let abort = Abort::default();
        abort.set();
        let aborted: Result<(), &str> = retrying(&policy, None, Some(&abort), &"t", |_| async {
            Err(Failed::Retry {
                error: "aborted",
                attempts: 40,
                backoff: true,
            })
        })
        .await;
        assert_eq!(aborted.unwrap_err(), "aborted");
    }
}
