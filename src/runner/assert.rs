//! Evaluates a step's expectation against its exchange, by what the server
//! declares (`/Schemas`, `/ResourceTypes`) and RFC 7643's comparison rules.

use serde_json::Value;

use crate::check;
use crate::http::Exchange;
use crate::results::Finding;
use crate::scim::declared::{Declared, DeclaredAttr, DeclaredType, Lookup};
use crate::scim::{ci, urn};
use crate::suite::predicate::{Compare, Predicate};
use crate::suite::template::Vars;
use crate::suite::{BodyRule, Expectation};

/// What judging needs beyond the expectation and the exchange.
#[derive(Debug, Clone, Copy)]
pub struct Judging<'a> {
    /// The server's declarations (RFC 7643's if it publishes no `/Schemas`).
    pub declared: &'a Declared,
    /// The suite's client dialect: `entra`, `okta-aiw`, `rfc`, …
    pub idp: &'a str,
    /// The request path below the base URL (`/Users/123?attributes=id`).
    pub path: &'a str,
    /// The request sent `sortBy`: lists compare in order (RFC 7644 §3.4.2.3).
    pub ordered: bool,
    /// The request's `filter` (query or `.search` body).
    pub filter: Option<&'a str>,
    /// The request body sent.
    pub body: Option<&'a Value>,
}

impl<'a> Judging<'a> {
    /// Judging for a request to `path` with `query` (names as sent) by a
    /// suite of dialect `idp`.
    pub fn new(
        declared: &'a Declared,
        idp: &'a str,
        path: &'a str,
        query: &'a [(String, String)],
        body: Option<&'a Value>,
    ) -> Judging<'a> {
        let in_query = query.iter().any(|(k, _)| k.eq_ignore_ascii_case("sortBy"))
            || path.split_once('?').is_some_and(|(_, q)| {
                q.split('&')
                    .any(|kv| kv.to_lowercase().starts_with("sortby="))
            });
        let in_body = body
            .and_then(Value::as_object)
            .is_some_and(|b| b.keys().any(|k| k.eq_ignore_ascii_case("sortBy")));
        let filter = query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("filter"))
            .map(|(_, v)| v.as_str())
            .or_else(|| body.and_then(|b| b.get("filter")).and_then(Value::as_str));
        Judging {
            declared,
            idp,
            path,
            ordered: in_query || in_body,
            filter,
            body,
        }
    }
}

fn finding(subject: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding {
        subject: subject.into(),
        message: message.into(),
        rfc: None,
        advisory: false,
    }
}

/// Every way the exchange falls short of the expectation, by RFC 7643's
/// definitions (no `/Schemas` consulted, no order asked for).
pub fn evaluate(exp: &Expectation, ex: &Exchange, vars: &Vars) -> Vec<Finding> {
    let rfc = Declared::rfc();
    let path = request_path(ex);
    judge(exp, ex, vars, &Judging::new(&rfc, "", &path, &[], None))
}

/// The path of the recorded request below the host, for [`evaluate`].
fn request_path(ex: &Exchange) -> String {
    reqwest::Url::parse(&ex.request.url)
        .map(|u| {
            let p = u.path().to_string();
            // Below the base URL: from the first segment a resource type names.
            ["/Users", "/Groups"]
                .iter()
                .find_map(|e| p.find(e).map(|i| p[i..].to_string()))
                .unwrap_or(p)
        })
        .unwrap_or_default()
}

/// Every way the exchange falls short of the expectation, judged by what
/// the server declares. A step filtering on an attribute the server's
/// /Schemas does not declare (or declares not filterable) is not judged on
/// it: a server may refuse such a filter (RFC 7644 §3.4.2.2, invalidFilter).
pub fn judge(exp: &Expectation, ex: &Exchange, vars: &Vars, j: &Judging) -> Vec<Finding> {
    let mut out = judge_all(exp, ex, vars, j);
    refused_for_undeclared(j, ex, &mut out);
    let unfilterable = unfilterable(j);
    if !unfilterable.is_empty() && out.iter().any(|f| !f.advisory) {
        let note = format!(
            "not judged: the filter names {}, which your /Schemas does not declare (filterable)",
            unfilterable.join(", ")
        );
        for f in &mut out {
            if !f.advisory {
                f.advisory = true;
                f.message = format!("{} ({note})", f.message);
            }
        }
    }
    out
}

/// An IdP request refused (4xx) while it sends attributes the server's
/// /Schemas does not declare: when the server's error names one of them,
/// the step was refused on it, which is the IdP's configuration to change
/// (advisory, with the advice); otherwise the failure stays and says what
/// else was sent.
fn refused_for_undeclared(j: &Judging, ex: &Exchange, out: &mut [Finding]) {
    let idp = j.idp.to_ascii_lowercase();
    let status = ex.response.status;
    if !j.declared.published()
        || !(idp.starts_with("entra") || idp.starts_with("okta"))
        || !(400..500).contains(&status)
        || !out.iter().any(|f| f.subject == "status" && !f.advisory)
    {
        return;
    }
    let sent = sent_undeclared(j);
    let Some((first, looked)) = sent.first() else {
        return;
    };
    let names: Vec<String> = sent.iter().map(|(t, _)| qualified(t)).collect();
    let said = ex
        .response
        .json
        .as_ref()
        .map(|b| {
            ["detail", "scimType"]
                .iter()
                .filter_map(|k| b.get(*k).and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        })
        .unwrap_or_default();
    let on_it = sent.iter().any(|(t, _)| {
        [t.attr.as_deref(), t.urn.as_deref()]
            .into_iter()
            .flatten()
            .any(|n| said.contains(&n.to_lowercase()))
    });
    let note = format!(
        "{}; the request sends {}",
        advice(j, looked, first),
        names.join(", ")
    );
    for f in out.iter_mut().filter(|f| !f.advisory) {
        if f.subject == "status" {
            f.message = format!("{} ({note})", f.message);
        }
        // Refused on it: the rest follows from the refusal.
        f.advisory |= on_it;
    }
}

/// What the request body sends (attributes, extensions, PATCH paths and
/// values) that the server does not declare for the resource type.
fn sent_undeclared<'d>(j: &Judging<'d>) -> Vec<(Target, Lookup<'d>)> {
    let (Some(ty), Some(body)) = (j.declared.type_for_path(j.path), j.body) else {
        return Vec::new();
    };
    let mut targets: Vec<Target> = Vec::new();
    fn members(v: &Value, core: &str, out: &mut Vec<Target>) {
        for (k, x) in v.as_object().into_iter().flatten() {
            let lower = k.to_ascii_lowercase();
            if ["schemas", "id", "externalid", "meta", "operations"].contains(&lower.as_str()) {
                continue;
            }
            if !lower.starts_with("urn:") {
                out.push(Target {
                    urn: None,
                    attr: Some(k.clone()),
                    sub: None,
                });
            } else if k.eq_ignore_ascii_case(core) {
                members(x, core, out);
            } else {
                out.push(Target {
                    urn: Some(k.clone()),
                    attr: None,
                    sub: None,
                });
                for inner in x.as_object().into_iter().flatten().map(|(n, _)| n) {
                    out.push(Target {
                        urn: Some(k.clone()),
                        attr: Some(inner.clone()),
                        sub: None,
                    });
                }
            }
        }
    }
    members(body, &ty.schema, &mut targets);
    for op in body
        .get("Operations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(p) = op.get("path").and_then(Value::as_str)
            && let Ok(p) = crate::scim::path::parse(p)
        {
            targets.push(Target {
                urn: p.urn.clone(),
                attr: Some(p.attr.clone()),
                sub: p.sub_attr.clone(),
            });
        } else if let Some(v) = op.get("value") {
            members(v, &ty.schema, &mut targets);
        }
    }
    let mut out: Vec<(Target, Lookup<'d>)> = Vec::new();
    for t in targets {
        let looked = match (&t.urn, &t.attr) {
            (Some(u), None) if !j.declared.has_extension(ty, u) => Lookup::NoExtension(u.clone()),
            (_, None) => continue,
            (u, Some(a)) => j.declared.lookup(ty, u.as_deref(), a, None),
        };
        let undeclared = matches!(looked, Lookup::NoExtension(_) | Lookup::NoAttribute { .. });
        // An extension's attributes are named; the extension itself only
        // when nothing under it was sent.
        if undeclared && t.attr.is_some() && !out.iter().any(|(o, _)| qualified(o) == qualified(&t))
        {
            out.retain(|(o, _)| !(o.attr.is_none() && o.urn == t.urn));
            out.push((t, looked));
        } else if undeclared && !out.iter().any(|(o, _)| o.urn == t.urn) {
            out.push((t, looked));
        }
    }
    out
}

/// `urn:…:attr`, `urn`, or `attr`.
fn qualified(t: &Target) -> String {
    match (&t.urn, &t.attr) {
        (Some(u), Some(a)) => format!("{u}:{a}"),
        (Some(u), None) => u.clone(),
        (None, Some(a)) => a.clone(),
        (None, None) => String::from("it"),
    }
}

/// The attributes the request's filter names that the server's /Schemas
/// does not declare, or declares `filterable: false`.
fn unfilterable(j: &Judging) -> Vec<String> {
    let (Some(filter), true) = (j.filter, j.declared.published()) else {
        return Vec::new();
    };
    let (Some(ty), Ok(f)) = (
        j.declared.type_for_path(j.path),
        crate::scim::filter::parse(filter),
    ) else {
        return Vec::new();
    };
    let mut paths = Vec::new();
    fn walk<'f>(
        f: &'f crate::scim::filter::Filter,
        out: &mut Vec<&'f crate::scim::path::AttrPath>,
    ) {
        use crate::scim::filter::Filter as F;
        match f {
            F::And(fs) | F::Or(fs) => fs.iter().for_each(|x| walk(x, out)),
            F::Not(x) => walk(x, out),
            F::Present(p) | F::Compare(p, _, _) | F::ValuePath(p) => out.push(p),
        }
    }
    walk(&f, &mut paths);
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let bad = match j
            .declared
            .lookup(ty, p.urn.as_deref(), &p.attr, p.sub_attr.as_deref())
        {
            Lookup::Declared(a) | Lookup::Common(a) => a.filterable == Some(false),
            _ => true,
        };
        let name = match &p.sub_attr {
            Some(s) => format!("{}.{s}", p.attr),
            None => p.attr.clone(),
        };
        // Entra and Okta match every user by `userName eq` and every group by
        // `displayName eq`: a server cannot declare its way out of those.
        let idp_match = p.urn.is_none()
            && p.sub_attr.is_none()
            && (p.attr.eq_ignore_ascii_case("userName")
                || p.attr.eq_ignore_ascii_case("displayName"));
        if bad && !idp_match && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

fn judge_all(exp: &Expectation, ex: &Exchange, vars: &Vars, j: &Judging) -> Vec<Finding> {
    let mut out = Vec::new();
    let resp = &ex.response;
    if let Some(codes) = &exp.status
        && !codes.contains(&resp.status)
    {
        let want = match codes.as_slice() {
            [one] => one.to_string(),
            many => format!("one of {many:?}"),
        };
        let mut msg = format!("expected {want}, got {}", resp.status);
        if (300..400).contains(&resp.status) {
            msg.push_str(&format!(
                " (a redirect to {}, not followed)",
                resp.header("location").unwrap_or("nowhere")
            ));
        }
        out.push(finding("status", msg));
    }
    for (name, pred) in &exp.headers {
        let actual = resp.header(name).map(|v| Value::String(v.to_string()));
        if let Err(m) = pred.eval(actual.as_ref(), vars) {
            out.push(finding(format!("header {name}"), m));
        }
    }

    let body_empty = resp.body.trim().is_empty() && !resp.truncated;
    let needs_body = !exp.json.is_empty() || exp.checks.iter().any(|c| c.kind.needs_body());
    let body_checked = match exp.body {
        BodyRule::Empty => {
            if !body_empty {
                out.push(finding(
                    "body",
                    format!("expected no body, got {} bytes", resp.body.len()),
                ));
            }
            false
        }
        BodyRule::Optional if body_empty => false,
        _ if !needs_body => false,
        _ => match &resp.json {
            Some(_) => true,
            None => {
                let why = resp
                    .json_problem()
                    .unwrap_or_else(|| "the body is not JSON".into());
                out.push(finding("body", why));
                false
            }
        },
    };

    if body_checked {
        let body = resp.json.as_ref().unwrap_or(&Value::Null);
        let shape = Shape::of(j, resp.status, body);
        for a in &exp.json {
            let rendered = match vars.render_text(&a.path) {
                Ok(p) => p,
                Err(e) => {
                    out.push(finding(format!("json {}", a.path), e.to_string()));
                    continue;
                }
            };
            let actual = match select_ci(&rendered, body) {
                Ok(None) => select_folded(&rendered, body, j, &shape),
                Ok(v) => v,
                Err(e) => {
                    out.push(finding(format!("json {rendered}"), e));
                    continue;
                }
            };
            if let Some(mut f) =
                judge_json(&rendered, &a.predicate, actual.as_ref(), vars, j, &shape)
            {
                if actual.is_none() {
                    f.message.push_str(&what_the_list_holds(&rendered, body));
                }
                out.push(f);
            }
        }
    }
    for c in &exp.checks {
        // Header checks always run; body checks only on a JSON body.
        if c.kind.needs_body() && !body_checked {
            continue;
        }
        for p in check::run(c.kind, ex) {
            out.push(Finding {
                subject: format!("check {}", c.kind.name()),
                message: p.message,
                rfc: Some(p.rfc.to_string()),
                advisory: c.advisory,
            });
        }
    }

    if !exp.any_of.is_empty()
        && let Some(codes) = any_of_statuses(exp)
        && !codes.contains(&resp.status)
    {
        // No alternative allows this status: that is the finding (what
        // each alternative would also miss only follows from it).
        let want: Vec<String> = codes.iter().map(u16::to_string).collect();
        out.push(finding(
            "status",
            format!("expected {}, got {}", want.join(" or "), resp.status),
        ));
    } else if !exp.any_of.is_empty() {
        let alts: Vec<Vec<Finding>> = exp
            .any_of
            .iter()
            .map(|e| judge_all(e, ex, vars, j))
            .collect();
        if !alts.iter().any(|f| f.iter().all(|x| x.advisory)) {
            let mut msg = String::from("no alternative held:");
            for (i, fs) in alts.iter().enumerate() {
                let parts: Vec<String> = fs
                    .iter()
                    .filter(|f| !f.advisory)
                    .map(|f| format!("{}: {}", f.subject, f.message))
                    .collect();
                msg.push_str(&format!(" ({}) {};", i + 1, parts.join(", ")));
            }
            msg.pop();
            out.push(finding("any_of", msg));
        }
    }
    out
}

/// For a filter path that selected nothing (`$.emails[?@.type == 'work'].value`),
/// what the list it filters holds, so the reader sees why nothing matched
/// (a dropped `type`, say): ` ($.emails holds [{"value": …}])`.
fn what_the_list_holds(path: &str, body: &Value) -> String {
    let Some(cut) = path.find("[?") else {
        return String::new();
    };
    let list = &path[..cut];
    match select_ci(list, body) {
        Ok(Some(v)) => {
            let text = v.to_string();
            let shown: String = text.chars().take(200).collect();
            let more = if shown.len() < text.len() { "…" } else { "" };
            format!(" ({list} holds {shown}{more})")
        }
        _ => format!(" ({list} is absent)"),
    }
}

/// The filter an RFC suite's step sent, when the server declined it with
/// 400 invalidFilter where the step expected success: RFC 7644 §3.12 lets a
/// server decline "the specified attribute and filter comparison combination"
/// it does not support. Never for `userName eq` (every IdP needs it; the
/// run's lookup check judges it) nor for other suites (an IdP sends what it
/// sends).
/// The attribute/operator pairs a filter uses, names lower-cased and URN
/// prefixes dropped (RFC 7643 §2.1, RFC 7644 §3.10): `userName sw "a" and
/// emails[type eq "w"]` → `(username, sw)`, `(and)`, `(emails[], )`,
/// `(emails.type, eq)`. `None` when it does not parse.
pub fn filter_features(filter: &str) -> Option<Vec<(String, String)>> {
    use crate::scim::syntax::{AttrPath, Filter, parse_filter};
    fn value_path(p: &AttrPath, out: &mut Vec<(String, String)>) {
        if let Some(inner) = &p.value_filter {
            let base = p.attr.to_ascii_lowercase();
            out.push((format!("{base}[]"), String::new()));
            walk(inner, Some(&base), out);
        }
    }
    fn name(p: &AttrPath, parent: Option<&str>) -> String {
        let mut n = p.attr.to_ascii_lowercase();
        if let Some(parent) = parent {
            n = format!("{parent}.{n}");
        }
        if let Some(sub) = &p.sub_attr {
            n = format!("{n}.{}", sub.to_ascii_lowercase());
        }
        n
    }
    fn walk(f: &Filter, parent: Option<&str>, out: &mut Vec<(String, String)>) {
        match f {
            Filter::And(parts) | Filter::Or(parts) => {
                let op = if matches!(f, Filter::And(_)) {
                    "and"
                } else {
                    "or"
                };
                out.push((String::new(), op.into()));
                parts.iter().for_each(|x| walk(x, parent, out));
            }
            Filter::Not(inner) => {
                out.push((String::new(), "not".into()));
                walk(inner, parent, out);
            }
            Filter::Present(p) => {
                value_path(p, out);
                out.push((name(p, parent), "pr".into()));
            }
            Filter::Compare(p, op, _) => {
                value_path(p, out);
                out.push((name(p, parent), op.as_str().into()));
            }
            Filter::ValuePath(p) => value_path(p, out),
        }
    }
    let parsed = parse_filter(filter).ok()?;
    let mut out = Vec::new();
    walk(&parsed, None, &mut out);
    out.sort();
    out.dedup();
    Some(out)
}

pub fn declined_filter(
    exp: &Expectation,
    ex: &Exchange,
    j: &Judging,
    accepted: &std::collections::HashSet<(String, String)>,
) -> Option<String> {
    if j.idp != "rfc" || ex.response.status != 400 {
        return None;
    }
    let wants_success = exp
        .status
        .clone()
        .or_else(|| any_of_statuses(exp))
        .is_some_and(|codes| codes.iter().all(|c| (200..300).contains(c)));
    let filter = j.filter?;
    let scim_type = ex
        .response
        .json
        .as_ref()
        .and_then(|b| ci::value_get_ci(b, "scimType"))
        .and_then(Value::as_str);
    let features = filter_features(filter)?;
    let user_name_eq = features.iter().all(|(a, o)| a == "username" && o == "eq");
    // Declining what the server accepted elsewhere in another spelling
    // (`USERNAME`, `EQ`, a URN-qualified name) is no unsupported combination:
    // it breaks RFC 7643 §2.1 / RFC 7644 §3.4.2.2 and stays a failure.
    let accepted_elsewhere = features.iter().all(|f| accepted.contains(f));
    (wants_success
        && scim_type.is_some_and(|t| t.eq_ignore_ascii_case("invalidFilter"))
        && !user_name_eq
        && !accepted_elsewhere)
        .then(|| filter.to_string())
}

/// The statuses an `any_of` allows, when every alternative names its own.
pub fn any_of_statuses(exp: &Expectation) -> Option<Vec<u16>> {
    let mut codes = Vec::new();
    for alt in &exp.any_of {
        for c in alt.status.as_ref()? {
            if !codes.contains(c) {
                codes.push(*c);
            }
        }
    }
    codes.sort_unstable();
    (!codes.is_empty()).then_some(codes)
}

/// What kind of body a response holds, for resolving paths to attributes.
enum Shape<'a> {
    /// A resource (or a ListResponse of resources) of this type.
    Resource(&'a DeclaredType),
    List(&'a DeclaredType),
    /// An error, a discovery document, a Bulk response, …
    Other,
}

impl<'a> Shape<'a> {
    fn of(j: &Judging<'a>, status: u16, body: &Value) -> Shape<'a> {
        let Some(ty) = j.declared.type_for_path(j.path) else {
            return Shape::Other;
        };
        if !(200..300).contains(&status) {
            return Shape::Other;
        }
        if body.get("Resources").is_some() || body.get("totalResults").is_some() {
            Shape::List(ty)
        } else {
            Shape::Resource(ty)
        }
    }
}

/// One `expect.json` entry judged: `None` when it holds.
fn judge_json(
    path: &str,
    pred: &Predicate,
    actual: Option<&Value>,
    vars: &Vars,
    j: &Judging,
    shape: &Shape,
) -> Option<Finding> {
    let ty = match shape {
        Shape::Resource(t) | Shape::List(t) => Some(*t),
        Shape::Other => None,
    };
    let target = ty.and_then(|t| target(path, matches!(shape, Shape::List(_))).map(|x| (t, x)));
    let mut def: Option<DeclaredAttr> = None;
    if let Some((ty, target)) = &target {
        match definition(j.declared, ty, target) {
            Ok(d) => def = d,
            Err(undeclared) if j.declared.published() && !rfc_required(ty, target) => {
                return pred.eval(actual, vars).err().map(|m| {
                    let mut f = finding(
                        format!("json {path}"),
                        format!("{m} ({})", advice(j, &undeclared, target)),
                    );
                    f.advisory = true;
                    f
                });
            }
            // Judged by RFC 7643 alone, an unknown attribute is compared as written.
            Err(_) => {}
        }
    }
    let fold = |v: &Value| match &def {
        Some(a) => fold_case(v, a),
        None => v.clone(),
    };
    let cmp = Compare {
        normalize: def.as_ref().map(|_| &fold as &dyn Fn(&Value) -> Value),
        fold_case: def
            .as_ref()
            .is_some_and(|a| a.sub_attributes.is_empty() && !a.case_exact),
        ordered: j.ordered,
    };
    pred.eval_with(actual, vars, &cmp)
        .err()
        .map(|m| finding(format!("json {path}"), m))
}

/// Why a capture of `path` that found nothing is not held against the
/// server: the path names an attribute or extension its `/Schemas` does not
/// declare (then the steps that need the value are skipped, not failed).
pub fn undeclared_capture(j: &Judging, ex: &Exchange, path: &str) -> Option<String> {
    let body = ex.response.json.as_ref()?;
    let shape = Shape::of(j, ex.response.status, body);
    let (ty, list) = match shape {
        Shape::Resource(t) => (t, false),
        Shape::List(t) => (t, true),
        Shape::Other => return None,
    };
    let t = target(path, list)?;
    match definition(j.declared, ty, &t) {
        Err(undeclared) if j.declared.published() && !rfc_required(ty, &t) => {
            Some(advice(j, &undeclared, &t))
        }
        _ => None,
    }
}

/// The definition a path's values compare by (`Ok(None)`: none in
/// particular), or how the path is undeclared.
fn definition<'d>(
    d: &'d Declared,
    ty: &DeclaredType,
    t: &Target,
) -> Result<Option<DeclaredAttr>, Lookup<'d>> {
    match (&t.attr, &t.urn) {
        (Some(attr), urn) => match d.lookup(ty, urn.as_deref(), attr, t.sub.as_deref()) {
            Lookup::Declared(a) | Lookup::Common(a) => Ok(Some(a.clone())),
            other => Err(other),
        },
        (None, Some(u)) if !u.eq_ignore_ascii_case(&ty.schema) && !d.has_extension(ty, u) => {
            Err(Lookup::NoExtension(u.clone()))
        }
        // The resource, or the extension object: its schema's attributes.
        (None, Some(u)) => Ok(d.schema(u).map(|s| DeclaredAttr {
            name: s.id.clone(),
            sub_attributes: s.attributes.clone(),
            ..DeclaredAttr::default()
        })),
        (None, None) => Ok(None),
    }
}

/// Lower-cases the values of `caseExact: false` string attributes (RFC
/// 7643 §2.2) and names members as the schema does (§2.1).
fn fold_case(v: &Value, a: &DeclaredAttr) -> Value {
    match v {
        Value::String(s) if a.sub_attributes.is_empty() && !a.case_exact => {
            Value::String(s.to_lowercase())
        }
        Value::Array(items) => Value::Array(items.iter().map(|i| fold_case(i, a)).collect()),
        Value::Object(m) if !a.sub_attributes.is_empty() => Value::Object(
            m.iter()
                .map(|(k, x)| match a.sub(k) {
                    Some(sa) => (sa.name.clone(), fold_case(x, sa)),
                    None => (k.clone(), x.clone()),
                })
                .collect(),
        ),
        _ => v.clone(),
    }
}

/// Whether RFC 7643 makes the attribute required (then a server cannot
/// leave it out of its schema): `userName`, a Group's `displayName`.
fn rfc_required(ty: &DeclaredType, t: &Target) -> bool {
    let rfc = Declared::rfc();
    let Some(rty) = rfc
        .types
        .iter()
        .find(|r| r.schema.eq_ignore_ascii_case(&ty.schema))
    else {
        return false;
    };
    match &t.attr {
        Some(attr) => matches!(
            rfc.lookup(rty, t.urn.as_deref(), attr, None),
            Lookup::Declared(a) if a.required
        ),
        None => false,
    }
}

/// What to do about an attribute the server does not declare, in the
/// words of the suite's client.
fn advice(j: &Judging, looked: &Lookup, t: &Target) -> String {
    let qualified = qualified(t);
    let missing = match looked {
        Lookup::NoExtension(u) if u.eq_ignore_ascii_case(urn::ENTERPRISE_USER) => {
            "the enterprise extension".to_string()
        }
        Lookup::NoExtension(u) => format!("the extension {u}"),
        Lookup::NoAttribute { schema, name } => format!("{name} in {schema}"),
        _ => qualified.clone(),
    };
    // An extension is declared for a type by its resource type's
    // schemaExtensions (RFC 7643 §6): a schema /Schemas publishes but no
    // resource type lists is still not an extension of anything.
    let undeclared = match (looked, j.declared.type_for_path(j.path)) {
        (Lookup::NoExtension(u), Some(ty)) if j.declared.schema(u).is_some() => format!(
            "your /ResourceTypes does not list {missing} among the {} type's schemaExtensions",
            ty.name
        ),
        _ => format!("your /Schemas does not declare {missing}"),
    };
    let idp = j.idp.to_ascii_lowercase();
    if idp.starts_with("entra") {
        format!(
            "Entra's default attribute mapping sends {qualified}; {undeclared}: support it, or remove those mappings from the Entra app"
        )
    } else if idp.starts_with("okta") {
        format!(
            "Okta's attribute mappings send {qualified}; {undeclared}: support it, or remove it from the Okta app's attribute mappings"
        )
    } else {
        format!("not judged: {undeclared}, which RFC 7643 makes optional")
    }
}

/// The attribute a JSONPath reaches in a resource: `urn`, `attr`, `sub`.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    urn: Option<String>,
    attr: Option<String>,
    sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Name(String),
    /// An index, a wildcard or a filter: stays on the same attribute.
    Select,
}

/// A JSONPath's segments; `None` for a descendant (`..`) path, which names
/// no one attribute.
fn segments(path: &str) -> Option<Vec<Seg>> {
    let rest = path.trim().strip_prefix('$')?;
    let b = rest.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' if b.get(i + 1) == Some(&b'.') => return None,
            b'.' => {
                let start = i + 1;
                let mut k = start;
                while k < b.len() && b[k] != b'.' && b[k] != b'[' {
                    k += 1;
                }
                let name = &rest[start..k];
                out.push(if name == "*" {
                    Seg::Select
                } else {
                    Seg::Name(name.to_string())
                });
                i = k;
            }
            b'[' => {
                let q = b.get(i + 1).copied();
                if let Some(quote @ (b'\'' | b'"')) = q {
                    let start = i + 2;
                    let end = rest[start..].find(quote as char)? + start;
                    out.push(Seg::Name(rest[start..end].to_string()));
                    i = rest[end..].find(']')? + end + 1;
                } else {
                    // Skip to the matching bracket, past quoted text.
                    let (mut depth, mut k, mut quote) = (0usize, i, None::<u8>);
                    while k < b.len() {
                        match (quote, b[k]) {
                            (Some(c), x) if x == c => quote = None,
                            (Some(_), _) => {}
                            (None, c @ (b'\'' | b'"')) => quote = Some(c),
                            (None, b'[') => depth += 1,
                            (None, b']') => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        k += 1;
                    }
                    out.push(Seg::Select);
                    i = k + 1;
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The attribute `path` reaches in a resource (`in_list`: below
/// `Resources` of a ListResponse). `None` when it names none.
fn target(path: &str, in_list: bool) -> Option<Target> {
    let segs = segments(path)?;
    let mut names = segs.iter().peekable();
    if in_list {
        match names.next() {
            Some(Seg::Name(n)) if n.eq_ignore_ascii_case("Resources") => {}
            _ => return None,
        }
        // The resource within the list.
        if !matches!(names.next(), Some(Seg::Select)) {
            return None;
        }
    }
    let mut rest = names.filter_map(|s| match s {
        Seg::Name(n) => Some(n.clone()),
        Seg::Select => None,
    });
    let first = rest.next();
    let (urn, attr) = match first {
        Some(f) if f.to_ascii_lowercase().starts_with("urn:") => (Some(f), rest.next()),
        other => (None, other),
    };
    if urn.is_none() && attr.is_none() {
        return None;
    }
    Some(Target {
        urn,
        attr,
        sub: rest.next(),
    })
}

/// A JSONPath whose filter selectors (`[?@.type == 'work']`) test a
/// `caseExact: false` sub-attribute, evaluated ignoring the case of those
/// values (RFC 7643 §2.2): a server answering `"type": "Work"` has a work
/// email. `None` when the path has no such selector or still matches nothing.
fn select_folded(path: &str, body: &Value, j: &Judging, shape: &Shape) -> Option<Value> {
    let ty = match shape {
        Shape::Resource(t) | Shape::List(t) => *t,
        Shape::Other => return None,
    };
    let t = target(path, matches!(shape, Shape::List(_)))?;
    let attr = t.attr.as_deref()?;
    static SELECTOR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = SELECTOR.get_or_init(|| {
        regex::Regex::new(r"\[\?\(?@\.([A-Za-z_][\w$]*)\s*==\s*'([^']*)'\)?\]").expect("regex")
    });
    let mut folded = path.to_string();
    let mut members: Vec<String> = Vec::new();
    for c in re.captures_iter(path) {
        let sub = &c[1];
        if let Lookup::Declared(a) = j.declared.lookup(ty, t.urn.as_deref(), attr, Some(sub))
            && a.name.eq_ignore_ascii_case(sub)
            && !a.case_exact
            && a.sub_attributes.is_empty()
        {
            folded = folded.replace(&c[0], &c[0].replace(&c[2], &c[2].to_lowercase()));
            members.push(sub.to_string());
        }
    }
    if members.is_empty() {
        return None;
    }
    select_ci(&folded, &lower_members(body, &members))
        .ok()
        .flatten()
}

/// `v` with the string values of members named in `names` lower-cased.
fn lower_members(v: &Value, names: &[String]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = match x {
                        Value::String(s) if names.iter().any(|n| n.eq_ignore_ascii_case(k)) => {
                            Value::String(s.to_lowercase())
                        }
                        other => lower_members(other, names),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| lower_members(x, names)).collect()),
        other => other.clone(),
    }
}

/// A JSONPath's value in `body`, member names matched case-insensitively
/// (RFC 7643 §2.1): a body holding `username` answers `$.userName`.
pub fn select_ci(path: &str, body: &Value) -> Result<Option<Value>, String> {
    let q = serde_json_path::JsonPath::parse(path).map_err(|e| format!("not a JSONPath: {e}"))?;
    let direct = select(&q, body);
    if direct.is_some() {
        return Ok(direct);
    }
    let names: Vec<String> = segments(path)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| match s {
            Seg::Name(n) => Some(n),
            Seg::Select => None,
        })
        // The names in filters too (`[?@.value == 'x']`).
        .chain(
            path.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
                .filter(|w| w.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
                .map(str::to_string),
        )
        .collect();
    Ok(select(&q, &rename_members(body, &names)))
}

/// `v` with every member named like one of `names` but in another case
/// renamed to it (unless the exact name is there too).
fn rename_members(v: &Value, names: &[String]) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let renamed = names.iter().find(|n| {
                        n.eq_ignore_ascii_case(k) && *n != k && !m.contains_key(n.as_str())
                    });
                    (
                        renamed.cloned().unwrap_or_else(|| k.clone()),
                        rename_members(x, names),
                    )
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| rename_members(x, names)).collect()),
        other => other.clone(),
    }
}

/// A JSONPath's nodes as one value: absent, the node, or an array of nodes.
pub fn select(q: &serde_json_path::JsonPath, body: &Value) -> Option<Value> {
    let nodes = q.query(body).all();
    match nodes.len() {
        0 => None,
        1 => Some(nodes[0].clone()),
        _ => Some(Value::Array(nodes.into_iter().cloned().collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_name_their_attribute() {
        let t = |p: &str, list: bool| target(p, list);
        assert_eq!(
            t("$.emails[?@.type == 'work'].value", false),
            Some(Target {
                urn: None,
                attr: Some("emails".into()),
                sub: Some("value".into())
            })
        );
        assert_eq!(
            t(
                "$['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].manager.value",
                false
            ),
            Some(Target {
                urn: Some(urn::ENTERPRISE_USER.into()),
                attr: Some("manager".into()),
                sub: Some("value".into())
            })
        );
        assert_eq!(
            t("$.Resources[*].userName", true).unwrap().attr.as_deref(),
            Some("userName")
        );
        assert_eq!(t("$.totalResults", true), None);
        assert_eq!(t("$..value", false), None);
        assert_eq!(
            t("$.Resources[?@.id == 'a.b[c]'].id", true)
                .unwrap()
                .attr
                .as_deref(),
            Some("id")
        );
    }

    #[test]
    fn member_names_resolve_case_insensitively() {
        let body = json!({"username": "ada", "Emails": [{"Value": "a@x", "type": "work"}]});
        assert_eq!(select_ci("$.userName", &body).unwrap(), Some(json!("ada")));
        assert_eq!(
            select_ci("$.emails[?@.type == 'work'].value", &body).unwrap(),
            Some(json!("a@x"))
        );
        assert_eq!(select_ci("$.nickName", &body).unwrap(), None);
    }

    /// A server declaring only the core User schema (no title, no extension).
    fn lean_server() -> Declared {
        let schemas = json!([{"id": urn::USER, "attributes": [
            {"name": "userName", "type": "string", "required": true},
            {"name": "emails", "type": "complex", "multiValued": true,
             "subAttributes": [{"name": "value", "type": "string"}]}]}]);
        let types = json!([{"name": "User", "endpoint": "/Users", "schema": urn::USER}]);
        Declared::from_server(&schemas, Some(&types)).unwrap()
    }

    fn judged(
        idp: &str,
        declared: &Declared,
        path: &str,
        want: Value,
        body: Value,
    ) -> Option<Finding> {
        let pred = Predicate::parse(&want).unwrap();
        let j = Judging::new(declared, idp, "/Users/1", &[], None);
        let actual = select_ci(path, &body).unwrap();
        judge_json(
            path,
            &pred,
            actual.as_ref(),
            &Vars::default(),
            &j,
            &Shape::of(&j, 200, &body),
        )
    }

    #[test]
    fn undeclared_attributes_are_advice_declared_ones_are_judged() {
        let lean = lean_server();
        let body = json!({"id": "1", "userName": "ada", "emails": [{"value": "a@x.org"}]});
        let dept = format!("$['{}'].department", urn::ENTERPRISE_USER);
        let f = judged("entra", &lean, &dept, json!("Sales"), body.clone()).unwrap();
        assert!(f.advisory);
        assert!(f.message.contains(&format!(
            "Entra's default attribute mapping sends {}:department; your /Schemas does not declare the enterprise extension",
            urn::ENTERPRISE_USER
        )), "{}", f.message);
        let f = judged("okta", &lean, "$.title", json!("Boss"), body.clone()).unwrap();
        assert!(
            f.advisory && f.message.contains("Okta's attribute mappings send title"),
            "{}",
            f.message
        );
        let f = judged("rfc", &lean, "$.title", json!("Boss"), body.clone()).unwrap();
        assert!(
            f.advisory && f.message.contains("not judged"),
            "{}",
            f.message
        );
        // Declared, then changed: a failure.
        let f = judged(
            "entra",
            &lean,
            "$.emails[0].value",
            json!("b@x.org"),
            body.clone(),
        )
        .unwrap();
        assert!(!f.advisory);
        // RFC 7643 makes userName required: never excused, declared or not.
        let bare = Declared::from_server(
            &json!([{"id": urn::USER, "attributes": [{"name": "nickName"}]}]),
            None,
        )
        .unwrap();
        let f = judged("rfc", &bare, "$.userName", json!("bob"), body.clone()).unwrap();
        assert!(!f.advisory);
        // By RFC 7643 alone (no /Schemas published) the same is a failure.
        let f = judged(
            "entra",
            &Declared::rfc(),
            &dept,
            json!("Sales"),
            body.clone(),
        )
        .unwrap();
        assert!(!f.advisory);
        // The extension's schema published, but no resource type lists it
        // (django-scim2 does this): the advice names /ResourceTypes.
        let schemas = json!([
            {"id": urn::USER, "attributes": [{"name": "userName"}]},
            {"id": urn::ENTERPRISE_USER, "attributes": [{"name": "department"}]}]);
        let types = json!([{"name": "User", "endpoint": "/scim/v2/Users", "schema": urn::USER}]);
        let unlisted = Declared::from_server(&schemas, Some(&types)).unwrap();
        let f = judged("entra", &unlisted, &dept, json!("Sales"), body).unwrap();
        assert!(f.advisory, "{}", f.message);
        assert!(
            f.message.contains(
                "your /ResourceTypes does not list the enterprise extension among the User type's schemaExtensions"
            ),
            "{}",
            f.message
        );
    }

    #[test]
    fn filter_selectors_on_case_insensitive_values_ignore_case() {
        let d = Declared::rfc();
        let j = Judging::new(&d, "entra", "/Users/1", &[], None);
        let body = json!({"id": "1", "emails": [{"type": "Work", "value": "a@x.org"}]});
        let shape = Shape::of(&j, 200, &body);
        let path = "$.emails[?@.type == 'work'].value";
        assert_eq!(select_ci(path, &body).unwrap(), None);
        assert_eq!(
            select_folded(path, &body, &j, &shape),
            Some(json!("a@x.org"))
        );
        // id is caseExact: no folding.
        let list = json!({"Resources": [{"id": "ABC"}], "totalResults": 1});
        let shape = Shape::of(&j, 200, &list);
        assert_eq!(
            select_folded("$.Resources[?@.id == 'abc'].id", &list, &j, &shape),
            None
        );
    }

    #[test]
    fn a_filter_that_selects_nothing_shows_what_the_list_holds() {
        let body = json!({"emails": [{"value": "a@x.org", "primary": true}]});
        assert_eq!(
            what_the_list_holds("$.emails[?@.type == 'work'].value", &body),
            r#" ($.emails holds [{"primary":true,"value":"a@x.org"}])"#
        );
        assert_eq!(
            what_the_list_holds("$.addresses[?@.type == 'work']", &body),
            " ($.addresses is absent)"
        );
        // Only filters: a plain missing attribute says nothing more.
        assert_eq!(what_the_list_holds("$.title", &body), "");
    }

    #[test]
    fn filter_features_name_attributes_and_operators_in_one_spelling() {
        let f = |s: &str| filter_features(s).unwrap();
        assert_eq!(
            f(r#"USERNAME sw "a" AND urn:ietf:params:scim:schemas:core:2.0:User:active EQ true"#),
            f(r#"userName sw "b" and active eq false"#)
        );
        assert_eq!(
            f(r#"emails[type eq "work"].value eq "x""#),
            vec![
                ("emails.type".to_string(), "eq".to_string()),
                ("emails.value".to_string(), "eq".to_string()),
                ("emails[]".to_string(), String::new()),
            ]
        );
        assert_eq!(
            f("meta.created gt \"2020-01-01T00:00:00Z\""),
            vec![("meta.created".to_string(), "gt".to_string())]
        );
    }

    #[test]
    fn sort_by_orders_lists() {
        let d = Declared::rfc();
        let q = vec![("sortBy".to_string(), "userName".to_string())];
        assert!(Judging::new(&d, "rfc", "/Users", &q, None).ordered);
        assert!(Judging::new(&d, "rfc", "/Users?sortBy=userName", &[], None).ordered);
        let search = json!({"sortBy": "userName"});
        assert!(Judging::new(&d, "rfc", "/Users/.search", &[], Some(&search)).ordered);
        assert!(!Judging::new(&d, "rfc", "/Users", &[], None).ordered);
    }

    #[test]
    fn values_fold_by_case_exactness() {
        let d = Declared::rfc();
        let users = d.type_for_path("/Users").unwrap();
        let Lookup::Declared(emails) = d.lookup(users, None, "emails", None) else {
            panic!()
        };
        assert_eq!(
            fold_case(&json!([{"VALUE": "A@X.COM", "type": "Work"}]), emails),
            json!([{"value": "a@x.com", "type": "work"}])
        );
        let Lookup::Common(ext) = d.lookup(users, None, "externalId", None) else {
            panic!()
        };
        assert_eq!(fold_case(&json!("AbC"), ext), json!("AbC"));
    }
}
