//! What happens while an apply or an undo writes, one typed event at a
//! time, each naming the object by its pointer in the canonical document.
//! The progress display, the notes printed at the end, `apply --format
//! json --events` and the tests all read this one stream (the model is
//! the reconciler events of Kong's decK: journaled, sent, answered,
//! refused, created, undone, left alone).

use serde::Serialize;

/// The request an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallKind {
    Config,
    Create,
    Update,
    Associate,
    Dissociate,
    Delete,
}

impl CallKind {
    fn verb(self) -> &'static str {
        match self {
            CallKind::Config => "config update",
            CallKind::Create => "create",
            CallKind::Update => "update",
            CallKind::Associate => "association",
            CallKind::Dissociate => "association removal",
            CallKind::Delete => "delete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// Write `seq` of the journal is on disk, before its first request.
    Journaled { seq: u64, pointer: String },
    /// A request goes out.
    Sent { call: CallKind, pointer: String },
    /// It was answered with success.
    Answered { call: CallKind, pointer: String },
    /// A create got its GUID (journaled before any further request).
    Created { pointer: String, id: String },
    /// Every request of journal write `seq` was answered with success.
    Done { seq: u64, pointer: String },
    /// The cluster refused it on its first attempt: nothing changed.
    Refused {
        call: CallKind,
        pointer: String,
        message: String,
    },
    /// It failed after it may have changed something (retries spent, an
    /// answer lost): the undo looks at the object.
    Failed {
        call: CallKind,
        pointer: String,
        message: String,
    },
    /// It succeeded without effect: someone else had done it already (a
    /// delete of an action that was gone).
    AlreadyDone { call: CallKind, pointer: String },
    /// Not sent, as not needed: the cluster showed that a PUT keeps an
    /// action's associations, so only the changed ones are POSTed.
    Unneeded { call: CallKind, pointer: String },
    /// An undo put the object back as it was before the apply (`seq`: its
    /// journal write, where the undo reads a journal).
    Undone {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
        pointer: String,
    },
    /// An undo created again an action the apply had deleted; `id` is its
    /// new GUID.
    Recreated {
        seq: u64,
        pointer: String,
        id: String,
    },
    /// An undo left the object alone: someone changed it since the apply.
    LeftAlone { pointer: String, why: String },
    /// A create was served in another Org (where the cluster keeps one Org
    /// per user and another session moved it); the action was deleted
    /// there (`org`: where it was found, if anywhere).
    StrayRemoved { id: String, org: Option<i64> },
}

impl Event {
    /// Whether it is worth a note after the run (the rest is progress).
    pub fn is_note(&self) -> bool {
        matches!(self, Event::AlreadyDone { .. } | Event::StrayRemoved { .. })
    }

    /// Whether it ends a request (for progress counts).
    pub fn ends_request(&self) -> bool {
        matches!(
            self,
            Event::Answered { .. }
                | Event::AlreadyDone { .. }
                | Event::Unneeded { .. }
                | Event::Refused { .. }
                | Event::Failed { .. }
        )
    }

    /// The object it is about, for progress lines.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Event::Journaled { pointer, .. }
            | Event::Sent { pointer, .. }
            | Event::Answered { pointer, .. }
            | Event::Created { pointer, .. }
            | Event::Done { pointer, .. }
            | Event::Recreated { pointer, .. }
            | Event::Refused { pointer, .. }
            | Event::Failed { pointer, .. }
            | Event::AlreadyDone { pointer, .. }
            | Event::Unneeded { pointer, .. }
            | Event::Undone { pointer, .. }
            | Event::LeftAlone { pointer, .. } => Some(pointer),
            Event::StrayRemoved { .. } => None,
        }
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Journaled { seq, pointer } => write!(f, "{pointer}: journaled as write {seq}"),
            Event::Sent { call, pointer } => write!(f, "{pointer}: {} sent", call.verb()),
            Event::Answered { call, pointer } => write!(f, "{pointer}: {} done", call.verb()),
            Event::Created { pointer, id } => write!(f, "{pointer}: created as {id}"),
            Event::Done { seq, pointer } => write!(f, "{pointer}: write {seq} done"),
            Event::Recreated { pointer, id, .. } => write!(f, "{pointer}: created again as {id}"),
            Event::Refused {
                call,
                pointer,
                message,
            } => write!(f, "{pointer}: {} refused: {message}", call.verb()),
            Event::Failed {
                call,
                pointer,
                message,
            } => write!(f, "{pointer}: {} failed: {message}", call.verb()),
            Event::AlreadyDone { call, pointer } => write!(
                f,
                "{pointer}: {}: it was already done (by someone else)",
                call.verb()
            ),
            Event::Unneeded { call, pointer } => write!(
                f,
                "{pointer}: {} not needed (a PUT keeps associations on this cluster)",
                call.verb()
            ),
            Event::Undone { pointer, .. } => write!(f, "{pointer}: put back as before"),
            Event::LeftAlone { pointer, why } => write!(f, "{pointer}: {why}"),
            Event::StrayRemoved { id, org } => write!(
                f,
                "a create was served in another Org while another session of this user switched; its action {id} was deleted there{}",
                org.map(|o| format!(" (Org {o})")).unwrap_or_default()
            ),
        }
    }
}

/// Counts of an apply's events, for a line or a row that sums it up (a
/// rollout's target): what went out and what came of it, failed runs
/// included.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Requests the apply sent (a retried request counts once).
    pub sent: usize,
    /// Of these, answered with success (or found done by someone else).
    pub answered: usize,
    /// Refused on their first attempt: they changed nothing.
    pub refused: usize,
    /// Failed after they may have changed something.
    pub failed: usize,
    /// Actions created, with their GUID.
    pub created: usize,
    /// Planned requests not sent, as the cluster showed them not needed.
    pub unneeded: usize,
    /// Requests the undo after a failure sent.
    pub undo_sent: usize,
    /// Objects an undo put back (or created again).
    pub undone: usize,
    /// Objects an undo left alone, as someone changed them since.
    pub left_alone: usize,
    /// Actions a create left in another Org, deleted there.
    pub strays_removed: usize,
    /// The undo has begun: what is sent and answered now is the undo's.
    #[serde(skip)]
    undoing: bool,
}

impl Tally {
    pub fn add(&mut self, e: &Event) {
        let undoing = self.undoing;
        match e {
            Event::Sent { .. } if undoing => self.undo_sent += 1,
            Event::Sent { .. } => self.sent += 1,
            Event::Answered { .. }
            | Event::AlreadyDone { .. }
            | Event::Refused { .. }
            | Event::Failed { .. }
                if undoing => {}
            Event::Answered { .. } | Event::AlreadyDone { .. } => self.answered += 1,
            Event::Refused { .. } => self.refused += 1,
            Event::Failed { .. } => self.failed += 1,
            Event::Created { .. } => self.created += 1,
            Event::Unneeded { .. } => self.unneeded += 1,
            Event::Undone { .. } => self.undone += 1,
            Event::LeftAlone { .. } => self.left_alone += 1,
            Event::StrayRemoved { .. } => self.strays_removed += 1,
            Event::Journaled { .. } | Event::Done { .. } | Event::Recreated { .. } => {}
        }
    }
}

/// Keeps a running `Tally` of the events it is shown.
#[derive(Debug, Default)]
pub struct Tallying(std::sync::Mutex<Tally>);

impl Tallying {
    pub fn tally(&self) -> Tally {
        self.0
            .lock()
            .map(|t| *t)
            .unwrap_or_else(|p| *p.into_inner())
    }
}

impl super::executor::Progress for Tallying {
    fn event(&self, e: &Event) {
        match self.0.lock() {
            Ok(mut t) => t.add(e),
            Err(p) => p.into_inner().add(e),
        }
    }
    fn begin_undo(&self, _total: usize) {
        match self.0.lock() {
            Ok(mut t) => t.undoing = true,
            Err(p) => p.into_inner().undoing = true,
        }
    }
}

/// The pointer of action `name`.
pub fn action_pointer(name: &str) -> String {
    crate::pointer::join(&["actions", name])
}

/// The pointer of the config.
pub const CONFIG_POINTER: &str = "/config";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_are_tagged_objects_with_their_pointer() {
        let e = Event::Created {
            pointer: action_pointer("Café ~ a/b"),
            id: "g1".into(),
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"event": "created", "pointer": "/actions/Café ~0 a~1b", "id": "g1"})
        );
        let s = Event::StrayRemoved {
            id: "g2".into(),
            org: Some(2),
        };
        assert!(s.is_note() && s.pointer().is_none());
        assert!(s.to_string().contains("(Org 2)"));
        let a = Event::Answered {
            call: CallKind::Delete,
            pointer: action_pointer("x"),
        };
        assert!(a.ends_request() && !a.is_note());
        assert_eq!(a.to_string(), "/actions/x: delete done");
    }

    #[test]
    fn a_tally_tells_the_apply_from_its_undo() {
        use crate::apply::executor::Progress;
        let t = Tallying::default();
        let p = || action_pointer("Café");
        let sent = |call| Event::Sent { call, pointer: p() };
        t.event(&sent(CallKind::Create));
        t.event(&Event::Created {
            pointer: p(),
            id: "g".into(),
        });
        t.event(&Event::Answered {
            call: CallKind::Create,
            pointer: p(),
        });
        t.event(&sent(CallKind::Update));
        t.event(&Event::Refused {
            call: CallKind::Update,
            pointer: action_pointer("b"),
            message: "400".into(),
        });
        t.begin_undo(1);
        t.event(&sent(CallKind::Delete));
        t.event(&Event::Answered {
            call: CallKind::Delete,
            pointer: p(),
        });
        t.event(&Event::Undone {
            seq: Some(1),
            pointer: p(),
        });
        let got = serde_json::to_value(t.tally()).unwrap();
        assert_eq!(
            got,
            json!({"sent": 2, "answered": 1, "refused": 1, "failed": 0, "created": 1,
                   "unneeded": 0, "undo_sent": 1, "undone": 1, "left_alone": 0,
                   "strays_removed": 0})
        );
    }
}
