//! What a failed call says: its kind (worth another try or not), the
//! status and the cluster's own message (secrets masked), and the wording
//! of answers that are not what the API documents.

use serde_json::Value;

use super::v2map;
use crate::model;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Could not connect, timed out, 429, 502, 503, 504: worth another try.
    Transient,
    /// 500: the cluster's own answer, often deterministic; two more tries.
    Server,
    /// 401/403: credentials refused.
    Refused,
    /// Any other 4xx: the cluster will not do this, retries do not help.
    Rejected,
    /// The answer was not what the API documents.
    BadResponse,
    /// The user's current Org moved (another session of the user
    /// switched) while the request was out: it may have been served in
    /// another Org. `answer` holds what it answered, if it succeeded.
    OrgMoved,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub status: Option<u16>,
    /// The cluster's message, secrets masked.
    pub message: String,
    /// How many times the request was sent (a 404 on a retried DELETE
    /// means an earlier attempt did it).
    pub attempts: u32,
    /// The body of a success answer that could not be proven to come from
    /// the session's Org (`ErrorKind::OrgMoved`).
    pub answer: Option<bytes::Bytes>,
}

impl ApiError {
    pub(super) fn new(
        kind: ErrorKind,
        status: Option<u16>,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            kind,
            status,
            message: message.into(),
            attempts: 1,
            answer: None,
        }
    }

    /// Whether the cluster answered that the thing asked for is not there.
    pub fn is_not_found(&self) -> bool {
        self.status == Some(404)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(s) => write!(f, "HTTP {s}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

pub(crate) fn parse_body(body: &[u8], path: &str) -> Result<Value, ApiError> {
    crate::json::value::read_answer(body).map_err(|e| not_json(path, e))
}

/// What `path` answered is not JSON (or not JSON of the shape read).
pub(crate) fn not_json(path: &str, e: serde_json::Error) -> ApiError {
    ApiError::new(
        ErrorKind::BadResponse,
        None,
        format!("{path} answered something that is not the JSON the API documents ({e})"),
    )
}

pub(crate) fn bad_shape(path: &str, expected: &str, got: &Value) -> ApiError {
    ApiError::new(
        ErrorKind::BadResponse,
        None,
        format!(
            "{path} answered {} where the API documents {expected}",
            model::kind_of(got)
        ),
    )
}

/// The message of an error answer (v1 `{"message"}`, v2
/// `{"error": {"message": {...}}}`, or text), secrets masked.
pub(super) fn error_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<Value>(body) {
        Ok(v) => v2map::error_text(&v).or_else(|| json_message(&v)),
        Err(_) => None,
    };
    let text = text.unwrap_or_else(|| {
        let raw = String::from_utf8_lossy(body);
        let raw = raw.trim();
        if raw.is_empty() {
            "no details in the answer".into()
        } else {
            raw.chars().take(300).collect()
        }
    });
    crate::secrets::mask_cluster_text(&text)
}

fn json_message(v: &Value) -> Option<String> {
    for key in ["message", "description", "debug"] {
        match v.get(key) {
            Some(Value::String(m)) => return Some(m.clone()),
            Some(inner @ Value::Object(_)) => {
                if let Some(m) = json_message(inner) {
                    return Some(m);
                }
            }
            _ => {}
        }
    }
    match v.get("error") {
        Some(Value::String(m)) => Some(m.clone()),
        Some(inner @ Value::Object(_)) => json_message(inner),
        _ => None,
    }
}

pub(super) fn describe_transport(e: &reqwest::Error) -> String {
    // reqwest's messages can carry the URL, never credentials: those are
    // in form bodies and headers, which it does not print.
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        let mut msg = "could not connect".to_string();
        let mut src = std::error::Error::source(e);
        while let Some(s) = src {
            msg = format!("could not connect: {s}");
            src = s.source();
        }
        msg
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_of_v1_and_v2_errors() {
        let v1 = json!({"code": 400, "message": "bad"});
        assert_eq!(json_message(&v1).unwrap(), "bad");
        let v2 = json!({"error": {"message": {"code": 10002, "debug": "Invalid parameter"}}});
        assert_eq!(json_message(&v2).unwrap(), "Invalid parameter");
        assert_eq!(error_message(b""), "no details in the answer");
    }
}
