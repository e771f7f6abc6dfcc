//! The integration tests, in one binary (one link instead of one per file):
//! each module is one area, end to end through the scimitar binary or over
//! HTTP against the reference server. The fault catalogue runs apart, as
//! its own harness (tests/faults/).

#[path = "../support/mod.rs"]
mod support;

mod architecture;
mod certify;
mod cli;
mod concurrency;
mod config;
mod declared;
mod django_scim2;
mod external;
mod idp_suites;
mod install;
mod live_console;
mod load;
mod no_panic;
mod oauth;
mod record;
mod reports;
mod robustness;
mod schema_suite;
mod selection;
mod server;
mod snapall;
mod snapshots;
mod verdicts;
