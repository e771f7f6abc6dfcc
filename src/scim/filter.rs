//! The SCIM filter language (RFC 7644 §3.4.2.2, Figure 1): a parser and an
//! evaluator over JSON resources, plus the value ordering used by `sortBy`
//! (RFC 7644 §3.4.2.3).
//!
//! Beyond the ABNF, and because IdPs send them, the parser accepts
//! `emails[type eq "work"].value eq "x"` (Entra's email matching filter) and
//! unquoted string values (`externalId eq jyoung`, as in Entra's docs).

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Number, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ci::{get_ci, parse_bool, value_get_ci};
use super::error::{ScimError, ScimType};
use super::path::AttrPath;
use super::schema::{AttrType, Attribute, ResourceSchema};

/// Nesting beyond this (parentheses, `not`, brackets) is rejected rather
/// than risking the stack.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn from_word(w: &str) -> Option<CompareOp> {
        Some(match w.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
}

/// A parsed filter. `and`/`or` chains are n-ary so long chains stay flat.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    /// `attrPath pr`
    Present(AttrPath),
    /// `attrPath op value`
    Compare(AttrPath, CompareOp, Value),
    /// `attr[valFilter]` standing alone: true if any element matches.
    ValuePath(AttrPath),
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join(f: &mut fmt::Formatter<'_>, parts: &[Filter], sep: &str) -> fmt::Result {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                match p {
                    Filter::And(_) | Filter::Or(_) => write!(f, "({p})")?,
                    _ => write!(f, "{p}")?,
                }
            }
            Ok(())
        }
        match self {
            Filter::And(parts) => join(f, parts, " and "),
            Filter::Or(parts) => join(f, parts, " or "),
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::Present(p) => write!(f, "{p} pr"),
            Filter::Compare(p, op, v) => write!(f, "{p} {} {v}", op.as_str()),
            Filter::ValuePath(p) => write!(f, "{p}"),
        }
    }
}

/// Why a filter did not parse: what was expected, and the 1-based column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at column {column}")]
pub struct FilterError {
    pub message: String,
    pub column: usize,
}

impl From<FilterError> for ScimError {
    fn from(e: FilterError) -> Self {
        ScimError::bad_request(ScimType::InvalidFilter, format!("invalid filter: {e}"))
    }
}

/// Parses a `filter` query parameter.
pub fn parse(s: &str) -> Result<Filter, FilterError> {
    let mut p = Parser::new(s)?;
    let f = p.parse_or()?;
    p.expect_end()?;
    Ok(f)
}

/// Parses an attribute path (PATCH `path`); used by [`super::path::parse`].
pub(crate) fn parse_path(s: &str) -> Result<AttrPath, FilterError> {
    let mut p = Parser::new(s)?;
    let path = p.parse_attr_path()?;
    p.expect_end()?;
    Ok(path)
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Str(String),
    Word(String),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::Str(s) => format!("string {}", Value::String(s.clone())),
            Tok::Word(w) => format!("'{w}'"),
            Tok::End => "end of input".into(),
        }
    }
}

fn lex(s: &str) -> Result<Vec<(Tok, usize)>, FilterError> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push((Tok::LParen, col));
                i += 1;
            }
            ')' => {
                out.push((Tok::RParen, col));
                i += 1;
            }
            '[' => {
                out.push((Tok::LBracket, col));
                i += 1;
            }
            ']' => {
                out.push((Tok::RBracket, col));
                i += 1;
            }
            '"' => {
                let start = i;
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    match chars[i] {
                        '\\' => i += 2,
                        '"' => {
                            closed = true;
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
                if !closed {
                    return Err(err("unterminated string", col));
                }
                let raw: String = chars[start..i].iter().collect();
                // JSON string rules (RFC 7644 §3.4.2.2: compValue strings are JSON).
                let v: String = serde_json::from_str(&raw)
                    .map_err(|e| err(&format!("invalid string literal ({e})"), col))?;
                out.push((Tok::Str(v), col));
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], '(' | ')' | '[' | ']' | '"')
                {
                    i += 1;
                }
                out.push((Tok::Word(chars[start..i].iter().collect()), col));
            }
        }
    }
    out.push((Tok::End, chars.len() + 1));
    Ok(out)
}

fn err(message: &str, column: usize) -> FilterError {
    FilterError {
        message: message.to_string(),
        column,
    }
}

// --------------------------------------------------------------- parser

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    depth: usize,
    in_brackets: bool,
}

impl Parser {
    fn new(s: &str) -> Result<Parser, FilterError> {
        Ok(Parser {
            toks: lex(s)?,
            pos: 0,
            depth: 0,
            in_brackets: false,
        })
    }

    fn peek(&self) -> &(Tok, usize) {
        // lex always ends with End, and `bump` never moves past it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> (Tok, usize) {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn peek_word_is(&self, kw: &str) -> bool {
        matches!(&self.peek().0, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn enter(&mut self, col: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                &format!("filter nested too deeply (more than {MAX_DEPTH} levels)"),
                col,
            ));
        }
        Ok(())
    }

    fn expect_end(&mut self) -> Result<(), FilterError> {
        let (t, col) = self.peek().clone();
        if t == Tok::End {
            Ok(())
        } else {
            Err(err(&format!("unexpected {}", t.describe()), col))
        }
    }

    fn parse_or(&mut self) -> Result<Filter, FilterError> {
        let mut parts = vec![self.parse_and()?];
        while self.peek_word_is("or") {
            self.bump();
            parts.push(self.parse_and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn parse_and(&mut self) -> Result<Filter, FilterError> {
        let mut parts = vec![self.parse_not()?];
        while self.peek_word_is("and") {
            self.bump();
            parts.push(self.parse_not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn parse_not(&mut self) -> Result<Filter, FilterError> {
        // `not` must be followed by '(' (ABNF: "not" "(" FILTER ")"); an
        // attribute literally named "not" still parses as an attribute.
        if self.peek_word_is("not") && matches!(self.toks.get(self.pos + 1), Some((Tok::LParen, _)))
        {
            let (_, col) = self.bump();
            self.enter(col)?;
            let inner = self.parse_primary()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Filter, FilterError> {
        let (t, col) = self.peek().clone();
        match t {
            Tok::LParen => {
                self.bump();
                self.enter(col)?;
                let f = self.parse_or()?;
                let (t2, col2) = self.bump();
                if t2 != Tok::RParen {
                    return Err(err(
                        &format!(
                            "expected ')' to close '(' at column {col}, found {}",
                            t2.describe()
                        ),
                        col2,
                    ));
                }
                self.depth -= 1;
                Ok(f)
            }
            Tok::Word(ref w) if !is_keyword(w) => self.parse_attr_expr(),
            other => Err(err(
                &format!("expected an attribute path, found {}", other.describe()),
                col,
            )),
        }
    }

    fn parse_attr_expr(&mut self) -> Result<Filter, FilterError> {
        let path = self.parse_attr_path()?;
        let (t, col) = self.peek().clone();
        if let Tok::Word(w) = &t {
            if w.eq_ignore_ascii_case("pr") {
                self.bump();
                return Ok(Filter::Present(path));
            }
            if let Some(op) = CompareOp::from_word(w) {
                self.bump();
                let value = self.parse_value(op)?;
                return Ok(Filter::Compare(path, op, value));
            }
        }
        if path.value_filter.is_some() && path.sub_attr.is_none() {
            return Ok(Filter::ValuePath(path));
        }
        Err(err(
            &format!(
                "expected a comparison operator after '{path}', found {}",
                t.describe()
            ),
            col,
        ))
    }

    fn parse_value(&mut self, op: CompareOp) -> Result<Value, FilterError> {
        let (t, col) = self.bump();
        match t {
            Tok::Str(s) => Ok(Value::String(s)),
            Tok::Word(w) if !is_keyword(&w) => Ok(literal(&w)),
            other => Err(err(
                &format!(
                    "expected a value after '{}', found {}",
                    op.as_str(),
                    other.describe()
                ),
                col,
            )),
        }
    }

    /// `[URN ":"] attr ["." sub] ["[" valFilter "]" ["." sub]]`
    fn parse_attr_path(&mut self) -> Result<AttrPath, FilterError> {
        let (t, col) = self.bump();
        let Tok::Word(word) = t else {
            return Err(err(
                &format!("expected an attribute path, found {}", t.describe()),
                col,
            ));
        };
        let mut path = split_attr_word(&word, col)?;
        if self.peek().0 == Tok::LBracket {
            let (_, bcol) = self.bump();
            if path.sub_attr.is_some() {
                return Err(err(
                    "a value filter '[' must follow the attribute name, not a sub-attribute",
                    bcol,
                ));
            }
            if self.in_brackets {
                return Err(err("value filters cannot be nested", bcol));
            }
            self.enter(bcol)?;
            self.in_brackets = true;
            let inner = self.parse_or()?;
            self.in_brackets = false;
            let (t2, col2) = self.bump();
            if t2 != Tok::RBracket {
                return Err(err(
                    &format!(
                        "expected ']' to close '[' at column {bcol}, found {}",
                        t2.describe()
                    ),
                    col2,
                ));
            }
            self.depth -= 1;
            path.value_filter = Some(Box::new(inner));
            // Sub-attribute after the brackets: `emails[type eq "work"].value`.
            if let (Tok::Word(w), wcol) = self.peek().clone()
                && let Some(sub) = w.strip_prefix('.')
            {
                self.bump();
                check_name(sub, wcol + 1)?;
                path.sub_attr = Some(sub.to_string());
            }
        }
        Ok(path)
    }
}

fn is_keyword(w: &str) -> bool {
    ["and", "or"].iter().any(|k| w.eq_ignore_ascii_case(k))
}

/// An unquoted value: `true`/`false`/`null`, a JSON number, or (leniently)
/// a bare string.
fn literal(w: &str) -> Value {
    if w.eq_ignore_ascii_case("true") {
        Value::Bool(true)
    } else if w.eq_ignore_ascii_case("false") {
        Value::Bool(false)
    } else if w.eq_ignore_ascii_case("null") {
        Value::Null
    } else if let Ok(n) = serde_json::from_str::<Number>(w) {
        Value::Number(n)
    } else {
        Value::String(w.to_string())
    }
}

/// Splits `urn:...:attr.sub` into its parts. The URN is everything before
/// the last ':' (URNs contain dots, e.g. "2.0", so split on ':' first).
fn split_attr_word(word: &str, col: usize) -> Result<AttrPath, FilterError> {
    let (urn, rest, rest_col) = if word
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        match word.rfind(':') {
            Some(i) => (
                Some(word[..i].to_string()),
                &word[i + 1..],
                col + word[..=i].chars().count(),
            ),
            None => (None, word, col),
        }
    } else {
        (None, word, col)
    };
    if rest.is_empty() {
        return Err(err(
            "expected an attribute name after the schema URN",
            rest_col,
        ));
    }
    let mut parts = rest.splitn(3, '.');
    let attr = parts.next().unwrap_or_default();
    check_name(attr, rest_col)?;
    let sub = parts.next();
    if let Some(s) = sub {
        check_name(s, rest_col + attr.chars().count() + 1)?;
    }
    if parts.next().is_some() {
        return Err(err(
            &format!("'{rest}' has more than one sub-attribute level"),
            rest_col,
        ));
    }
    Ok(AttrPath {
        urn,
        attr: attr.to_string(),
        value_filter: None,
        sub_attr: sub.map(str::to_string),
    })
}

/// ATTRNAME = ALPHA *(nameChar); `$ref` is allowed too (RFC 7643 §2.4).
fn check_name(name: &str, col: usize) -> Result<(), FilterError> {
    let mut chars = name.chars();
    let ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '$' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else if name.is_empty() {
        Err(err("expected an attribute name", col))
    } else {
        Err(err(&format!("invalid attribute name '{name}'"), col))
    }
}

// ------------------------------------------------------------ evaluator

/// What attribute names are resolved against: a whole resource, or one
/// element of a multi-valued complex attribute (inside `[...]`).
#[derive(Clone, Copy)]
enum Scope<'s> {
    Resource(&'s ResourceSchema),
    Complex(Option<&'static Attribute>),
}

struct Resolved<'v> {
    values: Vec<&'v Value>,
    attr: Option<&'static Attribute>,
}

fn push_flat<'v>(out: &mut Vec<&'v Value>, v: &'v Value) {
    match v {
        Value::Array(items) => out.extend(items.iter().filter(|x| !x.is_null())),
        Value::Null => {}
        other => out.push(other),
    }
}

fn resolve<'v>(node: &'v Value, path: &AttrPath, scope: Scope<'_>) -> Resolved<'v> {
    let (container, top_def): (Option<&'v Value>, Option<&'static Attribute>) = match scope {
        Scope::Resource(rs) => {
            let loc = rs.top_level(path.urn.as_deref(), &path.attr);
            let container = match (&path.urn, loc.and_then(|l| l.extension)) {
                (Some(u), _) if !u.eq_ignore_ascii_case(rs.core.id) => value_get_ci(node, u),
                (None, Some(ext)) => value_get_ci(node, ext.id),
                _ => Some(node),
            };
            (container, loc.map(|l| l.attribute))
        }
        Scope::Complex(parent) => (Some(node), parent.and_then(|p| p.sub_attribute(&path.attr))),
    };
    let mut values = Vec::new();
    if let Some(v) = container.and_then(|c| value_get_ci(c, &path.attr)) {
        push_flat(&mut values, v);
    }
    if let Some(vf) = &path.value_filter {
        values.retain(|el| vf.eval(el, Scope::Complex(top_def)));
    }
    match &path.sub_attr {
        Some(sub) => {
            let mut subs = Vec::new();
            for el in values {
                if let Some(v) = value_get_ci(el, sub) {
                    push_flat(&mut subs, v);
                }
            }
            Resolved {
                values: subs,
                attr: top_def.and_then(|d| d.sub_attribute(sub)),
            }
        }
        None => Resolved {
            values,
            attr: top_def,
        },
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(m) => m.values().any(is_present),
        _ => true,
    }
}

impl Filter {
    /// Checks the filter against the schema where RFC 7644 §3.4.2.2 asks for
    /// a failure rather than a result: `gt`, `ge`, `lt` and `le` on a Boolean
    /// or Binary attribute (or against a `true`/`false` literal) SHALL be
    /// 400 `invalidFilter`.
    pub fn check(&self, schema: &ResourceSchema) -> Result<(), ScimError> {
        self.check_in(Some(schema), None)
    }

    fn check_in(
        &self,
        schema: Option<&ResourceSchema>,
        parent: Option<&'static Attribute>,
    ) -> Result<(), ScimError> {
        // The definition a path names: from the schema at the top level,
        // from the parent's sub-attributes inside a value filter.
        let def = |path: &AttrPath| -> Option<&'static Attribute> {
            match schema {
                Some(rs) => rs.attribute(path),
                None => parent
                    .and_then(|p| p.sub_attribute(&path.attr))
                    .and_then(|a| match &path.sub_attr {
                        Some(sub) => a.sub_attribute(sub),
                        None => Some(a),
                    }),
            }
        };
        let inner = |path: &AttrPath| -> Result<(), ScimError> {
            match &path.value_filter {
                Some(vf) => {
                    let top = match schema {
                        Some(rs) => rs.locate(path).map(|l| l.attribute),
                        None => parent.and_then(|p| p.sub_attribute(&path.attr)),
                    };
                    vf.check_in(None, top)
                }
                None => Ok(()),
            }
        };
        match self {
            Filter::And(parts) | Filter::Or(parts) => {
                parts.iter().try_for_each(|p| p.check_in(schema, parent))
            }
            Filter::Not(f) => f.check_in(schema, parent),
            Filter::Present(path) | Filter::ValuePath(path) => inner(path),
            Filter::Compare(path, op, lit) => {
                inner(path)?;
                let ordering = matches!(
                    op,
                    CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
                );
                let unordered = lit.is_boolean()
                    || def(path)
                        .is_some_and(|d| matches!(d.ty, AttrType::Boolean | AttrType::Binary));
                if ordering && unordered {
                    return Err(ScimError::bad_request(
                        ScimType::InvalidFilter,
                        format!(
                            "invalid filter: '{}' cannot compare the Boolean or Binary attribute {path}",
                            op.as_str()
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Does `resource` match this filter? Attribute names resolve against
    /// `schema` (case-insensitively, with or without URN prefix; extension
    /// attributes without URN resolve to their extension).
    pub fn matches(&self, resource: &Value, schema: &ResourceSchema) -> bool {
        self.eval(resource, Scope::Resource(schema))
    }

    /// Does one element of a multi-valued complex attribute match this
    /// filter (the `[...]` of a value path)? `parent` is that attribute's
    /// definition, used for sub-attribute types and case-exactness.
    pub fn matches_element(&self, element: &Value, parent: Option<&'static Attribute>) -> bool {
        self.eval(element, Scope::Complex(parent))
    }

    fn eval(&self, node: &Value, scope: Scope<'_>) -> bool {
        match self {
            Filter::And(parts) => parts.iter().all(|p| p.eval(node, scope)),
            Filter::Or(parts) => parts.iter().any(|p| p.eval(node, scope)),
            Filter::Not(inner) => !inner.eval(node, scope),
            Filter::Present(path) => resolve(node, path, scope)
                .values
                .iter()
                .any(|v| is_present(v)),
            Filter::ValuePath(path) => !resolve(node, path, scope).values.is_empty(),
            Filter::Compare(path, op, lit) => {
                let r = resolve(node, path, scope);
                let any = |op: CompareOp| r.values.iter().any(|v| test(v, op, lit, r.attr));
                match (op, lit) {
                    (CompareOp::Eq, Value::Null) => !r.values.iter().any(|v| is_present(v)),
                    (CompareOp::Ne, Value::Null) => r.values.iter().any(|v| is_present(v)),
                    // `ne` is the negation of `eq`, so a multi-valued
                    // attribute is "ne x" only when no value equals x.
                    (CompareOp::Ne, _) => !any(CompareOp::Eq),
                    (op, _) => any(*op),
                }
            }
        }
    }
}

fn parse_instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// For a complex value, the value its `value` sub-attribute holds (RFC 7644
/// §3.4.2.2: `emails co "x"` compares against `emails.value`).
fn primary_value<'v>(
    v: &'v Value,
    attr: Option<&'static Attribute>,
) -> Option<(&'v Value, Option<&'static Attribute>)> {
    match v {
        Value::Object(m) => {
            let inner = get_ci(m, "value")?;
            let def = attr.and_then(|a| a.sub_attribute("value"));
            Some((inner, def))
        }
        other => Some((other, attr)),
    }
}

fn fold(s: &str, case_exact: bool) -> String {
    if case_exact {
        s.to_string()
    } else {
        s.to_lowercase()
    }
}

fn ord_test(ord: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

fn is_datetime(attr: Option<&Attribute>, a: &str, b: &str) -> Option<Ordering> {
    let declared = attr.map(|d| d.ty == AttrType::DateTime);
    if declared == Some(false) {
        return None;
    }
    // Unknown attributes are compared as instants only when both sides are
    // timestamps; declared dateTime attributes always try.
    let (x, y) = (parse_instant(a)?, parse_instant(b)?);
    Some(x.cmp(&y))
}

fn test(actual: &Value, op: CompareOp, lit: &Value, attr: Option<&'static Attribute>) -> bool {
    let Some((actual, attr)) = primary_value(actual, attr) else {
        return false;
    };
    match (actual, lit) {
        (Value::String(a), Value::String(b)) => {
            if !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
                && let Some(ord) = is_datetime(attr, a, b)
            {
                return ord_test(ord, op);
            }
            let ce = attr.is_some_and(|d| d.case_exact);
            let (a, b) = (fold(a, ce), fold(b, ce));
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => ord_test(a.cmp(&b), op),
            }
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| ord_test(o, op)),
            _ => false,
        },
        (Value::Number(a), Value::String(b)) => match (a.as_f64(), b.trim().parse::<f64>().ok()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| ord_test(o, op)),
            _ => false,
        },
        (Value::Bool(a), Value::Bool(b)) => matches!(op, CompareOp::Eq) && a == b,
        (Value::Bool(a), Value::String(b)) => {
            matches!(op, CompareOp::Eq) && parse_bool(b) == Some(*a)
        }
        // A number literal against a string attribute (`employeeNumber eq 42`).
        (Value::String(_), Value::Number(n)) => {
            test(actual, op, &Value::String(n.to_string()), attr)
        }
        _ => false,
    }
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Bool(_) => 0,
        Value::Number(_) => 1,
        Value::String(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// Orders two attribute values for `sortBy` (RFC 7644 §3.4.2.3): strings
/// honour `caseExact`, dateTimes compare as instants, numbers numerically,
/// complex values by their `value`. `null` (missing) sorts after everything,
/// so missing values come last in ascending order.
pub fn compare_values(a: &Value, b: &Value, attr: Option<&Attribute>) -> Ordering {
    let a = match a {
        Value::Object(m) => get_ci(m, "value").unwrap_or(&Value::Null),
        other => other,
    };
    let b = match b {
        Value::Object(m) => get_ci(m, "value").unwrap_or(&Value::Null),
        other => other,
    };
    let attr = match attr {
        Some(d) if d.is_complex() => d.sub_attribute("value"),
        other => other,
    };
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            if let Some(o) = is_datetime(attr, x, y) {
                return o;
            }
            let ce = attr.is_some_and(|d| d.case_exact);
            fold(x, ce).cmp(&fold(y, ce))
        }
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

/// The value a resource sorts by for `sortBy=path`: for multi-valued
/// attributes the `primary` element if any, else the first (RFC 7644
/// §3.4.2.3). `Value::Null` when the resource has none.
pub fn sort_value(resource: &Value, path: &AttrPath, schema: &ResourceSchema) -> Value {
    let r = resolve(resource, path, Scope::Resource(schema));
    let chosen = r
        .values
        .iter()
        .find(|v| value_get_ci(v, "primary") == Some(&Value::Bool(true)))
        .or_else(|| r.values.first());
    match chosen {
        Some(Value::Object(m)) => get_ci(m, "value").cloned().unwrap_or(Value::Null),
        Some(v) => (*v).clone(),
        None => Value::Null,
    }
}

/// The attribute definition `sortBy=path` names, for [`compare_values`].
pub fn sort_attribute(path: &AttrPath, schema: &ResourceSchema) -> Option<&'static Attribute> {
    schema.attribute(path)
}

#[cfg(test)]
mod tests;
