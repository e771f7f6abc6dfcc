//! The in-memory resource store: validation of incoming resources, uniqueness,
//! versions (ETags), group membership and rendering of the SCIM representation.
//!
//! Every operation here is synchronous and runs under one lock held by the
//! caller, so a uniqueness check and the insert that follows it are atomic.
//!
//! Indexes keep a large store (100,000 users) fast without changing what any
//! operation answers: creation order per kind (listing and paging walk only
//! that kind), the values of `userName` and a group's `displayName`
//! (uniqueness checks and the `eq` filters Entra matches with look up instead
//! of scanning), and member → groups (a user's `groups` and the groups
//! touched by a change).

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(crate) use crate::scim::attr::get_ci;
use crate::scim::attr::remove_ci;
use crate::scim::error::{ScimError, ScimType};
use crate::scim::filter::{CompareOp, Filter};
use crate::scim::schema::{self, AttrType, Attribute, Mutability, Returned, Uniqueness};
use crate::scim::urn;

use super::scim_glue;

/// The two resource types the server hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    User,
    Group,
}

impl Kind {
    pub(crate) const ALL: [Kind; 2] = [Kind::User, Kind::Group];

    /// The resource type name (`meta.resourceType`, `/ResourceTypes/{name}`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Group => "Group",
        }
    }

    /// The endpoint, without the leading slash.
    pub(crate) fn endpoint(self) -> &'static str {
        match self {
            Kind::User => "Users",
            Kind::Group => "Groups",
        }
    }

    pub(crate) fn core_schema(self) -> &'static str {
        match self {
            Kind::User => urn::USER,
            Kind::Group => urn::GROUP,
        }
    }

    /// Schema extensions this resource type accepts.
    pub(crate) fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::User => &[urn::ENTERPRISE_USER],
            Kind::Group => &[],
        }
    }
}

/// One stored resource. `data` holds the client-controlled attributes
/// (including `password`, never rendered); `id`, `meta` and computed
/// attributes are added when rendering.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) kind: Kind,
    seq: u64,
    data: Map<String, Value>,
    created: String,
    last_modified: String,
    version: u64,
}

impl Stored {
    /// The weak ETag of the current version.
    pub(crate) fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// A rendered resource with the headers that go with it.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub(crate) kind: Kind,
    pub(crate) body: Value,
    pub(crate) location: String,
    pub(crate) etag: String,
}

#[derive(Debug, Default)]
pub(crate) struct Store {
    resources: HashMap<String, Stored>,
    /// Per kind, seq → id: creation order without a sort or a scan of the
    /// other kind.
    order: HashMap<Kind, BTreeMap<u64, String>>,
    /// (kind, attribute, lowercased value) → ids, for the attributes
    /// [`is_indexed`] names. Lowercase keys find every case-insensitive
    /// match; callers still compare the stored value.
    by_value: HashMap<(Kind, &'static str, String), HashSet<String>>,
    /// Member id → the groups listing it directly.
    member_of: HashMap<String, HashSet<String>>,
    next_seq: u64,
    next_version: u64,
}

/// How an incoming representation relates to what is stored.
enum Mode<'a> {
    Create,
    /// PUT: the previous data, for write-only attributes the client cannot resend.
    Replace(&'a Map<String, Value>),
    /// The result of applying a PATCH to the stored data.
    Patched,
}

fn now() -> String {
    let now = OffsetDateTime::now_utc();
    // Millisecond precision is plenty and keeps timestamps readable.
    let now = now
        .replace_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(now);
    now.format(&Rfc3339).unwrap_or_default()
}

/// Drops `null` values (RFC 7643 §2.5: null means unassigned), recursively.
fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => {
            items.retain(|v| !v.is_null());
            items.iter_mut().for_each(drop_nulls);
        }
        _ => {}
    }
}

/// Whether an If-Match / If-None-Match header value matches an ETag. Weak
/// comparison: SCIM versions are weak ETags (RFC 7644 §3.14).
pub(crate) fn etag_matches(header: &str, etag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    let current = bare(etag);
    header
        .split(',')
        .any(|candidate| candidate.trim() == "*" || bare(candidate) == current)
}

impl Store {
    pub(crate) fn get(&self, kind: Kind, id: &str) -> Result<&Stored, ScimError> {
        self.resources
            .get(id)
            .filter(|s| s.kind == kind)
            .ok_or_else(|| ScimError::not_found(format!("{} {id} not found", kind.name())))
    }

    /// Every resource of the given kinds, in creation order.
    pub(crate) fn all(&self, kinds: &[Kind]) -> Vec<(&str, &Stored)> {
        let mut all: Vec<(&str, &Stored)> = Vec::new();
        for kind in Kind::ALL.iter().filter(|k| kinds.contains(k)) {
            let ids = self.order.get(kind).into_iter().flat_map(|o| o.values());
            all.extend(ids.filter_map(|id| Some((id.as_str(), self.resources.get(id)?))));
        }
        if kinds.len() > 1 {
            all.sort_by_key(|(_, s)| s.seq);
        }
        all
    }

    /// One page of `kind` in creation order (`skip` from the start, at most
    /// `take`) and how many there are: walks the order index only, so a page
    /// deep into 100,000 users costs no hashing or rendering of the others.
    pub(crate) fn page(
        &self,
        kind: Kind,
        skip: usize,
        take: usize,
    ) -> (usize, Vec<(&str, &Stored)>) {
        let Some(order) = self.order.get(&kind) else {
            return (0, Vec::new());
        };
        let page = order
            .values()
            .skip(skip)
            .take(take)
            .filter_map(|id| Some((id.as_str(), self.resources.get(id)?)))
            .collect();
        (order.len(), page)
    }

    /// The resources of `kinds` that can match `filter`, in creation order,
    /// when an index narrows them down: a `userName eq "…"` or group
    /// `displayName eq "…"` comparison (alone or in an `and`). `None` means every resource must be tested. The
    /// caller still evaluates the filter on each candidate.
    pub(crate) fn candidates(
        &self,
        kinds: &[Kind],
        filter: &Filter,
    ) -> Option<Vec<(&str, &Stored)>> {
        let mut found = Vec::new();
        for kind in kinds {
            let attr = indexed_eq(*kind, filter)?;
            found.extend(self.lookup(*kind, attr.0, attr.1));
        }
        found.sort_by_key(|(_, s)| s.seq);
        Some(found)
    }

    /// The resources of `kind` whose indexed attribute `attr` equals
    /// `value` ignoring case.
    fn lookup(&self, kind: Kind, attr: &'static str, value: &str) -> Vec<(&str, &Stored)> {
        self.by_value
            .get(&(kind, attr, value.to_lowercase()))
            .into_iter()
            .flatten()
            .filter_map(|id| Some((id.as_str(), self.resources.get(id)?)))
            .collect()
    }

    /// Adds a resource to the indexes.
    fn index(&mut self, id: &str, stored: &Stored) {
        self.order
            .entry(stored.kind)
            .or_default()
            .insert(stored.seq, id.to_string());
        for (attr, value) in indexed_values(stored.kind, &stored.data) {
            self.by_value
                .entry((stored.kind, attr, value))
                .or_default()
                .insert(id.to_string());
        }
        for member in member_ids(&stored.data) {
            self.member_of
                .entry(member)
                .or_default()
                .insert(id.to_string());
        }
    }

    /// Removes a resource from the indexes (its data as indexed).
    fn unindex(&mut self, id: &str, stored: &Stored) {
        if let Some(order) = self.order.get_mut(&stored.kind) {
            order.remove(&stored.seq);
        }
        for (attr, value) in indexed_values(stored.kind, &stored.data) {
            let key = (stored.kind, attr, value);
            if let Some(ids) = self.by_value.get_mut(&key) {
                ids.remove(id);
                if ids.is_empty() {
                    self.by_value.remove(&key);
                }
            }
        }
        for member in member_ids(&stored.data) {
            if let Some(groups) = self.member_of.get_mut(&member) {
                groups.remove(id);
                if groups.is_empty() {
                    self.member_of.remove(&member);
                }
            }
        }
    }

    fn bump_version(&mut self) -> u64 {
        self.next_version += 1;
        self.next_version
    }

    pub(crate) fn create(
        &mut self,
        kind: Kind,
        body: Value,
        base: &str,
    ) -> Result<Rendered, ScimError> {
        require_schemas(kind, &body)?;
        let data = self.prepare(kind, body, Mode::Create, None)?;
        let id = uuid::Uuid::new_v4().to_string();
        let stamp = now();
        self.next_seq += 1;
        let version = self.bump_version();
        let stored = Stored {
            kind,
            seq: self.next_seq,
            data,
            created: stamp.clone(),
            last_modified: stamp,
            version,
        };
        let members = member_ids(&stored.data);
        self.index(&id, &stored);
        self.resources.insert(id.clone(), stored);
        // New members gain this group in their `groups`.
        self.touch(members);
        self.render_id(kind, &id, base)
    }

    pub(crate) fn replace(
        &mut self,
        kind: Kind,
        id: &str,
        body: Value,
        if_match: Option<&str>,
        base: &str,
    ) -> Result<Rendered, ScimError> {
        let existing = self.get(kind, id)?;
        check_if_match(existing, if_match)?;
        require_schemas(kind, &body)?;
        // `id` is readOnly: a value in the body SHALL be ignored (RFC 7644
        // §3.5.1), like the other readOnly attributes `prepare` drops.
        let previous = existing.data.clone();
        let data = self.prepare(kind, body, Mode::Replace(&previous), Some(id))?;
        self.commit(id, data);
        self.render_id(kind, id, base)
    }

    /// Applies a PATCH request body to a resource.
    pub(crate) fn patch(
        &mut self,
        kind: Kind,
        id: &str,
        patch: &Value,
        if_match: Option<&str>,
        base: &str,
    ) -> Result<Rendered, ScimError> {
        let existing = self.get(kind, id)?;
        check_if_match(existing, if_match)?;
        let Some(message) = patch.as_object() else {
            return Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                "a PatchOp must be a JSON object",
            ));
        };
        super::check_message_schema(message, urn::PATCH_OP)?;
        let mut working = Value::Object(existing.data.clone());
        working["id"] = json!(id);
        scim_glue::apply_patch(kind, &mut working, patch)?;
        let data = self.prepare(kind, working, Mode::Patched, Some(id))?;
        self.commit(id, data);
        self.render_id(kind, id, base)
    }

    pub(crate) fn delete(
        &mut self,
        kind: Kind,
        id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ScimError> {
        let existing = self.get(kind, id)?;
        check_if_match(existing, if_match)?;
        let removed = self.resources.remove(id);
        // Former members of a deleted group lose it from their `groups`.
        if let Some(removed) = removed {
            self.unindex(id, &removed);
            self.touch(member_ids(&removed.data));
        }
        // A deleted resource leaves every group it was a member of.
        let containing = self.groups_containing(id);
        for gid in &containing {
            if let Some(Value::Array(members)) = self
                .resources
                .get_mut(gid)
                .and_then(|g| g.data.get_mut("members"))
            {
                members.retain(|m| m.get("value").and_then(Value::as_str) != Some(id));
            }
        }
        self.member_of.remove(id);
        self.touch(containing);
        Ok(())
    }

    /// Stores new data for a resource and bumps the versions of the
    /// resources whose representation depends on it: a group's members and
    /// former members (their `groups`), and the groups containing it
    /// (their members' `display`).
    fn commit(&mut self, id: &str, data: Map<String, Value>) {
        let mut related = member_ids(&data);
        if let Some(mut stored) = self.resources.remove(id) {
            related.extend(member_ids(&stored.data));
            self.unindex(id, &stored);
            stored.data = data;
            self.index(id, &stored);
            self.resources.insert(id.to_string(), stored);
        }
        related.extend(self.groups_containing(id));
        related.push(id.to_string());
        self.touch(related);
    }

    /// Gives these resources a new version and lastModified.
    fn touch(&mut self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        let version = self.bump_version();
        let stamp = now();
        for id in ids {
            if let Some(stored) = self.resources.get_mut(&id) {
                stored.version = version;
                stored.last_modified = stamp.clone();
            }
        }
    }

    /// The ids of the groups that list `id` as a direct member.
    fn groups_containing(&self, id: &str) -> Vec<String> {
        self.member_of
            .get(id)
            .into_iter()
            .flatten()
            .filter(|gid| {
                self.resources
                    .get(*gid)
                    .is_some_and(|g| g.kind == Kind::Group)
            })
            .cloned()
            .collect()
    }

    pub(crate) fn render_id(
        &self,
        kind: Kind,
        id: &str,
        base: &str,
    ) -> Result<Rendered, ScimError> {
        let stored = self.get(kind, id)?;
        Ok(self.render(id, stored, base))
    }

    /// The full SCIM representation of a stored resource (before projection).
    pub(crate) fn render(&self, id: &str, stored: &Stored, base: &str) -> Rendered {
        let kind = stored.kind;
        let mut obj = stored.data.clone();
        let rs = scim_glue::schema(kind);
        let never = |a: &&Attribute| a.returned == Returned::Never;
        for attr in rs.core.attributes.iter().filter(never) {
            obj.remove(attr.name);
        }
        for ext in &rs.extensions {
            if let Some(Value::Object(data)) = obj.get_mut(ext.id) {
                for attr in ext.attributes.iter().filter(never) {
                    data.remove(attr.name);
                }
            }
        }
        obj.insert("id".into(), json!(id));
        match kind {
            Kind::User => {
                let mut containing: Vec<(&str, &Stored)> = self
                    .member_of
                    .get(id)
                    .into_iter()
                    .flatten()
                    .filter_map(|gid| Some((gid.as_str(), self.resources.get(gid)?)))
                    .filter(|(_, g)| g.kind == Kind::Group)
                    .collect();
                containing.sort_by_key(|(_, g)| g.seq);
                let groups: Vec<Value> = containing
                    .into_iter()
                    .map(|(gid, g)| {
                        json!({
                            "value": gid,
                            "$ref": format!("{base}/Groups/{gid}"),
                            "display": g.data.get("displayName").cloned().unwrap_or(Value::Null),
                            "type": "direct",
                        })
                    })
                    .collect();
                if !groups.is_empty() {
                    obj.insert("groups".into(), Value::Array(groups));
                }
            }
            Kind::Group => {
                let members: Vec<Value> = obj
                    .get("members")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|m| m.get("value").and_then(Value::as_str))
                    .filter_map(|mid| {
                        let member = self.resources.get(mid)?;
                        let display = match member.kind {
                            Kind::User => get_ci(&member.data, "displayName")
                                .or_else(|| member.data.get("userName"))
                                .cloned(),
                            Kind::Group => member.data.get("displayName").cloned(),
                        };
                        Some(json!({
                            "value": mid,
                            "$ref": format!("{base}/{}/{mid}", member.kind.endpoint()),
                            "display": display.unwrap_or(Value::Null),
                            "type": member.kind.name(),
                        }))
                    })
                    .collect();
                obj.insert("members".into(), Value::Array(members));
            }
        }
        let location = format!("{base}/{}/{id}", kind.endpoint());
        let etag = stored.etag();
        obj.insert(
            "meta".into(),
            json!({
                "resourceType": kind.name(),
                "created": stored.created,
                "lastModified": stored.last_modified,
                "location": location,
                "version": etag,
            }),
        );
        Rendered {
            kind,
            body: Value::Object(obj),
            location,
            etag,
        }
    }

    /// Turns a client representation into the data to store: drops
    /// server-owned and null attributes, normalises `schemas`, enforces
    /// required attributes, uniqueness and member references.
    fn prepare(
        &self,
        kind: Kind,
        body: Value,
        mode: Mode<'_>,
        self_id: Option<&str>,
    ) -> Result<Map<String, Value>, ScimError> {
        let Value::Object(mut obj) = body else {
            return Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                "the request body must be a JSON object",
            ));
        };
        let mut value = Value::Object(std::mem::take(&mut obj));
        scim_glue::coerce(kind, &mut value);
        drop_nulls(&mut value);
        let Value::Object(mut obj) = value else {
            return Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                "not an object",
            ));
        };
        let rs = scim_glue::schema(kind);
        let read_only = |a: &&Attribute| a.mutability == Mutability::ReadOnly;
        for attr in rs
            .core
            .attributes
            .iter()
            .chain(schema::common_attributes())
            .filter(read_only)
        {
            remove_ci(&mut obj, attr.name);
        }
        for ext in &rs.extensions {
            if let Some(Value::Object(data)) = obj.get_mut(ext.id) {
                for attr in ext.attributes.iter().filter(read_only) {
                    remove_ci(data, attr.name);
                }
            }
        }

        // `schemas` lists the core schema and the extensions actually used;
        // unknown URIs a client adds (Entra's ADSCIM group URI) are dropped,
        // as are attributes keyed by unknown URIs.
        remove_ci(&mut obj, "schemas");
        obj.retain(|k, _| {
            !k.contains(':') || kind.extensions().iter().any(|e| e.eq_ignore_ascii_case(k))
        });
        let mut schemas = vec![json!(kind.core_schema())];
        for ext in kind.extensions() {
            if let Some(data) = remove_ci(&mut obj, ext) {
                if data.as_object().is_some_and(|m| !m.is_empty()) {
                    obj.insert((*ext).to_string(), data);
                    schemas.push(json!(ext));
                } else if !data.is_object() {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidSyntax,
                        format!("{ext} must be a JSON object"),
                    ));
                }
            }
        }
        obj.insert("schemas".into(), Value::Array(schemas));

        let mut whole = Value::Object(obj);
        scim_glue::validate(kind, &whole)?;
        let Value::Object(mut obj) = whole.take() else {
            return Err(ScimError::bad_request(
                ScimType::InvalidSyntax,
                "not an object",
            ));
        };

        if let Mode::Replace(previous) = mode {
            // Attributes never returned (password) cannot be read back and
            // resent by the client, so a PUT that omits them keeps them.
            for attr in rs
                .core
                .attributes
                .iter()
                .filter(|a| a.returned == Returned::Never)
            {
                if !obj.contains_key(attr.name)
                    && let Some(old) = previous.get(attr.name)
                {
                    obj.insert(attr.name.to_string(), old.clone());
                }
            }
        }
        self.check_unique(kind, &obj, self_id)?;
        if kind == Kind::Group {
            let members = self.resolve_members(obj.remove("members"), self_id)?;
            obj.insert("members".into(), Value::Array(members));
        }
        Ok(obj)
    }

    /// Enforces `uniqueness: server` of the core schema's attributes
    /// (`userName`), case-insensitively unless the attribute is caseExact.
    fn check_unique(
        &self,
        kind: Kind,
        obj: &Map<String, Value>,
        self_id: Option<&str>,
    ) -> Result<(), ScimError> {
        let unique = scim_glue::schema(kind)
            .core
            .attributes
            .iter()
            .filter(|a| a.uniqueness == Uniqueness::Server && a.ty == AttrType::String);
        for attr in unique {
            let Some(mine) = obj.get(attr.name).and_then(Value::as_str) else {
                continue;
            };
            let same = |other: &str| {
                if attr.case_exact {
                    other == mine
                } else {
                    other.to_lowercase() == mine.to_lowercase()
                }
            };
            let candidates: Vec<(&str, &Stored)> = if is_indexed(kind, attr) {
                self.lookup(kind, attr.name, mine)
            } else {
                self.all(&[kind])
            };
            let taken = candidates.iter().any(|(id, s)| {
                Some(*id) != self_id
                    && s.data
                        .get(attr.name)
                        .and_then(Value::as_str)
                        .is_some_and(same)
            });
            if taken {
                return Err(ScimError::new(
                    409,
                    Some(ScimType::Uniqueness),
                    format!("{} {mine:?} is already taken", attr.name),
                ));
            }
        }
        Ok(())
    }

    /// Validates group members: each must reference an existing User or
    /// Group. Stores `{value, type}` only; `$ref` and `display` are computed
    /// when rendering so they never go stale.
    fn resolve_members(
        &self,
        members: Option<Value>,
        self_id: Option<&str>,
    ) -> Result<Vec<Value>, ScimError> {
        let items = match members {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(single @ Value::Object(_)) => vec![single],
            Some(_) => {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    "members must be an array of {\"value\": id} objects",
                ));
            }
        };
        let mut out: Vec<Value> = Vec::new();
        for item in items {
            let value = item
                .as_object()
                .and_then(|m| get_ci(m, "value"))
                .and_then(Value::as_str);
            let Some(value) = value else {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    "each member needs a string \"value\" (the member's id)",
                ));
            };
            if Some(value) == self_id {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    "a group cannot be a member of itself",
                ));
            }
            let Some(target) = self.resources.get(value) else {
                return Err(ScimError::bad_request(
                    ScimType::InvalidValue,
                    format!("member {value:?} is not an existing User or Group id"),
                ));
            };
            if out.iter().any(|m| m["value"] == value) {
                continue;
            }
            out.push(json!({ "value": value, "type": target.kind.name() }));
        }
        Ok(out)
    }
}

/// Whether the store indexes a core attribute's values: the `uniqueness:
/// server` strings (`userName`) and a group's `displayName`, the attributes
/// Entra matches users and groups by.
fn is_indexed(kind: Kind, a: &Attribute) -> bool {
    a.ty == AttrType::String
        && (a.uniqueness == Uniqueness::Server || (kind == Kind::Group && a.name == "displayName"))
}

/// The indexed attributes of `kind` that `data` sets, as (name, lowercased
/// value): the keys of `Store::by_value`.
fn indexed_values(kind: Kind, data: &Map<String, Value>) -> Vec<(&'static str, String)> {
    scim_glue::schema(kind)
        .core
        .attributes
        .iter()
        .filter(|a| is_indexed(kind, a))
        .filter_map(|a| Some((a.name, data.get(a.name)?.as_str()?.to_lowercase())))
        .collect()
}

/// The indexed attribute and value a filter requires equality with, if any:
/// `userName eq "x"` or `displayName eq "x"` (with or without the core
/// schema URN), alone or as one term of an `and`. Any resource the filter matches has that value, ignoring
/// case (the index's lowercase key), so the index finds a superset.
fn indexed_eq(kind: Kind, filter: &Filter) -> Option<(&'static str, &str)> {
    match filter {
        Filter::And(parts) => parts.iter().find_map(|p| indexed_eq(kind, p)),
        Filter::Compare(path, CompareOp::Eq, Value::String(v)) => {
            let urn_ok = path
                .urn
                .as_deref()
                .is_none_or(|u| u.eq_ignore_ascii_case(kind.core_schema()));
            let attr = scim_glue::schema(kind)
                .core
                .attributes
                .iter()
                .find(|a| is_indexed(kind, a) && path.is(a.name))?;
            urn_ok.then_some((attr.name, v.as_str()))
        }
        _ => None,
    }
}

/// The member ids a group's stored data lists (none for users).
fn member_ids(data: &Map<String, Value>) -> Vec<String> {
    data.get("members")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m.get("value").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Create and PUT bodies must name the resource's core schema (RFC 7644 §3.3).
fn require_schemas(kind: Kind, body: &Value) -> Result<(), ScimError> {
    let Some(obj) = body.as_object() else {
        return Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            "the request body must be a JSON object",
        ));
    };
    let listed = get_ci(obj, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .filter_map(Value::as_str)
                .any(|u| u.eq_ignore_ascii_case(kind.core_schema()))
        });
    if listed {
        Ok(())
    } else {
        Err(ScimError::bad_request(
            ScimType::InvalidSyntax,
            format!("schemas must be an array containing {}", kind.core_schema()),
        ))
    }
}

fn check_if_match(stored: &Stored, if_match: Option<&str>) -> Result<(), ScimError> {
    match if_match {
        Some(header) if !etag_matches(header, &stored.etag()) => Err(ScimError::new(
            412,
            None,
            format!(
                "If-Match {header} does not match the current version {}",
                stored.etag()
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_etags_compare_without_the_weak_prefix() {
        assert!(etag_matches("W/\"3\"", "W/\"3\""));
        assert!(etag_matches("\"3\"", "W/\"3\""));
        assert!(etag_matches("W/\"1\", W/\"3\"", "W/\"3\""));
        assert!(etag_matches("*", "W/\"3\""));
        assert!(!etag_matches("W/\"4\"", "W/\"3\""));
    }

    fn user(name: &str) -> Value {
        json!({"schemas": [urn::USER], "userName": name})
    }

    fn names(found: Option<Vec<(&str, &Stored)>>) -> Vec<String> {
        found
            .unwrap_or_default()
            .iter()
            .map(|(_, s)| s.data["userName"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn the_user_name_index_follows_creates_renames_and_deletes() {
        let mut store = Store::default();
        let base = "http://h/scim/v2";
        let a = store.create(Kind::User, user("Ann"), base).unwrap();
        let a_id = a.body["id"].as_str().unwrap().to_string();
        store.create(Kind::User, user("bob"), base).unwrap();
        let eq = |v: &str| crate::scim::filter::parse(&format!("userName eq \"{v}\"")).unwrap();
        assert_eq!(names(store.candidates(&[Kind::User], &eq("ANN"))), ["Ann"]);
        // Taken case-insensitively, through the index.
        let err = store.create(Kind::User, user("aNN"), base).unwrap_err();
        assert_eq!(err.status, 409);
        let rename =
            json!({"Operations": [{"op": "replace", "path": "userName", "value": "carol"}]});
        store.patch(Kind::User, &a_id, &rename, None, base).unwrap();
        assert!(names(store.candidates(&[Kind::User], &eq("ann"))).is_empty());
        assert_eq!(
            names(store.candidates(&[Kind::User], &eq("Carol"))),
            ["carol"]
        );
        // The old name is free again, the new one is not.
        store.create(Kind::User, user("ann"), base).unwrap();
        assert_eq!(
            store
                .create(Kind::User, user("CAROL"), base)
                .unwrap_err()
                .status,
            409
        );
        store.delete(Kind::User, &a_id, None).unwrap();
        assert!(names(store.candidates(&[Kind::User], &eq("carol"))).is_empty());
        // Filters the index cannot answer scan, in creation order.
        let sw = crate::scim::filter::parse("userName sw \"a\"").unwrap();
        assert!(store.candidates(&[Kind::User], &sw).is_none());
        // Group displayName is indexed too (not unique: both come back).
        let group = |n: &str| json!({"schemas": [urn::GROUP], "displayName": n});
        store.create(Kind::Group, group("Sales"), base).unwrap();
        store.create(Kind::Group, group("SALES"), base).unwrap();
        let dn = crate::scim::filter::parse("displayName eq \"sales\"").unwrap();
        let found = store.candidates(&[Kind::Group], &dn).unwrap();
        assert_eq!(found.len(), 2);
        let all: Vec<_> = store
            .all(&[Kind::User])
            .iter()
            .map(|(_, s)| s.data["userName"].clone())
            .collect();
        assert_eq!(all, [json!("bob"), json!("ann")]);
    }

    #[test]
    fn the_member_index_follows_group_changes_and_deletes() {
        let mut store = Store::default();
        let base = "http://h/scim/v2";
        let u = store.create(Kind::User, user("u"), base).unwrap();
        let uid = u.body["id"].as_str().unwrap().to_string();
        let group = |name: &str| json!({"schemas": [urn::GROUP], "displayName": name, "members": [{"value": uid}]});
        let g1 = store.create(Kind::Group, group("g1"), base).unwrap();
        let g2 = store.create(Kind::Group, group("g2"), base).unwrap();
        let groups = |store: &Store| {
            let r = store.render_id(Kind::User, &uid, base).unwrap();
            r.body["groups"]
                .as_array()
                .map(|g| g.iter().map(|x| x["display"].clone()).collect::<Vec<_>>())
        };
        assert_eq!(groups(&store), Some(vec![json!("g1"), json!("g2")]));
        let g1_id = g1.body["id"].as_str().unwrap();
        let drop_all = json!({"Operations": [{"op": "remove", "path": "members"}]});
        store
            .patch(Kind::Group, g1_id, &drop_all, None, base)
            .unwrap();
        assert_eq!(groups(&store), Some(vec![json!("g2")]));
        store.delete(Kind::User, &uid, None).unwrap();
        let g2_id = g2.body["id"].as_str().unwrap();
        let g2 = store.render_id(Kind::Group, g2_id, base).unwrap();
        assert_eq!(g2.body["members"], json!([]));
        assert!(store.member_of.is_empty(), "{:?}", store.member_of);
    }

    #[test]
    fn nulls_are_unassigned() {
        let mut v = json!({"a": null, "b": [null, {"c": null, "d": 1}]});
        drop_nulls(&mut v);
        assert_eq!(v, json!({"b": [{"d": 1}]}));
    }
}
