//! Loading suites: find the files, parse the YAML, read the fixtures, and
//! check everything (variables, predicates, paths) before a request is sent.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model::*;
use super::predicate::Predicate;
use super::template::{self, BUILTINS};

/// Why a suite could not be loaded; each names the file and, where known,
/// the line and column.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{loc}: {message}")]
    Invalid { loc: SourceLoc, message: String },
    #[error("{}: no suite files (*.yaml, *.yml) found", .0.display())]
    NoSuites(PathBuf),
}

impl LoadError {
    fn at(loc: &SourceLoc, message: impl Into<String>) -> LoadError {
        LoadError::Invalid {
            loc: loc.clone(),
            message: message.into(),
        }
    }
}

/// Loads every suite under the given files or folders (folders recursively,
/// files sorted by path). All problems are returned, not just the first.
pub fn load_paths(paths: &[PathBuf]) -> Result<Vec<Suite>, Vec<LoadError>> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        let before = files.len();
        if let Err(e) = collect_files(p, &mut files) {
            errors.push(e);
        } else if files.len() == before {
            errors.push(LoadError::NoSuites(p.clone()));
        }
    }
    let mut suites: Vec<Suite> = Vec::new();
    for f in files {
        match load_file(&f) {
            Ok(s) => {
                if let Some(other) = suites.iter().find(|o| o.name == s.name) {
                    errors.push(LoadError::at(
                        &SourceLoc {
                            file: f.clone(),
                            line: 1,
                            column: 1,
                        },
                        format!(
                            "suite name '{}' is already used by {}; names must be unique",
                            s.name,
                            other.file.display()
                        ),
                    ));
                } else {
                    suites.push(s);
                }
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(suites)
    } else {
        Err(errors)
    }
}

fn collect_files(p: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |source| LoadError::Io {
        path: p.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(p).map_err(io)?;
    if meta.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect_files(&e, out)?;
        } else if matches!(e.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
            out.push(e);
        }
    }
    Ok(())
}

/// Where `body_file` paths resolve: the `fixtures/` folder beside the
/// `suites/` folder a suite lives in, else the suite's own folder.
pub fn fixtures_root(suite_file: &Path) -> PathBuf {
    let dir = suite_file.parent().unwrap_or(Path::new("."));
    for anc in dir.ancestors() {
        if anc.file_name().is_some_and(|n| n == "suites")
            && let Some(root) = anc.parent()
        {
            return root.join("fixtures");
        }
    }
    dir.to_path_buf()
}

/// Loads and checks one suite file.
pub fn load_file(path: &Path) -> Result<Suite, Vec<LoadError>> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        vec![LoadError::Io {
            path: path.to_path_buf(),
            source,
        }]
    })?;
    load_str(path, &text)
}

/// Loads a suite from text; `path` names it in errors and anchors `body_file`.
pub fn load_str(path: &Path, text: &str) -> Result<Suite, Vec<LoadError>> {
    let options = serde_saphyr::options! { strict_booleans: true };
    let file: SuiteFile = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let (line, column) = e
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((1, 1));
        vec![LoadError::at(
            &SourceLoc {
                file: path.to_path_buf(),
                line,
                column,
            },
            yaml_message(&e),
        )]
    })?;
    Checker::new(path).suite(file)
}

/// serde-saphyr's Display carries a source snippet over several lines; we
/// want the one-line reason (the location is printed separately).
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("invalid YAML").trim();
    // Drop the "error: line X column Y: " lead and any " at line X column Y"
    // tail: the location is printed in front already.
    let lead = regex::Regex::new(r"^(error: )?(line \d+ column \d+: )?").ok();
    let first = lead
        .map(|re| re.replace(first, "").into_owned())
        .unwrap_or_else(|| first.to_string());
    match first.find(" at line ") {
        Some(i) => first[..i].to_string(),
        None => first,
    }
}

struct Checker<'a> {
    path: &'a Path,
    errors: Vec<LoadError>,
    /// Variables referenced by the step being checked.
    refs: HashSet<String>,
    /// Which step last captured each variable.
    producers: std::collections::HashMap<String, String>,
}

impl<'a> Checker<'a> {
    fn new(path: &'a Path) -> Self {
        Checker {
            path,
            errors: Vec::new(),
            refs: HashSet::new(),
            producers: std::collections::HashMap::new(),
        }
    }

    fn loc(&self, line: u32, column: u32) -> SourceLoc {
        SourceLoc {
            file: self.path.to_path_buf(),
            line,
            column,
        }
    }

    fn err(&mut self, loc: &SourceLoc, msg: impl Into<String>) {
        self.errors.push(LoadError::at(loc, msg));
    }

    fn suite(mut self, file: SuiteFile) -> Result<Suite, Vec<LoadError>> {
        let top = self.loc(1, 1);
        let name = file.name.clone().unwrap_or_else(|| {
            self.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        });
        if name.trim().is_empty() || name.contains("::") {
            self.err(
                &top,
                format!("suite name {name:?} must be non-empty and free of '::'"),
            );
        }
        let mut requires = Vec::new();
        for r in &file.requires {
            match Capability::from_name(r) {
                Some(c) => requires.push(c),
                None => self.err(
                    &top,
                    format!(
                        "unknown capability '{r}' in requires (known: {})",
                        Capability::ALL.map(|c| c.name()).join(", ")
                    ),
                ),
            }
        }
        let mut defined: HashSet<String> = BUILTINS.iter().map(|s| s.to_string()).collect();
        let builtins = defined.clone();
        for (k, v) in &file.vars {
            self.refs_defined(&top, v, &builtins, &format!("vars.{k}"));
        }
        defined.extend(file.vars.keys().cloned());
        if file.steps.is_empty() {
            self.err(&top, "a suite needs at least one step");
        }
        let mut steps = Vec::new();
        let mut names = HashSet::new();
        for spanned in file.steps {
            let loc = self.loc(
                spanned.referenced.line() as u32,
                spanned.referenced.column() as u32,
            );
            let step_file = spanned.value;
            let before = names.clone();
            if !names.insert(step_file.name.clone()) {
                self.err(
                    &loc,
                    format!("step name '{}' is used twice", step_file.name),
                );
            }
            if let Some(step) = self.step(step_file, loc, &mut defined, &before) {
                steps.push(step);
            }
        }
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(Suite {
            name,
            idp: file.idp.unwrap_or_else(|| "custom".into()),
            description: file.description,
            requires,
            vars: file.vars.into_iter().collect(),
            steps,
            file: self.path.to_path_buf(),
        })
    }

    /// Reports templates in `v` that use names not yet defined.
    fn refs_defined(&mut self, loc: &SourceLoc, v: &Value, defined: &HashSet<String>, what: &str) {
        let mut refs = Vec::new();
        if let Err(e) = template::value_references(v, &mut refs) {
            self.err(loc, format!("{what}: {e}"));
            return;
        }
        for r in refs {
            self.refs.insert(r.clone());
            if !defined.contains(&r) {
                self.err(
                    loc,
                    format!(
                        "{what}: undefined variable '{{{{{r}}}}}' (define it in vars, capture it in an earlier step, or use one of {})",
                        BUILTINS.join(", ")
                    ),
                );
            }
        }
    }

    fn step(
        &mut self,
        s: StepFile,
        loc: SourceLoc,
        defined: &mut HashSet<String>,
        names_before: &HashSet<String>,
    ) -> Option<Step> {
        let before = self.errors.len();
        let what = |field: &str| format!("step '{}': {field}", s.name);
        if s.name.trim().is_empty() || s.name.contains("::") {
            self.err(
                &loc,
                format!("step name {:?} must be non-empty and free of '::'", s.name),
            );
        }

        self.refs.clear();
        let request = self.request(&s.request, &loc, defined, &what("request"));
        let fallback = s
            .fallback
            .as_ref()
            .map(|f| self.request(f, &loc, defined, &what("fallback")));
        let mut depends_on = Vec::new();
        for v in &s.depends_on {
            if names_before.contains(v) {
                depends_on.push(v.clone());
            } else {
                self.err(
                    &loc,
                    format!(
                        "{}: '{v}' is not an earlier step of this suite",
                        what("depends_on")
                    ),
                );
            }
        }
        let expect = self.expectation(&loc, &s.expect, defined, &what("expect"));

        // Captures become defined for later steps.
        let mut captures = Vec::new();
        for (var, spec) in &s.capture {
            let source = match spec {
                Value::String(p) => self
                    .json_path(&loc, p, &what("capture"))
                    .map(|()| CaptureSource::Json { path: p.clone() }),
                Value::Object(m)
                    if m.len() == 1 && m.get("header").is_some_and(Value::is_string) =>
                {
                    Some(CaptureSource::Header(
                        m["header"].as_str().unwrap_or_default().to_string(),
                    ))
                }
                Value::Object(m) if m.len() == 1 && m.get("json").is_some_and(Value::is_string) => {
                    let p = m["json"].as_str().unwrap_or_default().to_string();
                    self.json_path(&loc, &p, &what("capture"))
                        .map(|()| CaptureSource::Json { path: p })
                }
                _ => {
                    self.err(&loc, format!("{}: '{var}' must be a JSONPath string, {{header: Name}} or {{json: $.path}}", what("capture")));
                    None
                }
            };
            if let Some(source) = source {
                captures.push(Capture {
                    var: var.clone(),
                    source,
                });
            }
        }
        let needs: Vec<(String, String)> = {
            let mut refs: Vec<&String> = self.refs.iter().collect();
            refs.sort();
            refs.into_iter()
                .filter_map(|r| self.producers.get(r).map(|p| (r.clone(), p.clone())))
                .collect()
        };
        defined.extend(captures.iter().map(|c| c.var.clone()));
        for c in &captures {
            self.producers.insert(c.var.clone(), s.name.clone());
        }

        let snapshot = match &s.snapshot {
            None | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(SnapshotSpec::default()),
            Some(Value::String(n)) => Some(SnapshotSpec {
                name: Some(n.clone()),
                redact: vec![],
            }),
            Some(Value::Object(m)) if m.keys().all(|k| k == "name" || k == "redact") => {
                let name = m.get("name").and_then(Value::as_str).map(str::to_string);
                let redact: Vec<String> = m
                    .get("redact")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                for p in &redact {
                    self.json_path(&loc, p, &what("snapshot.redact"));
                }
                Some(SnapshotSpec { name, redact })
            }
            Some(_) => {
                self.err(
                    &loc,
                    format!(
                        "{}: use true, a name, or {{name, redact: [$.path, …]}}",
                        what("snapshot")
                    ),
                );
                None
            }
        };

        if self.errors.len() > before {
            return None;
        }
        Some(Step {
            name: s.name.clone(),
            why: s.why.clone(),
            advisory: s.advisory,
            request,
            expect: expect.unwrap_or_default(),
            captures,
            snapshot,
            depends_on,
            fallback,
            needs,
            loc,
        })
    }

    /// Checks and types one request (`request` or `fallback`).
    fn request(
        &mut self,
        r: &RequestFile,
        loc: &SourceLoc,
        defined: &HashSet<String>,
        what: &str,
    ) -> RequestSpec {
        let loc = loc.clone();
        let what = |field: &str| match field.split_once('.') {
            Some((_, rest)) => format!("{what}.{rest}"),
            None => what.to_string(),
        };
        // Any token is a legal method to HTTP; a suite naming one SCIM never
        // uses is a typo (`GTE`), not a test.
        const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
        let upper = r.method.to_ascii_uppercase();
        let method = match reqwest::Method::from_bytes(upper.as_bytes())
            .ok()
            .filter(|_| METHODS.contains(&upper.as_str()))
        {
            Some(m) => m,
            None => {
                self.err(
                    &loc,
                    format!(
                        "{}: '{}' is not an HTTP method SCIM uses ({})",
                        what("request.method"),
                        r.method,
                        METHODS.join(", ")
                    ),
                );
                reqwest::Method::GET
            }
        };
        if !r.path.starts_with('/') {
            self.err(
                &loc,
                format!(
                    "{}: '{}' must start with '/' (it is joined to the base URL)",
                    what("request.path"),
                    r.path
                ),
            );
        }
        self.refs_defined(
            &loc,
            &Value::String(r.path.clone()),
            defined,
            &what("request.path"),
        );
        for (k, v) in &r.query {
            if !(v.is_string() || v.is_number() || v.is_boolean()) {
                self.err(
                    &loc,
                    format!(
                        "{}: '{k}' must be a string, number or boolean",
                        what("request.query")
                    ),
                );
            }
            self.refs_defined(&loc, v, defined, &what("request.query"));
        }
        for v in r.headers.values() {
            self.refs_defined(
                &loc,
                &Value::String(v.clone()),
                defined,
                &what("request.headers"),
            );
        }
        let body = match (&r.body, &r.body_file) {
            (Some(_), Some(_)) => {
                self.err(
                    &loc,
                    format!(
                        "{}: give either body or body_file, not both",
                        what("request")
                    ),
                );
                None
            }
            (Some(b), None) => Some(b.clone()),
            (None, Some(f)) => self.fixture(&loc, f),
            (None, None) => None,
        };
        if let Some(b) = &body {
            self.refs_defined(&loc, b, defined, &what("request.body"));
        }
        let auth = match r.auth.as_deref() {
            None | Some("default") => AuthMode::Default,
            Some("none") => AuthMode::None,
            Some("invalid") => AuthMode::Invalid,
            Some(other) => {
                self.err(
                    &loc,
                    format!(
                        "{}: '{other}' is not one of default, none, invalid",
                        what("request.auth")
                    ),
                );
                AuthMode::Default
            }
        };
        RequestSpec {
            method,
            path: r.path.clone(),
            query: r.query.clone().into_iter().collect(),
            headers: r.headers.clone().into_iter().collect(),
            body,
            auth,
        }
    }

    fn fixture(&mut self, loc: &SourceLoc, name: &str) -> Option<Value> {
        let full = fixtures_root(self.path).join(name);
        let text = match std::fs::read_to_string(&full) {
            Ok(t) => t,
            Err(e) => {
                self.err(
                    loc,
                    format!("body_file '{}' cannot be read: {e}", full.display()),
                );
                return None;
            }
        };
        match serde_json::from_str(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.err(
                    loc,
                    format!(
                        "body_file {}:{}:{}: invalid JSON: {e}",
                        full.display(),
                        e.line(),
                        e.column()
                    ),
                );
                None
            }
        }
    }

    /// Checks a JSONPath (templates stand in as plain names).
    fn json_path(&mut self, loc: &SourceLoc, p: &str, what: &str) -> Option<()> {
        let probe = p.replace("{{", "").replace("}}", "");
        match serde_json_path::JsonPath::parse(&probe) {
            Ok(_) => Some(()),
            Err(e) => {
                self.err(
                    loc,
                    format!("{what}: '{p}' is not a JSONPath (RFC 9535): {e}"),
                );
                None
            }
        }
    }

    fn expectation(
        &mut self,
        loc: &SourceLoc,
        e: &ExpectFile,
        defined: &HashSet<String>,
        what: &str,
    ) -> Option<Expectation> {
        let status = match &e.status {
            None => None,
            Some(v) => {
                let list: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    one => vec![one],
                };
                let codes: Option<Vec<u16>> = list
                    .iter()
                    .map(|c| {
                        c.as_u64()
                            .filter(|n| (100..=599).contains(n))
                            .map(|n| n as u16)
                    })
                    .collect();
                if codes.is_none() || list.is_empty() {
                    self.err(
                        loc,
                        format!("{what}.status: give an HTTP status (100-599) or a list of them"),
                    );
                }
                codes
            }
        };
        let mut headers = Vec::new();
        for (h, p) in &e.headers {
            match Predicate::parse(p) {
                Ok(pred) => {
                    for o in pred.operands() {
                        self.refs_defined(loc, o, defined, &format!("{what}.headers.{h}"));
                    }
                    headers.push((h.clone(), pred));
                }
                Err(m) => self.err(loc, format!("{what}.headers.{h}: {m}")),
            }
        }
        let mut json = Vec::new();
        for (path, p) in &e.json {
            self.json_path(loc, path, &format!("{what}.json"));
            match Predicate::parse(p) {
                Ok(pred) => {
                    for o in pred.operands() {
                        self.refs_defined(loc, o, defined, &format!("{what}.json.{path}"));
                    }
                    json.push(JsonAssert {
                        path: path.clone(),
                        predicate: pred,
                    });
                }
                Err(m) => self.err(loc, format!("{what}.json.{path}: {m}")),
            }
        }
        let mut checks = Vec::new();
        for c in &e.check {
            let (name, advisory) = match c {
                Value::String(n) => (n.as_str(), false),
                Value::Object(m)
                    if m.get("name").is_some_and(Value::is_string)
                        && m.keys().all(|k| k == "name" || k == "advisory") =>
                {
                    (
                        m["name"].as_str().unwrap_or_default(),
                        m.get("advisory").and_then(Value::as_bool).unwrap_or(false),
                    )
                }
                _ => {
                    self.err(
                        loc,
                        format!("{what}.check: each entry is a check name or {{name, advisory}}"),
                    );
                    continue;
                }
            };
            match CheckKind::from_name(name) {
                Some(kind) => checks.push(NamedCheck { kind, advisory }),
                None => self.err(
                    loc,
                    format!(
                        "{what}.check: unknown check '{name}' (known: {})",
                        CheckKind::ALL.map(|c| c.name()).join(", ")
                    ),
                ),
            }
        }
        let body = match e.body.as_deref() {
            None | Some("required") => BodyRule::Required,
            Some("optional") => BodyRule::Optional,
            Some("empty") => BodyRule::Empty,
            Some(other) => {
                self.err(
                    loc,
                    format!("{what}.body: '{other}' is not one of required, optional, empty"),
                );
                BodyRule::Required
            }
        };
        let mut any_of = Vec::new();
        for (i, alt) in e.any_of.iter().enumerate() {
            if let Some(x) = self.expectation(loc, alt, defined, &format!("{what}.any_of[{i}]")) {
                any_of.push(x);
            }
        }
        Some(Expectation {
            status,
            headers,
            json,
            checks,
            body,
            any_of,
        })
    }
}
