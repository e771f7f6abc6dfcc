//! Listing: filter, sort and pagination (RFC 7644 §3.4.2, §3.4.3), from
//! query parameters or a SearchRequest body, answered as a ListResponse.

use serde_json::{Value, json};

use crate::scim::error::{ScimError, ScimType};
use crate::scim::urn;

use super::projection::Projection;
use super::scim_glue;
use super::store::{Kind, Store};

/// `filter.maxResults` of the ServiceProviderConfig: the largest page.
pub(crate) const MAX_RESULTS: usize = 1000;

#[derive(Debug, Clone, Default)]
pub(crate) struct ListQuery {
    filter: Option<String>,
    sort_by: Option<String>,
    descending: bool,
    start_index: usize,
    count: Option<usize>,
    pub(crate) projection: Projection,
}

/// A paging field: an integer, or a string holding one (query parameters
/// always are strings). RFC 7644 §3.4.2.4: values below 1 (startIndex) or
/// negative (count) are clamped, not rejected.
fn integer(name: &str, value: &Value) -> Result<i64, ScimError> {
    let parsed = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| {
        ScimError::bad_request(ScimType::InvalidValue, format!("{name} must be an integer"))
    })
}

impl ListQuery {
    /// From query parameters (names matched case-insensitively).
    pub(crate) fn from_params(params: &[(String, String)]) -> Result<Self, ScimError> {
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        };
        let object = serde_json::Map::from_iter(
            ["filter", "sortBy", "sortOrder", "startIndex", "count"]
                .iter()
                .filter_map(|n| get(n).map(|v| (n.to_string(), json!(v)))),
        );
        let mut q = Self::from_object(&Value::Object(object))?;
        q.projection = Projection::from_lists(get("attributes"), get("excludedAttributes"));
        Ok(q)
    }

    /// From a SearchRequest body (RFC 7644 §3.4.3).
    pub(crate) fn from_search_request(body: &Value) -> Result<Self, ScimError> {
        let Some(obj) = body.as_object() else {
            return Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                "a SearchRequest must be a JSON object",
            ));
        };
        super::check_message_schema(obj, urn::SEARCH_REQUEST)?;
        let mut q = Self::from_object(body)?;
        let get = |k: &str| super::store::get_ci(obj, k);
        q.projection = Projection::from_values(get("attributes"), get("excludedAttributes"));
        Ok(q)
    }

    fn from_object(body: &Value) -> Result<Self, ScimError> {
        let obj = body.as_object().cloned().unwrap_or_default();
        let get = |k: &str| super::store::get_ci(&obj, k).filter(|v| !v.is_null());
        let string = |k: &str| -> Result<Option<String>, ScimError> {
            match get(k) {
                None => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("{k} must be a string"),
                )),
            }
        };
        let descending = match string("sortOrder")? {
            None => false,
            Some(o) if o.eq_ignore_ascii_case("ascending") => false,
            Some(o) if o.eq_ignore_ascii_case("descending") => true,
            Some(o) => {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("sortOrder must be ascending or descending, not {o:?}"),
                ));
            }
        };
        let start_index = match get("startIndex") {
            Some(v) => integer("startIndex", v)?.max(1) as usize,
            None => 1,
        };
        let count = match get("count") {
            Some(v) => Some((integer("count", v)?.max(0) as usize).min(MAX_RESULTS)),
            None => None,
        };
        Ok(ListQuery {
            filter: string("filter")?,
            sort_by: string("sortBy")?,
            descending,
            start_index,
            count,
            projection: Projection::default(),
        })
    }

    /// Runs the query over the resources of `kinds` and builds the ListResponse.
    pub(crate) fn run(
        &self,
        store: &Store,
        kinds: &[Kind],
        base: &str,
    ) -> Result<Value, ScimError> {
        let filter = self
            .filter
            .as_deref()
            .map(|f| scim_glue::parse_filter(f, kinds))
            .transpose()?;
        if filter.is_none() && self.sort_by.is_none() {
            // Nothing to test or sort: render only the page, so paging
            // through a large store costs a page per request, not the store.
            let (skip, take) = (self.start_index - 1, self.count.unwrap_or(MAX_RESULTS));
            let (total, page) = match kinds {
                [kind] => store.page(*kind, skip, take),
                _ => {
                    let all = store.all(kinds);
                    let total = all.len();
                    (total, all.into_iter().skip(skip).take(take).collect())
                }
            };
            let resources: Vec<Value> = page
                .into_iter()
                .map(|(id, stored)| {
                    let r = store.render(id, stored, base);
                    let mut body = r.body;
                    self.projection.apply(r.kind, &mut body);
                    body
                })
                .collect();
            return Ok(list_response(total, self.start_index, resources));
        }
        let candidates = match &filter {
            Some(f) => store
                .candidates(kinds, f)
                .unwrap_or_else(|| store.all(kinds)),
            None => store.all(kinds),
        };
        let mut matched = Vec::new();
        for (id, stored) in candidates {
            let rendered = store.render(id, stored, base);
            let keep = match &filter {
                Some(f) => scim_glue::filter_matches(f, &rendered.body, rendered.kind),
                None => true,
            };
            if keep {
                matched.push(rendered);
            }
        }
        if let Some(sort_by) = &self.sort_by {
            let path = scim_glue::parse_sort_by(sort_by)?;
            let mut keyed: Vec<(Value, _)> = matched
                .into_iter()
                .map(|r| (scim_glue::sort_value(&path, &r.body, r.kind), r))
                .collect();
            // A stable sort keeps creation order among equal keys; missing
            // values go last in either order.
            keyed.sort_by(|(a, ra), (b, _)| match (a.is_null(), b.is_null()) {
                (true, true) => std::cmp::Ordering::Equal,
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ => {
                    let order = scim_glue::compare_sort_values(&path, ra.kind, a, b);
                    if self.descending {
                        order.reverse()
                    } else {
                        order
                    }
                }
            });
            matched = keyed.into_iter().map(|(_, r)| r).collect();
        }
        let total = matched.len();
        let count = self.count.unwrap_or(MAX_RESULTS);
        let resources: Vec<Value> = matched
            .into_iter()
            .skip(self.start_index - 1)
            .take(count)
            .map(|r| {
                let mut body = r.body;
                self.projection.apply(r.kind, &mut body);
                body
            })
            .collect();
        Ok(list_response(total, self.start_index, resources))
    }
}

fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [urn::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
