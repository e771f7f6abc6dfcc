//! Coercion of what IdPs actually send into the types the schema declares,
//! and validation of created and replaced resources.

use serde_json::{Map, Value};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ci::{get_ci, parse_bool};
use super::error::{ScimError, ScimType};
use super::schema::{AttrType, Attribute, ResourceSchema};

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
                coerce_element(item, attr);
            }
        } else {
            coerce_element(value, attr);
        }
    } else {
        if attr.is_complex()
            && let Value::Array(items) = value
            && items.len() == 1
        {
            let only = items.remove(0);
            *value = only;
        }
        coerce_element(value, attr);
    }
}

/// Coerces one value (one element, for a multi-valued attribute).
pub fn coerce_element(value: &mut Value, attr: &Attribute) {
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

/// Checks a (coerced) value against its definition; `whole` means the
/// value is the entire attribute, so a multi-valued one may be an array.
pub fn check_value(v: &Value, def: &Attribute, whole: bool, name: &str) -> Result<(), ScimError> {
    if v.is_null() {
        return Ok(());
    }
    if whole && def.multi_valued {
        if let Value::Array(items) = v {
            return items
                .iter()
                .try_for_each(|i| check_value(i, def, false, name));
        }
        return check_value(v, def, false, name);
    }
    let ok = match def.ty {
        AttrType::String | AttrType::Reference | AttrType::Binary => v.is_string(),
        AttrType::DateTime => v
            .as_str()
            .is_some_and(|s| OffsetDateTime::parse(s, &Rfc3339).is_ok()),
        AttrType::Boolean => v.is_boolean(),
        AttrType::Integer => v.is_i64() || v.is_u64(),
        AttrType::Decimal => v.is_number(),
        AttrType::Complex => match v.as_object() {
            Some(obj) => {
                for (k, sv) in obj {
                    if let Some(sd) = def.sub_attribute(k) {
                        check_value(sv, sd, true, &format!("{name}.{}", sd.name))?;
                    }
                }
                true
            }
            None => false,
        },
    };
    if ok {
        Ok(())
    } else {
        let expected = match def.ty {
            AttrType::Complex => "an object".to_string(),
            AttrType::DateTime => "an RFC 3339 dateTime string".to_string(),
            t => format!("a {}", t.as_str()),
        };
        Err(ScimError::bad_request(
            ScimType::InvalidValue,
            format!("\"{name}\" must be {expected}, got {v}"),
        ))
    }
}

/// Validates a (coerced) resource body for create/replace: required
/// attributes present and non-empty (RFC 7643 §2.2), known attributes of
/// their declared types. Read-only attributes are not rejected: RFC 7644
/// §3.3 says the server ignores them on create.
pub fn validate(resource: &Value, schema: &ResourceSchema) -> Result<(), ScimError> {
    let Some(map) = resource.as_object() else {
        return Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            "a resource must be a JSON object",
        ));
    };
    let missing = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        _ => false,
    };
    for a in schema.core.attributes.iter().filter(|a| a.required) {
        if missing(get_ci(map, a.name)) {
            return Err(ScimError::bad_request(
                ScimType::InvalidValue,
                format!("\"{}\" is required", a.name),
            ));
        }
    }
    for (key, v) in map {
        if let Some(ext) = schema.extension(key) {
            if let Some(obj) = v.as_object() {
                for (k, sv) in obj {
                    if let Some(def) = ext.attribute(k) {
                        check_value(sv, def, true, def.name)?;
                    }
                }
            } else if !v.is_null() {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("\"{}\" must be an object", ext.id),
                ));
            }
        } else if let Some(found) = schema.top_level(None, key)
            && found.extension.is_none()
        {
            check_value(v, found.attribute, true, found.attribute.name)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn validates_created_resources() {
        let rs = ResourceSchema::users();
        let mut ok = json!({"userName": "a", "active": "true", "emails": [{"value": "x", "primary": true}],
                            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m"}});
        coerce(&mut ok, &rs);
        assert_eq!(validate(&ok, &rs), Ok(()));
        for bad in [
            json!({"displayName": "no userName"}),
            json!({"userName": ""}),
            json!({"userName": "a", "active": "maybe"}),
            json!({"userName": "a", "name": "x"}),
            json!({"userName": "a", "emails": [{"value": 1}]}),
            json!({"userName": "a", "meta": {"created": "yesterday"}}),
            json!({"userName": "a", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}),
        ] {
            let e = validate(&bad, &rs).expect_err(&bad.to_string());
            assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{bad}");
        }
        assert!(validate(&json!({"displayName": "g"}), &ResourceSchema::groups()).is_ok());
        assert!(validate(&json!({"members": []}), &ResourceSchema::groups()).is_err());
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
