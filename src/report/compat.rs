//! The compatibility report's content, shared by the Markdown and HTML
//! renderers: per IdP profile a verdict, then the failing, advisory and
//! skipped steps. Derived from a [`RunResult`] only.

use super::{Counts, idp_label};
use crate::results::{
    Finding, Invocation, LookupCheck, LookupOutcome, Outcome, RunResult, SkipReason, StepResult,
    SuiteResult,
};

/// The profiles a vendor is asked about, in report order. Profiles not run
/// are still listed, as "not tested".
pub fn known_profiles() -> impl Iterator<Item = &'static str> {
    crate::profile::PROFILES.iter().map(|p| p.id)
}

/// Largest body excerpt shown for a request or response, in characters.
pub const EXCERPT_CHARS: usize = 2000;

/// A profile's verdict. Only the built-in suites of a profile speak for
/// it; custom suites get their own rows ([`Verdict::CustomPassed`], …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every step of the profile's built-in suites was checked and passed.
    Compatible,
    /// Everything was checked and passed except steps needing capabilities
    /// the server says it lacks: a narrower claim, worded as such.
    CompatibleWithout,
    /// At least one step failed.
    NotCompatible { failing: usize },
    /// Nothing failed, but not every step was checked.
    Incomplete,
    /// No step of the profile was checked.
    NotTested,
    /// Custom suites: every checked step passed (never an IdP's verdict).
    CustomPassed,
    /// Custom suites: some steps failed.
    CustomFailed { failing: usize },
}

impl Verdict {
    /// A CSS class / short key.
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Compatible | Verdict::CompatibleWithout => "ok",
            Verdict::NotCompatible { .. } | Verdict::CustomFailed { .. } => "fail",
            Verdict::Incomplete => "incomplete",
            Verdict::NotTested => "untested",
            Verdict::CustomPassed => "pass",
        }
    }

    /// The machine-readable verdict (JSON).
    pub fn id(self) -> &'static str {
        match self {
            Verdict::Compatible => "compatible",
            Verdict::CompatibleWithout => "compatible-without",
            Verdict::NotCompatible { .. } => "not-compatible",
            Verdict::Incomplete => "incomplete",
            Verdict::NotTested => "not-tested",
            Verdict::CustomPassed => "custom-passed",
            Verdict::CustomFailed { .. } => "custom-failed",
        }
    }
}

/// Why a step of a profile was not checked. Derived from the typed
/// [`SkipReason`], never from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unchecked {
    /// Rate limited (429) past `--max-retry-wait`, or after a step that was.
    RateLimited,
    /// The user stopped the run.
    Interrupted,
    /// The suite could not be set up (a variable that could not be rendered).
    SuiteError,
    /// Left out by the user: FILTER, `--skip`, `--idp` or `--suite`.
    Filtered,
    /// Needs a capability the server says it lacks.
    Unsupported,
    /// Follows a failing step of its suite.
    AfterFailure,
    /// Verifies a change the server refused with only an advisory finding
    /// (a behaviour the IdP tolerates): nothing there to verify.
    AfterRefusal,
    /// Depends on a step that was itself not checked.
    Dependency,
}

impl Unchecked {
    /// The reason behind a skip.
    pub fn of(reason: &SkipReason) -> Unchecked {
        match reason {
            SkipReason::RateLimited { .. } | SkipReason::EarlierStepRateLimited { .. } => {
                Unchecked::RateLimited
            }
            SkipReason::Interrupted => Unchecked::Interrupted,
            SkipReason::SuiteVars { .. } => Unchecked::SuiteError,
            SkipReason::Unsupported { .. } | SkipReason::FilterDeclined { .. } => {
                Unchecked::Unsupported
            }
            // A step that failed (or timed out) left nothing to build on:
            // the failure already fails the run.
            SkipReason::DependencyRefused { .. } => Unchecked::AfterRefusal,
            SkipReason::EarlierStepFailed { .. }
            | SkipReason::MissingVariable { .. }
            | SkipReason::TargetDown { .. } => Unchecked::AfterFailure,
            SkipReason::DependencyExcluded { .. } => Unchecked::Filtered,
            // Its dependency was itself not checked (rate limited, …): the
            // run fell short of what it set out to check.
            SkipReason::DependencyUnchecked { .. } => Unchecked::Dependency,
        }
    }

    /// `30 rate limited`, as a coverage note words it.
    pub fn phrase(self) -> &'static str {
        match self {
            Unchecked::RateLimited => "rate limited",
            Unchecked::Interrupted => "interrupted",
            Unchecked::SuiteError => "suite could not be set up",
            Unchecked::Filtered => "not selected",
            Unchecked::Unsupported => "need a capability the server lacks",
            Unchecked::AfterFailure => "after a failing step",
            Unchecked::AfterRefusal => "verify a change the server refused (advisory)",
            Unchecked::Dependency => "depend on an unchecked step",
        }
    }

    /// `rate_limited`, the JSON key.
    pub fn id(self) -> &'static str {
        match self {
            Unchecked::RateLimited => "rate_limited",
            Unchecked::Interrupted => "interrupted",
            Unchecked::SuiteError => "suite_error",
            Unchecked::Filtered => "filtered",
            Unchecked::Unsupported => "unsupported",
            Unchecked::AfterFailure => "after_failure",
            Unchecked::AfterRefusal => "after_advisory_refusal",
            Unchecked::Dependency => "dependency_unchecked",
        }
    }

    /// Whether steps left unchecked for this reason mean the run did not do
    /// what it was asked: not the user's own selection (when explicit), not
    /// a capability the server declares it lacks, not the consequence of a
    /// failure (which fails the run already).
    pub fn unfinished(self, explicit: bool) -> bool {
        match self {
            Unchecked::RateLimited
            | Unchecked::Interrupted
            | Unchecked::SuiteError
            | Unchecked::Dependency => true,
            Unchecked::Filtered => !explicit,
            Unchecked::Unsupported | Unchecked::AfterFailure | Unchecked::AfterRefusal => false,
        }
    }
}

/// How much of a profile the run checked: steps checked (passed, advisory
/// or failed) out of the steps in the profile's built-in suites.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    pub checked: usize,
    pub total: usize,
    /// Steps not checked, by reason, in [`Unchecked`] order.
    pub unchecked: Vec<(Unchecked, usize)>,
    /// Capabilities the server lacks that left steps unchecked.
    pub missing: Vec<String>,
}

impl Coverage {
    fn add(&mut self, why: Unchecked, n: usize) {
        if n == 0 {
            return;
        }
        match self.unchecked.iter_mut().find(|(u, _)| *u == why) {
            Some((_, c)) => *c += n,
            None => {
                self.unchecked.push((why, n));
                self.unchecked.sort();
            }
        }
    }

    /// Steps not checked for this reason.
    pub fn count(&self, why: Unchecked) -> usize {
        self.unchecked
            .iter()
            .find(|(u, _)| *u == why)
            .map_or(0, |(_, n)| *n)
    }

    /// Whether every step was checked.
    pub fn complete(&self) -> bool {
        self.total > 0 && self.checked == self.total
    }

    /// `12/48 steps checked`
    pub fn ratio(&self) -> String {
        format!("{}/{} steps checked", self.checked, self.total)
    }

    /// `30 rate limited, 6 not selected (…)`
    pub fn reasons(&self) -> String {
        self.unchecked
            .iter()
            .map(|(u, n)| format!("{n} {}", u.phrase()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `12/48 steps checked (30 rate limited, 6 not selected …)`
    pub fn describe(&self) -> String {
        if self.unchecked.is_empty() {
            self.ratio()
        } else {
            format!("{} ({})", self.ratio(), self.reasons())
        }
    }

    /// Whether the unchecked steps mean the run fell short of what was asked.
    pub fn unfinished(&self, explicit: bool) -> bool {
        self.unchecked
            .iter()
            .any(|(u, n)| *n > 0 && u.unfinished(explicit))
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
    /// Custom suites: reported, never an IdP's verdict.
    pub custom: bool,
    /// Outcomes of the selected steps (snapshot differences count as passed:
    /// they are reported on their own line).
    pub counts: Counts,
    pub verdict: Verdict,
    /// How much of the profile was checked, and why the rest was not.
    pub coverage: Coverage,
    /// The user stopped the run: no verdict may claim more than was seen.
    pub interrupted: bool,
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
    /// The run's userName lookup check, when it speaks for this profile.
    pub lookup: Option<&'a LookupCheck>,
}

impl Profile<'_> {
    /// The verdict in words: `compatible`, `not compatible: 1 failing step`,
    /// `incomplete: 12/48 steps checked (30 rate limited)`, …
    pub fn verdict_text(&self) -> String {
        let steps = |n: usize| {
            if n == 1 {
                "1 failing step".to_string()
            } else {
                format!("{n} failing steps")
            }
        };
        match self.verdict {
            Verdict::Compatible => "compatible".into(),
            Verdict::CompatibleWithout => format!(
                "compatible without {}: the server does not support {}",
                self.coverage.missing.join(", "),
                if self.coverage.missing.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            ),
            Verdict::NotCompatible { failing } if self.lookup_broken() => {
                if failing == 0 {
                    "not compatible: its userName lookup is broken".into()
                } else {
                    format!(
                        "not compatible: its userName lookup is broken, and {}",
                        steps(failing)
                    )
                }
            }
            Verdict::NotCompatible { failing } => format!("not compatible: {}", steps(failing)),
            Verdict::Incomplete if self.lookup_unchecked() => {
                "incomplete: its userName lookup could not be checked".into()
            }
            Verdict::Incomplete if self.interrupted && self.coverage.unchecked.is_empty() => {
                "incomplete: the run was interrupted".into()
            }
            Verdict::Incomplete => format!("incomplete: {}", self.coverage.describe()),
            Verdict::NotTested => "not tested".into(),
            Verdict::CustomPassed => "passed (not an IdP verdict)".into(),
            Verdict::CustomFailed { failing } => format!("{} (not an IdP verdict)", steps(failing)),
        }
    }

    /// The run's lookup check found the filter this profile's IdP finds
    /// users with refused, ignored or loose.
    pub fn lookup_broken(&self) -> bool {
        self.lookup
            .is_some_and(|l| l.outcome == LookupOutcome::Broken)
    }

    /// The lookup check could not run (its users could not be created).
    pub fn lookup_unchecked(&self) -> bool {
        self.lookup
            .is_some_and(|l| l.outcome == LookupOutcome::Unchecked)
    }

    /// The coverage cell: `48/48` for a profile, `2/3 selected` (checked of
    /// selected) for suites that are not a profile.
    pub fn coverage_cell(&self) -> String {
        if self.custom {
            // Custom suites are measured on what was selected, not a plan.
            format!("{}/{} selected", self.coverage.checked, self.coverage.total)
        } else {
            format!("{}/{}", self.coverage.checked, self.coverage.total)
        }
    }
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
    /// Whose schemas judged attributes, in words.
    pub schemas: String,
    /// The userName lookup check, in words, when it ran.
    pub lookup: Option<String>,
    pub profiles: Vec<Profile<'a>>,
    /// Steps whose response differs from the accepted snapshot (or whose
    /// snapshot could not be compared): their own line, not a verdict.
    pub snapshot_changes: Vec<StepRef<'a>>,
    /// The user asked for part of the suites (FILTER, --skip, --idp).
    pub explicit_partial: bool,
    /// The filters in one line, as typed.
    pub filters: String,
    /// The 429 summary, when the server throttled.
    pub throttling: Option<String>,
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

/// Whether a step's only hard findings are snapshot differences: it is
/// compatible as far as the profile goes, and listed as a change.
pub fn snapshot_only(step: &StepResult) -> bool {
    step.outcome == Outcome::Failed
        && step.error.is_none()
        && hard_findings(step).next().is_some()
        && hard_findings(step).all(|f| f.subject == SNAPSHOT_SUBJECT)
}

/// The subject of the finding a snapshot difference adds.
pub const SNAPSHOT_SUBJECT: &str = "snapshot";

/// A step's outcome for verdicts: a snapshot difference alone does not make
/// it fail.
pub fn verdict_outcome(step: &StepResult) -> Outcome {
    if snapshot_only(step) {
        if step.findings.iter().any(|f| f.advisory) {
            Outcome::Advisory
        } else {
            Outcome::Passed
        }
    } else {
        step.outcome
    }
}

impl<'a> Compat<'a> {
    pub fn new(run: &'a RunResult) -> Compat<'a> {
        let inv = &run.invocation;
        // Without the built-in plan (a library run), suites of a known
        // profile stand for it and coverage is measured on what they hold.
        let known_plan = !inv.builtin.is_empty();
        // A profile without built-in suites (the schema profile: its suites
        // are generated for each target) is measured on the suites that ran.
        let planned = |idp: &str| known_plan && inv.builtin.iter().any(|b| b.idp == idp);
        let builtin = |s: &SuiteResult| {
            crate::profile::find(&s.idp).is_some() && (!planned(&s.idp) || inv.is_builtin(s))
        };
        let mut profiles: Vec<Profile> = known_profiles()
            .map(|idp| {
                let suites: Vec<&SuiteResult> = run
                    .suites
                    .iter()
                    .filter(|s| s.idp == idp && builtin(s))
                    .collect();
                let mut p = profile(idp, idp_label(idp), false, &suites, inv.interrupted);
                p.lookup = run
                    .lookup
                    .as_ref()
                    .filter(|l| !suites.is_empty() && l.profiles.iter().any(|x| x == idp));
                p.coverage = if planned(idp) {
                    builtin_coverage(inv, idp, &suites)
                } else {
                    present_coverage(&suites)
                };
                finish(&mut p);
                p
            })
            .collect();
        let mut custom_idps: Vec<&str> = Vec::new();
        for s in run.suites.iter().filter(|s| !builtin(s)) {
            if !custom_idps.contains(&s.idp.as_str()) {
                custom_idps.push(&s.idp);
            }
        }
        for idp in custom_idps {
            let suites: Vec<&SuiteResult> = run
                .suites
                .iter()
                .filter(|s| s.idp == idp && !builtin(s))
                .collect();
            // Built-in suites of no profile (the certification pre-check's)
            // are not the user's own: said so, still never an IdP verdict.
            let shipped = known_plan && suites.iter().all(|s| inv.is_builtin(s));
            let label = match (idp == "custom", shipped) {
                (true, _) => "Custom suites".to_string(),
                (false, true) => format!("Built-in suites (idp: {idp})"),
                (false, false) => format!("Custom suites (idp: {idp})"),
            };
            let key = if idp == "custom" {
                "custom".to_string()
            } else {
                format!("custom-{idp}")
            };
            let mut p = profile(&key, &label, true, &suites, inv.interrupted);
            p.coverage = selected_coverage(&suites);
            finish(&mut p);
            profiles.push(p);
        }
        let snapshot_changes = run
            .suites
            .iter()
            .flat_map(|s| {
                s.steps
                    .iter()
                    .filter(|st| st.selected && snapshot_only(st))
                    .map(move |st| StepRef { suite: s, step: st })
            })
            .collect();
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
            schemas: run.schemas.describe(),
            lookup: run.lookup.as_ref().map(|l| {
                let left: Vec<String> = l
                    .cleanup
                    .iter()
                    .filter_map(|c| c.problem().map(|why| format!("{} ({why})", c.path)))
                    .collect();
                let left = if left.is_empty() {
                    String::new()
                } else {
                    format!("; left behind: {}", left.join(", "))
                };
                format!(
                    "{} (profiles: {}){left}",
                    l.describe(),
                    l.profiles.join(", ")
                )
            }),
            profiles,
            snapshot_changes,
            explicit_partial: inv.filters.explicit(),
            filters: inv.filters.describe(),
            throttling: run.throttling.summary(),
        }
    }

    /// One sentence: which profiles are compatible, which not, which
    /// incomplete or untested, and how the custom suites did.
    pub fn in_short(&self) -> String {
        let names = |key: &str| -> Vec<String> {
            self.profiles
                .iter()
                .filter(|p| !p.custom && p.verdict.key() == key)
                .map(|p| match p.verdict {
                    Verdict::CompatibleWithout => {
                        format!("{} (without {})", p.label, p.coverage.missing.join(", "))
                    }
                    Verdict::Incomplete => format!("{} ({})", p.label, p.coverage.ratio()),
                    _ => p.label.clone(),
                })
                .collect()
        };
        let mut parts = Vec::new();
        for (key, what) in [
            ("ok", "Compatible with"),
            ("fail", "Not compatible with"),
            ("incomplete", "Incomplete"),
            ("untested", "Not tested"),
        ] {
            let n = names(key);
            if !n.is_empty() {
                parts.push(format!("{what}: {}.", n.join(", ")));
            }
        }
        let mut custom = Counts::default();
        for p in self.profiles.iter().filter(|p| p.custom) {
            custom.passed += p.counts.passed;
            custom.failed += p.counts.failed;
            custom.advisory += p.counts.advisory;
            custom.skipped += p.counts.skipped;
        }
        if custom != Counts::default() {
            parts.push(format!(
                "Custom suites (not an IdP verdict): {} passed, {} failed, {} advisory, {} skipped.",
                custom.passed, custom.failed, custom.advisory, custom.skipped
            ));
        }
        parts.join(" ")
    }

    /// Profiles that ran at least one suite (for the detail sections).
    pub fn tested(&self) -> impl Iterator<Item = &Profile<'a>> {
        self.profiles.iter().filter(|p| p.suites > 0)
    }

    /// Whether the run fell short of what it was asked to check: a profile
    /// or custom suite left steps unchecked for a reason the user did not
    /// choose (rate limited, interrupted, a suite that could not be set
    /// up). A partial selection counts only when it was not explicit.
    pub fn unfinished(&self) -> bool {
        self.profiles.iter().filter(|p| p.suites > 0).any(|p| {
            p.coverage.unfinished(self.explicit_partial)
                || (p.verdict == Verdict::Incomplete && p.lookup_unchecked())
        })
    }

    /// `2 responses changed since the accepted snapshots`, if any did.
    pub fn snapshot_line(&self) -> Option<String> {
        let changed = self
            .snapshot_changes
            .iter()
            .filter(|r| r.step.snapshot_diff.is_some())
            .count();
        let other = self.snapshot_changes.len() - changed;
        let mut parts = Vec::new();
        if changed > 0 {
            parts.push(if changed == 1 {
                "1 response changed since the accepted snapshots".to_string()
            } else {
                format!("{changed} responses changed since the accepted snapshots")
            });
        }
        if other > 0 {
            parts.push(format!(
                "{other} snapshot{} missing or unreadable",
                if other == 1 { "" } else { "s" }
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Coverage of a profile against its built-in suites: what was not loaded
/// or not selected was filtered by the user; skips count by their reason.
fn builtin_coverage(inv: &Invocation, idp: &str, ran: &[&SuiteResult]) -> Coverage {
    let mut c = Coverage::default();
    for b in inv.builtin.iter().filter(|b| b.idp == idp) {
        c.total += b.steps;
        match ran.iter().find(|s| s.name == b.name) {
            Some(s) => {
                count_steps(&mut c, s, true);
                c.add(Unchecked::Filtered, b.steps.saturating_sub(s.steps.len()));
            }
            None => c.add(Unchecked::Filtered, b.steps),
        }
    }
    c
}

/// Coverage over the steps the suites hold (no built-in plan known).
fn present_coverage(ran: &[&SuiteResult]) -> Coverage {
    let mut c = Coverage::default();
    for s in ran {
        c.total += s.steps.len();
        count_steps(&mut c, s, true);
    }
    c
}

/// Custom suites: coverage over the steps the user selected.
fn selected_coverage(ran: &[&SuiteResult]) -> Coverage {
    let mut c = Coverage::default();
    for s in ran {
        c.total += s.steps.iter().filter(|st| st.selected).count();
        count_steps(&mut c, s, false);
    }
    c
}

fn count_steps(c: &mut Coverage, s: &SuiteResult, unselected_filtered: bool) {
    for st in &s.steps {
        if !st.selected {
            if unselected_filtered {
                c.add(Unchecked::Filtered, 1);
            }
            continue;
        }
        match (&st.outcome, &st.skip_reason) {
            (Outcome::Skipped, Some(reason)) => {
                c.add(Unchecked::of(reason), 1);
                let lacks: Vec<String> = match reason {
                    SkipReason::Unsupported { capabilities } => capabilities.clone(),
                    SkipReason::FilterDeclined { .. } => {
                        vec!["the filters it declines (invalidFilter)".into()]
                    }
                    _ => Vec::new(),
                };
                for cap in lacks {
                    if !c.missing.contains(&cap) {
                        c.missing.push(cap);
                    }
                }
            }
            (Outcome::Skipped, None) => c.add(Unchecked::SuiteError, 1),
            _ => c.checked += 1,
        }
    }
}

/// Counts, failing/advisory/skipped lists and leftovers of some suites.
fn profile<'a>(
    idp: &str,
    label: &str,
    custom: bool,
    suites: &[&'a SuiteResult],
    interrupted: bool,
) -> Profile<'a> {
    let mut counts = Counts::default();
    let mut failing = Vec::new();
    let mut advisory = Vec::new();
    let mut skipped: Vec<SkipGroup> = Vec::new();
    let mut leftovers = Vec::new();
    let mut suite_counts = Vec::new();
    for s in suites {
        let mut sc = Counts::default();
        for st in s.steps.iter().filter(|st| st.selected) {
            sc.add(verdict_outcome(st));
        }
        if sc != Counts::default() {
            suite_counts.push((*s, sc));
        }
        for st in s.steps.iter().filter(|st| st.selected) {
            let outcome = verdict_outcome(st);
            counts.add(outcome);
            let r = StepRef { suite: s, step: st };
            match outcome {
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
    Profile {
        idp: idp.to_string(),
        label: label.to_string(),
        custom,
        counts,
        verdict: Verdict::NotTested,
        coverage: Coverage::default(),
        interrupted,
        untested_note: None,
        suites: suites.len(),
        suite_counts,
        failing,
        advisory,
        skipped,
        leftovers,
        lookup: None,
    }
}

/// The verdict from counts and coverage. "Compatible" only when every step
/// of the profile was checked; never after an interruption.
fn finish(p: &mut Profile) {
    let c = &p.coverage;
    p.verdict = if p.counts.failed > 0 || p.lookup_broken() {
        if p.custom {
            Verdict::CustomFailed {
                failing: p.counts.failed,
            }
        } else {
            Verdict::NotCompatible {
                failing: p.counts.failed,
            }
        }
    } else if c.checked == 0 && !c.unfinished(true) {
        // Nothing selected, or all of it needs what the server lacks.
        Verdict::NotTested
    } else if c.checked == 0
        || p.interrupted
        || p.lookup_unchecked()
        || c.checked + c.count(Unchecked::Unsupported) < c.total
    {
        Verdict::Incomplete
    } else if p.custom {
        Verdict::CustomPassed
    } else if c.checked == c.total {
        Verdict::Compatible
    } else {
        Verdict::CompatibleWithout
    };
    if p.verdict == Verdict::NotTested {
        p.untested_note = Some(if p.suites == 0 {
            "no suite of this profile was run".to_string()
        } else if p.counts.skipped > 0 {
            format!("all {} selected steps were skipped", p.counts.skipped)
        } else {
            "no step of this profile was selected".to_string()
        });
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
