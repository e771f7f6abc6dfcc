//! The compatibility report as one self-contained HTML file (`--report
//! FILE.html`): inline CSS, no scripts, no external assets; printable.
//! Every piece of text goes through [`esc`]: server bodies are hostile input.

use std::fmt::Write;

use super::compat::{
    Compat, EXCERPT_CHARS, Profile, StepRef, hard_findings, location, request_excerpt, rfc_sections,
};
use crate::results::RunResult;

const CSS: &str = r#"
:root { --ok: #1a7f37; --fail: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  color: #1f2328; max-width: 980px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05em; margin: 20px 0 8px; }
h4 { font-size: 1em; margin: 0 0 6px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.sub { color: var(--muted); margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.suites { width: auto; min-width: 60%; }
table.suites td, table.suites th { padding: 3px 10px; font-size: 0.92em; }
table.suites tr.failed td { color: var(--fail); font-weight: 600; }
table.meta th { width: 13em; background: none; color: var(--muted); font-weight: normal; }
code, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.88em; }
code { background: var(--bg); padding: 1px 4px; border-radius: 4px; word-break: break-all; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px;
  white-space: pre-wrap; word-break: break-word; margin: 4px 0 10px; max-height: 28em; overflow: auto; }
.verdict { display: inline-block; font-weight: 600; padding: 1px 8px; border-radius: 10px; white-space: nowrap; }
.verdict.ok { color: #fff; background: var(--ok); }
.verdict.fail { color: #fff; background: var(--fail); }
.verdict.untested { color: var(--muted); border: 1px solid var(--line); }
.verdict.incomplete { color: #7a4b00; border: 1px solid #d9a440; background: #fff4dc; }
.verdict.pass { color: var(--ok); border: 1px solid var(--ok); }
.step { border: 1px solid var(--line); border-left: 4px solid var(--fail); border-radius: 6px; padding: 12px 14px; margin: 12px 0; }
.label { font-size: 0.8em; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); margin: 10px 0 2px; }
ul.findings { margin: 4px 0 8px; padding-left: 20px; }
.rfc { color: var(--muted); white-space: nowrap; }
.status { font-weight: 600; }
.adv li, .skip li { margin: 3px 0; }
.note { color: var(--muted); }
.short { font-size: 1.05em; }
footer { margin-top: 40px; color: var(--muted); font-size: 0.85em; border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  pre { max-height: none; overflow: visible; }
  .step, tr, pre { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  .verdict.ok, .verdict.fail, th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"#;

pub fn render(run: &RunResult) -> String {
    let c = Compat::new(run);
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Belt and braces: nothing in this file may load or run anything.
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    let _ = writeln!(
        s,
        "<title>SCIM compatibility report: {}</title>",
        esc(&c.target)
    );
    let _ = writeln!(s, "<style>{CSS}</style>\n</head>\n<body>");
    s.push_str("<h1>SCIM compatibility report</h1>\n");
    let _ = writeln!(
        s,
        "<p class=\"sub\">Microsoft Entra ID and Okta provisioning, and RFC 7643/7644 requirements, replayed against a SCIM endpoint</p>"
    );
    s.push_str("<table class=\"meta\">\n");
    let _ = writeln!(
        s,
        "<tr><th>Target</th><td><code>{}</code></td></tr>",
        esc(&c.target)
    );
    let _ = writeln!(s, "<tr><th>Date</th><td>{}</td></tr>", esc(&c.date));
    let _ = writeln!(s, "<tr><th>scimitar</th><td>{}</td></tr>", esc(c.version));
    let _ = writeln!(
        s,
        "<tr><th>Run</th><td>{} requests in {:.2} s</td></tr>",
        c.requests_sent, c.duration_secs
    );
    let caps: Vec<String> = c
        .capabilities
        .iter()
        .map(|(k, v)| format!("{}: {v}", esc(k)))
        .collect();
    let _ = writeln!(
        s,
        "<tr><th>Capabilities (discovery)</th><td>{}</td></tr>",
        caps.join(", ")
    );
    let _ = writeln!(
        s,
        "<tr><th>Attributes judged by</th><td>{}</td></tr>",
        esc(&c.schemas)
    );
    if let Some(l) = &c.lookup {
        let _ = writeln!(s, "<tr><th>userName lookup</th><td>{}</td></tr>", esc(l));
    }
    s.push_str("</table>\n");

    s.push_str("<h2 id=\"verdicts\">Verdicts</h2>\n");
    let _ = writeln!(s, "<p class=\"short\">{}</p>", esc(&c.in_short()));
    s.push_str("<table class=\"verdicts\">\n");
    s.push_str("<tr><th>IdP profile</th><th>Verdict</th><th class=\"n\">Checked</th><th class=\"n\">Passed</th><th class=\"n\">Failed</th><th class=\"n\">Advisory</th><th class=\"n\">Skipped</th></tr>\n");
    for p in &c.profiles {
        let name = if p.suites > 0 {
            format!("<a href=\"#{}\">{}</a>", anchor(&p.idp), esc(&p.label))
        } else {
            esc(&p.label)
        };
        let note = p
            .untested_note
            .as_deref()
            .map(|n| format!("<br><span class=\"note\">{}</span>", esc(n)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "<tr><td>{name}</td><td><span class=\"verdict {}\">{}</span>{note}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            p.verdict.key(),
            esc(&p.verdict_text()),
            esc(&p.coverage_cell()),
            p.counts.passed,
            p.counts.failed,
            p.counts.advisory,
            p.counts.skipped
        );
    }
    s.push_str("</table>\n");
    for line in super::summary::notes(&c) {
        let _ = writeln!(s, "<p class=\"note\">{}</p>", esc(&line));
    }
    let shared = super::summary::shared_causes(run);
    if !shared.is_empty() {
        s.push_str(
            "<p class=\"note\">Failures that share a cause (one fix may clear them all):</p>\n<ul class=\"causes\">\n",
        );
        for (n, cause) in shared {
            let _ = writeln!(s, "<li>{n} steps: <code>{}</code></li>", esc(&cause));
        }
        s.push_str("</ul>\n");
    }
    let inv = &run.invocation;
    if !inv.command_line.is_empty() {
        let _ = writeln!(
            s,
            "<p class=\"note\">Command: <code>{}</code></p>",
            esc(&inv.command_line.join(" "))
        );
    }
    let _ = writeln!(
        s,
        "<p class=\"note\">Suites: {}</p>",
        esc(&super::summary::source(run))
    );

    for p in c.tested() {
        profile_section(&mut s, p);
    }
    s.push_str("<footer>Generated by scimitar. Request and response bodies are excerpts; credentials are redacted. Advisory findings fail the run only with <code>--strict</code>.</footer>\n");
    s.push_str("</body>\n</html>\n");
    s
}

fn anchor(idp: &str) -> String {
    let a: String = idp
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("profile-{a}")
}

fn profile_section(s: &mut String, p: &Profile) {
    let _ = writeln!(
        s,
        "<h2 id=\"{}\">{} <span class=\"verdict {}\">{}</span></h2>",
        anchor(&p.idp),
        esc(&p.label),
        p.verdict.key(),
        esc(&p.verdict_text())
    );
    let _ = writeln!(
        s,
        "<p>{}; {} passed, {} failed, {} advisory, {} skipped{}</p>",
        esc(&p.coverage.describe()),
        p.counts.passed,
        p.counts.failed,
        p.counts.advisory,
        p.counts.skipped,
        p.untested_note
            .as_deref()
            .map(|n| format!(": {}", esc(n)))
            .unwrap_or_default()
    );
    if !p.suite_counts.is_empty() {
        s.push_str("<table class=\"suites\">\n<tr><th>Suite</th><th class=\"n\">Passed</th><th class=\"n\">Failed</th><th class=\"n\">Advisory</th><th class=\"n\">Skipped</th></tr>\n");
        for (suite, c) in &p.suite_counts {
            let flag = if c.failed > 0 {
                " class=\"failed\""
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "<tr{flag}><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&suite.name),
                c.passed,
                c.failed,
                c.advisory,
                c.skipped
            );
        }
        s.push_str("</table>\n");
    }
    if !p.failing.is_empty() {
        s.push_str("<h3>Failing steps</h3>\n");
        for r in &p.failing {
            failing_step(s, r);
        }
    }
    if !p.advisory.is_empty() {
        s.push_str("<h3>Advisory findings</h3>\n<p class=\"note\">These do not fail the run, but an IdP may trip on them.</p>\n<ul class=\"adv\">\n");
        for r in &p.advisory {
            for f in r.step.findings.iter().filter(|f| f.advisory) {
                let rfc = f
                    .rfc
                    .as_deref()
                    .map(|x| format!(" <span class=\"rfc\">({})</span>", esc(x)))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "<li><code>{}</code> — {}{rfc}: {}</li>",
                    esc(&r.id()),
                    esc(&f.subject),
                    esc(&f.message)
                );
            }
        }
        s.push_str("</ul>\n");
    }
    if !p.skipped.is_empty() {
        s.push_str("<h3>Skipped steps</h3>\n<ul class=\"skip\">\n");
        for g in &p.skipped {
            let names: Vec<String> = g
                .steps
                .iter()
                .map(|n| format!("<code>{}</code>", esc(n)))
                .collect();
            let _ = writeln!(
                s,
                "<li><code>{}</code>: {} <span class=\"note\">({}: {})</span></li>",
                esc(&g.suite.name),
                esc(&g.reason),
                super::markdown::steps_count(g.steps.len()),
                names.join(", ")
            );
        }
        s.push_str("</ul>\n");
    }
    if !p.leftovers.is_empty() {
        s.push_str("<h3>Not cleaned up</h3>\n<ul>\n");
        for (suite, path, why) in &p.leftovers {
            let _ = writeln!(
                s,
                "<li><code>{}</code>: <code>{}</code> ({})</li>",
                esc(suite),
                esc(path),
                esc(why)
            );
        }
        s.push_str("</ul>\n");
    }
}

fn failing_step(s: &mut String, r: &StepRef) {
    let st = r.step;
    s.push_str("<div class=\"step\">\n");
    let _ = writeln!(s, "<h4>{}</h4>", esc(&r.id()));
    let _ = writeln!(s, "<div class=\"note\">{}</div>", esc(&location(st)));
    let findings: Vec<_> = hard_findings(st).collect();
    if st.error.is_some() || !findings.is_empty() {
        s.push_str("<ul class=\"findings\">\n");
        if let Some(e) = &st.error {
            let _ = writeln!(s, "<li><strong>error</strong>: {}</li>", esc(e));
        }
        for f in &findings {
            let rfc = f
                .rfc
                .as_deref()
                .map(|x| format!(" <span class=\"rfc\">({})</span>", esc(x)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "<li><strong>{}</strong>{rfc}: {}</li>",
                esc(&f.subject),
                esc(&f.message)
            );
        }
        s.push_str("</ul>\n");
    }
    if let Some(why) = &st.why {
        let _ = writeln!(
            s,
            "<div class=\"label\">Why it matters</div><div>{}</div>",
            esc(why.trim())
        );
    }
    let rfcs = rfc_sections(findings.iter().copied());
    if !rfcs.is_empty() {
        let list: Vec<String> = rfcs.iter().map(|x| esc(x)).collect();
        let _ = writeln!(
            s,
            "<div class=\"label\">RFC</div><div>{}</div>",
            list.join("; ")
        );
    }
    if let Some(ex) = &st.exchange {
        let _ = writeln!(
            s,
            "<div class=\"label\">What the IdP sends</div><div><code>{}</code></div>",
            esc(&ex.request.line())
        );
        if let Some(body) = request_excerpt(st) {
            let _ = writeln!(s, "<pre>{}</pre>", esc(&body));
        }
        for retry in &ex.retries {
            let _ = writeln!(s, "<div class=\"note\">{}</div>", esc(retry));
        }
        let ct = ex
            .response
            .header("content-type")
            .unwrap_or("no content type");
        let _ = writeln!(
            s,
            "<div class=\"label\">What the server answered</div><div><span class=\"status\">{}</span> <code>{}</code></div>",
            ex.response.status,
            esc(ct)
        );
        let body = ex.response.excerpt(EXCERPT_CHARS);
        if body.trim().is_empty() {
            s.push_str("<div class=\"note\">(empty body)</div>\n");
        } else {
            let _ = writeln!(s, "<pre>{}</pre>", esc(&body));
        }
    }
    if let Some(d) = &st.snapshot_diff {
        let _ = writeln!(
            s,
            "<div class=\"label\">Snapshot diff</div><pre>{}</pre>",
            esc(d)
        );
    }
    s.push_str("</div>\n");
}

/// HTML-escapes text for element content and double-quoted attributes;
/// drops control characters other than newline and tab.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(ch),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            esc("<img src=x onerror=\"a('b')\">&\u{0}\u{1b}[31m\n"),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;[31m\n"
        );
    }
}
