//! Judging by what the server declares, RFC 7643's comparison rules, and the
//! checks issue 14 added. Each test puts a small proxy in front of the
//! reference server: a *legal variant* (an undeclared extension, lower-cased
//! email domains, lower-case attribute names, shuffled unsorted lists) must
//! pass, and a *fault* must fail the step named for it.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue, Method, header};
use scimitar::http::{Auth, Client, HttpConfig};
use scimitar::results::{Outcome, RunResult, StepResult};
use scimitar::runner::Run;
use serde_json::{Value, json};

use crate::support::proxy::{Hooks, Proxied, Req, Resp, start_with};

const TOKEN: &str = "declared-token";
const SCIM: &str = "application/scim+json";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// What the proxy changes: the request (or answers it itself), then the response.
type Change = Hooks;

/// A reference server behind a proxy making `change`.
async fn start(change: Change) -> Proxied {
    start_with(change, Some(TOKEN)).await
}

/// Every built-in profile's suites, and the RFC's.
const EVERY_SUITE_DIR: &[&str] = &[
    "suites/entra",
    "suites/okta",
    "suites/rfc",
    "suites/google-workspace",
    "suites/pingfederate",
    "suites/jumpcloud",
    "suites/onelogin",
];

fn suites(dirs: &[&str]) -> Vec<scimitar::suite::Suite> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let paths: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
    scimitar::suite::load_paths(&paths).expect("the suites load")
}

/// Runs `suites` (only the `suite::step`s named, with the steps before them,
/// when `only` is not empty) through a proxy making `change`.
fn run(change: Change, suites: Vec<scimitar::suite::Suite>, only: &[&str]) -> RunResult {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let proxied = start(change).await;
        let mut cfg = HttpConfig::new(proxied.url.parse().expect("url"));
        cfg.auth = Auth::Bearer(TOKEN.into());
        let client = Arc::new(Client::new(cfg).expect("client"));
        let selection: Option<HashSet<(String, String)>> = (!only.is_empty()).then(|| {
            only.iter()
                .map(|id| {
                    let (s, st) = id.split_once("::").expect("suite::step");
                    (s.to_string(), st.to_string())
                })
                .collect()
        });
        Run::new(suites)
            .jobs(4)
            .select(selection)
            .execute(client)
            .await
            .expect("the proxy answers discovery")
    })
}

fn step<'a>(r: &'a RunResult, id: &str) -> &'a StepResult {
    let (suite, name) = id.split_once("::").expect("suite::step");
    r.suites
        .iter()
        .find(|s| s.name == suite)
        .and_then(|s| s.steps.iter().find(|st| st.name == name))
        .unwrap_or_else(|| panic!("no step {id} in the run"))
}

/// Every step that failed, with its findings, one per line.
fn failures(r: &RunResult) -> Vec<String> {
    r.suites
        .iter()
        .flat_map(|s| {
            s.steps
                .iter()
                .filter(|st| st.outcome == Outcome::Failed)
                .map(|st| {
                    let why: Vec<String> = st
                        .findings
                        .iter()
                        .map(|f| format!("{}: {}", f.subject, f.message))
                        .collect();
                    format!(
                        "{}::{} {} {}",
                        s.name,
                        st.name,
                        why.join("; "),
                        st.error.as_deref().unwrap_or("")
                    )
                })
        })
        .collect()
}

/// No step of a run of [`EVERY_SUITE_DIR`] failed, and most of them passed
/// (a run that checked nothing proves nothing).
fn every_suite_passes(r: &RunResult) {
    assert!(failures(r).is_empty(), "{:#?}", failures(r));
    let passed = count(r, Outcome::Passed);
    assert!(passed >= 300, "only {passed} steps passed");
}

fn count(r: &RunResult, o: Outcome) -> usize {
    r.suites
        .iter()
        .flat_map(|s| &s.steps)
        .filter(|st| st.outcome == o)
        .count()
}

/// Applies `f` to every object in `v`, depth first.
fn each_object(v: &mut Value, f: &dyn Fn(&mut serde_json::Map<String, Value>)) {
    match v {
        Value::Object(m) => {
            for x in m.values_mut() {
                each_object(x, f);
            }
            f(m);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| each_object(x, f)),
        _ => {}
    }
}

/// The resources of a Users/Groups response body: itself or its `Resources`.
fn resources(body: &mut Value) -> Vec<&mut Value> {
    if body.get("Resources").is_some() {
        body["Resources"]
            .as_array_mut()
            .map(|a| a.iter_mut().collect())
            .unwrap_or_default()
    } else if body.get("id").is_some() {
        vec![body]
    } else {
        Vec::new()
    }
}

fn on_resources(req: &Req, resp: &mut Resp, f: &dyn Fn(&mut Value)) {
    let scim = req.scim_path().starts_with("/Users") || req.scim_path().starts_with("/Groups");
    if let (true, Some(b)) = (scim, resp.body.as_mut()) {
        for r in resources(b) {
            f(r);
        }
    }
}

// ------------------------------------------------------------ legal variants

/// A server that never claims the enterprise extension: not in
/// /ResourceTypes, not in /Schemas, and never stored or returned.
fn without_enterprise() -> Change {
    Change {
        on_request: Box::new(|r| {
            if let Some(b) = r.body.as_mut().and_then(Value::as_object_mut) {
                b.retain(|k, _| !k.eq_ignore_ascii_case(ENTERPRISE));
                if let Some(s) = b.get_mut("schemas").and_then(Value::as_array_mut) {
                    s.retain(|u| u != ENTERPRISE);
                }
            }
            // PATCH paths into the extension: ignored, like any unknown attribute.
            if r.method == Method::PATCH
                && let Some(ops) = r
                    .body
                    .as_mut()
                    .and_then(|b| b.get_mut("Operations"))
                    .and_then(Value::as_array_mut)
            {
                ops.retain(|op| {
                    !op["path"]
                        .as_str()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains(":extension:enterprise:")
                });
                for op in ops.iter_mut() {
                    if let Some(v) = op.get_mut("value").and_then(Value::as_object_mut) {
                        v.retain(|k, _| !k.to_lowercase().contains(":extension:enterprise:"));
                    }
                }
            }
            None
        }),
        on_response: Box::new(|req, resp| {
            let Some(b) = resp.body.as_mut() else {
                return;
            };
            match req.scim_path() {
                "/ResourceTypes" => each_object(b, &|m| {
                    m.remove("schemaExtensions");
                }),
                "/Schemas" => {
                    if let Some(items) = b.get_mut("Resources").and_then(Value::as_array_mut) {
                        items.retain(|s| s["id"] != ENTERPRISE);
                        let n = items.len();
                        b["totalResults"] = json!(n);
                        b["itemsPerPage"] = json!(n);
                    }
                }
                _ => each_object(b, &|m| {
                    m.remove(ENTERPRISE);
                    if let Some(s) = m.get_mut("schemas").and_then(Value::as_array_mut) {
                        s.retain(|u| u != ENTERPRISE);
                    }
                }),
            }
        }),
    }
}

#[test]
fn an_undeclared_extension_is_advice_not_failure() {
    let r = run(
        without_enterprise(),
        suites(&["suites/entra", "suites/okta", "suites/rfc"]),
        &[],
    );
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    // The server's own /Schemas judged, and the results name them.
    assert!(r.schemas.by_server(), "{:?}", r.schemas);
    assert!(r.schemas.why.is_none());
    assert!(
        !r.schemas.ids.iter().any(|id| id == ENTERPRISE),
        "{:?}",
        r.schemas
    );
    assert!(
        r.schemas
            .describe()
            .starts_with("the server's /Schemas (core:2.0:User"),
        "{}",
        r.schemas.describe()
    );
    // The Entra steps that expect enterprise attributes say what to do.
    let advised: Vec<&StepResult> = r
        .suites
        .iter()
        .filter(|s| s.idp.starts_with("entra"))
        .flat_map(|s| &s.steps)
        .filter(|st| st.outcome == Outcome::Advisory)
        .collect();
    assert!(!advised.is_empty(), "no Entra step was advisory");
    let advice = &advised[0].findings[0].message;
    assert!(
        advice.contains("Entra's default attribute mapping sends urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:")
            && advice.contains("your /Schemas does not declare the enterprise extension"),
        "{advice}"
    );
    // Nothing hides behind an advisory step: the later steps ran.
    // The RFC enterprise suites are skipped: the server never claimed it.
    assert!(count(&r, Outcome::Skipped) > 0);
    for s in r.suites.iter().filter(|s| s.idp.starts_with("entra")) {
        assert!(
            s.steps.iter().all(|st| st.outcome != Outcome::Skipped),
            "{}: a step was skipped",
            s.name
        );
    }
}

#[test]
fn a_declared_attribute_that_is_dropped_still_fails() {
    // The extension is declared (the reference server's own /Schemas), but
    // department never comes back.
    let r = run(
        Change::response(|req, resp| {
            on_resources(req, resp, &|res| {
                if let Some(e) = res.get_mut(ENTERPRISE).and_then(Value::as_object_mut) {
                    e.remove("department");
                }
            })
        }),
        suites(&["suites/entra"]),
        &[],
    );
    let f = failures(&r);
    assert!(
        f.iter().any(|l| l.contains("department")),
        "no failure names department: {f:#?}"
    );
}

/// A suite whose user has a mixed-case email domain and externalId.
const MIXED_CASE: &str = r#"
name: mixed-case
idp: rfc
steps:
  - name: create
    request:
      method: POST
      path: /Users
      body:
        schemas: [urn:ietf:params:scim:schemas:core:2.0:User]
        userName: "{{prefix}}-ada"
        externalId: "{{prefix}}-Ext-ADA"
        emails: [{ value: "{{prefix}}-ada@Example.COM", type: work, primary: true }]
    expect:
      status: 201
      json:
        "$.emails[0].value": "{{prefix}}-ada@Example.COM"
        "$.emails": [{ value: "{{prefix}}-ada@Example.COM", type: work }]
        "$.emails[?@.type == 'work'].value": "{{prefix}}-ada@Example.COM"
    capture: { id: "$.id" }
  - name: external-id
    request: { method: GET, path: "/Users/{{id}}" }
    expect:
      status: 200
      json: { "$.externalId": "{{prefix}}-Ext-ADA" }
"#;

fn mixed_case_suite() -> Vec<scimitar::suite::Suite> {
    vec![scimitar::suite::load_str("mixed-case.yaml".as_ref(), MIXED_CASE).expect("suite")]
}

fn lower_email_domains(req: &Req, resp: &mut Resp) {
    on_resources(req, resp, &|res| {
        if let Some(emails) = res.get_mut("emails").and_then(Value::as_array_mut) {
            for e in emails {
                if let Some(v) = e["value"].as_str() {
                    let (local, domain) = v.split_once('@').unwrap_or((v, ""));
                    e["value"] = json!(format!("{local}@{}", domain.to_lowercase()));
                    // `type` is caseExact: false too (RFC 7643 §4.1.2).
                    e["type"] = json!("Work");
                }
            }
        }
    })
}

#[test]
fn a_lower_cased_email_domain_and_capitalised_type_pass_but_a_changed_case_exact_value_fails() {
    let r = run(
        Change::response(lower_email_domains),
        mixed_case_suite(),
        &[],
    );
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    assert_eq!(count(&r, Outcome::Passed), 2);
    // externalId is caseExact (RFC 7643 §3.1): lower-casing it is a change.
    let r = run(
        Change::response(|req, resp| {
            on_resources(req, resp, &|res| {
                if let Some(x) = res["externalId"].as_str() {
                    res["externalId"] = json!(x.to_lowercase());
                }
            })
        }),
        mixed_case_suite(),
        &[],
    );
    assert_eq!(step(&r, "mixed-case::external-id").outcome, Outcome::Failed);
    // Another address is not a case difference.
    let r = run(
        Change::response(|req, resp| {
            on_resources(req, resp, &|res| {
                if let Some(e) = res.pointer_mut("/emails/0/value") {
                    *e = json!("someone-else@example.com");
                }
            })
        }),
        mixed_case_suite(),
        &[],
    );
    assert_eq!(step(&r, "mixed-case::create").outcome, Outcome::Failed);
}

#[test]
fn lower_case_attribute_names_pass() {
    // RFC 7643 §2.1: attribute names are case-insensitive; this server
    // answers with every resource member name lower-cased.
    let r = run(
        Change::response(|req, resp| {
            on_resources(req, resp, &|res| {
                each_object(res, &|m| {
                    let taken = std::mem::take(m);
                    for (k, v) in taken {
                        let k = if k.starts_with("urn:") {
                            k
                        } else {
                            k.to_lowercase()
                        };
                        m.insert(k, v);
                    }
                })
            })
        }),
        suites(&["suites/rfc", "suites/entra", "suites/okta"]),
        &[],
    );
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    assert!(count(&r, Outcome::Passed) > 300);
}

#[test]
fn shuffled_unsorted_lists_pass() {
    // Without sortBy a server promises no order (RFC 7644 §3.4.2.4): this
    // one pages over a freshly shuffled result set on every request, and
    // shuffles members and emails (multi-valued attributes are sets).
    let counter = Arc::new(AtomicUsize::new(1));
    let c = counter.clone();
    let change = Change {
        on_request: Box::new(|r| {
            // Fetch the whole set; the proxy pages it itself.
            if r.method == Method::GET
                && (r.scim_path() == "/Users" || r.scim_path() == "/Groups")
                && r.param("sortBy").is_none()
            {
                let start = r.param("startIndex").unwrap_or("1").to_string();
                let count = r.param("count").map(str::to_string);
                r.query.retain(|(k, _)| k != "startIndex" && k != "count");
                r.query.push(("x-start".into(), start));
                if let Some(c) = count {
                    r.query.push(("x-count".into(), c));
                }
            }
            None
        }),
        on_response: Box::new(move |req, resp| {
            let seed = c.fetch_add(1, Ordering::SeqCst);
            let shuffle = |a: &mut Vec<Value>| {
                let n = a.len();
                for i in (1..n).rev() {
                    a.swap(i, (seed * 7919 + i * 104729) % (i + 1));
                }
            };
            let Some(b) = resp.body.as_mut() else {
                return;
            };
            if req.scim_path().starts_with("/Users") || req.scim_path().starts_with("/Groups") {
                each_object(b, &|m| {
                    for k in ["members", "emails"] {
                        if let Some(Value::Array(a)) = m.get_mut(k) {
                            let n = a.len();
                            for i in (1..n).rev() {
                                a.swap(i, (seed + i) % (i + 1));
                            }
                        }
                    }
                });
            }
            if let Some(start) = req.param("x-start") {
                let Some(items) = b.get_mut("Resources").and_then(Value::as_array_mut) else {
                    return;
                };
                shuffle(items);
                let start = start.parse::<i64>().unwrap_or(1).max(1) as usize;
                let count = req
                    .param("x-count")
                    .map(|c| c.parse::<i64>().unwrap_or(0).max(0) as usize)
                    .unwrap_or(usize::MAX);
                let page: Vec<Value> = items.iter().skip(start - 1).take(count).cloned().collect();
                let n = page.len();
                *items = page;
                b["startIndex"] = json!(start);
                b["itemsPerPage"] = json!(n);
            }
        }),
    };
    let r = run(change, suites(&["suites/rfc", "suites/okta"]), &[]);
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    assert!(counter.load(Ordering::SeqCst) > 100);
}

// ------------------------------------------------------------ faults

/// Runs the RFC suites up to `id` through `change`; that step's outcome.
fn outcome_under(change: Change, id: &str) -> (Outcome, String) {
    let r = run(change, suites(&["suites/rfc"]), &[id]);
    let st = step(&r, id);
    let why: Vec<String> = st
        .findings
        .iter()
        .map(|f| format!("{}: {}", f.subject, f.message))
        .collect();
    (st.outcome, why.join("; "))
}

fn html(status: u16, text: &str) -> Resp {
    Resp {
        status,
        headers: HeaderMap::new(),
        body: None,
        raw: Some((format!("<html><body>{text}</body></html>"), "text/html")),
    }
}

#[test]
fn a_401_without_www_authenticate_fails() {
    let (o, why) = outcome_under(
        Change::response(|_, resp| {
            resp.headers.remove(header::WWW_AUTHENTICATE);
        }),
        "rfc-auth::challenge-without-token",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
    assert!(why.contains("WWW-Authenticate"), "{why}");
}

#[test]
fn attributes_dropping_schemas_fails() {
    let (o, why) = outcome_under(
        Change::response(|req, resp| {
            if req.param("attributes").is_some()
                && let Some(b) = resp.body.as_mut().and_then(Value::as_object_mut)
            {
                b.remove("schemas");
            }
        }),
        "rfc-read::get-attributes",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
    assert!(why.contains("'schemas'"), "{why}");
}

#[test]
fn a_put_that_leaves_an_empty_external_id_fails() {
    let (o, why) = outcome_under(
        Change::response(|req, resp| {
            if req.method == Method::PUT {
                on_resources(req, resp, &|res| {
                    if res.get("externalId").is_none() {
                        res["externalId"] = json!("");
                    }
                })
            }
        }),
        "rfc-put::put-without-external-id",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
    assert!(why.contains("$.externalId is \"\""), "{why}");
}

#[test]
fn a_put_that_drops_display_name_fails() {
    let (o, why) = outcome_under(
        Change::request(|r| {
            if r.method == Method::PUT
                && let Some(b) = r.body.as_mut().and_then(Value::as_object_mut)
            {
                b.remove("displayName");
            }
            None
        }),
        "rfc-put::put-without-external-id",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
    assert!(why.contains("displayName"), "{why}");
}

#[test]
fn an_html_page_for_a_non_uuid_id_fails() {
    let (o, why) = outcome_under(
        Change::request(|r| {
            let id = r.scim_path().rsplit('/').next().unwrap_or("");
            (r.is_item("/Users") && uuid::Uuid::parse_str(id).is_err()).then(|| {
                html(
                    500,
                    "java.lang.IllegalArgumentException: Invalid UUID string",
                )
            })
        }),
        "rfc-read::unknown-id-not-a-uuid",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
}

#[test]
fn a_member_added_twice_listed_twice_fails() {
    // Remembers each (group, member) added; a second add appends again.
    let added: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let dup: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let (a, d) = (added.clone(), dup.clone());
    let change = Change {
        on_request: Box::new(move |r| {
            if r.method == Method::PATCH && r.is_item("/Groups") {
                let gid = r.scim_path().rsplit('/').next().unwrap_or("").to_string();
                for op in r
                    .body
                    .as_ref()
                    .and_then(|b| b["Operations"].as_array())
                    .into_iter()
                    .flatten()
                {
                    if op["op"] == "add" && op["path"] == "members" {
                        for m in op["value"].as_array().into_iter().flatten() {
                            let key = (gid.clone(), m["value"].as_str().unwrap_or("").to_string());
                            let mut seen = a.lock().expect("added");
                            if seen.contains(&key) {
                                d.lock().expect("dup").push(key);
                            } else {
                                seen.push(key);
                            }
                        }
                    }
                }
            }
            None
        }),
        on_response: Box::new(move |req, resp| {
            if req.method != Method::GET || !req.is_item("/Groups") {
                return;
            }
            let gid = req.scim_path().rsplit('/').next().unwrap_or("");
            let dups = dup.lock().expect("dup").clone();
            if let Some(members) = resp
                .body
                .as_mut()
                .and_then(|b| b.get_mut("members"))
                .and_then(Value::as_array_mut)
            {
                for (_, m) in dups.iter().filter(|(g, _)| g == gid) {
                    members.push(json!({"value": m}));
                }
            }
        }),
    };
    let (o, why) = outcome_under(change, "rfc-groups::verify-not-duplicated");
    assert_eq!(o, Outcome::Failed, "{why}");
}

#[test]
fn a_meta_location_that_is_not_the_resource_fails() {
    let (o, why) = outcome_under(
        Change::response(|req, resp| {
            on_resources(req, resp, &|res| {
                if let Some(l) = res.pointer_mut("/meta/location") {
                    let s = l.as_str().unwrap_or("").to_string();
                    // The collection, not the resource.
                    *l = json!(s.rsplit_once('/').map(|(c, _)| c).unwrap_or(&s));
                }
            })
        }),
        "rfc-read::get-by-id",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
    assert!(why.contains("meta.location"), "{why}");
}

#[test]
fn an_id_shared_by_a_user_and_a_group_fails() {
    // GET /Groups/<a user's id> finds the user: two resources, one id.
    let (o, why) = outcome_under(
        Change::request(|r| {
            if r.method == Method::GET && r.is_item("/Groups") {
                let id = r.scim_path().rsplit('/').next().unwrap_or("").to_string();
                r.path = format!("/scim/v2/Users/{id}");
            }
            None
        }),
        "rfc-ids::user-id-names-no-group",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
}

#[test]
fn items_per_page_as_the_page_size_is_advisory() {
    let (o, why) = outcome_under(
        Change::response(|req, resp| {
            if let (Some(c), Some(b)) = (req.param("count"), resp.body.as_mut())
                && b.get("Resources").is_some()
            {
                b["itemsPerPage"] = json!(c.parse::<u64>().unwrap_or(0) + 19);
            }
        }),
        "rfc-pagination::page-1-of-5",
    );
    assert_eq!(o, Outcome::Advisory, "{why}");
    assert!(why.contains("itemsPerPage is 20"), "{why}");
}

#[test]
fn accepts_application_json_judges_the_media_type_not_optional_attributes() {
    // A server that keeps no title (and says so) passes; one that refuses
    // application/json does not.
    let (o, why) = outcome_under(
        Change::response(|req, resp| {
            on_resources(req, resp, &|res| {
                if let Some(m) = res.as_object_mut() {
                    m.remove("title");
                }
            })
        }),
        "rfc-media-type::accepts-application-json",
    );
    assert_eq!(o, Outcome::Passed, "{why}");
    let (o, why) = outcome_under(
        Change::request(|r| {
            r.headers
                .get(header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
                .then(|| Resp::empty(415))
        }),
        "rfc-media-type::accepts-application-json",
    );
    assert_eq!(o, Outcome::Advisory, "{why}");
}

#[test]
fn a_filter_on_an_attribute_declared_not_filterable_is_not_judged() {
    // The server says `active` is not filterable and refuses such filters
    // with 400 invalidFilter (RFC 7644 §3.4.2.2, §3.12): legal, so the step
    // is not checked and says why.
    let not_filterable = || Change {
        on_request: Box::new(|r| {
            r.param("filter")
                .is_some_and(|f| f.contains("active"))
                .then(|| scim_error(400, "invalidFilter"))
        }),
        on_response: Box::new(declared_not_filterable("active")),
    };
    let r = run(
        not_filterable(),
        suites(&["suites/rfc/filters.yaml"]),
        &["rfc-filters::boolean-eq-true"],
    );
    let st = step(&r, "rfc-filters::boolean-eq-true");
    assert_eq!(st.outcome, Outcome::Skipped, "{st:?}");
    assert!(
        st.skip_reason.as_ref().is_some_and(|s| s
            .to_string()
            .contains("active eq true` with 400 invalidFilter")),
        "{st:?}"
    );
    // Without that declaration the refusal is a failure.
    let (o, why) = outcome_under(
        Change::request(|r| {
            r.param("filter")
                .is_some_and(|f| f.contains("active"))
                .then(|| Resp::empty(400))
        }),
        "rfc-filters::boolean-eq-true",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
}

/// [`without_enterprise`], except that a create sending the extension is
/// refused with 400 and `detail`.
fn refusing_enterprise(detail: &'static str) -> Change {
    let lenient = without_enterprise();
    Change {
        on_request: Box::new(move |r| {
            let sends = r.method == Method::POST
                && r.scim_path() == "/Users"
                && r.body.as_ref().is_some_and(|b| b.get(ENTERPRISE).is_some());
            if sends {
                return Some(Resp {
                    status: 400,
                    headers: HeaderMap::new(),
                    body: Some(
                        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                        "status": "400", "scimType": "invalidValue", "detail": detail}),
                    ),
                    raw: None,
                });
            }
            (lenient.on_request)(r)
        }),
        on_response: lenient.on_response,
    }
}

#[test]
fn a_create_refused_for_an_undeclared_extension_is_advice() {
    let id = "entra-users::create-user";
    let r = run(
        refusing_enterprise(
            "unknown schema urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ),
        suites(&["suites/entra"]),
        &[id],
    );
    let st = step(&r, id);
    assert_eq!(st.outcome, Outcome::Advisory, "{:?}", st.findings);
    assert!(
        st.findings[0]
            .message
            .contains("remove those mappings from the Entra app"),
        "{:?}",
        st.findings
    );
    // Refused for something else: still a failure, with what else was sent.
    let r = run(
        refusing_enterprise("emails[0].value is malformed"),
        suites(&["suites/entra"]),
        &[id],
    );
    let st = step(&r, id);
    assert_eq!(st.outcome, Outcome::Failed, "{:?}", st.findings);
    assert!(
        st.findings.iter().any(|f| f.message.contains(
            "the request sends urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
        )),
        "{:?}",
        st.findings
    );
}

#[test]
fn without_schemas_published_rfc_7643_judges() {
    // No /Schemas: the enterprise attributes the server drops are judged by
    // RFC 7643's definitions, so the drop is a failure as before.
    let lenient = without_enterprise();
    let change = Change {
        on_request: Box::new(move |r| {
            if r.scim_path().starts_with("/Schemas") {
                return Some(Resp {
                    status: 404,
                    headers: HeaderMap::new(),
                    body: Some(
                        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                        "status": "404"}),
                    ),
                    raw: None,
                });
            }
            (lenient.on_request)(r)
        }),
        on_response: lenient.on_response,
    };
    let r = run(change, suites(&["suites/entra"]), &[]);
    let f = failures(&r);
    assert!(
        f.iter().any(|l| l.contains(ENTERPRISE)),
        "no failure names the enterprise extension: {f:#?}"
    );
    // The results say so, and why.
    assert_eq!(r.schemas.source, "rfc7643");
    assert_eq!(r.schemas.why.as_deref(), Some("GET /Schemas answered 404"));
    assert!(r.schemas.ids.iter().any(|id| id == ENTERPRISE));
    assert_eq!(
        r.schemas.describe(),
        "RFC 7643's definitions (GET /Schemas answered 404)"
    );
}

#[test]
fn user_name_filters_cannot_be_declared_away() {
    // Entra and Okta match every user by `userName eq`: a server declaring
    // userName not filterable and refusing the filter still fails.
    let (o, why) = outcome_under(
        Change {
            on_request: Box::new(|r| {
                r.param("filter")
                    .is_some_and(|f| f.starts_with("userName eq"))
                    .then(|| scim_error(400, "invalidFilter"))
            }),
            on_response: Box::new(declared_not_filterable("userName")),
        },
        "rfc-filters::eq",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
    assert!(!why.contains("not judged"), "{why}");
}

#[test]
fn bulk_creates_are_cleaned_up_whatever_host_their_location_names() {
    // Behind a load balancer a server names its public host (and prefix) in
    // Bulk `location`s; what those operations created is still deleted.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let proxied = start(Change::response(|req, resp| {
            if req.scim_path().eq_ignore_ascii_case("/Bulk")
                && let Some(ops) = resp
                    .body
                    .as_mut()
                    .and_then(|b| b.get_mut("Operations"))
                    .and_then(Value::as_array_mut)
            {
                for op in ops {
                    if let Some(loc) = op.get("location").and_then(Value::as_str) {
                        let tail = &loc[loc.find("/Users/").or(loc.find("/Groups/")).unwrap()..];
                        op["location"] = json!(format!("https://scim.example.com/api/v2{tail}"));
                    }
                }
            }
        }))
        .await;
        let mut cfg = HttpConfig::new(proxied.url.parse().expect("url"));
        cfg.auth = Auth::Bearer(TOKEN.into());
        let client = Arc::new(Client::new(cfg).expect("client"));
        let r = Run::new(suites(&["suites/rfc/bulk.yaml"]))
            .execute(client)
            .await
            .expect("the proxy answers discovery");
        let cleaned: Vec<&str> = r.suites[0]
            .cleanup
            .iter()
            .map(|c| c.path.as_str())
            .collect();
        assert!(
            cleaned.iter().any(|p| p.starts_with("/Users/"))
                && cleaned.iter().any(|p| p.starts_with("/Groups/")),
            "the Bulk creates were not tracked: {cleaned:?}"
        );
        assert!(!r.has_leftovers(), "{:?}", r.suites[0].cleanup);
        // Straight to the reference server: nothing the run made is left.
        let http = reqwest::Client::new();
        for list in ["Users", "Groups"] {
            let body: Value = http
                .get(format!("{}/{list}", proxied.upstream))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("the reference server answers")
                .json()
                .await
                .expect("a ListResponse");
            assert_eq!(body["totalResults"], json!(0), "{list} left: {body}");
        }
    });
}

// ------------------------------------------------------- the userName lookup

/// A `/Schemas` that declares the attribute `name` `filterable: false`.
fn declared_not_filterable(name: &'static str) -> impl Fn(&Req, &mut Resp) + Send + Sync {
    move |req, resp| {
        if req.scim_path() == "/Schemas"
            && let Some(b) = resp.body.as_mut()
        {
            each_object(b, &|m| {
                if m.get("name") == Some(&json!(name)) {
                    m.insert("filterable".into(), json!(false));
                }
            });
        }
    }
}

fn scim_error(status: u16, scim_type: &str) -> Resp {
    Resp {
        status,
        headers: HeaderMap::new(),
        body: Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": status.to_string(), "scimType": scim_type}),
        ),
        raw: None,
    }
}

/// The server says `filter.supported: false` in /ServiceProviderConfig.
fn declare_no_filter(req: &Req, resp: &mut Resp) {
    if req.scim_path() == "/ServiceProviderConfig"
        && let Some(b) = resp.body.as_mut()
    {
        b["filter"]["supported"] = json!(false);
    }
}

/// The verdict text of every IdP profile that ran.
fn idp_verdicts(r: &RunResult) -> Vec<(String, String)> {
    let c = scimitar::report::compat::Compat::new(r);
    c.profiles
        .iter()
        .filter(|p| p.suites > 0 && !p.custom && p.idp != "rfc")
        .map(|p| (p.idp.clone(), p.verdict_text()))
        .collect()
}

fn lookup(r: &RunResult) -> &scimitar::results::LookupCheck {
    r.lookup
        .as_ref()
        .expect("IdP suites ran: the lookup was checked")
}

#[test]
fn a_server_that_declares_no_filtering_fails_every_idp_profile_on_one_finding() {
    // filter.supported false, and every filter refused: legal for RFC 7644,
    // fatal for the IdPs. One finding names the cause for each profile.
    let mut change = Change::response(declare_no_filter);
    change.on_request = Box::new(|r| r.param("filter").map(|_| scim_error(400, "invalidFilter")));
    let r = run(change, suites(&["suites/entra", "suites/okta"]), &[]);
    let l = lookup(&r);
    assert_eq!(l.outcome, scimitar::results::LookupOutcome::Broken, "{l:?}");
    assert!(
        l.summary.contains("answered 400 (scimType invalidFilter)")
            && l.summary
                .contains("(/ServiceProviderConfig declares filter.supported false)"),
        "{}",
        l.summary
    );
    assert_eq!(l.profiles, ["entra", "entra-legacy", "okta", "okta-aiw"]);
    let v = idp_verdicts(&r);
    assert_eq!(v.len(), 4, "{v:?}");
    for (idp, text) in &v {
        assert!(
            text.starts_with("not compatible: its userName lookup is broken"),
            "{idp}: {text}"
        );
    }
    // The lookup's own users are gone.
    assert_eq!(l.cleanup.len(), 2, "{:?}", l.cleanup);
    assert!(l.cleanup.iter().all(|c| c.ok()), "{:?}", l.cleanup);
}

#[test]
fn a_filter_that_is_ignored_or_loose_is_found_with_two_users_present() {
    // Ignored: every user comes back, whatever the filter says.
    let ignored = Change::request(|r| {
        if r.param("filter").is_some() {
            r.query.retain(|(k, _)| !k.eq_ignore_ascii_case("filter"));
        }
        None
    });
    let r = run(ignored, suites(&["suites/okta/users.yaml"]), &[]);
    let l = lookup(&r);
    assert_eq!(l.outcome, scimitar::results::LookupOutcome::Broken);
    assert!(
        l.summary.contains("returned 1 user(s) not named")
            && l.summary
                .contains("the filter is ignored or matched loosely"),
        "{}",
        l.summary
    );
    // Loose: `eq` matched as `sw`. The first name starts the second.
    let loose = Change::request(|r| {
        if let Some(f) = r.param("filter").map(str::to_string)
            && let Some(rest) = f.strip_prefix("userName eq ")
        {
            let sw = format!("userName sw {rest}");
            r.query.retain(|(k, _)| !k.eq_ignore_ascii_case("filter"));
            r.query.push(("filter".into(), sw));
        }
        None
    });
    let r = run(loose, suites(&["suites/okta/users.yaml"]), &[]);
    let l = lookup(&r);
    assert_eq!(l.outcome, scimitar::results::LookupOutcome::Broken, "{l:?}");
    assert!(
        l.summary.contains("-lookup@example.com.au"),
        "{}",
        l.summary
    );
    assert_eq!(
        idp_verdicts(&r)[0].1.split(',').next(),
        Some("not compatible: its userName lookup is broken")
    );
}

#[test]
fn a_working_lookup_passes_even_when_filtering_is_declared_unsupported() {
    // The IdPs never read /ServiceProviderConfig: a lookup that works is
    // what they need. The line still says the declaration is wrong.
    let r = run(
        Change::response(declare_no_filter),
        suites(&["suites/entra/users.yaml"]),
        &[],
    );
    let l = lookup(&r);
    assert_eq!(l.outcome, scimitar::results::LookupOutcome::Works, "{l:?}");
    assert_eq!(l.declared_filter, Some(false));
    assert!(
        l.summary
            .contains("declares filter.supported false all the same")
    );
    assert_eq!(l.exchanges.len(), 4, "two creates, two lookups");
    assert_eq!(idp_verdicts(&r), [("entra".into(), "compatible".into())]);
}

#[test]
fn a_lookup_that_cannot_be_set_up_never_leaves_a_profile_compatible() {
    // Only the lookup's users are refused: every step passes, yet the lookup
    // was not checked, so no IdP verdict claims it.
    let change = Change::request(|r| {
        (r.method == Method::POST
            && r.body
                .as_ref()
                .and_then(|b| b["userName"].as_str())
                .is_some_and(|n| n.contains("-lookup@")))
        .then(|| scim_error(400, "invalidValue"))
    });
    let r = run(change, suites(&["suites/entra/users.yaml"]), &[]);
    let l = lookup(&r);
    assert_eq!(l.outcome, scimitar::results::LookupOutcome::Unchecked);
    assert!(
        l.summary
            .contains("could not be created: POST /Users answered 400 (scimType invalidValue)"),
        "{}",
        l.summary
    );
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    assert_eq!(
        idp_verdicts(&r),
        [(
            "entra".into(),
            "incomplete: its userName lookup could not be checked".into()
        )]
    );
    assert!(scimitar::report::compat::Compat::new(&r).unfinished());
}

#[test]
fn rfc_suites_alone_do_not_check_the_lookup() {
    let r = run(
        Change::response(|_, _| {}),
        suites(&["suites/rfc/create.yaml"]),
        &[],
    );
    assert!(r.lookup.is_none());
}

/// `scimitar run --url <proxy> --token … --suite builtin ARGS` through a
/// proxy making `change`, in a fresh folder (returned, for the reports).
fn cli_through(change: Change, args: &[&str]) -> (crate::support::Output, tempfile::TempDir) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let proxied = rt.block_on(start(change));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut all = vec![
        "run",
        "--url",
        &proxied.url,
        "--token",
        TOKEN,
        "--suite",
        "builtin",
    ];
    all.extend_from_slice(args);
    let out = crate::support::scimitar(dir.path(), &all);
    (out, dir)
}

#[test]
fn a_broken_lookup_is_one_line_on_the_console_exit_1_and_in_the_json() {
    let mut change = Change::response(declare_no_filter);
    change.on_request = Box::new(|r| r.param("filter").map(|_| scim_error(400, "invalidFilter")));
    let dir = tempfile::tempdir().expect("tempdir");
    let json_path = dir.path().join("run.json");
    let junit_path = dir.path().join("junit.xml");
    let (out, _cwd) = cli_through(
        change,
        &[
            "--idp",
            "okta-aiw",
            "-q",
            "--json",
            json_path.to_str().expect("utf-8"),
            "--junit",
            junit_path.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    if std::env::var_os("SHOW").is_some() {
        eprintln!("{}", out.all());
    }
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("userName lookup"))
        .unwrap_or_else(|| panic!("no lookup line:\n{}", out.all()));
    assert!(
        line.contains("userName lookup BROKEN: GET /Users?filter=userName eq \"scimitar-")
            && line.contains("answered 400 (scimType invalidFilter)")
            && line.ends_with("(profiles: okta-aiw)"),
        "{line}"
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with("  Okta (AIW, PUT)")
                && l.contains("not compatible: its userName lookup is broken")),
        "{}",
        out.stdout
    );
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&json_path).expect("json")).expect("JSON");
    assert_eq!(doc["lookup"]["outcome"], "broken");
    assert_eq!(doc["lookup"]["declared_filter"], false);
    assert_eq!(doc["lookup"]["exchanges"].as_array().map(Vec::len), Some(3));
    let v = doc["verdicts"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["idp"] == "okta-aiw"))
        .expect("okta-aiw verdict");
    assert_eq!(v["verdict"], "not-compatible");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/scimitar-run.schema.json"),
        )
        .expect("schema"),
    )
    .expect("schema JSON");
    if let Err(e) = crate::verdicts::jschema::validate(&schema, &doc) {
        panic!("the JSON report does not validate: {e}");
    }
    // A CI gate that reads only JUnit fails on it too.
    let junit = std::fs::read_to_string(&junit_path).expect("junit");
    let xsd = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd"),
    )
    .expect("xsd");
    if let Err(e) = crate::verdicts::xsd::validate(&xsd, &junit) {
        panic!("the JUnit does not validate: {e}\n{junit}");
    }
    let xml = roxmltree::Document::parse(&junit).expect("XML");
    let suite = xml
        .descendants()
        .find(|n| n.has_tag_name("testsuite") && n.attribute("name") == Some("userName-lookup"))
        .expect("a userName-lookup testsuite");
    assert_eq!(suite.attribute("failures"), Some("1"), "{junit}");
    assert!(
        suite.descendants().any(|n| n.has_tag_name("failure")
            && n.attribute("message")
                .is_some_and(|m| m.contains("invalidFilter"))),
        "{junit}"
    );
}

#[test]
fn a_capture_of_an_undeclared_attribute_skips_its_dependants_instead_of_failing() {
    // The server neither declares nor returns `title`: legal. The PATCH suite
    // captures the title before its failing PATCHes to compare after them;
    // that capture finds nothing, which is advice, and the comparison that
    // needs it is skipped, not failed.
    let hide_title = Change::response(|req, resp| {
        if req.scim_path().starts_with("/Schemas")
            && let Some(b) = resp.body.as_mut()
        {
            each_object(b, &|m| {
                if let Some(Value::Array(attrs)) = m.get_mut("attributes") {
                    attrs.retain(|a| a["name"] != json!("title"));
                }
            });
        }
        on_resources(req, resp, &|r| {
            if let Some(m) = r.as_object_mut() {
                m.remove("title");
            }
        });
    });
    let r = run(hide_title, suites(&["suites/rfc/patch.yaml"]), &[]);
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    let st = step(&r, "rfc-patch::verify-several-operations");
    assert_eq!(st.outcome, Outcome::Advisory, "{:?}", st.findings);
    assert!(
        st.findings
            .iter()
            .any(|f| f.subject == "capture titleBefore" && f.advisory),
        "{:?}",
        st.findings
    );
    let st = step(&r, "rfc-patch::failed-patch-changed-nothing");
    assert_eq!(st.outcome, Outcome::Skipped, "{st:?}");
}

#[test]
fn a_server_refusing_what_the_lookup_sends_first_gets_the_bare_minimum() {
    // A strict server that refuses attributes it does not keep: the check's
    // IdP-like body is refused, the bare userName is not.
    let strict = Change::request(|r| {
        (r.method == Method::POST
            && r.scim_path() == "/Users"
            && r.body.as_ref().is_some_and(|b| b.get("emails").is_some()))
        .then(|| scim_error(400, "invalidValue"))
    });
    let r = run(strict, suites(&["suites/okta/aiw-users.yaml"]), &[]);
    let l = lookup(&r);
    assert_eq!(l.outcome, scimitar::results::LookupOutcome::Works, "{l:?}");
    let creates: Vec<u16> = l
        .exchanges
        .iter()
        .filter(|e| e.request.method == "POST")
        .map(|e| e.response.status)
        .collect();
    assert_eq!(creates, [400, 201, 400, 201]);
    assert!(l.cleanup.iter().all(|c| c.ok()), "{:?}", l.cleanup);
}

#[test]
fn failures_that_share_a_cause_are_counted_once_in_the_summary_and_reports() {
    // PATCH not implemented: every PATCH step fails the same way, and the
    // summary says it is one cause.
    let change = Change::request(|r| (r.method == Method::PATCH).then(|| scim_error(501, "")));
    let dir = tempfile::tempdir().expect("tempdir");
    let md = dir.path().join("report.md");
    let (out, _cwd) = cli_through(
        change,
        &["rfc-patch::", "-q", "--report", md.to_str().expect("utf-8")],
    );
    assert_eq!(out.code, 1, "{}", out.all());
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("× status: expected 200 or 204, got 501"))
        .unwrap_or_else(|| panic!("no shared cause:\n{}", out.stdout));
    let n: usize = line
        .trim()
        .split('×')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(n >= 10, "{line}");
    assert!(
        out.stdout
            .contains("failures that share a cause (one fix may clear them all):"),
        "{}",
        out.stdout
    );
    let report = std::fs::read_to_string(&md).expect("report");
    assert!(
        report.contains(&format!(
            "- {n} steps: `status: expected 200 or 204, got 501`"
        )),
        "{report}"
    );
}

#[test]
fn a_server_that_returns_small_pages_passes() {
    // RFC 7644 §3.4.2.4: without count the page size is the server's (here
    // 2), and a count above its maximum (here 100) gets fewer. Suites that
    // need a whole result ask for it; nothing may fail on paging alone.
    let small = Change::request(|r| {
        let list =
            r.method == Method::GET && (r.scim_path() == "/Users" || r.scim_path() == "/Groups");
        if list {
            let count = match r.param("count").map(|c| c.parse::<i64>()) {
                None => Some(2),
                Some(Ok(n)) if n > 100 => Some(100),
                _ => None,
            };
            if let Some(n) = count {
                r.query.retain(|(k, _)| !k.eq_ignore_ascii_case("count"));
                r.query.push(("count".into(), n.to_string()));
            }
        }
        None
    });
    let r = run(small, suites(EVERY_SUITE_DIR), &[]);
    every_suite_passes(&r);
}

#[test]
fn legal_list_and_location_variants_pass() {
    // All RFC-legal at once: a ListResponse of nothing without Resources,
    // a whole result to a request that did not page without startIndex and
    // itemsPerPage (RFC 7644 §3.4.2: REQUIRED only for partial results),
    // and, behind a proxy, locations
    // naming the public host and path (RFC 7644 §3.1 leaves them to the
    // server); a PATCH answered 204 without a body (§3.5.2).
    let public = "https://scim.example.com/api/scim/v2";
    let change = Change {
        on_request: Box::new(|_| None),
        on_response: Box::new(move |req, resp| {
            if let Some(b) = resp.body.as_mut() {
                let total = b.get("totalResults").and_then(Value::as_u64);
                let listed = b.get("Resources").and_then(Value::as_array).map(Vec::len);
                if let (Some(t), Some(n)) = (total, listed) {
                    if t == 0 {
                        b.as_object_mut().unwrap().remove("Resources");
                    }
                    // A request that paged (startIndex or count sent) is
                    // answered with its paging fields; Okta reads them.
                    let paged = req.param("count").is_some() || req.param("startIndex").is_some();
                    if t as usize <= n && !paged {
                        b.as_object_mut().unwrap().remove("startIndex");
                        b.as_object_mut().unwrap().remove("itemsPerPage");
                    }
                }
                each_object(b, &|m| {
                    if let Some(Value::String(loc)) = m.get_mut("location")
                        && let Some(i) = loc.find("/scim/v2")
                    {
                        *loc = format!("{public}{}", &loc[i + "/scim/v2".len()..]);
                    }
                });
            }
            if let Some(loc) = resp
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                && let Some(i) = loc.find("/scim/v2")
            {
                let moved = format!("{public}{}", &loc[i + "/scim/v2".len()..]);
                resp.headers
                    .insert(header::LOCATION, HeaderValue::from_str(&moved).unwrap());
            }
            if req.method == Method::PATCH && resp.status == 200 {
                resp.status = 204;
                resp.body = None;
                resp.headers.remove(header::CONTENT_TYPE);
            }
        }),
    };
    let r = run(change, suites(EVERY_SUITE_DIR), &[]);
    every_suite_passes(&r);
    assert!(!r.has_leftovers());
}

#[test]
fn a_server_that_stores_user_names_in_lower_case_passes() {
    // userName is caseExact false (RFC 7643 §4.1.1): a server may store and
    // return it in another case; every comparison must ignore that.
    let change = Change::response(|_, resp| {
        if let Some(b) = resp.body.as_mut() {
            each_object(b, &|m| {
                if let Some(Value::String(u)) = m.get_mut("userName") {
                    *u = u.to_lowercase();
                }
            });
        }
    });
    let r = run(change, suites(EVERY_SUITE_DIR), &[]);
    every_suite_passes(&r);
    assert_eq!(
        r.lookup.as_ref().map(|l| l.outcome),
        Some(scimitar::results::LookupOutcome::Works)
    );
}

#[test]
fn a_server_filtering_only_on_eq_declines_the_rest_with_invalid_filter() {
    // RFC 7644 §3.12: invalidFilter is also "the specified attribute and
    // filter comparison combination is not supported". A server that only
    // supports `attr eq "value"` says so for everything else: the RFC
    // filter steps are not checked (and say so), nothing fails, and no
    // verdict claims filtering was checked.
    let change = Change::request(|r| {
        let f = r.param("filter")?.to_string();
        let mut parts = f.splitn(3, ' ');
        let (attr, op, value) = (parts.next()?, parts.next()?, parts.next().unwrap_or(""));
        let simple = !attr.contains('[')
            && op.eq_ignore_ascii_case("eq")
            && value.starts_with('"')
            && value.ends_with('"')
            && value.matches('"').count() == 2;
        (!simple).then(|| scim_error(400, "invalidFilter"))
    });
    let r = run(change, suites(EVERY_SUITE_DIR), &[]);
    every_suite_passes(&r);
    let st = step(&r, "rfc-filters::co");
    assert_eq!(st.outcome, Outcome::Skipped);
    assert!(
        st.skip_reason
            .as_ref()
            .is_some_and(|s| s.to_string().contains("RFC 7644 §3.12 allows")),
        "{st:?}"
    );
    let c = scimitar::report::compat::Compat::new(&r);
    let rfc = c.profiles.iter().find(|p| p.idp == "rfc").expect("rfc");
    assert_eq!(
        rfc.verdict_text(),
        "compatible without the filters it declines (invalidFilter): the server does not support it"
    );
    assert!(!c.unfinished());
    // userName eq is never excused: the same decline there fails.
    let (o, why) = outcome_under(
        Change::request(|r| r.param("filter").map(|_| scim_error(400, "invalidFilter"))),
        "rfc-filters::eq",
    );
    assert_eq!(o, Outcome::Failed, "{why}");
}

#[test]
fn etags_strong_or_weak_pass() {
    // RFC 7644 §3.14: versions are ETags, weak (W/"…") or strong ("…"):
    // a server choosing the other kind passes (If-Match compares them).
    fn flip(v: &str) -> String {
        match v.strip_prefix("W/") {
            Some(strong) => strong.to_string(),
            None => format!("W/{v}"),
        }
    }
    let change = Change {
        on_request: Box::new(|r| {
            for h in [header::IF_MATCH, header::IF_NONE_MATCH] {
                if let Some(v) = r.headers.get(&h).and_then(|v| v.to_str().ok()) {
                    let back = flip(v);
                    r.headers.insert(h, HeaderValue::from_str(&back).unwrap());
                }
            }
            None
        }),
        on_response: Box::new(|_, resp| {
            if let Some(v) = resp.headers.get(header::ETAG).and_then(|v| v.to_str().ok()) {
                let other = flip(v);
                resp.headers
                    .insert(header::ETAG, HeaderValue::from_str(&other).unwrap());
            }
            if let Some(b) = resp.body.as_mut() {
                each_object(b, &|m| {
                    if let Some(Value::String(v)) = m.get_mut("version") {
                        *v = flip(v);
                    }
                });
            }
        }),
    };
    let r = run(change, suites(&["suites/rfc/etag.yaml"]), &[]);
    assert!(failures(&r).is_empty(), "{:#?}", failures(&r));
    assert!(count(&r, Outcome::Passed) > 3, "the ETag suite ran");
}

#[test]
fn responses_typed_application_json_are_advice_only() {
    // RFC 7644 §8.1 registers application/scim+json and §3.1 says SCIM
    // uses it; application/json is JSON all the same, and Entra and Okta
    // read it: advice where the media type is the point, nothing elsewhere.
    let change = Change::response(|_, resp| {
        if resp.body.is_some() {
            resp.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
        }
    });
    let r = run(change, suites(EVERY_SUITE_DIR), &[]);
    every_suite_passes(&r);
    let st = step(&r, "rfc-media-type::resource-media-type");
    assert_eq!(st.outcome, Outcome::Advisory, "{:?}", st.findings);
}

#[test]
fn a_server_holding_other_data_passes_and_keeps_it() {
    // A vendor's staging tenant is not empty: 120 users and 30 groups that
    // are not scimitar's (more than Okta's 100-a-page import). Every suite
    // still passes, and all of them are still there afterwards.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let proxied = start(Change::response(|_, _| {})).await;
        let (url, upstream) = (proxied.url.clone(), proxied.upstream.clone());
        let http = reqwest::Client::new();
        let post = |path: &'static str, body: Value| {
            let (http, upstream) = (http.clone(), upstream.clone());
            async move {
                let r = http
                    .post(format!("{upstream}{path}"))
                    .bearer_auth(TOKEN)
                    .header(header::CONTENT_TYPE, SCIM)
                    .body(body.to_string())
                    .send()
                    .await
                    .expect("the reference server answers");
                assert_eq!(r.status().as_u16(), 201);
            }
        };
        for i in 0..120 {
            post(
                "/Users",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                       "userName": format!("existing-{i:03}@customer.example"),
                       "name": {"givenName": "Existing", "familyName": format!("{i}")},
                       "active": i % 7 != 0}),
            )
            .await;
        }
        for i in 0..30 {
            post(
                "/Groups",
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                       "displayName": format!("Existing group {i}")}),
            )
            .await;
        }
        let mut cfg = HttpConfig::new(url.parse().expect("url"));
        cfg.auth = Auth::Bearer(TOKEN.into());
        let client = Arc::new(Client::new(cfg).expect("client"));
        let r = Run::new(suites(EVERY_SUITE_DIR))
            .jobs(4)
            .execute(client)
            .await
            .expect("discovery");
        every_suite_passes(&r);
        assert!(!r.has_leftovers());
        for (list, want) in [("Users", 120), ("Groups", 30)] {
            let body: Value = http
                .get(format!("{upstream}/{list}?count=0"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("the reference server answers")
                .json()
                .await
                .expect("a ListResponse");
            assert_eq!(body["totalResults"], json!(want), "{list}: {body}");
        }
    });
}
