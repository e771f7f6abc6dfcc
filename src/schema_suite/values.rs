//! Values to send, per type and name: emails that look like emails, phone
//! numbers, language tags, dates; `{{prefix}}`-based wherever a value could
//! collide with another run's, so they never do.

use serde_json::{Value, json};

use super::decl::Attr;

/// Which request a value is for; each gets its own values, so a read-back
/// can tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Create,
    Put,
    Patch,
    /// The second resource of a uniqueness check (its other attributes).
    Duplicate,
    /// The resource a read-only value is sent with.
    ReadOnly,
    /// The resource a required attribute is left out of.
    Required,
    /// A resource another one refers to (a group member, a manager).
    Referent,
}

impl Phase {
    pub fn index(self) -> usize {
        match self {
            Phase::Create => 0,
            Phase::Put => 1,
            Phase::Patch => 2,
            Phase::Duplicate => 3,
            Phase::ReadOnly => 4,
            Phase::Required => 5,
            Phase::Referent => 6,
        }
    }
}

const TAGS: [&str; 7] = [
    "Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf",
];

fn pick(list: &[&str], phase: Phase) -> Value {
    Value::String(list[phase.index() % list.len()].to_string())
}

/// Why an attribute of this type cannot be sent, if it cannot (references
/// to resources are handled by the caller).
pub fn unsendable_type(a: &Attr) -> Option<String> {
    match a.ty.as_str() {
        "string" | "boolean" | "integer" | "decimal" | "dateTime" | "complex" => None,
        "reference" => {
            let external = a.reference_types.is_empty()
                || a.reference_types
                    .iter()
                    .all(|t| t == "external" || t == "uri");
            (!external).then(|| {
                format!(
                    "a reference to {} resources: scimitar cannot make up a URI the server resolves",
                    a.reference_types.join("/")
                )
            })
        }
        "binary" => Some(
            "binary: scimitar cannot know which bytes the server accepts (e.g. a DER certificate)"
                .into(),
        ),
        other => Some(format!("type {other:?} is not one RFC 7643 §2.3 defines")),
    }
}

/// A scalar value for a non-complex attribute. `key` names it inside the
/// resource (`name.givenName`); `parent` is the complex it belongs to.
pub fn scalar(a: &Attr, parent: Option<&Attr>, key: &str, phase: Phase) -> Value {
    let i = phase.index();
    let tag = TAGS[i];
    if !a.canonical.is_empty() && a.ty == "string" {
        let list: Vec<&str> = a.canonical.iter().map(String::as_str).collect();
        return pick(&list, phase);
    }
    match a.ty.as_str() {
        "boolean" => {
            // `primary` false is as good as absent to many servers (only one
            // value may be true, RFC 7643 §2.4): keep it true.
            if a.name.eq_ignore_ascii_case("primary") {
                Value::Bool(true)
            } else {
                Value::Bool(i.is_multiple_of(2))
            }
        }
        "integer" => json!(i as i64 + 1),
        "decimal" => json!(i as f64 + 1.5),
        "dateTime" => Value::String(date_time(phase).to_string()),
        "reference" => Value::String(format!("https://example.com/{{{{prefix}}}}/{key}-{tag}")),
        _ => string(a, parent, key, phase),
    }
}

pub fn date_time(phase: Phase) -> &'static str {
    [
        "2001-02-03T04:05:06Z",
        "2002-03-04T05:06:07Z",
        "2003-04-05T06:07:08Z",
        "2004-05-06T07:08:09Z",
        "2005-06-07T08:09:10Z",
        "2006-07-08T09:10:11Z",
        "2007-08-09T10:11:12Z",
    ][phase.index()]
}

fn string(a: &Attr, parent: Option<&Attr>, key: &str, phase: Phase) -> Value {
    let name = a.name.to_ascii_lowercase();
    let parent = parent
        .map(|p| p.name.to_ascii_lowercase())
        .unwrap_or_default();
    let tag = TAGS[phase.index()];
    let is = |word: &str| name.contains(word) || (name == "value" && parent.contains(word));
    if is("email") {
        return Value::String(format!("{{{{prefix}}}}.{tag}@example.com"));
    }
    if is("phone") || name == "fax" || name == "mobile" {
        return Value::String(format!("+1555010{:04}", phase.index() + 1));
    }
    if name == "locale" || name.contains("language") {
        return pick(
            &[
                "en-US", "fr-FR", "de-DE", "es-ES", "it-IT", "nl-NL", "pt-PT",
            ],
            phase,
        );
    }
    if name == "timezone" {
        return pick(
            &[
                "America/Los_Angeles",
                "Europe/Paris",
                "Asia/Tokyo",
                "Europe/Berlin",
                "America/New_York",
                "Australia/Sydney",
                "Europe/London",
            ],
            phase,
        );
    }
    if name == "country" {
        return pick(&["US", "FR", "DE", "ES", "IT", "NL", "PT"], phase);
    }
    if name == "postalcode" {
        return pick(
            &["94105", "75001", "10115", "28001", "00118", "1012", "1100"],
            phase,
        );
    }
    Value::String(format!("{{{{prefix}}}}-{key}-{tag}"))
}

/// Whether a value can only belong to this run (it carries the prefix).
pub fn unique(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains("{{prefix}}"))
}

/// The text of a template with the case of every letter outside `{{…}}`
/// swapped: the same value to a case-insensitive comparison, another one
/// to an exact one.
pub fn swap_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&swap(&rest[..start]));
        let end = rest[start..]
            .find("}}")
            .map_or(rest.len(), |e| start + e + 2);
        out.push_str(&rest[start..end]);
        rest = &rest[end..];
    }
    out.push_str(&swap(rest));
    out
}

fn swap(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_lowercase() {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .collect()
}

/// What a read-back must show for a value that was sent, by the RFC's
/// comparison rules: strings that are not caseExact in any case (RFC 7643
/// §2.2), dateTimes in any xsd:dateTime spelling of the same instant
/// (fractional seconds, `Z` or `+00:00`).
pub fn read_back(a: &Attr, sent: &Value) -> Value {
    match (a.ty.as_str(), sent) {
        ("dateTime", Value::String(s)) => {
            let base = s.trim_end_matches('Z');
            json!({"matches": format!("^{}(\\.0+)?(Z|[+-]00:?00)?$", regex::escape(base))})
        }
        ("string", Value::String(_)) if !a.case_exact => {
            json!({"equals": sent, "ignore_case": true})
        }
        _ => json!({"equals": sent}),
    }
}

/// The JSON type a declared type comes back as.
pub fn json_type(a: &Attr) -> Value {
    match a.ty.as_str() {
        "boolean" => json!({"type": "boolean", "if_present": true}),
        "integer" => json!({"type": "integer", "if_present": true}),
        "decimal" => json!({"type": "number", "if_present": true}),
        "complex" => json!({"type": "object", "if_present": true}),
        "dateTime" => json!({
            "type": "string",
            "matches": "^-?\\d{4,}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})?$",
            "if_present": true
        }),
        _ => json!({"type": "string", "if_present": true}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swap_case_leaves_templates_alone() {
        assert_eq!(
            swap_case("{{prefix}}-title-Alpha"),
            "{{prefix}}-TITLE-aLPHA"
        );
        assert_eq!(
            swap_case("{{prefix}}.Alpha@example.com"),
            "{{prefix}}.aLPHA@EXAMPLE.COM"
        );
    }
}
