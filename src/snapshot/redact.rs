//! Canonical, redacted text of a response: what a snapshot stores.
//!
//! Everything that differs between two runs against servers of the same
//! kind is replaced by a stable token, and everything whose order carries no
//! meaning is sorted, so that a re-run shows no diff and a change of shape
//! shows exactly that change:
//!
//! - the base URL → `[base_url]`, its origin → `[origin]`;
//! - the run's `{{prefix}}` → `[prefix]`, its run id → `[run_id]`;
//! - resource ids (`id`, the `value` of references, any UUID) → `[id-N]`,
//!   numbered by first appearance within the suite run, and the same token
//!   wherever the same id shows up again (`$ref`, `location`, messages);
//!   short (integer) ids only where ids go, and an id sent as a JSON number
//!   as `[id-N] (number)`;
//! - `meta.created`, `meta.lastModified` and any RFC 3339 date-time →
//!   `[timestamp]`; `meta.version` → `[version]`;
//! - the step's own `snapshot.redact` JSONPaths → `[redacted]`;
//! - arrays (`Resources`, multi-valued attributes) sorted by their redacted
//!   text; bulk `Operations` keep their order, which means something.

use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

static DATE_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})?\b")
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
});

/// The values of one suite run that change from run to run.
#[derive(Debug, Clone, Default)]
pub struct Volatiles {
    /// The SCIM base URL, without a trailing slash.
    pub base_url: String,
    /// The suite's `{{prefix}}`.
    pub prefix: String,
    /// The run's `{{run_id}}`.
    pub run_id: String,
}

/// Redacts the responses of one suite run. Ids keep their tokens from step
/// to step, so a later response that mentions an earlier id says so.
#[derive(Debug, Clone)]
pub struct Redactor {
    vol: Volatiles,
    origin: Option<String>,
    /// The prefix and the run id in any case: suites send them upper-cased
    /// too (`{{userNameUpper}}`), and servers echo what they were sent.
    run_names: Vec<(Regex, &'static str)>,
    /// Id value (already normalised) → token number.
    ids: HashMap<String, usize>,
}

/// Where a string sits, which decides how readily a short id (`17`, `u1`)
/// is taken for an id: integer ids are everywhere in a string (`core:2.0`,
/// `count`), so outside id slots only whole path segments count.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// An `id` or a `value` (of a reference, or Entra's plain `manager`):
    /// the whole string is the id.
    Id,
    /// An error's `detail`: a known id may appear as a word (`User 17 not found`).
    Detail,
    Other,
}

impl Slot {
    /// The slot of an object member; array items sit where their array sits.
    fn of(key: &str) -> Slot {
        match key {
            "id" | "value" => Slot::Id,
            "detail" => Slot::Detail,
            _ => Slot::Other,
        }
    }
}

/// How ids are written while text is being rendered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IdMode {
    /// Every id is `[id]`: the order of array items must not depend on ids.
    MaskAll,
    /// Known ids get their token, new ones are `[id]` (sorting ties).
    Peek,
    /// New ids get the next token.
    Assign,
}

/// What the snapshot shows of a response body.
pub enum Body<'a> {
    Json(&'a Value),
    Text(&'a str),
    Empty,
}

impl Redactor {
    pub fn new(vol: Volatiles) -> Redactor {
        let origin = reqwest::Url::parse(&vol.base_url)
            .ok()
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| o.contains("://"));
        let run_names = [(&vol.prefix, "[prefix]"), (&vol.run_id, "[run_id]")]
            .into_iter()
            .filter(|(v, _)| !v.is_empty())
            .filter_map(|(v, token)| {
                Regex::new(&format!("(?i){}", regex::escape(v)))
                    .ok()
                    .map(|r| (r, token))
            })
            .collect();
        Redactor {
            vol,
            origin,
            run_names,
            ids: HashMap::new(),
        }
    }

    /// The snapshot text of a response: status, content type and body.
    /// `extra` are JSONPaths whose values are replaced by `[redacted]`.
    pub fn render(
        &mut self,
        status: u16,
        content_type: Option<&str>,
        body: Body<'_>,
        extra: &[serde_json_path::JsonPath],
    ) -> String {
        let ct = content_type
            .map(|c| {
                c.split(';')
                    .map(|p| p.trim().to_ascii_lowercase())
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_else(|| "(none)".into());
        let body = match body {
            Body::Json(v) => {
                let v = self.canonical(v, extra);
                serde_json::to_string_pretty(&v).unwrap_or_default()
            }
            Body::Text(t) => {
                let mut candidates = BTreeSet::new();
                let t = self.normalise(t);
                collect_uuids(&t, &mut candidates);
                self.scalar(&t, &candidates, IdMode::Assign, Slot::Other)
            }
            Body::Empty => "(empty)".into(),
        };
        format!("status: {status}\ncontent-type: {ct}\nbody:\n{body}\n")
    }

    /// The redacted, sorted form of a JSON body.
    pub fn canonical(&mut self, v: &Value, extra: &[serde_json_path::JsonPath]) -> Value {
        let mut v = v.clone();
        for path in extra {
            let pointers: Vec<String> = path
                .query_located(&v)
                .locations()
                .map(|l| l.to_json_pointer())
                .collect();
            for p in pointers {
                if let Some(slot) = v.pointer_mut(&p) {
                    *slot = Value::String("[redacted]".into());
                }
            }
        }
        self.normalise_tree(&mut v);
        redact_meta(&mut v);
        let mut candidates = BTreeSet::new();
        collect_ids(&v, &mut candidates);
        let v = self.sort_tree(v, &candidates, false, Slot::Other);
        // Resources' own ids are numbered first, so a resource is `[id-1]`
        // even when a UUID sorts before its `id` (an `externalId`, say).
        self.assign_resource_ids(&v, &candidates);
        self.assign(v, &candidates, Slot::Other)
    }

    /// Replaces the run's base URL, prefix and run id in every string.
    fn normalise_tree(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.normalise(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.normalise_tree(x)),
            Value::Object(m) => m.values_mut().for_each(|x| self.normalise_tree(x)),
            _ => {}
        }
    }

    fn normalise(&self, s: &str) -> String {
        let mut out = s.to_string();
        let mut swap = |from: &str, to: &str| {
            if !from.is_empty() && out.contains(from) {
                out = out.replace(from, to);
            }
        };
        swap(&self.vol.base_url, "[base_url]");
        if let Some(o) = &self.origin {
            swap(o, "[origin]");
        }
        for (re, token) in &self.run_names {
            if let std::borrow::Cow::Owned(o) = re.replace_all(&out, *token) {
                out = o;
            }
        }
        out
    }

    /// Sorts every array (bottom-up) by its items' redacted text; ids are
    /// masked first so the order never depends on id values, then known
    /// tokens break ties.
    fn sort_tree(
        &self,
        v: Value,
        candidates: &BTreeSet<String>,
        keep_order: bool,
        slot: Slot,
    ) -> Value {
        match v {
            Value::Array(items) => {
                let items: Vec<Value> = items
                    .into_iter()
                    .map(|x| self.sort_tree(x, candidates, false, slot))
                    .collect();
                if keep_order {
                    return Value::Array(items);
                }
                let mut keyed: Vec<((String, String), Value)> = items
                    .into_iter()
                    .map(|x| {
                        let key = (
                            self.text(&x, candidates, IdMode::MaskAll, slot),
                            self.text(&x, candidates, IdMode::Peek, slot),
                        );
                        (key, x)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Array(keyed.into_iter().map(|(_, x)| x).collect())
            }
            Value::Object(m) => {
                let mut out = Map::new();
                let mut entries: Vec<(String, Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                for (k, x) in entries {
                    let keep = k == "Operations";
                    let x = self.sort_tree(x, candidates, keep, Slot::of(&k));
                    out.insert(k, x);
                }
                Value::Object(out)
            }
            other => other,
        }
    }

    /// Compact text of a value with ids written per `mode` (no new tokens).
    fn text(&self, v: &Value, candidates: &BTreeSet<String>, mode: IdMode, slot: Slot) -> String {
        fn walk(r: &Redactor, v: &Value, c: &BTreeSet<String>, mode: IdMode, slot: Slot) -> Value {
            match v {
                Value::String(s) => Value::String(r.peek_scalar(s, c, mode, slot)),
                Value::Number(n) if slot == Slot::Id => match r.number_id(n, c) {
                    Some(id) => Value::String(r.peek_scalar(&id, c, mode, slot)),
                    None => v.clone(),
                },
                Value::Array(a) => {
                    Value::Array(a.iter().map(|x| walk(r, x, c, mode, slot)).collect())
                }
                Value::Object(m) => Value::Object(
                    m.iter()
                        .map(|(k, x)| (k.clone(), walk(r, x, c, mode, Slot::of(k))))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        walk(self, v, candidates, mode, slot).to_string()
    }

    /// A number in an id slot that is a known or candidate id, as text.
    fn number_id(&self, n: &serde_json::Number, candidates: &BTreeSet<String>) -> Option<String> {
        let s = n.to_string();
        (candidates.contains(&s) || self.ids.contains_key(&s)).then_some(s)
    }

    fn assign_resource_ids(&mut self, v: &Value, candidates: &BTreeSet<String>) {
        match v {
            Value::Array(a) => a
                .iter()
                .for_each(|x| self.assign_resource_ids(x, candidates)),
            Value::Object(m) => {
                if let Some(id) = m.get("id").and_then(id_text)
                    && candidates.contains(&id)
                    && !self.ids.contains_key(&id)
                {
                    let n = self.ids.len() + 1;
                    self.ids.insert(id, n);
                }
                m.values()
                    .for_each(|x| self.assign_resource_ids(x, candidates));
            }
            _ => {}
        }
    }

    /// Gives ids their tokens in document order (keys sorted, arrays sorted).
    /// An id the server sent as a JSON number becomes `"[id-N] (number)"`,
    /// so a switch between number and string still shows.
    fn assign(&mut self, v: Value, candidates: &BTreeSet<String>, slot: Slot) -> Value {
        match v {
            Value::String(s) => Value::String(self.scalar(&s, candidates, IdMode::Assign, slot)),
            Value::Number(n) if slot == Slot::Id => match self.number_id(&n, candidates) {
                Some(id) => {
                    let token = self.scalar(&id, candidates, IdMode::Assign, slot);
                    Value::String(format!("{token} (number)"))
                }
                None => Value::Number(n),
            },
            Value::Array(a) => Value::Array(
                a.into_iter()
                    .map(|x| self.assign(x, candidates, slot))
                    .collect(),
            ),
            Value::Object(m) => {
                let mut entries: Vec<(String, Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                let mut out = Map::new();
                for (k, x) in entries {
                    let x = self.assign(x, candidates, Slot::of(&k));
                    out.insert(k, x);
                }
                Value::Object(out)
            }
            other => other,
        }
    }

    fn peek_scalar(
        &self,
        s: &str,
        candidates: &BTreeSet<String>,
        mode: IdMode,
        slot: Slot,
    ) -> String {
        replace_ids(s, &self.ids, candidates, mode, &mut Vec::new(), slot)
    }

    /// One string with ids and date-times replaced; new ids get tokens.
    fn scalar(
        &mut self,
        s: &str,
        candidates: &BTreeSet<String>,
        mode: IdMode,
        slot: Slot,
    ) -> String {
        let mut new = Vec::new();
        let out = replace_ids(s, &self.ids, candidates, mode, &mut new, slot);
        for id in new {
            let n = self.ids.len() + 1;
            self.ids.insert(id, n);
        }
        out
    }
}

/// `s` with every occurrence of a known or candidate id written per `mode`,
/// and date-times replaced. In `Assign` mode, ids seen for the first time are
/// numbered after `known` in order of appearance and pushed onto `new`.
fn replace_ids(
    s: &str,
    known: &HashMap<String, usize>,
    candidates: &BTreeSet<String>,
    mode: IdMode,
    new: &mut Vec<String>,
    slot: Slot,
) -> String {
    // Longest ids first, so a short id never eats into a longer one.
    let mut ids: Vec<&str> = known
        .keys()
        .map(String::as_str)
        .chain(candidates.iter().map(String::as_str))
        .collect();
    ids.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    ids.dedup();
    let mut hits: Vec<(usize, usize)> = Vec::new();
    for id in ids {
        for (at, _) in s.match_indices(id) {
            let end = at + id.len();
            let free = !hits.iter().any(|&(a, e)| at < e && a < end);
            if free && occurs(s, at, end, slot) {
                hits.push((at, end));
            }
        }
    }
    hits.sort();
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for (at, end) in hits {
        out.push_str(&s[last..at]);
        let id = &s[at..end];
        let token = match (known.get(id), mode) {
            (_, IdMode::MaskAll) | (None, IdMode::Peek) => "[id]".to_string(),
            (Some(n), _) => format!("[id-{n}]"),
            (None, IdMode::Assign) => {
                let n = match new.iter().position(|x| x == id) {
                    Some(i) => known.len() + i + 1,
                    None => {
                        new.push(id.to_string());
                        known.len() + new.len()
                    }
                };
                format!("[id-{n}]")
            }
        };
        out.push_str(&token);
        last = end;
    }
    out.push_str(&s[last..]);
    DATE_TIME.replace_all(&out, "[timestamp]").into_owned()
}

/// Whether an id found at `at..end` really is that id. Long ids count as
/// whole words (`u-1234567` in a message); short ones (`7`, `u1`) only as a
/// path segment, as the whole of an `id` or `value`, or as a word of an
/// error's `detail`, so `2` never matches in `core:2.0` or an
/// `employeeNumber` of `2`.
fn occurs(s: &str, at: usize, end: usize, slot: Slot) -> bool {
    let before = s[..at].chars().next_back();
    let after = s[end..].chars().next();
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let whole_word = !word(before) && !word(after);
    if end - at >= 6 {
        return whole_word;
    }
    let segment = before == Some('/') && matches!(after, None | Some('/' | '?' | '#'));
    match slot {
        Slot::Id => segment || (at == 0 && end == s.len()),
        Slot::Detail => segment || whole_word,
        Slot::Other => segment,
    }
}

/// `meta.created`, `meta.lastModified` and `meta.version`, wherever a
/// `meta` object sits.
fn redact_meta(v: &mut Value) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(redact_meta),
        Value::Object(m) => {
            if let Some(Value::Object(meta)) = m.get_mut("meta") {
                for (k, token) in [
                    ("created", "[timestamp]"),
                    ("lastModified", "[timestamp]"),
                    ("version", "[version]"),
                ] {
                    if let Some(slot) = meta.get_mut(k)
                        && !slot.is_null()
                    {
                        *slot = Value::String(token.into());
                    }
                }
            }
            m.values_mut().for_each(redact_meta);
        }
        _ => {}
    }
}

/// Values that are resource ids: `id` of a resource (not of a schema or
/// resource type, whose ids are fixed names), the `value` of a reference
/// (an object with `$ref`), and any UUID anywhere.
fn collect_ids(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => collect_uuids(s, out),
        Value::Array(a) => a.iter().for_each(|x| collect_ids(x, out)),
        Value::Object(m) => {
            if let Some(id) = m.get("id").and_then(id_text)
                && is_resource(m)
                && volatile_id(&id)
            {
                out.insert(id);
            }
            if m.contains_key("$ref")
                && let Some(id) = m.get("value").and_then(id_text)
                && volatile_id(&id)
            {
                out.insert(id);
            }
            m.values().for_each(|x| collect_ids(x, out));
        }
        _ => {}
    }
}

/// An id as text: a string, or an integer a server sent as a JSON number.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

fn collect_uuids(s: &str, out: &mut BTreeSet<String>) {
    for m in UUID.find_iter(s) {
        out.insert(m.as_str().to_string());
    }
}

/// Schemas and resource types have fixed, meaningful ids.
fn is_resource(m: &Map<String, Value>) -> bool {
    let fixed = ["Schema", "ResourceType"];
    let rt = m
        .get("meta")
        .and_then(|x| x.get("resourceType"))
        .and_then(Value::as_str);
    let schemas = m.get("schemas").and_then(Value::as_array);
    let schema_is = |suffix: &str| {
        schemas.is_some_and(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .any(|s| s.ends_with(&format!(":{suffix}")))
        })
    };
    !(rt.is_some_and(|r| fixed.contains(&r)) || fixed.iter().any(|f| schema_is(f)))
}

fn volatile_id(id: &str) -> bool {
    !id.is_empty() && !id.starts_with("urn:") && !id.starts_with('[')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vol() -> Volatiles {
        Volatiles {
            base_url: "http://127.0.0.1:4100/scim/v2".into(),
            prefix: "scimitar-ab12cd34-1".into(),
            run_id: "ab12cd34".into(),
        }
    }

    fn canon(r: &mut Redactor, v: Value) -> Value {
        r.canonical(&v, &[])
    }

    #[test]
    fn ids_get_tokens_everywhere_they_appear() {
        let mut r = Redactor::new(vol());
        let user = json!({
            "id": "u-77",
            "userName": "scimitar-ab12cd34-1-ada@example.com",
            "meta": {"resourceType": "User", "created": "2026-11-25T09:00:00Z",
                     "lastModified": "2026-11-25T09:00:01.123+01:00", "version": "W/\"3\"",
                     "location": "http://127.0.0.1:4100/scim/v2/Users/u-77"}
        });
        let out = canon(&mut r, user);
        assert_eq!(
            out,
            json!({
                "id": "[id-1]",
                "userName": "[prefix]-ada@example.com",
                "meta": {"resourceType": "User", "created": "[timestamp]",
                         "lastModified": "[timestamp]", "version": "[version]",
                         "location": "[base_url]/Users/[id-1]"}
            })
        );
        // A later response referring to the same id uses the same token.
        let group = json!({"id": "g-1", "members": [
            {"value": "u-77", "$ref": "http://127.0.0.1:4100/scim/v2/Users/u-77"}]});
        let out = canon(&mut r, group);
        assert_eq!(out["members"][0]["value"], "[id-1]");
        assert_eq!(out["members"][0]["$ref"], "[base_url]/Users/[id-1]");
        assert_eq!(out["id"], "[id-2]");
    }

    #[test]
    fn short_ids_only_match_whole_words() {
        let mut r = Redactor::new(vol());
        let out = canon(
            &mut r,
            json!({"id": "2", "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "meta": {"location": "/Users/2"}, "detail": "ru2e"}),
        );
        assert_eq!(out["id"], "[id-1]");
        assert_eq!(out["meta"]["location"], "/Users/[id-1]");
        assert_eq!(
            out["schemas"][0],
            "urn:ietf:params:scim:schemas:core:2.0:User"
        );
        assert_eq!(out["detail"], "ru2e");
        let out = canon(
            &mut r,
            json!({"id": "user-000123", "detail": "user-000123 not found"}),
        );
        assert_eq!(out["detail"], "[id-2] not found");
    }

    #[test]
    fn the_run_prefix_in_any_case() {
        let mut r = Redactor::new(vol());
        let out = canon(
            &mut r,
            json!({"detail": "no user SCIMITAR-AB12CD34-1-ADA@EXAMPLE.COM in run AB12cd34"}),
        );
        assert_eq!(
            out["detail"],
            "no user [prefix]-ADA@EXAMPLE.COM in run [run_id]"
        );
    }

    #[test]
    fn integer_ids_are_ids_only_where_ids_go() {
        let mut r = Redactor::new(vol());
        let out = canon(
            &mut r,
            json!({"id": "17", "employeeNumber": "17", "meta": {"location": "/Users/17"},
                   "manager": {"value": 17}}),
        );
        assert_eq!(out["id"], "[id-1]");
        assert_eq!(out["meta"]["location"], "/Users/[id-1]");
        // A number where an id goes is that id, and still shows it was a number.
        assert_eq!(out["manager"]["value"], "[id-1] (number)");
        // The same digits elsewhere are data, not the id.
        assert_eq!(out["employeeNumber"], "17");
        let out = canon(
            &mut r,
            json!({"id": 18, "detail": "User 17 not found; line 170"}),
        );
        assert_eq!(out["id"], "[id-2] (number)");
        assert_eq!(out["detail"], "User [id-1] not found; line 170");
    }

    #[test]
    fn lists_sort_independently_of_server_order_and_ids() {
        let a = json!({"id": "3f1b2c4d-0000-4000-8000-000000000001", "userName": "b"});
        let b = json!({"id": "0a1b2c4d-0000-4000-8000-000000000002", "userName": "a"});
        let list = |x: &Value, y: &Value| json!({"Resources": [x, y], "totalResults": 2});
        let mut r1 = Redactor::new(vol());
        let mut r2 = Redactor::new(vol());
        let one = canon(&mut r1, list(&a, &b));
        let two = canon(&mut r2, list(&b, &a));
        assert_eq!(one, two);
        assert_eq!(one["Resources"][0]["userName"], "a");
        assert_eq!(one["Resources"][0]["id"], "[id-1]");
    }

    #[test]
    fn schema_ids_and_bulk_order_are_kept() {
        let mut r = Redactor::new(vol());
        let out = canon(
            &mut r,
            json!({"Resources": [{"id": "urn:ietf:params:scim:schemas:core:2.0:User",
                "meta": {"resourceType": "Schema"}}, {"id": "User", "meta": {"resourceType": "ResourceType"}}],
                "Operations": [{"method": "POST"}, {"method": "DELETE"}]}),
        );
        assert_eq!(out["Resources"][0]["id"], "User");
        assert_eq!(out["Operations"][0]["method"], "POST");
    }

    #[test]
    fn extra_paths_and_render_format() {
        let mut r = Redactor::new(vol());
        let p = serde_json_path::JsonPath::parse("$.secret").unwrap();
        let text = r.render(
            200,
            Some("application/scim+json;Charset=UTF-8"),
            Body::Json(&json!({"secret": "x", "when": "at 2026-01-02T03:04:05Z"})),
            &[p],
        );
        assert_eq!(
            text,
            "status: 200\ncontent-type: application/scim+json; charset=utf-8\nbody:\n{\n  \"secret\": \"[redacted]\",\n  \"when\": \"at [timestamp]\"\n}\n"
        );
    }
}
