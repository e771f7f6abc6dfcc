//! JUnit XML: one `<testsuite>` per suite, one `<testcase>` per step.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::results::{Outcome, RunResult};

pub fn render(run: &RunResult) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("scimitar");
    report.set_time(run.duration);
    for s in &run.suites {
        let mut ts = TestSuite::new(s.name.as_str());
        ts.add_property(("idp", s.idp.as_str()));
        ts.add_property(("file", s.file.as_str()));
        for st in s.steps.iter().filter(|st| st.selected) {
            let status = match st.outcome {
                Outcome::Passed | Outcome::Advisory => TestCaseStatus::success(),
                Outcome::Failed => {
                    let mut c = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    c.set_message(first_line(st));
                    c.set_type("scimitar.step");
                    c.set_description(st.explain(&s.name));
                    c
                }
                Outcome::Skipped => {
                    let mut c = TestCaseStatus::skipped();
                    c.set_message(
                        st.skip_reason
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    );
                    c
                }
                // A baseline-covered failure: not a CI failure, but visible.
                Outcome::Known => {
                    let mut c = TestCaseStatus::skipped();
                    c.set_message(format!(
                        "known failure: {}",
                        st.known.as_deref().unwrap_or_default()
                    ));
                    c.set_description(st.explain(&s.name));
                    c
                }
            };
            let mut tc = TestCase::new(st.name.as_str(), status);
            tc.set_classname(format!("{}.{}", s.idp, s.name));
            tc.set_time(st.duration);
            if st.outcome == Outcome::Advisory {
                tc.set_system_out(st.explain(&s.name));
            }
            ts.add_test_case(tc);
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
            ts.set_system_err(leftovers.join("\n"));
        }
        report.add_test_suite(ts);
    }
    report.to_string()
}

fn first_line(st: &crate::results::StepResult) -> String {
    if let Some(e) = &st.error {
        return e.clone();
    }
    st.findings
        .iter()
        .find(|f| !f.advisory)
        .map(|f| format!("{}: {}", f.subject, f.message))
        .unwrap_or_else(|| "failed".into())
}
