//! Two sides of a comparison worked at once: a thread for one while this
//! one does the other, and the order in which two sorted lists merge.

/// Runs `a` on a thread of its own and `b` on this one. A panic is a bug:
/// passed on, not turned into a short answer.
pub fn at_once<A: Send, B>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let a = scope.spawn(a);
        let b = b();
        (a.join().unwrap_or_else(|e| std::panic::resume_unwind(e)), b)
    })
}

/// `at_once` if `worth_it`, else one after the other on this thread.
pub fn at_once_if<A: Send, B>(
    worth_it: bool,
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B,
) -> (A, B) {
    match worth_it {
        true => at_once(a, b),
        false => (a(), b()),
    }
}

/// Which of two sorted lists' next items comes first in a merge of them
/// (`Equal`: both, for the same key).
pub fn merge_order<K: Ord>(a: Option<K>, b: Option<K>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        _ => std::cmp::Ordering::Greater,
    }
}
