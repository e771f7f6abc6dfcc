//! Evaluation of the grammar in `syntax` against JSON resources: whether a
//! filter matches (RFC 7644 §3.4.2.2), what a path resolves to in a
//! resource, the filter checks the RFC asks of a server before it evaluates,
//! and the value ordering used by `sortBy` (RFC 7644 §3.4.2.3). Names resolve
//! through the schemas, case-insensitively.

use std::cmp::Ordering;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ci::{get_ci, parse_bool, value_get_ci};
use super::error::{ScimError, ScimType};
use super::schema::{AttrType, Attribute, ResourceSchema};
use super::syntax::{AttrPath, CompareOp, Filter};

/// What attribute names are resolved against: a whole resource, or one
/// element of a multi-valued complex attribute (inside `[...]`).
#[derive(Clone, Copy)]
enum Scope<'s> {
    Resource(&'s ResourceSchema),
    Complex(Option<&'static Attribute>),
}

struct Resolved<'v> {
    values: Vec<&'v Value>,
    attr: Option<&'static Attribute>,
}

fn push_flat<'v>(out: &mut Vec<&'v Value>, v: &'v Value) {
    match v {
        Value::Array(items) => out.extend(items.iter().filter(|x| !x.is_null())),
        Value::Null => {}
        other => out.push(other),
    }
}

fn resolve<'v>(node: &'v Value, path: &AttrPath, scope: Scope<'_>) -> Resolved<'v> {
    let (container, top_def): (Option<&'v Value>, Option<&'static Attribute>) = match scope {
        Scope::Resource(rs) => {
            let loc = rs.top_level(path.urn.as_deref(), &path.attr);
            let container = match (&path.urn, loc.and_then(|l| l.extension)) {
                (Some(u), _) if !u.eq_ignore_ascii_case(rs.core.id) => value_get_ci(node, u),
                (None, Some(ext)) => value_get_ci(node, ext.id),
                _ => Some(node),
            };
            (container, loc.map(|l| l.attribute))
        }
        Scope::Complex(parent) => (Some(node), parent.and_then(|p| p.sub_attribute(&path.attr))),
    };
    let mut values = Vec::new();
    if let Some(v) = container.and_then(|c| value_get_ci(c, &path.attr)) {
        push_flat(&mut values, v);
    }
    if let Some(vf) = &path.value_filter {
        values.retain(|el| vf.eval(el, Scope::Complex(top_def)));
    }
    match &path.sub_attr {
        Some(sub) => {
            let mut subs = Vec::new();
            for el in values {
                if let Some(v) = value_get_ci(el, sub) {
                    push_flat(&mut subs, v);
                }
            }
            Resolved {
                values: subs,
                attr: top_def.and_then(|d| d.sub_attribute(sub)),
            }
        }
        None => Resolved {
            values,
            attr: top_def,
        },
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(m) => m.values().any(is_present),
        _ => true,
    }
}

impl Filter {
    /// Checks the filter against the schema where RFC 7644 §3.4.2.2 asks for
    /// a failure rather than a result: `gt`, `ge`, `lt` and `le` on a Boolean
    /// or Binary attribute (or against a `true`/`false` literal) SHALL be
    /// 400 `invalidFilter`.
    pub fn check(&self, schema: &ResourceSchema) -> Result<(), ScimError> {
        self.check_in(Some(schema), None)
    }

    fn check_in(
        &self,
        schema: Option<&ResourceSchema>,
        parent: Option<&'static Attribute>,
    ) -> Result<(), ScimError> {
        // The definition a path names: from the schema at the top level,
        // from the parent's sub-attributes inside a value filter.
        let def = |path: &AttrPath| -> Option<&'static Attribute> {
            match schema {
                Some(rs) => rs.attribute(path),
                None => parent
                    .and_then(|p| p.sub_attribute(&path.attr))
                    .and_then(|a| match &path.sub_attr {
                        Some(sub) => a.sub_attribute(sub),
                        None => Some(a),
                    }),
            }
        };
        let inner = |path: &AttrPath| -> Result<(), ScimError> {
            match &path.value_filter {
                Some(vf) => {
                    let top = match schema {
                        Some(rs) => rs.locate(path).map(|l| l.attribute),
                        None => parent.and_then(|p| p.sub_attribute(&path.attr)),
                    };
                    vf.check_in(None, top)
                }
                None => Ok(()),
            }
        };
        match self {
            Filter::And(parts) | Filter::Or(parts) => {
                parts.iter().try_for_each(|p| p.check_in(schema, parent))
            }
            Filter::Not(f) => f.check_in(schema, parent),
            Filter::Present(path) | Filter::ValuePath(path) => inner(path),
            Filter::Compare(path, op, lit) => {
                inner(path)?;
                let ordering = matches!(
                    op,
                    CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
                );
                let unordered = lit.is_boolean()
                    || def(path)
                        .is_some_and(|d| matches!(d.ty, AttrType::Boolean | AttrType::Binary));
                if ordering && unordered {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidFilter,
                        format!(
                            "invalid filter: '{}' cannot compare the Boolean or Binary attribute {path}",
                            op.as_str()
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Does `resource` match this filter? Attribute names resolve against
    /// `schema` (case-insensitively, with or without URN prefix; extension
    /// attributes without URN resolve to their extension).
    pub fn matches(&self, resource: &Value, schema: &ResourceSchema) -> bool {
        self.eval(resource, Scope::Resource(schema))
    }

    /// Does one element of a multi-valued complex attribute match this
    /// filter (the `[...]` of a value path)? `parent` is that attribute's
    /// definition, used for sub-attribute types and case-exactness.
    pub fn matches_element(&self, element: &Value, parent: Option<&'static Attribute>) -> bool {
        self.eval(element, Scope::Complex(parent))
    }

    fn eval(&self, node: &Value, scope: Scope<'_>) -> bool {
        match self {
            Filter::And(parts) => parts.iter().all(|p| p.eval(node, scope)),
            Filter::Or(parts) => parts.iter().any(|p| p.eval(node, scope)),
            Filter::Not(inner) => !inner.eval(node, scope),
            Filter::Present(path) => resolve(node, path, scope)
                .values
                .iter()
                .any(|v| is_present(v)),
            Filter::ValuePath(path) => !resolve(node, path, scope).values.is_empty(),
            Filter::Compare(path, op, lit) => {
                let r = resolve(node, path, scope);
                let any = |op: CompareOp| r.values.iter().any(|v| test(v, op, lit, r.attr));
                match (op, lit) {
                    (CompareOp::Eq, Value::Null) => !r.values.iter().any(|v| is_present(v)),
                    (CompareOp::Ne, Value::Null) => r.values.iter().any(|v| is_present(v)),
                    // `ne` is the negation of `eq`, so a multi-valued
                    // attribute is "ne x" only when no value equals x.
                    (CompareOp::Ne, _) => !any(CompareOp::Eq),
                    (op, _) => any(*op),
                }
            }
        }
    }
}

fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// For a complex value, the value its `value` sub-attribute holds (RFC 7644
/// §3.4.2.2: `emails co "x"` compares against `emails.value`).
fn primary_value<'v>(
    v: &'v Value,
    attr: Option<&'static Attribute>,
) -> Option<(&'v Value, Option<&'static Attribute>)> {
    match v {
        Value::Object(m) => {
            let inner = get_ci(m, "value")?;
            let def = attr.and_then(|a| a.sub_attribute("value"));
            Some((inner, def))
        }
        other => Some((other, attr)),
    }
}

fn fold(s: &str, case_exact: bool) -> String {
    if case_exact {
        s.to_string()
    } else {
        s.to_lowercase()
    }
}

fn ord_test(ord: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn is_datetime(attr: Option<&Attribute>, a: &str, b: &str) -> Option<Ordering> {
    let declared = attr.map(|d| d.ty == AttrType::DateTime);
    if declared == Some(false) {
        return None;
    }
    // Unknown attributes are compared as instants only when both sides are
    // timestamps; declared dateTime attributes always try.
    let (x, y) = (parse_instant(a)?, parse_instant(b)?);
    Some(x.cmp(&y))
}

fn test(actual: &Value, op: CompareOp, lit: &Value, attr: Option<&'static Attribute>) -> bool {
    let Some((actual, attr)) = primary_value(actual, attr) else {
        return false;
    };
    match (actual, lit) {
        (Value::String(a), Value::String(b)) => {
            if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
                && let Some(ord) = is_datetime(attr, a, b)
            {
                return ord_test(ord, op);
            }
            let ce = attr.is_some_and(|d| d.case_exact);
            let (a, b) = (fold(a, ce), fold(b, ce));
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => ord_test(a.cmp(&b), op),
            }
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| ord_test(o, op)),
            _ => false,
        },
        (Value::Number(a), Value::String(b)) => match (a.as_f64(), b.trim().parse::<f64>().ok()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| ord_test(o, op)),
            _ => false,
        },
        (Value::Bool(a), Value::Bool(b)) => matches!(op, CompareOp::Eq) && a == b,
        (Value::Bool(a), Value::String(b)) => {
            matches!(op, CompareOp::Eq) && parse_bool(b) == Some(*a)
        }
        // A number literal against a string attribute (`employeeNumber eq 42`).
        (Value::String(_), Value::Number(n)) => {
            test(actual, op, &Value::String(n.to_string()), attr)
        }
        _ => false,
    }
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Bool(_) => 0,
        Value::Number(_) => 1,
        Value::String(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// Orders two attribute values for `sortBy` (RFC 7644 §3.4.2.3): strings
/// honour `caseExact`, dateTimes compare as instants, numbers numerically,
/// complex values by their `value`. `null` (missing) sorts after everything,
/// so missing values come last in ascending order.
pub fn compare_values(a: &Value, b: &Value, attr: Option<&Attribute>) -> Ordering {
    let a = match a {
        Value::Object(m) => get_ci(m, "value").unwrap_or(&Value::Null),
        other => other,
    };
    let b = match b {
        Value::Object(m) => get_ci(m, "value").unwrap_or(&Value::Null),
        other => other,
    };
    let attr = match attr {
        Some(d) if d.is_complex() => d.sub_attribute("value"),
        other => other,
    };
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            if let Some(o) = is_datetime(attr, x, y) {
                return o;
            }
            let ce = attr.is_some_and(|d| d.case_exact);
            fold(x, ce).cmp(&fold(y, ce))
        }
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

/// The value a resource sorts by for `sortBy=path`: for multi-valued
/// attributes the `primary` element if any, else the first (RFC 7644
/// §3.4.2.3). `Value::Null` when the resource has none.
pub fn sort_value(resource: &Value, path: &AttrPath, schema: &ResourceSchema) -> Value {
    let r = resolve(resource, path, Scope::Resource(schema));
    let chosen = r
        .values
        .iter()
        .find(|v| value_get_ci(v, "primary") == Some(&Value::Bool(true)))
        .or_else(|| r.values.first());
    match chosen {
        Some(Value::Object(m)) => get_ci(m, "value").cloned().unwrap_or(Value::Null),
        Some(v) => (*v).clone(),
        None => Value::Null,
    }
}

/// The attribute definition `sortBy=path` names, for [`compare_values`].
pub fn sort_attribute(path: &AttrPath, schema: &ResourceSchema) -> Option<&'static Attribute> {
    schema.attribute(path)
}

#[cfg(test)]
mod tests;
