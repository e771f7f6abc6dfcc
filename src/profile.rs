//! The IdP profiles scimitar knows, in one table: reports, `--idp` help and
//! the suite loader read it. To add a profile, add a row here and its
//! suites under `suites/<id>/`.

/// One known profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The `idp:` value suites declare, e.g. `entra`.
    pub id: &'static str,
    /// A readable name for reports.
    pub label: &'static str,
    /// What the profile replays, in one line.
    pub summary: &'static str,
}

/// Every built-in profile, in report order.
pub const PROFILES: &[Profile] = &[
    Profile {
        id: "entra",
        label: "Microsoft Entra ID (aadOptscim062020)",
        summary: "Entra ID provisioning with the aadOptscim062020 feature flag (RFC-compliant PATCH)",
    },
    Profile {
        id: "entra-legacy",
        label: "Microsoft Entra ID (legacy dialect)",
        summary: "Entra ID's default dialect: \"Replace\", \"False\" strings, value-list member removal",
    },
    Profile {
        id: "okta",
        label: "Okta (OIN, PATCH)",
        summary: "Okta's OIN SCIM 2.0 integration: paging with startIndex/count, PATCH active=false, Group Push",
    },
    Profile {
        id: "okta-aiw",
        label: "Okta (AIW, PUT)",
        summary: "Okta's App Integration Wizard: updates by PUT of the whole resource",
    },
    Profile {
        id: "rfc",
        label: "RFC 7643/7644",
        summary: "The SCIM 2.0 protocol and schema RFCs themselves",
    },
    Profile {
        id: "schema",
        label: "Generated from /Schemas",
        summary: "Every attribute the server declares in /Schemas, checked as declared (suites generated at run time)",
    },
];

/// The profile with this id, if it is a built-in one.
pub fn find(id: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.id == id)
}

/// A readable name for a profile id; unknown ids are shown as they are.
pub fn label(id: &str) -> &str {
    find(id).map_or(id, |p| p.label)
}

/// The ids of the built-in profiles, comma-separated (for help text).
pub fn ids() -> String {
    PROFILES.iter().map(|p| p.id).collect::<Vec<_>>().join(", ")
}
