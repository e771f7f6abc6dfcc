//! Proves the RFC suites bite: each fault below is a small proxy in front of
//! the reference server that breaks one RFC 7643/7644 rule, and the named
//! step of `suites/rfc` must fail against it (or, for an advisory step, be
//! reported as advisory). A transparent proxy must pass every step, so the
//! failures come from the faults, not from the proxy.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use scimitar::server::{RunningServer, ServerConfig, spawn};
use serde_json::{Value, json};

const TOKEN: &str = "rfc-faults-token";
const SCIM: &str = "application/scim+json";

/// A request as the proxy sees it, before it is forwarded.
struct Req {
    /// The method the client sent (a fault may forward another).
    original: Method,
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Option<Value>,
}

impl Req {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn drop_param(&mut self, name: &str) {
        self.query.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }

    fn set_param(&mut self, name: &str, value: String) {
        self.drop_param(name);
        self.query.push((name.to_string(), value));
    }

    /// `/Users`, `/Groups/abc`, … below the SCIM base.
    fn scim_path(&self) -> &str {
        self.path.strip_prefix("/scim/v2").unwrap_or(&self.path)
    }

    fn is_item(&self, collection: &str) -> bool {
        self.scim_path()
            .strip_prefix(collection)
            .is_some_and(|rest| rest.len() > 1 && rest[1..].split('/').count() == 1)
    }

    fn patch_ops(&self) -> Vec<&Value> {
        self.body
            .as_ref()
            .and_then(|b| b.get("Operations"))
            .and_then(Value::as_array)
            .map(|ops| ops.iter().collect())
            .unwrap_or_default()
    }
}

/// A response on its way back to the client.
struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Option<Value>,
    /// A body that is not JSON (set by a fault).
    raw: Option<(String, &'static str)>,
}

impl Resp {
    fn scim(status: u16, body: Option<Value>) -> Resp {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM));
        Resp {
            status,
            headers,
            body,
            raw: None,
        }
    }

    fn is_list(&self) -> bool {
        self.body
            .as_ref()
            .is_some_and(|b| b.get("totalResults").is_some())
    }
}

/// What a fault does: rewrite the request (or answer it itself), then the response.
type OnRequest = fn(&mut Req) -> Option<Resp>;
type OnResponse = fn(&Req, &mut Resp);

struct Fault {
    /// What the faulty server gets wrong.
    what: &'static str,
    /// `suite::step` that must catch it.
    step: &'static str,
    on_request: OnRequest,
    on_response: OnResponse,
}

fn pass_req(_: &mut Req) -> Option<Resp> {
    None
}

fn pass_resp(_: &Req, _: &mut Resp) {}

fn error(status: u16, scim_type: &str) -> Resp {
    Resp::scim(
        status,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(), "scimType": scim_type, "detail": "fault"
        })),
    )
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

fn faults() -> Vec<Fault> {
    vec![
        Fault {
            what: "filter ignored",
            step: "rfc-filters::eq",
            on_request: |r| {
                r.drop_param("filter");
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "200 instead of 201 on create",
            step: "rfc-create::create-user",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::POST && resp.status == 201 {
                    resp.status = 200;
                }
            },
        },
        Fault {
            what: "no Location header on create",
            step: "rfc-create::create-user",
            on_request: pass_req,
            on_response: |_, resp| {
                resp.headers.remove(header::LOCATION);
            },
        },
        Fault {
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
        Fault {
            what: "400 instead of 409 on a duplicate",
            step: "rfc-create::duplicate-userName-other-case",
            on_request: pass_req,
            on_response: |_, resp| {
                if resp.status == 409 {
                    *resp = error(400, "invalidValue");
                }
            },
        },
        Fault {
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
        Fault {
            what: "DELETE only deactivates",
            step: "rfc-delete::get-after-delete-404",
            on_request: deactivate_instead_of_delete,
            on_response: deactivated_answers_204,
        },
        Fault {
            what: "DELETE only deactivates (the user stays listed)",
            step: "rfc-delete-lists::list-after-delete-empty",
            on_request: deactivate_instead_of_delete,
            on_response: deactivated_answers_204,
        },
        Fault {
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
        Fault {
            what: "DELETE answers 200 with a body",
            step: "rfc-delete::delete",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::DELETE && resp.status == 204 {
                    *resp = Resp::scim(200, Some(json!({"deleted": true})));
                }
            },
        },
        Fault {
            what: "500 for an unknown id",
            step: "rfc-read::unknown-id-404",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::GET && resp.status == 404 {
                    *resp = error(500, "invalidValue");
                }
            },
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "attributes ignored",
            step: "rfc-read::get-attributes",
            on_request: |r| {
                r.drop_param("attributes");
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "excludedAttributes ignored",
            step: "rfc-read::get-excluded-attributes",
            on_request: |r| {
                r.drop_param("excludedAttributes");
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "not ignored",
            step: "rfc-filters::not-pr",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace("not (", "("));
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "pr ignored",
            step: "rfc-filters::pr",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" and title pr", ""));
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
            what: "caseExact ignored for externalId",
            step: "rfc-filters::case-exact-attribute-respects-case",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace("-ext-a\"", "-EXT-A\""));
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
            what: "sortBy ignored",
            step: "rfc-sorting::sort-ascending-default",
            on_request: |r| {
                r.drop_param("sortBy");
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "sortOrder ignored",
            step: "rfc-sorting::sort-descending",
            on_request: |r| {
                r.drop_param("sortOrder");
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "PATCH of a readOnly attribute silently ignored",
            step: "rfc-patch::replace-read-only",
            on_request: |r| {
                let ro = r.patch_ops().iter().any(|op| op["path"] == "id");
                (r.method == Method::PATCH && ro).then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
            what: "group member remove ignored",
            step: "rfc-groups::verify-remove-member",
            on_request: |r| {
                let rm = r.patch_ops().iter().any(|op| op["op"] == "remove");
                (r.method == Method::PATCH && r.is_item("/Groups") && rm)
                    .then(|| Resp::scim(204, None))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
            what: "no ETag header",
            step: "rfc-etag::create-user",
            on_request: pass_req,
            on_response: |_, resp| {
                resp.headers.remove(header::ETAG);
            },
        },
        Fault {
            what: "If-Match ignored",
            step: "rfc-etag::put-if-match-stale",
            on_request: |r| {
                r.headers.remove(header::IF_MATCH);
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "If-None-Match ignored",
            step: "rfc-etag::if-none-match-current",
            on_request: |r| {
                r.headers.remove(header::IF_NONE_MATCH);
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "second DELETE answers 204",
            step: "rfc-delete::second-delete-404",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::DELETE && resp.status == 404 {
                    *resp = Resp::scim(204, None);
                }
            },
        },
        Fault {
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
        Fault {
            what: "Boolean ordering filter answered with a result",
            step: "rfc-filters::boolean-gt-invalid",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace("active gt false", "active eq true"));
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
            what: "POST /.search unsupported",
            step: "rfc-read-lists::search-with-post",
            on_request: |r| {
                r.path
                    .ends_with("/.search")
                    .then(|| error(404, "invalidPath"))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
            what: "schemas not served by id",
            step: "rfc-discovery::user-schema-resolvable",
            on_request: |r| {
                r.scim_path()
                    .starts_with("/Schemas/urn:ietf:params:scim:schemas:core")
                    .then(|| error(404, "invalidPath"))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
            what: "startIndex below 1 rejected",
            step: "rfc-pagination::start-index-below-one",
            on_request: |r| {
                (r.param("startIndex") == Some("0")).then(|| error(400, "invalidValue"))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "group filter on members unsupported",
            step: "rfc-groups-filter::filter-groups-by-member",
            on_request: |r| {
                r.param("filter")
                    .is_some_and(|f| f.contains("members["))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "ne evaluated as eq",
            step: "rfc-filters::ne",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" ne ", " eq "));
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "co evaluated as sw",
            step: "rfc-filters::co",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" co ", " sw "));
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "ew evaluated as eq",
            step: "rfc-filters::ew",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" ew ", " eq "));
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "gt evaluated as ge",
            step: "rfc-filters::gt-string",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" gt ", " ge "));
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "lt evaluated as le",
            step: "rfc-filters::lt-string",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" lt ", " le "));
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
            what: "URN-qualified attribute names rejected",
            step: "rfc-filters::urn-qualified-attribute",
            on_request: |r| {
                r.param("filter")
                    .is_some_and(|f| f.starts_with("urn:"))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        Fault {
            what: "dateTime filters rejected",
            step: "rfc-filter-dates::created-gt-long-ago",
            on_request: |r| {
                r.param("filter")
                    .is_some_and(|f| f.contains("meta.created"))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        Fault {
            what: "startIndex past the end rejected",
            step: "rfc-pagination::start-index-past-the-end",
            on_request: |r| {
                (r.param("startIndex") == Some("6")).then(|| error(400, "invalidValue"))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "If-None-Match answers 304 for any version",
            step: "rfc-etag::if-none-match-stale",
            on_request: |r| {
                (r.method == Method::GET && r.headers.contains_key(header::IF_NONE_MATCH))
                    .then(|| Resp::scim(304, None))
            },
            on_response: pass_resp,
        },
        Fault {
            what: "If-Match always fails",
            step: "rfc-etag::put-if-match-current",
            on_request: |r| {
                r.headers
                    .contains_key(header::IF_MATCH)
                    .then(|| error(412, "invalidVers"))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "boolean comparison ignored",
            step: "rfc-filters::boolean-eq-true",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(" and active eq true", ""));
                None
            },
            on_response: pass_resp,
        },
        Fault {
            what: "value filter in brackets ignored",
            step: "rfc-filters::value-path-other-type",
            on_request: |r| {
                rewrite_filter(r, |f| f.replace(r#"emails[type eq "home"]"#, "emails pr"));
                None
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
            what: "sub-attribute filters rejected",
            step: "rfc-filters::sub-attribute-eq",
            on_request: |r| {
                r.param("filter")
                    .is_some_and(|f| f.contains("name.familyName"))
                    .then(|| error(400, "invalidFilter"))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
            what: "Group schema not served",
            step: "rfc-discovery-groups::group-schema-resolvable",
            on_request: |r| {
                r.scim_path()
                    .ends_with(":Group")
                    .then(|| error(404, "invalidPath"))
            },
            on_response: pass_resp,
        },
        Fault {
            what: "extension schema not served",
            step: "rfc-discovery-enterprise::enterprise-schema-resolvable",
            on_request: |r| {
                r.scim_path()
                    .starts_with("/Schemas/urn:ietf:params:scim:schemas:extension")
                    .then(|| error(404, "invalidPath"))
            },
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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
        Fault {
            what: "PUT uniqueness conflict answered 400",
            step: "rfc-put::put-duplicate-username",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::PUT && resp.status == 409 {
                    *resp = error(400, "invalidValue");
                }
            },
        },
        Fault {
            what: "PATCH uniqueness conflict answered 400",
            step: "rfc-patch::patch-duplicate-username",
            on_request: pass_req,
            on_response: |req, resp| {
                if req.method == Method::PATCH && resp.status == 409 {
                    *resp = error(400, "invalidValue");
                }
            },
        },
        Fault {
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
        Fault {
            what: "negative count rejected",
            step: "rfc-pagination::count-negative",
            on_request: |r| (r.param("count") == Some("-1")).then(|| error(400, "invalidValue")),
            on_response: pass_resp,
        },
        Fault {
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
        Fault {
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
        Fault {
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

struct Proxy {
    fault: Option<Fault>,
    upstream: String,
    http: reqwest::Client,
}

async fn forward(
    State(p): State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> = uri
        .query()
        .map(|q| url_pairs(q).into_iter().collect::<Vec<(String, String)>>())
        .unwrap_or_default();
    let mut req = Req {
        original: method.clone(),
        method,
        path: uri.path().to_string(),
        query,
        headers,
        body: serde_json::from_slice(&body).ok(),
    };
    let (on_request, on_response) = match &p.fault {
        Some(f) => (f.on_request, f.on_response),
        None => (pass_req as OnRequest, pass_resp as OnResponse),
    };
    let mut resp = match on_request(&mut req) {
        Some(r) => r,
        None => send(&p, &req, &body).await,
    };
    on_response(&req, &mut resp);
    to_response(resp)
}

/// Decodes a query string (`+` and percent escapes).
fn url_pairs(q: &str) -> Vec<(String, String)> {
    let url = reqwest::Url::parse(&format!("http://x/?{q}")).expect("a query string");
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn send(p: &Proxy, req: &Req, original_body: &Bytes) -> Resp {
    let mut url = reqwest::Url::parse(&format!("{}{}", p.upstream, req.path)).expect("url");
    if !req.query.is_empty() {
        url.query_pairs_mut().extend_pairs(&req.query);
    }
    let mut b = p.http.request(req.method.clone(), url);
    for (k, v) in &req.headers {
        if k != header::HOST && k != header::CONTENT_LENGTH {
            b = b.header(k, v);
        }
    }
    let body = match &req.body {
        Some(v) => Bytes::from(serde_json::to_vec(v).expect("json")),
        None => original_body.clone(),
    };
    if !body.is_empty() {
        b = b.header(header::CONTENT_TYPE, SCIM).body(body);
    }
    let r = b.send().await.expect("the reference server answers");
    let status = r.status().as_u16();
    let mut headers = r.headers().clone();
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    let bytes = r.bytes().await.unwrap_or_default();
    Resp {
        status,
        headers,
        body: serde_json::from_slice(&bytes).ok(),
        raw: None,
    }
}

fn to_response(r: Resp) -> Response {
    let (bytes, ct) = match (&r.raw, &r.body) {
        (Some((text, ct)), _) => (text.clone().into_bytes(), Some(*ct)),
        (None, Some(v)) => (serde_json::to_vec(v).expect("json"), None),
        (None, None) => (Vec::new(), None),
    };
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(r.status).expect("status");
    *resp.headers_mut() = r.headers;
    if let Some(ct) = ct {
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    resp
}

/// Starts a reference server and a proxy with `fault` in front of it; returns the proxy's base URL.
async fn start(fault: Option<Fault>) -> (String, RunningServer) {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
    let server = spawn(
        addr,
        ServerConfig {
            token: Some(TOKEN.into()),
        },
    )
    .await
    .expect("reference server");
    let upstream = format!("http://{}", server.addr);
    let proxy = Arc::new(Proxy {
        fault,
        upstream,
        http: reqwest::Client::new(),
    });
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    let url = format!("http://{}/scim/v2", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, server)
}

fn suites_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("suites/rfc")
}

/// Runs the RFC suites (up to `step`, if given) against `url`; returns the
/// exit code and the JSON report.
fn run_suites(url: &str, step: Option<&str>) -> (i32, Value, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let json_path = dir.path().join("report.json");
    let suites = suites_dir();
    let mut args = vec![
        "run",
        "--url",
        url,
        "--token",
        TOKEN,
        "--suite",
        suites.to_str().expect("utf-8 path"),
        "--json",
        json_path.to_str().expect("utf-8 path"),
        "-q",
    ];
    if let Some(s) = step {
        args.push(s);
    }
    let out = support::scimitar(dir.path(), &args);
    let report = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    (out.code, report, out.all())
}

/// The outcome of `suite::step` in a JSON report.
fn outcome(report: &Value, id: &str) -> Option<String> {
    let (suite, step) = id.split_once("::")?;
    report["suites"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == suite)?["steps"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == step)
        .and_then(|s| s["outcome"].as_str())
        .map(str::to_string)
}

fn advisory_step(id: &str) -> bool {
    let (suite, step) = id.split_once("::").expect("suite::step");
    let suites = scimitar::suite::load_paths(&[suites_dir()]).expect("the RFC suites load");
    suites
        .iter()
        .find(|s| s.name == suite)
        .and_then(|s| s.steps.iter().find(|st| st.name == step))
        .unwrap_or_else(|| panic!("no step {id} in suites/rfc"))
        .advisory
}

#[test]
fn transparent_proxy_passes_every_rfc_step() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (url, _server) = rt.block_on(start(None));
    let (code, report, out) = run_suites(&url, None);
    assert_eq!(code, 0, "{out}");
    let mut steps = 0;
    for s in report["suites"].as_array().expect("suites") {
        for st in s["steps"].as_array().expect("steps") {
            steps += 1;
            assert_eq!(
                st["outcome"], "passed",
                "{}::{}: {st}",
                s["name"], st["name"]
            );
        }
    }
    assert!(steps > 150, "only {steps} steps ran");
}

#[test]
fn every_fault_is_caught_by_its_step() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let faults = faults();
    let mut jobs = Vec::new();
    let mut servers = Vec::new();
    for f in faults {
        let (what, step) = (f.what, f.step);
        let (url, server) = rt.block_on(start(Some(f)));
        servers.push(server);
        jobs.push((what, step, url));
    }
    // A few binary runs at a time (the machine is shared), each worker
    // taking the next fault as soon as it is free.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some((what, step, url)) = jobs.get(i) else {
                        break;
                    };
                    let (_, report, out) = run_suites(url, Some(step));
                    let got = outcome(&report, step);
                    results
                        .lock()
                        .expect("results")
                        .push((*what, *step, got, out));
                }
            });
        }
    });
    let results = results.into_inner().expect("results");
    assert_eq!(results.len(), jobs.len());
    let mut missed = Vec::new();
    for (what, step, got, out) in &results {
        let want = if advisory_step(step) {
            "advisory"
        } else {
            "failed"
        };
        if got.as_deref() != Some(want) {
            missed.push(format!(
                "fault '{what}': {step} was {got:?}, expected {want}\n{out}"
            ));
        }
    }
    assert!(missed.is_empty(), "{}", missed.join("\n\n"));
}

#[test]
fn suites_for_unadvertised_features_are_skipped_not_failed() {
    // A server that says it lacks PATCH, sort, ETags, Bulk and Groups: the
    // suites needing them are skipped with the reason, the rest still pass.
    let modest = Fault {
        what: "advertises no patch, sort, etag, bulk or groups",
        step: "",
        on_request: pass_req,
        on_response: |req, resp| {
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
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (url, _server) = rt.block_on(start(Some(modest)));
    let (code, report, out) = run_suites(&url, None);
    assert_eq!(code, 0, "{out}");
    for s in report["suites"].as_array().expect("suites") {
        let name = s["name"].as_str().unwrap_or_default();
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
        ]
        .contains(&name);
        for st in s["steps"].as_array().expect("steps") {
            let want = if needs_missing { "skipped" } else { "passed" };
            assert_eq!(st["outcome"], want, "{name}::{}: {st}", st["name"]);
            if needs_missing {
                assert!(
                    st["skip_reason"]
                        .as_str()
                        .is_some_and(|r| r.contains("does not support")),
                    "{name}: {st}"
                );
            }
        }
    }
}
