//! Finding a JSON text's structure without reading it: where strings,
//! values and nestings end, found eight bytes at a time. Everything here
//! works on bytes and answers byte offsets; only the callers turn a span
//! into text, at offsets that are structural ASCII bytes (quotes,
//! brackets, commas), so never inside a UTF-8 character.

/// A value nested deeper than this inside one member or item is not
/// followed here: it is read in full, where serde's own limit applies.
pub const MAX_NESTING: usize = 64;

/// Where the string whose text starts at `from` ends (its closing
/// quote), and whether it is plain: no escape, no control character.
pub fn string_end(b: &[u8], from: usize) -> Option<(usize, bool)> {
    string_scan(b, from, true)
}

/// `string_end` where only the end matters (control characters are not
/// looked for).
pub fn string_close(b: &[u8], from: usize) -> Option<usize> {
    string_scan(b, from, false).map(|(end, _)| end)
}

#[inline(always)]
fn string_scan(b: &[u8], mut from: usize, controls: bool) -> Option<(usize, bool)> {
    let mut plain = true;
    loop {
        from = find(b, from, |w| {
            let marks = zero_bytes(w ^ repeat(b'"')) | zero_bytes(w ^ repeat(b'\\'));
            if controls {
                marks | below(w, 0x20)
            } else {
                marks
            }
        })?;
        match *b.get(from)? {
            b'"' => return Some((from, plain)),
            b'\\' => from += 2,
            _ => from += 1,
        }
        plain = false;
    }
}

/// The depth of a nesting after the bracket `c`; `None` past
/// `MAX_NESTING`, or for a bracket that closes what was not opened.
pub fn nested(depth: usize, c: u8) -> Option<usize> {
    match c {
        b'{' | b'[' => Some(depth + 1).filter(|d| *d <= MAX_NESTING),
        _ => depth.checked_sub(1),
    }
}

/// The next quote or bracket at or after `at`, or one of a few bytes that
/// share a bracket's pattern (`Y`, `_`, `y`, DEL: looked at and passed).
pub fn next_mark(b: &[u8], at: usize) -> Option<usize> {
    // `{`, `}`, `[` and `]` are 0x59 once the bits 0x20, 0x04, 0x02 are cleared.
    find(b, at, |w| {
        zero_bytes(w ^ repeat(b'"')) | zero_bytes((w & repeat(0xD9)) ^ repeat(0x59))
    })
}

/// The first byte at or after `at` that `flags` marks, looked for eight
/// at a time: `flags` marks a byte of a word by its high bit (where the
/// lowest mark is always right; above it, one may be wrong).
fn find(b: &[u8], mut at: usize, flags: impl Fn(u64) -> u64) -> Option<usize> {
    while let Some(word) = b.get(at..at + 8) {
        let mut w = [0; 8];
        w.copy_from_slice(word);
        let marks = flags(u64::from_le_bytes(w));
        if marks != 0 {
            return Some(at + (marks.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    // The last few bytes, each as a word of its own.
    while let Some(&c) = b.get(at) {
        if flags(u64::from(c)) & 0x80 != 0 {
            return Some(at);
        }
        at += 1;
    }
    None
}

/// `byte` in each of a word's eight bytes.
const fn repeat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// The zero bytes of `w`, marked by their high bits.
fn zero_bytes(w: u64) -> u64 {
    w.wrapping_sub(repeat(1)) & !w & repeat(0x80)
}

/// The bytes of `w` below `n` (at most 0x80), marked by their high bits.
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(repeat(n)) & !w & repeat(0x80)
}

/// The first byte at or after `at` that is not JSON white space.
pub fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while b
        .get(at)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        at += 1;
    }
    at
}

/// Where the value that starts at `at` ends (one past its last byte),
/// following only its nesting (checked by whoever takes it); `None` past
/// `MAX_NESTING`.
pub fn value_end(b: &[u8], mut at: usize) -> Option<usize> {
    match *b.get(at)? {
        b'"' => string_close(b, at + 1).map(|end| end + 1),
        b'{' | b'[' => {
            let mut depth = 0usize;
            loop {
                at = next_mark(b, at)?;
                match *b.get(at)? {
                    b'"' => at = string_close(b, at + 1)?,
                    c @ (b'{' | b'[' | b'}' | b']') => {
                        depth = nested(depth, c)?;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
        }
        // A number, `true`, `false` or `null`.
        _ => {
            let rest = b.get(at..)?;
            let len = rest
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                .unwrap_or(rest.len());
            (len > 0).then_some(at + len)
        }
    }
}

/// How many bytes two texts begin with alike (`forward`) or end with. A
/// byte count: it may end inside a character, so it is only ever used to
/// slice bytes, never text.
pub fn common(a: &[u8], b: &[u8], forward: bool) -> usize {
    const CHUNK: usize = 32;
    let n = a.len().min(b.len());
    let at = |t: &[u8], i: usize, len: usize| match forward {
        true => i..i + len,
        false => t.len() - i - len..t.len() - i,
    };
    let mut i = 0;
    while i + CHUNK <= n && a[at(a, i, CHUNK)] == b[at(b, i, CHUNK)] {
        i += CHUNK;
    }
    while i < n && a[at(a, i, 1)] == b[at(b, i, 1)] {
        i += 1;
    }
    i
}

/// Where `part`, a slice of `text`, lies in it (start and end). Both are
/// offsets of one allocation, so the subtraction cannot wrap.
pub fn span(text: &str, part: &str) -> (usize, usize) {
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    (start, start + part.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift).
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    #[test]
    fn word_at_a_time_search_finds_what_a_byte_loop_finds() {
        let string_end_bytewise = |b: &[u8], mut from: usize| {
            let mut plain = true;
            while let Some(&c) = b.get(from) {
                match c {
                    b'"' => return Some((from, plain)),
                    b'\\' => from += 2,
                    _ => {
                        from += 1;
                        if c >= 0x20 {
                            continue;
                        }
                    }
                }
                plain = false;
            }
            None
        };
        let next_mark_bytewise = |b: &[u8], at: usize| {
            let rest = b.get(at..)?;
            let i = rest.iter().position(|&c| c == b'"' || c & 0xD9 == 0x59)?;
            Some(at + i)
        };
        let alphabet = b"\"\\{}[]Yy_\x7f\x00\x01\x1f ~a\xc3\xa9\xff\x80";
        let mut rng = Rng(7);
        for _ in 0..20_000 {
            let len = rng.below(40);
            let t: Vec<u8> = (0..len)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect();
            let from = rng.below(len + 2);
            let end = string_end_bytewise(&t, from);
            assert_eq!(string_end(&t, from), end, "{t:?} {from}");
            assert_eq!(
                string_close(&t, from),
                end.map(|(at, _)| at),
                "{t:?} {from}"
            );
            assert_eq!(
                next_mark(&t, from),
                next_mark_bytewise(&t, from),
                "{t:?} {from}"
            );
        }
        // Deep, but not too deep; and where a value closes, however far.
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes();
        let at_limit = deep(MAX_NESTING);
        assert_eq!(value_end(&at_limit, 0), Some(at_limit.len()));
        assert_eq!(value_end(&deep(MAX_NESTING + 1), 0), None);
        let long = format!("{{\"k\": \"{}\\\"}}\"}} tail", "x".repeat(1000)).into_bytes();
        assert_eq!(value_end(&long, 0), Some(long.len() - 5));
        assert_eq!(value_end(b"-1.5e3, 2", 0), Some(6));
        assert_eq!(value_end(b"\"a\\\"b\"}", 0), Some(6));
    }

    #[test]
    fn common_ends_are_byte_counts_that_may_split_a_character() {
        // "é" (C3 A9) and "è" (C3 A8) share their first byte; "é" and "©"
        // (C2 A9) their last.
        assert_eq!(common("café".as_bytes(), "cafè".as_bytes(), true), 4);
        assert_eq!(common("é!".as_bytes(), "©!".as_bytes(), false), 2);
        for n in 0..70 {
            let (a, b) = ("x".repeat(n) + "a", "x".repeat(n) + "b");
            assert_eq!(common(a.as_bytes(), b.as_bytes(), true), n);
            let (a, b) = (
                "a".to_string() + &"x".repeat(n),
                "b".to_string() + &"x".repeat(n),
            );
            assert_eq!(common(a.as_bytes(), b.as_bytes(), false), n);
        }
    }
}
