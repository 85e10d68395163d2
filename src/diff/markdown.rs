//! A review report in GitHub-flavoured Markdown, for a pull-request comment
//! or a CI step summary: a headline with the counts, a table of config
//! changes, one collapsible `<details>` block per action, and the notes.
//! No ANSI, no terminal widths; a long value is cut short in the table and
//! given whole below it.

use std::fmt::Write;

use super::view::{ActionChanges, Change, View};
use super::OpKind;
use crate::words::plural;

/// Longest value shown in a table cell.
const CELL: usize = 80;

pub fn render(v: &View) -> String {
    render_within(v, None)
}

/// `render`, in at most `max` bytes where given (GitHub refuses a comment
/// over 65,536 characters): whole sections are left out, the last actions
/// first, then the config table, then the notes, and a closing line says
/// what was left out and that the full report has it. The heading and the
/// headline always stay.
pub fn render_within(v: &View, max: Option<usize>) -> String {
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
    let mut config = String::new();
    if !v.config.is_empty() {
        let mut full: Vec<(String, &Change)> = Vec::new();
        let _ = writeln!(config, "#### Config\n");
        table(&mut config, &v.config, "pointer", &mut full);
        long_values(&mut config, &full);
    }
    let actions: Vec<String> = v
        .actions
        .iter()
        .map(|a| {
            let mut s = String::new();
            action(&mut s, a);
            s
        })
        .collect();
    let mut notes = String::new();
    if !v.notes.is_empty() {
        let _ = writeln!(notes, "#### Notes\n");
        for n in &v.notes {
            let _ = writeln!(notes, "- {}", inline(n));
        }
        notes.push('\n');
    }
    let whole = out.len()
        + config.len()
        + notes.len()
        + actions.iter().map(String::len).sum::<usize>()
        + usize::from(!actions.is_empty()) * "#### Actions\n\n".len();
    let Some(max) = max.filter(|m| whole > *m) else {
        out.push_str(&config);
        if !actions.is_empty() {
            out.push_str("#### Actions\n\n");
            actions.iter().for_each(|a| out.push_str(a));
        }
        out.push_str(&notes);
        return out;
    };
    // Room for the closing line, which names what was left out.
    const CLOSING: usize = 400;
    let mut budget = max.saturating_sub(out.len() + CLOSING);
    let mut take = |section: &str| {
        let fits = section.len() <= budget;
        if fits {
            budget -= section.len();
        }
        fits
    };
    let keep_notes = take(&notes);
    let keep_config = take(&config);
    let heading = "#### Actions\n\n";
    let mut kept = 0;
    if !actions.is_empty() && take(heading) {
        while kept < actions.len() && take(&actions[kept]) {
            kept += 1;
        }
    }
    if keep_config {
        out.push_str(&config);
    }
    if kept > 0 {
        out.push_str(heading);
        actions[..kept].iter().for_each(|a| out.push_str(a));
    }
    if keep_notes {
        out.push_str(&notes);
    }
    let mut left = Vec::new();
    if !keep_config && !config.is_empty() {
        left.push(format!(
            "the config table ({})",
            plural(v.config.len(), "key", "keys")
        ));
    }
    if kept < actions.len() {
        let names: Vec<String> = v.actions[kept..]
            .iter()
            .take(3)
            .map(|a| format!("<code>{}</code>", html(&short(&a.name, 40))))
            .collect();
        let more = v.actions.len() - kept;
        left.push(format!(
            "{} ({}{})",
            plural(more, "action", "actions"),
            names.join(", "),
            if more > names.len() { ", …" } else { "" }
        ));
    }
    if !keep_notes && !notes.is_empty() {
        left.push(plural(v.notes.len(), "note", "notes"));
    }
    let _ = writeln!(
        out,
        "> Left out to stay under {max} bytes: {}. The full report (without `--max-bytes`) has them.",
        left.join(", ")
    );
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
            value_cell(c.new.as_deref()) + &c.note.map(|n| format!(" ({n})")).unwrap_or_default()
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
        assert!(
            md.contains("<code>/config/ldap/bindPassword</code> | <code>***</code> | <code>***</code> (secret changed) |"),
            "{md}"
        );
    }

    #[test]
    fn secrets_left_uncompared_are_counted_even_without_changes() {
        let doc = json!({"config": {"a": 1}, "actions": {}});
        let ops = diff(&doc, &doc);
        let unresolved = vec!["/config/ldap/bindPassword".to_string()];
        let md = render(
            &View::of(&ops, &Notes::default(), "dev", "prod").with_unresolved(&unresolved, &ops),
        );
        assert!(
            md.contains("1 secret was not compared: the source holds no value for it"),
            "{md}"
        );
        let two = [unresolved[0].clone(), "/config/x/password".to_string()];
        let md =
            render(&View::of(&ops, &Notes::default(), "dev", "prod").with_unresolved(&two, &ops));
        assert!(md.contains("2 secrets were not compared"), "{md}");
    }

    #[test]
    fn a_report_over_max_bytes_leaves_out_whole_sections_and_says_which() {
        let mut actions = serde_json::Map::new();
        for i in 0..300 {
            let name = format!("Aktion für Café {i:03}");
            actions.insert(
                name.clone(),
                json!({"name": name, "type": "URL", "detail": {"link": format!("https://x.example/{i}/{}", "é".repeat(40))}}),
            );
        }
        let target = json!({"config": {"k": 1}, "actions": {}});
        let source = json!({"config": {"k": 2}, "actions": actions});
        let ops = diff(&target, &source);
        let notes = Notes {
            kept: vec!["Old one".into()],
            ..Notes::default()
        };
        let view = View::of(&ops, &notes, "dev", "prod");
        let whole = render(&view);
        assert!(whole.len() > 65_536, "{}", whole.len());
        assert_eq!(
            render_within(&view, Some(whole.len())),
            whole,
            "fits: as it is"
        );
        for max in [1024, 4096, 65_536] {
            let md = render_within(&view, Some(max));
            assert!(md.len() <= max, "{max}: {}", md.len());
            assert!(md.contains(&view.headline()), "the headline stays");
            assert!(
                md.contains(&format!("Left out to stay under {max} bytes")),
                "{md}"
            );
            let kept = md.matches("<code>+</code>").count();
            assert!(
                md.contains(&format!("{} actions", 300 - kept)),
                "{max}: {md}"
            );
        }
        // The notes and the config go before the last actions do.
        let md = render_within(&view, Some(8192));
        assert!(
            md.contains("#### Notes") && md.contains("#### Config"),
            "{md}"
        );
    }
}
