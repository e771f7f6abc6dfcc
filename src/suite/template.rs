//! `{{name}}` templates in suite strings and fixture string leaves.
//!
//! A string that is exactly one `{{name}}` takes the variable's JSON value
//! (so a captured number or object stays one); anywhere else the value is
//! spliced in as text. `{{uuid}}` is fresh at every use.

use std::collections::HashMap;

use serde_json::Value;

/// Names every suite may use without defining them.
pub const BUILTINS: [&str; 4] = ["prefix", "uuid", "base_url", "run_id"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed '{{{{' in {0:?}")]
    Unclosed(String),
    #[error("empty variable name '{{{{}}}}' in {0:?}")]
    Empty(String),
    #[error("undefined variable '{{{{{0}}}}}'")]
    Undefined(String),
}

/// Variables of one running suite.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: HashMap<String, Value>,
}

impl Vars {
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<Value> {
        if name == "uuid" {
            return Some(Value::String(uuid::Uuid::new_v4().to_string()));
        }
        self.values.get(name).cloned()
    }

    /// Renders a string; see the module docs for when the result is not a string.
    pub fn render(&self, s: &str) -> Result<Value, TemplateError> {
        let parts = parse(s)?;
        if let [Part::Var(name)] = parts.as_slice() {
            return self
                .get(name)
                .ok_or_else(|| TemplateError::Undefined(name.to_string()));
        }
        let mut out = String::with_capacity(s.len());
        for part in parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Var(name) => {
                    let v = self
                        .get(name)
                        .ok_or_else(|| TemplateError::Undefined(name.to_string()))?;
                    out.push_str(&as_text(&v));
                }
            }
        }
        Ok(Value::String(out))
    }

    /// Renders a string and always gives text (for paths, headers, queries).
    pub fn render_text(&self, s: &str) -> Result<String, TemplateError> {
        Ok(as_text(&self.render(s)?))
    }

    /// Renders every string leaf (and object key) of a JSON value.
    pub fn render_value(&self, v: &Value) -> Result<Value, TemplateError> {
        Ok(match v {
            Value::String(s) => self.render(s)?,
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| self.render_value(i))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (k, v) in map {
                    out.insert(self.render_text(k)?, self.render_value(v)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }
}

/// A value as it reads inside a larger string.
pub fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

enum Part<'a> {
    Text(&'a str),
    Var(&'a str),
}

fn parse(s: &str) -> Result<Vec<Part<'_>>, TemplateError> {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| TemplateError::Unclosed(s.to_string()))?;
        let name = after[..end].trim();
        if name.is_empty() {
            return Err(TemplateError::Empty(s.to_string()));
        }
        parts.push(Part::Var(name));
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Ok(parts)
}

/// The variable names a string refers to (for checking a suite before it runs).
pub fn references(s: &str) -> Result<Vec<String>, TemplateError> {
    Ok(parse(s)?
        .into_iter()
        .filter_map(|p| match p {
            Part::Var(n) => Some(n.to_string()),
            Part::Text(_) => None,
        })
        .collect())
}

/// The variable names used anywhere in a JSON value (keys included).
pub fn value_references(v: &Value, out: &mut Vec<String>) -> Result<(), TemplateError> {
    match v {
        Value::String(s) => out.extend(references(s)?),
        Value::Array(items) => {
            for i in items {
                value_references(i, out)?;
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                out.extend(references(k)?);
                value_references(v, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.set("name", json!("ada"));
        v.set("n", json!(3));
        v.set("obj", json!({"value": "x"}));
        v
    }

    #[test]
    fn splices_text_and_keeps_whole_values() {
        let v = vars();
        assert_eq!(
            v.render("{{name}}@example.com").unwrap(),
            json!("ada@example.com")
        );
        assert_eq!(v.render("{{ n }}").unwrap(), json!(3));
        assert_eq!(v.render("count={{n}}").unwrap(), json!("count=3"));
        assert_eq!(v.render("{{obj}}").unwrap(), json!({"value": "x"}));
        assert_eq!(v.render("no templates").unwrap(), json!("no templates"));
    }

    #[test]
    fn renders_nested_values_and_keys() {
        let v = vars();
        let out = v
            .render_value(&json!({"a": ["{{name}}", 1, {"{{name}}": "{{n}}"}]}))
            .unwrap();
        assert_eq!(out, json!({"a": ["ada", 1, {"ada": 3}]}));
    }

    #[test]
    fn uuid_is_fresh_each_time() {
        let v = Vars::default();
        let a = v.render_text("{{uuid}}").unwrap();
        let b = v.render_text("{{uuid}}").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
    }

    #[test]
    fn errors_name_the_problem() {
        let v = vars();
        assert_eq!(
            v.render("{{missing}}").unwrap_err(),
            TemplateError::Undefined("missing".into())
        );
        assert!(matches!(
            v.render("{{name"),
            Err(TemplateError::Unclosed(_))
        ));
        assert!(matches!(v.render("{{ }}"), Err(TemplateError::Empty(_))));
        assert_eq!(references("a{{x}}b{{ y }}").unwrap(), vec!["x", "y"]);
    }
}
