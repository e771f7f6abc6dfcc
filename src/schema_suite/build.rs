//! One resource type's suite, step by step, as YAML nodes.
//!
//! The order builds state the way a client would: create with every
//! writable attribute and read it back (types, `returned`), the checks that
//! need the resource as created (filters by case, uniqueness), resources
//! that must be refused (required attributes left out) or must ignore what
//! they are sent (readOnly), a PUT replacing everything, immutable values
//! that must not change, then per attribute a PATCH replace and remove,
//! each read back.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::decl::{Attr, ResourceType, Schema};
use super::values::{self, Phase};
use super::{Coverage, GenError, Options, PROFILE, Planned};
use crate::record::yaml::{self, Node};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// An attribute where it sits: its schema, the top-level attribute and,
/// for a sub-attribute, the sub-attribute.
#[derive(Debug, Clone, Copy)]
struct Slot<'a> {
    urn: &'a str,
    ext: bool,
    top: &'a Attr,
    sub: Option<&'a Attr>,
}

impl<'a> Slot<'a> {
    fn attr(&self) -> &'a Attr {
        self.sub.unwrap_or(self.top)
    }

    /// `name.middleName`
    fn rel(&self) -> String {
        match self.sub {
            Some(s) => format!("{}.{}", self.top.name, s.name),
            None => self.top.name.clone(),
        }
    }

    /// `urn:…:User:name.middleName`, as findings name it.
    fn decl(&self) -> String {
        format!("{}:{}", self.urn, self.rel())
    }

    /// The attribute path of PATCH, `attributes=` and filters (RFC 7644
    /// §3.10: extension attributes with their URN).
    fn attr_path(&self) -> String {
        if self.ext {
            format!("{}:{}", self.urn, self.rel())
        } else {
            self.rel()
        }
    }

    /// The JSONPath of its value; under a multi-valued attribute, every
    /// value (`all`) or the first.
    fn json_path(&self, all: bool) -> String {
        let mut p = String::from("$");
        if self.ext {
            p.push_str(&format!("['{}']", self.urn));
        }
        p.push_str(&seg(&self.top.name));
        if let Some(s) = self.sub {
            if self.top.multi {
                p.push_str(if all { "[*]" } else { "[0]" });
            }
            p.push_str(&seg(&s.name));
        }
        p
    }

    /// How step names call it: `title`, `enterprise:manager.value`.
    fn label(&self) -> String {
        if self.ext {
            format!("{}:{}", ext_short(self.urn), self.rel())
        } else {
            self.rel()
        }
    }

    fn top_slot(&self) -> Slot<'a> {
        Slot { sub: None, ..*self }
    }
}

fn seg(name: &str) -> String {
    let ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        format!(".{name}")
    } else {
        format!("['{name}']")
    }
}

/// `enterprise` for `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`.
fn ext_short(urn: &str) -> String {
    let parts: Vec<&str> = urn.split(':').collect();
    parts
        .iter()
        .position(|p| p.eq_ignore_ascii_case("extension"))
        .and_then(|i| parts.get(i + 1))
        .or(parts.last())
        .map_or_else(|| "ext".into(), |s| s.to_ascii_lowercase())
}

fn kebab(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// One step before it becomes YAML.
#[derive(Default)]
struct StepB {
    name: String,
    why: String,
    method: &'static str,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    status: Vec<u16>,
    body_rule: Option<&'static str>,
    json: Vec<(String, Value)>,
    any_of: Vec<Value>,
    capture: Vec<(String, String)>,
    depends_on: Vec<String>,
    fallback: Option<Value>,
}

impl StepB {
    fn new(name: String, method: &'static str, path: String, why: String) -> StepB {
        StepB {
            name,
            why,
            method,
            path,
            ..StepB::default()
        }
    }

    /// Adds a predicate on `path`; a second one on the same path joins the
    /// first (their words together), a plain value stays as it was.
    fn check(&mut self, path: String, pred: Value) {
        if let Some((_, old)) = self.json.iter_mut().find(|(p, _)| *p == path) {
            if let (Value::Object(o), Value::Object(n)) = (old, pred) {
                for (k, v) in n {
                    o.entry(k).or_insert(v);
                }
            }
            return;
        }
        self.json.push((path, pred));
    }

    fn has(&self, path: &str) -> bool {
        self.json.iter().any(|(p, _)| p == path)
    }

    fn node(self) -> Node {
        let mut req = vec![
            ("method".to_string(), Node::str(self.method)),
            ("path".to_string(), Node::str(self.path)),
        ];
        if !self.query.is_empty() {
            req.push((
                "query".into(),
                Node::Map(
                    self.query
                        .into_iter()
                        .map(|(k, v)| (k, Node::str(v)))
                        .collect(),
                ),
            ));
        }
        if let Some(b) = &self.body {
            req.push(("body".into(), Node::json(b)));
        }
        let mut expect = Vec::new();
        match self.status.as_slice() {
            [] => {}
            [one] => expect.push(("status".into(), Node::Scalar(json!(one)))),
            many => expect.push(("status".into(), Node::json(&json!(many)))),
        }
        if let Some(r) = self.body_rule {
            expect.push(("body".into(), Node::str(r)));
        }
        if !self.json.is_empty() {
            expect.push((
                "json".into(),
                Node::Map(
                    self.json
                        .iter()
                        .map(|(p, v)| (p.clone(), Node::json(v)))
                        .collect(),
                ),
            ));
        }
        if !self.any_of.is_empty() {
            expect.push(("any_of".into(), Node::json(&Value::Array(self.any_of))));
        }
        let mut m = vec![
            ("name".to_string(), Node::str(self.name)),
            ("why".to_string(), Node::Text(self.why)),
            ("request".to_string(), Node::Map(req)),
        ];
        if let Some(f) = self.fallback {
            m.push(("fallback".into(), Node::json(&f)));
        }
        m.push(("expect".into(), Node::Map(expect)));
        if !self.capture.is_empty() {
            m.push((
                "capture".into(),
                Node::Map(
                    self.capture
                        .into_iter()
                        .map(|(k, v)| (k, Node::str(v)))
                        .collect(),
                ),
            ));
        }
        if !self.depends_on.is_empty() {
            m.push((
                "depends_on".into(),
                Node::Seq(
                    self.depends_on
                        .into_iter()
                        .map(|d| (Vec::new(), Node::str(d)))
                        .collect(),
                ),
            ));
        }
        Node::Map(m)
    }
}

/// Builds one resource type's suite.
struct Gen<'a> {
    rt: &'a ResourceType,
    /// The core schema first, then the extensions (URN, schema, required).
    schemas: Vec<(&'a Schema, bool, bool)>,
    rts: &'a [ResourceType],
    all: &'a [Schema],
    opts: &'a Options,
    steps: Vec<Node>,
    names: BTreeSet<String>,
    coverage: Vec<Coverage>,
    /// Resource types some value refers to (a member, a manager).
    referents: Vec<String>,
}

pub(super) fn suite(
    rt: &ResourceType,
    rts: &[ResourceType],
    all: &[Schema],
    opts: &Options,
) -> Result<Planned, GenError> {
    let mut g = Gen::new(rt, rts, all, opts)?;
    g.build();
    g.finish()
}

impl<'a> Gen<'a> {
    fn new(
        rt: &'a ResourceType,
        rts: &'a [ResourceType],
        all: &'a [Schema],
        opts: &'a Options,
    ) -> Result<Gen<'a>, GenError> {
        let find = |urn: &str| all.iter().find(|s| s.id.eq_ignore_ascii_case(urn));
        let core = find(&rt.schema).ok_or_else(|| {
            GenError::Declarations(format!(
                "/ResourceTypes {} names schema {}, which /Schemas does not list",
                rt.name, rt.schema
            ))
        })?;
        let mut schemas = vec![(core, false, true)];
        for (urn, required) in &rt.extensions {
            // An extension /Schemas does not describe cannot be checked;
            // it is named in the description instead.
            if let Some(s) = find(urn) {
                schemas.push((s, true, *required));
            }
        }
        let mut g = Gen {
            rt,
            schemas,
            rts,
            all,
            opts,
            steps: Vec::new(),
            names: BTreeSet::new(),
            coverage: Vec::new(),
            referents: Vec::new(),
        };
        for s in g.slots() {
            g.coverage.push(Coverage {
                declaration: s.decl(),
                checks: Vec::new(),
                skipped: None,
            });
        }
        for (urn, _) in &rt.extensions {
            if find(urn).is_none() {
                g.coverage.push(Coverage {
                    declaration: urn.clone(),
                    checks: Vec::new(),
                    skipped: Some("a schema extension /Schemas does not describe".into()),
                });
            }
        }
        Ok(g)
    }

    fn tops(&self) -> Vec<Slot<'a>> {
        self.schemas
            .iter()
            .flat_map(|(s, ext, _)| {
                s.attrs.iter().map(move |a| Slot {
                    urn: &s.id,
                    ext: *ext,
                    top: a,
                    sub: None,
                })
            })
            .collect()
    }

    fn subs(top: Slot<'a>) -> impl Iterator<Item = Slot<'a>> {
        top.top.subs.iter().map(move |s| Slot {
            sub: Some(s),
            ..top
        })
    }

    fn slots(&self) -> Vec<Slot<'a>> {
        self.tops()
            .into_iter()
            .flat_map(|t| std::iter::once(t).chain(Self::subs(t)))
            .collect()
    }

    fn cover(&mut self, s: &Slot, check: &str) {
        let d = s.decl();
        if let Some(c) = self.coverage.iter_mut().find(|c| c.declaration == d)
            && !c.checks.iter().any(|x| x == check)
        {
            c.checks.push(check.to_string());
        }
    }

    fn name(&mut self, base: &str) -> String {
        let mut n = base.to_string();
        let mut i = 2;
        while !self.names.insert(n.clone()) {
            n = format!("{base}-{i}");
            i += 1;
        }
        n
    }

    fn ext_required(&self, urn: &str) -> bool {
        self.schemas
            .iter()
            .any(|(s, ext, req)| *ext && *req && s.id == urn)
    }

    /// The resource type a complex attribute refers to through its `value`
    /// and `$ref` (a group's members, a manager), if it names a known one.
    fn ref_target(&self, top: &Attr) -> Option<String> {
        if top.ty != "complex" || top.sub("value").is_none() {
            return None;
        }
        let r = top.sub("$ref")?;
        let known: Vec<String> = r
            .reference_types
            .iter()
            .filter_map(|t| {
                self.rts
                    .iter()
                    .find(|rt| rt.name.eq_ignore_ascii_case(t))
                    .map(|rt| rt.name.clone())
            })
            .collect();
        // `groups` refers to Groups even where User is allowed too.
        let singular = top.name.trim_end_matches('s');
        known
            .iter()
            .find(|t| t.eq_ignore_ascii_case(singular))
            .or(known.first())
            .cloned()
    }

    /// Why this attribute is not sent, if it is not.
    fn unsent(&self, s: &Slot) -> Option<String> {
        let top = s.top;
        if top.ty == "complex" && top.subs.is_empty() {
            return Some("complex, with no sub-attributes declared".into());
        }
        match s.sub {
            Some(sub) => {
                if let Some(why) = self.unsent(&s.top_slot()) {
                    return Some(format!("{} is not sent: {why}", top.name));
                }
                if let Some(t) = self.ref_target(top) {
                    let name = sub.name.to_ascii_lowercase();
                    let typed = name == "type"
                        && (sub.canonical.is_empty()
                            || sub.canonical.iter().any(|c| c.eq_ignore_ascii_case(&t)));
                    if name == "value" || typed {
                        return None;
                    }
                    return Some(format!(
                        "the server derives it from the {t} that `value` refers to"
                    ));
                }
                values::unsendable_type(sub)
            }
            None if top.ty == "complex" => {
                if self.ref_target(top).is_some() {
                    return None;
                }
                if let Some(v) = top.sub("value") {
                    let vs = Slot { sub: Some(v), ..*s };
                    if let Some(why) = self.unsent_leaf(&vs) {
                        return Some(format!("its value is {why}"));
                    }
                }
                let any = top
                    .subs
                    .iter()
                    .any(|x| values::unsendable_type(x).is_none());
                (!any).then(|| "none of its sub-attributes can be sent".into())
            }
            None => values::unsendable_type(top),
        }
    }

    fn unsent_leaf(&self, s: &Slot) -> Option<String> {
        s.sub.and_then(values::unsendable_type)
    }

    /// The value of a top-level attribute for `phase` (immutable
    /// sub-attributes at `imm`); with `read_only`, read-only sub-attributes
    /// too. `None` when nothing of it can be sent.
    fn value(&mut self, top: Slot<'a>, phase: Phase, imm: Phase, read_only: bool) -> Option<Value> {
        if self.unsent(&top).is_some() {
            return None;
        }
        let a = top.top;
        let key = top.label();
        let v = if a.ty == "complex" {
            let target = self.ref_target(a);
            let mut obj = Map::new();
            for s in Self::subs(top) {
                let sub = s.attr();
                if self.unsent(&s).is_some() || (!sub.writable() && !read_only) {
                    continue;
                }
                let p = if sub.mutability == "immutable" {
                    imm
                } else {
                    phase
                };
                let v = match &target {
                    Some(t) if sub.name.eq_ignore_ascii_case("value") => {
                        if !self.referents.contains(t) {
                            self.referents.push(t.clone());
                        }
                        Value::String(format!("{{{{{}}}}}", referent_var(t)))
                    }
                    Some(t) => Value::String(t.clone()),
                    None => values::scalar(sub, Some(a), &s.label(), p),
                };
                obj.insert(sub.name.clone(), v);
            }
            if obj.is_empty() {
                return None;
            }
            Value::Object(obj)
        } else {
            values::scalar(a, None, &key, phase)
        };
        Some(if a.multi { Value::Array(vec![v]) } else { v })
    }

    /// The leaves of a top-level value, each with its slot.
    fn leaves(top: Slot<'a>, v: &Value) -> Vec<(Slot<'a>, Value)> {
        let obj = match v {
            Value::Array(items) if top.top.ty == "complex" => {
                items.first().and_then(Value::as_object)
            }
            Value::Object(m) => Some(m),
            _ => None,
        };
        match obj {
            Some(m) => m
                .iter()
                .filter_map(|(k, v)| {
                    let sub = top.top.sub(k)?;
                    Some((
                        Slot {
                            sub: Some(sub),
                            ..top
                        },
                        v.clone(),
                    ))
                })
                .collect(),
            None => vec![(top, v.clone())],
        }
    }

    /// A resource body: the top-level attributes `pick` selects, at
    /// `phase` (immutable ones at `imm`), with their leaves.
    fn body(
        &mut self,
        phase: Phase,
        imm: Phase,
        pick: impl Fn(&Slot) -> bool,
    ) -> (Value, Vec<(Slot<'a>, Value)>) {
        let mut core = Map::new();
        let mut exts: Vec<(String, Map<String, Value>)> = Vec::new();
        let mut leaves = Vec::new();
        for top in self.tops() {
            if !top.top.writable() || !pick(&top) {
                continue;
            }
            let p = if top.top.mutability == "immutable" {
                imm
            } else {
                phase
            };
            let Some(v) = self.value(top, p, imm, false) else {
                continue;
            };
            leaves.extend(Self::leaves(top, &v));
            if top.ext {
                match exts.iter_mut().find(|(u, _)| u == top.urn) {
                    Some((_, m)) => {
                        m.insert(top.top.name.clone(), v);
                    }
                    None => {
                        let mut m = Map::new();
                        m.insert(top.top.name.clone(), v);
                        exts.push((top.urn.to_string(), m));
                    }
                }
            } else {
                core.insert(top.top.name.clone(), v);
            }
        }
        let mut schemas = vec![Value::String(self.schemas[0].0.id.clone())];
        for (s, ext, req) in &self.schemas {
            if *ext && (*req || exts.iter().any(|(u, _)| *u == s.id)) {
                schemas.push(Value::String(s.id.clone()));
            }
        }
        core.insert("schemas".into(), Value::Array(schemas));
        for (u, m) in exts {
            core.insert(u, Value::Object(m));
        }
        (Value::Object(core), leaves)
    }

    fn full(&mut self, phase: Phase, imm: Phase) -> (Value, Vec<(Slot<'a>, Value)>) {
        self.body(phase, imm, |_| true)
    }

    fn minimal(&mut self, phase: Phase) -> Value {
        let req: Vec<String> = self
            .schemas
            .iter()
            .filter(|(_, ext, req)| !*ext || *req)
            .map(|(s, _, _)| s.id.clone())
            .collect();
        self.body(phase, phase, |s| {
            s.top.required && req.iter().any(|u| u == s.urn)
        })
        .0
    }

    fn resource_path(&self) -> String {
        format!("{}/{{{{id}}}}", self.rt.endpoint)
    }

    /// `absent` for every attribute that is never returned.
    fn never_checks(&self, st: &mut StepB) {
        for s in self.slots() {
            let a = s.attr();
            if a.returned == "never" || a.mutability == "writeOnly" {
                st.check(s.json_path(true), json!({"absent": true}));
            }
        }
    }

    /// Equality checks for what was sent, where a GET returns it.
    fn read_back_checks(&mut self, st: &mut StepB, leaves: &[(Slot<'a>, Value)], check: &str) {
        for (s, v) in leaves {
            let a = s.attr();
            if !a.readable() || a.returned == "request" || s.top.returned == "request" {
                continue;
            }
            st.check(s.json_path(true), values::read_back(a, v));
            self.cover(s, check);
            if !a.canonical.is_empty() {
                self.cover(s, "canonicalValues");
            }
        }
    }

    fn add(&mut self, st: StepB) {
        self.steps.push(st.node());
    }

    fn build(&mut self) {
        let endpoint = self.rt.endpoint.clone();
        let rt = self.rt.name.clone();
        let res = self.resource_path();

        // ---- create, and read it back
        let (body1, leaves1) = self.full(Phase::Create, Phase::Create);
        let minimal1 = self.minimal(Phase::Create);
        let create = self.name("create");
        let sent: Vec<String> = leaves1.iter().map(|(s, _)| s.label()).collect();
        let mut st = StepB::new(
            create.clone(),
            "POST",
            endpoint.clone(),
            format!(
                "/Schemas declares these attributes of {rt} writable (readWrite, immutable or writeOnly): {}; a POST setting all of them must create the {rt} (RFC 7644 §3.3) and return its id",
                sent.join(", ")
            ),
        );
        st.body = Some(body1.clone());
        st.status = vec![201];
        st.check("$.id".into(), json!({"type": "string"}));
        self.never_checks(&mut st);
        st.capture.push(("id".into(), "$.id".into()));
        if minimal1 != body1 {
            st.fallback = Some(json!({"method": "POST", "path": endpoint, "body": minimal1}));
        }
        for (s, _) in &leaves1 {
            self.cover(s, "create");
        }
        self.add(st);

        let read1 = self.name("read-back-create");
        let mut st = StepB::new(
            read1,
            "GET",
            res.clone(),
            format!(
                "/Schemas declares each attribute of {rt} with its type, mutability and returned: a GET must return what the POST set (returned default or always), leave out what is returned only on request or never (RFC 7643 §2.2, §7), and return every value as its declared type (RFC 7643 §2.3)"
            ),
        );
        st.status = vec![200];
        st.depends_on = vec![create.clone()];
        self.read_back_checks(&mut st, &leaves1, "create read-back");
        for (s, _) in &leaves1 {
            if s.attr().readable()
                && (s.attr().returned == "request" || s.top.returned == "request")
            {
                st.check(s.json_path(true), json!({"unassigned": true}));
                self.cover(s, "returned request: not by default");
            }
        }
        self.never_checks(&mut st);
        for s in self.slots() {
            let a = s.attr();
            if a.returned == "never" || a.mutability == "writeOnly" {
                self.cover(&s, "never returned");
                continue;
            }
            let (path, pred) = if s.sub.is_none() && a.multi {
                (
                    s.json_path(false),
                    json!({"type": "array", "if_present": true}),
                )
            } else {
                (s.json_path(false), values::json_type(a))
            };
            if !st.has(&path) && !st.has(&s.json_path(true)) {
                st.check(path, pred);
            }
            self.cover(&s, "type");
        }
        self.add(st);

        self.returned_checks(&leaves1, &create);
        if self.opts.filter {
            self.filters(&leaves1, &create);
        }
        self.uniqueness(&leaves1, &create);
        self.required();
        self.read_only();

        // ---- PUT, and read it back
        let (body2, leaves2) = self.full(Phase::Put, Phase::Create);
        let put = self.name("put");
        let mut st = StepB::new(
            put.clone(),
            "PUT",
            res.clone(),
            format!(
                "/Schemas declares these attributes of {rt} writable: a PUT replacing the {rt} with new values (immutable ones unchanged) must succeed (RFC 7644 §3.5.1)"
            ),
        );
        st.body = Some(body2);
        st.status = vec![200];
        self.never_checks(&mut st);
        self.add(st);
        let mut st = StepB::new(
            self.name("read-back-put"),
            "GET",
            res.clone(),
            format!(
                "/Schemas declares these attributes of {rt} readWrite: a PUT setting them must keep them, as a GET shows (RFC 7644 §3.5.1)"
            ),
        );
        st.status = vec![200];
        st.depends_on = vec![put];
        self.read_back_checks(&mut st, &leaves2, "put");
        self.add(st);

        self.immutable(&leaves1);
        if self.opts.patch {
            self.patches();
        }
    }

    /// `returned: request` only when asked; `returned: always` even when
    /// not; `returned: never` not even when asked.
    fn returned_checks(&mut self, leaves: &[(Slot<'a>, Value)], create: &str) {
        let res = self.resource_path();
        let on_request: Vec<(Slot<'a>, Value)> = leaves
            .iter()
            .filter(|(s, _)| {
                s.attr().readable()
                    && (s.attr().returned == "request" || s.top.returned == "request")
            })
            .cloned()
            .collect();
        if !on_request.is_empty() {
            let tops: BTreeSet<String> = on_request
                .iter()
                .map(|(s, _)| s.top_slot().attr_path())
                .collect();
            let decls: Vec<String> = on_request.iter().map(|(s, _)| s.decl()).collect();
            let mut st = StepB::new(
                self.name("returned-request-when-asked"),
                "GET",
                res.clone(),
                format!(
                    "/Schemas declares {} returned request: when attributes= names it, it must be returned (RFC 7643 §2.2)",
                    decls.join(", ")
                ),
            );
            st.query = vec![(
                "attributes".into(),
                tops.into_iter().collect::<Vec<_>>().join(","),
            )];
            st.status = vec![200];
            st.depends_on = vec![create.to_string()];
            for (s, v) in &on_request {
                st.check(s.json_path(true), values::read_back(s.attr(), v));
                self.cover(s, "returned request: when asked");
            }
            self.add(st);
        }

        let always: Vec<(Slot<'a>, Value)> = leaves
            .iter()
            .filter(|(s, _)| s.attr().readable() && s.attr().returned == "always")
            .cloned()
            .collect();
        let other = leaves.iter().find(|(s, _)| {
            s.attr().readable() && s.top.returned == "default" && s.attr().returned == "default"
        });
        let decls: Vec<String> = always.iter().map(|(s, _)| s.decl()).collect();
        let said = if decls.is_empty() {
            "RFC 7643 §3.1 makes id returned always".to_string()
        } else {
            format!(
                "/Schemas declares {} returned always (and RFC 7643 §3.1 id)",
                decls.join(", ")
            )
        };
        let mut queries = Vec::new();
        if let Some((o, _)) = other {
            queries.push(("attributes", o.top_slot().attr_path()));
        }
        let mut excluded: BTreeSet<String> = always
            .iter()
            .map(|(s, _)| s.top_slot().attr_path())
            .collect();
        excluded.insert("id".into());
        queries.push((
            "excludedAttributes",
            excluded.into_iter().collect::<Vec<_>>().join(","),
        ));
        for (param, value) in queries {
            let mut st = StepB::new(
                self.name(&format!("returned-always-under-{param}")),
                "GET",
                res.clone(),
                format!("{said}: it must be there even under {param}={value} (RFC 7644 §3.4.2.5)"),
            );
            st.query = vec![(param.into(), value)];
            st.status = vec![200];
            st.depends_on = vec![create.to_string()];
            st.check("$.id".into(), json!({"equals": "{{id}}"}));
            for (s, v) in &always {
                st.check(s.json_path(true), values::read_back(s.attr(), v));
                self.cover(s, &format!("returned always: under {param}="));
            }
            self.add(st);
        }

        let never: Vec<Slot<'a>> = self
            .slots()
            .into_iter()
            .filter(|s| {
                s.sub.is_none() && (s.top.returned == "never" || s.top.mutability == "writeOnly")
            })
            .collect();
        if !never.is_empty() {
            let labels: Vec<String> = never.iter().map(|s| kebab(&s.label())).collect();
            let paths: Vec<String> = never.iter().map(|s| s.attr_path()).collect();
            let decls: Vec<String> = never
                .iter()
                .map(|s| {
                    format!(
                        "{} {}/returned {}",
                        s.decl(),
                        s.top.mutability,
                        s.top.returned
                    )
                })
                .collect();
            let mut st = StepB::new(
                self.name(&format!("never-returned-{}", labels.join("-"))),
                "GET",
                res,
                format!(
                    "/Schemas declares {}: it must never be in a response, not even when attributes= asks for it (RFC 7643 §2.2, §7)",
                    decls.join(", ")
                ),
            );
            st.query = vec![("attributes".into(), paths.join(","))];
            st.status = vec![200];
            st.depends_on = vec![create.to_string()];
            for s in &never {
                st.check(s.json_path(true), json!({"absent": true}));
                self.cover(s, "never returned: even when asked");
            }
            self.add(st);
        }
    }

    /// `caseExact`: a filter with the value in another case finds the
    /// resource when the attribute is not caseExact, and does not when it is.
    fn filters(&mut self, leaves: &[(Slot<'a>, Value)], create: &str) {
        let endpoint = self.rt.endpoint.clone();
        let found = json!([
            {"status": 200, "json": {"$.totalResults": 1, "$.Resources[0].id": "{{id}}"}},
            {"status": 400, "json": {"$.scimType": "invalidFilter"}}
        ]);
        let not_found = json!([
            {"status": 200, "json": {"$.totalResults": 0}},
            {"status": 400, "json": {"$.scimType": "invalidFilter"}}
        ]);
        let refused = "a 400 invalidFilter (the server does not filter on it) is accepted";
        for (s, v) in leaves {
            let a = s.attr();
            if a.ty != "string"
                || !a.readable()
                || a.returned == "request"
                || !a.canonical.is_empty()
                || !values::unique(v)
            {
                continue;
            }
            let Some(text) = v.as_str() else { continue };
            let label = s.label();
            let path = s.attr_path();
            if a.case_exact {
                let mut st = StepB::new(
                    self.name(&format!("filter-{label}")),
                    "GET",
                    endpoint.clone(),
                    format!(
                        "/Schemas declares {} caseExact true: a filter with the exact value finds the resource (RFC 7644 §3.4.2.2; {refused})",
                        s.decl()
                    ),
                );
                st.query = vec![("filter".into(), format!("{path} eq \"{text}\""))];
                st.any_of = found.as_array().cloned().unwrap_or_default();
                st.depends_on = vec![create.to_string()];
                self.add(st);
            }
            let (verdict, any) = if a.case_exact {
                ("must not find it", &not_found)
            } else {
                ("must find it", &found)
            };
            let mut st = StepB::new(
                self.name(&format!("filter-{label}-other-case")),
                "GET",
                endpoint.clone(),
                format!(
                    "/Schemas declares {} caseExact {}: a filter with the value in another case {verdict} (RFC 7643 §2.2, RFC 7644 §3.4.2.2; {refused})",
                    s.decl(),
                    a.case_exact
                ),
            );
            st.query = vec![(
                "filter".into(),
                format!("{path} eq \"{}\"", values::swap_case(text)),
            )];
            st.any_of = any.as_array().cloned().unwrap_or_default();
            st.depends_on = vec![create.to_string()];
            self.add(st);
            self.cover(s, &format!("caseExact {}: filter", a.case_exact));
        }
    }

    /// `uniqueness: server`/`global`: a second resource with the same value
    /// is refused with 409 `uniqueness`.
    fn uniqueness(&mut self, leaves: &[(Slot<'a>, Value)], create: &str) {
        let endpoint = self.rt.endpoint.clone();
        for top in self.tops() {
            if top.top.uniqueness == "none" {
                continue;
            }
            let sent = leaves
                .iter()
                .find(|(s, _)| s.sub.is_none() && s.decl() == top.decl());
            let why_not = match sent {
                _ if top.top.ty == "complex" => Some(
                    "a complex attribute's uniqueness: RFC 7643 §2.2 does not say how its values compare",
                ),
                None => Some("not sent, so no duplicate can be made"),
                Some((_, v)) if !values::unique(v) => Some(
                    "its generated value is not unique to the run, so a duplicate could collide with other data",
                ),
                _ => None,
            };
            if let Some(why) = why_not {
                let d = top.decl();
                if let Some(c) = self.coverage.iter_mut().find(|c| c.declaration == d) {
                    c.checks.push(format!("uniqueness not checked: {why}"));
                }
                continue;
            }
            let Some((_, v)) = sent else { continue };
            let mut body = self.minimal(Phase::Duplicate);
            put_value(&mut body, &top, v.clone());
            let mut st = StepB::new(
                self.name(&format!("duplicate-{}", top.label())),
                "POST",
                endpoint.clone(),
                format!(
                    "/Schemas declares {} uniqueness {}: a second {} with the same value must be refused with 409 uniqueness (RFC 7644 §3.3)",
                    top.decl(),
                    top.top.uniqueness,
                    self.rt.name
                ),
            );
            st.body = Some(body);
            st.status = vec![409];
            st.check("$.scimType".into(), json!("uniqueness"));
            st.depends_on = vec![create.to_string()];
            self.add(st);
            self.cover(&top, &format!("uniqueness {}", top.top.uniqueness));
        }
    }

    /// `required`: a create without it is refused with 400.
    fn required(&mut self) {
        let endpoint = self.rt.endpoint.clone();
        for top in self.tops() {
            if !top.top.required || !top.top.writable() || (top.ext && !self.ext_required(top.urn))
            {
                continue;
            }
            let mut body = self.minimal(Phase::Required);
            if !remove_value(&mut body, &top) {
                continue;
            }
            let mut st = StepB::new(
                self.name(&format!("required-{}", top.label())),
                "POST",
                endpoint.clone(),
                format!(
                    "/Schemas declares {} required: a create without it must be refused with 400 (RFC 7643 §2.2, RFC 7644 §3.3, §3.12 invalidValue)",
                    top.decl()
                ),
            );
            st.body = Some(body);
            st.status = vec![400];
            self.add(st);
            self.cover(&top, "required");
        }
    }

    /// `readOnly`: what a client sends is ignored, not stored.
    fn read_only(&mut self) {
        let mut body = self.minimal(Phase::ReadOnly);
        let mut checks: Vec<(String, Value)> = Vec::new();
        let mut decls = Vec::new();
        let mut covered = Vec::new();
        for top in self.tops() {
            let top_ro = top.top.mutability == "readOnly";
            let has_ro_sub = top.top.subs.iter().any(|s| s.mutability == "readOnly");
            if !top_ro && !has_ro_sub {
                continue;
            }
            if self.unsent(&top).is_some() {
                continue;
            }
            let Some(v) = self.value(top, Phase::ReadOnly, Phase::ReadOnly, true) else {
                continue;
            };
            let mut any = false;
            for (s, leaf) in Self::leaves(top, &v) {
                if s.attr().mutability != "readOnly" && !top_ro {
                    continue;
                }
                if s.attr().ty == "complex" {
                    continue;
                }
                any = true;
                let (path, pred) = match s.sub {
                    Some(sub) if top.top.multi => (
                        format!(
                            "{}[?@{} == '{}']",
                            Slot { sub: None, ..s }.json_path(true),
                            seg(&sub.name),
                            leaf.as_str().unwrap_or_default()
                        ),
                        json!({"absent": true}),
                    ),
                    _ => (s.json_path(true), json!({"not_equals": leaf})),
                };
                if leaf.is_string() || s.sub.is_none() || !top.top.multi {
                    checks.push((path, pred));
                    decls.push(s.decl());
                    covered.push(s);
                }
            }
            if any {
                put_value(&mut body, &top, v);
                if top_ro {
                    covered.push(top);
                }
            }
        }
        if checks.is_empty() {
            return;
        }
        let mut st = StepB::new(
            self.name("read-only-values-ignored"),
            "POST",
            self.rt.endpoint.clone(),
            format!(
                "/Schemas declares {} readOnly: values a client sends in a POST SHALL be ignored, not stored (RFC 7644 §3.3, RFC 7643 §2.2)",
                decls.join(", ")
            ),
        );
        st.body = Some(body);
        st.status = vec![201];
        for (p, v) in checks {
            st.check(p, v);
        }
        self.add(st);
        for s in covered {
            self.cover(&s, "readOnly: ignored");
        }
    }

    /// `immutable`: once set, a different value is refused with 400
    /// `mutability`.
    fn immutable(&mut self, leaves1: &[(Slot<'a>, Value)]) {
        let res = self.resource_path();
        let create = "create".to_string();
        for (s, _) in leaves1 {
            if s.attr().mutability != "immutable" {
                continue;
            }
            if s.sub.is_some() && s.top.multi {
                let d = s.decl();
                if let Some(c) = self.coverage.iter_mut().find(|c| c.declaration == d) {
                    c.checks.push("immutable not changed: each value of a multi-valued attribute is immutable, but values may be added and removed (RFC 7643 §2.2), so there is no one value to change".into());
                }
                continue;
            }
            let (mut body, _) = self.full(Phase::Put, Phase::Create);
            let changed = match s.sub {
                None => self.value(*s, Phase::Patch, Phase::Patch, false),
                Some(sub) => Some(values::scalar(sub, Some(s.top), &s.label(), Phase::Patch)),
            };
            let Some(changed) = changed else { continue };
            match s.sub {
                None => put_value(&mut body, s, changed),
                Some(sub) => {
                    if let Some(obj) =
                        slot_mut(&mut body, &s.top_slot()).and_then(Value::as_object_mut)
                    {
                        obj.insert(sub.name.clone(), changed);
                    }
                }
            }
            let mut st = StepB::new(
                self.name(&format!("immutable-{}", s.label())),
                "PUT",
                res.clone(),
                format!(
                    "/Schemas declares {} immutable: once set, a PUT with a different value must be refused with 400 mutability (RFC 7644 §3.5.1, RFC 7643 §2.2)",
                    s.decl()
                ),
            );
            st.body = Some(body);
            st.status = vec![400];
            st.check("$.scimType".into(), json!("mutability"));
            st.depends_on = vec![create.clone()];
            self.add(st);
            self.cover(s, "immutable: change refused");
        }
    }

    /// Per writable attribute: PATCH replace, read back; PATCH remove (of
    /// each sub-attribute of a single-valued complex, then the whole),
    /// read back unassigned.
    fn patches(&mut self) {
        let res = self.resource_path();
        for top in self.tops() {
            let a = top.top;
            if !a.writable() || a.mutability == "immutable" {
                continue;
            }
            let Some(v3) = self.value(top, Phase::Patch, Phase::Create, false) else {
                continue;
            };
            let label = top.label();
            let replace = self.name(&format!("patch-replace-{label}"));
            let mut st = StepB::new(
                replace.clone(),
                "PATCH",
                res.clone(),
                format!(
                    "/Schemas declares {} {}: a PATCH replace must change it (RFC 7644 §3.5.2.3)",
                    top.decl(),
                    a.mutability
                ),
            );
            st.body = Some(patch(
                json!({"op": "replace", "path": top.attr_path(), "value": v3}),
            ));
            st.status = vec![200, 204];
            st.body_rule = Some("optional");
            self.never_checks(&mut st);
            self.add(st);
            let leaves = Self::leaves(top, &v3);
            for (s, _) in &leaves {
                self.cover(s, "patch replace");
            }
            if a.readable() && a.returned != "request" {
                let mut st = StepB::new(
                    self.name(&format!("read-back-patch-replace-{label}")),
                    "GET",
                    res.clone(),
                    format!(
                        "/Schemas declares {} {}: after a PATCH replace, a GET must return the new value (RFC 7644 §3.5.2.3)",
                        top.decl(),
                        a.mutability
                    ),
                );
                st.status = vec![200];
                st.depends_on = vec![replace.clone()];
                self.read_back_checks(&mut st, &leaves, "patch replace read-back");
                self.add(st);
            }
            if a.mutability == "writeOnly" {
                let d = top.decl();
                if let Some(c) = self.coverage.iter_mut().find(|c| c.declaration == d) {
                    c.checks.push(
                        "remove not checked: writeOnly, so its removal cannot be read back".into(),
                    );
                }
                continue;
            }
            // Sub-attributes of a single-valued complex, one at a time.
            if a.ty == "complex" && !a.multi && leaves.len() > 1 {
                let removable: Vec<usize> = (0..leaves.len())
                    .filter(|i| {
                        let s = leaves[*i].0.attr();
                        !s.required && s.mutability == "readWrite"
                    })
                    .collect();
                for (n, &i) in removable.iter().enumerate() {
                    let s = leaves[i].0;
                    // The last sub-attribute left would take the whole value with it.
                    if n + 1 == removable.len() && removable.len() == leaves.len() {
                        break;
                    }
                    let rm = self.name(&format!("patch-remove-{}", s.label()));
                    let mut st = StepB::new(
                        rm.clone(),
                        "PATCH",
                        res.clone(),
                        format!(
                            "/Schemas declares {} readWrite and not required: a PATCH remove of it must remove it alone (RFC 7644 §3.5.2.2)",
                            s.decl()
                        ),
                    );
                    st.body = Some(patch(json!({"op": "remove", "path": s.attr_path()})));
                    st.status = vec![200, 204];
                    st.body_rule = Some("optional");
                    self.add(st);
                    if s.attr().readable() {
                        let mut st = StepB::new(
                            self.name(&format!("read-back-patch-remove-{}", s.label())),
                            "GET",
                            res.clone(),
                            format!(
                                "/Schemas declares {} readWrite: after a PATCH remove it must read back unassigned, and the other sub-attributes stay (RFC 7644 §3.5.2.2, RFC 7643 §2.5)",
                                s.decl()
                            ),
                        );
                        st.status = vec![200];
                        st.depends_on = vec![rm];
                        st.check(s.json_path(true), json!({"unassigned": true}));
                        if let Some((sib, sv)) = leaves
                            .get(removable.last().copied().unwrap_or(0))
                            .filter(|(x, _)| x.decl() != s.decl())
                        {
                            st.check(sib.json_path(true), values::read_back(sib.attr(), sv));
                        }
                        self.add(st);
                    }
                    self.cover(&s, "patch remove");
                }
            }
            if a.required {
                continue;
            }
            let rm = self.name(&format!("patch-remove-{label}"));
            let mut st = StepB::new(
                rm.clone(),
                "PATCH",
                res.clone(),
                format!(
                    "/Schemas declares {} readWrite and not required: a PATCH remove must remove it (RFC 7644 §3.5.2.2)",
                    top.decl()
                ),
            );
            st.body = Some(patch(json!({"op": "remove", "path": top.attr_path()})));
            st.status = vec![200, 204];
            st.body_rule = Some("optional");
            self.add(st);
            if a.readable() {
                let mut st = StepB::new(
                    self.name(&format!("read-back-patch-remove-{label}")),
                    "GET",
                    res.clone(),
                    format!(
                        "/Schemas declares {} readWrite: after a PATCH remove it must read back unassigned (RFC 7644 §3.5.2.2, RFC 7643 §2.5)",
                        top.decl()
                    ),
                );
                st.status = vec![200];
                st.depends_on = vec![rm];
                st.check(top.json_path(true), json!({"unassigned": true}));
                self.add(st);
            }
            self.cover(&top, "patch remove");
        }
    }

    /// The steps creating the resources values refer to, put first.
    fn referent_steps(&mut self) -> Vec<Node> {
        let mut out = Vec::new();
        for t in self.referents.clone() {
            let Some(rt) = self.rts.iter().find(|r| r.name == t) else {
                continue;
            };
            let body = match Gen::new(rt, self.rts, self.all, self.opts) {
                Ok(mut g) => g.minimal(Phase::Referent),
                Err(_) => continue,
            };
            let mut st = StepB::new(
                self.name(&format!("create-referent-{}", kebab(&t))),
                "POST",
                rt.endpoint.clone(),
                format!(
                    "setup: a {t} for the attributes of {} that refer to one (their `$ref` names {t}) to point at",
                    self.rt.name
                ),
            );
            st.body = Some(body);
            st.status = vec![201];
            st.capture.push((referent_var(&t), "$.id".into()));
            out.push(st.node());
        }
        out
    }

    fn finish(mut self) -> Result<Planned, GenError> {
        let mut steps = self.referent_steps();
        steps.append(&mut self.steps);
        let mut skipped = Vec::new();
        for s in self.slots() {
            if let Some(why) = self.unsent(&s) {
                // A sub-attribute of an attribute that is not sent says so once.
                if s.sub.is_some() && self.unsent(&s.top_slot()).is_some() {
                    self.set_skip(&s.decl(), format!("{} is not sent", s.top.name));
                    continue;
                }
                self.set_skip(&s.decl(), why.clone());
                skipped.push(format!("{}: {why}", s.decl()));
            }
        }
        for c in &self.coverage {
            if let Some(why) = &c.skipped
                && self.rt.extensions.iter().any(|(u, _)| *u == c.declaration)
            {
                skipped.push(format!("{}: {why}", c.declaration));
            }
        }
        let name = format!("schema-{}", kebab(&self.rt.name));
        let exts: Vec<&str> = self.rt.extensions.iter().map(|(u, _)| u.as_str()).collect();
        let mut description = format!(
            "Generated from the server's /Schemas and /ResourceTypes: {} ({}), schema {}{}. Each declared attribute is checked as its declaration says (mutability, returned, required, uniqueness, caseExact, canonicalValues, type).",
            self.rt.name,
            self.rt.endpoint,
            self.rt.schema,
            if exts.is_empty() {
                String::new()
            } else {
                format!(" with {}", exts.join(", "))
            }
        );
        if !skipped.is_empty() {
            description.push_str(&format!(
                " Not sent (still type-checked where returned): {}.",
                skipped.join("; ")
            ));
        }
        let mut header = vec![
            format!(
                "Generated by `scimitar schema-suite` from the server's /Schemas and /ResourceTypes ({}).",
                self.rt.name
            ),
            "Edit freely: it is an ordinary suite (see the README, \"Generated from /Schemas\")."
                .into(),
        ];
        if !skipped.is_empty() {
            header.push("Not sent, with the reason:".into());
            header.extend(skipped.iter().map(|s| format!("  {s}")));
        }
        let root = vec![
            ("name".to_string(), Node::str(name.clone())),
            ("idp".to_string(), Node::str(PROFILE)),
            ("description".to_string(), Node::Text(description)),
            (
                "steps".to_string(),
                Node::Seq(steps.into_iter().map(|n| (Vec::new(), n)).collect()),
            ),
        ];
        Ok(Planned {
            name,
            resource_type: self.rt.name.clone(),
            yaml: yaml::document(&header, &root),
            coverage: self.coverage,
        })
    }

    fn set_skip(&mut self, decl: &str, why: String) {
        if let Some(c) = self.coverage.iter_mut().find(|c| c.declaration == decl) {
            c.skipped = Some(why);
        }
    }
}

fn referent_var(t: &str) -> String {
    format!("referent_{}_id", kebab(t).replace('-', "_"))
}

fn patch(op: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [op]})
}

/// Where a top-level attribute's value sits in a body (under its URN for
/// an extension).
fn slot_mut<'v>(body: &'v mut Value, top: &Slot) -> Option<&'v mut Value> {
    let obj = if top.ext {
        body.get_mut(top.urn)?
    } else {
        body
    };
    obj.get_mut(&top.top.name)
}

fn put_value(body: &mut Value, top: &Slot, v: Value) {
    let Some(root) = body.as_object_mut() else {
        return;
    };
    if top.ext {
        let schemas = root
            .entry("schemas")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(list) = schemas.as_array_mut()
            && !list.iter().any(|s| s == top.urn)
        {
            list.push(Value::String(top.urn.to_string()));
        }
        let ext = root
            .entry(top.urn.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(m) = ext.as_object_mut() {
            m.insert(top.top.name.clone(), v);
        }
    } else {
        root.insert(top.top.name.clone(), v);
    }
}

fn remove_value(body: &mut Value, top: &Slot) -> bool {
    let obj = if top.ext {
        body.get_mut(top.urn).and_then(Value::as_object_mut)
    } else {
        body.as_object_mut()
    };
    obj.is_some_and(|o| o.remove(&top.top.name).is_some())
}
