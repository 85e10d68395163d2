//! The one rule for keys: an object that gives a key twice is refused,
//! by the full read and by the strict check alike, in the same words. A
//! hand-edited file that says two things must not silently mean one.

use std::fmt;

/// A key given twice in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Twice(pub String);

impl fmt::Display for Twice {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the key {:?} appears twice in one object", self.0)
    }
}

/// Checks that the keys of `items` (one object's members, in the order
/// given) are distinct. Sorted keys, as every file we write has them,
/// cost one pass; any other order is sorted once (all keys compared,
/// however far apart the two are).
pub fn distinct<T>(items: &[T], key: impl Fn(&T) -> &str) -> Result<(), Twice> {
    if items.windows(2).all(|w| key(&w[0]) < key(&w[1])) {
        return Ok(());
    }
    let mut keys: Vec<&str> = items.iter().map(&key).collect();
    keys.sort_unstable();
    match keys.windows(2).find(|w| w[0] == w[1]) {
        Some(w) => Err(Twice(w[0].to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_twice_is_found_at_any_distance_and_in_any_order() {
        let check = |keys: &[&str]| distinct(keys, |k| k).map_err(|t| t.0);
        assert_eq!(check(&[]), Ok(()));
        assert_eq!(check(&["a", "b", "c"]), Ok(()));
        assert_eq!(check(&["c", "a", "b"]), Ok(()));
        assert_eq!(check(&["a", "a"]), Err("a".into()));
        // Out of order first, then a key seen before that point.
        assert_eq!(check(&["a", "c", "b", "a"]), Err("a".into()));
        let mut far: Vec<String> = (0..1000).map(|i| format!("k{i:04}")).collect();
        far.push("k0000".into());
        assert_eq!(distinct(&far, |k| k.as_str()), Err(Twice("k0000".into())));
        assert_eq!(
            Twice("é".into()).to_string(),
            "the key \"é\" appears twice in one object"
        );
    }
}
