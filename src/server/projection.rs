//! `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which
//! attributes of a rendered resource go back to the client.
//!
//! Names are case-insensitive, may be URN-qualified
//! (`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`, or an
//! extension URN alone) and may name sub-attributes (`emails.value`). `id`
//! and `schemas` are returned always; `meta` is returned by default only.

use serde_json::{Map, Value};

use super::store::Kind;

/// Attributes returned whatever the client asks.
const ALWAYS: [&str; 2] = ["id", "schemas"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Projection {
    attributes: Vec<String>,
    excluded: Vec<String>,
}

impl Projection {
    /// From the two comma-separated query parameters (absent: empty).
    pub(crate) fn from_lists(attributes: Option<&str>, excluded: Option<&str>) -> Self {
        Projection {
            attributes: split(attributes),
            excluded: split(excluded),
        }
    }

    /// From a SearchRequest's arrays (strings; a comma-separated string is
    /// tolerated too).
    pub(crate) fn from_values(attributes: Option<&Value>, excluded: Option<&Value>) -> Self {
        let list = |v: Option<&Value>| -> Vec<String> {
            match v {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .flat_map(|s| split(Some(s)))
                    .collect(),
                Some(Value::String(s)) => split(Some(s)),
                _ => Vec::new(),
            }
        };
        Projection {
            attributes: list(attributes),
            excluded: list(excluded),
        }
    }

    pub(crate) fn is_identity(&self) -> bool {
        self.attributes.is_empty() && self.excluded.is_empty()
    }

    /// Applies the projection to a resource of the given kind.
    pub(crate) fn apply(&self, kind: Kind, resource: &mut Value) {
        if self.is_identity() {
            return;
        }
        if !self.attributes.is_empty() {
            let mut out = Map::new();
            if let Some(obj) = resource.as_object() {
                for key in ALWAYS {
                    if let Some(v) = obj.get(key) {
                        out.insert(key.to_string(), v.clone());
                    }
                }
            }
            for name in &self.attributes {
                if let Some(path) = resolve(kind, name) {
                    let path: Vec<&str> = path.iter().map(String::as_str).collect();
                    include(resource, &mut out, &path);
                }
            }
            *resource = Value::Object(out);
        }
        for name in &self.excluded {
            if let Some(path) = resolve(kind, name) {
                if path.len() == 1 && ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(&path[0])) {
                    continue;
                }
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                exclude(resource, &path);
            }
        }
    }
}

fn split(list: Option<&str>) -> Vec<String> {
    list.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Resolves an attribute name to a key path inside a resource of `kind`:
/// `["name", "givenName"]`, or `[<extension URN>, "manager", "value"]`.
/// `None` when the name is qualified by a schema this kind does not use.
fn resolve(kind: Kind, name: &str) -> Option<Vec<String>> {
    let lower = name.to_ascii_lowercase();
    let mut prefix: Vec<String> = Vec::new();
    let rest = if lower.starts_with("urn:") {
        if let Some(ext) = kind
            .extensions()
            .iter()
            .find(|e| e.eq_ignore_ascii_case(name))
        {
            return Some(vec![(*ext).to_string()]);
        }
        let core = kind.core_schema().to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix(&core).and_then(|r| r.strip_prefix(':')) {
            &name[name.len() - rest.len()..]
        } else {
            let ext = kind.extensions().iter().find(|e| {
                lower
                    .strip_prefix(&e.to_ascii_lowercase())
                    .is_some_and(|r| r.starts_with(':'))
            })?;
            prefix.push((*ext).to_string());
            &name[ext.len() + 1..]
        }
    } else {
        name
    };
    prefix.extend(
        rest.split('.')
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    (!prefix.is_empty()).then_some(prefix)
}

fn find_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
}

/// Copies the value at `path` from `src` into `dst`, creating only the
/// containers on the way (multi-valued complex attributes keep one element
/// per source element).
fn include(src: &Value, dst: &mut Map<String, Value>, path: &[&str]) {
    let (Some(first), Some(obj)) = (path.first(), src.as_object()) else {
        return;
    };
    let Some((key, value)) = find_ci(obj, first) else {
        return;
    };
    if path.len() == 1 {
        dst.insert(key.clone(), value.clone());
        return;
    }
    match value {
        Value::Object(_) => {
            let entry = dst
                .entry(key.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(inner) = entry.as_object_mut() {
                include(value, inner, &path[1..]);
                if inner.is_empty() {
                    dst.remove(key);
                }
            }
        }
        Value::Array(items) => {
            let entry = dst
                .entry(key.clone())
                .or_insert_with(|| Value::Array(vec![Value::Object(Map::new()); items.len()]));
            if let Some(out) = entry.as_array_mut() {
                for (item, slot) in items.iter().zip(out.iter_mut()) {
                    if let Some(slot) = slot.as_object_mut() {
                        include(item, slot, &path[1..]);
                    }
                }
                // Elements stay aligned with the source for later sub-attributes.
                if out.iter().all(|v| v.as_object().is_some_and(Map::is_empty)) {
                    dst.remove(key);
                }
            }
        }
        _ => {}
    }
}

fn exclude(value: &mut Value, path: &[&str]) {
    let Some(first) = path.first() else {
        return;
    };
    match value {
        Value::Object(obj) => {
            let Some(key) = obj.keys().find(|k| k.eq_ignore_ascii_case(first)).cloned() else {
                return;
            };
            if path.len() == 1 {
                obj.remove(&key);
            } else if let Some(inner) = obj.get_mut(&key) {
                match inner {
                    Value::Array(items) => items.iter_mut().for_each(|i| exclude(i, &path[1..])),
                    other => exclude(other, &path[1..]),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| exclude(i, path)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::urn;
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": [urn::USER, urn::ENTERPRISE_USER],
            "id": "1",
            "userName": "ada",
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}],
            urn::ENTERPRISE_USER: {"department": "Maths", "manager": {"value": "2"}},
            "meta": {"resourceType": "User"}
        })
    }

    #[test]
    fn attributes_keep_id_and_schemas_and_drop_meta() {
        let mut u = user();
        Projection::from_lists(Some("USERNAME"), None).apply(Kind::User, &mut u);
        assert_eq!(
            u,
            json!({"schemas": [urn::USER, urn::ENTERPRISE_USER], "id": "1", "userName": "ada"})
        );
    }

    #[test]
    fn sub_attributes_and_urn_qualified_names() {
        let mut u = user();
        let list = format!(
            "emails.value,{}:name.familyName,{}:manager.value",
            urn::USER,
            urn::ENTERPRISE_USER
        );
        Projection::from_lists(Some(&list), None).apply(Kind::User, &mut u);
        assert_eq!(u["emails"], json!([{"value": "a@x"}, {"value": "b@x"}]));
        assert_eq!(u["name"], json!({"familyName": "Lovelace"}));
        assert_eq!(u[urn::ENTERPRISE_USER], json!({"manager": {"value": "2"}}));
        assert!(u.get("userName").is_none());
    }

    #[test]
    fn excluded_attributes_never_remove_id() {
        let mut u = user();
        let list = format!("id,name.givenName,emails.type,{}", urn::ENTERPRISE_USER);
        Projection::from_lists(None, Some(&list)).apply(Kind::User, &mut u);
        assert_eq!(u["id"], "1");
        assert_eq!(u["name"], json!({"familyName": "Lovelace"}));
        assert_eq!(u["emails"], json!([{"value": "a@x"}, {"value": "b@x"}]));
        assert!(u.get(urn::ENTERPRISE_USER).is_none());
        assert!(u.get("meta").is_some());
    }

    #[test]
    fn names_of_other_schemas_are_ignored() {
        let mut g = json!({"schemas": [urn::GROUP], "id": "g", "displayName": "x", "members": []});
        let list = format!("{}:userName", urn::USER);
        Projection::from_lists(None, Some(&list)).apply(Kind::Group, &mut g);
        assert_eq!(g["displayName"], "x");
    }
}
