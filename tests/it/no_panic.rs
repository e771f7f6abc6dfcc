//! Property tests: the suite loader, the template engine and the SCIM
//! filter and path parsers answer Ok or Err for any input, and never panic.
//! Inputs are real suites and filters with random edits, plus random text.
//! A bounded pass (2000 cases per property, or PROPTEST_CASES) runs in CI.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::sample::Index;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    ProptestConfig {
        cases,
        // The failing input is printed; no regression files in the tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A suite that uses every feature of the format.
const RICH_SUITE: &str = r#"
name: user-lifecycle
idp: entra
description: Create, read and delete a user the way Entra does
requires: [patch, filter]
vars:
  userName: "{{prefix}}-ada@example.com"
  n: 3
steps:
  - name: create-user
    why: Entra creates a user when its userName filter found none
    request:
      method: POST
      path: /Users
      body_file: user.json
    expect:
      status: 201
      check: [scim-resource, location, { name: media-type, advisory: true }]
      headers: { ETag: { exists: true } }
      json:
        "$.userName": "{{userName}}"
        "$.active": true
        "$.id": { exists: true, type: string, matches: "^[a-z0-9-]+$" }
        "$.emails": { count: 1, contains: { primary: true } }
        "$.meta.version": { one_of: [a, b], ignore_case: true }
        "$.x": { gt: 1, le: 10 }
    capture:
      userId: "$.id"
      etag: { header: ETag }
      loc: { json: "$.meta.location" }
  - name: find-user
    advisory: true
    request:
      method: GET
      path: /Users
      query: { filter: 'userName eq "{{userName}}"', count: "{{n}}" }
      headers: { If-None-Match: "{{etag}}" }
      auth: none
    expect:
      status: [200, 204]
      check: [list-response]
      json: { "$.totalResults": 1, "$.Resources[0].id": "{{userId}}" }
  - name: deactivate
    request:
      method: PATCH
      path: "/Users/{{userId}}"
      auth: invalid
      body:
        schemas: [urn:ietf:params:scim:api:messages:2.0:PatchOp]
        Operations: [{ op: Replace, path: active, value: "False" }]
    expect:
      any_of:
        - { status: 200, json: { "$.active": false } }
        - { status: 204, body: empty }
  - name: delete
    request: { method: DELETE, path: "/Users/{{userId}}" }
    expect: { status: 204, body: empty }
"#;

const FILTERS: &[&str] = &[
    r#"userName eq "bjensen""#,
    r#"name.familyName co "O'Malley""#,
    r#"userName sw "J""#,
    r#"title pr"#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"title pr and userType eq "Employee""#,
    r#"title pr or userType eq "Intern""#,
    r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
    r#"active eq true"#,
    r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
    r#"displayName eq null"#,
    r#"meta.version ge 1.5e3"#,
    r#"externalId eq "a\"b\\c\u00e9""#,
];

const PATHS: &[&str] = &[
    "userName",
    "name.givenName",
    r#"emails[type eq "work"].value"#,
    r#"members[value eq "2819c223"]"#,
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName",
    r#"addresses[type eq "work" and primary eq true].streetAddress"#,
];

/// The repository's own suites, as more seeds (read once).
fn repo_suites() -> &'static [String] {
    static SEEDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(read_repo_suites)
}

fn read_repo_suites() -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml")
                && let Ok(t) = std::fs::read_to_string(&p)
            {
                out.push(t);
            }
        }
    }
    let mut out = vec![RICH_SUITE.to_string()];
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("suites"),
        &mut out,
    );
    out
}

/// Characters that matter to YAML, JSONPath, templates and filters.
const NASTY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "-",
    "'",
    "\"",
    "|",
    ">",
    "&",
    "*",
    "!",
    "%",
    "@",
    "`",
    "#",
    "?",
    "\n",
    "\t",
    " ",
    "\\",
    "{{",
    "}}",
    "$.",
    "$..",
    "[*]",
    "\u{0}",
    "\u{feff}",
    "é",
    "𝄞",
    "~",
    "0",
    "-1",
    "1e999",
    "null",
    "true",
    "\"False\"",
    ".inf",
    "<<: *a",
    "&a",
    "!!binary",
    "---",
    "...",
    " eq ",
    " and ",
    " or ",
    " not ",
    "(",
    ")",
    " pr",
    "\r\n",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, String),
    Delete(Index, usize),
    Truncate(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    Replace(Index, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let piece = prop_oneof![
        3 => prop::sample::select(NASTY).prop_map(str::to_string),
        1 => "[ -~]{1,8}",
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    prop_oneof![
        4 => (any::<Index>(), piece.clone()).prop_map(|(i, s)| Edit::Insert(i, s)),
        3 => (any::<Index>(), 1usize..40).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => any::<Index>().prop_map(Edit::Truncate),
        1 => any::<Index>().prop_map(Edit::DuplicateLine),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        3 => (any::<Index>(), piece).prop_map(|(i, s)| Edit::Replace(i, s)),
    ]
}

/// A char boundary at or before `i.index(len + 1)`.
fn boundary(s: &str, i: &Index) -> usize {
    let mut at = i.index(s.len() + 1);
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(mut s: String, edits: &[Edit]) -> String {
    for e in edits {
        match e {
            Edit::Insert(i, p) => {
                let at = boundary(&s, i);
                s.insert_str(at, p);
            }
            Edit::Delete(i, n) => {
                let at = boundary(&s, i);
                let mut end = (at + n).min(s.len());
                while !s.is_char_boundary(end) {
                    end += 1;
                }
                s.replace_range(at..end, "");
            }
            Edit::Truncate(i) => {
                let at = boundary(&s, i);
                s.truncate(at);
            }
            Edit::DuplicateLine(i) => {
                let mut lines: Vec<&str> = s.lines().collect();
                if !lines.is_empty() {
                    let k = i.index(lines.len());
                    lines.insert(k, lines[k]);
                }
                s = lines.join("\n");
            }
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<&str> = s.lines().collect();
                if !lines.is_empty() {
                    let (x, y) = (a.index(lines.len()), b.index(lines.len()));
                    lines.swap(x, y);
                }
                s = lines.join("\n");
            }
            Edit::Replace(i, p) => {
                let at = boundary(&s, i);
                let end = s[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                s.replace_range(at..end, p);
            }
        }
    }
    s
}

/// A suites/ + fixtures/ folder, so `body_file` resolves for real.
struct Tree {
    _dir: tempfile::TempDir,
    suite: PathBuf,
}

/// One shared folder: the loader only reads it.
fn shared_tree() -> &'static Tree {
    static TREE: std::sync::OnceLock<Tree> = std::sync::OnceLock::new();
    TREE.get_or_init(tree)
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("suites")).unwrap();
    std::fs::create_dir_all(dir.path().join("fixtures")).unwrap();
    std::fs::write(
        dir.path().join("fixtures/user.json"),
        r#"{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "{{userName}}"}"#,
    )
    .unwrap();
    let suite = dir.path().join("suites/fuzz.yaml");
    Tree { _dir: dir, suite }
}

#[test]
fn the_seeds_are_valid() {
    // Mutations start from inputs that load, so they reach deep code.
    let t = tree();
    scimitar::suite::load_str(&t.suite, RICH_SUITE).expect("RICH_SUITE loads");
    for f in FILTERS {
        scimitar::scim::filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}"));
    }
    for p in PATHS {
        scimitar::scim::path::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_loader_never_panics_on_mutated_suites(
        seed in any::<Index>(),
        edits in prop::collection::vec(edit(), 1..8),
    ) {
        let seeds = repo_suites();
        let text = apply(seeds[seed.index(seeds.len())].clone(), &edits);
        let t = shared_tree();
        // Ok or Err; a panic fails the property.
        let _ = scimitar::suite::load_str(&t.suite, &text);
    }

    #[test]
    fn the_loader_never_panics_on_random_text(text in "\\PC{0,300}") {
        let t = shared_tree();
        let _ = scimitar::suite::load_str(&t.suite, &text);
    }

    #[test]
    fn the_filter_parser_never_panics(
        seed in prop::sample::select(FILTERS),
        edits in prop::collection::vec(edit(), 0..6),
    ) {
        let _ = scimitar::scim::filter::parse(&apply(seed.to_string(), &edits));
    }

    #[test]
    fn the_filter_parser_never_panics_on_random_text(text in "\\PC{0,120}") {
        let _ = scimitar::scim::filter::parse(&text);
    }

    #[test]
    fn the_path_parser_never_panics(
        seed in prop::sample::select(PATHS),
        edits in prop::collection::vec(edit(), 0..6),
    ) {
        let _ = scimitar::scim::path::parse(&apply(seed.to_string(), &edits));
    }

    #[test]
    fn templates_never_panic(text in "(\\PC|\\{\\{|\\}\\}){0,60}") {
        let mut vars = scimitar::suite::template::Vars::default();
        vars.set("prefix", serde_json::json!("scimitar-x-1"));
        vars.set("n", serde_json::json!(3));
        let _ = vars.render_text(&text);
        let _ = vars.render(&text);
        let _ = scimitar::suite::template::references(&text);
    }
}
