//! The console: each step's line as soon as it finishes, in the suites'
//! order, in libtest-mimic's format (so cargo-test habits apply: filters,
//! `--exact`, `--skip`, `--list`).
//!
//! The runner works on the async runtime and sends events to a [`Live`]
//! sink; libtest-mimic runs on the main thread, one trial per step, and each
//! trial waits for its step's result. A step is printed when it and every
//! step before it (in suite order) has finished.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use libtest_mimic::{Completion, Failed, Trial};
use scimitar::events::{Event, EventSink};
use scimitar::results::{Outcome, RunResult, StepResult};
use scimitar::suite::Suite;

/// One step's slot: empty while the step runs; `Some(None)` when the suite
/// ended without it.
type Slot = Option<Option<StepResult>>;

/// Collects step results as events arrive; trials wait on it.
pub struct Live {
    slots: Mutex<Vec<Vec<Slot>>>,
    ready: Condvar,
    /// Suites finished so far (for a progress line).
    pub suites_done: AtomicUsize,
}

impl Live {
    /// Slots for every step of every suite.
    pub fn new(suites: &[Suite]) -> Arc<Live> {
        Arc::new(Live {
            slots: Mutex::new(suites.iter().map(|s| vec![None; s.steps.len()]).collect()),
            ready: Condvar::new(),
            suites_done: AtomicUsize::new(0),
        })
    }

    fn fill(&self, f: impl FnOnce(&mut Vec<Vec<Slot>>)) {
        if let Ok(mut s) = self.slots.lock() {
            f(&mut s);
        }
        self.ready.notify_all();
    }

    /// Blocks until the step has a result, or its suite ended without it.
    pub fn wait(&self, suite: usize, step: usize) -> Option<StepResult> {
        let Ok(mut slots) = self.slots.lock() else {
            return None;
        };
        loop {
            match slots.get(suite).and_then(|s| s.get(step)) {
                None => return None,
                Some(Some(r)) => return r.clone(),
                Some(None) => {}
            }
            slots = match self.ready.wait(slots) {
                Ok(s) => s,
                Err(_) => return None,
            };
        }
    }
}

impl EventSink for Live {
    fn event(&self, event: &Event<'_>) {
        match *event {
            Event::StepFinished {
                suite,
                step,
                result,
            } => self.fill(|s| {
                if let Some(slot) = s.get_mut(suite).and_then(|s| s.get_mut(step)) {
                    *slot = Some(Some(result.clone()));
                }
            }),
            Event::SuiteFinished { index, .. } => {
                self.suites_done.fetch_add(1, Ordering::Relaxed);
                self.fill(|s| close(s.get_mut(index)));
            }
            Event::RunFinished { .. } => self.fill(|s| {
                for suite in s.iter_mut() {
                    close(Some(suite));
                }
            }),
            Event::SuiteStarted { .. } => {}
        }
    }
}

/// Marks the steps a suite ended without, so nobody waits for them.
fn close(suite: Option<&mut Vec<Slot>>) {
    for slot in suite.into_iter().flatten() {
        if slot.is_none() {
            *slot = Some(None);
        }
    }
}

/// `suite::step`, the name filters match.
pub fn trial_name(suite: &Suite, step: &str) -> String {
    format!("{}::{step}", suite.name)
}

/// One trial per step of every suite; each waits for its step's result.
/// Steps the run never reaches are only ever filtered out.
pub fn live_trials(suites: &[Suite], live: &Arc<Live>, color: bool, verbose: bool) -> Vec<Trial> {
    let mut trials = Vec::new();
    for (si, s) in suites.iter().enumerate() {
        for (ti, st) in s.steps.iter().enumerate() {
            let live = live.clone();
            let suite_name = s.name.clone();
            trials.push(
                Trial::ignorable_test(trial_name(s, &st.name), move || match live.wait(si, ti) {
                    Some(r) => completion(&suite_name, &r, color, verbose),
                    None => Ok(Completion::ignored_with("not run")),
                })
                .with_kind(s.idp.clone()),
            );
        }
    }
    trials
}

/// A step result as libtest-mimic shows it.
fn completion(
    suite: &str,
    r: &StepResult,
    color: bool,
    verbose: bool,
) -> Result<Completion, Failed> {
    match r.outcome {
        Outcome::Passed => Ok(Completion::Completed),
        Outcome::Failed => {
            let mut explain = if color {
                r.explain_with(suite, &scimitar::snapshot::colorize)
            } else {
                r.explain(suite)
            };
            if verbose {
                explain.push_str(&r.exchange_text());
            }
            Err(Failed::from(explain))
        }
        Outcome::Skipped => Ok(Completion::ignored_with(
            r.skip_reason
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        )),
        // scimitar.toml baseline: reported with its reason, not failed.
        Outcome::Known => Ok(Completion::ignored_with(format!(
            "known: {}",
            r.known.as_deref().unwrap_or_default()
        ))),
        Outcome::Advisory => Ok(Completion::ignored_with(
            r.findings
                .first()
                .map(|f| format!("advisory: {}: {}", f.subject, f.message))
                .unwrap_or_default(),
        )),
    }
}

/// `--quiet`: each failed step's explanation (with the full exchange when
/// `verbose`), and whether there was any.
pub fn print_failures(result: &RunResult, verbose: bool) -> (String, bool) {
    let mut any = false;
    let mut out = String::new();
    for s in &result.suites {
        for st in s.steps.iter().filter(|st| st.selected) {
            if st.outcome == Outcome::Failed {
                let mut e = st.explain(&s.name);
                if verbose {
                    e.push_str(&st.exchange_text());
                }
                out.push_str(&format!("FAILED {}\n\n", e.trim_end()));
                any = true;
            }
        }
    }
    (out, any)
}
