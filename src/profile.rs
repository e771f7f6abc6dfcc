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
    /// The IdP finds each user by `filter=userName eq "…"` before it
    /// creates or updates it: the run's lookup check speaks for it.
    pub looks_up_users: bool,
}

/// Every built-in profile, in report order.
pub const PROFILES: &[Profile] = &[
    Profile {
        id: "entra",
        label: "Microsoft Entra ID (aadOptscim062020)",
        summary: "Entra ID provisioning with the aadOptscim062020 feature flag (RFC-compliant PATCH)",
        looks_up_users: true,
    },
    Profile {
        id: "entra-legacy",
        label: "Microsoft Entra ID (legacy dialect)",
        summary: "Entra ID's default dialect: \"Replace\", \"False\" strings, value-list member removal",
        looks_up_users: true,
    },
    Profile {
        id: "okta",
        label: "Okta (OIN, PATCH)",
        summary: "Okta's OIN SCIM 2.0 integration: paging with startIndex/count, PATCH active=false, Group Push",
        looks_up_users: true,
    },
    Profile {
        id: "okta-aiw",
        label: "Okta (AIW, PUT)",
        summary: "Okta's App Integration Wizard: updates by PUT of the whole resource",
        looks_up_users: true,
    },
    Profile {
        id: "google-workspace",
        label: "Google Workspace (auto-provisioning)",
        summary: "Google's catalog-app provisioning: count=1 probe, lookup without count, application/json writes; users only; update, suspend and delete modelled",
        looks_up_users: true,
    },
    Profile {
        id: "pingfederate",
        label: "PingFederate SCIM Provisioner / PingOne",
        summary: "Ping's provisioner: users by PUT only, groups by PATCH, group lookup by paging through every group, disable or delete; requests modelled from the docs",
        looks_up_users: true,
    },
    Profile {
        id: "jumpcloud",
        label: "JumpCloud (custom SCIM integration)",
        summary: "JumpCloud's create and full-PUT bodies from sanitized samples (null emails, empty arrays), deprovision, groups matched by name",
        looks_up_users: true,
    },
    Profile {
        id: "onelogin",
        label: "OneLogin (SCIM Provisioner)",
        summary: "OneLogin's documented calls: no-match lookup (200 or 404), '+' filters and trailing '&'/'?', PUT updates, lowercase group PATCH; bodies come from the admin's template",
        looks_up_users: true,
    },
    Profile {
        id: "rfc",
        label: "RFC 7643/7644",
        summary: "The SCIM 2.0 protocol and schema RFCs themselves",
        looks_up_users: false,
    },
    Profile {
        id: "schema",
        label: "Generated from /Schemas",
        summary: "Every attribute the server declares in /Schemas, checked as declared (suites generated at run time)",
        looks_up_users: false,
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
