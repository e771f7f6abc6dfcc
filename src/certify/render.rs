//! The evidence bundle: Markdown and HTML for a reviewer (each requirement
//! with its verdict and the exact requests and responses behind it), JSON
//! for tools, JUnit for CI.

use std::fmt::Write as _;

use super::{Evidence, Judged, Level, Proved, Status};
use crate::report::html::esc;
use crate::report::markdown::{fence, inline};
use crate::results::Exchange;

const DISCLAIMER: &str = "This is a pre-check run by scimitar against the endpoint named above. It is not the programme's own validation: each programme runs its own tests, and the requirements marked \"to check in the tenant\" can only be shown there.";

fn level(l: Level) -> &'static str {
    match l {
        Level::Mandatory => "mandatory",
        Level::Recommended => "recommended",
        Level::Optional => "optional",
    }
}

/// The exchange as HTTP text: request line, headers and body; then the
/// status, headers and body of the answer. Secrets are already redacted.
pub fn http_text(ex: &Exchange) -> (String, String) {
    let mut req = format!("{}\n", ex.request.line());
    for (k, v) in &ex.request.headers {
        let _ = writeln!(req, "{k}: {v}");
    }
    if let Some(b) = &ex.request.body {
        let _ = write!(
            req,
            "\n{}",
            serde_json::to_string_pretty(b).unwrap_or_default()
        );
    }
    let mut resp = format!("HTTP {}\n", ex.response.status);
    for (k, v) in &ex.response.headers {
        let _ = writeln!(resp, "{k}: {v}");
    }
    let body = ex.response.excerpt(20_000);
    if !body.trim().is_empty() {
        let _ = write!(resp, "\n{body}");
    }
    (req, resp)
}

fn outcome_word(p: &Proved) -> String {
    p.outcome
        .map(|o| format!("{o:?}").to_lowercase())
        .unwrap_or_else(|| "did not run".into())
}

/// The Markdown report.
pub fn markdown(e: &Evidence) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Certification pre-check: {}\n", inline(&e.title));
    let _ = writeln!(s, "- Target: {}", inline(&e.target));
    let _ = writeln!(s, "- Started: {}", inline(&e.started));
    let _ = writeln!(s, "- scimitar {}", inline(&e.version));
    let _ = writeln!(s, "- Authentication: {}", inline(&e.auth.method));
    let _ = writeln!(s, "\n**{}**\n", inline(&e.verdict()));
    let _ = writeln!(s, "{DISCLAIMER}\n");
    s.push_str("| Requirement | Level | Status | Source | Note |\n|---|---|---|---|---|\n");
    for j in &e.requirements {
        let _ = writeln!(
            s,
            "| [{}](#{}) {} | {} | {} | {} | {} |",
            inline(&j.requirement.id),
            anchor(&j.requirement.id),
            inline(&j.requirement.text),
            level(j.requirement.level),
            j.status.label(),
            inline(&j.requirement.source),
            inline(&j.note)
        );
    }
    s.push_str("\n## Evidence\n");
    for j in &e.requirements {
        requirement_md(&mut s, j);
    }
    s.push_str("\n## Sources\n\n");
    for (k, v) in &e.sources {
        let _ = writeln!(s, "- **{}**: {}", inline(k), inline(v));
    }
    s
}

fn anchor(id: &str) -> String {
    format!(
        "req-{}",
        id.chars()
            .map(|c| if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            })
            .collect::<String>()
    )
}

fn requirement_md(s: &mut String, j: &Judged) {
    let _ = writeln!(
        s,
        "\n<a id=\"{}\"></a>\n### {} — {}\n",
        anchor(&j.requirement.id),
        inline(&j.requirement.id),
        j.status.label()
    );
    let _ = writeln!(s, "{}\n", inline(&j.requirement.text));
    let _ = writeln!(
        s,
        "Source: {} ({}). {}",
        inline(&j.requirement.source),
        level(j.requirement.level),
        inline(&j.note)
    );
    for p in &j.proof_steps {
        let _ = writeln!(s, "\n#### `{}`: {}", p.step, outcome_word(p));
        if let Some(x) = &p.explanation {
            fence(s, "", x);
        }
        if let Some(ex) = &p.exchange {
            let (req, resp) = http_text(ex);
            let _ = writeln!(s, "\nRequest:");
            fence(s, "http", &req);
            let _ = writeln!(s, "\nResponse:");
            fence(s, "http", &resp);
        }
    }
}

/// The HTML report (one self-contained page).
pub fn html(e: &Evidence) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>scimitar certification pre-check: {t}</title>\n<style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:75em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .5em;vertical-align:top;text-align:left}}pre{{background:#f6f6f6;padding:.5em;overflow:auto;white-space:pre-wrap}}.pass{{color:#070}}.fail{{color:#b00;font-weight:bold}}.not-checked{{color:#a60}}.in-tenant{{color:#555}}</style></head><body>\n<h1>Certification pre-check: {t}</h1>\n",
        t = esc(&e.title)
    );
    let _ = write!(
        s,
        "<ul><li>Target: {}</li><li>Started: {}</li><li>scimitar {}</li><li>Authentication: {}</li></ul>\n<p><strong>{}</strong></p>\n<p>{}</p>\n",
        esc(&e.target),
        esc(&e.started),
        esc(&e.version),
        esc(&e.auth.method),
        esc(&e.verdict()),
        esc(DISCLAIMER)
    );
    s.push_str("<table>\n<tr><th>Requirement</th><th>Level</th><th>Status</th><th>Source</th><th>Note</th></tr>\n");
    for j in &e.requirements {
        let _ = writeln!(
            s,
            "<tr><td><a href=\"#{}\">{}</a> {}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>",
            anchor(&j.requirement.id),
            esc(&j.requirement.id),
            esc(&j.requirement.text),
            level(j.requirement.level),
            class(j.status),
            esc(j.status.label()),
            esc(&j.requirement.source),
            esc(&j.note)
        );
    }
    s.push_str("</table>\n<h2>Evidence</h2>\n");
    for j in &e.requirements {
        let _ = writeln!(
            s,
            "<h3 id=\"{}\">{} — <span class=\"{}\">{}</span></h3>\n<p>{}</p>\n<p>Source: {} ({}). {}</p>",
            anchor(&j.requirement.id),
            esc(&j.requirement.id),
            class(j.status),
            esc(j.status.label()),
            esc(&j.requirement.text),
            esc(&j.requirement.source),
            level(j.requirement.level),
            esc(&j.note)
        );
        for p in &j.proof_steps {
            let _ = writeln!(
                s,
                "<h4><code>{}</code>: {}</h4>",
                esc(&p.step),
                esc(&outcome_word(p))
            );
            if let Some(x) = &p.explanation {
                let _ = writeln!(s, "<pre>{}</pre>", esc(x));
            }
            if let Some(ex) = &p.exchange {
                let (req, resp) = http_text(ex);
                let _ = writeln!(
                    s,
                    "<p>Request:</p><pre>{}</pre>\n<p>Response:</p><pre>{}</pre>",
                    esc(&req),
                    esc(&resp)
                );
            }
        }
    }
    s.push_str("<h2>Sources</h2>\n<ul>\n");
    for (k, v) in &e.sources {
        let _ = writeln!(s, "<li><strong>{}</strong>: {}</li>", esc(k), esc(v));
    }
    s.push_str("</ul>\n</body></html>\n");
    s
}

fn class(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::NotChecked => "not-checked",
        Status::InTenant => "in-tenant",
    }
}

/// The evidence as JSON (exchanges included).
pub fn json(e: &Evidence) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(e)
}

/// JUnit XML: one test case per requirement; failed ones fail, the ones not
/// checked here or left to the tenant are skipped with the reason.
/// JUnit XML, one test case per requirement, in the same junit-10 shape as
/// `run --junit` (`tests/data/junit.xsd`): failed requirements are
/// `<failure>`, those not checked or left to the tenant `<skipped>`.
pub fn junit(e: &Evidence) -> String {
    use crate::report::junit::{attr, text};
    let count = |s: Status| e.requirements.iter().filter(|j| j.status == s).count();
    let failures = count(Status::Fail);
    let skipped = count(Status::NotChecked) + count(Status::InTenant);
    let tests = e.requirements.len();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"scimitar certify {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
        attr(&e.programme)
    );
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" timestamp=\"{}\">",
        attr(&e.programme),
        attr(&e.started)
    );
    for j in &e.requirements {
        let _ = write!(
            x,
            "    <testcase name=\"{}\" classname=\"{}\">",
            attr(&format!("{} {}", j.requirement.id, j.requirement.text)),
            attr(&format!("certify.{}", e.programme))
        );
        match j.status {
            Status::Pass => {}
            Status::Fail => {
                let detail: Vec<String> = j
                    .proof_steps
                    .iter()
                    .filter_map(|p| p.explanation.clone())
                    .collect();
                let _ = write!(
                    x,
                    "\n      <failure message=\"{}\" type=\"scimitar.certify\">{}</failure>\n    ",
                    attr(&j.note),
                    text(&detail.join("\n"))
                );
            }
            Status::NotChecked | Status::InTenant => {
                let _ = write!(
                    x,
                    "\n      <skipped message=\"{}\"/>\n    ",
                    attr(&format!("{}: {}", j.status.label(), j.note))
                );
            }
        }
        x.push_str("</testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
