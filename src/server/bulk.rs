//! Bulk operations (RFC 7644 §3.7).
//!
//! Operations run in request order, except that an operation referring to
//! `bulkId:<id>` (in its `data` values or its `path`) waits until the
//! operation with that `bulkId` has created its resource. References that
//! never resolve (unknown bulkId, a failed creation, or a circular chain)
//! fail that operation with 409 Conflict, as §3.7.1 allows. `failOnErrors`
//! stops processing once that many operations have failed; unprocessed
//! operations are left out of the response.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use crate::scim::error::{ScimError, ScimType};
use crate::scim::urn;

use super::store::{Kind, Store, get_ci};

/// `bulk.maxOperations` of the ServiceProviderConfig.
pub(crate) const MAX_OPERATIONS: usize = 1000;
/// `bulk.maxPayloadSize` of the ServiceProviderConfig, in bytes; also the
/// limit for every other request body.
pub(crate) const MAX_PAYLOAD_SIZE: usize = 1_048_576;

const BULK_PREFIX: &str = "bulkId:";

struct Operation {
    method: String,
    bulk_id: Option<String>,
    version: Option<String>,
    path: String,
    data: Option<Value>,
}

impl Operation {
    fn parse(value: &Value) -> Result<Self, ScimError> {
        let obj = value.as_object().ok_or_else(|| {
            ScimError::bad_request(ScimType::InvalidSyntax, "each operation must be an object")
        })?;
        let string = |k: &str| get_ci(obj, k).and_then(Value::as_str).map(str::to_string);
        let method = string("method")
            .ok_or_else(|| {
                ScimError::bad_request(ScimType::InvalidSyntax, "operation without a method")
            })?
            .to_ascii_uppercase();
        let path = string("path").ok_or_else(|| {
            ScimError::bad_request(ScimType::InvalidSyntax, "operation without a path")
        })?;
        Ok(Operation {
            method,
            bulk_id: string("bulkId"),
            version: string("version"),
            path,
            data: get_ci(obj, "data").cloned(),
        })
    }

    /// The bulkIds this operation refers to.
    fn references(&self) -> Vec<String> {
        let mut refs = Vec::new();
        for segment in self.path.split('/') {
            if let Some(id) = segment.strip_prefix(BULK_PREFIX) {
                refs.push(id.to_string());
            }
        }
        if let Some(data) = &self.data {
            collect_refs(data, &mut refs);
        }
        refs.sort();
        refs.dedup();
        refs
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(BULK_PREFIX) {
                out.push(id.to_string());
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

fn substitute(value: &mut Value, ids: &HashMap<String, String>) {
    match value {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(BULK_PREFIX).and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| substitute(v, ids)),
        Value::Object(map) => map.values_mut().for_each(|v| substitute(v, ids)),
        _ => {}
    }
}

/// Processes a BulkRequest; returns the BulkResponse body.
pub(crate) fn run(store: &mut Store, body: &Value, base: &str) -> Result<Value, ScimError> {
    let obj = body.as_object().ok_or_else(|| {
        ScimError::bad_request(
            ScimType::InvalidSyntax,
            "a BulkRequest must be a JSON object",
        )
    })?;
    super::check_message_schema(obj, urn::BULK_REQUEST)?;
    let operations = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            ScimError::bad_request(
                ScimType::InvalidSyntax,
                "a BulkRequest needs an Operations array",
            )
        })?;
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::new(
            413,
            None,
            format!(
                "the bulk request has {} operations; maxOperations is {MAX_OPERATIONS}",
                operations.len()
            ),
        ));
    }
    let fail_on_errors = match get_ci(obj, "failOnErrors") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => Some(n as usize),
            _ => {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    "failOnErrors must be a positive integer",
                ));
            }
        },
    };
    let parsed: Vec<Result<Operation, ScimError>> =
        operations.iter().map(Operation::parse).collect();
    let mut seen = Vec::new();
    for op in parsed.iter().flatten() {
        if let Some(b) = &op.bulk_id {
            if seen.contains(b) {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("bulkId {b:?} is used by more than one operation"),
                ));
            }
            seen.push(b.clone());
        }
    }

    let mut results: Vec<Option<Value>> = vec![None; parsed.len()];
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut failed_bulk_ids: Vec<String> = Vec::new();
    let mut pending: Vec<usize> = (0..parsed.len()).collect();
    let mut errors = 0usize;
    let mut stopped = false;
    while !pending.is_empty() && !stopped {
        let mut progressed = false;
        let mut still_pending = Vec::new();
        for &i in &pending {
            if stopped {
                break;
            }
            let outcome = match &parsed[i] {
                Err(e) => Some(op_error(None, None, e)),
                Ok(op) => {
                    let refs = op.references();
                    let unresolvable = refs
                        .iter()
                        .find(|r| !seen.contains(r) || failed_bulk_ids.contains(r));
                    if let Some(r) = unresolvable {
                        Some(op_error(
                            Some(op),
                            None,
                            &ScimError::new(
                                409,
                                None,
                                format!("bulkId {r:?} does not refer to a created resource"),
                            ),
                        ))
                    } else if refs.iter().all(|r| ids.contains_key(r)) {
                        Some(execute(store, op, &ids, base))
                    } else {
                        None
                    }
                }
            };
            match outcome {
                None => still_pending.push(i),
                Some(result) => {
                    progressed = true;
                    let ok = result.status < 400;
                    if let Ok(op) = &parsed[i]
                        && let Some(b) = &op.bulk_id
                    {
                        match (&result.id, ok) {
                            (Some(id), true) => {
                                ids.insert(b.clone(), id.clone());
                            }
                            _ => failed_bulk_ids.push(b.clone()),
                        }
                    }
                    results[i] = Some(result.body);
                    if !ok {
                        errors += 1;
                        if fail_on_errors.is_some_and(|limit| errors >= limit) {
                            stopped = true;
                        }
                    }
                }
            }
        }
        pending = still_pending;
        if !progressed {
            // Every remaining operation waits on another: a circular chain.
            for &i in &pending {
                if let Ok(op) = &parsed[i] {
                    results[i] = Some(
                        op_error(
                            Some(op),
                            None,
                            &ScimError::new(
                                409,
                                None,
                                "circular bulkId references could not be resolved",
                            ),
                        )
                        .body,
                    );
                }
            }
            break;
        }
    }
    Ok(json!({
        "schemas": [urn::BULK_RESPONSE],
        "Operations": results.into_iter().flatten().collect::<Vec<_>>(),
    }))
}

struct OpResult {
    status: u16,
    id: Option<String>,
    body: Value,
}

fn op_error(op: Option<&Operation>, location: Option<String>, e: &ScimError) -> OpResult {
    let mut body = Map::new();
    if let Some(op) = op {
        body.insert("method".into(), json!(op.method));
        if let Some(b) = &op.bulk_id {
            body.insert("bulkId".into(), json!(b));
        }
    }
    if let Some(l) = location {
        body.insert("location".into(), json!(l));
    }
    body.insert("status".into(), json!(e.status.to_string()));
    body.insert("response".into(), e.to_json());
    OpResult {
        status: e.status,
        id: None,
        body: Value::Object(body),
    }
}

/// Parses `/Users`, `/Groups/{id}` (a leading slash optional).
fn target(path: &str) -> Option<(Kind, Option<&str>)> {
    let mut segments = path.trim_matches('/').split('/');
    let endpoint = segments.next()?;
    let kind = Kind::ALL
        .into_iter()
        .find(|k| k.endpoint().eq_ignore_ascii_case(endpoint))?;
    let id = segments.next().filter(|s| !s.is_empty());
    if segments.next().is_some() {
        return None;
    }
    Some((kind, id))
}

fn execute(
    store: &mut Store,
    op: &Operation,
    ids: &HashMap<String, String>,
    base: &str,
) -> OpResult {
    let path: String = op
        .path
        .split('/')
        .map(|seg| {
            seg.strip_prefix(BULK_PREFIX)
                .and_then(|b| ids.get(b))
                .map_or(seg, String::as_str)
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("/");
    let mut data = op.data.clone();
    if let Some(d) = &mut data {
        substitute(d, ids);
    }
    let Some((kind, id)) = target(&path) else {
        return op_error(
            Some(op),
            None,
            &ScimError::bad_request(
                ScimType::InvalidPath,
                format!("unknown bulk path {:?}", op.path),
            ),
        );
    };
    let need_data = || {
        data.clone().ok_or_else(|| {
            ScimError::bad_request(ScimType::InvalidSyntax, format!("{} needs data", op.method))
        })
    };
    let version = op.version.as_deref();
    let outcome = match (op.method.as_str(), id) {
        ("POST", None) => {
            if op.bulk_id.is_none() {
                Err(ScimError::bad_request(
                    ScimType::InvalidSyntax,
                    "bulkId is required with POST",
                ))
            } else {
                need_data()
                    .and_then(|d| store.create(kind, d, base))
                    .map(|r| (201, Some(r)))
            }
        }
        ("PUT", Some(id)) => need_data()
            .and_then(|d| store.replace(kind, id, d, version, base))
            .map(|r| (200, Some(r))),
        ("PATCH", Some(id)) => need_data()
            .and_then(|d| store.patch(kind, id, &d, version, base))
            .map(|r| (200, Some(r))),
        ("DELETE", Some(id)) => store.delete(kind, id, version).map(|()| (204, None)),
        (m, _) => Err(ScimError::new(
            405,
            None,
            format!("method {m} is not allowed on bulk path {:?}", op.path),
        )),
    };
    match outcome {
        Ok((status, rendered)) => {
            let mut body = Map::new();
            body.insert("method".into(), json!(op.method));
            if let Some(b) = &op.bulk_id {
                body.insert("bulkId".into(), json!(b));
            }
            let location = match (&rendered, id) {
                (Some(r), _) => Some(r.location.clone()),
                (None, Some(id)) => Some(format!("{base}/{}/{id}", kind.endpoint())),
                (None, None) => None,
            };
            if let Some(l) = location {
                body.insert("location".into(), json!(l));
            }
            if let Some(r) = &rendered {
                body.insert("version".into(), json!(r.etag));
            }
            body.insert("status".into(), json!(status.to_string()));
            let new_id = rendered
                .as_ref()
                .and_then(|r| r.body["id"].as_str().map(str::to_string));
            OpResult {
                status,
                id: new_id,
                body: Value::Object(body),
            }
        }
        Err(e) => {
            let location = id.map(|id| format!("{base}/{}/{id}", kind.endpoint()));
            op_error(Some(op), location, &e)
        }
    }
}
