//! The compatibility report's content, shared by the Markdown and HTML
//! renderers: per IdP profile a verdict, then the failing, advisory and
//! skipped steps. Derived from a [`RunResult`] only.

use super::{Counts, idp_label};
use crate::results::{Finding, Outcome, RunResult, StepResult, SuiteResult};

/// The profiles a vendor is asked about, in report order. Profiles not run
/// are still listed, as "not tested".
pub fn known_profiles() -> impl Iterator<Item = &'static str> {
    crate::profile::PROFILES.iter().map(|p| p.id)
}

/// Largest body excerpt shown for a request or response, in characters.
pub const EXCERPT_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Compatible,
    NotCompatible { failing: usize },
    NotTested,
}

impl Verdict {
    pub fn text(self) -> String {
        match self {
            Verdict::Compatible => "compatible".into(),
            Verdict::NotCompatible { failing: 1 } => "not compatible: 1 failing step".into(),
            Verdict::NotCompatible { failing } => {
                format!("not compatible: {failing} failing steps")
            }
            Verdict::NotTested => "not tested".into(),
        }
    }

    /// A CSS class / short key.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Compatible => "ok",
            Verdict::NotCompatible { .. } => "fail",
            Verdict::NotTested => "untested",
        }
    }
}

/// One step with the suite it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct StepRef<'a> {
    pub suite: &'a SuiteResult,
    pub step: &'a StepResult,
}

impl StepRef<'_> {
    /// `suite::step`
    pub fn id(&self) -> String {
        format!("{}::{}", self.suite.name, self.step.name)
    }
}

/// Skipped steps of one suite that share a reason.
#[derive(Debug, Clone)]
pub struct SkipGroup<'a> {
    pub suite: &'a SuiteResult,
    pub steps: Vec<&'a str>,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct Profile<'a> {
    pub idp: String,
    pub label: String,
    pub counts: Counts,
    pub verdict: Verdict,
    /// Why the verdict is "not tested", when it is.
    pub untested_note: Option<String>,
    pub suites: usize,
    /// Each suite of the profile that ran, with its counts over selected steps.
    pub suite_counts: Vec<(&'a SuiteResult, Counts)>,
    pub failing: Vec<StepRef<'a>>,
    /// Steps carrying advisory findings (whatever their outcome).
    pub advisory: Vec<StepRef<'a>>,
    pub skipped: Vec<SkipGroup<'a>>,
    /// Resources the run could not delete: `(suite, path, why)`.
    pub leftovers: Vec<(&'a str, &'a str, String)>,
}

#[derive(Debug, Clone)]
pub struct Compat<'a> {
    pub target: String,
    pub date: String,
    pub version: &'static str,
    pub requests_sent: u64,
    pub duration_secs: f64,
    /// Capabilities as discovery saw them: `(name, "yes" | "no" | "not said")`.
    pub capabilities: Vec<(String, &'static str)>,
    pub profiles: Vec<Profile<'a>>,
}

/// `2026-11-25 09:32:03 UTC` from RFC 3339; anything else as given.
pub fn readable_date(rfc3339: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let fmt =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .and_then(|t| t.to_offset(time::UtcOffset::UTC).format(&fmt).ok())
        .unwrap_or_else(|| rfc3339.to_string())
}

/// A base URL fit to publish: no credentials, query or fragment.
pub fn public_target(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        // Not a URL: keep only what precedes any query.
        Err(_) => url.split(['?', '#']).next().unwrap_or("").to_string(),
    }
}

impl<'a> Compat<'a> {
    pub fn new(run: &'a RunResult) -> Compat<'a> {
        let mut idps: Vec<String> = known_profiles().map(str::to_string).collect();
        for s in &run.suites {
            if !idps.contains(&s.idp) {
                idps.push(s.idp.clone());
            }
        }
        let profiles = idps.iter().map(|idp| profile(run, idp)).collect();
        Compat {
            target: public_target(&run.target),
            date: readable_date(&run.started),
            version: env!("CARGO_PKG_VERSION"),
            requests_sent: run.requests_sent,
            duration_secs: run.duration.as_secs_f64(),
            capabilities: run
                .capabilities
                .iter()
                .map(|(k, v)| {
                    let said = match v {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "not said",
                    };
                    (k.clone(), said)
                })
                .collect(),
            profiles,
        }
    }

    /// One sentence: which profiles are compatible, which not, which untested.
    pub fn in_short(&self) -> String {
        let names = |key: &str| -> Vec<&str> {
            self.profiles
                .iter()
                .filter(|p| p.verdict.key() == key)
                .map(|p| p.label.as_str())
                .collect()
        };
        let mut parts = Vec::new();
        for (key, what) in [
            ("ok", "Compatible with"),
            ("fail", "Not compatible with"),
            ("untested", "Not tested"),
        ] {
            let n = names(key);
            if !n.is_empty() {
                parts.push(format!("{what}: {}.", n.join(", ")));
            }
        }
        parts.join(" ")
    }

    /// Profiles that ran at least one suite (for the detail sections).
    pub fn tested(&self) -> impl Iterator<Item = &Profile<'a>> {
        self.profiles
            .iter()
            .filter(|p| p.verdict != Verdict::NotTested || p.suites > 0)
    }
}

fn profile<'a>(run: &'a RunResult, idp: &str) -> Profile<'a> {
    let suites: Vec<&SuiteResult> = run.suites.iter().filter(|s| s.idp == idp).collect();
    let mut counts = Counts::default();
    let mut failing = Vec::new();
    let mut advisory = Vec::new();
    let mut skipped: Vec<SkipGroup> = Vec::new();
    let mut leftovers = Vec::new();
    let mut suite_counts = Vec::new();
    for s in &suites {
        let mut sc = Counts::default();
        for st in s.steps.iter().filter(|st| st.selected) {
            sc.add(st.outcome);
        }
        if sc != Counts::default() {
            suite_counts.push((*s, sc));
        }
        for st in s.steps.iter().filter(|st| st.selected) {
            counts.add(st.outcome);
            let r = StepRef { suite: s, step: st };
            match st.outcome {
                Outcome::Failed => failing.push(r),
                Outcome::Skipped | Outcome::Known => {
                    let reason = match (&st.known, &st.skip_reason) {
                        (Some(k), _) => format!("known failure: {k}"),
                        (None, Some(r)) => r.to_string(),
                        (None, None) => "no reason given".into(),
                    };
                    match skipped.last_mut() {
                        Some(g) if std::ptr::eq(g.suite, *s) && g.reason == reason => {
                            g.steps.push(&st.name)
                        }
                        _ => skipped.push(SkipGroup {
                            suite: s,
                            steps: vec![&st.name],
                            reason,
                        }),
                    }
                }
                _ => {}
            }
            if st.findings.iter().any(|f| f.advisory) {
                advisory.push(r);
            }
        }
        for c in s.cleanup.iter().filter(|c| !c.ok()) {
            let why = c.problem().unwrap_or_default();
            leftovers.push((s.name.as_str(), c.path.as_str(), why));
        }
    }
    let ran = counts.passed + counts.failed + counts.advisory;
    let (verdict, untested_note) = if counts.failed > 0 {
        (
            Verdict::NotCompatible {
                failing: counts.failed,
            },
            None,
        )
    } else if ran == 0 {
        let note = if suites.is_empty() {
            "no suite of this profile was run".to_string()
        } else if counts.skipped > 0 {
            format!("all {} selected steps were skipped", counts.skipped)
        } else {
            "no step of this profile was selected".to_string()
        };
        (Verdict::NotTested, Some(note))
    } else {
        (Verdict::Compatible, None)
    };
    Profile {
        idp: idp.to_string(),
        label: idp_label(idp).to_string(),
        counts,
        verdict,
        untested_note,
        suites: suites.len(),
        suite_counts,
        failing,
        advisory,
        skipped,
        leftovers,
    }
}

/// Where a step is defined, for a report: built-in suites by their path in
/// the repository, not in the user's cache folder.
pub fn location(step: &StepResult) -> String {
    let loc = &step.location;
    match crate::embedded::relative(&loc.file) {
        Some(rel) => format!("{}:{}:{} (built in)", rel.display(), loc.line, loc.column),
        None => loc.to_string(),
    }
}

/// The request body the IdP profile sent, pretty-printed and cut to size.
pub fn request_excerpt(step: &StepResult) -> Option<String> {
    let body = step.exchange.as_ref()?.request.body.as_ref()?;
    let text = serde_json::to_string_pretty(body).unwrap_or_default();
    Some(cut(&text, EXCERPT_CHARS))
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let c: String = text.chars().take(max).collect();
        format!("{c}\n… ({} bytes in all)", text.len())
    } else {
        text.to_string()
    }
}

/// The findings that make a step fail (not the advisory ones).
pub fn hard_findings(step: &StepResult) -> impl Iterator<Item = &Finding> {
    step.findings.iter().filter(|f| !f.advisory)
}

/// The RFC sections a step's findings cite, deduplicated, in order.
pub fn rfc_sections<'f>(findings: impl Iterator<Item = &'f Finding>) -> Vec<&'f str> {
    let mut out: Vec<&str> = Vec::new();
    for f in findings {
        if let Some(r) = f.rfc.as_deref()
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    out
}
