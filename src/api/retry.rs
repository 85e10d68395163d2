//! The one retry loop: a call is sent (`send_once`) and, when it fails,
//! sent again after the backoff (exponential with jitter, from `backon`)
//! within the budget in attempts and in time, with a new login when the
//! session expired; and the pause that a `Retry-After` puts on every
//! request to the cluster, not only the one that got it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::StatusCode;

use super::error::{describe_transport, error_message, ApiError, ErrorKind};
use super::host::read_bounded;
use super::request::{set_cookies, Answer, Body, Request, Retry};
use super::session::Session;
use crate::config::settings::{Credentials, RetryPolicy};
use crate::model;
use crate::signals::Abort;

/// The waits between attempts, in order: `base`, doubling, with jitter,
/// capped at `max_delay`.
pub fn delays(policy: &RetryPolicy) -> impl Iterator<Item = Duration> {
    ExponentialBuilder::new()
        .with_min_delay(policy.base)
        .with_max_delay(policy.max_delay)
        .with_factor(2.0)
        .with_jitter()
        .with_max_times(policy.max_attempts.saturating_sub(1) as usize)
        .build()
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

/// The one retry loop: every call of a session goes through it.
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

    pub(super) async fn send_with_retries(
        self: &Arc<Self>,
        req: &Request<'_>,
        abort: Option<&Abort>,
        may_relogin: bool,
    ) -> Result<Answer, ApiError> {
        let started = Instant::now();
        let mut delays = delays(&self.policy);
        let mut attempt = 0u32;
        let mut relogins = 0u32;
        loop {
            attempt += 1;
            if may_relogin && self.token_ending().await {
                let generation = self.generation.load(Ordering::SeqCst);
                Box::pin(self.login(generation)).await?;
            }
            self.host.pause.wait().await;
            let sent = self.host.pacer.wait().await;
            let generation = self.generation.load(Ordering::SeqCst);
            let result = self.send_once(req).await;
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
                && relogins < 2
                && matches!(self.endpoint.credentials, Credentials::Password { .. });
            if expired {
                relogins += 1;
                tracing::info!(
                    "{}: the session expired; logging in again",
                    self.endpoint.label
                );
                Box::pin(self.login(generation)).await?;
                attempt -= 1;
                continue;
            }
            let budget = match (err.kind, req.retry) {
                (ErrorKind::Transient, _) if err.status == Some(429) => {
                    self.policy.max_attempts_429
                }
                (ErrorKind::Transient, Retry::Transient) => self.policy.max_attempts,
                (ErrorKind::Server, Retry::Transient) => self.policy.max_attempts_500,
                _ => 1,
            };
            let aborted = abort.is_some_and(Abort::is_set);
            if attempt >= budget || started.elapsed() >= self.policy.max_total || aborted {
                return Err(err);
            }
            // A 429 without Retry-After has slowed the pacer, which spaces
            // the retry; with Retry-After the pool pause does. No backoff.
            let wait = if err.status == Some(429) {
                Duration::ZERO
            } else {
                delays.next().unwrap_or(self.policy.max_delay)
            };
            tracing::debug!(
                "{} {}: {err}; retry {attempt} in {wait:?}",
                req.method,
                req.path
            );
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

    pub(super) async fn send_once(&self, req: &Request<'_>) -> Result<Answer, ApiError> {
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
        let cookies = self.cookie_header.lock().ok().and_then(|c| c.clone());
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
}
