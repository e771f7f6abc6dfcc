//! The HTTP face of the server: one axum handler that authenticates, routes,
//! reads the body and turns store results into SCIM responses. Every
//! response, errors included, is `application/scim+json`.

use std::sync::{Arc, Mutex, MutexGuard};

use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;

use crate::scim::error::{ScimError, ScimType};
use crate::scim::urn;

use super::bulk::{self, MAX_PAYLOAD_SIZE};
use super::discovery;
use super::projection::Projection;
use super::query::ListQuery;
use super::store::{Kind, Rendered, Store, etag_matches};

/// Where the SCIM endpoints live.
pub(crate) const PREFIX: &str = "/scim/v2";

pub(crate) struct App {
    pub(crate) token: Option<String>,
    pub(crate) oauth: Option<super::oauth::Issuer>,
    pub(crate) store: Mutex<Store>,
}

impl App {
    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave the map half-written
        // in a way that matters more than refusing all further requests.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Collection(Kind),
    Item(Kind, String),
    /// `/.search` (None: every resource type) or `/Users/.search`.
    Search(Option<Kind>),
    Bulk,
    Me,
    ServiceProviderConfig,
    Schemas(Option<String>),
    ResourceTypes(Option<String>),
}

impl Route {
    fn parse(path: &str) -> Option<Route> {
        let rest = path.strip_prefix(PREFIX)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let is = |s: &str, name: &str| s.eq_ignore_ascii_case(name);
        let kind = |s: &str| Kind::ALL.into_iter().find(|k| is(s, k.endpoint()));
        Some(match segments.as_slice() {
            [s] if is(s, ".search") => Route::Search(None),
            [s] if is(s, "Bulk") => Route::Bulk,
            [s] if is(s, "Me") => Route::Me,
            [s] if is(s, "ServiceProviderConfig") || is(s, "ServiceProviderConfigs") => {
                Route::ServiceProviderConfig
            }
            [s] if is(s, "Schemas") => Route::Schemas(None),
            [s, id] if is(s, "Schemas") => Route::Schemas(Some((*id).to_string())),
            [s] if is(s, "ResourceTypes") => Route::ResourceTypes(None),
            [s, id] if is(s, "ResourceTypes") => Route::ResourceTypes(Some((*id).to_string())),
            [s] => Route::Collection(kind(s)?),
            [s, search] if is(search, ".search") => Route::Search(Some(kind(s)?)),
            [s, id] => Route::Item(kind(s)?, (*id).to_string()),
            _ => return None,
        })
    }

    fn allowed(&self) -> &'static [Method] {
        match self {
            Route::Collection(_) => &[Method::GET, Method::POST],
            Route::Item(..) => &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
            Route::Search(_) | Route::Bulk => &[Method::POST],
            Route::Me => &[
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ],
            Route::ServiceProviderConfig | Route::Schemas(_) | Route::ResourceTypes(_) => {
                &[Method::GET]
            }
        }
    }
}

/// A successful SCIM answer.
struct Reply {
    status: StatusCode,
    body: Option<Value>,
    location: Option<String>,
    etag: Option<String>,
}

impl Reply {
    fn json(status: StatusCode, body: Value) -> Self {
        Reply {
            status,
            body: Some(body),
            location: None,
            etag: None,
        }
    }

    fn resource(
        status: StatusCode,
        rendered: Rendered,
        projection: &Projection,
        location: bool,
    ) -> Self {
        let mut body = rendered.body;
        projection.apply(rendered.kind, &mut body);
        Reply {
            status,
            body: Some(body),
            location: location.then_some(rendered.location),
            etag: Some(rendered.etag),
        }
    }
}

fn response(status: StatusCode, body: Option<&Value>) -> Response {
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap_or_default())
        .unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(urn::MEDIA_TYPE),
    );
    resp
}

pub(crate) fn error_response(e: &ScimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response(status, Some(&e.to_json()))
}

fn reply_response(reply: Reply) -> Response {
    let mut resp = response(reply.status, reply.body.as_ref());
    let headers = resp.headers_mut();
    if let Some(loc) = reply.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, loc);
    }
    if let Some(etag) = reply.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        headers.insert(header::ETAG, etag);
    }
    resp
}

/// Compares without an early exit, so the time taken does not reveal how
/// much of the token was right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bearer token of the request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn authorized(expected: &str, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && constant_time_eq(token.trim().as_bytes(), expected.as_bytes())
}

/// The absolute base URL for `meta.location` and `$ref`, from the Host the
/// client used.
fn base_url(headers: &HeaderMap) -> String {
    match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}{PREFIX}"),
        None => PREFIX.to_string(),
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// How much of an oversized body is read (and discarded) before answering
/// 413, so the client reads the answer instead of a connection reset.
const DRAIN_LIMIT: usize = 16 * MAX_PAYLOAD_SIZE;

/// Reads the body if it fits `MAX_PAYLOAD_SIZE`; `None` if it does not.
async fn read_limited(mut body: Body) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while seen <= DRAIN_LIMIT {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    seen += data.len();
                    if seen <= MAX_PAYLOAD_SIZE {
                        bytes.extend_from_slice(data);
                    }
                }
            }
            // A broken upload ends the read; the JSON parse reports it.
            Some(Err(_)) | None => break,
        }
    }
    (seen <= MAX_PAYLOAD_SIZE).then_some(bytes)
}

async fn read_json(headers: &HeaderMap, body: Body) -> Result<Value, ScimError> {
    if let Some(ct) = header_str(headers, header::CONTENT_TYPE) {
        let essence = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence != urn::MEDIA_TYPE && essence != "application/json" {
            return Err(ScimError::new(
                415,
                None,
                format!("unsupported Content-Type {ct:?}; use application/scim+json"),
            ));
        }
    }
    let too_large = || {
        ScimError::new(
            413,
            None,
            format!("the request body exceeds maxPayloadSize ({MAX_PAYLOAD_SIZE} bytes)"),
        )
    };
    let declared =
        header_str(headers, header::CONTENT_LENGTH).and_then(|l| l.trim().parse::<u64>().ok());
    if declared.is_some_and(|l| l > DRAIN_LIMIT as u64) {
        return Err(too_large());
    }
    let bytes = read_limited(body).await.ok_or_else(too_large)?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!("the request body is not valid JSON: {e}"),
        )
    })
}

pub(crate) async fn handle(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Some(issuer) = &app.oauth
        && uri.path() == super::oauth::TOKEN_PATH
        && method == Method::POST
    {
        let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
            return axum::response::IntoResponse::into_response(StatusCode::PAYLOAD_TOO_LARGE);
        };
        return issuer.token(&headers, &bytes);
    }
    let needs_auth = app.token.is_some() || app.oauth.is_some();
    let static_ok = app
        .token
        .as_deref()
        .is_some_and(|t| authorized(t, &headers));
    let issued_ok = app
        .oauth
        .as_ref()
        .is_some_and(|o| bearer(&headers).is_some_and(|t| o.accepts(t)));
    if needs_auth && !static_ok && !issued_ok {
        let mut resp = error_response(&ScimError::new(
            401,
            None,
            "a valid bearer token is required",
        ));
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"scimitar\""),
        );
        return resp;
    }
    let Some(route) = Route::parse(uri.path()) else {
        return error_response(&ScimError::not_found(format!(
            "no SCIM endpoint at {}",
            uri.path()
        )));
    };
    if !route.allowed().contains(&method) {
        let mut resp = error_response(&ScimError::new(
            405,
            None,
            format!("{method} is not supported on {}", uri.path()),
        ));
        let allow: Vec<&str> = route.allowed().iter().map(Method::as_str).collect();
        if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
            resp.headers_mut().insert(header::ALLOW, v);
        }
        return resp;
    }
    if route == Route::Me {
        return error_response(&ScimError::new(
            501,
            None,
            "/Me is not implemented: the bearer token does not identify a SCIM user",
        ));
    }
    let params = match Query::<Vec<(String, String)>>::try_from_uri(&uri) {
        Ok(Query(p)) => p,
        Err(e) => {
            return error_response(&ScimError::bad_request(
                ScimType::InvalidSyntax,
                format!("malformed query string: {e}"),
            ));
        }
    };
    let json = if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        match read_json(&headers, body).await {
            Ok(v) => Some(v),
            Err(e) => return error_response(&e),
        }
    } else {
        None
    };
    let base = base_url(&headers);
    match dispatch(&app, route, &method, &params, &headers, json, &base) {
        Ok(reply) => reply_response(reply),
        Err(e) => error_response(&e),
    }
}

fn projection(params: &[(String, String)]) -> Projection {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    Projection::from_lists(get("attributes"), get("excludedAttributes"))
}

fn dispatch(
    app: &App,
    route: Route,
    method: &Method,
    params: &[(String, String)],
    headers: &HeaderMap,
    body: Option<Value>,
    base: &str,
) -> Result<Reply, ScimError> {
    let body = body.unwrap_or(Value::Null);
    let if_match = header_str(headers, header::IF_MATCH);
    match (route, method.clone()) {
        (Route::ServiceProviderConfig, _) => Ok(Reply::json(
            StatusCode::OK,
            discovery::service_provider_config(base),
        )),
        (Route::ResourceTypes(None), _) => {
            Ok(Reply::json(StatusCode::OK, discovery::resource_types(base)))
        }
        (Route::ResourceTypes(Some(id)), _) => {
            discovery::resource_type_by_id(&id, base).map(|v| Reply::json(StatusCode::OK, v))
        }
        (Route::Schemas(None), _) => Ok(Reply::json(StatusCode::OK, discovery::schemas(base))),
        (Route::Schemas(Some(id)), _) => {
            discovery::schema_by_id(&id, base).map(|v| Reply::json(StatusCode::OK, v))
        }
        (Route::Collection(kind), Method::GET) => {
            let query = ListQuery::from_params(params)?;
            query
                .run(&app.store(), &[kind], base)
                .map(|v| Reply::json(StatusCode::OK, v))
        }
        (Route::Collection(kind), _) => {
            let rendered = app.store().create(kind, body, base)?;
            Ok(Reply::resource(
                StatusCode::CREATED,
                rendered,
                &projection(params),
                true,
            ))
        }
        (Route::Search(kind), _) => {
            let query = ListQuery::from_search_request(&body)?;
            let kinds = kind.map_or(Kind::ALL.to_vec(), |k| vec![k]);
            query
                .run(&app.store(), &kinds, base)
                .map(|v| Reply::json(StatusCode::OK, v))
        }
        (Route::Item(kind, id), Method::GET) => {
            let rendered = app.store().render_id(kind, &id, base)?;
            if header_str(headers, header::IF_NONE_MATCH)
                .is_some_and(|h| etag_matches(h, &rendered.etag))
            {
                return Ok(Reply {
                    status: StatusCode::NOT_MODIFIED,
                    body: None,
                    location: None,
                    etag: Some(rendered.etag),
                });
            }
            Ok(Reply::resource(
                StatusCode::OK,
                rendered,
                &projection(params),
                false,
            ))
        }
        (Route::Item(kind, id), Method::PUT) => {
            let rendered = app.store().replace(kind, &id, body, if_match, base)?;
            Ok(Reply::resource(
                StatusCode::OK,
                rendered,
                &projection(params),
                false,
            ))
        }
        (Route::Item(kind, id), Method::PATCH) => {
            let rendered = app.store().patch(kind, &id, &body, if_match, base)?;
            Ok(Reply::resource(
                StatusCode::OK,
                rendered,
                &projection(params),
                false,
            ))
        }
        (Route::Item(kind, id), _) => {
            app.store().delete(kind, &id, if_match)?;
            Ok(Reply {
                status: StatusCode::NO_CONTENT,
                body: None,
                location: None,
                etag: None,
            })
        }
        (Route::Bulk, _) => {
            bulk::run(&mut app.store(), &body, base).map(|v| Reply::json(StatusCode::OK, v))
        }
        (Route::Me, _) => Err(ScimError::new(501, None, "/Me is not implemented")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            Route::parse("/scim/v2/Users"),
            Some(Route::Collection(Kind::User))
        );
        assert_eq!(
            Route::parse("/scim/v2/Users/"),
            Some(Route::Collection(Kind::User))
        );
        assert_eq!(
            Route::parse("/scim/v2/Groups/abc"),
            Some(Route::Item(Kind::Group, "abc".into()))
        );
        assert_eq!(
            Route::parse("/scim/v2/Users/.search"),
            Some(Route::Search(Some(Kind::User)))
        );
        assert_eq!(Route::parse("/scim/v2/.search"), Some(Route::Search(None)));
        assert_eq!(
            Route::parse(&format!("/scim/v2/Schemas/{}", urn::USER)),
            Some(Route::Schemas(Some(urn::USER.into())))
        );
        assert_eq!(Route::parse("/scim/v2/Widgets"), None);
        assert_eq!(Route::parse("/scim/v2/Users/a/b"), None);
        assert_eq!(Route::parse("/scim/v2x/Users"), None);
        assert_eq!(Route::parse("/Users"), None);
    }

    #[test]
    fn bearer_tokens_compare_exactly() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert!(authorized("s3cret", &h));
        assert!(!authorized("s3cre", &h));
        assert!(!authorized("s3cret!", &h));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer s3cret"),
        );
        assert!(authorized("s3cret", &h));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic s3cret"),
        );
        assert!(!authorized("s3cret", &h));
    }
}
