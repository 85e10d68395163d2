//! A review report as one self-contained HTML page, for a CI artifact: the
//! same content as the Markdown report, old and new side by side, each
//! section collapsible, light and dark colour schemes, printable (every
//! section opens for print). Styles and the one small script are inline,
//! and the page's content security policy forbids it any request.

use std::fmt::Write;

use super::markdown::html as esc;
use super::view::{Change, View};
use super::OpKind;
use crate::words::plural;

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0;
  --add: #dafbe1; --del: #ffebe9; --chg: #fff8c5; --head: #f6f8fa; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d;
    --add: #12361f; --del: #3c1618; --chg: #3a3012; --head: #151b23; } }
body { background: var(--bg); color: var(--fg); margin: 2rem auto; max-width: 72rem; padding: 0 1rem;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
.meta, .muted { color: var(--muted); }
.headline { font-weight: 600; margin: 1rem 0; }
details { border: 1px solid var(--line); border-radius: 6px; margin: .75rem 0; }
summary { cursor: pointer; padding: .5rem .75rem; background: var(--head); border-radius: 6px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border-top: 1px solid var(--line); padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
th.key, td.key { width: 28%; }
td code, td.key { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-all; }
td.old { background: var(--del); } td.new { background: var(--add); }
tr.chg td.old, tr.chg td.new { background: var(--chg); }
td.empty { background: transparent; }
.sign { display: inline-block; width: 1.2em; font-weight: 700; }
ul.notes { margin: .5rem 0 0 1.25rem; }
@media print { body { margin: 0; max-width: none; } summary { background: none; } details { break-inside: avoid; } }
"#;

/// Opens every section for print (a closed `<details>` prints closed).
const SCRIPT: &str = "window.addEventListener('beforeprint',()=>document.querySelectorAll('details').forEach(d=>d.open=true));";

pub fn render(v: &View) -> String {
    let mut out = String::new();
    let title = format!("tsmigrate: {} → {}", v.source, v.target);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n<script>{SCRIPT}</script>\n</head>\n<body>\n",
        esc(&title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", esc(&title));
    if let Some(p) = &v.plan {
        let _ = writeln!(
            out,
            "<p class=\"meta\">Plan for <code>{}</code> (Org {}){} · {} · target fingerprint <code>{}</code></p>",
            esc(&p.target_url),
            p.target_org,
            p.made_at.as_deref().map(|t| format!(" · made {}", esc(t))).unwrap_or_default(),
            plural(p.guards, "guard", "guards"),
            esc(&p.fingerprint)
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"headline\" id=\"headline\">{}</p>",
        esc(&v.headline())
    );
    if !v.config.is_empty() {
        let _ = writeln!(
            out,
            "<details open id=\"config\"><summary>Config ({})</summary>",
            plural(v.config.len(), "change", "changes")
        );
        table(&mut out, &v.config, "pointer");
        out.push_str("</details>\n");
    }
    for a in &v.actions {
        let _ = writeln!(
            out,
            "<details open class=\"action\" data-name=\"{}\"><summary><span class=\"sign\">{}</span>{} <span class=\"muted\">({})</span></summary>",
            esc(&a.name),
            a.kind.sign(),
            esc(&a.name),
            a.kind.word()
        );
        table(&mut out, &a.changes, "field");
        out.push_str("</details>\n");
    }
    if !v.notes.is_empty() {
        out.push_str("<details open id=\"notes\"><summary>Notes</summary>\n<ul class=\"notes\">\n");
        for n in &v.notes {
            let _ = writeln!(out, "<li>{}</li>", esc(n));
        }
        out.push_str("</ul>\n</details>\n");
    }
    out.push_str("<p class=\"muted\">Secrets are shown as ***.</p>\n</body>\n</html>\n");
    out
}

fn table(out: &mut String, changes: &[Change], what: &str) {
    let _ = writeln!(
        out,
        "<table>\n<tr><th class=\"key\">{what}</th><th>old</th><th>new</th></tr>"
    );
    for c in changes {
        let (class, sign) = match c.kind {
            OpKind::Add => ("add", "+"),
            OpKind::Remove => ("del", "-"),
            _ => ("chg", "~"),
        };
        let cell = |side: &str, v: &Option<String>, note: Option<&str>| match v {
            Some(v) => format!(
                "<td class=\"{side}\"><code>{}</code>{}</td>",
                esc(v),
                note.map(|n| format!(" <span class=\"muted\">({n})</span>"))
                    .unwrap_or_default()
            ),
            None => "<td class=\"empty\"></td>".to_string(),
        };
        let _ = writeln!(
            out,
            "<tr class=\"{class}\"><td class=\"key\"><span class=\"sign\">{sign}</span>{}</td>{}{}</tr>",
            esc(&c.label),
            cell("old", &c.old, None),
            cell("new", &c.new, c.note)
        );
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{diff, Notes};
    use serde_json::json;

    #[test]
    fn a_page_that_asks_for_nothing_and_hides_secrets() {
        let target =
            json!({"config": {"a": 1, "ldap": {"bindPassword": "old-S3CRET"}}, "actions": {}});
        let source = json!({"config": {"a": 2, "ldap": {"bindPassword": "new-S3CRET"}},
            "actions": {"<script>": {"name": "<script>", "type": "URL"}}});
        let page = render(&View::of(
            &diff(&target, &source),
            &Notes::default(),
            "dev",
            "prod",
        ));
        assert!(!page.contains("S3CRET"));
        assert!(
            page.contains("<code>***</code> <span class=\"muted\">(secret changed)</span></td>"),
            "{page}"
        );
        assert!(
            page.contains("&lt;script&gt;") && !page.contains("<script>\""),
            "names are escaped"
        );
        for external in ["http://", "https://", "src=", "@import", "url("] {
            assert!(!page.contains(external), "{external}");
        }
        assert!(page.contains("default-src 'none'"));
    }
}
