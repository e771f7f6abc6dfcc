//! Certification pre-checks: what a programme (the Entra app gallery, the
//! Okta Integration Network) checks before a submission, as a table of
//! requirements (`certify/<programme>.yaml`, built in), judged against a
//! [`RunResult`]. Each requirement passes, fails, is not checked (with the
//! reason), or needs the real IdP tenant, which is never claimed from here.
//! The evidence bundle ([`render`]) shows the exact request and response
//! behind each verdict.

pub mod render;

use serde::{Deserialize, Serialize};

use crate::results::{Exchange, Outcome, RunResult, StepResult};

/// The built-in requirement tables, `(programme id, YAML)`.
pub const TABLES: &[(&str, &str)] = &[
    (
        "entra-gallery",
        include_str!("../../certify/entra-gallery.yaml"),
    ),
    ("okta-oin", include_str!("../../certify/okta-oin.yaml")),
];

/// Why a requirement table could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// No table of that name.
    #[error("no certification programme {0:?} (known: {1})")]
    Unknown(String, String),
    /// The table does not parse.
    #[error("certify/{0}.yaml: {1}")]
    Table(String, String),
}

/// One programme's requirements.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// e.g. `entra-gallery`.
    pub programme: String,
    /// A readable name.
    pub title: String,
    /// Source keys used in `source:` and what they name.
    pub sources: std::collections::BTreeMap<String, String>,
    /// The suites the pre-check runs, by name.
    pub suites: Vec<String>,
    /// The requirements, in the programme's order.
    pub requirements: Vec<Requirement>,
}

/// How a requirement is proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Proof {
    /// The listed steps pass.
    Steps,
    /// The run authenticated with OAuth 2.0 client credentials and the
    /// endpoint accepted the token.
    Oauth,
    /// The run's userName lookup check worked: each of two users found by
    /// its own `userName eq` filter, and only it.
    Lookup,
    /// Only the real IdP tenant can show it.
    Tenant,
    /// scimitar does not check it.
    NotCovered,
}

/// How much the programme insists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Submission fails without it.
    Mandatory,
    /// Asked for, not enforced.
    Recommended,
    /// Reported as a warning by the programme.
    Optional,
}

/// One row of a table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Short id, unique in the table.
    pub id: String,
    /// What the programme requires, in one sentence.
    pub text: String,
    /// Where the programme says so (keys of [`Table::sources`]).
    pub source: String,
    /// Mandatory, recommended or optional.
    pub level: Level,
    /// How scimitar proves it.
    pub proof: Proof,
    /// `suite::step` names, for [`Proof::Steps`].
    #[serde(default)]
    pub steps: Vec<String>,
}

/// Loads the built-in table of a programme.
pub fn table(programme: &str) -> Result<Table, CertifyError> {
    let (_, text) = TABLES
        .iter()
        .find(|(id, _)| *id == programme)
        .ok_or_else(|| {
            CertifyError::Unknown(
                programme.to_string(),
                TABLES
                    .iter()
                    .map(|(id, _)| *id)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })?;
    serde_saphyr::from_str(text).map_err(|e| CertifyError::Table(programme.into(), e.to_string()))
}

/// How the run authenticated, as far as a certification cares.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuthInfo {
    /// e.g. `OAuth 2.0 client credentials (https://idp.example/token)`, `bearer token`.
    pub method: String,
    /// Whether it was OAuth 2.0 client credentials.
    pub oauth_client_credentials: bool,
}

/// A requirement's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every step that proves it passed.
    Pass,
    /// A step that proves it failed (a baseline "known" failure included).
    Fail,
    /// Not shown by this run; the note says why.
    NotChecked,
    /// Needs the real IdP tenant: to check there.
    InTenant,
}

impl Status {
    /// How reports show it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::NotChecked => "not checked",
            Status::InTenant => "to check in the tenant",
        }
    }
}

/// One step behind a verdict, with its exchange.
#[derive(Debug, Clone, Serialize)]
pub struct Proved {
    /// `suite::step`.
    pub step: String,
    /// How it ended; `None` when the step did not run at all.
    pub outcome: Option<Outcome>,
    /// Why it failed or was skipped, when it did not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The request and response (secrets redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
}

/// A requirement with its verdict and proof.
#[derive(Debug, Clone, Serialize)]
pub struct Judged {
    /// The requirement.
    #[serde(flatten)]
    pub requirement: Requirement,
    /// The verdict.
    pub status: Status,
    /// Why, in one line.
    pub note: String,
    /// The steps behind it, with their exchanges.
    pub proof_steps: Vec<Proved>,
}

/// A programme's requirements judged against one run.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// The programme id.
    pub programme: String,
    /// Its readable name.
    pub title: String,
    /// The source keys.
    pub sources: std::collections::BTreeMap<String, String>,
    /// The target (no credentials).
    pub target: String,
    /// When the run began.
    pub started: String,
    /// The scimitar version.
    pub version: String,
    /// How the run authenticated.
    pub auth: AuthInfo,
    /// Every requirement, judged.
    pub requirements: Vec<Judged>,
}

impl Evidence {
    /// How many requirements ended with this status.
    pub fn count(&self, s: Status) -> usize {
        self.requirements.iter().filter(|r| r.status == s).count()
    }

    /// Whether a mandatory requirement failed.
    pub fn failed(&self) -> bool {
        self.requirements
            .iter()
            .any(|r| r.status == Status::Fail && r.requirement.level == Level::Mandatory)
    }

    /// One line for the console and the top of the reports.
    pub fn verdict(&self) -> String {
        let open = self
            .requirements
            .iter()
            .filter(|r| r.requirement.level == Level::Mandatory && r.status == Status::NotChecked)
            .count();
        let head = if self.failed() {
            "not ready: a mandatory requirement fails"
        } else if open > 0 {
            "no mandatory failure, but some mandatory requirements were not checked here"
        } else {
            "every requirement scimitar can check passes"
        };
        format!(
            "{head} ({} pass, {} fail, {} not checked, {} to check in the tenant)",
            self.count(Status::Pass),
            self.count(Status::Fail),
            self.count(Status::NotChecked),
            self.count(Status::InTenant)
        )
    }
}

/// The step named `suite::step` in the run.
fn find_step<'a>(run: &'a RunResult, name: &str) -> Option<(&'a str, &'a StepResult)> {
    let (suite, step) = name.split_once("::")?;
    let s = run.suites.iter().find(|s| s.name == suite)?;
    s.steps
        .iter()
        .find(|st| st.name == step)
        .map(|st| (s.name.as_str(), st))
}

/// Judges every requirement of `table` against `run`.
pub fn judge(table: &Table, run: &RunResult, auth: &AuthInfo) -> Evidence {
    let requirements = table
        .requirements
        .iter()
        .map(|r| judge_one(r, run, auth))
        .collect();
    Evidence {
        programme: table.programme.clone(),
        title: table.title.clone(),
        sources: table.sources.clone(),
        target: run.target.clone(),
        started: run.started.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        auth: auth.clone(),
        requirements,
    }
}

fn judge_one(r: &Requirement, run: &RunResult, auth: &AuthInfo) -> Judged {
    let done = |status, note: String, proof_steps| Judged {
        requirement: r.clone(),
        status,
        note,
        proof_steps,
    };
    match r.proof {
        Proof::Tenant => done(
            Status::InTenant,
            "needs the real IdP tenant; scimitar cannot show it".into(),
            Vec::new(),
        ),
        Proof::NotCovered => done(
            Status::NotChecked,
            "scimitar does not check this yet; show it another way".into(),
            Vec::new(),
        ),
        Proof::Oauth => oauth(r, run, auth),
        Proof::Lookup => lookup(r, run),
        Proof::Steps => {
            let proved: Vec<Proved> = r.steps.iter().map(|name| prove(run, name)).collect();
            let failed: Vec<&str> = proved
                .iter()
                .filter(|p| matches!(p.outcome, Some(Outcome::Failed | Outcome::Known)))
                .map(|p| p.step.as_str())
                .collect();
            let unchecked: Vec<&str> = proved
                .iter()
                .filter(|p| matches!(p.outcome, None | Some(Outcome::Skipped)))
                .map(|p| p.step.as_str())
                .collect();
            let (status, note) = if !failed.is_empty() {
                (Status::Fail, format!("failed: {}", failed.join(", ")))
            } else if !unchecked.is_empty() {
                (
                    Status::NotChecked,
                    format!("not checked: {}", unchecked.join(", ")),
                )
            } else {
                (Status::Pass, format!("{} step(s) passed", proved.len()))
            };
            done(status, note, proved)
        }
    }
}

fn prove(run: &RunResult, name: &str) -> Proved {
    match find_step(run, name) {
        Some((suite, st)) => Proved {
            step: name.to_string(),
            outcome: Some(st.outcome),
            explanation: (!matches!(st.outcome, Outcome::Passed)).then(|| st.explain(suite)),
            exchange: st.exchange.clone(),
        },
        None => Proved {
            step: name.to_string(),
            outcome: None,
            explanation: Some("this step did not run".into()),
            exchange: None,
        },
    }
}

/// The userName lookup: judged by the run's lookup check, whose requests
/// and responses are the proof.
fn lookup(r: &Requirement, run: &RunResult) -> Judged {
    use crate::results::LookupOutcome;
    let Some(l) = &run.lookup else {
        return Judged {
            requirement: r.clone(),
            status: Status::NotChecked,
            note: "the userName lookup is checked only when an IdP profile's suites run".into(),
            proof_steps: Vec::new(),
        };
    };
    let (status, outcome) = match l.outcome {
        LookupOutcome::Works => (Status::Pass, Outcome::Passed),
        LookupOutcome::Broken => (Status::Fail, Outcome::Failed),
        LookupOutcome::Unchecked => (Status::NotChecked, Outcome::Skipped),
    };
    let last = l.exchanges.len().saturating_sub(1);
    let proof_steps = l
        .exchanges
        .iter()
        .enumerate()
        .map(|(i, ex)| Proved {
            step: format!(
                "userName lookup check: {} {}",
                ex.request.method,
                ex.request
                    .url
                    .strip_prefix(run.target.trim_end_matches('/'))
                    .unwrap_or(&ex.request.url)
            ),
            // The last exchange is the one the verdict rests on.
            outcome: Some(if i == last { outcome } else { Outcome::Passed }),
            explanation: (i == last && status != Status::Pass).then(|| l.summary.clone()),
            exchange: Some(ex.clone()),
        })
        .collect();
    Judged {
        requirement: r.clone(),
        status,
        note: l.summary.clone(),
        proof_steps,
    }
}

/// OAuth 2.0 client credentials: the run used them, and the endpoint
/// accepted the token (a step with an authenticated 2xx answer).
fn oauth(r: &Requirement, run: &RunResult, auth: &AuthInfo) -> Judged {
    let mut j = Judged {
        requirement: r.clone(),
        status: Status::NotChecked,
        note: format!(
            "this run used {}; run the pre-check with --oauth-token-url, --client-id and --client-secret-env to show it",
            if auth.method.is_empty() {
                "no credentials"
            } else {
                &auth.method
            }
        ),
        proof_steps: Vec::new(),
    };
    if !auth.oauth_client_credentials {
        return j;
    }
    let accepted = run.suites.iter().find_map(|s| {
        s.steps
            .iter()
            .find(|st| {
                st.outcome == Outcome::Passed
                    && st.exchange.as_ref().is_some_and(|ex| {
                        (200..300).contains(&ex.response.status)
                            && ex
                                .request
                                .headers
                                .iter()
                                .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    })
            })
            .map(|st| (s.name.as_str(), st))
    });
    match accepted {
        Some((suite, st)) => {
            j.status = Status::Pass;
            j.note = format!(
                "{}: the endpoint accepted the token (below); Microsoft also checks a token lifetime of 60 to 360 minutes",
                auth.method
            );
            j.proof_steps.push(Proved {
                step: format!("{suite}::{}", st.name),
                outcome: Some(st.outcome),
                explanation: None,
                exchange: st.exchange.clone(),
            });
        }
        None => {
            j.status = Status::Fail;
            j.note = format!(
                "{}: no request with the token got a 2xx answer",
                auth.method
            );
        }
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_loads_and_names_real_suites_and_steps() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("suites");
        let suites = crate::suite::load_paths(&[root]).expect("the built-in suites load");
        for (id, _) in TABLES {
            let t = table(id).unwrap();
            assert_eq!(t.programme, *id);
            let mut ids = std::collections::HashSet::new();
            for r in &t.requirements {
                assert!(ids.insert(&r.id), "{id}: {} twice", r.id);
                assert_eq!(
                    r.proof == Proof::Steps,
                    !r.steps.is_empty(),
                    "{id}: {} lists steps exactly when proved by steps",
                    r.id
                );
                for name in &r.steps {
                    let (suite, step) = name.split_once("::").unwrap();
                    assert!(
                        t.suites.iter().any(|s| s == suite),
                        "{id}: {name}: suite not run"
                    );
                    let s = suites.iter().find(|s| s.name == suite);
                    assert!(
                        s.is_some_and(|s| s.steps.iter().any(|st| st.name == step)),
                        "{id}: {name} is not a step of the built-in suites"
                    );
                }
                let key = r.source.split([' ', ';', '(']).next().unwrap_or("");
                assert!(t.sources.contains_key(key), "{id}: {}: source {key}", r.id);
            }
        }
    }

    #[test]
    fn an_unknown_programme_names_the_known_ones() {
        let e = table("nope").unwrap_err().to_string();
        assert!(e.contains("entra-gallery") && e.contains("okta-oin"), "{e}");
    }
}
