//! Discovery endpoints (RFC 7644 §4, RFC 7643 §5–7): ServiceProviderConfig,
//! ResourceTypes and Schemas. Everything advertised here is implemented.

use serde_json::{Value, json};

use crate::scim::error::ScimError;
use crate::scim::urn;

use super::bulk::{MAX_OPERATIONS, MAX_PAYLOAD_SIZE};
use super::query::MAX_RESULTS;
use super::scim_glue;
use super::store::Kind;

pub(crate) fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [urn::SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://www.rfc-editor.org/rfc/rfc7644",
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": MAX_OPERATIONS,
            "maxPayloadSize": MAX_PAYLOAD_SIZE,
        },
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        // password is writable (POST, PUT, PATCH) and never returned.
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a bearer token (RFC 6750) in the Authorization header",
            "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig"),
        },
    })
}

fn resource_type(kind: Kind, base: &str) -> Value {
    let description = match kind {
        Kind::User => "User Account",
        Kind::Group => "Group",
    };
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
        .map(|e| json!({"schema": e, "required": false}))
        .collect();
    json!({
        "schemas": [urn::RESOURCE_TYPE],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": format!("/{}", kind.endpoint()),
        "description": description,
        "schema": kind.core_schema(),
        "schemaExtensions": extensions,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{base}/ResourceTypes/{}", kind.name()),
        },
    })
}

fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [urn::LIST_RESPONSE],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

pub(crate) fn resource_types(base: &str) -> Value {
    list(Kind::ALL.iter().map(|k| resource_type(*k, base)).collect())
}

pub(crate) fn resource_type_by_id(id: &str, base: &str) -> Result<Value, ScimError> {
    Kind::ALL
        .iter()
        .find(|k| k.name().eq_ignore_ascii_case(id))
        .map(|k| resource_type(*k, base))
        .ok_or_else(|| ScimError::not_found(format!("ResourceType {id} not found")))
}

pub(crate) fn schemas(base: &str) -> Value {
    list(scim_glue::schemas_json(base))
}

pub(crate) fn schema_by_id(id: &str, base: &str) -> Result<Value, ScimError> {
    scim_glue::schemas_json(base)
        .into_iter()
        .find(|s| {
            s["id"]
                .as_str()
                .is_some_and(|sid| sid.eq_ignore_ascii_case(id))
        })
        .ok_or_else(|| ScimError::not_found(format!("Schema {id} not found")))
}
