//! Case-insensitive access to JSON objects: RFC 7643 §2.1 makes attribute
//! names case-insensitive, and IdPs write booleans as strings in any case.
//! Everything else in `scim` builds on these, so this module imports nothing
//! of the crate.

use serde_json::{Map, Value};

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
    fn booleans_in_any_case() {
        assert_eq!(parse_bool(" TRUE "), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
