//! The IdP catalogue: the shipped Entra ID and Okta suites catch servers
//! that break an IdP, and tolerate what the IdPs tolerate (204 on PATCH,
//! reordered multi-valued attributes, extra attributes, Okta's 404 for "no
//! match").

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::IDP_SUITES;
use crate::support::proxy::{Fault, Resp};
use crate::{Case, Expect};

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            catalogue: "idp",
            // As a strict server would.
            fault: Fault::request("PATCH ops with a capital letter rejected", |r| {
                let capitalised = |op: &Value| {
                    op["op"]
                        .as_str()
                        .is_some_and(|s| s.chars().any(char::is_uppercase))
                };
                r.patch_ops_mut()
                    .is_some_and(|ops| ops.iter().any(capitalised))
                    .then(|| scim_error(400, "invalid op: expected add, remove or replace"))
            }),
            token: None,
            suites: &["suites/entra"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("entra-legacy-users::patch-multi-valued", "failed"),
                Expect::Step("entra-legacy-groups::rename-group", "failed"),
                Expect::Says("entra-legacy-users::patch-multi-valued", "got 400"),
                Expect::Says(
                    "entra-legacy-users::patch-multi-valued",
                    "why it matters: Entra sends op \"Replace\"",
                ),
                // The rest of that suite is skipped, not run against broken state.
                Expect::Step("entra-legacy-users::disable-user", "skipped"),
                // The aadOptscim062020 dialect sends lowercase ops: untouched by this fault.
                Expect::Others("entra-users", "passed"),
                Expect::Others("entra-groups", "passed"),
            ],
        },
        Case {
            catalogue: "idp",
            fault: Fault::response(
                "enterprise manager returned as the plain id string",
                |_, resp| {
                    let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
                    if let Some(m) = resp
                        .body
                        .as_mut()
                        .and_then(|j| j.get_mut(ext))
                        .and_then(|e| e.get_mut("manager"))
                        && let Some(id) = m.get("value").cloned()
                    {
                        *m = id;
                    }
                },
            ),
            token: None,
            suites: &["suites/entra/users.yaml"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("entra-users::set-manager-documented-array", "passed"),
                Expect::Step("entra-users::read-manager-complex-form", "failed"),
                Expect::Says(
                    "entra-users::read-manager-complex-form",
                    "expected a object, got \"",
                ),
                Expect::Says(
                    "entra-users::read-manager-complex-form",
                    "why it matters: Entra reads manager back as the complex",
                ),
            ],
        },
        Case {
            catalogue: "idp",
            fault: Fault::response("create answers 200 instead of 201", |req, resp| {
                if req.method == Method::POST && resp.status == 201 {
                    resp.status = 200;
                }
            }),
            token: None,
            suites: &["suites/entra/users.yaml", "suites/okta/users.yaml"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("entra-users::create-user", "failed"),
                Expect::Step("okta-users::create-user", "failed"),
                Expect::Says(
                    "entra-users::create-user",
                    "✗ status: expected 201, got 200",
                ),
                Expect::Says(
                    "entra-users::create-user",
                    "why it matters: Entra sends meta",
                ),
            ],
        },
        Case {
            catalogue: "idp",
            // azure-docs#30826.
            fault: Fault::request("remove on members wipes every member", |r| {
                for o in r.patch_ops_mut().into_iter().flatten() {
                    let remove = o["op"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("remove"));
                    let members = o["path"]
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("members"));
                    if remove
                        && members
                        && let Some(obj) = o.as_object_mut()
                    {
                        obj.remove("value");
                    }
                }
                None
            }),
            token: None,
            suites: &["suites/entra/legacy-groups.yaml"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                // The PATCH itself "succeeds"; the read-back shows the damage.
                Expect::Step("entra-legacy-groups::remove-member-by-value-list", "passed"),
                Expect::Step(
                    "entra-legacy-groups::verify-only-listed-member-removed",
                    "failed",
                ),
                Expect::Says(
                    "entra-legacy-groups::verify-only-listed-member-removed",
                    "azure-docs#30826",
                ),
            ],
        },
        Case {
            catalogue: "idp",
            // Okta tolerates it: an advisory finding, not a failure.
            fault: Fault::response("404 for a filter that matches nothing", |req, resp| {
                if req.method == Method::GET
                    && req.param("filter").is_some()
                    && resp
                        .body
                        .as_ref()
                        .is_some_and(|j| j["totalResults"] == json!(0))
                {
                    *resp = scim_error(404, "User not found");
                }
            }),
            token: None,
            suites: &["suites/okta/users.yaml", "suites/entra/users.yaml"],
            args: vec![],
            expect: vec![
                // Okta accepts it: only an advisory finding in the Okta suite …
                Expect::Step("okta-users::match-user-none", "passed"),
                Expect::Step("okta-users::match-user-none-is-empty-list", "advisory"),
                Expect::Others("okta-users", "passed"),
                // … while Entra's Test Connection needs the empty list.
                Expect::Step("entra-users::test-connection", "failed"),
                Expect::Exit(1),
                Expect::Rerun(&["suites/okta/users.yaml"], &[], 0),
                Expect::Rerun(&["suites/okta/users.yaml"], &["--strict"], 1),
            ],
        },
        Case {
            catalogue: "idp",
            // RFC-legal: PATCH answers 204 with no body, multi-valued
            // attributes come back reversed, and resources carry an extra
            // attribute. No alarm.
            fault: Fault::response("RFC-legal variations", |req, resp| {
                if req.method == Method::PATCH && resp.status == 200 {
                    *resp = Resp::empty(204);
                    return;
                }
                if let Some(j) = resp.body.as_mut() {
                    reverse_arrays(j);
                    if let Some(o) = j.as_object_mut()
                        && o.contains_key("id")
                    {
                        o.insert("urn:example:vendor:extra".into(), json!({"tier": "gold"}));
                    }
                }
            }),
            token: None,
            suites: &["suites/entra", "suites/okta"],
            args: vec![],
            expect: vec![
                Expect::Exit(0),
                Expect::Steps(IDP_SUITES.iter().map(|(_, n)| n).sum()),
                Expect::Others("*", "passed"),
                Expect::Report("the variations really were served", variations_served),
            ],
        },
    ]
}

/// A SCIM error with a detail and no scimType.
fn scim_error(status: u16, detail: &str) -> Resp {
    Resp::scim(
        status,
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": status.to_string(), "detail": detail}),
        ),
    )
}

fn reverse_arrays(v: &mut Value) {
    match v {
        Value::Array(items) => {
            items.reverse();
            items.iter_mut().for_each(reverse_arrays);
        }
        Value::Object(m) => m.values_mut().for_each(reverse_arrays),
        _ => {}
    }
}

/// PATCH answered 204 and resources carried the extra attribute.
fn variations_served(report: &Value) -> Result<(), String> {
    let exchanges: Vec<&Value> = report["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["steps"].as_array().into_iter().flatten())
        .filter_map(|st| st.get("exchange"))
        .collect();
    let patch_204 = exchanges
        .iter()
        .filter(|e| e["request"]["method"] == "PATCH" && e["response"]["status"] == 204)
        .count();
    if patch_204 < 30 {
        return Err(format!("only {patch_204} PATCH answered 204"));
    }
    if !exchanges.iter().any(|e| {
        e["response"]["body"]
            .as_str()
            .is_some_and(|b| b.contains("urn:example:vendor:extra"))
    }) {
        return Err("no extra attribute was served".into());
    }
    Ok(())
}
