//! Where the cluster keeps one current Org per user (not per session),
//! a switch by any session of the user — ours or another client's —
//! moves all of them. Requests in an Org then go out in waves: a wave
//! starts once the user's current Org is proven to be its Org (switched
//! and read back), every request of the wave is sent, and the Org is
//! read again when the last one is answered. An answer is handed over
//! only if that second reading still shows the wave's Org; otherwise it
//! may have been served in another Org, and its caller is told so
//! (`ErrorKind::OrgMoved`). Our own sessions in other Orgs wait for
//! their turn, so the tool never moves the Org under its own requests.

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use tokio::sync::{watch, Mutex, Notify};

/// How a cluster keeps the current Org of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgMode {
    /// Each session has its own (REST v2 tokens always do).
    PerSession,
    /// One for all sessions of a user: a switch moves every session.
    PerUser,
}

/// The gate of one user on one cluster.
#[derive(Default)]
pub struct OrgGate {
    state: Mutex<GateState>,
    turn: Notify,
    /// The user's Org may have moved (a login): proven again next wave.
    /// Outside the state's lock, so a probe that logs in can say so.
    stale: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct GateState {
    /// The user's current Org as last read (`None`: not known).
    current: Option<i64>,
    wave: Option<Wave>,
    /// Requests waiting for a wave of another Org, by Org.
    waiting: HashMap<i64, usize>,
}

struct Wave {
    org: i64,
    in_flight: usize,
    /// Whether the Org was still the wave's once every request was answered.
    proven: watch::Sender<Option<bool>>,
}

/// A request's place in a wave.
pub struct Ticket {
    proven: watch::Receiver<Option<bool>>,
}

impl Ticket {
    /// Whether the Org stayed the wave's while this request was out.
    pub async fn proven(mut self) -> bool {
        match self.proven.wait_for(Option::is_some).await {
            Ok(v) => *v == Some(true),
            Err(_) => false,
        }
    }
}

/// What the gate asks of the session it works through.
/// (Boxed: a session's probe sends requests that pass the gate again.)
pub trait OrgProbe: Sync {
    /// The user's current Org, read now.
    fn current(&self) -> BoxFuture<'_, Option<i64>>;
    /// Switches the user to `org` and reads it back: whether it took.
    fn switch(&self, org: i64) -> BoxFuture<'_, bool>;
}

impl OrgGate {
    /// Joins (or starts) a wave of `org`. `None` if the user could not be
    /// put in `org`.
    pub async fn enter(&self, org: i64, probe: &impl OrgProbe) -> Option<Ticket> {
        let mut counted = false;
        loop {
            // Registered before the state is looked at: no wake-up is lost.
            let notified = self.turn.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut s = self.state.lock().await;
                if self.stale.swap(false, std::sync::atomic::Ordering::SeqCst) {
                    s.current = None;
                }
                let others_wait = s.waiting.iter().any(|(o, n)| *o != org && *n > 0);
                match &mut s.wave {
                    // Joins a wave of its Org: one that waited for it, or a
                    // newcomer unless another Org waits (then this wave
                    // drains and the other goes next).
                    Some(w) if w.org == org && (counted || !others_wait) => {
                        w.in_flight += 1;
                        let proven = w.proven.subscribe();
                        if counted {
                            leave_queue(&mut s.waiting, org);
                        }
                        return Some(Ticket { proven });
                    }
                    Some(_) => {}
                    None => {
                        if counted {
                            leave_queue(&mut s.waiting, org);
                        }
                        // Held across the switch: nobody sends meanwhile.
                        if s.current != Some(org) {
                            let took = probe.switch(org).await;
                            s.current = if took { Some(org) } else { None };
                            if !took {
                                self.turn.notify_waiters();
                                return None;
                            }
                        }
                        let (proven, rx) = watch::channel(None);
                        s.wave = Some(Wave {
                            org,
                            in_flight: 1,
                            proven,
                        });
                        return Some(Ticket { proven: rx });
                    }
                }
                if !counted {
                    *s.waiting.entry(org).or_default() += 1;
                    counted = true;
                }
            }
            notified.await;
        }
    }

    /// A request of the wave is answered. The last one reads the Org
    /// again and tells the whole wave whether it stayed.
    pub async fn leave(&self, probe: &impl OrgProbe) {
        let mut s = self.state.lock().await;
        let Some(w) = s.wave.as_mut() else { return };
        w.in_flight = w.in_flight.saturating_sub(1);
        if w.in_flight > 0 {
            return;
        }
        let org = w.org;
        let now = probe.current().await;
        s.current = now;
        if let Some(w) = s.wave.take() {
            let _ = w.proven.send(Some(now == Some(org)));
        }
        drop(s);
        self.turn.notify_waiters();
    }

    /// The user's current Org is not known any more (a login, a switch
    /// outside a wave): the next wave proves it again.
    pub fn forget(&self) {
        self.stale.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

fn leave_queue(waiting: &mut HashMap<i64, usize>, org: i64) {
    if let Some(n) = waiting.get_mut(&org) {
        *n = n.saturating_sub(1);
    }
}

/// The gates of one cluster, one per user.
#[derive(Default)]
pub struct Gates(std::sync::Mutex<HashMap<String, Arc<OrgGate>>>);

impl Gates {
    pub fn of(&self, user: &str) -> Arc<OrgGate> {
        match self.0.lock() {
            Ok(mut g) => g.entry(user.to_string()).or_default().clone(),
            // A poisoned table: a gate of its own still keeps this
            // session's requests in waves.
            Err(_) => Arc::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    /// A user whose Org moves when anyone switches.
    struct User {
        org: AtomicI64,
        switches: AtomicUsize,
    }

    impl OrgProbe for User {
        fn current(&self) -> BoxFuture<'_, Option<i64>> {
            Box::pin(async { Some(self.org.load(Ordering::SeqCst)) })
        }
        fn switch(&self, org: i64) -> BoxFuture<'_, bool> {
            Box::pin(async move {
                self.switches.fetch_add(1, Ordering::SeqCst);
                self.org.store(org, Ordering::SeqCst);
                true
            })
        }
    }

    #[tokio::test]
    async fn requests_of_two_orgs_never_overlap_and_each_is_proven() {
        let user = Arc::new(User {
            org: AtomicI64::new(0),
            switches: AtomicUsize::new(0),
        });
        let gate = Arc::new(OrgGate::default());
        let in_org = Arc::new(std::sync::Mutex::new(HashMap::<i64, usize>::new()));
        let mut tasks = Vec::new();
        for i in 0..40 {
            let (user, gate, in_org) = (user.clone(), gate.clone(), in_org.clone());
            tasks.push(tokio::spawn(async move {
                let org = i % 2 + 1;
                let ticket = gate.enter(org, &*user).await.expect("switched");
                {
                    let mut m = in_org.lock().unwrap();
                    *m.entry(org).or_default() += 1;
                    assert_eq!(
                        m.get(&(3 - org)).copied().unwrap_or(0),
                        0,
                        "two Orgs at once"
                    );
                }
                assert_eq!(user.org.load(Ordering::SeqCst), org);
                tokio::task::yield_now().await;
                *in_org.lock().unwrap().entry(org).or_default() -= 1;
                gate.leave(&*user).await;
                assert!(ticket.proven().await);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert!(
            user.switches.load(Ordering::SeqCst) < 40,
            "waves, not a switch per request"
        );
    }

    #[tokio::test]
    async fn a_switch_by_someone_else_fails_the_wave() {
        let user = User {
            org: AtomicI64::new(1),
            switches: AtomicUsize::new(0),
        };
        let gate = OrgGate::default();
        let ticket = gate.enter(1, &user).await.expect("switched");
        // Another client moves the user while the request is out.
        user.org.store(2, Ordering::SeqCst);
        gate.leave(&user).await;
        assert!(!ticket.proven().await);
        // The next wave switches back first.
        let again = gate.enter(1, &user).await.expect("switched");
        assert_eq!(user.org.load(Ordering::SeqCst), 1);
        gate.leave(&user).await;
        assert!(again.proven().await);
    }
}
