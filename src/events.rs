//! What a run tells as it goes, and the hooks its consumers plug in.
//!
//! The runner emits [`Event`]s to every [`EventSink`] (the console prints a
//! step's line when it finishes; reports wait for [`Event::RunFinished`]).
//! A [`StepHook`] may amend a step's result before it is emitted: that is
//! how snapshots compare responses without the runner knowing about them.
//! Neither the runner nor its consumers import each other; both import this.

use crate::results::{RunResult, StepResult, SuiteResult};
use crate::suite::template::Vars;
use crate::suite::{Step, Suite};

/// One thing that happened in a run. Borrowed: sinks copy what they keep.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A suite began (after it got its turn among the `jobs` in flight).
    SuiteStarted {
        /// The suite's position in the run.
        index: usize,
        /// Its name.
        name: &'a str,
    },
    /// A step ended: passed, failed, advisory or skipped.
    StepFinished {
        /// The suite's position in the run.
        suite: usize,
        /// The step's position in its suite.
        step: usize,
        /// What it found.
        result: &'a StepResult,
    },
    /// A suite's steps and its cleanup are done.
    SuiteFinished {
        /// The suite's position in the run.
        index: usize,
        /// Everything it found, cleanup included.
        result: &'a SuiteResult,
    },
    /// The run is over; nothing follows.
    RunFinished {
        /// Every suite's result, in the suites' order.
        result: &'a RunResult,
    },
}

/// Receives a run's events. Called from the runner's tasks, possibly from
/// several at once: keep it quick and never block on the network.
pub trait EventSink: Send + Sync {
    /// One event.
    fn event(&self, event: &Event<'_>);
}

/// Amends step results before they are emitted, suite by suite.
pub trait StepHook: Send + Sync {
    /// The hook's state for one suite run; `vars` holds the suite's
    /// variables as they stand before its first step.
    fn suite<'a>(&'a self, suite: &Suite, vars: &Vars) -> Box<dyn SuiteHook + Send + 'a>;
}

/// A [`StepHook`]'s state for one suite.
pub trait SuiteHook {
    /// Called once per step that was run or skipped, in order, before the
    /// step is emitted. `vars` holds the variables after the step's captures.
    fn after_step(&mut self, step: &Step, vars: &Vars, result: &mut StepResult);
}
