//! One API call as the typed calls describe it (method, path, query,
//! body, and which failures may simply be sent again), and the cookies
//! an answer sets and a request carries.

use reqwest::Method;
use serde_json::Value;

/// Which failures a call may simply send again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    Transient,
    /// A create whose outcome is unknown after a transport failure: the
    /// caller looks before sending it again. 429 promises the request was
    /// not processed, so it is still retried.
    OnlyThrottled,
}

pub enum Body<'a> {
    None,
    Form(&'a [(&'a str, String)]),
    Json(&'a Value),
}

/// One API call.
pub struct Request<'a> {
    pub method: Method,
    /// Path under the cluster URL, base path included.
    pub path: &'a str,
    pub query: &'a [(&'a str, String)],
    pub body: Body<'a>,
    pub retry: Retry,
}

impl<'a> Request<'a> {
    pub fn get(path: &'a str) -> Request<'a> {
        Request {
            method: Method::GET,
            path,
            query: &[],
            body: Body::None,
            retry: Retry::Transient,
        }
    }

    /// Whether the request changes the cluster (sessions and searches do
    /// not count).
    pub fn is_write(&self) -> bool {
        self.method != Method::GET
            && !self.path.contains("/session/")
            && !self.path.contains("/auth/")
            && !self.path.ends_with("/search")
    }
}

/// `METHOD path`, for logs.
impl std::fmt::Display for Request<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Which cookies a request carries.
#[derive(Debug, Clone, Copy)]
pub(super) enum Cookies<'a> {
    /// The session's published ones (a session proven in its Org).
    Published,
    /// These (or none), while a login or a switch is being proven and
    /// before its cookies are published.
    These(Option<&'a str>),
}

/// `cookies` with those of `set` put in (a switch may answer a new
/// session cookie: it replaces the one of the same name).
pub(super) fn merge_cookies(cookies: &mut Vec<(String, String)>, set: Vec<(String, String)>) {
    for (name, value) in set {
        match cookies.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => cookies.push((name, value)),
        }
    }
}

/// A 2xx answer: its body, and the cookies it set.
pub(super) struct Answer {
    pub(super) body: bytes::Bytes,
    pub(super) cookies: Vec<(String, String)>,
}

pub(super) fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let pair = v.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            Some((name.trim().to_string(), value.trim().to_string()))
        })
        .collect()
}

pub(super) fn cookie_header(cookies: &[(String, String)]) -> Option<String> {
    if cookies.is_empty() {
        return None;
    }
    Some(
        cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_round_trip() {
        let mut h = reqwest::header::HeaderMap::new();
        h.append(
            reqwest::header::SET_COOKIE,
            "JSESSIONID=abc; Path=/; HttpOnly".parse().unwrap(),
        );
        h.append(reqwest::header::SET_COOKIE, "clientId=x".parse().unwrap());
        let c = set_cookies(&h);
        assert_eq!(cookie_header(&c).unwrap(), "JSESSIONID=abc; clientId=x");
    }
}
