//! Named SCIM checks a step can ask for (`expect.check`). Each problem
//! names the RFC section it enforces.

use serde_json::Value;

use crate::http::Exchange;
use crate::scim::urn;

/// One way a response breaks a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub rfc: &'static str,
}

fn problem(rfc: &'static str, message: impl Into<String>) -> Problem {
    Problem {
        message: message.into(),
        rfc,
    }
}

/// A named check a step can ask for in `expect.check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckKind {
    ScimResource,
    ListResponse,
    ScimError,
    MediaType,
    Location,
    Etag,
    WwwAuthenticate,
    ReturnedAlways,
    MetaLocation,
    ItemsPerPage,
    NoEmptyStrings,
}

/// One row of the check table.
#[derive(Debug, Clone, Copy)]
pub struct CheckDef {
    pub kind: CheckKind,
    /// The name suites use.
    pub name: &'static str,
    /// The RFC section it enforces, for messages and reports.
    pub rfc: &'static str,
    /// What it checks, in one line.
    pub summary: &'static str,
    run: fn(&Exchange) -> Vec<Problem>,
}

/// Every named check. To add one: a `CheckKind` variant, a row here, and its
/// function below; the suite loader and the README's list read this table.
pub const CHECKS: &[CheckDef] = &[
    CheckDef {
        kind: CheckKind::ScimResource,
        name: "scim-resource",
        rfc: "RFC 7643 §3",
        summary: "a SCIM resource: schemas, id, meta",
        run: |ex| json_or(CheckKind::ScimResource, ex, |v| resource(v, "the resource")),
    },
    CheckDef {
        kind: CheckKind::ListResponse,
        name: "list-response",
        rfc: "RFC 7644 §3.4.2",
        summary: "a ListResponse: schemas, totalResults, Resources, paging fields",
        run: |ex| json_or(CheckKind::ListResponse, ex, list_response),
    },
    CheckDef {
        kind: CheckKind::ScimError,
        name: "scim-error",
        rfc: "RFC 7644 §3.12",
        summary: "a SCIM error: schemas, status matching the HTTP status, scimType",
        run: |ex| {
            let status = ex.response.status;
            json_or(CheckKind::ScimError, ex, |v| scim_error(v, status))
        },
    },
    CheckDef {
        kind: CheckKind::MediaType,
        name: "media-type",
        rfc: "RFC 7644 §3.1",
        summary: "Content-Type application/scim+json",
        run: |ex| media_type(ex.response.header("content-type")),
    },
    CheckDef {
        kind: CheckKind::Location,
        name: "location",
        rfc: "RFC 7644 §3.3",
        summary: "a Location header matching meta.location",
        run: location,
    },
    CheckDef {
        kind: CheckKind::Etag,
        name: "etag",
        rfc: "RFC 7644 §3.14",
        summary: "an ETag header matching meta.version",
        run: etag,
    },
    CheckDef {
        kind: CheckKind::WwwAuthenticate,
        name: "www-authenticate",
        rfc: "RFC 7235 §3.1",
        summary: "a 401 carries a WWW-Authenticate challenge (RFC 6750 §3 for bearer tokens)",
        run: www_authenticate,
    },
    CheckDef {
        kind: CheckKind::ReturnedAlways,
        name: "returned-always",
        rfc: "RFC 7644 §3.4.2.5",
        summary: "the resource (or each listed one) keeps schemas and id whatever attributes= asked (RFC 7643 §3, §7)",
        run: |ex| json_or(CheckKind::ReturnedAlways, ex, returned_always),
    },
    CheckDef {
        kind: CheckKind::MetaLocation,
        name: "meta-location",
        rfc: "RFC 7643 §3.1",
        summary: "meta.location is the resource's own URL: .../<endpoint>/<id>",
        run: |ex| {
            json_or(CheckKind::MetaLocation, ex, |v| {
                meta_location(v, &ex.request.url)
            })
        },
    },
    CheckDef {
        kind: CheckKind::ItemsPerPage,
        name: "items-per-page",
        rfc: "RFC 7644 §3.4.2",
        summary: "itemsPerPage equals the number of Resources on the page",
        run: |ex| json_or(CheckKind::ItemsPerPage, ex, items_per_page),
    },
    CheckDef {
        kind: CheckKind::NoEmptyStrings,
        name: "no-empty-strings",
        rfc: "RFC 7643 §2.5",
        summary: "no attribute holds \"\": an unassigned attribute is left out or null",
        run: |ex| json_or(CheckKind::NoEmptyStrings, ex, no_empty_strings),
    },
];

impl CheckKind {
    /// Every check, in table order.
    pub const ALL: [CheckKind; 11] = [
        CheckKind::ScimResource,
        CheckKind::ListResponse,
        CheckKind::ScimError,
        CheckKind::MediaType,
        CheckKind::Location,
        CheckKind::Etag,
        CheckKind::WwwAuthenticate,
        CheckKind::ReturnedAlways,
        CheckKind::MetaLocation,
        CheckKind::ItemsPerPage,
        CheckKind::NoEmptyStrings,
    ];

    /// This check's row of [`CHECKS`].
    pub fn def(self) -> &'static CheckDef {
        CHECKS
            .iter()
            .find(|d| d.kind == self)
            .expect("every CheckKind has a row in CHECKS")
    }

    /// The name suites use.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Whether the check reads the JSON body (the others read headers only,
    /// and run on an empty body too).
    pub fn needs_body(self) -> bool {
        !matches!(self, CheckKind::WwwAuthenticate)
    }

    /// The check with this name.
    pub fn from_name(name: &str) -> Option<CheckKind> {
        CHECKS.iter().find(|d| d.name == name).map(|d| d.kind)
    }
}

/// The RFC section a check enforces, for messages and reports.
pub fn rfc_section(kind: CheckKind) -> &'static str {
    kind.def().rfc
}

/// Runs one check against an exchange.
pub fn run(kind: CheckKind, ex: &Exchange) -> Vec<Problem> {
    (kind.def().run)(ex)
}

/// Runs `f` on the JSON body, or reports that there is none.
fn json_or(kind: CheckKind, ex: &Exchange, f: impl FnOnce(&Value) -> Vec<Problem>) -> Vec<Problem> {
    match ex.response.json.as_ref() {
        Some(v) => f(v),
        None => vec![no_json(kind, ex)],
    }
}

fn no_json(kind: CheckKind, ex: &Exchange) -> Problem {
    let why = ex
        .response
        .json_problem()
        .unwrap_or_else(|| "the body is not JSON".into());
    problem(rfc_section(kind), why)
}

fn schemas_of(v: &Value) -> Option<Vec<&str>> {
    v.get("schemas")?
        .as_array()?
        .iter()
        .map(Value::as_str)
        .collect()
}

/// A resource: `schemas` and a server-assigned `id` (RFC 7643 §3, §3.1).
fn resource(v: &Value, what: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    if !v.is_object() {
        return vec![problem(
            "RFC 7643 §3",
            format!("{what} is not a JSON object"),
        )];
    }
    match schemas_of(v) {
        None => out.push(problem(
            "RFC 7643 §3",
            format!("{what} has no 'schemas' array of URIs"),
        )),
        Some(s) if s.is_empty() => out.push(problem(
            "RFC 7643 §3",
            format!("{what} has an empty 'schemas' array"),
        )),
        _ => {}
    }
    match v.get("id") {
        Some(Value::String(id)) if id.is_empty() => out.push(problem(
            "RFC 7643 §3.1",
            format!("{what} has an empty 'id'"),
        )),
        Some(Value::String(id)) if id == "bulkId" => out.push(problem(
            "RFC 7643 §3.1",
            format!("{what} uses the reserved id 'bulkId'"),
        )),
        Some(Value::String(_)) => {}
        Some(other) => out.push(problem(
            "RFC 7643 §3.1",
            format!("{what}'s 'id' must be a string, got {other}"),
        )),
        None => out.push(problem(
            "RFC 7643 §3.1",
            format!("{what} has no 'id' (it is always returned)"),
        )),
    }
    if let Some(meta) = v.get("meta")
        && !meta.is_object()
    {
        out.push(problem(
            "RFC 7643 §3.1",
            format!("{what}'s 'meta' is not an object"),
        ));
    }
    out
}

/// A ListResponse (RFC 7644 §3.4.2).
fn list_response(v: &Value) -> Vec<Problem> {
    const RFC: &str = "RFC 7644 §3.4.2";
    let mut out = Vec::new();
    if !schemas_of(v).is_some_and(|s| s.contains(&urn::LIST_RESPONSE)) {
        out.push(problem(
            RFC,
            format!("'schemas' must contain \"{}\"", urn::LIST_RESPONSE),
        ));
    }
    let total = match v.get("totalResults") {
        Some(t) if t.is_u64() => t.as_u64(),
        Some(t) => {
            out.push(problem(
                RFC,
                format!("'totalResults' must be a non-negative integer, got {t}"),
            ));
            None
        }
        None => {
            out.push(problem(RFC, "'totalResults' is missing (it is REQUIRED)"));
            None
        }
    };
    let resources = match v.get("Resources") {
        Some(Value::Array(a)) => Some(a),
        Some(other) => {
            out.push(problem(
                RFC,
                format!("'Resources' must be an array, got {other}"),
            ));
            None
        }
        None => {
            if total.is_some_and(|t| t > 0) {
                out.push(problem(
                    RFC,
                    "'Resources' is missing although totalResults is non-zero",
                ));
            }
            None
        }
    };
    for key in ["startIndex", "itemsPerPage"] {
        if let Some(x) = v.get(key)
            && !x.is_u64()
        {
            out.push(problem(RFC, format!("'{key}' must be an integer, got {x}")));
        }
    }
    if v.get("startIndex").and_then(Value::as_u64) == Some(0) {
        out.push(problem(
            "RFC 7644 §3.4.2.4",
            "'startIndex' is 1-based; got 0",
        ));
    }
    if let Some(items) = resources {
        if let Some(t) = total
            && items.len() as u64 > t
        {
            out.push(problem(
                RFC,
                format!("{} Resources but totalResults is {t}", items.len()),
            ));
        }
        // Only a page holding more than it claims is wrong: Microsoft's own
        // examples answer itemsPerPage 20 (the page size) with 0 or 1 Resources,
        // and Entra accepts that, so a value above the page length passes.
        if let Some(ipp) = v.get("itemsPerPage").and_then(Value::as_u64)
            && ipp < items.len() as u64
        {
            out.push(problem(
                RFC,
                format!(
                    "itemsPerPage is {ipp} but the page holds {} Resources",
                    items.len()
                ),
            ));
        }
        for (i, r) in items.iter().enumerate() {
            if r.get("id").is_none() {
                out.push(problem(
                    "RFC 7643 §3.1",
                    format!("Resources[{i}] has no 'id'"),
                ));
            }
        }
    }
    out
}

/// An Error message (RFC 7644 §3.12): `status` is a string equal to the HTTP status.
fn scim_error(v: &Value, http_status: u16) -> Vec<Problem> {
    const RFC: &str = "RFC 7644 §3.12";
    let mut out = Vec::new();
    if !schemas_of(v).is_some_and(|s| s.contains(&urn::ERROR)) {
        out.push(problem(
            RFC,
            format!("'schemas' must contain \"{}\"", urn::ERROR),
        ));
    }
    match v.get("status") {
        Some(Value::String(s)) if s.trim() == http_status.to_string() => {}
        Some(Value::String(s)) => out.push(problem(
            RFC,
            format!("'status' is \"{s}\" but the HTTP status is {http_status}"),
        )),
        Some(Value::Number(n)) => out.push(problem(
            RFC,
            format!("'status' must be a string (\"{http_status}\"), got the number {n}"),
        )),
        Some(other) => out.push(problem(
            RFC,
            format!("'status' must be a string, got {other}"),
        )),
        None => out.push(problem(RFC, "'status' is missing (it is REQUIRED)")),
    }
    if let Some(t) = v.get("scimType")
        && !t.is_string()
    {
        out.push(problem(
            RFC,
            format!("'scimType' must be a string, got {t}"),
        ));
    }
    out
}

fn media_type(ct: Option<&str>) -> Vec<Problem> {
    const RFC: &str = "RFC 7644 §3.1";
    match ct {
        None => vec![problem(
            RFC,
            "no Content-Type header; expected application/scim+json",
        )],
        Some(ct) => {
            let essence = ct.split(';').next().unwrap_or("").trim();
            if essence.eq_ignore_ascii_case(urn::MEDIA_TYPE) {
                vec![]
            } else {
                vec![problem(
                    RFC,
                    format!("Content-Type is \"{ct}\", expected application/scim+json"),
                )]
            }
        }
    }
}

fn location(ex: &Exchange) -> Vec<Problem> {
    const RFC: &str = "RFC 7644 §3.3";
    let meta_loc = ex
        .response
        .json
        .as_ref()
        .and_then(|v| v.pointer("/meta/location"))
        .and_then(Value::as_str);
    match (ex.response.header("location"), meta_loc) {
        (None, _) => vec![problem(RFC, "no Location header on the created resource")],
        (Some(h), Some(m)) if h != m => vec![problem(
            RFC,
            format!("Location header \"{h}\" differs from meta.location \"{m}\""),
        )],
        _ => vec![],
    }
}

fn etag(ex: &Exchange) -> Vec<Problem> {
    const RFC: &str = "RFC 7644 §3.14";
    let version = ex
        .response
        .json
        .as_ref()
        .and_then(|v| v.pointer("/meta/version"))
        .and_then(Value::as_str);
    match (ex.response.header("etag"), version) {
        (None, _) => vec![problem(
            RFC,
            "no ETag header although the server supports ETags",
        )],
        (Some(h), Some(v)) if h != v => vec![problem(
            RFC,
            format!("ETag header {h} differs from meta.version {v}"),
        )],
        _ => vec![],
    }
}

/// RFC 7235 §3.1: a 401 "MUST send a WWW-Authenticate header field"; a
/// client learns from it which scheme to use (RFC 6750 §3: `Bearer`).
fn www_authenticate(ex: &Exchange) -> Vec<Problem> {
    if ex.response.status != 401 {
        return vec![];
    }
    match ex.response.header("www-authenticate") {
        Some(v) if !v.trim().is_empty() => vec![],
        _ => vec![problem(
            "RFC 7235 §3.1",
            "401 without a WWW-Authenticate header (e.g. 'WWW-Authenticate: Bearer', RFC 6750 §3)",
        )],
    }
}

/// The resources of a body: the body itself, or the ListResponse's `Resources`.
fn resources_of(v: &Value) -> Vec<(String, &Value)> {
    match v.get("Resources").and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("Resources[{i}]"), r))
            .collect(),
        None => vec![("the resource".to_string(), v)],
    }
}

/// `schemas` and `id` are "returned: always" (RFC 7643 §3, §3.1), so
/// `attributes=` never removes them (RFC 7644 §3.4.2.5).
fn returned_always(v: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    for (what, r) in resources_of(v) {
        if r.get("id").is_none_or(Value::is_null) {
            out.push(problem(
                "RFC 7643 §3.1",
                format!("{what} has no 'id', which is returned always whatever attributes= asks"),
            ));
        }
        if schemas_of(r).is_none_or(|s| s.is_empty()) {
            out.push(problem(
                "RFC 7643 §3",
                format!(
                    "{what} has no 'schemas', which is returned always whatever attributes= asks"
                ),
            ));
        }
    }
    out
}

/// `meta.location`, when given, is "the URI of the resource being
/// returned" (RFC 7643 §3.1): an absolute URL ending in `/<endpoint>/<id>`,
/// the endpoint being the one the request addressed.
fn meta_location(v: &Value, request_url: &str) -> Vec<Problem> {
    const RFC: &str = "RFC 7643 §3.1";
    let endpoint = reqwest::Url::parse(request_url).ok().and_then(|u| {
        let segs: Vec<String> = u.path_segments()?.map(str::to_string).collect();
        segs.iter()
            .find(|s| s.eq_ignore_ascii_case("Users") || s.eq_ignore_ascii_case("Groups"))
            .cloned()
    });
    let mut out = Vec::new();
    for (what, r) in resources_of(v) {
        let (Some(loc), Some(id)) = (
            r.pointer("/meta/location").and_then(Value::as_str),
            r.get("id").and_then(Value::as_str),
        ) else {
            continue;
        };
        let Ok(url) = reqwest::Url::parse(loc) else {
            out.push(problem(
                RFC,
                format!("{what}'s meta.location \"{loc}\" is not an absolute URL"),
            ));
            continue;
        };
        let segs: Vec<String> = url
            .path_segments()
            .map(|s| s.filter(|x| !x.is_empty()).map(percent_decode).collect())
            .unwrap_or_default();
        let n = segs.len();
        let ends_with_id = n >= 2 && segs[n - 1] == id;
        let right_endpoint = match &endpoint {
            Some(e) => n >= 2 && segs[n - 2].eq_ignore_ascii_case(e),
            None => true,
        };
        if !(ends_with_id && right_endpoint) {
            out.push(problem(
                RFC,
                format!(
                    "{what}'s meta.location \"{loc}\" is not its own URL (…/{}/{id})",
                    endpoint.as_deref().unwrap_or("<endpoint>")
                ),
            ));
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(h) = s.get(i + 1..i + 3)
            && let Ok(x) = u8::from_str_radix(h, 16)
        {
            out.push(x);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 7644 §3.4.2: itemsPerPage is "the number of resources returned in a
/// list response page". Microsoft's examples give the page size instead,
/// so suites ask for this one as advisory.
fn items_per_page(v: &Value) -> Vec<Problem> {
    let (Some(ipp), Some(n)) = (
        v.get("itemsPerPage").and_then(Value::as_u64),
        v.get("Resources").and_then(Value::as_array).map(Vec::len),
    ) else {
        return vec![];
    };
    if ipp == n as u64 {
        vec![]
    } else {
        vec![problem(
            "RFC 7644 §3.4.2",
            format!("itemsPerPage is {ipp} but the page holds {n} Resources"),
        )]
    }
}

/// RFC 7643 §2.5: an unassigned attribute is absent or null; `""` is a
/// value the client never sent (IdPs then "correct" it on every cycle).
fn no_empty_strings(v: &Value) -> Vec<Problem> {
    fn walk(v: &Value, at: &str, out: &mut Vec<Problem>) {
        match v {
            Value::String(s) if s.is_empty() => out.push(problem(
                "RFC 7643 §2.5",
                format!("{at} is \"\"; an unassigned attribute is left out or null"),
            )),
            Value::Object(m) => {
                for (k, x) in m {
                    walk(x, &format!("{at}.{k}"), out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{at}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "$", &mut out);
    out
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn every_check_has_exactly_one_row() {
        for k in CheckKind::ALL {
            assert_eq!(CHECKS.iter().filter(|d| d.kind == k).count(), 1, "{k:?}");
            assert_eq!(CheckKind::from_name(k.name()), Some(k));
            assert!(k.def().rfc.starts_with("RFC "), "{k:?} cites no RFC");
        }
        assert_eq!(CHECKS.len(), CheckKind::ALL.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn list_response_rules() {
        let good = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 1, "startIndex": 1,
            "itemsPerPage": 1, "Resources": [{"id": "a"}]});
        assert!(list_response(&good).is_empty());
        let empty = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0});
        assert!(list_response(&empty).is_empty());
        let bad = json!({"totalResults": "2", "startIndex": 0, "Resources": [{}]});
        let msgs: Vec<String> = list_response(&bad).into_iter().map(|p| p.message).collect();
        assert!(msgs.iter().any(|m| m.contains("'schemas' must contain")));
        assert!(
            msgs.iter()
                .any(|m| m.contains("'totalResults' must be a non-negative integer"))
        );
        assert!(msgs.iter().any(|m| m.contains("1-based")));
        assert!(msgs.iter().any(|m| m.contains("Resources[0] has no 'id'")));
        let too_many = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 1,
            "Resources": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(
            list_response(&too_many)[0].message,
            "2 Resources but totalResults is 1"
        );
        // Microsoft's documented empty answer: itemsPerPage is the page size.
        let entra_doc = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 0,
            "Resources": [], "startIndex": 1, "itemsPerPage": 20});
        assert!(list_response(&entra_doc).is_empty());
        let overfull = json!({"schemas": [urn::LIST_RESPONSE], "totalResults": 3, "itemsPerPage": 1,
            "Resources": [{"id": "a"}, {"id": "b"}]});
        assert_eq!(
            list_response(&overfull)[0].message,
            "itemsPerPage is 1 but the page holds 2 Resources"
        );
    }

    #[test]
    fn error_status_must_be_a_matching_string() {
        let good = json!({"schemas": [urn::ERROR], "status": "404"});
        assert!(scim_error(&good, 404).is_empty());
        let numeric = json!({"schemas": [urn::ERROR], "status": 404});
        assert_eq!(
            scim_error(&numeric, 404)[0].message,
            "'status' must be a string (\"404\"), got the number 404"
        );
        assert_eq!(
            scim_error(&good, 400)[0].message,
            "'status' is \"404\" but the HTTP status is 400"
        );
        assert_eq!(scim_error(&json!({"status": "404"}), 404).len(), 1);
    }

    #[test]
    fn new_checks_fail_on_their_fault_and_pass_the_legal_variant() {
        let user = json!({"schemas": [urn::USER], "id": "a b",
            "meta": {"location": "https://x.example/scim/v2/Users/a%20b"}});
        assert!(returned_always(&user).is_empty());
        assert_eq!(returned_always(&json!({"userName": "x"})).len(), 2);
        let list = json!({"Resources": [{"id": "1"}]});
        assert_eq!(returned_always(&list).len(), 1);
        assert!(meta_location(&user, "http://h/scim/v2/Users/a%20b?attributes=id").is_empty());
        assert!(meta_location(&user, "http://h/scim/v2/Users").is_empty());
        assert_eq!(meta_location(&user, "http://h/scim/v2/Groups/x").len(), 1);
        let wrong = json!({"id": "1", "meta": {"location": "https://x/scim/v2/Users"}});
        assert_eq!(meta_location(&wrong, "http://h/scim/v2/Users").len(), 1);
        let relative = json!({"id": "1", "meta": {"location": "/Users/1"}});
        assert_eq!(meta_location(&relative, "http://h/Users/1").len(), 1);
        assert!(items_per_page(&json!({"itemsPerPage": 1, "Resources": [{}]})).is_empty());
        assert_eq!(
            items_per_page(&json!({"itemsPerPage": 20, "Resources": []})).len(),
            1
        );
        assert!(no_empty_strings(&json!({"externalId": null, "emails": []})).is_empty());
        assert_eq!(
            no_empty_strings(&json!({"externalId": ""}))[0].message,
            "$.externalId is \"\"; an unassigned attribute is left out or null"
        );
    }

    #[test]
    fn resource_and_media_type_rules() {
        assert!(resource(&json!({"schemas": [urn::USER], "id": "1"}), "r").is_empty());
        assert_eq!(resource(&json!({"schemas": [urn::USER]}), "r").len(), 1);
        assert_eq!(resource(&json!({"id": 7}), "r").len(), 2);
        assert!(media_type(Some("application/scim+json; charset=utf-8")).is_empty());
        assert_eq!(media_type(Some("application/json")).len(), 1);
        assert_eq!(media_type(None).len(), 1);
    }
}
