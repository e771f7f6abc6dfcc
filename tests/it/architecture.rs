//! The import graph of `src/` and the rules it keeps (design.md, "Shape of
//! the code"; issue 12).
//!
//! Every `.rs` file under `src/` is read; the module paths in its code (not
//! in comments or string literals) become edges: `crate::x…`, `super::x…`,
//! `self::x…`, a child module's name, and in the binary (`src/main.rs` and
//! the modules it declares) `scimitar::x…` into the library. Each rule is a
//! row of [`RULES`] and has its own `#[test]`, so one can be switched on or
//! off alone. To add a rule: a row, and a test calling `check("its-id")`.
//!
//! Limits: a path is resolved to the deepest module that exists as a file or
//! inline `mod`; an item re-exported by `lib.rs` and named `crate::item`
//! counts as an edge to `lib.rs`, not to the module that defines it; inherent
//! methods called on a type from another module (`filter.matches(…)`) need
//! no path, so they are no edge.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::OnceLock;

// ---------------------------------------------------------------- rules

/// What a rule asks of the graph. Module names are the library's top-level
/// modules (`src/<name>.rs` or `src/<name>/`).
#[derive(Debug)]
enum Rule {
    /// No cycle between the library's top-level modules.
    TopLevelAcyclic,
    /// No cycle between the files of `src/<module>/`.
    FilesAcyclic { module: &'static str },
    /// `module` imports no other part of the library than `allowed`.
    OnlyImports {
        module: &'static str,
        allowed: &'static [&'static str],
    },
    /// `module` imports none of `forbidden`; `"*"` means every library
    /// module that is not itself forbidden.
    NeverImports {
        module: &'static str,
        forbidden: &'static [&'static str],
    },
}

struct RuleRow {
    id: &'static str,
    why: &'static str,
    rule: Rule,
}

const RULES: &[RuleRow] = &[
    RuleRow {
        id: "top-level-acyclic",
        why: "data flows one way: suites → runner → results → reports",
        rule: Rule::TopLevelAcyclic,
    },
    RuleRow {
        id: "scim-files-acyclic",
        why: "the path/filter grammar apart from its evaluation, helpers and schemas below both",
        rule: Rule::FilesAcyclic { module: "scim" },
    },
    RuleRow {
        id: "scim-imports-nothing",
        why: "scim is pure SCIM knowledge, shared by the checks and the server",
        rule: Rule::OnlyImports {
            module: "scim",
            allowed: &[],
        },
    },
    RuleRow {
        id: "server-imports-only-scim",
        why: "the reference server knows no harness",
        rule: Rule::OnlyImports {
            module: "server",
            allowed: &["scim"],
        },
    },
    RuleRow {
        id: "report-imports-only-results",
        why: "reports are pure consumers of results",
        rule: Rule::OnlyImports {
            module: "report",
            // embedded: to name a built-in suite by its path in the repository.
            allowed: &["results", "profile", "embedded"],
        },
    },
    RuleRow {
        id: "suite-sends-nothing",
        why: "loading a suite never sends a request: it may name http's request types (AuthMode), never run anything",
        rule: Rule::NeverImports {
            module: "suite",
            forbidden: &[
                "runner", "events", "results", "snapshot", "report", "cleanup",
            ],
        },
    },
    RuleRow {
        id: "library-never-imports-command-layer",
        why: "the library is usable without the binary's clap types, exit codes and console",
        rule: Rule::NeverImports {
            module: "*",
            forbidden: &["cli", "app", "cmd"],
        },
    },
];

#[test]
fn scim_files_have_no_cycle() {
    check("scim-files-acyclic");
}

#[test]
fn scim_imports_nothing_else_of_the_crate() {
    check("scim-imports-nothing");
}

#[test]
fn server_imports_only_scim() {
    check("server-imports-only-scim");
}

#[test]
fn suite_sends_nothing() {
    check("suite-sends-nothing");
}

#[test]
fn top_level_modules_have_no_cycle() {
    check("top-level-acyclic");
}

#[test]
fn reports_import_only_results() {
    check("report-imports-only-results");
}

#[test]
fn library_never_imports_the_command_layer() {
    check("library-never-imports-command-layer");
}

/// Guards the rules above against passing because nothing was extracted.
#[test]
fn the_real_tree_yields_the_edges_it_should() {
    let g = real();
    let tops = g.top_edges();
    assert!(
        tops.contains_key(&("server".into(), "scim".into())),
        "server uses scim, yet no edge server → scim was found; edges: {tops:?}"
    );
    assert!(
        tops.keys()
            .any(|(from, to)| from.starts_with("main.rs") && !to.starts_with("main.rs")),
        "the binary uses the library, yet no edge leaves src/main.rs or its modules"
    );
    let scim_edges = g.file_edges("scim");
    assert!(
        scim_edges.len() >= 5,
        "src/scim's files import each other, yet only {scim_edges:?} were found"
    );
}

/// Every rule has its test above, and names a module that exists.
#[test]
fn every_rule_names_modules_that_exist() {
    let tops = real().library_tops();
    for row in RULES {
        match &row.rule {
            Rule::TopLevelAcyclic => {}
            Rule::FilesAcyclic { module }
            | Rule::OnlyImports { module, .. }
            | Rule::NeverImports { module, .. } => assert!(
                *module == "*" || tops.contains(*module),
                "rule {} names `{module}`, which is no module of the library ({tops:?})",
                row.id
            ),
        }
    }
    let this = include_str!("architecture.rs");
    for row in RULES {
        assert!(
            this.contains(&format!("check(\"{}\")", row.id)),
            "rule {} has no #[test] calling check(\"{}\")",
            row.id,
            row.id
        );
    }
}

/// The graph of this crate's `src/`, read once for all tests.
fn real() -> &'static Graph {
    static G: OnceLock<Graph> = OnceLock::new();
    G.get_or_init(|| Graph::from_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")))
}

/// Checks one rule against `src/`, panicking with what breaks it.
fn check(id: &str) {
    let row = RULES
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no rule {id}"));
    if let Err(report) = real().check(&row.rule) {
        panic!("rule {} ({}) is broken:\n{report}", row.id, row.why);
    }
}

// ------------------------------------------------------------ the graph

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Krate {
    Lib,
    Bin,
}

/// A module: its crate and path from that crate's root (`[]` is the root).
type ModPath = (Krate, Vec<String>);

#[derive(Debug)]
struct SourceFile {
    /// Path under `src/`, with `/` separators.
    rel: String,
    module: ModPath,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone)]
struct Edge {
    from_file: String,
    from_top: String,
    to_file: String,
    to_top: String,
    to_krate: Krate,
    line: usize,
    /// The path as written (`super::schema::Attribute`).
    text: String,
}

impl Edge {
    fn at(&self) -> String {
        format!("src/{}:{}  {}", self.from_file, self.line, self.text)
    }
}

/// One line per place edges are made: `src/a.rs:6  crate::b::{C, D}`.
fn places(edges: &[&Edge]) -> Vec<String> {
    let mut by_line: Vec<((&str, usize), Vec<&str>)> = Vec::new();
    for e in edges {
        let key = (e.from_file.as_str(), e.line);
        match by_line.iter_mut().find(|(k, _)| *k == key) {
            Some((_, texts)) => texts.push(&e.text),
            None => by_line.push((key, vec![&e.text])),
        }
    }
    by_line
        .into_iter()
        .map(|((file, line), texts)| {
            let text = if texts.len() == 1 {
                texts[0].to_string()
            } else {
                let split: Vec<Vec<&str>> = texts.iter().map(|t| t.split("::").collect()).collect();
                let common = (0..split[0].len())
                    .take_while(|&n| split.iter().all(|s| s.len() > n && s[n] == split[0][n]))
                    .count();
                let rest: Vec<String> = split
                    .iter()
                    .map(|s| match s[common..].join("::") {
                        r if r.is_empty() => "self".to_string(),
                        r => r,
                    })
                    .collect();
                format!("{}::{{{}}}", split[0][..common].join("::"), rest.join(", "))
            };
            format!("src/{file}:{line}  {text}")
        })
        .collect()
}

struct Graph {
    files: Vec<SourceFile>,
    /// Modules that are files, by module path → file.
    file_modules: BTreeMap<ModPath, String>,
    /// Every module: files and inline `mod x { … }`.
    modules: BTreeSet<ModPath>,
    edges: Vec<Edge>,
}

impl Graph {
    fn from_dir(src: &Path) -> Graph {
        let mut files = Vec::new();
        let mut stack = vec![src.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                let p = entry.expect("a directory entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|e| e == "rs") {
                    let rel = p
                        .strip_prefix(src)
                        .expect("under src")
                        .to_string_lossy()
                        .replace('\\', "/");
                    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
                    files.push((rel, text));
                }
            }
        }
        files.sort();
        assert!(!files.is_empty(), "no .rs file under {src:?}");
        Graph::from_sources(&files)
    }

    /// Builds the graph from (path under `src/`, contents) pairs.
    fn from_sources<S: AsRef<str>, T: AsRef<str>>(sources: &[(S, T)]) -> Graph {
        let tokenized: Vec<(String, Vec<Token>)> = sources
            .iter()
            .map(|(rel, text)| (rel.as_ref().to_string(), tokenize(&strip(text.as_ref()))))
            .collect();
        // The binary's own modules are the ones src/main.rs declares.
        let bin_mods: BTreeSet<String> = tokenized
            .iter()
            .filter(|(rel, _)| rel == "main.rs")
            .flat_map(|(_, toks)| declared_mods(toks))
            .collect();
        let mut files = Vec::new();
        let mut file_modules = BTreeMap::new();
        for (rel, tokens) in tokenized {
            let Some(module) = module_of(&rel, &bin_mods) else {
                continue;
            };
            file_modules.insert(module.clone(), rel.clone());
            files.push(SourceFile {
                rel,
                module,
                tokens,
            });
        }
        let mut modules: BTreeSet<ModPath> = file_modules.keys().cloned().collect();
        for f in &files {
            walk(f, |m, _| {
                modules.insert((f.module.0, m.to_vec()));
            });
        }
        let mut g = Graph {
            files,
            file_modules,
            modules,
            edges: Vec::new(),
        };
        g.edges = g.extract_edges();
        g
    }

    fn extract_edges(&self) -> Vec<Edge> {
        let mut edges = Vec::new();
        for f in &self.files {
            let krate = f.module.0;
            for (current, path) in paths_of(f) {
                let Some(target) = self.resolve(krate, &current, &path.segs) else {
                    continue;
                };
                let to_file = self.file_of(&target);
                if to_file == f.rel {
                    continue;
                }
                edges.push(Edge {
                    from_file: f.rel.clone(),
                    from_top: self.top(&f.module),
                    to_file,
                    to_top: self.top(&target),
                    to_krate: target.0,
                    line: path.line,
                    text: path.segs.join("::").trim_end_matches("::self").to_string(),
                });
            }
        }
        edges
    }

    /// The module a path names, or `None` for another crate (std, serde…).
    fn resolve(&self, krate: Krate, current: &[String], segs: &[String]) -> Option<ModPath> {
        let first = segs.first()?.as_str();
        let (k, mut abs) = match first {
            "crate" => (krate, segs[1..].to_vec()),
            "super" => {
                let ups = segs.iter().take_while(|s| *s == "super").count();
                let base = current.len().checked_sub(ups)?;
                let mut abs = current[..base].to_vec();
                abs.extend_from_slice(&segs[ups..]);
                (krate, abs)
            }
            "self" => {
                let mut abs = current.to_vec();
                abs.extend_from_slice(&segs[1..]);
                (krate, abs)
            }
            "scimitar" if krate == Krate::Bin => (Krate::Lib, segs[1..].to_vec()),
            name => {
                let mut abs = current.to_vec();
                abs.push(name.to_string());
                if !self.modules.contains(&(krate, abs.clone())) {
                    return None;
                }
                abs.extend_from_slice(&segs[1..]);
                (krate, abs)
            }
        };
        // `use x::{self}` names x.
        if abs.last().is_some_and(|s| s == "self") {
            abs.pop();
        }
        Some((k, abs))
    }

    /// The file holding `module` (or the item it names): its deepest prefix
    /// that is a file.
    fn file_of(&self, (krate, path): &ModPath) -> String {
        (0..=path.len())
            .rev()
            .find_map(|n| self.file_modules.get(&(*krate, path[..n].to_vec())))
            .cloned()
            .unwrap_or_else(|| root_file(*krate).to_string())
    }

    /// The top-level module a path is in; the crate root's file for an item
    /// of the root. Binary modules are named `main.rs/<name>`.
    fn top(&self, (krate, path): &ModPath) -> String {
        match path.first() {
            Some(first) if self.modules.contains(&(*krate, vec![first.clone()])) => match krate {
                Krate::Lib => first.clone(),
                Krate::Bin => format!("main.rs/{first}"),
            },
            _ => root_file(*krate).to_string(),
        }
    }

    /// The library's top-level modules.
    fn library_tops(&self) -> BTreeSet<String> {
        self.modules
            .iter()
            .filter(|(k, p)| *k == Krate::Lib && p.len() == 1)
            .map(|(_, p)| p[0].clone())
            .collect()
    }

    /// Edges between different top-level modules, with every place each is
    /// made.
    fn top_edges(&self) -> BTreeMap<(String, String), Vec<&Edge>> {
        let mut out: BTreeMap<(String, String), Vec<&Edge>> = BTreeMap::new();
        for e in self.edges.iter().filter(|e| e.from_top != e.to_top) {
            out.entry((e.from_top.clone(), e.to_top.clone()))
                .or_default()
                .push(e);
        }
        out
    }

    /// Edges between different files of `src/<module>/`.
    fn file_edges(&self, module: &str) -> BTreeMap<(String, String), Vec<&Edge>> {
        let inside =
            |rel: &str| rel == format!("{module}.rs") || rel.starts_with(&format!("{module}/"));
        let mut out: BTreeMap<(String, String), Vec<&Edge>> = BTreeMap::new();
        for e in &self.edges {
            if e.to_krate == Krate::Lib
                && self.is_lib_file(&e.from_file)
                && inside(&e.from_file)
                && inside(&e.to_file)
            {
                out.entry((format!("src/{}", e.from_file), format!("src/{}", e.to_file)))
                    .or_default()
                    .push(e);
            }
        }
        out
    }

    fn is_lib_file(&self, rel: &str) -> bool {
        self.files
            .iter()
            .any(|f| f.rel == rel && f.module.0 == Krate::Lib)
    }

    /// `Ok` when the rule holds; otherwise a readable account of why not.
    fn check(&self, rule: &Rule) -> Result<(), String> {
        match rule {
            Rule::TopLevelAcyclic => {
                let root = root_file(Krate::Lib);
                let mut edges = self.top_edges();
                edges.retain(|(from, to), es| {
                    from != root && to != root && es.iter().all(|e| self.is_lib_file(&e.from_file))
                });
                cycles(&edges)
            }
            Rule::FilesAcyclic { module } => cycles(&self.file_edges(module)),
            Rule::OnlyImports { module, allowed } => {
                self.violations(|from| from == *module, |to| !allowed.contains(&to))
            }
            Rule::NeverImports { module, forbidden } => self.violations(
                |from| {
                    if *module == "*" {
                        !forbidden.contains(&from)
                    } else {
                        from == *module
                    }
                },
                |to| forbidden.contains(&to),
            ),
        }
    }

    /// Library edges out of a module `source` accepts into one `bad` flags.
    fn violations(
        &self,
        source: impl Fn(&str) -> bool,
        bad: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        let mut report = String::new();
        for ((from, to), es) in self.top_edges() {
            let es: Vec<&Edge> = es
                .into_iter()
                .filter(|e| self.is_lib_file(&e.from_file) && e.to_krate == Krate::Lib)
                .collect();
            if !es.is_empty() && source(&from) && bad(&to) {
                let _ = writeln!(report, "  {from} → {to}:");
                for place in places(&es) {
                    let _ = writeln!(report, "      {place}");
                }
            }
        }
        if report.is_empty() {
            Ok(())
        } else {
            Err(format!("these imports are not allowed:\n{report}"))
        }
    }
}

fn root_file(krate: Krate) -> &'static str {
    match krate {
        Krate::Lib => "lib.rs",
        Krate::Bin => "main.rs",
    }
}

/// The module a file under `src/` is, and its crate; `None` for files no
/// crate compiles as a module here (`src/bin/…`).
fn module_of(rel: &str, bin_mods: &BTreeSet<String>) -> Option<ModPath> {
    let mut parts: Vec<String> = rel
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_string)
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    match rel {
        "lib.rs" => return Some((Krate::Lib, Vec::new())),
        "main.rs" => return Some((Krate::Bin, Vec::new())),
        _ => {}
    }
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    let krate = if bin_mods.contains(&parts[0]) {
        Krate::Bin
    } else {
        Krate::Lib
    };
    Some((krate, parts))
}

/// Reports every strongly connected set of nodes: its members, its shortest
/// cycle, and every edge between its members with where it is made.
fn cycles(edges: &BTreeMap<(String, String), Vec<&Edge>>) -> Result<(), String> {
    let mut succ: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        succ.entry(from).or_default().insert(to);
        succ.entry(to).or_default();
    }
    let reach = |start: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue = VecDeque::from([start.to_string()]);
        while let Some(n) = queue.pop_front() {
            for s in succ.get(n.as_str()).into_iter().flatten() {
                if seen.insert(s.to_string()) {
                    queue.push_back(s.to_string());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&str, BTreeSet<String>> = succ.keys().map(|n| (*n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut report = String::new();
    for n in succ.keys() {
        if done.contains(*n) || !reachable[n].contains(*n) {
            continue;
        }
        let members: BTreeSet<&str> = succ
            .keys()
            .copied()
            .filter(|m| reachable[n].contains(*m) && reachable[m].contains(*n))
            .collect();
        done.extend(members.iter().map(|m| m.to_string()));
        let cycle = shortest_cycle(n, &succ, &members);
        let _ = writeln!(report, "cycle: {}", cycle.join(" → "));
        for pair in cycle.windows(2) {
            let e = edges[&(pair[0].clone(), pair[1].clone())][0];
            let _ = writeln!(report, "  {} → {}   ({})", pair[0], pair[1], e.at());
        }
        let _ = writeln!(
            report,
            "all of {} depend on each other; every edge between them:",
            members.iter().copied().collect::<Vec<_>>().join(", ")
        );
        for ((from, to), es) in edges {
            if members.contains(from.as_str()) && members.contains(to.as_str()) {
                let _ = writeln!(report, "  {from} → {to}:");
                for place in places(es) {
                    let _ = writeln!(report, "      {place}");
                }
            }
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

/// The shortest path from `start` back to itself inside `members`.
fn shortest_cycle(
    start: &str,
    succ: &BTreeMap<&str, BTreeSet<&str>>,
    members: &BTreeSet<&str>,
) -> Vec<String> {
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    let mut visited = BTreeSet::new();
    while let Some(n) = queue.pop_front() {
        for &s in &succ[n] {
            if !members.contains(s) {
                continue;
            }
            if s == start {
                let mut path = vec![start.to_string()];
                let mut cur = n;
                while cur != start {
                    path.push(cur.to_string());
                    cur = prev[cur];
                }
                path.push(start.to_string());
                path.reverse();
                return path;
            }
            if visited.insert(s) {
                prev.insert(s, n);
                queue.push_back(s);
            }
        }
    }
    unreachable!("{start} is in a cycle")
}

// ------------------------------------------------------------ the source

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Star,
    Other(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

/// Blanks out comments (nested block comments too), string literals (raw
/// and byte ones too) and char literals, keeping every newline so lines
/// still count. Lifetimes (`'a`) stay.
fn strip(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out: Vec<char> = c.clone();
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        let to = to.min(out.len());
        for ch in out[from.min(to)..to].iter_mut() {
            if *ch != '\n' {
                *ch = ' ';
            }
        }
    };
    let mut i = 0;
    while i < c.len() {
        let at = |k: usize| c.get(k).copied().unwrap_or('\0');
        match c[i] {
            '/' if at(i + 1) == '/' => {
                let end = (i..c.len()).find(|&k| c[k] == '\n').unwrap_or(c.len());
                blank(&mut out, i, end);
                i = end;
            }
            '/' if at(i + 1) == '*' => {
                let (mut depth, mut k) = (1, i + 2);
                while k < c.len() && depth > 0 {
                    if c[k] == '/' && at(k + 1) == '*' {
                        depth += 1;
                        k += 2;
                    } else if c[k] == '*' && at(k + 1) == '/' {
                        depth -= 1;
                        k += 2;
                    } else {
                        k += 1;
                    }
                }
                blank(&mut out, i, k);
                i = k;
            }
            'r' if (i == 0
                || !ident(c[i - 1])
                || (c[i - 1] == 'b' && (i < 2 || !ident(c[i - 2]))))
                && {
                    let hashes = (i + 1..c.len()).take_while(|&k| c[k] == '#').count();
                    at(i + 1 + hashes) == '"'
                } =>
            {
                let hashes = (i + 1..c.len()).take_while(|&k| c[k] == '#').count();
                let body = i + 2 + hashes;
                let close: String = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                let end = (body..c.len())
                    .find(|&k| c[k..].iter().take(close.len()).copied().eq(close.chars()))
                    .map_or(c.len(), |k| k + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            '"' => {
                let mut k = i + 1;
                while k < c.len() && c[k] != '"' {
                    k += if c[k] == '\\' { 2 } else { 1 };
                }
                let body: String = c[i + 1..k.min(c.len())].iter().collect();
                if names_path_in_attribute(&c[..i], &body) {
                    // `#[serde(serialize_with = "crate::http::ser_ms")]` is a use.
                    blank(&mut out, i, i + 1);
                    blank(&mut out, k, k + 1);
                } else {
                    blank(&mut out, i, k + 1);
                }
                i = k + 1;
            }
            '\'' if at(i + 1) == '\\' => {
                // '\n', '\'', '\u{…}': the closing quote comes after the escape.
                let end = (i + 3..c.len()).find(|&k| c[k] == '\'').unwrap_or(c.len());
                blank(&mut out, i, end + 1);
                i = end + 1;
            }
            '\'' if at(i + 2) == '\'' => {
                blank(&mut out, i, i + 3);
                i += 3;
            }
            _ => i += 1,
        }
    }
    out.into_iter().collect()
}

/// Whether a string literal whose text is `body`, after `before`, is a path
/// given to a path-taking attribute argument
/// (`#[serde(serialize_with = "crate::http::ser_ms")]`).
fn names_path_in_attribute(before: &[char], body: &str) -> bool {
    let mut segs = body.split("::");
    let first_ok = segs
        .next()
        .is_some_and(|s| matches!(s, "crate" | "super" | "self"));
    let rest: Vec<&str> = segs.collect();
    let is_path = first_ok
        && !rest.is_empty()
        && rest.iter().all(|s| {
            s.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_alphanumeric() || c == '_')
        });
    if !is_path {
        return false;
    }
    // `key =` right before the string, with a key that takes a path.
    let mut k = before.len();
    while k > 0 && before[k - 1].is_whitespace() {
        k -= 1;
    }
    if k == 0 || before[k - 1] != '=' {
        return false;
    }
    k -= 1;
    while k > 0 && before[k - 1].is_whitespace() {
        k -= 1;
    }
    let end = k;
    while k > 0 && (before[k - 1].is_alphanumeric() || before[k - 1] == '_') {
        k -= 1;
    }
    let key: String = before[k..end].iter().collect();
    let takes_path = key.ends_with("with")
        || matches!(key.as_str(), "default" | "skip_serializing_if" | "getter");
    // Inside `#[…]`: an opening `#[` comes before any `;`, brace or `]`.
    let in_attribute = (1..k)
        .rev()
        .map(|j| (before[j - 1], before[j]))
        .find(|&(a, b)| (a == '#' && b == '[') || matches!(b, ';' | '{' | '}' | ']'))
        .is_some_and(|(a, b)| a == '#' && b == '[');
    takes_path && in_attribute
}

fn tokenize(s: &str) -> Vec<Token> {
    let c: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < c.len() {
        let ch = c[i];
        let tok = if ch == '\n' {
            line += 1;
            i += 1;
            continue;
        } else if ch.is_whitespace() {
            i += 1;
            continue;
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(c[start..i].iter().collect()),
                line,
            });
            continue;
        } else if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            continue;
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            i += 1;
            Tok::PathSep
        } else {
            match ch {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                ';' => Tok::Semi,
                '*' => Tok::Star,
                other => Tok::Other(other),
            }
        };
        i += 1;
        out.push(Token { tok, line });
    }
    out
}

fn is_ident(t: Option<&Token>, name: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Ident(s), .. }) if s == name)
}

/// `mod x;` declarations at the top of a file.
fn declared_mods(toks: &[Token]) -> Vec<String> {
    toks.windows(3)
        .filter_map(|w| match (&w[0].tok, &w[1].tok, &w[2].tok) {
            (Tok::Ident(m), Tok::Ident(name), Tok::Semi) if m == "mod" => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Calls `at(module, token index)` for each token with the module it is in,
/// inline `mod x { … }` blocks included.
fn walk(f: &SourceFile, mut at: impl FnMut(&[String], usize)) {
    let mut module = f.module.1.clone();
    // Inline modules open: the brace depth inside each.
    let mut open: Vec<usize> = Vec::new();
    let mut depth = 0;
    let toks = &f.tokens;
    for i in 0..toks.len() {
        match &toks[i].tok {
            Tok::Open => {
                depth += 1;
                if i >= 2
                    && is_ident(toks.get(i - 2), "mod")
                    && let Tok::Ident(name) = &toks[i - 1].tok
                {
                    module.push(name.clone());
                    open.push(depth);
                }
            }
            Tok::Close => {
                if open.last() == Some(&depth) {
                    open.pop();
                    module.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        at(&module, i);
    }
}

struct WrittenPath {
    segs: Vec<String>,
    line: usize,
}

/// Every path a file writes that may name a module of this crate: the
/// paths of `use` trees, and paths in code that start with `crate`,
/// `super`, `self`, `scimitar` or any other name followed by `::`
/// (resolution decides which are modules). Each comes with the module it
/// is written in.
fn paths_of(f: &SourceFile) -> Vec<(Vec<String>, WrittenPath)> {
    let toks = &f.tokens;
    let mut modules: Vec<Vec<String>> = Vec::with_capacity(toks.len());
    walk(f, |m, _| modules.push(m.to_vec()));
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let line = toks[i].line;
        if is_ident(toks.get(i), "use") {
            let mut j = i + 1;
            let mut trees = Vec::new();
            use_tree(toks, &mut j, Vec::new(), &mut trees);
            for segs in trees {
                out.push((modules[i].clone(), WrittenPath { segs, line }));
            }
            while j < toks.len() && toks[j].tok != Tok::Semi {
                j += 1;
            }
            i = j;
            continue;
        }
        let starts_path = matches!(&toks[i].tok, Tok::Ident(_))
            && toks.get(i + 1).is_some_and(|t| t.tok == Tok::PathSep)
            && !(i > 0 && toks[i - 1].tok == Tok::PathSep)
            // `pub(in crate::x)` is a visibility, not a use.
            && !(i > 0 && is_ident(toks.get(i - 1), "in"));
        if starts_path {
            let mut segs = Vec::new();
            let mut j = i;
            while let Some(Token {
                tok: Tok::Ident(s), ..
            }) = toks.get(j)
            {
                segs.push(s.clone());
                if toks.get(j + 1).is_some_and(|t| t.tok == Tok::PathSep) {
                    j += 2;
                } else {
                    j += 1;
                    break;
                }
            }
            out.push((modules[i].clone(), WrittenPath { segs, line }));
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

/// Expands one use tree (`a::{b, c::{self, D}}`) into full paths.
fn use_tree(toks: &[Token], i: &mut usize, mut segs: Vec<String>, out: &mut Vec<Vec<String>>) {
    if toks.get(*i).is_some_and(|t| t.tok == Tok::PathSep) {
        // `::name` is another crate.
        segs.push("::".into());
        *i += 1;
    }
    loop {
        match toks.get(*i).map(|t| &t.tok) {
            Some(Tok::Ident(s)) => {
                segs.push(s.clone());
                *i += 1;
                if toks.get(*i).is_some_and(|t| t.tok == Tok::PathSep) {
                    *i += 1;
                    continue;
                }
                if is_ident(toks.get(*i), "as") {
                    *i += 2;
                }
                out.push(segs);
                return;
            }
            Some(Tok::Open) => {
                *i += 1;
                while let Some(t) = toks.get(*i) {
                    match t.tok {
                        Tok::Close => {
                            *i += 1;
                            break;
                        }
                        Tok::Comma => *i += 1,
                        _ => {
                            let before = *i;
                            use_tree(toks, i, segs.clone(), out);
                            if *i == before {
                                *i += 1;
                            }
                        }
                    }
                }
                return;
            }
            Some(Tok::Star) => {
                *i += 1;
                out.push(segs);
                return;
            }
            _ => {
                if !segs.is_empty() {
                    out.push(segs);
                }
                return;
            }
        }
    }
}

// ------------------------------------------- the parser on small examples

fn graph(files: &[(&str, &str)]) -> Graph {
    Graph::from_sources(files)
}

fn tops(g: &Graph) -> Vec<(String, String)> {
    g.top_edges().into_keys().collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

#[test]
fn a_cycle_between_top_level_modules_is_found_and_shown() {
    let g = graph(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub mod d;\n"),
        ("a.rs", "use crate::b::B;\n"),
        ("b.rs", "pub fn f() {\n    crate::c::g()\n}\n"),
        ("c.rs", "use super::a;\n"),
        ("d.rs", "use crate::a::A;\n"),
    ]);
    let report = g.check(&Rule::TopLevelAcyclic).unwrap_err();
    assert!(report.contains("cycle: a → b → c → a"), "{report}");
    assert!(report.contains("src/b.rs:2  crate::c::g"), "{report}");
    assert!(report.contains("src/c.rs:1  super::a"), "{report}");
    assert!(
        !report.contains("src/d.rs"),
        "d is outside the cycle: {report}"
    );

    let g = graph(&[
        ("lib.rs", "pub mod a;\npub mod b;\n"),
        ("a.rs", "use crate::b::B;\n"),
        ("b.rs", "pub struct B;\n"),
    ]);
    assert_eq!(g.check(&Rule::TopLevelAcyclic), Ok(()));
}

#[test]
fn comments_strings_and_chars_are_not_edges() {
    let g = graph(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\n"),
        (
            "a.rs",
            r##"//! See [`crate::b`].
// use crate::b::X;
/* crate::b::Y /* nested */ crate::b::Z */
/// Calls `crate::b::f`.
fn f<'a>(x: &'a str) -> (char, char, &'a str) {
    let s = "crate::b::x \" crate::b::y";
    let r = r#"crate::b "quoted" crate::b"#;
    let bytes = br"crate::b";
    ('"', '\'', s)
}
use crate::c::C;
#[derive(Serialize)]
struct S {
    #[serde(serialize_with = "crate::c::ser", rename = "crate::b::x")]
    n: u8,
}
"##,
        ),
        ("b.rs", ""),
        ("c.rs", ""),
    ]);
    assert_eq!(tops(&g), [pair("a", "c")]);
    let lines: Vec<usize> = g.edges.iter().map(|e| e.line).collect();
    assert_eq!(lines, [11, 14], "lines count through blanked text");
    assert_eq!(
        g.edges[1].text, "crate::c::ser",
        "an attribute's path is a use"
    );
}

#[test]
fn use_trees_and_relative_paths_resolve() {
    let g = graph(&[
        ("lib.rs", "pub mod a;\npub mod b;\npub mod c;\npub mod s;\n"),
        (
            "a.rs",
            "use crate::{b::{self, B}, c as see};\nuse std::fmt;\nuse ::serde::Serialize;\n",
        ),
        ("b.rs", "pub(in crate::a) fn f() {}\n"),
        ("c.rs", ""),
        (
            "s/mod.rs",
            "pub mod x;\npub mod y;\npub mod z;\npub mod facade {\n    pub use super::x::X;\n}\n",
        ),
        (
            "s/x.rs",
            "use super::y::Y;\npub struct X;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use crate::s::z::Z;\n}\n",
        ),
        ("s/y.rs", "pub struct Y;\n"),
        (
            "s/z.rs",
            "pub struct Z;\nfn f() { let _ = crate::s::facade::X; }\n",
        ),
    ]);
    assert_eq!(tops(&g), [pair("a", "b"), pair("a", "c")]);
    let files: Vec<_> = g.file_edges("s").into_keys().collect();
    assert_eq!(
        files,
        [
            pair("src/s/mod.rs", "src/s/x.rs"),
            pair("src/s/x.rs", "src/s/y.rs"),
            pair("src/s/x.rs", "src/s/z.rs"),
            pair("src/s/z.rs", "src/s/mod.rs"),
        ],
        "inline `mod tests` counts for its file; `super` in it is x; the facade's `super` is s"
    );
    let report = g.check(&Rule::FilesAcyclic { module: "s" }).unwrap_err();
    assert!(
        report.contains("cycle: src/s/mod.rs → src/s/x.rs → src/s/z.rs → src/s/mod.rs"),
        "{report}"
    );
}

#[test]
fn import_rules_name_the_offending_lines() {
    let g = graph(&[
        (
            "lib.rs",
            "pub mod cli;\npub mod runner;\npub mod scim;\npub mod server;\n",
        ),
        ("cli.rs", "use crate::runner;\n"),
        (
            "runner.rs",
            "use crate::scim::urn;\n\nuse crate::cli::Args;\n",
        ),
        ("scim/mod.rs", "pub mod urn;\n"),
        ("scim/urn.rs", "pub const USER: &str = \"x\";\n"),
        ("server/mod.rs", "use crate::scim::urn;\nmod store;\n"),
        ("server/store.rs", "fn f() { crate::runner::run(); }\n"),
        ("main.rs", "mod cmd;\nuse scimitar::cli;\n"),
        (
            "cmd/mod.rs",
            "use scimitar::runner::run;\nuse crate::cmd::x;\n",
        ),
    ]);
    let only = Rule::OnlyImports {
        module: "server",
        allowed: &["scim"],
    };
    let report = g.check(&only).unwrap_err();
    assert!(report.contains("server → runner:"), "{report}");
    assert!(
        report.contains("src/server/store.rs:1  crate::runner::run"),
        "{report}"
    );
    assert!(!report.contains("scim"), "{report}");

    let never = Rule::NeverImports {
        module: "*",
        forbidden: &["cli", "app", "cmd"],
    };
    let report = g.check(&never).unwrap_err();
    assert!(
        report.contains("src/runner.rs:3  crate::cli::Args"),
        "{report}"
    );
    assert!(
        !report.contains("main.rs") && !report.contains("cmd"),
        "the binary may use anything: {report}"
    );
    assert!(tops(&g).contains(&pair("main.rs/cmd", "runner")));
    assert!(tops(&g).contains(&pair("main.rs", "cli")));
    assert_eq!(
        g.check(&Rule::OnlyImports {
            module: "scim",
            allowed: &[]
        }),
        Ok(())
    );
}
