//! The RFC catalogue: each fault breaks one RFC 7643/7644 rule, and the
//! named step of `suites/rfc` must fail against it (or, for an advisory
//! step, be reported as advisory). A transparent proxy must pass every step,
//! so the failures come from the faults, not from the proxy.

use std::path::PathBuf;
use std::sync::OnceLock;

use axum::http::{HeaderValue, Method, header};
use serde_json::{Value, json};

use crate::support::proxy::{Fault, Req, Resp, error, pass_req, pass_resp};
use crate::{Case, Expect};

const TOKEN: &str = "rfc-faults-token";

/// A fault and the `suite::step` that must catch it.
struct RfcFault {
    /// What the faulty server gets wrong.
    what: &'static str,
    /// `suite::step` that must catch it.
    step: &'static str,
    on_request: fn(&mut Req) -> Option<Resp>,
    on_response: fn(&Req, &mut Resp),
}

/// Every RFC fault, then the legal variants: no fault at all, and a server
/// that honestly advertises fewer features.
pub fn cases() -> Vec<Case> {
    let mut cases = vec![
        Case {
            catalogue: "rfc",
            fault: Fault::response("transparent proxy", pass_resp),
            token: Some(TOKEN),
            suites: &["suites/rfc"],
            args: vec!["-q"],
            expect: vec![
                Expect::Exit(0),
                Expect::Others("*", "passed"),
                Expect::AtLeastSteps(151),
            ],
        },
        modest(),
    ];
    cases.extend(declined().into_iter().map(|f| Case {
        catalogue: "rfc",
        fault: Fault {
            what: f.what,
            on_request: f.on_request,
            on_response: f.on_response,
        },
        token: Some(TOKEN),
        suites: &["suites/rfc"],
        args: vec!["-q", f.step],
        // RFC 7644 §3.12: declining an unsupported attribute/operator
        // combination with invalidFilter is legal: not checked, not failed.
        expect: vec![Expect::Exit(0), Expect::Step(f.step, "skipped")],
    }));
    cases.extend(faults().into_iter().map(|f| Case {
        catalogue: "rfc",
        fault: Fault {
            what: f.what,
            on_request: f.on_request,
            on_response: f.on_response,
        },
        token: Some(TOKEN),
        suites: &["suites/rfc"],
        args: vec!["-q", f.step],
        expect: vec![Expect::Step(
            f.step,
            if advisory_step(f.step) {
                "advisory"
            } else {
                "failed"
            },
        )],
    }));
    cases
}

/// A server that says it lacks PATCH, sort, ETags, Bulk and Groups: the
/// suites needing them are skipped with the reason, the rest still pass.
fn modest() -> Case {
    let needs_missing = [
        "rfc-patch",
        "rfc-patch-extension",
        "rfc-sorting",
        "rfc-etag",
        "rfc-bulk",
        "rfc-groups",
        "rfc-groups-filter",
        "rfc-discovery-groups",
        "rfc-ids",
    ];
    let mut expect = vec![Expect::Exit(0), Expect::Others("*", "passed")];
    expect.extend(
        needs_missing
            .into_iter()
            .map(|s| Expect::Skipped(s, "does not support")),
    );
    Case {
        catalogue: "rfc",
        fault: Fault::response(
            "advertises no patch, sort, etag, bulk or groups",
            |req, resp| {
                let Some(b) = resp.body.as_mut() else {
                    return;
                };
                match req.scim_path() {
                    "/ServiceProviderConfig" => {
                        for f in ["patch", "sort", "etag", "bulk"] {
                            b[f]["supported"] = json!(false);
                        }
                    }
                    "/ResourceTypes" => {
                        if let Some(items) = b.get_mut("Resources").and_then(Value::as_array_mut) {
                            items.retain(|t| t["name"] != "Group");
                            let n = items.len();
                            b["totalResults"] = json!(n);
                            b["itemsPerPage"] = json!(n);
                        }
                    }
                    _ => {}
                }
            },
        ),
        token: Some(TOKEN),
        suites: &["suites/rfc"],
        args: vec!["-q"],
        expect,
    }
}

fn suites_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("suites/rfc")
}

/// Whether `suite::step` of suites/rfc is advisory (it then reports the
/// fault as advisory instead of failing).
fn advisory_step(id: &str) -> bool {
    static SUITES: OnceLock<Vec<scimitar::suite::Suite>> = OnceLock::new();
    let suites = SUITES
        .get_or_init(|| scimitar::suite::load_paths(&[suites_dir()]).expect("the RFC suites load"));
    let (suite, step) = id.split_once("::").expect("suite::step");
    suites
        .iter()
        .find(|s| s.name == suite)
        .and_then(|s| s.steps.iter().find(|st| st.name == step))
        .unwrap_or_else(|| panic!("no step {id} in suites/rfc"))
        .advisory
}

/// The filter with `from` replaced by `to`, if the request has one.
fn rewrite_filter(r: &mut Req, f: impl Fn(&str) -> String) {
    if let Some(flt) = r.param("filter").map(f) {
        r.set_param("filter", flt);
    }
}

/// Applies `f` to every PATCH operation of the request.
fn for_each_op(r: &mut Req, f: impl Fn(&mut Value)) {
    if r.method != Method::PATCH {
        return;
    }
    if let Some(ops) = r
        .body
        .as_mut()
        .and_then(|b| b.get_mut("Operations"))
        .and_then(Value::as_array_mut)
    {
        ops.iter_mut().for_each(f);
    }
}

/// Puts a `remove name` before the PATCH operations `which` selects: what a
/// server does when it replaces a complex attribute instead of merging into it.
fn clear_name_first(r: &mut Req, which: impl Fn(&Value) -> bool) {
    if r.method != Method::PATCH {
        return;
    }
    if let Some(ops) = r
        .body
        .as_mut()
        .and_then(|b| b.get_mut("Operations"))
        .and_then(Value::as_array_mut)
        && let Some(i) = ops.iter().position(&which)
    {
        ops.insert(i, json!({"op": "remove", "path": "name"}));
    }
}

/// Ids of users deleted through the "stays in its groups" fault's proxy.
fn deleted_users() -> &'static std::sync::Mutex<Vec<String>> {
    static IDS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    &IDS
}

/// State for the faults that remember earlier requests. Keys carry the
/// fault's own prefix.
fn seen_keys() -> std::sync::MutexGuard<'static, Vec<String>> {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    SEEN.lock().expect("seen")
}

/// Whether `key` was seen before; remembers it.
fn seen_before(key: String) -> bool {
    let mut seen = seen_keys();
    if seen.contains(&key) {
        return true;
    }
    seen.push(key);
    false
}

/// A DELETE of a user forwarded as "active: false".
fn deactivate_instead_of_delete(r: &mut Req) -> Option<Resp> {
    if r.method == Method::DELETE && r.is_item("/Users") {
        r.method = Method::PATCH;
        r.body = Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}]
        }));
    }
    None
}

/// The deactivation is reported as a successful delete.
fn deactivated_answers_204(req: &Req, resp: &mut Resp) {
    if req.original == Method::DELETE && req.method == Method::PATCH && resp.status == 200 {
        *resp = Resp::scim(204, None);
    }
}

/// Legal variants: filters a server declines with 400 invalidFilter because
/// it does not support the attribute and operator (RFC 7644 §3.12).
fn declined() -> Vec<RfcFault> {
    vec![
        RfcFault {
            what: "group filter on members unsupported",
            step: "rfc-groups-filter::filter-groups-by-member",
            on_request: |r| {
                r.param("filter")
                    .is_some_and(|f| f.contains("members["))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "dateTime filters rejected",
            step: "rfc-filter-dates::created-gt-long-ago",
            on_request: |r| {
                r.param("filter")
                    .is_some_and(|f| f.contains("meta.created"))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "sub-attribute filters rejected",
            step: "rfc-filters::sub-attribute-eq",
            on_request: |r| {
                r.param("filter")
                    .is_some_and(|f| f.contains("name.familyName"))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
    ]
}

fn faults() -> Vec<RfcFault> {
    vec![
        RfcFault {
            what: "filter ignored",
            step: "rfc-filters::eq",
            on_request: |r| {
                r.drop_param("filter");
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "userName eq compared case-sensitively",
            step: "rfc-filters::eq-value-ignores-case",
            on_request: pass_req,
            on_response: |req, resp| {
                let re = regex::Regex::new(r#"(?i)^userName eq "([^"]*)"$"#).unwrap();
                let Some(want) = req
                    .param("filter")
                    .and_then(|f| re.captures(f))
                    .map(|c| c[1].to_string())
                else {
                    return;
                };
                if let Some(body) = resp.body.as_mut()
                    && let Some(items) = body.get_mut("Resources").and_then(Value::as_array_mut)
                {
                    items.retain(|u| u["userName"].as_str() == Some(want.as_str()));
                    let n = items.len();
                    body["totalResults"] = json!(n);
                    body["itemsPerPage"] = json!(n);
                }
            },
        },
        RfcFault {
            what: "totalResults counts only the page",
            step: "rfc-pagination::page-1-of-5",
            on_request: pass_req,
            on_response: |_, resp| {
                if let Some(body) = resp.body.as_mut()
                    && let Some(n) = body
                        .get("Resources")
                        .and_then(Value::as_array)
                        .map(Vec::len)
                {
                    body["totalResults"] = json!(n);
                }
            },
        },
        RfcFault {
            what: "count ignored",
            step: "rfc-pagination::page-1-of-5",
            on_request: |r| {
                r.drop_param("count");
                None
            },
            on_response: |_, resp| {
                if let Some(body) = resp.body.as_mut()
                    && let Some(n) = body
                        .get("Resources")
                        .and_then(Value::as_array)
                        .map(Vec::len)
                {
                    body["itemsPerPage"] = json!(n);
                }
            },
        },
        RfcFault {
            what: "count=0 treated as no limit",
            step: "rfc-pagination::count-zero",
            on_request: |r| {
                if r.param("count") == Some("0") {
                    r.drop_param("count");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "startIndex taken as 0-based",
            step: "rfc-pagination::page-1-of-5",
            on_request: |r| {
                if let Some(i) = r.param("startIndex").and_then(|s| s.parse::<i64>().ok()) {
                    r.set_param("startIndex", (i + 1).to_string());
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "ListResponse without schemas",
            step: "rfc-discovery::resource-types-list",
            on_request: pass_req,
            on_response: |_, resp| {
                if resp.is_list()
                    && let Some(b) = resp.body.as_mut().and_then(Value::as_object_mut)
                {
                    b.remove("schemas");
                }
            },
        },
        RfcFault {
            what: "200 instead of 201 on create",
            step: "rfc-create::create-user",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::POST && resp.status == 201 {
                    resp.status = 200;
                }
            },
        },
        RfcFault {
            what: "no Location header on create",
            step: "rfc-create::create-user",
            on_request: pass_req,
            on_response: |_, resp| {
                resp.headers.remove(header::LOCATION);
            },
        },
        RfcFault {
            what: "required userName not enforced",
            step: "rfc-create::missing-required-userName",
            on_request: |r| {
                if r.method == Method::POST
                    && r.scim_path() == "/Users"
                    && let Some(b) = r.body.as_mut().and_then(Value::as_object_mut)
                    && !b.contains_key("userName")
                {
                    b.insert("userName".into(), json!(uuid::Uuid::new_v4().to_string()));
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "400 instead of 409 on a duplicate",
            step: "rfc-create::duplicate-userName-other-case",
            on_request: pass_req,
            on_response: |_, resp| {
                if resp.status == 409 {
                    *resp = error(400, "invalidValue");
                }
            },
        },
        RfcFault {
            what: "externalId not stored",
            step: "rfc-create::create-user",
            on_request: |r| {
                if let Some(b) = r.body.as_mut().and_then(Value::as_object_mut) {
                    b.remove("externalId");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "DELETE only deactivates",
            step: "rfc-delete::get-after-delete-404",
            on_request: deactivate_instead_of_delete,
            on_response: deactivated_answers_204,
        },
        RfcFault {
            what: "DELETE only deactivates (the user stays listed)",
            step: "rfc-delete-lists::list-after-delete-empty",
            on_request: deactivate_instead_of_delete,
            on_response: deactivated_answers_204,
        },
        RfcFault {
            what: "401 answered but the write done",
            step: "rfc-auth-write::nothing-created",
            on_request: |r| {
                // A wrong token is noted, then replaced by the right one.
                let wrong = r
                    .headers
                    .get(header::AUTHORIZATION)
                    .is_some_and(|v| v.as_bytes() != b"Bearer rfc-faults-token");
                if wrong && r.method == Method::POST {
                    r.headers.insert(
                        header::AUTHORIZATION,
                        HeaderValue::from_static("Bearer rfc-faults-token"),
                    );
                    r.headers
                        .insert("x-fault-refuse", HeaderValue::from_static("1"));
                }
                None
            },
            on_response: |req, resp| {
                if req.headers.contains_key("x-fault-refuse") {
                    *resp = error(401, "invalidValue");
                    if let Some(b) = resp.body.as_mut().and_then(Value::as_object_mut) {
                        b.remove("scimType");
                    }
                }
            },
        },
        RfcFault {
            what: "DELETE answers 200 with a body",
            step: "rfc-delete::delete",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::DELETE && resp.status == 204 {
                    *resp = Resp::scim(200, Some(json!({"deleted": true})));
                }
            },
        },
        RfcFault {
            what: "500 for an unknown id",
            step: "rfc-read::unknown-id-404",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::GET && resp.status == 404 {
                    *resp = error(500, "invalidValue");
                }
            },
        },
        RfcFault {
            what: "non-SCIM error bodies",
            step: "rfc-read::unknown-id-404",
            on_request: pass_req,
            on_response: |_, resp| {
                if resp.status >= 400 {
                    resp.body = Some(json!({"error": "not_found", "message": "no such user"}));
                    resp.headers.insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    );
                }
            },
        },
        RfcFault {
            what: "error status as a number",
            step: "rfc-read::unknown-id-404",
            on_request: pass_req,
            on_response: |_, resp| {
                let status = resp.status;
                if status >= 400
                    && let Some(b) = resp.body.as_mut()
                {
                    b["status"] = json!(status);
                }
            },
        },
        RfcFault {
            what: "HTML 404 for an unknown endpoint",
            step: "rfc-discovery::unknown-endpoint-404",
            on_request: pass_req,
            on_response: |_, resp| {
                let no_endpoint = resp.body.as_ref().is_some_and(|b| {
                    b["detail"]
                        .as_str()
                        .is_some_and(|d| d.starts_with("no SCIM endpoint"))
                });
                if resp.status == 404 && no_endpoint {
                    resp.body = None;
                    resp.raw = Some(("<html><body>Not Found</body></html>".into(), "text/html"));
                }
            },
        },
        RfcFault {
            what: "ServiceProviderConfig maxResults as a string",
            step: "rfc-discovery::service-provider-config",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.scim_path() == "/ServiceProviderConfig"
                    && let Some(b) = resp.body.as_mut()
                {
                    b["filter"]["maxResults"] = json!("1000");
                }
            },
        },
        RfcFault {
            what: "no authentication",
            step: "rfc-auth::list-without-token",
            on_request: |r| {
                r.headers.insert(
                    header::AUTHORIZATION,
                    HeaderValue::from_static("Bearer rfc-faults-token"),
                );
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "attributes ignored",
            step: "rfc-read::get-attributes",
            on_request: |r| {
                r.drop_param("attributes");
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "excludedAttributes ignored",
            step: "rfc-read::get-excluded-attributes",
            on_request: |r| {
                r.drop_param("excludedAttributes");
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "excludedAttributes drops the always-returned id",
            step: "rfc-read::excluded-id-still-returned",
            on_request: pass_req,
            on_response: |req, resp| {
                if req
                    .param("excludedAttributes")
                    .is_some_and(|e| e.split(',').any(|a| a.trim() == "id"))
                    && let Some(b) = resp.body.as_mut().and_then(Value::as_object_mut)
                {
                    b.remove("id");
                }
            },
        },
        RfcFault {
            what: "attribute names in filters case-sensitive",
            step: "rfc-filters::attribute-names-ignore-case",
            on_request: |r| {
                // Only the exact schema spelling is understood.
                let f = r.param("filter").unwrap_or_default();
                (f.contains("USERNAME") || f.contains("ACTIVE"))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "filter operators case-sensitive",
            step: "rfc-filters::operators-ignore-case",
            on_request: |r| {
                let f = r.param("filter").unwrap_or_default();
                // Only lower-case operators are understood.
                let upper = [" EQ ", " Eq ", " SW ", " AND "];
                upper
                    .iter()
                    .any(|o| f.contains(o))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "and/or evaluated left to right",
            step: "rfc-filters::and-binds-tighter-than-or",
            on_request: |r| {
                rewrite_filter(r, |f| {
                    match (f.contains('('), f.find(" or "), f.rfind(" and ")) {
                        (false, Some(or), Some(and)) if or < and => {
                            format!("({}){}", &f[..and], &f[and..])
                        }
                        _ => f.to_string(),
                    }
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "not ignored",
            step: "rfc-filters::not-pr",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace("not (", "("));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "pr ignored",
            step: "rfc-filters::pr",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" and title pr", ""));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "value filter matched across values",
            step: "rfc-filters::value-path-same-value",
            on_request: |r| {
                rewrite_filter(r, |f| {
                    f.replace(
                        r#"emails[type eq "work" and value ew "home.example"]"#,
                        r#"emails.type eq "work" and emails.value ew "home.example""#,
                    )
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "caseExact ignored for externalId",
            step: "rfc-filters::case-exact-attribute-respects-case",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace("-ext-a\"", "-EXT-A\""));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "invalid filter answered with an empty list",
            step: "rfc-filters::invalid-filter-missing-value",
            on_request: |r| {
                if r.param("filter")
                    .is_some_and(|f| f.trim_end().ends_with(" eq"))
                {
                    return Some(Resp::scim(
                        200,
                        Some(
                            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                            "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}),
                        ),
                    ));
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "sortBy ignored",
            step: "rfc-sorting::sort-ascending-default",
            on_request: |r| {
                r.drop_param("sortBy");
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "sortOrder ignored",
            step: "rfc-sorting::sort-descending",
            on_request: |r| {
                r.drop_param("sortOrder");
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "value-path PATCH rejected",
            step: "rfc-patch::replace-value-path",
            on_request: |r| {
                let has_filter = r.patch_ops().iter().any(|op| {
                    op.get("path")
                        .and_then(Value::as_str)
                        .is_some_and(|p| p.contains('['))
                });
                (r.method == Method::PATCH && has_filter).then(|| error(400, "invalidPath"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PATCH add on a multi-valued attribute replaces it",
            step: "rfc-patch::verify-add-multi-valued",
            on_request: |r| {
                if r.method == Method::PATCH
                    && let Some(ops) = r
                        .body
                        .as_mut()
                        .and_then(|b| b.get_mut("Operations"))
                        .and_then(Value::as_array_mut)
                {
                    for op in ops {
                        if op["op"] == "add" && op["path"] == "emails" {
                            op["op"] = json!("replace");
                        }
                    }
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "remove without path accepted",
            step: "rfc-patch::remove-without-path",
            on_request: |r| {
                let bad = r
                    .patch_ops()
                    .iter()
                    .any(|op| op["op"] == "remove" && op.get("path").is_none());
                (r.method == Method::PATCH && bad).then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PATCH of a readOnly attribute silently ignored",
            step: "rfc-patch::replace-read-only",
            on_request: |r| {
                let ro = r.patch_ops().iter().any(|op| op["path"] == "id");
                (r.method == Method::PATCH && ro).then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PATCH on extension attributes ignored",
            step: "rfc-patch-extension::verify-replace-extension-attribute",
            on_request: |r| {
                let ext = r.patch_ops().iter().any(|op| {
                    op.get("path")
                        .and_then(Value::as_str)
                        .is_some_and(|p| p.starts_with("urn:"))
                });
                (r.method == Method::PATCH && ext).then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "group member add replaces the member list",
            step: "rfc-groups::verify-add-member",
            on_request: |r| {
                if r.method == Method::PATCH
                    && r.is_item("/Groups")
                    && let Some(ops) = r
                        .body
                        .as_mut()
                        .and_then(|b| b.get_mut("Operations"))
                        .and_then(Value::as_array_mut)
                {
                    for op in ops {
                        if op["op"] == "add" && op["path"] == "members" {
                            op["op"] = json!("replace");
                        }
                    }
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "group member remove ignored",
            step: "rfc-groups::verify-remove-member",
            on_request: |r| {
                let rm = r.patch_ops().iter().any(|op| op["op"] == "remove");
                (r.method == Method::PATCH && r.is_item("/Groups") && rm)
                    .then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PUT merges instead of replacing",
            step: "rfc-put::verify-omitted-cleared",
            on_request: |r| {
                if r.method == Method::PUT
                    && let Some(mut value) = r.body.take()
                {
                    if let Some(o) = value.as_object_mut() {
                        o.remove("schemas");
                    }
                    r.method = Method::PATCH;
                    r.body = Some(json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "value": value}]
                    }));
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "no ETag header",
            step: "rfc-etag::create-user",
            on_request: pass_req,
            on_response: |_, resp| {
                resp.headers.remove(header::ETAG);
            },
        },
        RfcFault {
            what: "If-Match ignored",
            step: "rfc-etag::put-if-match-stale",
            on_request: |r| {
                r.headers.remove(header::IF_MATCH);
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "If-None-Match ignored",
            step: "rfc-etag::if-none-match-current",
            on_request: |r| {
                r.headers.remove(header::IF_NONE_MATCH);
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "bulkId references not resolved",
            step: "rfc-bulk::bulk-create",
            on_request: |r| {
                if r.scim_path().eq_ignore_ascii_case("/Bulk")
                    && let Some(ops) = r
                        .body
                        .as_mut()
                        .and_then(|b| b.get_mut("Operations"))
                        .and_then(Value::as_array_mut)
                {
                    for op in ops {
                        if let Some(o) = op.as_object_mut() {
                            o.remove("bulkId");
                        }
                    }
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "responses typed application/json",
            step: "rfc-media-type::resource-media-type",
            on_request: pass_req,
            on_response: |_, resp| {
                resp.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
            },
        },
        RfcFault {
            what: "client-sent meta kept on create",
            step: "rfc-create::create-user",
            on_request: pass_req,
            on_response: |req, resp| {
                if let (Some(created), Some(b)) = (
                    req.body.as_ref().and_then(|b| b.pointer("/meta/created")),
                    resp.body.as_mut(),
                ) && resp.status == 201
                {
                    b["meta"]["created"] = created.clone();
                }
            },
        },
        RfcFault {
            what: "second DELETE answers 204",
            step: "rfc-delete::second-delete-404",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::DELETE && resp.status == 404 {
                    *resp = Resp::scim(204, None);
                }
            },
        },
        RfcFault {
            what: "PUT creates a missing resource",
            step: "rfc-put::put-unknown-id-404",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::PUT && resp.status == 404 {
                    let mut body = req.body.clone().unwrap_or(Value::Null);
                    body["id"] = json!("upserted");
                    *resp = Resp::scim(201, Some(body));
                }
            },
        },
        RfcFault {
            what: "Boolean ordering filter answered with a result",
            step: "rfc-filters::boolean-gt-invalid",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace("active gt false", "active eq true"));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "attributes ignored on lists",
            step: "rfc-read-lists::list-attributes",
            on_request: |r| {
                if r.scim_path() == "/Users" {
                    r.drop_param("attributes");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "excludedAttributes ignored on lists",
            step: "rfc-read-lists::list-excluded-attributes",
            on_request: |r| {
                if r.scim_path() == "/Users" {
                    r.drop_param("excludedAttributes");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "POST /.search unsupported",
            step: "rfc-read-lists::search-with-post",
            on_request: |r| {
                r.path
                    .ends_with("/.search")
                    .then(|| error(404, "invalidPath"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "ResourceType by id answered as a list",
            step: "rfc-discovery::resource-type-by-id",
            on_request: |r| {
                if r.scim_path() == "/ResourceTypes/User" {
                    r.path = "/scim/v2/ResourceTypes".into();
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "schemas not served by id",
            step: "rfc-discovery::user-schema-resolvable",
            on_request: |r| {
                r.scim_path()
                    .starts_with("/Schemas/urn:ietf:params:scim:schemas:core")
                    .then(|| error(404, "invalidPath"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "401 body is not a SCIM error",
            step: "rfc-auth::error-body-is-scim",
            on_request: pass_req,
            on_response: |_, resp| {
                if resp.status == 401 {
                    resp.body = None;
                    resp.raw = Some(("Unauthorized".into(), "text/plain"));
                }
            },
        },
        RfcFault {
            what: "startIndex below 1 rejected",
            step: "rfc-pagination::start-index-below-one",
            on_request: |r| {
                (r.param("startIndex") == Some("0")).then(|| error(400, "invalidValue"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "short pages",
            step: "rfc-pagination::full-pages",
            on_request: |r| {
                if r.param("count") == Some("2") {
                    r.set_param("count", "1".into());
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            // RFC 7644 §3.5.2.3 leaves unnamed sub-attributes unchanged; this
            // server drops the complex attribute first.
            what: "PATCH sub-attribute replace clears the siblings",
            step: "rfc-patch::verify-replace-sub-attribute",
            on_request: |r| {
                clear_name_first(r, |op| op["path"] == "name.givenName");
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PATCH add without path replaces complex attributes",
            step: "rfc-patch::verify-add-complex",
            on_request: |r| {
                clear_name_first(r, |op| {
                    op["op"] == "add"
                        && op.get("path").is_none()
                        && op["value"].get("name").is_some()
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PATCH remove with a value filter removes every value",
            step: "rfc-patch::verify-remove-value-path",
            on_request: |r| {
                for_each_op(r, |op| {
                    if op["op"] == "remove" && op["path"] == r#"emails[type eq "home"]"# {
                        op["path"] = json!("emails");
                    }
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PATCH replace of a multi-valued attribute appends",
            step: "rfc-patch::verify-replace-multi-valued",
            on_request: |r| {
                for_each_op(r, |op| {
                    if op["op"] == "replace" && op["path"] == "phoneNumbers" {
                        op["op"] = json!("add");
                    }
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "only the first PATCH operation applied",
            step: "rfc-patch::verify-several-operations",
            on_request: |r| {
                if let Some(ops) = r
                    .body
                    .as_mut()
                    .and_then(|b| b.get_mut("Operations"))
                    .and_then(Value::as_array_mut)
                {
                    ops.truncate(1);
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "group members replace appends",
            step: "rfc-groups::verify-replace-members",
            on_request: |r| {
                for_each_op(r, |op| {
                    if op["op"] == "replace" && op["path"] == "members" {
                        op["op"] = json!("add");
                    }
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "excludedAttributes=members ignored on groups",
            step: "rfc-groups::exclude-members",
            on_request: |r| {
                if r.is_item("/Groups") {
                    r.drop_param("excludedAttributes");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "ETag header differs from meta.version",
            step: "rfc-etag::create-user",
            on_request: pass_req,
            on_response: |_, resp| {
                if resp.headers.contains_key(header::ETAG) {
                    resp.headers
                        .insert(header::ETAG, HeaderValue::from_static("W/\"other\""));
                }
            },
        },
        RfcFault {
            what: "If-Match ignored on DELETE",
            step: "rfc-etag::delete-if-match-stale",
            on_request: |r| {
                if r.method == Method::DELETE {
                    r.headers.remove(header::IF_MATCH);
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "Bulk operations without per-operation status",
            step: "rfc-bulk::bulk-create",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.scim_path().eq_ignore_ascii_case("/Bulk")
                    && let Some(ops) = resp
                        .body
                        .as_mut()
                        .and_then(|b| b.get_mut("Operations"))
                        .and_then(Value::as_array_mut)
                {
                    for op in ops {
                        if let Some(o) = op.as_object_mut() {
                            o.remove("status");
                        }
                    }
                }
            },
        },
        RfcFault {
            what: "ne evaluated as eq",
            step: "rfc-filters::ne",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" ne ", " eq "));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "co evaluated as sw",
            step: "rfc-filters::co",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" co ", " sw "));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "ew evaluated as eq",
            step: "rfc-filters::ew",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" ew ", " eq "));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "gt evaluated as ge",
            step: "rfc-filters::gt-string",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" gt ", " ge "));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "lt evaluated as le",
            step: "rfc-filters::lt-string",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" lt ", " le "));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "co ignores caseExact",
            step: "rfc-filters::case-exact-co-respects-case",
            on_request: |r| {
                // Emulates a case-insensitive co: alice's "-EXT-A" would match too.
                rewrite_filter(r, |f| {
                    f.replace(
                        r#"externalId co "-ext-""#,
                        r#"(externalId co "-ext-" or externalId co "-EXT-")"#,
                    )
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "URN-qualified attribute names rejected",
            step: "rfc-filters::urn-qualified-attribute",
            on_request: |r| {
                r.param("filter")
                    .is_some_and(|f| f.starts_with("urn:"))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "startIndex past the end rejected",
            step: "rfc-pagination::start-index-past-the-end",
            on_request: |r| {
                (r.param("startIndex") == Some("6")).then(|| error(400, "invalidValue"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "sortBy on a sub-attribute ignored",
            step: "rfc-sorting::sort-by-sub-attribute",
            on_request: |r| {
                if r.param("sortBy").is_some_and(|s| s.contains('.')) {
                    r.drop_param("sortBy");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "sorting ignored when paging",
            step: "rfc-sorting::sorted-second-page",
            on_request: |r| {
                if r.param("startIndex").is_some() {
                    r.drop_param("sortBy");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PATCH remove of a simple attribute ignored",
            step: "rfc-patch::verify-remove-simple",
            on_request: |r| {
                let rm = r
                    .patch_ops()
                    .iter()
                    .any(|op| op["op"] == "remove" && op["path"] == "nickName");
                (r.method == Method::PATCH && rm).then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "If-None-Match answers 304 for any version",
            step: "rfc-etag::if-none-match-stale",
            on_request: |r| {
                (r.method == Method::GET && r.headers.contains_key(header::IF_NONE_MATCH))
                    .then(|| Resp::scim(304, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "If-Match always fails",
            step: "rfc-etag::put-if-match-current",
            on_request: |r| {
                r.headers
                    .contains_key(header::IF_MATCH)
                    .then(|| error(412, "invalidVers"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "deleted user stays in its groups",
            step: "rfc-groups::deleted-user-left-group",
            on_request: |r| {
                if r.method == Method::DELETE && r.is_item("/Users") {
                    let id = r.scim_path().trim_start_matches("/Users/").to_string();
                    deleted_users().lock().expect("ids").push(id);
                }
                None
            },
            on_response: |req, resp| {
                if req.method == Method::GET
                    && req.is_item("/Groups")
                    && let Some(members) = resp
                        .body
                        .as_mut()
                        .and_then(|b| b.get_mut("members"))
                        .and_then(Value::as_array_mut)
                {
                    for id in deleted_users().lock().expect("ids").iter() {
                        members.push(json!({"value": id}));
                    }
                }
            },
        },
        RfcFault {
            what: "duplicate group name refused without scimType",
            step: "rfc-groups::duplicate-display-name",
            on_request: |r| {
                if r.method != Method::POST || r.scim_path() != "/Groups" {
                    return None;
                }
                let name = r.body.as_ref()?.get("displayName")?.as_str()?;
                if seen_before(format!("group:{name}")) {
                    let mut e = error(409, "uniqueness");
                    if let Some(b) = e.body.as_mut().and_then(Value::as_object_mut) {
                        b.remove("scimType");
                    }
                    return Some(e);
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "deleted userName stays reserved",
            step: "rfc-delete::username-free-again",
            on_request: |r| {
                if r.method != Method::POST || r.scim_path() != "/Users" {
                    return None;
                }
                let name = r.body.as_ref()?.get("userName")?.as_str()?;
                seen_before(format!("user:{name}")).then(|| error(409, "uniqueness"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "application/json requests refused",
            step: "rfc-media-type::accepts-application-json",
            on_request: |r| {
                r.headers
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
                    .then(|| Resp::scim(415, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "client-chosen id used",
            step: "rfc-create::client-id-not-used",
            on_request: |r| {
                if r.method == Method::POST
                    && let Some(id) = r.body.as_ref().and_then(|b| b["id"].as_str())
                {
                    seen_before(format!("client-id:/Users/{id}"));
                }
                let key = format!("client-id:{}", r.scim_path());
                (r.method == Method::GET && seen_keys().contains(&key)).then(|| {
                    Resp::scim(
                        200,
                        Some(
                            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "id": r.scim_path().trim_start_matches("/Users/"), "userName": "x"}),
                        ),
                    )
                })
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "boolean comparison ignored",
            step: "rfc-filters::boolean-eq-true",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" and active eq true", ""));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "value filter in brackets ignored",
            step: "rfc-filters::value-path-other-type",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(r#"emails[type eq "home"]"#, "emails pr"));
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "or evaluated as and",
            step: "rfc-filters::or",
            on_request: |r| {
                // Only plain disjunctions, so the precedence steps stay unaffected.
                rewrite_filter(r, |f| {
                    if f.contains(" and ") {
                        f.to_string()
                    } else {
                        f.replace(" or ", " and ")
                    }
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "parentheses ignored",
            step: "rfc-filters::parentheses-group",
            on_request: |r| {
                rewrite_filter(r, |f| {
                    if f.starts_with('(') {
                        f.replace(['(', ')'], "")
                    } else {
                        f.to_string()
                    }
                });
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "authentication schemes without a description",
            step: "rfc-discovery::authentication-schemes-described",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.scim_path() == "/ServiceProviderConfig"
                    && let Some(schemes) = resp
                        .body
                        .as_mut()
                        .and_then(|b| b.get_mut("authenticationSchemes"))
                        .and_then(Value::as_array_mut)
                {
                    for s in schemes {
                        if let Some(o) = s.as_object_mut() {
                            o.remove("description");
                        }
                    }
                }
            },
        },
        RfcFault {
            what: "Group schema not served",
            step: "rfc-discovery-groups::group-schema-resolvable",
            on_request: |r| {
                r.scim_path()
                    .ends_with(":Group")
                    .then(|| error(404, "invalidPath"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "extension schema not served",
            step: "rfc-discovery-enterprise::enterprise-schema-resolvable",
            on_request: |r| {
                r.scim_path()
                    .starts_with("/Schemas/urn:ietf:params:scim:schemas:extension")
                    .then(|| error(404, "invalidPath"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PATCH of an extension sub-attribute ignored",
            step: "rfc-patch-extension::verify-add-extension-sub-attribute",
            on_request: |r| {
                let sub = r.patch_ops().iter().any(|op| {
                    op.get("path")
                        .and_then(Value::as_str)
                        .is_some_and(|p| p.ends_with(":manager.value"))
                });
                (r.method == Method::PATCH && sub).then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "bulkId reference stored literally",
            step: "rfc-bulk::bulk-id-resolved",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.scim_path() == "/Groups"
                    && req
                        .param("filter")
                        .is_some_and(|f| f.contains("-bulk-group"))
                    && let Some(b) = resp.body.as_mut()
                {
                    b["Resources"][0]["members"] = json!([{"value": "bulkId:u1"}]);
                }
            },
        },
        RfcFault {
            what: "PUT with the id in its body refused",
            step: "rfc-put::put-id-ignored",
            on_request: |r| {
                let own = r
                    .scim_path()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let other_id = r
                    .body
                    .as_ref()
                    .and_then(|b| b["id"].as_str())
                    .is_some_and(|id| id != own);
                (r.method == Method::PUT && other_id).then(|| error(400, "mutability"))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "PUT uniqueness conflict answered 400",
            step: "rfc-put::put-duplicate-username",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::PUT && resp.status == 409 {
                    *resp = error(400, "invalidValue");
                }
            },
        },
        RfcFault {
            what: "PATCH uniqueness conflict answered 400",
            step: "rfc-patch::patch-duplicate-username",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::PATCH && resp.status == 409 {
                    *resp = error(400, "invalidValue");
                }
            },
        },
        RfcFault {
            what: "PATCH add on a single-valued attribute keeps the old value",
            step: "rfc-patch::verify-add-single-valued",
            on_request: |r| {
                let add_title = r
                    .patch_ops()
                    .iter()
                    .any(|op| op["op"] == "add" && op["path"] == "title");
                (r.method == Method::PATCH && add_title).then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "negative count rejected",
            step: "rfc-pagination::count-negative",
            on_request: |r| (r.param("count") == Some("-1")).then(|| error(400, "invalidValue")),
            on_response: pass_resp,
        },
        RfcFault {
            what: "URN-qualified attributes ignored",
            step: "rfc-read::get-attributes-urn",
            on_request: |r| {
                if r.param("attributes").is_some_and(|a| a.starts_with("urn:")) {
                    r.drop_param("attributes");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "Bulk failOnErrors ignored",
            step: "rfc-bulk::fail-on-errors",
            on_request: |r| {
                if r.scim_path().eq_ignore_ascii_case("/Bulk")
                    && let Some(b) = r.body.as_mut().and_then(Value::as_object_mut)
                {
                    b.remove("failOnErrors");
                }
                None
            },
            on_response: pass_resp,
        },
        RfcFault {
            what: "/Me answers 404 instead of 501",
            step: "rfc-me::get-me",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.scim_path() == "/Me" && resp.status == 501 {
                    *resp = error(404, "invalidValue");
                    if let Some(b) = resp.body.as_mut().and_then(Value::as_object_mut) {
                        b.remove("scimType");
                    }
                }
            },
        },
    ]
}
