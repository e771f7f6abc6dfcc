//! The grammar of attribute paths and filters: their syntax tree, parser
//! and printer (RFC 7644 §3.4.2.2 Figure 1 FILTER, §3.5.2 PATH:
//! `[URN ":"] attr ["[" valFilter "]"] ["." subAttr]`). A path may hold a
//! filter (`emails[type eq "work"]`) and a filter holds paths, so both live
//! here. Matching a filter against a resource is the evaluator's job
//! (`eval`); this module knows no schema and no resource.
//!
//! Beyond the ABNF, and because IdPs send them, the parser accepts
//! `emails[type eq "work"].value eq "x"` (Entra's email matching filter) and
//! unquoted string values (`externalId eq jyoung`, as in Entra's docs).

use std::fmt;

use serde_json::{Number, Value};

use super::error::{ScimError, ScimType};

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

/// A parsed attribute path. Names keep the case they were written in;
/// compare them with `eq_ignore_ascii_case` (see [`AttrPath::is`]).
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// The schema URN prefix, e.g. the enterprise extension's.
    pub urn: Option<String>,
    pub attr: String,
    /// The `[...]` value filter of a value path.
    pub value_filter: Option<Box<Filter>>,
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A plain attribute name without URN, filter or sub-attribute.
    pub fn simple(attr: impl Into<String>) -> AttrPath {
        AttrPath {
            urn: None,
            attr: attr.into(),
            value_filter: None,
            sub_attr: None,
        }
    }

    /// True when this is the attribute `name` (no sub-attribute, no filter),
    /// ignoring case.
    pub fn is(&self, name: &str) -> bool {
        self.sub_attr.is_none()
            && self.value_filter.is_none()
            && self.attr.eq_ignore_ascii_case(name)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(u) = &self.urn {
            write!(f, "{u}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(v) = &self.value_filter {
            write!(f, "[{v}]")?;
        }
        if let Some(s) = &self.sub_attr {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

/// Why a path did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path: {message} at column {column}")]
pub struct PathError {
    pub message: String,
    /// 1-based character position.
    pub column: usize,
}

impl From<PathError> for ScimError {
    fn from(e: PathError) -> Self {
        ScimError::bad_request(ScimType::InvalidPath, e.to_string())
    }
}

/// Parses a `filter` query parameter.
pub fn parse_filter(s: &str) -> Result<Filter, FilterError> {
    let mut p = Parser::new(s)?;
    let f = p.parse_or()?;
    p.expect_end()?;
    Ok(f)
}

/// Parses a PATCH `path` (or any attribute path).
pub fn parse_path(s: &str) -> Result<AttrPath, PathError> {
    let parsed = Parser::new(s).and_then(|mut p| {
        let path = p.parse_attr_path()?;
        p.expect_end()?;
        Ok(path)
    });
    parsed.map_err(|e| PathError {
        message: e.message,
        column: e.column,
    })
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

#[cfg(test)]
mod tests;
