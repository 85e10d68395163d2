//! Sends the calls of one object, in order, and decides what an answer
//! means when the first answer may have been lost: a retried DELETE that
//! finds nothing did its job; a create whose outcome is unknown is looked
//! up by name before it is sent again, and never sent again when the
//! look-up fails. Errors say whether the cluster refused outright (nothing
//! changed) or the outcome is unknown.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};

use super::changes::{entries, insert_entry, ActionChange, Call};
use super::events::{action_pointer, CallKind, Event};
use super::journal::Journal;
use crate::api::retry::{retrying, Failed};
use crate::api::{ApiError, Cluster, ErrorKind};
use crate::signals::Abort;

/// Reports progress of the writes.
pub trait Progress: Sync {
    /// Writing starts: `total` requests, journaled in `journal`.
    fn begin(&self, _total: usize, _journal: &std::path::Path) {}
    /// Something happened (`Event::ends_request`: one request is over).
    fn event(&self, e: &Event);
    /// An undo starts: `total` requests put back what was written.
    fn begin_undo(&self, _total: usize) {}
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn event(&self, _: &Event) {}
}

/// Passes every event on, keeps those worth a note after the run, and
/// counts the planned requests that were not needed.
pub struct Recorder<'a> {
    inner: &'a dyn Progress,
    notes: std::sync::Mutex<Vec<Event>>,
    unneeded: std::sync::atomic::AtomicUsize,
}

impl<'a> Recorder<'a> {
    pub fn new(inner: &'a dyn Progress) -> Recorder<'a> {
        Recorder {
            inner,
            notes: std::sync::Mutex::default(),
            unneeded: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The notes, and how many planned requests were not sent.
    pub fn finish(self) -> (Vec<Event>, usize) {
        let notes = self.notes.into_inner().unwrap_or_else(|p| p.into_inner());
        (notes, self.unneeded.into_inner())
    }
}

impl Progress for Recorder<'_> {
    fn begin(&self, total: usize, journal: &std::path::Path) {
        self.inner.begin(total, journal);
    }
    fn event(&self, e: &Event) {
        if matches!(e, Event::Unneeded { .. }) {
            self.unneeded
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        if e.is_note() {
            if let Ok(mut n) = self.notes.lock() {
                n.push(e.clone());
            }
        }
        self.inner.event(e);
    }
    fn begin_undo(&self, total: usize) {
        self.inner.begin_undo(total);
    }
}

/// Both, in order (progress display and an event printer).
pub struct Both<'a>(pub &'a dyn Progress, pub &'a dyn Progress);

impl Progress for Both<'_> {
    fn begin(&self, total: usize, journal: &std::path::Path) {
        self.0.begin(total, journal);
        self.1.begin(total, journal);
    }
    fn event(&self, e: &Event) {
        self.0.event(e);
        self.1.event(e);
    }
    fn begin_undo(&self, total: usize) {
        self.0.begin_undo(total);
        self.1.begin_undo(total);
    }
}

/// Why an object's calls stopped.
#[derive(Debug, Clone)]
pub struct CallError {
    /// Index of the call that failed.
    pub call: usize,
    pub message: String,
    /// The cluster refused it on its first attempt: it changed nothing.
    pub refused_first: bool,
}

/// What happened to one object.
#[derive(Debug, Default)]
pub struct ObjectResult {
    /// The GUID a create got.
    pub created: Option<String>,
    /// Calls that changed nothing although they "succeeded" (a DELETE of
    /// something someone else had already deleted).
    pub no_effect: Vec<usize>,
    pub error: Option<CallError>,
}

/// Sends the calls of `change` in order; stops at the first failure. A
/// create's GUID goes to `journal` (write `seq`) before any further call.
pub async fn run_action(
    cluster: &Cluster,
    change: &ActionChange,
    abort: &Abort,
    progress: &dyn Progress,
    journal: Option<(&Journal, u64)>,
) -> ObjectResult {
    let mut result = ObjectResult::default();
    let mut id = change.id.clone();
    let pointer = action_pointer(&change.name);
    for (i, call) in change.calls.iter().enumerate() {
        let fail = |message: String, refused_first: bool| CallError {
            call: i,
            message,
            refused_first,
        };
        let what = describe(call, &change.name);
        let kind = call_kind(call);
        progress.event(&Event::Sent {
            call: kind,
            pointer: pointer.clone(),
        });
        let outcome: Result<bool, CallError> = match call {
            Call::Create(body) => {
                match create(cluster, &change.name, body, abort, journal, progress).await {
                    Ok(new_id) => {
                        let recorded = match journal {
                            Some((j, seq)) => j.created(seq, &new_id).await,
                            None => Ok(()),
                        };
                        if let Err(e) = recorded {
                            result.created = Some(new_id);
                            result.error = Some(fail(
                                format!(
                                    "{what}: created, but the journal could not record it: {e}"
                                ),
                                false,
                            ));
                            return result;
                        }
                        progress.event(&Event::Created {
                            pointer: pointer.clone(),
                            id: new_id.clone(),
                        });
                        id = Some(new_id.clone());
                        result.created = Some(new_id);
                        Ok(true)
                    }
                    Err((e, refused)) => Err(fail(format!("{what}: {e}"), refused)),
                }
            }
            other => match id.as_deref() {
                None => Err(fail(
                    format!("{what}: the action has no GUID on the target"),
                    true,
                )),
                Some(guid) => {
                    // After a PUT: the whole map again, or only what
                    // changes where the cluster keeps associations.
                    let after_put = i > 0 && matches!(change.calls[i - 1], Call::Put(_));
                    let reduced = match other {
                        Call::AddAssociations(map) if after_put => {
                            needed_after_put(cluster, guid, change.before.as_ref(), map).await
                        }
                        _ => None,
                    };
                    match reduced {
                        Some(map) if map.is_empty() => {
                            progress.event(&Event::Unneeded {
                                call: kind,
                                pointer: pointer.clone(),
                            });
                            continue;
                        }
                        Some(map) => {
                            let call = Call::AddAssociations(map);
                            send(cluster, guid, &call, change.before.as_ref(), abort).await
                        }
                        None => send(cluster, guid, other, change.before.as_ref(), abort).await,
                    }
                    .map_err(|(e, refused)| fail(format!("{what}: {e}"), refused))
                }
            },
        };
        match outcome {
            Ok(true) => progress.event(&Event::Answered {
                call: kind,
                pointer: pointer.clone(),
            }),
            Ok(false) => {
                result.no_effect.push(i);
                let e = Event::AlreadyDone {
                    call: kind,
                    pointer: pointer.clone(),
                };
                progress.event(&e);
            }
            Err(e) => {
                let (pointer, message) = (pointer.clone(), e.message.clone());
                progress.event(&match e.refused_first {
                    true => Event::Refused {
                        call: kind,
                        pointer,
                        message,
                    },
                    false => Event::Failed {
                        call: kind,
                        pointer,
                        message,
                    },
                });
                result.error = Some(e);
                return result;
            }
        }
    }
    result
}

/// After a PUT of action `guid`, the associations of `map` to POST:
/// `None` for all of them (the cluster may have cleared them, or it is not
/// known), `Some` with only the entries that change where the cluster has
/// shown that a PUT keeps associations. It shows it once per cluster: the
/// first action with entries that stay is read back after its PUT (one
/// GET); actions meanwhile wait for that answer. Verification reads every
/// action back, so a cluster that changes its mind is still caught.
async fn needed_after_put(
    cluster: &Cluster,
    guid: &str,
    before: Option<&Value>,
    map: &Map<String, Value>,
) -> Option<Map<String, Value>> {
    let before = before.map(super::changes::association_map)?;
    let mut changed = Map::new();
    let mut staying = Map::new();
    for (kind, object, entry) in entries(map) {
        let same = before.get(kind).and_then(|o| o.get(object)) == Some(entry);
        let into = if same { &mut staying } else { &mut changed };
        insert_entry(into, kind, object, entry.clone());
    }
    let cell = &cluster.session.host.put_keeps_associations;
    let keeps = match cell.get() {
        Some(k) => *k,
        // Nothing here would tell: the entries all change anyway.
        None if staying.is_empty() => return None,
        None => {
            let learned = cell
                .get_or_try_init(|| async {
                    let live = cluster.associations(guid).await.map_err(|_| ())?;
                    let kept = entries(&staying)
                        .all(|(k, o, e)| live.get(k).and_then(|x| x.get(o)) == Some(e));
                    tracing::info!(
                        "{}: a PUT {} an action's associations; {}",
                        cluster.label(),
                        if kept { "keeps" } else { "clears" },
                        if kept {
                            "only the changed ones are posted after each PUT"
                        } else {
                            "they are posted again after each PUT"
                        }
                    );
                    Ok::<bool, ()>(kept)
                })
                .await;
            match learned {
                Ok(k) => *k,
                Err(()) => return None,
            }
        }
    };
    keeps.then_some(changed)
}

fn call_kind(call: &Call) -> CallKind {
    match call {
        Call::Create(_) => CallKind::Create,
        Call::Put(_) => CallKind::Update,
        Call::AddAssociations(_) => CallKind::Associate,
        Call::RemoveAssociations(_) => CallKind::Dissociate,
        Call::Delete => CallKind::Delete,
    }
}

fn describe(call: &Call, name: &str) -> String {
    match call {
        Call::Create(_) => format!("create action {name:?}"),
        Call::Put(_) => format!("update action {name:?}"),
        Call::AddAssociations(_) => format!("associate action {name:?}"),
        Call::RemoveAssociations(_) => format!("remove associations of action {name:?}"),
        Call::Delete => format!("delete action {name:?}"),
    }
}

/// Whether an error means the cluster refused on the first attempt, so
/// that nothing changed.
fn refused_first(e: &ApiError) -> bool {
    e.attempts <= 1 && matches!(e.kind, ErrorKind::Rejected | ErrorKind::Refused)
}

/// One call on an existing action. `Ok(false)`: succeeded without effect.
async fn send(
    cluster: &Cluster,
    id: &str,
    call: &Call,
    before: Option<&Value>,
    abort: &Abort,
) -> Result<bool, (ApiError, bool)> {
    let abort = Some(abort);
    let r = match call {
        Call::Put(body) => cluster.update_action(id, body, before, abort).await,
        Call::AddAssociations(map) => cluster.change_associations(id, map, true, abort).await,
        Call::RemoveAssociations(map) => {
            return remove_associations(cluster, id, map, abort).await;
        }
        Call::Delete => match cluster.delete_action(id, abort).await {
            // Answered 404 after a retry: an earlier attempt deleted it.
            Err(e) if e.is_not_found() && e.attempts > 1 => Ok(()),
            // 404 at once: someone else deleted it first; not ours to undo.
            Err(e) if e.is_not_found() => return Ok(false),
            other => other,
        },
        Call::Create(_) => unreachable!("creates are sent by `create`"),
    };
    r.map(|()| true).map_err(|e| {
        let refused = refused_first(&e);
        (e, refused)
    })
}

/// DELETE of associations; the API refuses (400) to remove one that is not
/// there and then removes none, so on a refusal the live map decides: what
/// is still there is removed again, and what is gone is done.
async fn remove_associations(
    cluster: &Cluster,
    id: &str,
    map: &Map<String, Value>,
    abort: Option<&Abort>,
) -> Result<bool, (ApiError, bool)> {
    let first = match cluster.change_associations(id, map, false, abort).await {
        Ok(()) => return Ok(true),
        Err(e) if e.kind == ErrorKind::Rejected => e,
        Err(e) => {
            let refused = refused_first(&e);
            return Err((e, refused));
        }
    };
    let live = cluster.associations(id).await.map_err(|e| (e, false))?;
    let mut still = Map::new();
    for (kind, guid, entry) in entries(map) {
        if live.get(kind).and_then(|o| o.get(guid)).is_some() {
            insert_entry(&mut still, kind, guid, entry.clone());
        }
    }
    if still.is_empty() {
        // Gone: by an earlier attempt of ours (done), or by someone else
        // before our first attempt (done, but not ours to undo).
        return Ok(first.attempts > 1);
    }
    cluster
        .change_associations(id, &still, false, abort)
        .await
        .map(|()| true)
        .map_err(|e| (e, false))
}

/// POSTs a new action and returns its GUID. After an answer that may have
/// been lost, the action is looked up by name before it is sent again; if
/// the look-up itself fails, it is not sent again. The error's flag says
/// whether the cluster refused outright.
async fn create(
    cluster: &Cluster,
    name: &str,
    body: &Value,
    abort: &Abort,
    journal: Option<(&Journal, u64)>,
    progress: &dyn Progress,
) -> Result<String, (ApiError, bool)> {
    let policy = cluster.session.policy();
    let what = format!("create {name:?}");
    // Whether the cluster refused the first request outright.
    let refused = AtomicBool::new(false);
    let created = retrying(policy, None, Some(abort), &what, |attempt| {
        let refused = &refused;
        async move {
            let e = match cluster.create_action(body, Some(abort)).await {
                Ok(created) => match created.get("id").and_then(Value::as_str) {
                    Some(id) if !id.is_empty() => return Ok(id.to_string()),
                    // Created, but the answer does not say as what: look.
                    _ => ApiError {
                        kind: ErrorKind::BadResponse,
                        status: None,
                        message: "the create answer carries no id".into(),
                        attempts: 1,
                        answer: None,
                    },
                },
                Err(e) if matches!(e.kind, ErrorKind::Rejected | ErrorKind::Refused) => {
                    refused.store(e.attempts <= 1 && attempt == 1, Ordering::Relaxed);
                    return Err(Failed::Stop(e));
                }
                Err(e) if e.kind == ErrorKind::OrgMoved && created_id(&e).is_some() => {
                    return placed(cluster, e, journal, progress).await.map_err(|e| match e {
                        Some(e) => Failed::Stop(e),
                        None => Failed::Again,
                    });
                }
                Err(e) => e,
            };
            // The create may have happened: look before sending it again.
            // A 500 is the cluster's answer: tried twice more at most, as
            // every other request.
            let attempts = match e.kind {
                ErrorKind::Server => policy.max_attempts_500,
                _ => policy.max_attempts,
            };
            match find_by_name(cluster, name).await {
                Ok(Some(id)) => Ok(id),
                Ok(None) => Err(Failed::Retry {
                    error: e,
                    attempts,
                    backoff: true,
                }),
                Err(look) => Err(Failed::Stop(ApiError {
                    message: format!(
                        "{e}; whether the action was created is unknown (the look-up failed: {look}), so it is not sent again",
                    ),
                    ..e
                })),
            }
        }
    })
    .await;
    created.map_err(|e| (e, refused.load(Ordering::Relaxed)))
}

/// The GUID a create answered with, where its Org was not proven.
fn created_id(e: &ApiError) -> Option<String> {
    let v = serde_json::from_slice::<Value>(e.answer.as_ref()?).ok()?;
    v.get("id").and_then(Value::as_str).map(str::to_string)
}

/// A create answered while another session had moved the user's Org
/// (one Org per user), with the GUID it made: found in our Org, that is
/// the create's; else it is journaled, deleted in the Org that has it,
/// and the create is sent again (`Err(None)`). (A create that failed
/// there changed nothing here: it is looked up by name and sent again.)
async fn placed(
    cluster: &Cluster,
    e: ApiError,
    journal: Option<(&Journal, u64)>,
    progress: &dyn Progress,
) -> Result<String, Option<ApiError>> {
    let Some(id) = created_id(&e) else {
        return Err(None);
    };
    match cluster.action(&id).await {
        Ok(_) => return Ok(id),
        Err(look) if look.is_not_found() => {}
        Err(look) => {
            return Err(Some(ApiError {
                message: format!(
                    "{e}; where the created action {id} is could not be found out ({look})"
                ),
                ..e
            }))
        }
    }
    let unknown = |why: String| {
        Some(ApiError {
            message: format!(
                "{}; the action it created ({id}) is in another Org and {why}",
                e.message
            ),
            answer: None,
            ..e.clone()
        })
    };
    if let Some((j, seq)) = journal {
        j.stray(seq, &id)
            .await
            .map_err(|je| unknown(format!("could not be journaled: {je}")))?;
    }
    match cluster.remove_stray(&id).await {
        Ok(org) => {
            let e = Event::StrayRemoved {
                id: id.clone(),
                org,
            };
            tracing::warn!("{}: {e}", cluster.label());
            progress.event(&e);
            if let Some((j, seq)) = journal {
                let _ = j.stray_removed(seq, &id, org).await;
            }
            Err(None)
        }
        Err(re) => Err(unknown(format!("could not be removed: {re}"))),
    }
}

/// The GUID of the action named `name`, if the cluster has one.
pub async fn find_by_name(cluster: &Cluster, name: &str) -> Result<Option<String>, ApiError> {
    let actions = cluster.actions().await?;
    Ok(actions
        .iter()
        .find(|a| a.get("name").and_then(Value::as_str) == Some(name))
        .and_then(|a| a.get("id").and_then(Value::as_str))
        .map(str::to_string))
}
