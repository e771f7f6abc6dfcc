//! PATCH application (RFC 7644 §3.5.2), liberal in what Entra ID and Okta
//! send (see `/work/shared/reference/idp-traffic.md`): any-case `op`s and
//! `Operations`, string booleans, dotted and URN keys in pathless values,
//! the manager as a string or one-element array, value-path upserts, and
//! member removal by a `value` list.
//!
//! Operations apply to a copy; the resource changes only if all succeed
//! ("the entire request fails", RFC 7644 §3.5.2).

use serde_json::{Map, Value};

use super::ci::{get_ci, insert_ci, key_ci, remove_ci, value_get_ci};
use super::coerce::{check_value, coerce_attribute, coerce_element};
use super::error::{ScimError, ScimType};
use super::schema::{Attribute, Located, Mutability, ResourceSchema, Schema};
use super::syntax::{AttrPath, CompareOp, Filter, parse_path};
use super::urn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Remove => "remove",
            OpKind::Replace => "replace",
        }
    }
}

/// One entry of `Operations`, validated but not yet applied.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: OpKind,
    pub path: Option<String>,
    /// `None` when the key is absent; `Some(Value::Null)` when sent as null.
    pub value: Option<Value>,
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidSyntax, detail)
}
fn invalid_value(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidValue, detail)
}
fn invalid_path(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::InvalidPath, detail)
}
fn no_target(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::NoTarget, detail)
}
fn mutability(detail: impl Into<String>) -> ScimError {
    ScimError::bad_request(ScimType::Mutability, detail)
}

/// Validates a PatchOp body: `schemas` (if present) must list the PatchOp
/// URN; `Operations` (any case) must be an array of objects whose `op` is
/// add/remove/replace in any case.
pub fn parse_operations(body: &Value) -> Result<Vec<PatchOperation>, ScimError> {
    let Some(obj) = body.as_object() else {
        return Err(syntax("PATCH body must be a JSON object"));
    };
    if let Some(schemas) = get_ci(obj, "schemas") {
        let listed = schemas.as_array().is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(urn::PATCH_OP))
            })
        });
        if !listed {
            return Err(syntax(format!(
                "schemas must contain \"{}\"",
                urn::PATCH_OP
            )));
        }
    }
    let Some(ops) = get_ci(obj, "Operations") else {
        return Err(syntax("PATCH body has no \"Operations\""));
    };
    let Some(ops) = ops.as_array() else {
        return Err(syntax("\"Operations\" must be an array"));
    };
    ops.iter()
        .enumerate()
        .map(|(i, o)| {
            let n = i + 1;
            let Some(o) = o.as_object() else {
                return Err(syntax(format!("operation {n} is not an object")));
            };
            let op = match get_ci(o, "op").and_then(Value::as_str) {
                Some(s) if s.eq_ignore_ascii_case("add") => OpKind::Add,
                Some(s) if s.eq_ignore_ascii_case("remove") => OpKind::Remove,
                Some(s) if s.eq_ignore_ascii_case("replace") => OpKind::Replace,
                Some(s) => {
                    return Err(syntax(format!(
                        "operation {n}: op \"{s}\" is not add, remove or replace"
                    )));
                }
                None => return Err(syntax(format!("operation {n} has no \"op\""))),
            };
            let path = match get_ci(o, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    return Err(invalid_path(format!(
                        "operation {n}: path must be a string"
                    )));
                }
            };
            Ok(PatchOperation {
                op,
                path,
                value: get_ci(o, "value").cloned(),
            })
        })
        .collect()
}

/// Applies a PatchOp body to `resource`. On error `resource` is unchanged.
pub fn apply(
    resource: &mut Value,
    patch_body: &Value,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let ops = parse_operations(patch_body)?;
    let Some(current) = resource.as_object() else {
        return Err(ScimError::new(500, None, "resource is not a JSON object"));
    };
    let mut work = current.clone();
    for (i, op) in ops.iter().enumerate() {
        apply_operation(&mut work, op, schema).map_err(|e| {
            let what = match &op.path {
                Some(p) => format!("{} {p}", op.op.as_str()),
                None => op.op.as_str().to_string(),
            };
            ScimError::new(
                e.status,
                e.scim_type,
                format!("operation {} ({what}): {}", i + 1, e.detail),
            )
        })?;
    }
    tidy_extensions(&mut work, schema);
    *resource = Value::Object(work);
    Ok(())
}

/// Applies one operation to a resource object.
pub fn apply_operation(
    res: &mut Map<String, Value>,
    op: &PatchOperation,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let value = op.value.as_ref();
    let Some(p) = op.path.as_deref().map(str::trim) else {
        return match op.op {
            OpKind::Remove => Err(no_target("remove requires a path")),
            _ => {
                let v = value
                    .ok_or_else(|| invalid_value("add and replace without a path need a value"))?;
                apply_pathless(res, op.op, v, schema, None)
            }
        };
    };
    // A path that is an extension URN addresses the whole extension object.
    if let Some(ext) = schema.extension(p) {
        return match op.op {
            OpKind::Remove => {
                remove_ci(res, ext.id);
                Ok(())
            }
            _ => match value {
                Some(v) => apply_pathless(res, op.op, v, schema, Some(ext)),
                None => Err(invalid_value("add and replace need a value")),
            },
        };
    }
    let path = parse_path(p)?;
    apply_path(res, op.op, &path, value, schema)
}

/// Add/replace without a path: each key of `value` is an attribute path
/// (plain, dotted, URN-qualified) or an extension URN holding an object.
fn apply_pathless(
    res: &mut Map<String, Value>,
    kind: OpKind,
    value: &Value,
    schema: &ResourceSchema,
    within: Option<&'static Schema>,
) -> Result<(), ScimError> {
    let Some(obj) = value.as_object() else {
        return Err(invalid_value(
            "without a path, value must be an object of attributes",
        ));
    };
    for (key, v) in obj {
        if within.is_none()
            && let Some(ext) = schema.extension(key)
        {
            if v.is_null() {
                if kind == OpKind::Replace {
                    remove_ci(res, ext.id);
                }
                continue;
            }
            apply_pathless(res, kind, v, schema, Some(ext))?;
            continue;
        }
        // `schemas` is managed here (tidy_extensions), not by clients. Some
        // clients (scim2-models) also put it inside an extension's object.
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let full = match within {
            Some(ext) => format!("{}:{key}", ext.id),
            None => key.clone(),
        };
        let path = parse_path(&full)?;
        apply_path(res, kind, &path, Some(v), schema)?;
    }
    Ok(())
}

/// Takes the extension object (or the resource itself) out, applies `f`,
/// and puts it back under its canonical URN.
fn in_container<R>(
    res: &mut Map<String, Value>,
    ext: Option<&'static Schema>,
    f: impl FnOnce(&mut Map<String, Value>) -> Result<R, ScimError>,
) -> Result<R, ScimError> {
    match ext {
        None => f(res),
        Some(ext) => {
            let mut obj = match remove_ci(res, ext.id) {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            let out = f(&mut obj);
            res.insert(ext.id.to_string(), Value::Object(obj));
            out
        }
    }
}

fn apply_path(
    res: &mut Map<String, Value>,
    kind: OpKind,
    path: &AttrPath,
    value: Option<&Value>,
    schema: &ResourceSchema,
) -> Result<(), ScimError> {
    let Some(loc) = schema.locate(path) else {
        return Err(invalid_path(format!(
            "no attribute \"{path}\" in this resource's schemas"
        )));
    };
    if path.value_filter.is_some() && !loc.attribute.multi_valued {
        return Err(invalid_path(format!(
            "\"{}\" is not multi-valued, so it takes no value filter",
            loc.attribute.name
        )));
    }
    if skip_for_mutability(res, kind, path, &loc, value)? {
        return Ok(());
    }
    let top = loc.attribute;
    if kind == OpKind::Remove {
        return in_container(res, loc.extension, |c| {
            remove(c, top, loc.sub_attribute, path, value)
        });
    }
    let Some(value) = value else {
        return Err(invalid_value(format!("{} needs a value", kind.as_str())));
    };
    if value.is_null() {
        // null means "unassigned" (RFC 7643 §2.5): replace with null clears;
        // add of nothing changes nothing.
        if kind == OpKind::Replace {
            return in_container(res, loc.extension, |c| {
                match remove(c, top, loc.sub_attribute, path, None) {
                    Err(e) if e.scim_type == Some(ScimType::NoTarget) => Ok(()),
                    other => other,
                }
            });
        }
        return Ok(());
    }
    in_container(res, loc.extension, |c| {
        match (&path.value_filter, loc.sub_attribute) {
            (None, None) => {
                let mut v = value.clone();
                coerce_attribute(&mut v, top);
                strip_nulls(&mut v);
                check_value(&v, top, true, top.name)?;
                set_attribute(c, top, kind, v);
                Ok(())
            }
            (None, Some(sub)) => {
                let v = coerced(value, sub)?;
                set_sub_attribute(c, top, sub, v);
                Ok(())
            }
            (Some(filter), sub) => upsert_filtered(c, kind, top, filter, sub, value),
        }
    })
}

fn coerced(value: &Value, def: &'static Attribute) -> Result<Value, ScimError> {
    let mut v = value.clone();
    coerce_attribute(&mut v, def);
    strip_nulls(&mut v);
    check_value(&v, def, true, def.name)?;
    Ok(v)
}

/// Read-only attributes may not be written; `id` set to its current value
/// is skipped (Okta's group rename sends it). Returns true to skip.
fn skip_for_mutability(
    res: &Map<String, Value>,
    kind: OpKind,
    path: &AttrPath,
    loc: &Located,
    value: Option<&Value>,
) -> Result<bool, ScimError> {
    let def = loc.sub_attribute.unwrap_or(loc.attribute);
    if loc.attribute.mutability == Mutability::ReadOnly || def.mutability == Mutability::ReadOnly {
        if loc.extension.is_none()
            && path.is("id")
            && kind != OpKind::Remove
            && value.is_some()
            && value == get_ci(res, "id")
        {
            return Ok(true);
        }
        return Err(mutability(format!("\"{path}\" is readOnly")));
    }
    // Immutable sub-attributes (members[].value) may be added with their
    // element but not changed in place.
    if def.mutability == Mutability::Immutable && path.sub_attr.is_some() && kind != OpKind::Add {
        return Err(mutability(format!("\"{path}\" is immutable")));
    }
    Ok(false)
}

fn items_of(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn take_items(c: &mut Map<String, Value>, top: &Attribute) -> Vec<Value> {
    remove_ci(c, top.name).map(items_of).unwrap_or_default()
}

fn put_items(c: &mut Map<String, Value>, top: &Attribute, items: Vec<Value>) {
    if !items.is_empty() {
        c.insert(top.name.to_string(), Value::Array(items));
    }
}

/// Two elements of a multi-valued attribute are the same value when their
/// `value`s are equal and their `type`s do not differ; otherwise only when
/// identical.
fn same_element(a: &Value, b: &Value) -> bool {
    if a == b {
        return true;
    }
    match (value_get_ci(a, "value"), value_get_ci(b, "value")) {
        (Some(x), Some(y)) if x == y => match (value_get_ci(a, "type"), value_get_ci(b, "type")) {
            (Some(Value::String(s)), Some(Value::String(t))) => s.eq_ignore_ascii_case(t),
            _ => true,
        },
        _ => false,
    }
}

/// At most one element may be `primary: true` (RFC 7643 §2.4); a value the
/// operation touched wins.
fn fix_primary(items: &mut [Value], touched: &[usize]) {
    let is_primary = |v: &Value| value_get_ci(v, "primary") == Some(&Value::Bool(true));
    let keep = touched
        .iter()
        .rev()
        .copied()
        .find(|&i| items.get(i).is_some_and(is_primary))
        .or_else(|| items.iter().rposition(is_primary));
    if let Some(keep) = keep {
        for (i, item) in items.iter_mut().enumerate() {
            if i != keep
                && let Some(obj) = item.as_object_mut()
                && get_ci(obj, "primary") == Some(&Value::Bool(true))
            {
                insert_ci(obj, "primary", Value::Bool(false));
            }
        }
    }
}

fn merge_into(target: &mut Map<String, Value>, from: Map<String, Value>) {
    for (k, v) in from {
        insert_ci(target, &k, v);
    }
}

/// add/replace of a whole attribute.
fn set_attribute(c: &mut Map<String, Value>, top: &Attribute, kind: OpKind, v: Value) {
    if top.multi_valued {
        let new = items_of(v);
        let mut items = if kind == OpKind::Add {
            take_items(c, top)
        } else {
            remove_ci(c, top.name);
            Vec::new()
        };
        let mut touched = Vec::new();
        for el in new {
            match items.iter().position(|old| same_element(old, &el)) {
                Some(i) => {
                    if let (Some(old), Value::Object(new)) = (items[i].as_object_mut(), el) {
                        merge_into(old, new);
                    }
                    touched.push(i);
                }
                None => {
                    items.push(el);
                    touched.push(items.len() - 1);
                }
            }
        }
        fix_primary(&mut items, &touched);
        put_items(c, top, items);
        return;
    }
    let existing = remove_ci(c, top.name);
    let new = match (existing, v) {
        // A complex value carrying its own `value` (the manager) is a new
        // reference, not a patch of the old one: merging would pair the new
        // id with the old $ref.
        (Some(Value::Object(mut old)), Value::Object(new))
            if top.is_complex() && get_ci(&new, "value").is_none() =>
        {
            merge_into(&mut old, new);
            Value::Object(old)
        }
        (_, v) => v,
    };
    if !matches!(&new, Value::Object(m) if m.is_empty()) {
        c.insert(top.name.to_string(), new);
    }
}

/// add/replace of `attr.sub` (no filter): on a multi-valued attribute every
/// element gets it (RFC 7644 §3.5.2.3); with no element, one is created.
fn set_sub_attribute(c: &mut Map<String, Value>, top: &Attribute, sub: &Attribute, v: Value) {
    if top.multi_valued {
        let mut items = take_items(c, top);
        if items.is_empty() {
            let mut el = Map::new();
            el.insert(sub.name.to_string(), v);
            items.push(Value::Object(el));
        } else {
            for item in items.iter_mut() {
                if let Some(obj) = item.as_object_mut() {
                    insert_ci(obj, sub.name, v.clone());
                }
            }
        }
        put_items(c, top, items);
    } else {
        let mut obj = match remove_ci(c, top.name) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        insert_ci(&mut obj, sub.name, v);
        c.insert(top.name.to_string(), Value::Object(obj));
    }
}

/// The element a value filter describes, when it pins sub-attributes with
/// `eq` (`type eq "work"`, `type eq "work" and primary eq true`): what
/// Entra expects created when no element matches yet.
fn seed_from_filter(f: &Filter, top: &Attribute) -> Option<Map<String, Value>> {
    match f {
        Filter::Compare(p, CompareOp::Eq, lit)
            if p.urn.is_none()
                && p.sub_attr.is_none()
                && p.value_filter.is_none()
                && !lit.is_null() =>
        {
            let name = top
                .sub_attribute(&p.attr)
                .map_or(p.attr.as_str(), |d| d.name);
            let mut m = Map::new();
            let mut v = lit.clone();
            if let Some(d) = top.sub_attribute(&p.attr) {
                coerce_element(&mut v, d);
            }
            m.insert(name.to_string(), v);
            Some(m)
        }
        Filter::And(parts) => {
            let mut m = Map::new();
            for part in parts {
                merge_into(&mut m, seed_from_filter(part, top)?);
            }
            Some(m)
        }
        _ => None,
    }
}

/// add/replace on `attr[filter]` or `attr[filter].sub`: update every
/// matching element, or create one from the filter when none matches
/// (Entra's `emails[type eq "work"].value`, addresses sent field by field).
fn upsert_filtered(
    c: &mut Map<String, Value>,
    kind: OpKind,
    top: &'static Attribute,
    filter: &Filter,
    sub: Option<&'static Attribute>,
    value: &Value,
) -> Result<(), ScimError> {
    let v = match sub {
        Some(sd) => coerced(value, sd)?,
        None => {
            let mut v = value.clone();
            coerce_element(&mut v, top);
            strip_nulls(&mut v);
            check_value(&v, top, false, top.name)?;
            v
        }
    };
    let mut items = take_items(c, top);
    let matched: Vec<usize> = items
        .iter()
        .enumerate()
        .filter(|(_, el)| filter.matches_element(el, Some(top)))
        .map(|(i, _)| i)
        .collect();
    let seed = seed_from_filter(filter, top);
    let mut touched = matched.clone();
    if matched.is_empty() {
        let Some(mut el) = seed else {
            put_items(c, top, items);
            return Err(no_target(format!(
                "no value of \"{}\" matches [{filter}], and the filter does not describe one to create",
                top.name
            )));
        };
        match (sub, v) {
            (Some(sd), v) => {
                el.insert(sd.name.to_string(), v);
            }
            (None, Value::Object(m)) => merge_into(&mut el, m),
            (None, _) => {
                put_items(c, top, items);
                return Err(invalid_value(format!(
                    "\"{}\" elements are objects",
                    top.name
                )));
            }
        }
        items.push(Value::Object(el));
        touched.push(items.len() - 1);
    } else {
        for &i in &matched {
            let Some(obj) = items[i].as_object_mut() else {
                continue;
            };
            match (sub, &v) {
                (Some(sd), v) => insert_ci(obj, sd.name, v.clone()),
                (None, Value::Object(m)) => {
                    if kind == OpKind::Replace {
                        // Replace the element, keeping what the filter pins.
                        let mut el = seed.clone().unwrap_or_default();
                        merge_into(&mut el, m.clone());
                        *obj = el;
                    } else {
                        merge_into(obj, m.clone());
                    }
                }
                (None, _) => {
                    put_items(c, top, items);
                    return Err(invalid_value(format!(
                        "\"{}\" elements are objects",
                        top.name
                    )));
                }
            }
        }
    }
    fix_primary(&mut items, &touched);
    put_items(c, top, items);
    Ok(())
}

fn remove(
    c: &mut Map<String, Value>,
    top: &'static Attribute,
    sub: Option<&'static Attribute>,
    path: &AttrPath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    match (&path.value_filter, sub) {
        (None, None) => {
            // Entra: `remove members` with a `value` list removes only those.
            if top.multi_valued
                && let Some(v) = value.filter(|v| !v.is_null())
            {
                let mut targets = v.clone();
                coerce_attribute(&mut targets, top);
                strip_nulls(&mut targets);
                let targets = items_of(targets);
                let mut items = take_items(c, top);
                items.retain(|el| {
                    !targets.iter().any(|t| match value_get_ci(t, "value") {
                        Some(tv) => value_get_ci(el, "value") == Some(tv),
                        None => el == t,
                    })
                });
                put_items(c, top, items);
                return Ok(());
            }
            if top.required {
                return Err(invalid_value(format!(
                    "\"{}\" is required and cannot be removed",
                    top.name
                )));
            }
            remove_ci(c, top.name);
            Ok(())
        }
        (None, Some(sd)) => {
            if sd.required {
                return Err(invalid_value(format!(
                    "\"{path}\" is required and cannot be removed"
                )));
            }
            match remove_ci(c, top.name) {
                Some(Value::Array(mut items)) => {
                    for el in items.iter_mut() {
                        if let Some(obj) = el.as_object_mut() {
                            remove_ci(obj, sd.name);
                        }
                    }
                    items.retain(|el| !matches!(el, Value::Object(m) if m.is_empty()));
                    put_items(c, top, items);
                }
                Some(Value::Object(mut obj)) => {
                    remove_ci(&mut obj, sd.name);
                    if !obj.is_empty() {
                        c.insert(top.name.to_string(), Value::Object(obj));
                    }
                }
                Some(other) => {
                    c.insert(top.name.to_string(), other);
                }
                None => {}
            }
            Ok(())
        }
        (Some(filter), sd) => {
            let mut items = take_items(c, top);
            let before = items.len();
            let mut hit = false;
            match sd {
                None => items.retain(|el| !filter.matches_element(el, Some(top))),
                Some(sd) => {
                    for el in items.iter_mut() {
                        if filter.matches_element(el, Some(top))
                            && let Some(obj) = el.as_object_mut()
                        {
                            hit = true;
                            remove_ci(obj, sd.name);
                        }
                    }
                }
            }
            hit |= items.len() != before;
            put_items(c, top, items);
            if hit {
                Ok(())
            } else {
                Err(no_target(format!(
                    "no value of \"{}\" matches [{filter}]",
                    top.name
                )))
            }
        }
    }
}

/// Drops null members of objects (null means unassigned, RFC 7643 §2.5),
/// e.g. Entra's `{"$ref": null, "value": "…"}`.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            m.values_mut().for_each(strip_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// Keeps `schemas` in step with the extension objects: a present, non-empty
/// extension is listed; an emptied one is dropped with its URN.
pub fn tidy_extensions(res: &mut Map<String, Value>, schema: &ResourceSchema) {
    for ext in &schema.extensions {
        let Some(key) = key_ci(res, ext.id).cloned() else {
            continue;
        };
        let empty = matches!(res.get(&key), Some(Value::Object(m)) if m.is_empty())
            || matches!(res.get(&key), Some(Value::Null));
        if empty {
            res.remove(&key);
        }
        let schemas = match remove_ci(res, "schemas") {
            Some(Value::Array(a)) => a,
            _ => vec![Value::String(schema.core.id.to_string())],
        };
        let mut schemas: Vec<Value> = schemas
            .into_iter()
            .filter(|s| !(empty && s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ext.id))))
            .collect();
        let listed = schemas
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(ext.id)));
        if !empty && !listed {
            schemas.push(Value::String(ext.id.to_string()));
        }
        res.insert("schemas".into(), Value::Array(schemas));
    }
}

#[cfg(test)]
mod tests;
