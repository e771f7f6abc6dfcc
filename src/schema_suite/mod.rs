//! Suites that write themselves from what a server declares: for each
//! resource type in `/ResourceTypes`, one suite that checks every attribute
//! of its schema and extensions (from `/Schemas`) as the declaration says
//! (mutability, returned, required, uniqueness, caseExact, canonicalValues,
//! type).
//!
//! The suites are ordinary suites: [`plan`] writes each as YAML (readable,
//! editable, committable), and [`generate`] loads that text with the suite
//! loader, so what runs in memory is exactly what `schema-suite --out`
//! writes. Every step's `why:` names the declaration it tests; what cannot
//! be sent sensibly (binary values, references to unknown types) is listed
//! with the reason in the suite's description, never guessed.

mod build;
pub mod decl;
mod values;

use std::path::PathBuf;

use serde_json::Value;

use crate::http::{Client, HttpError, Request};
use crate::suite::{self, Suite};

/// The `idp:` of the generated suites (a row of `profile::PROFILES`).
pub const PROFILE: &str = "schema";

/// Why no suite could be generated.
#[derive(Debug, thiserror::Error)]
pub enum GenError {
    /// `/Schemas` or `/ResourceTypes` did not say enough.
    #[error("{0}")]
    Declarations(String),
    /// The discovery endpoints could not be read.
    #[error("GET {path}: {detail}")]
    Fetch { path: String, detail: String },
    /// A generated suite did not load: a bug in the generator.
    #[error("the suite generated for {name} does not load (a scimitar bug): {detail}")]
    Invalid { name: String, detail: String },
    #[error(transparent)]
    Http(#[from] HttpError),
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server filters (`/ServiceProviderConfig` `filter.supported`):
    /// generate the `caseExact` checks, which need a filter.
    pub filter: bool,
    /// The server supports PATCH: generate the PATCH replace/remove checks.
    pub patch: bool,
    /// Only these resource types (by name, any case); empty means all.
    pub only: Vec<String>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            filter: true,
            patch: true,
            only: Vec::new(),
        }
    }
}

/// What one declaration is checked for, or why it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// `urn:…:User:name.middleName`
    pub declaration: String,
    /// The checks generated for it (`create`, `put`, `patch-replace`, …).
    pub checks: Vec<String>,
    /// Why it is not sent, if it is not.
    pub skipped: Option<String>,
}

/// One generated suite, as YAML text and what it covers.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The suite's name (`schema-user`).
    pub name: String,
    /// The resource type it tests (`User`).
    pub resource_type: String,
    /// The suite file's text.
    pub yaml: String,
    pub coverage: Vec<Coverage>,
}

impl Planned {
    /// Loads the text as the suite loader does (`path` names it in errors
    /// and in reports).
    pub fn load(&self, path: PathBuf) -> Result<Suite, GenError> {
        suite::load_str(&path, &self.yaml).map_err(|errs| GenError::Invalid {
            name: self.name.clone(),
            detail: errs
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        })
    }
}

/// The suites for every resource type, as text.
pub fn plan(
    schemas: &Value,
    resource_types: &Value,
    opts: &Options,
) -> Result<Vec<Planned>, GenError> {
    let schemas = decl::schemas(schemas)?;
    let rts = decl::resource_types(resource_types)?;
    let mut out = Vec::new();
    for rt in &rts {
        if !opts.only.is_empty() && !opts.only.iter().any(|o| o.eq_ignore_ascii_case(&rt.name)) {
            continue;
        }
        out.push(build::suite(rt, &rts, &schemas, opts)?);
    }
    if out.is_empty() {
        return Err(GenError::Declarations(format!(
            "no resource type to generate for (declared: {})",
            rts.iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(out)
}

/// The suites for every resource type, ready to run.
pub fn generate(
    schemas: &Value,
    resource_types: &Value,
    opts: &Options,
) -> Result<Vec<Suite>, GenError> {
    plan(schemas, resource_types, opts)?
        .iter()
        .map(|p| p.load(in_memory_path(&p.name)))
        .collect()
}

/// The name a generated suite goes by when it was never written to a file.
pub fn in_memory_path(name: &str) -> PathBuf {
    PathBuf::from(format!("<generated from /Schemas>/{name}.yaml"))
}

/// Reads `/Schemas` and `/ResourceTypes` with the run's client.
pub async fn fetch(client: &Client) -> Result<(Value, Value), GenError> {
    let mut got = Vec::new();
    for path in ["/Schemas", "/ResourceTypes"] {
        let ex = client
            .send(&Request::new(reqwest::Method::GET, path))
            .await?;
        match (ex.response.status, ex.response.json) {
            (200, Some(v)) => got.push(v),
            (status, _) => {
                return Err(GenError::Fetch {
                    path: path.into(),
                    detail: format!("answered {status} without a JSON body to read"),
                });
            }
        }
    }
    let rts = got.pop().unwrap_or_default();
    let schemas = got.pop().unwrap_or_default();
    Ok((schemas, rts))
}

/// Fetches the declarations and plans the suites, as a run or `list` needs.
pub async fn fetch_and_plan(client: &Client, opts: &Options) -> Result<Vec<Planned>, GenError> {
    let (schemas, rts) = fetch(client).await?;
    plan(&schemas, &rts, opts)
}

/// For `run --idp schema`: the generated suites, loaded, with the PATCH and
/// filter checks only where discovery did not say they are unsupported.
pub async fn for_run(
    client: &Client,
    caps: &crate::runner::Capabilities,
) -> Result<Vec<Suite>, GenError> {
    use crate::suite::Capability;
    let opts = Options {
        filter: caps.get(Capability::Filter) != Some(false),
        patch: caps.get(Capability::Patch) != Some(false),
        only: Vec::new(),
    };
    // Discovery read both already; ask again only if it could not.
    let planned = match (&caps.schemas_body, &caps.resource_types_body) {
        (Some(schemas), Some(rts)) => plan(schemas, rts, &opts)?,
        _ => fetch_and_plan(client, &opts).await?,
    };
    planned
        .iter()
        .map(|p| p.load(in_memory_path(&p.name)))
        .collect()
}
