//! A differential oracle: two snapshot directories read side by side
//! (`snapshot::read_pair`, which skips what both hold byte for byte) must
//! answer exactly what reading each in full answers — the same changes
//! with the same values, the same placeholders and fingerprint, or the
//! same refusal naming the same file and pointer.
//!
//! The pairs are generated as users make them: text in any script (with
//! characters that share their lead or trail bytes at the start, middle
//! and end of values), NFC and NFD spellings of one name, escapes, files
//! edited by hand (unsorted keys, CRLF, tabs, a byte-order mark, a key
//! given twice at any distance, nesting at and past the limits), numbers
//! in every spelling. `TSMIGRATE_ORACLE_CASES` (default 3000) and
//! `TSMIGRATE_ORACLE_SECS` (default 40) bound a run;
//! `TSMIGRATE_ORACLE_SEED` repeats one (each failure prints its seed).

use std::path::Path;
use std::time::{Duration, Instant};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use tsmigrate::snapshot;

use crate::pair_oracle::disagreement;

/// A JSON text as a tree that keeps what a file can say and a `Value`
/// cannot: key order, a key twice, a number's spelling.
#[derive(Clone, Debug)]
pub enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
    /// An object a person added to or edited: written in its own order
    /// whatever the file's style.
    Edited(Vec<(String, J)>),
}

/// How a file is written: as `export` writes it, or as a person edits it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    pub sorted: bool,
    pub indent: &'static str,
    pub newline: &'static str,
    pub bom: bool,
    /// Non-ASCII characters as `\uXXXX` escapes (astral ones as pairs).
    pub escape_non_ascii: bool,
    /// `/` as `\/`.
    pub escape_slash: bool,
    pub trailing_newline: bool,
}

pub const CANONICAL: Style = Style {
    sorted: true,
    indent: "  ",
    newline: "\n",
    bom: false,
    escape_non_ascii: false,
    escape_slash: false,
    trailing_newline: true,
};

pub fn render(j: &J, style: Style) -> String {
    let mut out = String::new();
    if style.bom {
        out.push('\u{feff}');
    }
    write(j, style, 0, &mut out);
    if style.trailing_newline {
        out.push_str(style.newline);
    }
    out
}

fn write(j: &J, style: Style, depth: usize, out: &mut String) {
    let pad = |out: &mut String, d: usize| {
        out.push_str(style.newline);
        for _ in 0..d {
            out.push_str(style.indent);
        }
    };
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Num(n) => out.push_str(n),
        J::Str(s) => string(s, style, out),
        J::Arr(items) if items.is_empty() => out.push_str("[]"),
        J::Arr(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                write(item, style, depth + 1, out);
            }
            pad(out, depth);
            out.push(']');
        }
        J::Obj(members) | J::Edited(members) if members.is_empty() => out.push_str("{}"),
        J::Obj(members) | J::Edited(members) => {
            let mut members: Vec<&(String, J)> = members.iter().collect();
            if style.sorted && matches!(j, J::Obj(_)) {
                // Stable: a key given twice stays twice.
                members.sort_by(|a, b| a.0.cmp(&b.0));
            }
            out.push('{');
            for (i, (k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                pad(out, depth + 1);
                string(k, style, out);
                out.push_str(": ");
                write(v, style, depth + 1, out);
            }
            pad(out, depth);
            out.push('}');
        }
    }
}

fn string(s: &str, style: Style, out: &mut String) {
    // serde_json's escaping, as `export` writes strings.
    let plain = serde_json::to_string(s).unwrap_or_default();
    if !style.escape_non_ascii && !style.escape_slash {
        out.push_str(&plain);
        return;
    }
    for c in plain.chars() {
        match c {
            '/' if style.escape_slash => out.push_str("\\/"),
            c if !c.is_ascii() && style.escape_non_ascii => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
}

/// Characters that share their first bytes (é/è, 日/明, 🙂/🙃) or their
/// last (é/©, ü/ö's lead): a change from one to the other leaves both
/// texts alike up to the middle of a character.
pub const NEIGHBOURS: &[(&str, &str)] = &[
    ("é", "è"),
    ("é", "©"),
    ("ü", "ö"),
    ("日", "明"),
    ("本", "日"),
    ("🙂", "🙃"),
    ("😀", "🙂"),
    ("א", "ב"),
    ("a", "b"),
];

/// Pieces of text users have: several scripts, right-to-left text, a
/// decomposed accent, what must be escaped, and what looks like a
/// placeholder.
const PIECES: &[&str] = &[
    "a",
    "Send",
    " ",
    "café",
    "Café Zürich",
    "Cafè Zöln",
    "日本",
    "明日",
    "🙂",
    "🙃",
    "é",
    "©",
    "e\u{301}",
    "שלום",
    "مرحبا",
    "\u{200f}",
    "\"",
    "\\",
    "/",
    "\n",
    "\t",
    "\u{1}",
    "https://hooks.example.test/x?t=1&u=2",
    "${",
    "\u{a0}",
    "Ω",
    "ß",
];

const KEYS: &[&str] = &[
    "companyName",
    "emailConfig",
    "enabled",
    "é",
    "e\u{301}",
    "日本",
    "a.b",
    "k~1",
    "x/y",
    "ключ",
    "🙂",
    "list",
    "nest",
    "timeout",
    "z",
];

/// Action names: NFC and NFD spellings of one name are two actions.
const NAMES: &[&str] = &[
    "Café",
    "Cafe\u{301}",
    "Send to Teams",
    "send to teams",
    "日本語アクション",
    "🙂 Notify",
    "שלח הודעה",
    "a/b \"quoted\"",
    "Zürich",
    "Zu\u{308}rich",
];

/// Number spellings: all valid JSON, several for one value, and some the
/// full read refuses (out of range).
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "1.0",
    "1e0",
    "1E+0",
    "-0",
    "-0.0",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775809",
    "0.1000000000000000055511151231257827",
    "3.141592653589793238462643383279",
    "1e308",
    "1e400",
    "-1.5e-3",
];

pub struct Gen(pub SmallRng);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(SmallRng::seed_from_u64(seed))
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n.max(1))
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }

    /// A string of pieces, with a character that has a neighbour at its
    /// start, in the middle or at its end.
    pub fn text(&mut self) -> String {
        let mut out = String::new();
        let n = self.below(4);
        let at = self.below(n + 1);
        for i in 0..=n {
            if i == at {
                out.push_str(NEIGHBOURS[self.below(NEIGHBOURS.len())].0);
            } else {
                out.push_str(self.pick(PIECES));
            }
        }
        out
    }

    fn scalar(&mut self) -> J {
        match self.below(10) {
            0 => J::Null,
            1 => J::Bool(self.chance(50)),
            2 | 3 => J::Num(self.pick(&NUMBERS[..10]).to_string()),
            _ => J::Str(self.text()),
        }
    }

    fn value(&mut self, depth: usize) -> J {
        if depth >= 3 || self.chance(55) {
            return self.scalar();
        }
        match self.below(4) {
            0 => J::Arr((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
            1 => self.keyed_array(depth),
            _ => self.object(depth + 1, 5),
        }
    }

    fn object(&mut self, depth: usize, max: usize) -> J {
        let mut keys: Vec<&str> = KEYS.to_vec();
        let n = self.below(max + 1);
        let mut members = Vec::new();
        for _ in 0..n {
            let k = keys.remove(self.below(keys.len()));
            members.push((k.to_string(), self.value(depth)));
        }
        J::Obj(members)
    }

    fn keyed_array(&mut self, depth: usize) -> J {
        let ids = ["g1", "g2", "é", "日本", "🙂", "e\u{301}", "x\"y", "z"];
        let n = self.below(6);
        J::Arr(
            (0..n)
                .map(|i| {
                    let mut m = vec![("id".to_string(), J::Str(ids[i].to_string()))];
                    m.push(("v".to_string(), self.value(depth + 1)));
                    if self.chance(30) {
                        m.push(("w".to_string(), J::Str(self.text())));
                    }
                    J::Obj(m)
                })
                .collect(),
        )
    }

    pub fn config(&mut self) -> J {
        let mut members = vec![(
            "emailConfig".to_string(),
            J::Obj(vec![
                ("companyName".to_string(), J::Str(self.text())),
                (
                    "fromEmail".to_string(),
                    J::Str("no-reply@example.test".into()),
                ),
            ]),
        )];
        if let J::Obj(more) = self.object(0, 6) {
            members.extend(more.into_iter().filter(|(k, _)| k != "emailConfig"));
        }
        if self.chance(20) {
            members.push((
                "sso".to_string(),
                J::Obj(vec![(
                    "clientSecret".to_string(),
                    J::Str("${secret:/config/sso/clientSecret}".into()),
                )]),
            ));
        }
        J::Obj(members)
    }

    pub fn action(&mut self, name: &str) -> J {
        let mut detail = vec![
            (
                "link".to_string(),
                J::Str(format!("https://h.example.test/{}", self.text())),
            ),
            ("type".to_string(), J::Str("URL".into())),
        ];
        if self.chance(25) {
            detail.push((
                "authToken".to_string(),
                J::Str(format!(
                    "${{secret:/actions/{}/detail/authToken}}",
                    name.replace('~', "~0").replace('/', "~1")
                )),
            ));
        }
        let mut assoc = Vec::new();
        for id in ["7f3c-é", "a1b2", "日本-guid"] {
            if self.chance(50) {
                assoc.push((
                    id.to_string(),
                    J::Obj(vec![("enabled".into(), J::Bool(true))]),
                ));
            }
        }
        J::Obj(vec![
            ("name".to_string(), J::Str(name.to_string())),
            ("detail".to_string(), J::Obj(detail)),
            ("version".to_string(), J::Str("v2".into())),
            (
                "userGroupList".to_string(),
                J::Arr(vec![J::Str("d0c5-grp".into())]),
            ),
            ("actionAssociationMap".to_string(), J::Obj(assoc)),
            ("title".to_string(), J::Str(self.text())),
        ])
    }

    /// A style a person might leave a file in.
    pub fn style(&mut self) -> Style {
        if self.chance(80) {
            return CANONICAL;
        }
        Style {
            sorted: self.chance(50),
            indent: ["  ", "\t", "    ", ""][self.below(4)],
            newline: ["\n", "\r\n", " "][self.below(3)],
            bom: self.chance(25),
            escape_non_ascii: self.chance(30),
            escape_slash: self.chance(20),
            trailing_newline: self.chance(70),
        }
    }

    /// One change to `j`, somewhere inside it.
    pub fn mutate(&mut self, j: &mut J, depth: usize) {
        match j {
            J::Str(s) => *s = self.neighbour(s),
            J::Num(_) | J::Null | J::Bool(_) => *j = self.scalar_or_number(),
            J::Arr(items) => match self.below(5) {
                0 if !items.is_empty() => {
                    items.remove(self.below(items.len()));
                }
                1 if items.len() > 1 => {
                    let (x, y) = (self.below(items.len()), self.below(items.len()));
                    items.swap(x, y);
                }
                2 => {
                    let at = self.below(items.len() + 1);
                    let item = match items.first() {
                        Some(J::Obj(m)) if m.first().is_some_and(|(k, _)| k == "id") => {
                            J::Obj(vec![
                                ("id".into(), J::Str(format!("new-{}", self.text()))),
                                ("v".into(), self.scalar()),
                            ])
                        }
                        _ => self.value(depth + 1),
                    };
                    items.insert(at, item);
                }
                _ if !items.is_empty() => {
                    let at = self.below(items.len());
                    self.mutate(&mut items[at], depth + 1);
                }
                _ => items.push(self.scalar()),
            },
            J::Obj(members) | J::Edited(members) => match self.below(6) {
                0 if !members.is_empty() => {
                    members.remove(self.below(members.len()));
                }
                1 => {
                    let k = self.pick(KEYS).to_string();
                    if members.iter().all(|(m, _)| *m != k) {
                        let v = self.value(depth + 1);
                        members.push((k, v));
                    }
                }
                _ if !members.is_empty() => {
                    let at = self.below(members.len());
                    // The action's name is the file's: changed separately.
                    if members[at].0 != "name" {
                        self.mutate(&mut members[at].1, depth + 1);
                    }
                }
                _ => members.push(("z".into(), self.scalar())),
            },
        }
    }

    fn scalar_or_number(&mut self) -> J {
        match self.below(3) {
            0 => J::Num(self.pick(NUMBERS).to_string()),
            _ => self.scalar(),
        }
    }

    /// `s` with one character swapped for its neighbour (or a piece
    /// added at either end).
    fn neighbour(&mut self, s: &str) -> String {
        let mut spots = Vec::new();
        for (i, (x, y)) in NEIGHBOURS.iter().enumerate() {
            for (at, _) in s.match_indices(x) {
                spots.push((at, x.len(), NEIGHBOURS[i].1.to_string()));
            }
            for (at, _) in s.match_indices(y) {
                spots.push((at, y.len(), x.to_string()));
            }
        }
        if spots.is_empty() || self.chance(15) {
            let piece = self.pick(PIECES);
            return match self.chance(50) {
                true => format!("{piece}{s}"),
                false => format!("{s}{piece}"),
            };
        }
        let (at, len, with) = spots.swap_remove(self.below(spots.len()));
        format!("{}{}{}", &s[..at], with, &s[at + len..])
    }

    /// Something a hand edit breaks or stretches, in `j` or an object
    /// inside it: a key twice (near or far, after keys out of order),
    /// nesting at or past the limits, a number out of range.
    pub fn hand_edit(&mut self, j: &mut J) {
        let members = match j {
            J::Obj(m) | J::Edited(m) => m,
            _ => return,
        };
        // Into a nested object, sometimes.
        let nested: Vec<usize> = (0..members.len())
            .filter(|i| {
                matches!(members[*i].1, J::Obj(_) | J::Edited(_)) && members[*i].0 != "name"
            })
            .collect();
        if !nested.is_empty() && self.chance(50) {
            let at = nested[self.below(nested.len())];
            return self.hand_edit(&mut members[at].1);
        }
        match self.below(5) {
            0 if !members.is_empty() => {
                // A key given again, anywhere in the object as written.
                let (k, _) = members[self.below(members.len())].clone();
                let at = self.below(members.len() + 1);
                members.insert(at, (k, self.scalar()));
                let edited = std::mem::take(members);
                *j = J::Edited(edited);
            }
            1 | 2 => {
                // Keys out of order, then one seen before them.
                let twice = J::Edited(vec![
                    ("a".into(), J::Num("1".into())),
                    ("c".into(), J::Num("2".into())),
                    ("b".into(), J::Num("3".into())),
                    ("a".into(), J::Num("4".into())),
                ]);
                members.push(("hand".into(), twice));
            }
            3 => {
                // The side-by-side read follows 64 levels; serde reads 128.
                let n = [62, 63, 64, 65, 126, 127, 128, 129][self.below(8)];
                let mut v = J::Num("1".into());
                for _ in 0..n {
                    v = J::Arr(vec![v]);
                }
                members.push(("deep".into(), v));
            }
            _ => members.push(("big".into(), J::Num("1e400".into()))),
        }
    }
}

/// One side of a pair: the files of a snapshot directory.
pub struct Side {
    pub config: (J, Style),
    pub actions: Vec<(String, J, Style)>,
}

/// Writes a snapshot directory holding `side` (the file names as
/// `export` names them, unless `misnamed`).
pub fn write_side(dir: &Path, side: &Side, misnamed: Option<usize>) {
    let origin = snapshot::Origin::new("http://127.0.0.1:9", None);
    let empty = serde_json::json!({"config": {}, "actions": {}});
    snapshot::write(dir, &empty, &origin, true).expect("an empty snapshot");
    std::fs::write(
        dir.join("config.json"),
        render(&side.config.0, side.config.1),
    )
    .expect("config written");
    let actions = dir.join("actions");
    std::fs::create_dir_all(&actions).expect("actions dir");
    for (i, (name, j, style)) in side.actions.iter().enumerate() {
        let file = match misnamed == Some(i) {
            true => format!("{}.json", snapshot::slug(&format!("{name} (moved)"))),
            false => format!("{}.json", snapshot::slug(name)),
        };
        std::fs::write(actions.join(file), render(j, *style)).expect("action written");
    }
}

/// A generated pair: a shared base, each side changed a little and
/// written in its own style where a person edited it.
fn pair(g: &mut Gen) -> (Side, Side, Option<usize>) {
    let mut config = g.config();
    // An edit both sides share: the full read refuses both alike.
    if g.chance(6) {
        g.hand_edit(&mut config);
    }
    let mut names: Vec<&str> = NAMES.to_vec();
    let n = g.below(6);
    let actions: Vec<(String, J)> = (0..n)
        .map(|_| {
            let name = names.remove(g.below(names.len())).to_string();
            let mut j = g.action(&name);
            if g.chance(3) {
                g.hand_edit(&mut j);
            }
            (name, j)
        })
        .collect();
    let mut sides = Vec::new();
    let shared_style = g.style();
    for _ in 0..2 {
        let mut c = config.clone();
        for _ in 0..g.below(3) {
            g.mutate(&mut c, 0);
        }
        if g.chance(4) {
            g.hand_edit(&mut c);
        }
        let style = if g.chance(70) {
            shared_style
        } else {
            g.style()
        };
        let mut acts = Vec::new();
        for (name, j) in &actions {
            if g.chance(10) {
                continue;
            }
            let mut j = j.clone();
            if g.chance(30) {
                g.mutate(&mut j, 0);
            }
            if g.chance(2) {
                g.hand_edit(&mut j);
            }
            let style = if g.chance(85) { CANONICAL } else { g.style() };
            acts.push((name.clone(), j, style));
        }
        if g.chance(15) && !names.is_empty() {
            let name = g.pick(&names).to_string();
            let j = g.action(&name);
            acts.push((name, j, CANONICAL));
        }
        sides.push(Side {
            config: (c, style),
            actions: acts,
        });
    }
    let b = sides.pop().expect("two sides");
    let a = sides.pop().expect("two sides");
    let misnamed = match g.chance(3) && !a.actions.is_empty() {
        true => Some(g.below(a.actions.len())),
        false => None,
    };
    (a, b, misnamed)
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn snapshot_pairs_read_side_by_side_answer_what_the_full_read_answers() {
    let cases = env_number("TSMIGRATE_ORACLE_CASES", 3000);
    let budget = Duration::from_secs(env_number("TSMIGRATE_ORACLE_SECS", 40));
    let base = std::env::var("TSMIGRATE_ORACLE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    let started = Instant::now();
    let scratch = tempfile::tempdir().expect("scratch dir");
    let (mut ran, mut refused, mut differ) = (0u64, 0u64, 0u64);
    for i in 0..cases {
        if started.elapsed() > budget {
            break;
        }
        let seed = base.wrapping_add(i);
        let mut g = Gen::new(seed);
        let (a, b, misnamed) = pair(&mut g);
        let (da, db) = (
            scratch.path().join(format!("a{i}")),
            scratch.path().join(format!("b{i}")),
        );
        write_side(&da, &a, misnamed);
        write_side(&db, &b, None);
        if let Some(what) = disagreement(&da, &db) {
            panic!(
                "case {i}: {what}\nrepeat with TSMIGRATE_ORACLE_SEED={seed} TSMIGRATE_ORACLE_CASES=1\n\
                 config a:\n{}\nconfig b:\n{}",
                render(&a.config.0, a.config.1),
                render(&b.config.0, b.config.1)
            );
        }
        match (snapshot::read(&da), snapshot::read(&db)) {
            (Ok(x), Ok(y)) if x.0 != y.0 => differ += 1,
            (Ok(_), Ok(_)) => {}
            _ => refused += 1,
        }
        ran += 1;
        let _ = std::fs::remove_dir_all(&da);
        let _ = std::fs::remove_dir_all(&db);
    }
    eprintln!(
        "oracle: {ran} cases from seed {base} in {:.1?}: {differ} differed, {refused} refused",
        started.elapsed()
    );
    // The generator must reach every kind of answer, or the oracle says little.
    assert!(ran >= cases.min(200), "only {ran} cases ran");
    assert!(differ * 3 >= ran, "too few pairs differ: {differ} of {ran}");
    assert!(
        refused * 50 >= ran && refused * 3 <= ran,
        "refusals: {refused} of {ran}"
    );
}

/// `j` with every number a cluster could not hold (`1e400`: out of an
/// f64's range) made `1`.
fn holdable(j: &mut J) {
    match j {
        J::Num(n) if serde_json::from_str::<Value>(n).is_err() => *n = "1".into(),
        J::Obj(members) | J::Edited(members) => members.iter_mut().for_each(|(_, v)| holdable(v)),
        J::Arr(items) => items.iter_mut().for_each(holdable),
        _ => {}
    }
}

/// `j` as a value (canonical text read back).
fn value(j: &J) -> Value {
    serde_json::from_str(&render(j, CANONICAL)).expect("a generated value")
}

/// A cluster state for the simulator: the example cluster with the
/// generated config members and actions like its first one.
fn cluster(config: &J, actions: &[(String, J)]) -> Value {
    let mut state = crate::support::example();
    if let (Some(info), Value::Object(more)) = (state["configinfo"].as_object_mut(), value(config))
    {
        info.extend(more);
    }
    let template = state["actions"][0].clone();
    let list = state["actions"].as_array_mut().expect("example actions");
    for (i, (name, j)) in actions.iter().enumerate() {
        let mut a = template.clone();
        a["id"] = Value::String(format!("0a0b0c0d-0000-4000-8000-{i:012}"));
        a["name"] = Value::String(name.clone());
        let g = value(j);
        a["detail"]["link"] = g["detail"]["link"].clone();
        a["detail"]["function"] = g["title"].clone();
        list.push(a);
    }
    state
}

/// Two generated live clusters: the diff of their exports equals the
/// diff of the clusters (the side-by-side read on the exports, the full
/// read of both clusters' answers).
#[test]
fn the_diff_of_two_exports_is_the_diff_of_the_two_clusters() {
    let cases = env_number("TSMIGRATE_ORACLE_LIVE_CASES", 40);
    let base = std::env::var("TSMIGRATE_ORACLE_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    let mut differ = 0;
    for i in 0..cases {
        let seed = base.wrapping_add(i);
        let mut g = Gen::new(seed);
        let config = g.config();
        let mut names: Vec<&str> = NAMES.to_vec();
        let actions: Vec<(String, J)> = (0..1 + g.below(5))
            .map(|_| {
                let name = names.remove(g.below(names.len())).to_string();
                let j = g.action(&name);
                (name, j)
            })
            .collect();
        let mut states = Vec::new();
        for _ in 0..2 {
            let mut c = config.clone();
            for _ in 0..g.below(3) {
                g.mutate(&mut c, 0);
            }
            // Secrets alike on both sides: two live clusters compare their
            // values, two exports cannot (they hold placeholders).
            if let (J::Obj(m), J::Obj(base)) = (&mut c, &config) {
                m.retain(|(k, _)| k != "sso");
                m.extend(base.iter().filter(|(k, _)| k == "sso").cloned());
            }
            // No number the simulator could not hold (a mutation may
            // bring one in): only the spellings a cluster answers with.
            holdable(&mut c);
            let mut acts: Vec<(String, J)> = Vec::new();
            for (name, j) in &actions {
                let mut j = j.clone();
                if g.chance(40) {
                    let J::Obj(m) = &mut j else { continue };
                    if let Some((_, J::Str(title))) = m.iter_mut().find(|(k, _)| k == "title") {
                        *title = g.neighbour(title);
                    }
                }
                acts.push((name.clone(), j));
            }
            states.push(cluster(&c, &acts));
        }
        let scratch = tempfile::tempdir().expect("scratch");
        let sims: Vec<crate::support::TestSim> = states
            .iter()
            .map(|s| crate::support::TestSim::start(Some(s), Default::default()))
            .collect();
        let dirs = [scratch.path().join("a"), scratch.path().join("b")];
        for (sim, dir) in sims.iter().zip(&dirs) {
            let dir = dir.to_str().expect("a UTF-8 temp path");
            let out = crate::support::tsm_in(
                scratch.path(),
                &["export", "--cluster", &sim.url, "--out", dir],
            );
            assert_eq!(out.status.code(), Some(0), "seed {seed}: {out:?}");
        }
        let diff = |source: &str, target: &str, format: &str| {
            let out = crate::support::compare_in(
                scratch.path(),
                "diff",
                source,
                target,
                &["--format", format],
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "seed {seed}: diff {source} {target}: {}",
                crate::support::stderr(&out)
            );
            let mut v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
            if let Some(m) = v.as_object_mut() {
                m.remove("source");
                m.remove("target");
            }
            v
        };
        let (da, db) = (
            dirs[0].to_str().unwrap_or(""),
            dirs[1].to_str().unwrap_or(""),
        );
        for format in ["json", "patch"] {
            let live = diff(&sims[0].url, &sims[1].url, format);
            let exported = diff(da, db, format);
            assert_eq!(
                live, exported,
                "seed {seed} (TSMIGRATE_ORACLE_SEED={seed} TSMIGRATE_ORACLE_LIVE_CASES=1): \
                 --format {format} of the exports differs from the clusters'"
            );
            if format == "patch" && live.as_array().is_some_and(|a| !a.is_empty()) {
                differ += 1;
            }
        }
    }
    assert!(
        differ * 2 >= cases,
        "too few cases differ: {differ} of {cases}"
    );
}
