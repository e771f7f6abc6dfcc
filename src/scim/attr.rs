//! Helpers on JSON resources: case-insensitive key access (RFC 7643 §2.1
//! says attribute names are case-insensitive) and coercion of what IdPs
//! actually send into the types the schema declares.

use serde_json::{Map, Value};

use super::schema::{AttrType, Attribute, ResourceSchema};

/// The key in `map` equal to `name` ignoring ASCII case; an exact match wins.
pub fn key_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a String> {
    if let Some((k, _)) = map.get_key_value(name) {
        return Some(k);
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(name))
}

pub fn get_ci<'a>(map: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let key = key_ci(map, name)?;
    map.get(key)
}

pub fn get_ci_mut<'a>(map: &'a mut Map<String, Value>, name: &str) -> Option<&'a mut Value> {
    let key = key_ci(map, name)?.clone();
    map.get_mut(&key)
}

/// Removes every key equal to `name` ignoring case; returns the last value
/// removed.
pub fn remove_ci(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let keys: Vec<String> = map
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    let mut out = None;
    for k in keys {
        out = map.remove(&k);
    }
    out
}

/// Sets `canonical` to `value`, first dropping keys that differ from it only
/// in case so the resource never holds `userName` and `username` together.
pub fn insert_ci(map: &mut Map<String, Value>, canonical: &str, value: Value) {
    remove_ci(map, canonical);
    map.insert(canonical.to_string(), value);
}

/// `get_ci` on a value that may not be an object.
pub fn value_get_ci<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value.as_object().and_then(|m| get_ci(m, name))
}

/// Normalises a resource in place against its schemas: renames known keys to
/// their canonical case and coerces leaf values (see [`coerce_attribute`]).
/// Unknown keys are left alone.
pub fn coerce(value: &mut Value, schema: &ResourceSchema) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        if let Some(ext) = schema.extension(&key) {
            let Some(mut v) = map.remove(&key) else {
                continue;
            };
            if let Some(inner) = v.as_object_mut() {
                coerce_object(inner, &ext.attributes);
            }
            map.insert(ext.id.to_string(), v);
            continue;
        }
        let Some(found) = schema.top_level(None, &key) else {
            continue;
        };
        if found.extension.is_some() {
            // An extension attribute at the top level is someone else's
            // problem (PATCH moves it); coercing it here would be a guess.
            continue;
        }
        if let Some(mut v) = map.remove(&key) {
            coerce_attribute(&mut v, found.attribute);
            map.insert(found.attribute.name.to_string(), v);
        }
    }
}

/// Coerces each known key of a complex value and renames it canonically.
pub fn coerce_object(map: &mut Map<String, Value>, attrs: &[Attribute]) {
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let Some(def) = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(&key)) else {
            continue;
        };
        if let Some(mut v) = map.remove(&key) {
            coerce_attribute(&mut v, def);
            map.insert(def.name.to_string(), v);
        }
    }
}

/// Coerces one attribute's value:
/// - `"True"`/`"false"` (any case) to booleans for boolean attributes;
/// - integer strings to numbers for integer attributes, decimal strings for
///   decimal ones;
/// - a plain string for a complex attribute with a `value` sub-attribute
///   (Entra's manager) to `{"value": s}`;
/// - a one-element array for a single-valued complex attribute (Entra's
///   documented `manager: [{"$ref":…,"value":…}]`) to that element;
/// - a lone object for a multi-valued attribute to a one-element array;
/// - recursively, each element and sub-attribute.
pub fn coerce_attribute(value: &mut Value, attr: &Attribute) {
    if attr.multi_valued {
        if value.is_object() {
            let single = value.take();
            *value = Value::Array(vec![single]);
        }
        if let Value::Array(items) = value {
            for item in items {
                coerce_single(item, attr);
            }
        } else {
            coerce_single(value, attr);
        }
    } else {
        if attr.is_complex()
            && let Value::Array(items) = value
            && items.len() == 1
        {
            let only = items.remove(0);
            *value = only;
        }
        coerce_single(value, attr);
    }
}

fn coerce_single(value: &mut Value, attr: &Attribute) {
    match attr.ty {
        AttrType::Boolean => {
            if let Some(b) = value.as_str().and_then(parse_bool) {
                *value = Value::Bool(b);
            }
        }
        AttrType::Integer => {
            if let Some(n) = value.as_str().and_then(|s| s.trim().parse::<i64>().ok()) {
                *value = Value::from(n);
            }
        }
        AttrType::Decimal => {
            if let Some(n) = value
                .as_str()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .and_then(serde_json::Number::from_f64)
            {
                *value = Value::Number(n);
            }
        }
        AttrType::Complex => {
            if let Value::String(s) = value
                && attr.sub_attribute("value").is_some()
            {
                let mut m = Map::new();
                m.insert("value".into(), Value::String(std::mem::take(s)));
                *value = Value::Object(m);
            }
            if let Value::Object(m) = value {
                coerce_object(m, &attr.sub_attributes);
            }
        }
        _ => {}
    }
}

/// `"true"`/`"false"` in any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_access() {
        let mut m = json!({"userName": "a", "Emails": []})
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(get_ci(&m, "USERNAME"), Some(&json!("a")));
        assert_eq!(key_ci(&m, "emails").map(String::as_str), Some("Emails"));
        assert!(get_ci(&m, "nope").is_none());
        *get_ci_mut(&mut m, "username").unwrap() = json!("b");
        assert_eq!(m["userName"], "b");
        insert_ci(&mut m, "emails", json!([1]));
        assert!(!m.contains_key("Emails"));
        assert_eq!(m["emails"], json!([1]));
        assert_eq!(remove_ci(&mut m, "EMAILS"), Some(json!([1])));
        assert!(m.get("emails").is_none());
    }

    #[test]
    fn coerces_idp_values() {
        let rs = ResourceSchema::users();
        let mut u = json!({
            "UserName": "bob",
            "active": "True",
            "emails": [{"value": "a@b", "primary": "FALSE"}],
            "addresses": {"type": "work", "primary": "true"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
                "Manager": "m-1", "employeeNumber": "7"
            },
            "custom": "True"
        });
        coerce(&mut u, &rs);
        assert_eq!(u["userName"], "bob");
        assert!(u.get("UserName").is_none());
        assert_eq!(u["active"], true);
        assert_eq!(u["emails"][0]["primary"], false);
        assert_eq!(u["addresses"], json!([{"type": "work", "primary": true}]));
        let ext = &u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"];
        assert_eq!(ext["manager"], json!({"value": "m-1"}));
        // employeeNumber is a string attribute: left alone.
        assert_eq!(ext["employeeNumber"], "7");
        assert_eq!(u["custom"], "True");
    }

    #[test]
    fn manager_array_form_becomes_single_complex() {
        let rs = ResourceSchema::users();
        let mut u = json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "manager": [{"$ref": "http://x/Users/1", "value": "1"}]}});
        coerce(&mut u, &rs);
        assert_eq!(
            u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"],
            json!({"$ref": "http://x/Users/1", "value": "1"})
        );
    }

    #[test]
    fn integer_and_non_boolean_strings() {
        let a = Attribute::new("n", AttrType::Integer);
        let mut v = json!(" 42 ");
        coerce_attribute(&mut v, &a);
        assert_eq!(v, json!(42));
        let mut v = json!("4.2");
        coerce_attribute(&mut v, &a);
        assert_eq!(v, json!("4.2"));
        let b = Attribute::new("b", AttrType::Boolean);
        let mut v = json!("yes");
        coerce_attribute(&mut v, &b);
        assert_eq!(v, json!("yes"));
    }
}
