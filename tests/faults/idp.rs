//! The IdP catalogue: the shipped IdP suites catch servers that break an
//! IdP, and tolerate what the IdPs tolerate (204 on PATCH, reordered
//! multi-valued attributes, extra attributes, Okta's and OneLogin's 404 for
//! "no match").

use axum::http::Method;
use serde_json::{Value, json};

use crate::support::proxy::{Fault, Resp, error};
use crate::support::{IDP_DIRS, IDP_SUITES};
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
                // The rest of that suite still runs: disabling also sends
                // "Replace", so it fails on its own, in the same run.
                Expect::Step("entra-legacy-users::disable-user", "failed"),
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
            // A real API documents both.
            fault: Fault::response("create and DELETE answer 200", |req, resp| {
                if req.method == Method::POST && resp.status == 201 {
                    resp.status = 200;
                }
                if req.method == Method::DELETE && resp.status == 204 {
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
                // The 200 created a user all the same: the lifecycle goes on,
                // so the 200 on DELETE is found in the same run …
                Expect::Step("entra-users::read-user", "passed"),
                Expect::Step("entra-users::delete-user", "failed"),
                Expect::Says(
                    "entra-users::delete-user",
                    "✗ status: expected 204, got 200",
                ),
                // … and everything the 200s created was tracked and removed.
                Expect::Report("nothing left behind", all_cleaned),
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
            // Three independent bugs in one suite pair: all three reported in
            // one run, with no cascade (issue 13).
            fault: Fault::request(
                "ADSCIM create, Remove by value list and \"False\" refused",
                |r| {
                    let adscim = r.method == Method::POST
                        && r.body
                            .as_ref()
                            .is_some_and(|b| b["schemas"].to_string().contains("ADSCIM"));
                    if adscim {
                        return Some(scim_error(400, "unknown schema"));
                    }
                    let refused = r.patch_ops().iter().any(|o| {
                        let remove_list = o["op"].as_str() == Some("Remove")
                            && o["path"].as_str() == Some("members")
                            && o["value"].is_array();
                        remove_list || o["value"] == json!("False")
                    });
                    refused.then(|| scim_error(400, "unsupported operation value"))
                },
            ),
            token: None,
            suites: &[
                "suites/entra/legacy-groups.yaml",
                "suites/entra/legacy-users.yaml",
            ],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("entra-legacy-groups::create-group", "failed"),
                Expect::Step("entra-legacy-groups::remove-member-by-value-list", "failed"),
                // It too removes a member by value list.
                Expect::Step("entra-legacy-groups::add-and-remove-in-one-patch", "failed"),
                Expect::Step("entra-legacy-users::disable-user", "failed"),
                // What depends on a refused step is skipped, not failed again.
                Expect::Step(
                    "entra-legacy-groups::verify-only-listed-member-removed",
                    "skipped",
                ),
                Expect::Says("entra-legacy-groups::create-group", "fallback: POST"),
                Expect::Says("entra-legacy-groups::create-group", "unknown schema"),
                Expect::Report(
                    "no cascade: only the faulty requests fail",
                    only_faulty_failed,
                ),
                Expect::Report("nothing left behind", all_cleaned),
            ],
        },
        Case {
            catalogue: "idp",
            // DELETE answers 204 but removes nothing.
            fault: Fault::request("soft delete", |r| {
                (r.method == Method::DELETE).then(|| Resp::empty(204))
            }),
            token: None,
            suites: &["suites/okta/users.yaml"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Report(
                    "the soft delete is listed as left behind",
                    soft_delete_listed,
                ),
                Expect::Report("the userName lookup's two users too", lookup_users_listed),
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
            suites: &[
                "suites/okta/users.yaml",
                "suites/entra/users.yaml",
                "suites/onelogin/users.yaml",
            ],
            args: vec![],
            expect: vec![
                // Okta accepts it: only an advisory finding in the Okta suite …
                Expect::Step("okta-users::match-user-none", "passed"),
                Expect::Step("okta-users::match-user-none-is-empty-list", "advisory"),
                Expect::Others("okta-users", "passed"),
                // OneLogin documents both answers for "no match" ([OL-IMPL]).
                Expect::Others("onelogin-users", "passed"),
                // … while Entra's Test Connection needs the empty list.
                Expect::Step("entra-users::test-connection", "failed"),
                Expect::Exit(1),
                Expect::Rerun(&["suites/okta/users.yaml"], &[], 0),
                Expect::Rerun(&["suites/okta/users.yaml"], &["--strict"], 1),
            ],
        },
        Case {
            catalogue: "idp",
            // pond/scimitar#142: a server that insists on application/scim+json.
            fault: Fault::request("application/json bodies refused with 415", |r| {
                let json = r
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/json"));
                (json && r.body.is_some())
                    .then(|| scim_error(415, "expected application/scim+json"))
            }),
            token: None,
            suites: &["suites/google-workspace"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("google-workspace-users::create-user", "failed"),
                Expect::Step("google-workspace-users::update-user-put", "failed"),
                Expect::Step("google-workspace-users::suspend-user", "failed"),
                Expect::Step("google-workspace-users::update-user-patch", "advisory"),
                Expect::Says("google-workspace-users::create-user", "got 415"),
                Expect::Says(
                    "google-workspace-users::create-user",
                    "why it matters: Google creates with Content-Type application/json",
                ),
                // The fallback (application/scim+json) created the user, so the
                // rest of the lifecycle ran (the delete included); what verifies a
                // refused write is skipped, not failed again.
                Expect::Says("google-workspace-users::create-user", "fallback: POST"),
                // The lookup only needs the id: it runs against the fallback user.
                Expect::Step("google-workspace-users::lookup-match", "passed"),
                Expect::Step("google-workspace-users::verify-update", "skipped"),
                Expect::Step("google-workspace-users::verify-suspended", "skipped"),
                Expect::Step("google-workspace-users::delete-user", "passed"),
                Expect::Others("google-workspace-users", "passed"),
            ],
        },
        Case {
            catalogue: "idp",
            // A server that reports the page's size as the total.
            fault: Fault::response("/Groups totalResults counts only the page", |req, resp| {
                if req.method == Method::GET
                    && req.scim_path() == "/Groups"
                    && let Some(j) = resp.body.as_mut()
                {
                    let n = j["Resources"].as_array().map_or(0, Vec::len);
                    j["totalResults"] = json!(n);
                }
            }),
            token: None,
            suites: &["suites/pingfederate"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("pingfederate-groups::list-groups-first-page", "failed"),
                Expect::Step("pingfederate-groups::list-groups-second-page", "failed"),
                Expect::Says(
                    "pingfederate-groups::list-groups-first-page",
                    "why it matters: The Provisioner finds a group by listing every group",
                ),
                Expect::Others("pingfederate-groups", "passed"),
                Expect::Others("pingfederate-users", "passed"),
            ],
        },
        Case {
            catalogue: "idp",
            // A strict parser: operators must be lowercase.
            fault: Fault::request("capitalised filter operators refused", |r| {
                r.param("filter")
                    .is_some_and(|f| f.contains(" Eq "))
                    .then(|| error(400, "invalidFilter"))
            }),
            token: None,
            suites: &["suites/pingfederate/users.yaml"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("pingfederate-users::match-user-capitalised-eq", "failed"),
                Expect::Step("pingfederate-users::match-user", "failed"),
                Expect::Says(
                    "pingfederate-users::match-user-capitalised-eq",
                    "why it matters: PingOne's filter expressions",
                ),
                Expect::Others("pingfederate-users", "passed"),
            ],
        },
        Case {
            catalogue: "idp",
            // A deserialiser that wants an array for every multi-valued attribute.
            fault: Fault::request("null multi-valued attribute refused", |r| {
                let null = r
                    .body
                    .as_ref()
                    .and_then(Value::as_object)
                    .is_some_and(|o| o.values().any(Value::is_null));
                null.then(|| error(400, "invalidSyntax"))
            }),
            token: None,
            suites: &["suites/jumpcloud/users.yaml"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("jumpcloud-users::update-put-minimal-null-emails", "failed"),
                Expect::Says(
                    "jumpcloud-users::update-put-minimal-null-emails",
                    "why it matters: JumpCloud's minimal PUT carries \"emails\": null",
                ),
                Expect::Others("jumpcloud-users", "passed"),
            ],
        },
        Case {
            catalogue: "idp",
            // A server that takes members only through PATCH.
            fault: Fault::request("group create with members refused", |r| {
                let with_members = r.method == Method::POST
                    && r.scim_path() == "/Groups"
                    && r.body
                        .as_ref()
                        .is_some_and(|b| b["members"].as_array().is_some_and(|m| !m.is_empty()));
                with_members.then(|| error(400, "invalidValue"))
            }),
            token: None,
            suites: &["suites/jumpcloud/groups.yaml"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("jumpcloud-groups::create-group", "failed"),
                Expect::Says(
                    "jumpcloud-groups::create-group",
                    "why it matters: JumpCloud never pushes an empty group",
                ),
                Expect::Says("jumpcloud-groups::create-group", "fallback: POST"),
                // The match only needs the id: it runs against the fallback group.
                Expect::Step("jumpcloud-groups::match-group-by-name", "passed"),
                Expect::Others("jumpcloud-groups", "passed"),
            ],
        },
        Case {
            catalogue: "idp",
            // A strict query parser that refuses an empty parameter.
            fault: Fault::request("trailing '&' in the query refused", |r| {
                r.raw_query
                    .as_deref()
                    .is_some_and(|q| q.ends_with('&'))
                    .then(|| error(400, "invalidSyntax"))
            }),
            token: None,
            suites: &["suites/onelogin/users.yaml"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("onelogin-users::lookup-none", "failed"),
                Expect::Step("onelogin-users::lookup-match", "failed"),
                Expect::Says(
                    "onelogin-users::lookup-none",
                    "why it matters: OneLogin looks each user up as filter=userName+eq",
                ),
                Expect::Others("onelogin-users", "passed"),
            ],
        },
        Case {
            catalogue: "idp",
            // goauthentik/authentik#11249: its SCIM source had no PATCH.
            fault: Fault::request("PATCH on /Groups answers 405", |r| {
                (r.method == Method::PATCH && r.is_item("/Groups"))
                    .then(|| scim_error(405, "method not allowed"))
            }),
            token: None,
            suites: &["suites/onelogin"],
            args: vec![],
            expect: vec![
                Expect::Exit(1),
                Expect::Step("onelogin-groups::add-member-patch", "failed"),
                Expect::Step("onelogin-groups::verify-member", "skipped"),
                Expect::Says("onelogin-groups::add-member-patch", "got 405"),
                Expect::Others("onelogin-groups", "passed"),
                Expect::Others("onelogin-users", "passed"),
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
            suites: &IDP_DIRS,
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

fn cleanups(report: &Value) -> Vec<&Value> {
    report["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["cleanup"].as_array().into_iter().flatten())
        .collect()
}

/// Something was tracked, and every DELETE took (and was read back gone).
fn all_cleaned(report: &Value) -> Result<(), String> {
    let c = cleanups(report);
    if c.is_empty() {
        return Err("nothing was tracked for cleanup".into());
    }
    let bad: Vec<&&Value> = c
        .iter()
        .filter(|c| {
            // The DELETE's status, however the report spells it.
            let status = c["outcome"]["Ok"]
                .as_u64()
                .or_else(|| c["outcome"].as_u64())
                .or_else(|| c["status"].as_u64());
            let deleted = status.is_some_and(|s| (200..300).contains(&s) || s == 404);
            c.get("still_there").is_some() || !deleted
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!("left behind: {bad:?}"))
    }
}

fn soft_delete_listed(report: &Value) -> Result<(), String> {
    let c = cleanups(report);
    if c.iter().any(|c| {
        c["still_there"]
            .as_str()
            .is_some_and(|s| s.contains("still returns it"))
    }) {
        Ok(())
    } else {
        Err(format!(
            "no cleanup entry says the resource is still there: {c:?}"
        ))
    }
}

fn lookup_users_listed(report: &Value) -> Result<(), String> {
    let c = report["lookup"]["cleanup"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let still = c
        .iter()
        .filter(|c| c["still_there"].as_str().is_some() && c["cleaned"] == json!(false))
        .count();
    if still == 2 {
        Ok(())
    } else {
        Err(format!(
            "the lookup's users are not both listed as left behind: {c:?}"
        ))
    }
}

fn only_faulty_failed(report: &Value) -> Result<(), String> {
    const FAULTY: [&str; 4] = [
        "create-group",
        "remove-member-by-value-list",
        "add-and-remove-in-one-patch",
        "disable-user",
    ];
    let cascade: Vec<String> = report["suites"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| {
            s["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|st| {
                    st["outcome"] == "failed"
                        && !FAULTY.contains(&st["name"].as_str().unwrap_or(""))
                })
                .map(move |st| format!("{}::{}", s["name"], st["name"]))
        })
        .collect();
    if cascade.is_empty() {
        Ok(())
    } else {
        Err(format!("cascade failures: {cascade:?}"))
    }
}
