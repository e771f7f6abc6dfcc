//! JUnit XML: one `<testsuite>` per suite, one `<testcase>` per selected
//! step. Written by hand to the rules of the JUnit schema CI tools read
//! (Jenkins' xunit `junit-10.xsd`; GitLab reads the same shape): only the
//! attributes it declares, plus `file` and `line` on each testcase, which
//! GitLab and most test views use to link a case to its source. Skipped
//! steps carry their reason; advisory findings are in `<system-out>` and in
//! an `advisory` property of the suite. `tests/data/junit.xsd` holds the
//! schema the tests validate against.

use std::fmt::Write;

use crate::results::{LookupCheck, LookupOutcome, Outcome, RunResult, StepResult, SuiteResult};

pub fn render(run: &RunResult) -> String {
    let selected = |s: &SuiteResult| s.steps.iter().filter(|st| st.selected).count();
    let count = |s: &SuiteResult, o: Outcome| {
        s.steps
            .iter()
            .filter(|st| st.selected && st.outcome == o)
            .count()
    };
    let lookup_failed = run
        .lookup
        .as_ref()
        .is_some_and(|l| l.outcome == LookupOutcome::Broken);
    let tests: usize =
        run.suites.iter().map(selected).sum::<usize>() + usize::from(run.lookup.is_some());
    let failures: usize = run
        .suites
        .iter()
        .map(|s| count(s, Outcome::Failed))
        .sum::<usize>()
        + usize::from(lookup_failed);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"scimitar\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">",
        run.duration.as_secs_f64()
    );
    if let Some(l) = &run.lookup {
        lookup(&mut x, run, l);
    }
    for s in &run.suites {
        suite(
            &mut x,
            run,
            s,
            selected(s),
            count(s, Outcome::Failed),
            count(s, Outcome::Skipped) + count(s, Outcome::Known),
        );
    }
    x.push_str("</testsuites>\n");
    x
}

fn suite(
    x: &mut String,
    run: &RunResult,
    s: &SuiteResult,
    tests: usize,
    failures: usize,
    skipped: usize,
) {
    let time: f64 = s.steps.iter().map(|st| st.duration.as_secs_f64()).sum();
    let _ = writeln!(
        x,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\" timestamp=\"{}\" file=\"{}\">",
        attr(&s.name),
        attr(&run.started),
        attr(&source_file(&s.file))
    );
    x.push_str("    <properties>\n");
    let mut prop = |name: &str, value: &str| {
        let _ = writeln!(
            x,
            "      <property name=\"{}\" value=\"{}\"/>",
            attr(name),
            attr(value)
        );
    };
    prop("idp", &s.idp);
    prop(
        "builtin",
        if run.invocation.is_builtin(s) {
            "true"
        } else {
            "false"
        },
    );
    for st in s.steps.iter().filter(|st| st.selected) {
        for f in st.findings.iter().filter(|f| f.advisory) {
            prop(
                &format!("advisory: {}", st.name),
                &format!("{}: {}", f.subject, f.message),
            );
        }
    }
    x.push_str("    </properties>\n");
    for st in s.steps.iter().filter(|st| st.selected) {
        case(x, s, st);
    }
    let leftovers: Vec<String> = s
        .cleanup
        .iter()
        .filter(|c| !c.ok())
        .map(|c| {
            format!(
                "not cleaned up: {} ({})",
                c.path,
                c.problem().unwrap_or_default()
            )
        })
        .collect();
    if !leftovers.is_empty() {
        let _ = writeln!(
            x,
            "    <system-err>{}</system-err>",
            text(&leftovers.join("\n"))
        );
    }
    x.push_str("  </testsuite>\n");
}

/// The userName lookup check as a suite of one case, so that a CI gate
/// reading only JUnit fails on it too.
fn lookup(x: &mut String, run: &RunResult, l: &LookupCheck) {
    let (failures, skipped) = match l.outcome {
        LookupOutcome::Works => (0, 0),
        LookupOutcome::Broken => (1, 0),
        LookupOutcome::Unchecked => (0, 1),
    };
    let time: f64 = l.exchanges.iter().map(|e| e.elapsed.as_secs_f64()).sum();
    let _ = writeln!(
        x,
        "  <testsuite name=\"userName-lookup\" tests=\"1\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time:.3}\" timestamp=\"{}\">",
        attr(&run.started)
    );
    let _ = writeln!(
        x,
        "    <properties>\n      <property name=\"profiles\" value=\"{}\"/>\n    </properties>",
        attr(&l.profiles.join(", "))
    );
    let _ = write!(
        x,
        "    <testcase name=\"userName eq finds exactly its user, with two users present\" classname=\"scimitar.lookup\" time=\"{time:.3}\">"
    );
    match l.outcome {
        LookupOutcome::Broken => {
            let _ = write!(
                x,
                "\n      <failure message=\"{}\" type=\"scimitar.lookup\">{}</failure>",
                attr(&l.summary),
                text(&l.describe())
            );
        }
        LookupOutcome::Unchecked => {
            let _ = write!(x, "\n      <skipped message=\"{}\"/>", attr(&l.summary));
        }
        LookupOutcome::Works => {}
    }
    let _ = write!(
        x,
        "\n      <system-out>{}</system-out>",
        text(&l.describe())
    );
    x.push_str("\n    </testcase>\n  </testsuite>\n");
}

fn case(x: &mut String, s: &SuiteResult, st: &StepResult) {
    let _ = write!(
        x,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\" file=\"{}\" line=\"{}\">",
        attr(&st.name),
        attr(&format!("{}.{}", s.idp, s.name)),
        st.duration.as_secs_f64(),
        attr(&source_file(&st.location.file.display().to_string())),
        st.location.line
    );
    match st.outcome {
        Outcome::Failed => {
            let _ = write!(
                x,
                "\n      <failure message=\"{}\" type=\"scimitar.step\">{}</failure>",
                attr(&first_line(st)),
                text(&st.explain(&s.name))
            );
        }
        Outcome::Skipped => {
            let why = st
                .skip_reason
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let _ = write!(x, "\n      <skipped message=\"{}\"/>", attr(&why));
        }
        // A baseline-covered failure: not a CI failure, but visible.
        Outcome::Known => {
            let why = format!("known failure: {}", st.known.as_deref().unwrap_or_default());
            let _ = write!(x, "\n      <skipped message=\"{}\"/>", attr(&why));
        }
        Outcome::Passed | Outcome::Advisory => {}
    }
    if st.findings.iter().any(|f| f.advisory) {
        let _ = write!(
            x,
            "\n      <system-out>{}</system-out>",
            text(&st.explain(&s.name))
        );
    }
    if st.outcome == Outcome::Passed && !st.findings.iter().any(|f| f.advisory) {
        x.push_str("</testcase>\n");
    } else {
        x.push_str("\n    </testcase>\n");
    }
}

/// A suite file as CI tools should show it: built-in suites by their path
/// in the repository (`suites/rfc/users.yaml`), others relative to the
/// working folder when they lie below it.
fn source_file(file: &str) -> String {
    let p = std::path::Path::new(file);
    if let Some(rel) = crate::embedded::relative(p) {
        return slashes(rel);
    }
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = p.strip_prefix(&cwd)
    {
        return slashes(rel);
    }
    slashes(p)
}

fn slashes(p: &std::path::Path) -> String {
    p.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn first_line(st: &StepResult) -> String {
    if let Some(e) = &st.error {
        return e.clone();
    }
    st.findings
        .iter()
        .find(|f| !f.advisory)
        .map(|f| format!("{}: {}", f.subject, f.message))
        .unwrap_or_else(|| "failed".into())
}

/// Text content: XML escapes, and no character XML 1.0 forbids (a server
/// may send control bytes; they become U+FFFD).
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// An attribute value: text escapes plus quotes, and line breaks kept.
pub(crate) fn attr(s: &str) -> String {
    text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#9;")
}
