//! A review report in GitHub-flavoured Markdown, for a pull-request comment
//! or a CI step summary: a headline with the counts, a table of config
//! changes, one collapsible `<details>` block per action, and the notes.
//! No ANSI, no terminal widths; a long value is cut short in the table and
//! given whole below it.

use std::fmt::Write;

use super::view::{plural, ActionChanges, Change, View};
use super::OpKind;

/// Longest value shown in a table cell.
const CELL: usize = 80;

pub fn render(v: &View) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### tsmigrate: <code>{}</code> → <code>{}</code>\n",
        html(&v.source),
        html(&v.target)
    );
    if let Some(p) = &v.plan {
        let _ = writeln!(
            out,
            "Plan for <code>{}</code> (Org {}){}, {}, target fingerprint <code>{}</code>\n",
            html(&p.target_url),
            p.target_org,
            p.made_at
                .as_deref()
                .map(|t| format!(", made {}", html(t)))
                .unwrap_or_default(),
            plural(p.guards, "guard", "guards"),
            short(&p.fingerprint, 23)
        );
    }
    let _ = writeln!(out, "**{}**\n", v.headline());
    let mut full: Vec<(String, &Change)> = Vec::new();
    if !v.config.is_empty() {
        let _ = writeln!(out, "#### Config\n");
        table(&mut out, &v.config, "pointer", &mut full);
        long_values(&mut out, &full);
        full.clear();
    }
    if !v.actions.is_empty() {
        let _ = writeln!(out, "#### Actions\n");
        for a in &v.actions {
            action(&mut out, a);
        }
    }
    if !v.notes.is_empty() {
        let _ = writeln!(out, "#### Notes\n");
        for n in &v.notes {
            let _ = writeln!(out, "- {}", inline(n));
        }
        out.push('\n');
    }
    out
}

fn action(out: &mut String, a: &ActionChanges) {
    let _ = writeln!(
        out,
        "<details><summary><code>{}</code> <b>{}</b> ({}, {})</summary>\n",
        a.kind.sign(),
        html(&a.name),
        a.kind.word(),
        plural(a.changes.len(), "field", "fields")
    );
    let mut full = Vec::new();
    table(out, &a.changes, "field", &mut full);
    long_values(out, &full);
    let _ = writeln!(out, "</details>\n");
}

fn table<'a>(
    out: &mut String,
    changes: &'a [Change],
    what: &str,
    full: &mut Vec<(String, &'a Change)>,
) {
    let _ = writeln!(out, "| | {what} | old | new |\n|---|---|---|---|");
    for c in changes {
        let sign = match c.kind {
            OpKind::Add => "+",
            OpKind::Remove => "-",
            _ => "~",
        };
        let cut = [&c.old, &c.new]
            .iter()
            .any(|v| v.as_ref().is_some_and(|s| s.chars().count() > CELL));
        if cut {
            full.push((c.label.clone(), c));
        }
        let _ = writeln!(
            out,
            "| {sign} | <code>{}</code> | {} | {} |",
            cell(&c.label),
            value_cell(c.old.as_deref()),
            value_cell(c.new.as_deref())
        );
    }
    out.push('\n');
}

/// The values a table cut short, whole.
fn long_values(out: &mut String, full: &[(String, &Change)]) {
    for (label, c) in full {
        let _ = writeln!(out, "<details><summary>{} in full</summary>\n", html(label));
        for (name, v) in [("old", &c.old), ("new", &c.new)] {
            if let Some(v) = v {
                let _ = writeln!(
                    out,
                    "{name}:\n\n```json\n{}\n```\n",
                    v.replace("```", "`\u{200b}``")
                );
            }
        }
        let _ = writeln!(out, "</details>\n");
    }
}

fn value_cell(v: Option<&str>) -> String {
    match v {
        None => String::new(),
        Some(v) => format!("<code>{}</code>", cell(&short(v, CELL))),
    }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let cut: String = s.chars().take(n - 1).collect();
        format!("{cut}…")
    }
}

/// Text for HTML inside Markdown.
pub(crate) fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A table cell: HTML-escaped, no pipes or line breaks to break the row.
fn cell(s: &str) -> String {
    html(s)
        .replace('|', "&#124;")
        .replace('\n', "<br>")
        .replace('\\', "&#92;")
}

/// Plain text in a Markdown line (a list item): nothing in it acts as
/// markup. Only what can start markup mid-line is escaped, and what starts
/// a block at the start of the line, so the source stays readable.
fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, ch) in s.chars().enumerate() {
        if "\\`*_[]<>|~&".contains(ch) || (i == 0 && "#+-=>0123456789".contains(ch)) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{diff, Notes};
    use serde_json::json;

    #[test]
    fn tables_escape_and_cut_long_values() {
        let long = "x".repeat(200);
        let target = json!({"config": {"a": "pipe|here", "b": "", "ldap": {"bindPassword": "old-S3CRET"}}, "actions": {}});
        let source = json!({"config": {"a": "<b>bold</b>", "b": long, "ldap": {"bindPassword": "new-S3CRET"}},
            "actions": {"A|B": {"name": "A|B", "type": "URL"}}});
        let ops = diff(&target, &source);
        let md = render(&View::of(&ops, &Notes::default(), "dev", "prod"));
        assert!(!md.contains("S3CRET"), "{md}");
        assert!(
            md.contains("&lt;b&gt;bold&lt;/b&gt;") && md.contains("pipe&#124;here"),
            "{md}"
        );
        assert!(
            md.contains("…</code>") && md.contains("<summary>/config/b in full</summary>"),
            "{md}"
        );
        assert!(
            md.contains("<details><summary><code>+</code> <b>A|B</b> (create, 2 fields)</summary>"),
            "{md}"
        );
        assert!(!md.contains('\u{1b}'));
    }
}
