//! `scimitar certify` end to end: the evidence bundle against the reference
//! server (with OAuth client credentials), and a mandatory requirement that
//! fails behind a fault-injecting proxy.

use std::path::Path;

use serde_json::Value;

use crate::support::proxy::{Fault, Req, Resp, start};
use crate::support::*;

fn requirement<'a>(ev: &'a Value, id: &str) -> &'a Value {
    ev["requirements"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["id"] == id))
        .unwrap_or_else(|| panic!("no requirement {id}"))
}

/// Panics unless `junit` follows `tests/data/junit.xsd`.
fn valid_junit(junit: &str) {
    let xsd =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/junit.xsd"))
            .unwrap();
    if let Err(e) = crate::verdicts::xsd::validate(&xsd, junit) {
        panic!("the certify JUnit does not validate: {e}\n{junit}");
    }
}

fn bundle(dir: &Path, programme: &str) -> Value {
    for ext in ["md", "html", "json", "junit.xml"] {
        let p = dir.join(format!("certify-{programme}.{ext}"));
        assert!(p.is_file(), "{} missing", p.display());
    }
    let text = std::fs::read_to_string(dir.join(format!("certify-{programme}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn entra_gallery_bundle_against_the_reference_server() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = scimitar(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "certify",
            "entra-gallery",
            "--embedded",
            "--out",
            out_dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.all());
    let ev = bundle(out_dir.path(), "entra-gallery");
    for id in [
        "zero-results",
        "username-lookup",
        "LA-23",
        "LA-17",
        "disable",
        "members",
        "LA-21",
    ] {
        assert_eq!(
            requirement(&ev, id)["status"],
            "pass",
            "{id}: {}",
            out.stdout
        );
    }
    // What only the tenant can show is never claimed.
    assert_eq!(requirement(&ev, "engine-tests")["status"], "in-tenant");
    assert!(
        requirement(&ev, "engine-tests")["proof_steps"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Each verdict carries the exact request and response, token redacted.
    let la23 = &requirement(&ev, "LA-23")["proof_steps"][0]["exchange"];
    assert!(
        la23["request"]["url"].as_str().unwrap().contains("count=5"),
        "{la23}"
    );
    assert_eq!(la23["response"]["status"], 200);
    // The lookup's proof: two creates, then each user found by its userName.
    let lookup = requirement(&ev, "username-lookup")["proof_steps"]
        .as_array()
        .unwrap();
    assert_eq!(lookup.len(), 4, "{lookup:?}");
    assert!(
        lookup[3]["step"]
            .as_str()
            .unwrap()
            .starts_with("userName lookup check: GET /Users?filter=userName"),
        "{}",
        lookup[3]["step"]
    );
    assert_eq!(lookup[3]["exchange"]["response"]["status"], 200);
    let md = std::fs::read_to_string(out_dir.path().join("certify-entra-gallery.md")).unwrap();
    assert!(
        md.contains("authorization: Bearer ***"),
        "token not redacted in the Markdown"
    );
    assert!(md.contains("to check in the tenant"));
    let junit =
        std::fs::read_to_string(out_dir.path().join("certify-entra-gallery.junit.xml")).unwrap();
    // The same junit-10 shape as `run --junit`, checked against the same schema.
    valid_junit(&junit);
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let skipped = doc
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .count();
    assert!(
        skipped > 0,
        "in-tenant requirements are skipped cases: {junit}"
    );
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, ev["requirements"].as_array().unwrap().len());
}

/// Entra quarantines a job whose lookup of a missing user answers 404
/// (application-provisioning-quarantine-status.md).
fn missing_user_is_404(req: &mut Req) -> Option<Resp> {
    let filter = req.param("filter").unwrap_or("");
    (req.scim_path() == "/Users" && filter.starts_with("userName eq"))
        .then(|| Resp::scim(404, None))
}

/// `scimitar certify PROGRAMME` against the reference server behind
/// `fault`, with a static token from the environment. Returns the exit
/// code, stdout and the folder holding the bundle.
fn certify_through(fault: Fault, programme: &str) -> (Option<i32>, String, tempfile::TempDir) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let proxied = rt.block_on(start(fault, Some("t0ken-for-certify")));
    let out_dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimitar"))
        .args([
            "certify",
            programme,
            "--url",
            &proxied.url,
            "--token-env",
            "CERT_TOKEN",
            "--out",
            out_dir.path().to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CERT_TOKEN", "t0ken-for-certify")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.code(), stdout, out_dir)
}

#[test]
fn a_failing_mandatory_requirement_fails_the_precheck() {
    let (code, stdout, out_dir) = certify_through(
        Fault::request(
            "a userName filter that finds nothing answers 404",
            missing_user_is_404,
        ),
        "entra-gallery",
    );
    assert_eq!(code, Some(1), "{stdout}");
    let ev = bundle(out_dir.path(), "entra-gallery");
    assert_eq!(requirement(&ev, "zero-results")["status"], "fail");
    let junit =
        std::fs::read_to_string(out_dir.path().join("certify-entra-gallery.junit.xml")).unwrap();
    valid_junit(&junit);
    assert!(
        junit.contains("<failure message=") && junit.contains("zero-results"),
        "{junit}"
    );
    assert!(
        stdout.contains("not ready: a mandatory requirement fails"),
        "{stdout}"
    );
    // A static token is not client credentials: not checked, never passed.
    assert_eq!(requirement(&ev, "LA-21")["status"], "not-checked");
    let all = std::fs::read_to_string(out_dir.path().join("certify-entra-gallery.json")).unwrap();
    assert!(
        !all.contains("t0ken-for-certify"),
        "the token leaked into the bundle"
    );
}

/// A server that ignores `filter` and lists everyone.
fn filter_ignored(req: &mut Req) -> Option<Resp> {
    req.drop_param("filter");
    None
}

#[test]
fn an_ignored_user_name_filter_fails_the_okta_precheck() {
    let (code, stdout, out_dir) =
        certify_through(Fault::request("filter ignored", filter_ignored), "okta-oin");
    assert_eq!(code, Some(1), "{stdout}");
    let ev = bundle(out_dir.path(), "okta-oin");
    let r = requirement(&ev, "username-lookup");
    assert_eq!(r["status"], "fail", "{r}");
    assert!(
        r["note"]
            .as_str()
            .unwrap()
            .contains("the filter is ignored or matched loosely"),
        "{r}"
    );
    let proof = r["proof_steps"].as_array().unwrap();
    assert_eq!(proof.last().unwrap()["outcome"], "failed", "{r}");
}
