//! A recording → a suite in the project's format.
//!
//! The problems and the approach are those of `recording.md` §4:
//! - ids the server generated are captured from the response that first
//!   carried them and used as `{{var}}` later (paths, filters, PATCH values,
//!   member lists, `$ref`s), matched as whole tokens so a short id never
//!   rewrites unrelated text;
//! - unique names (userName, emails, externalId, group displayName) become
//!   `{{prefix}}`-based vars, so a replay never collides with what the server
//!   holds or with an earlier replay (and the runner's cleanup recognises
//!   what the replay made);
//! - expectations are what the server answered: the status (a PATCH may
//!   answer 200 or 204, RFC 7644 §3.5.2), the SCIM checks the recorded
//!   response passed, the ids, and a snapshot of each response;
//! - no credential is written (see [`super::secrets`]).

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::yaml::{self, Node};
use super::{Entry, RecordError, Recording, Source};
use crate::suite::CheckKind;

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The suite's name (also its file name and fixture folder).
    pub name: String,
    /// How `body_file` names a fixture of this suite, e.g. `fixtures/NAME`
    /// (see [`super::output::Layout`]).
    pub body_file_prefix: String,
    /// Request bodies longer than this (compact JSON, bytes) go to fixtures.
    pub inline_limit: usize,
}

/// A generated suite, ready to be written.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The suite's name.
    pub name: String,
    /// The suite file's text.
    pub yaml: String,
    /// `(body_file as the suite names it, JSON text)`.
    pub fixtures: Vec<(String, String)>,
    /// How many steps the suite has.
    pub steps: usize,
    /// What the user should review, one line each (also in the YAML).
    pub notes: Vec<String>,
}

/// The var holding a replay's password, when the recording carried one.
const PASSWORD_VAR: &str = "password";

/// Turns a recording into a suite.
pub fn generate(rec: &Recording, opts: &Options) -> Result<Generated, RecordError> {
    let (mut g, entries) = Gen::new(rec, opts);
    g.collect_names(&entries);
    for i in 0..entries.len() {
        g.step(&entries, i);
    }
    if g.steps.is_empty() {
        return Err(RecordError::Empty(if g.notes.is_empty() {
            "no SCIM request was recorded (did the IdP reach the listener?)".into()
        } else {
            g.notes.join("; ")
        }));
    }
    Ok(g.finish())
}

/// One entry, parsed once.
struct Parsed<'a> {
    e: &'a Entry,
    /// Path segments, percent-decoded.
    segments: Vec<String>,
    /// The first segment, spelled as RFC 7644 spells the endpoint when it is
    /// one in any case (`users` → `Users`): for naming, never for sending.
    endpoint: String,
    /// Query pairs, decoded; `None` when a name repeats (kept raw then).
    query: Option<Vec<(String, String)>>,
    req_json: Option<Value>,
    resp_json: Option<Value>,
    /// Request text searched to decide whether a later step uses an id.
    haystack: String,
}

struct Gen<'a> {
    rec: &'a Recording,
    opts: &'a Options,
    /// Unique-name originals → var, in the order first sent.
    names: Vec<(String, String)>,
    /// Server-generated ids → var, registered when first seen.
    ids: Vec<(String, String)>,
    etags: Vec<(String, String)>,
    used_vars: BTreeSet<String>,
    used_steps: BTreeSet<String>,
    steps: Vec<(Vec<String>, Node)>,
    fixtures: Vec<(String, String)>,
    notes: Vec<String>,
    needs_password: bool,
    requires: BTreeSet<&'static str>,
    client: Client,
    /// Templated path → the writes to it since it was last read: the next
    /// read of that path depends on them (skipped, not failed, when a write
    /// was refused on replay).
    writes: std::collections::HashMap<String, Vec<String>>,
}

impl<'a> Gen<'a> {
    fn new(rec: &'a Recording, opts: &'a Options) -> (Gen<'a>, Vec<Parsed<'a>>) {
        let mut notes = rec.notes.clone();
        let entries: Vec<Parsed> = rec
            .entries
            .iter()
            .filter_map(|e| {
                let req_json = match &e.request_body {
                    Some(b) if !b.is_empty() => match b.json() {
                        Some(v) => Some(v),
                        None => {
                            notes.push(format!(
                                "{} {} was left out: its body is not JSON{}",
                                e.method,
                                e.path,
                                if b.truncated {
                                    " (or was cut at the recording cap)"
                                } else {
                                    ""
                                }
                            ));
                            return None;
                        }
                    },
                    _ => None,
                };
                let segments: Vec<String> = e
                    .path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(percent_decode)
                    .collect();
                let query = parse_query(&e.query);
                let first = segments.first().map(String::as_str).unwrap_or("");
                let endpoint = super::SCIM_ENDPOINTS
                    .iter()
                    .find(|c| c.eq_ignore_ascii_case(first))
                    .map_or(first, |c| *c)
                    .to_string();
                let mut haystack = segments.join("/");
                for (k, v) in query.iter().flatten() {
                    haystack.push_str(&format!(" {k}={v}"));
                }
                if let Some(b) = &req_json {
                    haystack.push(' ');
                    haystack.push_str(&b.to_string());
                }
                Some(Parsed {
                    e,
                    segments,
                    endpoint,
                    query,
                    req_json,
                    resp_json: e.response_body.as_ref().and_then(|b| b.json()),
                    haystack,
                })
            })
            .collect();
        let client = Client::detect(&rec.entries);
        let mut used_vars: BTreeSet<String> = crate::suite::template::BUILTINS
            .iter()
            .map(|s| s.to_string())
            .collect();
        used_vars.insert(PASSWORD_VAR.into());
        let g = Gen {
            rec,
            opts,
            names: Vec::new(),
            ids: Vec::new(),
            etags: Vec::new(),
            used_vars,
            used_steps: BTreeSet::new(),
            steps: Vec::new(),
            fixtures: Vec::new(),
            notes,
            needs_password: false,
            requires: BTreeSet::new(),
            client,
            writes: std::collections::HashMap::new(),
        };
        (g, entries)
    }

    fn fresh_var(&mut self, base: &str) -> String {
        fresh(&mut self.used_vars, base, "")
    }

    fn fresh_step(&mut self, base: &str) -> String {
        fresh(&mut self.used_steps, base, "-")
    }

    // ------------------------------------------------------------ unique names

    /// Finds every unique name the client sent (creates, replaces, PATCH).
    fn collect_names(&mut self, entries: &[Parsed]) {
        let mut found: Vec<(String, &'static str)> = Vec::new();
        for p in entries {
            let (Some(body), endpoint) = (&p.req_json, p.endpoint.as_str()) else {
                continue;
            };
            let method = p.e.method.to_ascii_uppercase();
            match method.as_str() {
                "POST" if p.segments.len() == 1 => names_in_resource(endpoint, body, &mut found),
                "PUT" if p.segments.len() == 2 => names_in_resource(endpoint, body, &mut found),
                "PATCH" if p.segments.len() == 2 => {
                    for op in body
                        .get("Operations")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let Some(value) = op.get("value") else {
                            continue;
                        };
                        match op.get("path").and_then(Value::as_str) {
                            None => names_in_resource(endpoint, value, &mut found),
                            Some(path) => {
                                if let Some(kind) = name_kind(endpoint, path) {
                                    names_in_value(kind, value, &mut found);
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        for (original, kind) in found {
            if original.is_empty()
                || original.contains("{{")
                || self.names.iter().any(|(o, _)| *o == original)
            {
                continue;
            }
            let var = self.fresh_var(kind);
            self.names.push((original, var));
        }
    }

    // ------------------------------------------------------------ one step

    fn step(&mut self, entries: &[Parsed], i: usize) {
        let p = &entries[i];
        let e = p.e;
        let method = e.method.to_ascii_uppercase();
        let endpoint = p.endpoint.clone();
        let kind = resource_kind(&endpoint);
        let mut comments = vec![format!(
            "recorded {}, answered {}",
            e.started.as_deref().unwrap_or("(time not recorded)"),
            e.status
        )];

        match endpoint.as_str() {
            "Groups" => {
                self.requires.insert("groups");
            }
            "Bulk" => {
                self.requires.insert("bulk");
            }
            _ => {}
        }
        if method == "PATCH" {
            self.requires.insert("patch");
        }

        // ---- request
        let mut path = String::new();
        let mut unknown_ids = Vec::new();
        for (n, seg) in p.segments.iter().enumerate() {
            path.push('/');
            match lookup(&self.ids, seg) {
                Some(var) => path.push_str(&format!("{{{{{var}}}}}")),
                None => {
                    // An item path below a resource endpoint names an id the
                    // server generated before the recording started.
                    if n == 1 && kind.is_some() && !seg.starts_with('.') {
                        unknown_ids.push(seg.clone());
                    }
                    path.push_str(&encode_segment(seg));
                }
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        for id in &unknown_ids {
            let note = format!(
                "{method} {}: the id {id:?} was not in any recorded response (created before the recording started?); the replay sends it as recorded",
                display_path(&p.segments)
            );
            comments.push(format!("note: {note}"));
            self.notes.push(note);
        }
        let mut request: Vec<(String, Node)> = vec![
            ("method".into(), Node::str(method.clone())),
            ("path".into(), Node::str(path.clone())),
        ];
        let mut filter_templated = true;
        let mut has_filter = false;
        match &p.query {
            Some(pairs) if !pairs.is_empty() => {
                let mut q = Vec::new();
                for (k, v) in pairs {
                    let rendered = self.template_text(v);
                    if k.eq_ignore_ascii_case("filter") {
                        has_filter = true;
                        self.requires.insert("filter");
                        filter_templated &= quoted_values(v).iter().all(|qv| {
                            lookup(&self.names, qv).is_some() || lookup(&self.ids, qv).is_some()
                        });
                    }
                    q.push((k.clone(), Node::str(rendered)));
                }
                request.push(("query".into(), Node::Map(q)));
            }
            Some(_) => {}
            None => {
                // A repeated parameter: keep the query as sent, in the path.
                let raw = self.template_text(&e.query);
                if let Some((_, Node::Scalar(Value::String(s)))) =
                    request.iter_mut().find(|(k, _)| k == "path")
                {
                    s.push('?');
                    s.push_str(&raw);
                }
                has_filter = e.query.contains("filter=");
                filter_templated = false;
            }
        }
        let mut headers = Vec::new();
        // The runner sends `application/scim+json` for both; a client that
        // sent something else (Okta adds `; charset=utf-8`) is replayed as it was.
        if let Some(v) = e.request_header("Content-Type")
            && p.req_json.is_some()
            && !v.trim().eq_ignore_ascii_case(crate::scim::urn::MEDIA_TYPE)
        {
            headers.push(("Content-Type".to_string(), Node::str(v)));
        }
        if let Some(v) = e.request_header("Accept")
            && v.trim() != "*/*"
            && !v
                .to_ascii_lowercase()
                .contains(crate::scim::urn::MEDIA_TYPE)
        {
            headers.push(("Accept".to_string(), Node::str(v)));
        }
        for h in ["If-Match", "If-None-Match"] {
            if let Some(v) = e.request_header(h) {
                self.requires.insert("etag");
                let rendered = match lookup(&self.etags, v) {
                    Some(var) => format!("{{{{{var}}}}}"),
                    None => v.to_string(),
                };
                headers.push((h.to_string(), Node::str(rendered)));
            }
        }
        if !headers.is_empty() {
            request.push(("headers".into(), Node::Map(headers)));
        }
        let mut naming = p.segments.clone();
        if let Some(first) = naming.first_mut() {
            first.clone_from(&endpoint);
        }
        let step_base = step_name(&method, &naming, has_filter, p.req_json.as_ref());
        let name = self.fresh_step(&step_base);
        if let Some(body) = p.req_json.clone() {
            let mut body = body;
            let mut scratch = super::Secrets::default();
            if super::secrets::scrub_body(
                &mut body,
                &format!("{{{{{PASSWORD_VAR}}}}}"),
                &mut scratch,
            ) {
                self.needs_password = true;
            }
            let body = self.template_body(&body, false);
            let compact = body.to_string();
            if compact.len() > self.opts.inline_limit {
                let file = format!("{}/{}.json", self.opts.body_file_prefix, name);
                let text = serde_json::to_string_pretty(&body).unwrap_or(compact) + "\n";
                self.fixtures.push((file.clone(), text));
                request.push(("body_file".into(), Node::str(file)));
            } else {
                request.push(("body".into(), Node::json(&body)));
            }
        }

        // ---- response: what it produced
        let mut captures: Vec<(String, Node)> = Vec::new();
        let mut json_expect: Vec<(String, Node)> = Vec::new();
        let ok = (200..300).contains(&e.status);
        let discovery = matches!(
            endpoint.as_str(),
            "Schemas" | "ResourceTypes" | "ServiceProviderConfig"
        );
        let mut produced: Vec<(String, String, String)> = Vec::new(); // (id, JSONPath, kind)
        if let (true, false, Some(body)) = (ok, discovery, &p.resp_json) {
            if let Some(id) = body.get("id").and_then(Value::as_str) {
                produced.push((
                    id.to_string(),
                    "$.id".into(),
                    kind.clone().unwrap_or_else(|| "resource".into()),
                ));
            }
            if let Some(items) = body.get("Resources").and_then(Value::as_array) {
                for (k, item) in items.iter().enumerate() {
                    if let Some(id) = item.get("id").and_then(Value::as_str) {
                        let item_kind = item
                            .pointer("/meta/resourceType")
                            .and_then(Value::as_str)
                            .map(|t| t.to_ascii_lowercase())
                            .or_else(|| kind.clone())
                            .unwrap_or_else(|| "resource".into());
                        produced.push((id.to_string(), format!("$.Resources[{k}].id"), item_kind));
                    }
                }
            }
        }
        let is_create = method == "POST" && e.status == 201 && p.segments.len() == 1;
        for (id, jpath, kind) in produced {
            if lookup(&self.ids, &id).is_some() {
                continue;
            }
            let create_id = is_create && jpath == "$.id";
            if !create_id && !used_later(entries, i, &id) {
                continue;
            }
            let var = self.fresh_var(&format!("{}Id", camel(&kind)));
            captures.push((var.clone(), Node::str(jpath.clone())));
            if create_id {
                json_expect.push(("$.id".into(), Node::json(&json!({ "type": "string" }))));
            }
            self.ids.push((id, var));
        }
        // The version a later conditional request names.
        let etag = e
            .response_header("ETag")
            .map(|v| (v.to_string(), Node::json(&json!({ "header": "ETag" }))))
            .or_else(|| {
                p.resp_json
                    .as_ref()
                    .and_then(|b| b.pointer("/meta/version"))
                    .and_then(Value::as_str)
                    .map(|v| (v.to_string(), Node::str("$.meta.version")))
            });
        if let Some((tag, source)) = etag
            && ok
            && lookup(&self.etags, &tag).is_none()
            && entries[i + 1..].iter().any(|p| {
                ["If-Match", "If-None-Match"].iter().any(|h| {
                    p.e.request_header(h)
                        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
                })
            })
        {
            let var = self.fresh_var("etag");
            captures.push((var.clone(), source));
            self.etags.push((tag, var));
        }

        // ---- expectations
        let mut expect: Vec<(String, Node)> = Vec::new();
        let patch_ok = method == "PATCH" && matches!(e.status, 200 | 204);
        if patch_ok {
            expect.push(("status".into(), Node::json(&json!([200, 204]))));
        } else {
            expect.push(("status".into(), Node::json(&json!(e.status))));
        }
        if !patch_ok {
            let checks = passed_checks(p);
            if !checks.is_empty() {
                expect.push((
                    "check".into(),
                    Node::Seq(
                        checks
                            .iter()
                            .map(|c| (Vec::new(), Node::str(c.name())))
                            .collect(),
                    ),
                ));
            }
        }
        // A read by id answers that id.
        if ok
            && method == "GET"
            && p.segments.len() == 2
            && let Some(var) = lookup(&self.ids, &p.segments[1])
            && p.resp_json
                .as_ref()
                .and_then(|b| b.get("id"))
                .and_then(Value::as_str)
                == Some(p.segments[1].as_str())
        {
            json_expect.push(("$.id".into(), Node::str(format!("{{{{{var}}}}}"))));
        }
        // A filter on values the replay makes unique finds what it found then.
        if ok
            && has_filter
            && let Some(total) = p
                .resp_json
                .as_ref()
                .and_then(|b| b.get("totalResults"))
                .and_then(Value::as_u64)
            && (filter_templated || total == 0)
        {
            json_expect.push(("$.totalResults".into(), Node::json(&json!(total))));
            if let Some(first) = p
                .resp_json
                .as_ref()
                .and_then(|b| b.pointer("/Resources/0/id"))
                .and_then(Value::as_str)
                && let Some(var) = lookup(&self.ids, first)
                && !captures.iter().any(|(v, _)| v == var)
            {
                json_expect.push((
                    "$.Resources[0].id".into(),
                    Node::str(format!("{{{{{var}}}}}")),
                ));
            }
        }
        if !json_expect.is_empty() {
            expect.push(("json".into(), Node::Map(json_expect)));
        }
        let empty_response = e.response_body.as_ref().is_none_or(|b| b.is_empty());
        if e.status == 204 && !patch_ok && empty_response {
            expect.push(("body".into(), Node::str("empty")));
        }
        if e.status >= 400 {
            comments.push(format!(
                "the server answered {} then; the replay expects it again: edit the expectation if it should have succeeded",
                e.status
            ));
        }

        // ---- the step
        let why = self.why(&step_base, &method, kind.as_deref(), p, captures.is_empty());
        let mut step = vec![
            ("name".to_string(), Node::str(name.clone())),
            ("why".to_string(), Node::Text(why)),
            ("request".to_string(), Node::Map(request)),
            ("expect".to_string(), Node::Map(expect)),
        ];
        if !captures.is_empty() {
            step.push(("capture".into(), Node::Map(captures)));
        }
        match method.as_str() {
            "PATCH" | "PUT" | "DELETE" => self
                .writes
                .entry(path.clone())
                .or_default()
                .push(name.clone()),
            "GET" => {
                if let Some(w) = self.writes.remove(&path).filter(|w| !w.is_empty()) {
                    let list = w.into_iter().map(|n| (Vec::new(), Node::str(n))).collect();
                    step.push(("depends_on".into(), Node::Seq(list)));
                }
            }
            _ => {}
        }
        let unfiltered_list = method == "GET" && p.segments.len() == 1 && !has_filter && !discovery;
        let snapshot = if unfiltered_list {
            // The whole collection changes with everything else the server
            // holds; keep the list's shape, not its members.
            Node::json(&json!({ "redact": ["$.totalResults", "$.itemsPerPage", "$.Resources"] }))
        } else {
            Node::Scalar(Value::Bool(true))
        };
        step.push(("snapshot".into(), snapshot));
        self.steps.push((comments, Node::Map(step)));
    }

    fn why(
        &self,
        step_base: &str,
        method: &str,
        kind: Option<&str>,
        p: &Parsed,
        no_capture: bool,
    ) -> String {
        let c = self.client.label();
        let t = kind.unwrap_or("resource");
        let s = p.e.status;
        let verb = step_base.split('-').next().unwrap_or("");
        let mut why = match verb {
            "create" if !no_capture => format!(
                "{c} created a {t} here and the server answered {s} with its id; later steps use that id"
            ),
            "create" => format!("{c} created a {t} here and the server answered {s}"),
            "find" => {
                let n = p
                    .resp_json
                    .as_ref()
                    .and_then(|b| b.get("totalResults"))
                    .map(Value::to_string)
                    .unwrap_or_else(|| "no list".into());
                format!(
                    "{c} looked the {t} up with a filter and the server answered {s} ({n} found); a different answer makes an IdP create a duplicate or miss the {t}"
                )
            }
            "list" => {
                format!("{c} listed {t}s (an import or one page of it) and the server answered {s}")
            }
            "search" => format!("{c} searched {t}s with POST .search and the server answered {s}"),
            "read" => format!("{c} read the {t} back and the server answered {s}"),
            "replace" => format!("{c} replaced the {t} with PUT and the server answered {s}"),
            "disable" => format!(
                "{c} deactivated the {t} and the server answered {s}; if this fails, a deprovisioned user keeps access"
            ),
            "enable" => format!("{c} reactivated the {t} and the server answered {s}"),
            "add" | "remove" | "update" if step_base.ends_with("members") => format!(
                "{c} changed the group's members and the server answered {s}; if this fails, the access the group grants goes wrong"
            ),
            "update" => format!(
                "{c} updated the {t} with PATCH and the server answered {s}; 200 with the resource and 204 are both RFC 7644 §3.5.2 answers"
            ),
            "delete" => format!(
                "{c} deleted the {t} and the server answered {s}; if this fails, the {t} is left behind"
            ),
            _ => format!(
                "{c} sent {method} {} and the server answered {s}",
                display_path(&p.segments)
            ),
        };
        if s >= 400 {
            why.push_str("; the replay expects the same error");
        }
        why
    }

    // ------------------------------------------------------------ templating

    /// Replaces names, ids and base URLs in free text (filters, PATCH paths).
    fn template_text(&self, s: &str) -> String {
        let mut out = s.to_string();
        for base in &self.rec.base_urls {
            if !base.is_empty() {
                out = out.replace(base.trim_end_matches('/'), "{{base_url}}");
            }
        }
        // Longest first, so a name inside a longer one is not split.
        let mut subs: Vec<(&String, &String, bool)> = self
            .names
            .iter()
            .map(|(o, v)| (o, v, true))
            .chain(self.ids.iter().map(|(o, v)| (o, v, false)))
            .collect();
        subs.sort_by_key(|(o, _, _)| std::cmp::Reverse(o.len()));
        for (original, var, is_name) in subs {
            if !out.contains(original.as_str()) {
                continue;
            }
            // Names with spaces are only matched in quotes (`eq "Sales EMEA"`).
            let strict = original.len() < 6 || (is_name && original.contains(' '));
            out = replace_bounded(&out, original, &format!("{{{{{var}}}}}"), strict).0;
        }
        out
    }

    /// Replaces names and ids in a JSON body: whole string leaves, and
    /// tokens inside PATCH paths and URLs.
    fn template_body(&self, v: &Value, in_path: bool) -> Value {
        match v {
            Value::String(s) => {
                if s.starts_with("{{") && s.ends_with("}}") {
                    return v.clone();
                }
                if let Some(var) = lookup(&self.names, s).or_else(|| lookup(&self.ids, s)) {
                    return Value::String(format!("{{{{{var}}}}}"));
                }
                let looks_like_url = s.contains("://");
                if in_path || looks_like_url {
                    return Value::String(self.template_text(s));
                }
                v.clone()
            }
            Value::Array(items) => {
                Value::Array(items.iter().map(|i| self.template_body(i, false)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.template_body(v, k == "path")))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    // ------------------------------------------------------------ the document

    fn finish(self) -> Generated {
        let mut header = Vec::new();
        let version = env!("CARGO_PKG_VERSION");
        match &self.rec.source {
            Source::Proxy { upstream } => header.push(format!(
                "Recorded with `scimitar record` {version} in front of {upstream}, started {}.",
                self.rec.started
            )),
            Source::Har { file, creator } => header.push(format!(
                "Recorded with `scimitar record` {version} from the HAR file {}{}, converted {}.",
                file.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                creator
                    .as_ref()
                    .map(|c| format!(" (written by {c})"))
                    .unwrap_or_default(),
                self.rec.started
            )),
        }
        header.push(match &self.client.user_agent {
            Some(ua) => format!("Client: {} (User-Agent {ua:?}).", self.client.label()),
            None => "Client: not named (no User-Agent was recorded).".into(),
        });
        header.extend(
            [
                "",
                "What the recorder changed (review it before you commit the suite):",
                "- no Authorization, cookie or API-key header was kept: a replay sends the run's own",
                "  credentials (--token-env, --basic, -H); passwords in bodies became {{password}};",
                "- ids the server generated are captured from the response that first carried them",
                "  and used as {{var}} later (paths, filters, PATCH values, member lists);",
                "- userName, emails, externalId and group displayName values are {{prefix}}-based vars,",
                "  so a replay never collides with what the server holds or with an earlier replay;",
                "- each step expects what the server answered then (a PATCH may answer 200 or 204),",
                "  the SCIM checks that answer passed, and a snapshot of the response;",
                "- everything a replay creates is deleted at the end of the run.",
            ]
            .map(String::from),
        );
        if !self.notes.is_empty() {
            header.push(String::new());
            header.push("Notes:".into());
            header.extend(self.notes.iter().map(|n| format!("- {n}")));
        }

        let mut root: Vec<(String, Node)> = vec![
            ("name".into(), Node::str(self.opts.name.clone())),
            ("idp".into(), Node::str(self.client.profile())),
            (
                "description".into(),
                Node::Text(format!(
                    "{} traffic recorded by scimitar record: {} request{}, replayed in order",
                    self.client.label(),
                    self.steps.len(),
                    if self.steps.len() == 1 { "" } else { "s" }
                )),
            ),
        ];
        if !self.requires.is_empty() {
            root.push((
                "requires".into(),
                Node::Seq(
                    self.requires
                        .iter()
                        .map(|r| (Vec::new(), Node::str(*r)))
                        .collect(),
                ),
            ));
        }
        let mut vars: Vec<(String, Node)> = self
            .names
            .iter()
            .map(|(original, var)| (var.clone(), Node::str(format!("{{{{prefix}}}}-{original}"))))
            .collect();
        if self.needs_password {
            // Fresh per run, with every character class password rules ask for.
            vars.push((PASSWORD_VAR.into(), Node::str("Scimitar-{{uuid}}-Aa1!")));
        }
        if !vars.is_empty() {
            root.push(("vars".into(), Node::Map(vars)));
        }
        let steps = self.steps.len();
        root.push(("steps".into(), Node::Seq(self.steps)));
        Generated {
            name: self.opts.name.clone(),
            yaml: yaml::document(&header, &root),
            fixtures: self.fixtures,
            steps,
            notes: self.notes,
        }
    }
}

// ---------------------------------------------------------------- the client

/// The IdP, named from its User-Agent (and its PATCH dialect).
struct Client {
    user_agent: Option<String>,
    idp: Option<&'static str>,
}

impl Client {
    fn detect(entries: &[Entry]) -> Client {
        let user_agent = entries
            .iter()
            .find_map(|e| e.request_header("User-Agent"))
            .map(str::to_string);
        let ua = user_agent.as_deref().unwrap_or("").to_ascii_lowercase();
        // Entra without aadOptscim062020 capitalises ops (idp-traffic.md §1).
        let capitalised_ops = entries.iter().any(|e| {
            e.method.eq_ignore_ascii_case("PATCH")
                && e.request_body
                    .as_ref()
                    .and_then(|b| b.json())
                    .is_some_and(|b| {
                        b.get("Operations")
                            .and_then(Value::as_array)
                            .is_some_and(|ops| {
                                ops.iter().any(|o| {
                                    o.get("op").and_then(Value::as_str).is_some_and(|op| {
                                        op.chars().next().is_some_and(char::is_uppercase)
                                    })
                                })
                            })
                    })
        });
        let idp = if ua.contains("okta") {
            Some("okta")
        } else if ua.contains("google") {
            Some("google")
        } else if ua.contains("onelogin") {
            Some("onelogin")
        } else if ["microsoft", "azure", "aad", "entra"]
            .iter()
            .any(|w| ua.contains(w))
        {
            Some(if capitalised_ops {
                "entra-legacy"
            } else {
                "entra"
            })
        } else {
            None
        };
        Client { user_agent, idp }
    }

    fn label(&self) -> &'static str {
        match self.idp {
            Some("okta") => "Okta",
            Some("google") => "Google",
            Some("onelogin") => "OneLogin",
            Some("entra") | Some("entra-legacy") => "Entra ID",
            _ => "The client",
        }
    }

    /// The suite's profile: a recording is not the IdP's own suite, so it
    /// never counts toward that IdP's verdict, but it stays selectable.
    fn profile(&self) -> String {
        match self.idp {
            Some(idp) => format!("recorded-{idp}"),
            None => "recorded".into(),
        }
    }
}

// ---------------------------------------------------------------- helpers

/// `base`, else `base{sep}2`, `base{sep}3`, … whichever is not taken yet.
fn fresh(used: &mut BTreeSet<String>, base: &str, sep: &str) -> String {
    (1..)
        .map(|n| match n {
            1 => base.to_string(),
            n => format!("{base}{sep}{n}"),
        })
        .find(|name| used.insert(name.clone()))
        .unwrap_or_default()
}

/// Whether a request after entry `i` carries `value` as a whole token.
fn used_later(entries: &[Parsed], i: usize, value: &str) -> bool {
    entries[i + 1..].iter().any(|p| {
        p.haystack.contains(value)
            && !replace_bounded(&p.haystack, value, "", value.len() < 6)
                .1
                .is_empty()
    })
}

/// The SCIM checks the recorded response passed (and that apply to it).
fn passed_checks(p: &Parsed) -> Vec<CheckKind> {
    let e = p.e;
    let Some(body) = &p.resp_json else {
        return Vec::new();
    };
    let candidates: Vec<CheckKind> = if (200..300).contains(&e.status) {
        let schemas = body
            .get("schemas")
            .map(Value::to_string)
            .unwrap_or_default();
        if schemas.contains(crate::scim::urn::LIST_RESPONSE) {
            vec![CheckKind::ListResponse]
        } else if body.get("id").is_some() && !e.method.eq_ignore_ascii_case("DELETE") {
            vec![CheckKind::ScimResource]
        } else {
            Vec::new()
        }
    } else if e.status >= 400 {
        vec![CheckKind::ScimError]
    } else {
        Vec::new()
    };
    let ex = exchange_of(e, body);
    candidates
        .into_iter()
        .filter(|c| crate::check::run(*c, &ex).is_empty())
        .collect()
}

fn lookup<'m>(map: &'m [(String, String)], value: &str) -> Option<&'m String> {
    map.iter().find(|(o, _)| o == value).map(|(_, v)| v)
}

/// `Users` → `user`, `Groups` → `group`; discovery endpoints have no kind.
fn resource_kind(endpoint: &str) -> Option<String> {
    if endpoint.is_empty()
        || matches!(
            endpoint,
            "Schemas" | "ResourceTypes" | "ServiceProviderConfig" | "Bulk"
        )
    {
        return None;
    }
    let lower = endpoint.to_ascii_lowercase();
    Some(lower.strip_suffix('s').unwrap_or(&lower).to_string())
}

/// `user` → `user`, `service-provider` → `serviceProvider`.
fn camel(kind: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in kind.chars() {
        if c.is_ascii_alphanumeric() {
            if upper {
                out.push(c.to_ascii_uppercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = !out.is_empty();
        }
    }
    if out.is_empty() {
        "resource".into()
    } else {
        out
    }
}

fn kebab(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A step name that says what the client did.
fn step_name(method: &str, segments: &[String], filtered: bool, body: Option<&Value>) -> String {
    let endpoint = segments.first().map(String::as_str).unwrap_or("");
    let Some(kind) = resource_kind(endpoint) else {
        return match (method, segments.len()) {
            (_, 0) => format!("{}-base", method.to_ascii_lowercase()),
            ("GET", _) => format!("read-{}", kebab(&segments.join("-"))),
            _ => format!(
                "{}-{}",
                method.to_ascii_lowercase(),
                kebab(&segments.join("-"))
            ),
        };
    };
    let kind = kebab(&kind);
    match (method, segments.len()) {
        ("GET", 1) if filtered => format!("find-{kind}"),
        ("GET", 1) => format!("list-{kind}s"),
        ("POST", 1) => format!("create-{kind}"),
        ("POST", 2) if segments[1] == ".search" => format!("search-{kind}s"),
        ("GET", 2) => format!("read-{kind}"),
        ("PUT", 2) => format!("replace-{kind}"),
        ("DELETE", 2) => format!("delete-{kind}"),
        ("PATCH", 2) => patch_name(&kind, body),
        _ => format!(
            "{}-{}",
            method.to_ascii_lowercase(),
            kebab(&segments.join("-"))
        ),
    }
}

fn patch_name(kind: &str, body: Option<&Value>) -> String {
    let ops: Vec<&Value> = body
        .and_then(|b| b.get("Operations"))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let path_of = |o: &Value| {
        o.get("path")
            .and_then(Value::as_str)
            .map(str::to_ascii_lowercase)
    };
    // `active` set alone, by path or in a pathless value object.
    let active: Vec<Option<bool>> = ops
        .iter()
        .map(|o| {
            let v = match path_of(o).as_deref() {
                Some("active") => o.get("value"),
                None => o
                    .get("value")
                    .and_then(Value::as_object)
                    .filter(|m| m.len() == 1)
                    .and_then(|m| m.get("active")),
                _ => None,
            }?;
            match v {
                Value::Bool(b) => Some(*b),
                Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
                Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            }
        })
        .collect();
    if !ops.is_empty() && active.iter().all(|a| *a == Some(false)) {
        return format!("disable-{kind}");
    }
    if !ops.is_empty() && active.iter().all(|a| *a == Some(true)) {
        return format!("enable-{kind}");
    }
    let members = !ops.is_empty()
        && ops
            .iter()
            .all(|o| path_of(o).is_some_and(|p| p.starts_with("members")));
    if members {
        let op_names: BTreeSet<String> = ops
            .iter()
            .filter_map(|o| o.get("op").and_then(Value::as_str))
            .map(str::to_ascii_lowercase)
            .collect();
        return match op_names
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["add"] => "add-members".into(),
            ["remove"] => "remove-members".into(),
            _ => "update-members".into(),
        };
    }
    format!("update-{kind}")
}

/// Which unique-name kind a PATCH path sets on an endpoint.
fn name_kind(endpoint: &str, path: &str) -> Option<&'static str> {
    let p = path.to_ascii_lowercase();
    match (endpoint, p.as_str()) {
        ("Groups", "externalid") => Some("groupExternalId"),
        (_, "externalid") => Some("externalId"),
        ("Users", "username") => Some("userName"),
        ("Users", p) if p == "emails" || p.starts_with("emails[") || p.starts_with("emails.") => {
            Some("email")
        }
        ("Groups", "displayname") => Some("groupName"),
        _ => None,
    }
}

/// Unique names in a resource body (create, replace, pathless PATCH value).
fn names_in_resource(endpoint: &str, body: &Value, out: &mut Vec<(String, &'static str)>) {
    let Some(map) = body.as_object() else {
        return;
    };
    // The identifying name first: an email equal to the userName is named
    // after the userName.
    for wanted in [
        "userName",
        "groupName",
        "externalId",
        "groupExternalId",
        "email",
    ] {
        for (k, v) in map {
            // Entra's pathless replace uses keys like `emails[type eq "work"].value`.
            if name_kind(endpoint, k) == Some(wanted) {
                names_in_value(wanted, v, out);
            }
        }
    }
}

fn names_in_value(kind: &'static str, v: &Value, out: &mut Vec<(String, &'static str)>) {
    match v {
        Value::String(s) => out.push((s.clone(), kind)),
        Value::Array(items) => {
            for i in items {
                names_in_value(kind, i, out);
            }
        }
        Value::Object(m) => {
            if let Some(Value::String(s)) = m.get("value") {
                out.push((s.clone(), kind));
            }
        }
        _ => {}
    }
}

/// The quoted values of a filter (`userName eq "x"` → `x`), and unquoted
/// comparison values too (Entra's documented `externalId eq value`).
fn quoted_values(filter: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = filter;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        out.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    if out.is_empty() {
        let words: Vec<&str> = filter.split_whitespace().collect();
        for w in words.windows(3) {
            if ["eq", "ne", "co", "sw", "ew"].contains(&w[1].to_ascii_lowercase().as_str()) {
                out.push(w[2].trim_end_matches(')').to_string());
            }
        }
    }
    out
}

/// Replaces `needle` where it stands as a whole token (between quotes,
/// spaces, brackets, `/`, or the ends). `strict` accepts only quotes and
/// path separators around it (for short or spaced values). Returns the new
/// text and the positions replaced.
fn replace_bounded(hay: &str, needle: &str, with: &str, strict: bool) -> (String, Vec<usize>) {
    let before_ok = |c: Option<char>| match c {
        None => true,
        Some(c) if strict => matches!(c, '"' | '\'' | '/'),
        Some(c) => c.is_whitespace() || matches!(c, '"' | '\'' | '/' | '(' | '[' | '=' | ','),
    };
    let after_ok = |c: Option<char>| match c {
        None => true,
        Some(c) if strict => matches!(c, '"' | '\'' | '/' | '?'),
        Some(c) => {
            c.is_whitespace() || matches!(c, '"' | '\'' | '/' | ')' | ']' | '?' | '&' | ',' | '#')
        }
    };
    let mut out = String::with_capacity(hay.len());
    let mut hits = Vec::new();
    let mut i = 0;
    while let Some(pos) = hay[i..].find(needle) {
        let at = i + pos;
        let end = at + needle.len();
        out.push_str(&hay[i..at]);
        if before_ok(hay[..at].chars().next_back()) && after_ok(hay[end..].chars().next()) {
            out.push_str(with);
            hits.push(at);
        } else {
            out.push_str(needle);
        }
        i = end;
    }
    out.push_str(&hay[i..]);
    (out, hits)
}

fn parse_query(raw: &str) -> Option<Vec<(String, String)>> {
    if raw.is_empty() {
        return Some(Vec::new());
    }
    let url = reqwest::Url::parse(&format!("http://x/?{raw}")).ok()?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let distinct: BTreeSet<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    (distinct.len() == pairs.len()).then_some(pairs)
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode_segment(s: &str) -> String {
    crate::http::encode_segment(s)
}

fn display_path(segments: &[String]) -> String {
    format!("/{}", segments.join("/"))
}

/// The recorded exchange in the shape the checks read.
fn exchange_of(e: &Entry, body: &Value) -> crate::http::Exchange {
    crate::http::Exchange {
        request: crate::http::RecordedRequest {
            method: e.method.clone(),
            url: e.path.clone(),
            headers: e.request_headers.clone(),
            body: None,
        },
        response: crate::http::RecordedResponse {
            status: e.status,
            headers: e.response_headers.clone(),
            body: body.to_string(),
            truncated: false,
            json: Some(body.clone()),
        },
        retries: Vec::new(),
        elapsed: std::time::Duration::ZERO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_replaced_whole() {
        let (s, _) = replace_bounded("members[value eq \"abc-123\"]", "abc-123", "{{u}}", false);
        assert_eq!(s, "members[value eq \"{{u}}\"]");
        let (s, _) = replace_bounded("http://h/Users/abc-123", "abc-123", "{{u}}", false);
        assert_eq!(s, "http://h/Users/{{u}}");
        let (s, hits) = replace_bounded("xabc-123", "abc-123", "{{u}}", false);
        assert_eq!((s.as_str(), hits.len()), ("xabc-123", 0));
        // A short id never rewrites text around it.
        let (s, _) = replace_bounded("Group 2 of core:2.0 \"2\"", "2", "{{g}}", true);
        assert_eq!(s, "Group 2 of core:2.0 \"{{g}}\"");
    }

    #[test]
    fn filters_give_their_values() {
        assert_eq!(quoted_values("userName eq \"a@b.c\""), vec!["a@b.c"]);
        assert_eq!(quoted_values("externalId eq 0a21"), vec!["0a21"]);
        assert_eq!(
            quoted_values("displayName eq \"x\" and externalId eq \"y\""),
            vec!["x", "y"]
        );
    }

    #[test]
    fn step_names_say_what_happened() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            step_name("POST", &s(&["Users"]), false, None),
            "create-user"
        );
        assert_eq!(step_name("GET", &s(&["Users"]), true, None), "find-user");
        assert_eq!(
            step_name("GET", &s(&["Groups"]), false, None),
            "list-groups"
        );
        assert_eq!(
            step_name("GET", &s(&["ServiceProviderConfig"]), false, None),
            "read-service-provider-config"
        );
        let off = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        assert_eq!(
            step_name("PATCH", &s(&["Users", "x"]), false, Some(&off)),
            "disable-user"
        );
        let okta_off = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
        assert_eq!(
            step_name("PATCH", &s(&["Users", "x"]), false, Some(&okta_off)),
            "disable-user"
        );
        let add = json!({"Operations": [{"op": "Add", "path": "members", "value": []}]});
        assert_eq!(
            step_name("PATCH", &s(&["Groups", "x"]), false, Some(&add)),
            "add-members"
        );
        assert_eq!(
            step_name("DELETE", &s(&["Groups", "x"]), false, None),
            "delete-group"
        );
    }

    use crate::record::{Body, Entry, Recording, Secrets, Source};

    fn entry(
        method: &str,
        path: &str,
        query: &str,
        body: Option<Value>,
        status: u16,
        resp: Option<Value>,
    ) -> Entry {
        let json_body = |v: Value| Body {
            bytes: v.to_string().into_bytes(),
            truncated: false,
        };
        Entry {
            started: Some("2026-01-01T10:00:00.000Z".into()),
            method: method.into(),
            path: path.into(),
            query: query.into(),
            request_headers: vec![("User-Agent".into(), "Microsoft Azure AD SCIM client".into())],
            request_body: body.map(json_body),
            status,
            response_headers: vec![("Content-Type".into(), "application/scim+json".into())],
            response_body: resp.map(json_body),
        }
    }

    fn user(id: &str) -> Value {
        json!({"schemas": [crate::scim::urn::USER], "id": id, "userName": "adele@contoso.example",
               "meta": {"resourceType": "User", "location": format!("https://sp.example/scim/v2/Users/{id}")}})
    }

    fn list(items: Vec<Value>) -> Value {
        json!({"schemas": [crate::scim::urn::LIST_RESPONSE], "totalResults": items.len(), "startIndex": 1,
               "itemsPerPage": items.len(), "Resources": items})
    }

    /// Entra's legacy dialect: create, match, disable, group and member, delete.
    pub(crate) fn entra_recording() -> Recording {
        let mut secrets = Secrets::default();
        secrets.add_header("Authorization", "Bearer tenant-token-123456");
        let group = json!({"schemas": [crate::scim::urn::GROUP], "id": "g-3333-4444", "displayName": "Sales EMEA"});
        Recording {
            source: Source::Proxy {
                upstream: "https://sp.example/scim/v2".into(),
            },
            started: "2026-01-01T10:00:00Z".into(),
            entries: vec![
                entry(
                    "GET",
                    "/Users",
                    "filter=userName+eq+%22adele%40contoso.example%22",
                    None,
                    200,
                    Some(list(vec![])),
                ),
                entry(
                    "POST",
                    "/Users",
                    "",
                    Some(
                        json!({"schemas": [crate::scim::urn::USER], "userName": "adele@contoso.example",
                    "externalId": "0a21f0f2-8d2a", "active": true, "password": "1mz050nq-pw",
                    "emails": [{"type": "work", "value": "adele@contoso.example", "primary": true}]}),
                    ),
                    201,
                    Some(user("u-1111-2222")),
                ),
                entry(
                    "GET",
                    "/Users",
                    "filter=userName+eq+%22adele%40contoso.example%22",
                    None,
                    200,
                    Some(list(vec![user("u-1111-2222")])),
                ),
                entry(
                    "PATCH",
                    "/Users/u-1111-2222",
                    "",
                    Some(json!({"schemas": [crate::scim::urn::PATCH_OP],
                    "Operations": [{"op": "Replace", "path": "active", "value": "False"}]})),
                    204,
                    None,
                ),
                entry(
                    "POST",
                    "/Groups",
                    "",
                    Some(
                        json!({"schemas": [crate::scim::urn::GROUP], "displayName": "Sales EMEA", "members": []}),
                    ),
                    201,
                    Some(group.clone()),
                ),
                entry(
                    "PATCH",
                    "/Groups/g-3333-4444",
                    "",
                    Some(json!({"schemas": [crate::scim::urn::PATCH_OP],
                    "Operations": [{"op": "Add", "path": "members", "value": [
                        {"$ref": "https://tunnel.example/scim/v2/Users/u-1111-2222", "value": "u-1111-2222"}]}]})),
                    204,
                    None,
                ),
                entry(
                    "GET",
                    "/Groups",
                    "excludedAttributes=members&filter=displayName%20eq%20%22Sales%20EMEA%22",
                    None,
                    200,
                    Some(list(vec![group])),
                ),
                entry("DELETE", "/Groups/g-3333-4444", "", None, 204, None),
                entry("DELETE", "/Users/u-1111-2222", "", None, 204, None),
                entry(
                    "GET",
                    "/Users/u-1111-2222",
                    "",
                    None,
                    404,
                    Some(
                        json!({"schemas": [crate::scim::urn::ERROR], "status": "404", "detail": "not found"}),
                    ),
                ),
            ],
            base_urls: vec![
                "https://tunnel.example/scim/v2".into(),
                "https://sp.example/scim/v2".into(),
            ],
            secrets,
            notes: vec![],
        }
    }

    fn opts(inline_limit: usize) -> Options {
        Options {
            name: "entra-sync".into(),
            body_file_prefix: "fixtures/entra-sync".into(),
            inline_limit,
        }
    }

    #[test]
    fn entra_recording_becomes_a_loadable_suite() {
        let rec = entra_recording();
        let g = generate(&rec, &opts(100_000)).unwrap();
        assert!(g.fixtures.is_empty());
        let suite = crate::suite::load_str(std::path::Path::new("entra-sync.yaml"), &g.yaml)
            .unwrap_or_else(|e| panic!("{e:?}\n{}", g.yaml));
        assert_eq!(suite.name, "entra-sync");
        assert_eq!(suite.idp, "recorded-entra-legacy");
        let names: Vec<&str> = suite.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "find-user",
                "create-user",
                "find-user-2",
                "disable-user",
                "create-group",
                "add-members",
                "find-group",
                "delete-group",
                "delete-user",
                "read-user"
            ]
        );
        let vars: Vec<(String, Value)> = suite.vars.clone();
        assert!(
            vars.contains(&("userName".into(), json!("{{prefix}}-adele@contoso.example"))),
            "{vars:?}"
        );
        assert!(vars.contains(&("externalId".into(), json!("{{prefix}}-0a21f0f2-8d2a"))));
        assert!(vars.contains(&("groupName".into(), json!("{{prefix}}-Sales EMEA"))));
        let step = |n: &str| suite.steps.iter().find(|s| s.name == n).unwrap();
        assert_eq!(
            step("find-user").request.query,
            vec![("filter".to_string(), json!("userName eq \"{{userName}}\""))]
        );
        let create = step("create-user");
        assert_eq!(create.captures[0].var, "userId");
        let body = create.request.body.as_ref().unwrap();
        assert_eq!(body["userName"], json!("{{userName}}"));
        assert_eq!(body["emails"][0]["value"], json!("{{userName}}"));
        assert_eq!(body["password"], json!("{{password}}"));
        assert_eq!(create.expect.status, Some(vec![201]));
        assert_eq!(create.expect.checks.len(), 1);
        let disable = step("disable-user");
        assert_eq!(disable.request.path, "/Users/{{userId}}");
        assert_eq!(
            disable.request.body.as_ref().unwrap()["Operations"][0]["value"],
            json!("False")
        );
        assert_eq!(disable.expect.status, Some(vec![200, 204]));
        let add = step("add-members");
        let member = &add.request.body.as_ref().unwrap()["Operations"][0]["value"][0];
        assert_eq!(
            member,
            &json!({"$ref": "{{base_url}}/Users/{{userId}}", "value": "{{userId}}"})
        );
        let find_group = step("find-group");
        let json_paths: Vec<&str> = find_group
            .expect
            .json
            .iter()
            .map(|j| j.path.as_str())
            .collect();
        assert_eq!(json_paths, vec!["$.Resources[0].id", "$.totalResults"]);
        assert_eq!(
            step("delete-user").expect.body,
            crate::suite::BodyRule::Empty
        );
        assert_eq!(step("read-user").expect.status, Some(vec![404]));
        assert!(suite.steps.iter().all(|s| s.snapshot.is_some()));
        assert!(suite.steps.iter().all(|s| s.why.is_some()));
        assert!(!g.yaml.contains("1mz050nq-pw") && !g.yaml.contains("tenant-token"));
        assert!(
            !g.yaml.contains("u-1111-2222") && !g.yaml.contains("tunnel.example"),
            "{}",
            g.yaml
        );
    }

    #[test]
    fn long_bodies_go_to_fixtures_that_load() {
        let rec = entra_recording();
        let g = generate(&rec, &opts(120)).unwrap();
        assert!(
            g.fixtures
                .iter()
                .any(|(f, _)| f == "fixtures/entra-sync/create-user.json"),
            "{:?}",
            g.fixtures
        );
        let dir = tempfile::tempdir().unwrap();
        let layout = crate::record::output::Layout::new(dir.path(), "entra-sync").unwrap();
        crate::record::write(&g, &layout, &rec.secrets).unwrap();
        let suite = crate::suite::load_file(&layout.suite_file).unwrap();
        let create = suite
            .steps
            .iter()
            .find(|s| s.name == "create-user")
            .unwrap();
        assert_eq!(
            create.request.body.as_ref().unwrap()["userName"],
            json!("{{userName}}")
        );
        // A second write never overwrites the first.
        assert!(matches!(
            crate::record::write(&g, &layout, &rec.secrets),
            Err(RecordError::Exists(_))
        ));
    }

    #[test]
    fn a_leaked_credential_stops_the_write() {
        let mut rec = entra_recording();
        // A token that ended up in a body the client sent (e.g. a description).
        rec.entries[4].request_body = Some(Body {
            bytes: json!({"displayName": "Sales EMEA", "description": "tenant-token-123456"})
                .to_string()
                .into_bytes(),
            truncated: false,
        });
        let g = generate(&rec, &opts(100_000)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let layout = crate::record::output::Layout::new(dir.path(), "entra-sync").unwrap();
        let e = crate::record::write(&g, &layout, &rec.secrets).unwrap_err();
        assert!(matches!(e, RecordError::SecretInOutput { .. }), "{e}");
        assert!(!e.to_string().contains("tenant-token"));
        assert!(!layout.suite_file.exists());
    }

    #[test]
    fn versions_and_lower_case_endpoints_are_linked_too() {
        let mut rec = entra_recording();
        let mut create = entry(
            "POST",
            "/users",
            "",
            Some(json!({"userName": "bob@x.example"})),
            201,
            Some(user("u-5555-6666")),
        );
        create
            .response_headers
            .push(("ETag".into(), "W/\"1\"".into()));
        let mut put = entry(
            "PUT",
            "/users/u-5555-6666",
            "",
            Some(json!({"id": "u-5555-6666", "userName": "bob@x.example"})),
            200,
            Some(user("u-5555-6666")),
        );
        put.request_headers
            .push(("If-Match".into(), "W/\"1\"".into()));
        rec.entries = vec![create, put];
        let g = generate(&rec, &opts(100_000)).unwrap();
        let suite = crate::suite::load_str(std::path::Path::new("x.yaml"), &g.yaml)
            .unwrap_or_else(|e| panic!("{e:?}\n{}", g.yaml));
        assert_eq!(suite.requires, vec![crate::suite::Capability::Etag]);
        let create = &suite.steps[0];
        assert_eq!(create.name, "create-user");
        let vars: Vec<&str> = create.captures.iter().map(|c| c.var.as_str()).collect();
        assert_eq!(vars, vec!["etag", "userId"]);
        let put = &suite.steps[1];
        assert_eq!(put.name, "replace-user");
        assert_eq!(put.request.path, "/users/{{userId}}");
        assert_eq!(
            put.request.headers,
            vec![("If-Match".to_string(), "{{etag}}".to_string())]
        );
        let body = put.request.body.as_ref().unwrap();
        assert_eq!(
            body,
            &json!({"id": "{{userId}}", "userName": "{{userName}}"})
        );
    }

    #[test]
    fn nothing_recorded_is_an_error() {
        let mut rec = entra_recording();
        rec.entries.clear();
        assert!(matches!(
            generate(&rec, &opts(10)),
            Err(RecordError::Empty(_))
        ));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%40b%2Fc"), "a@b/c");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
