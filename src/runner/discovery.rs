//! Discovery: what the server says it supports, read once per run from
//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`.

use serde_json::Value;

use crate::http::{Client, HttpError, Request};
use crate::results::{SchemasJudged, SkipReason};
use crate::scim::declared::Declared;
use crate::suite::Capability;

/// What the server says it supports; `None` where it did not say.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    values: Vec<(Capability, Option<bool>)>,
    /// Why discovery learned nothing, if it did not.
    pub note: Option<String>,
    /// The resource types and schemas the server declares in `/Schemas`
    /// and `/ResourceTypes`; RFC 7643's when it publishes no `/Schemas`.
    pub declared: Declared,
    /// Why `declared` is RFC 7643's, when it is.
    pub schemas_note: Option<String>,
    /// The `/Schemas` and `/ResourceTypes` bodies as answered (200 with
    /// JSON), for what reads them beyond judging (the schema profile).
    pub schemas_body: Option<Value>,
    pub resource_types_body: Option<Value>,
    /// The `/ServiceProviderConfig` exchange: the run's first contact.
    pub contact: Option<crate::http::Exchange>,
}

impl Capabilities {
    pub fn get(&self, c: Capability) -> Option<bool> {
        self.values
            .iter()
            .find(|(k, _)| *k == c)
            .and_then(|(_, v)| *v)
    }

    pub fn set(&mut self, c: Capability, v: Option<bool>) {
        self.values.retain(|(k, _)| *k != c);
        self.values.push((c, v));
    }

    /// Whose schemas judge this run, for the results.
    pub fn schemas_judged(&self) -> SchemasJudged {
        SchemasJudged {
            source: if self.declared.published() {
                "server"
            } else {
                "rfc7643"
            }
            .into(),
            ids: self.declared.schemas.iter().map(|s| s.id.clone()).collect(),
            why: (!self.declared.published()).then(|| {
                self.schemas_note
                    .clone()
                    .unwrap_or_else(|| "discovery did not read /Schemas".into())
            }),
        }
    }

    /// Why a suite needing `requires` cannot run here, if it cannot.
    /// Unknown capabilities are assumed present: a missing answer is a
    /// finding for the discovery suites, not a reason to test less.
    pub fn unmet(&self, requires: &[Capability]) -> Option<SkipReason> {
        let missing: Vec<String> = requires
            .iter()
            .filter(|c| self.get(**c) == Some(false))
            .map(|c| c.to_string())
            .collect();
        (!missing.is_empty()).then_some(SkipReason::Unsupported {
            capabilities: missing,
        })
    }
}

/// Reads `/ServiceProviderConfig` and `/ResourceTypes` once for the run. Only
/// a failure to reach the server is an error.
pub async fn discover(client: &Client) -> Result<Capabilities, HttpError> {
    let mut caps = Capabilities::default();
    let spc = client
        .send(&Request::new(
            reqwest::Method::GET,
            "/ServiceProviderConfig",
        ))
        .await?;
    caps.contact = Some(spc.clone());
    match (&spc.response.json, spc.response.status) {
        (Some(v), 200) => {
            let flag = |k: &str| {
                v.get(k)
                    .and_then(|o| o.get("supported"))
                    .and_then(Value::as_bool)
            };
            caps.set(Capability::Patch, flag("patch"));
            caps.set(Capability::Filter, flag("filter"));
            caps.set(Capability::Sort, flag("sort"));
            caps.set(Capability::Etag, flag("etag"));
            caps.set(Capability::Bulk, flag("bulk"));
            caps.set(Capability::ChangePassword, flag("changePassword"));
        }
        (_, status) if (300..400).contains(&status) => {
            caps.note = Some(format!(
                "GET /ServiceProviderConfig was redirected ({status}) to {}; scimitar does not follow redirects: check --url. Capabilities assumed",
                spc.response.header("location").unwrap_or("nowhere")
            ))
        }
        (_, status) => {
            caps.note = Some(format!(
                "GET /ServiceProviderConfig answered {status} without a usable body; capabilities assumed"
            ))
        }
    }
    let rt = client
        .send(&Request::new(reqwest::Method::GET, "/ResourceTypes"))
        .await?;
    // /Schemas is optional (RFC 7644 §4): a server that cannot answer it is
    // judged by RFC 7643's schemas, and the run goes on.
    let schemas = client
        .send(&Request::new(reqwest::Method::GET, "/Schemas"))
        .await;
    let types = rt
        .response
        .json
        .as_ref()
        .filter(|_| rt.response.status == 200);
    caps.resource_types_body = types.cloned();
    if let Ok(ex) = &schemas
        && ex.response.status == 200
    {
        caps.schemas_body.clone_from(&ex.response.json);
    }
    match &schemas {
        Err(e) => caps.schemas_note = Some(format!("GET /Schemas failed: {e}")),
        Ok(ex) => match (&ex.response.json, ex.response.status) {
            (Some(v), 200) => match Declared::from_server(v, types) {
                Some(d) => caps.declared = d,
                None => {
                    caps.schemas_note =
                        Some("GET /Schemas declared no schema with attributes".into())
                }
            },
            (_, 200) => caps.schemas_note = Some("GET /Schemas answered 200 without JSON".into()),
            (_, status) => caps.schemas_note = Some(format!("GET /Schemas answered {status}")),
        },
    }
    if let (Some(v), 200) = (&rt.response.json, rt.response.status) {
        let types: Vec<&Value> = match v.get("Resources") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ if v.is_array() => v.as_array().map(|a| a.iter().collect()).unwrap_or_default(),
            _ => Vec::new(),
        };
        if !types.is_empty() {
            let has_groups = types.iter().any(|t| {
                t.get("name").and_then(Value::as_str) == Some("Group")
                    || t.get("endpoint")
                        .and_then(Value::as_str)
                        .is_some_and(|e| e.trim_end_matches('/').ends_with("/Groups"))
            });
            let has_ext = types.iter().any(|t| {
                t.get("schemaExtensions")
                    .and_then(Value::as_array)
                    .is_some_and(|exts| {
                        exts.iter().any(|e| {
                            e.get("schema").and_then(Value::as_str)
                                == Some(crate::scim::urn::ENTERPRISE_USER)
                        })
                    })
            });
            caps.set(Capability::Groups, Some(has_groups));
            caps.set(Capability::EnterpriseUser, Some(has_ext));
        }
    }
    Ok(caps)
}
