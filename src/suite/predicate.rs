//! Predicates on response values: what `expect.json` and `expect.headers`
//! say about one value.
//!
//! A plain value means equality (a plain object means "has at least these
//! members", because SCIM servers may return more than was sent). A mapping
//! whose keys are all predicate words (`exists`, `matches`, …) combines those
//! predicates; all must hold.

use serde_json::Value;

use super::template::Vars;

const WORDS: [&str; 16] = [
    "equals",
    "not_equals",
    "unassigned",
    "if_present",
    "exists",
    "absent",
    "matches",
    "contains",
    "count",
    "type",
    "one_of",
    "ignore_case",
    "gt",
    "ge",
    "lt",
    "le",
];

/// How values are compared, by RFC 7643's rules: the caller knows the
/// attribute's definition and whether the request asked for an order.
#[derive(Default, Clone, Copy)]
pub struct Compare<'a> {
    /// Applied to both sides before comparing (e.g. lower-casing the values
    /// of `caseExact: false` attributes, RFC 7643 §2.2).
    pub normalize: Option<&'a dyn Fn(&Value) -> Value>,
    /// Regular expressions ignore case (a `caseExact: false` string).
    pub fold_case: bool,
    /// Lists compare in order: only when the request sent `sortBy` (RFC 7644
    /// §3.4.2.3); otherwise multi-valued attributes are sets (RFC 7643 §2.4).
    pub ordered: bool,
}

impl Compare<'_> {
    fn norm(&self, v: Value) -> Value {
        match self.normalize {
            Some(f) => f(&v),
            None => v,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Predicate {
    pub ops: Vec<Op>,
    pub ignore_case: bool,
    /// Absence passes: the other words apply only to a value that is there
    /// (for type checks of what a server may or may not return).
    pub if_present: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Exact equality (numbers by value).
    Equals(Value),
    /// Anything but this value; absence passes (a read-only value a client
    /// sent must not be stored, RFC 7644 §3.3).
    NotEquals(Value),
    /// Unassigned as RFC 7643 §2.5 has it: absent, null, or an empty array
    /// (or object); `false` asks for a value.
    Unassigned(bool),
    /// Equality for scalars and arrays; for objects, every member named matches.
    Like(Value),
    Exists(bool),
    Matches(String),
    Contains(Value),
    Count(u64),
    Type(JsonType),
    OneOf(Vec<Value>),
    Compare(Cmp, f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    fn parse(s: &str) -> Option<JsonType> {
        Some(match s {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "boolean" => JsonType::Boolean,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            "null" => JsonType::Null,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::Null => "null",
        }
    }

    fn holds(self, v: &Value) -> bool {
        match self {
            JsonType::String => v.is_string(),
            JsonType::Number => v.is_number(),
            JsonType::Integer => v.is_i64() || v.is_u64(),
            JsonType::Boolean => v.is_boolean(),
            JsonType::Array => v.is_array(),
            JsonType::Object => v.is_object(),
            JsonType::Null => v.is_null(),
        }
    }
}

impl Predicate {
    /// Reads a predicate as written in a suite.
    pub fn parse(v: &Value) -> Result<Predicate, String> {
        let Some(map) = v
            .as_object()
            .filter(|m| !m.is_empty() && m.keys().all(|k| WORDS.contains(&k.as_str())))
        else {
            return Ok(Predicate {
                ops: vec![Op::Like(v.clone())],
                ignore_case: false,
                if_present: false,
            });
        };
        let mut p = Predicate {
            ops: Vec::new(),
            ignore_case: false,
            if_present: false,
        };
        for (k, arg) in map {
            let op = match k.as_str() {
                "equals" => Op::Equals(arg.clone()),
                "not_equals" => Op::NotEquals(arg.clone()),
                "unassigned" => Op::Unassigned(bool_arg(k, arg)?),
                "if_present" => {
                    p.if_present = bool_arg(k, arg)?;
                    continue;
                }
                "exists" => Op::Exists(bool_arg(k, arg)?),
                "absent" => Op::Exists(!bool_arg(k, arg)?),
                "matches" => {
                    let re = arg.as_str().ok_or("'matches' takes a regular expression")?;
                    // Check the syntax now (templates stand in as plain text).
                    let probe = re.replace("{{", "").replace("}}", "");
                    regex::Regex::new(&probe)
                        .map_err(|e| format!("bad regex in 'matches': {e}"))?;
                    Op::Matches(re.to_string())
                }
                "contains" => Op::Contains(arg.clone()),
                "count" => Op::Count(arg.as_u64().ok_or("'count' takes a whole number")?),
                "type" => Op::Type(arg.as_str().and_then(JsonType::parse).ok_or(
                    "'type' takes one of string, number, integer, boolean, array, object, null",
                )?),
                "one_of" => Op::OneOf(
                    arg.as_array()
                        .ok_or("'one_of' takes a list of values")?
                        .clone(),
                ),
                "ignore_case" => {
                    p.ignore_case = bool_arg(k, arg)?;
                    continue;
                }
                cmp @ ("gt" | "ge" | "lt" | "le") => {
                    let n = arg
                        .as_f64()
                        .ok_or_else(|| format!("'{cmp}' takes a number"))?;
                    let c = match cmp {
                        "gt" => Cmp::Gt,
                        "ge" => Cmp::Ge,
                        "lt" => Cmp::Lt,
                        _ => Cmp::Le,
                    };
                    Op::Compare(c, n)
                }
                _ => unreachable!("keys were checked against WORDS"),
            };
            p.ops.push(op);
        }
        if p.ops.is_empty() {
            return Err(
                "'ignore_case' and 'if_present' need something to check (add 'equals', 'type', …)"
                    .into(),
            );
        }
        Ok(p)
    }

    /// The values (templates) this predicate compares against, for checks at load time.
    pub fn operands(&self) -> Vec<&Value> {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Equals(v) | Op::Like(v) | Op::Contains(v) | Op::NotEquals(v) => Some(v),
                _ => None,
            })
            .chain(
                self.ops
                    .iter()
                    .filter_map(|op| match op {
                        Op::OneOf(vs) => Some(vs.iter()),
                        _ => None,
                    })
                    .flatten(),
            )
            .collect()
    }

    /// Checks `actual` (`None`: not there). `Err` says what was wrong.
    /// Lists compare as sets.
    pub fn eval(&self, actual: Option<&Value>, vars: &Vars) -> Result<(), String> {
        self.eval_with(actual, vars, &Compare::default())
    }

    /// [`Predicate::eval`] with the attribute's comparison rules.
    pub fn eval_with(
        &self,
        actual: Option<&Value>,
        vars: &Vars,
        cmp: &Compare,
    ) -> Result<(), String> {
        // SCIM treats null as unassigned (RFC 7643 §2.5).
        let actual = actual.filter(|v| !v.is_null());
        if actual.is_none() && self.if_present {
            return Ok(());
        }
        let normalized = actual.map(|v| cmp.norm(v.clone()));
        for op in &self.ops {
            self.eval_op(op, actual, normalized.as_ref(), vars, cmp)?;
        }
        Ok(())
    }

    fn eval_op(
        &self,
        op: &Op,
        shown: Option<&Value>,
        actual: Option<&Value>,
        vars: &Vars,
        cmp: &Compare,
    ) -> Result<(), String> {
        let render = |v: &Value| vars.render_value(v).map_err(|e| e.to_string());
        let want = |v: &Value| render(v).map(|w| cmp.norm(w));
        if let Op::Unassigned(want) = op {
            let unassigned = match actual {
                None => true,
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(m)) => m.is_empty(),
                Some(_) => false,
            };
            return match (want, unassigned) {
                (true, false) => Err(format!(
                    "expected it unassigned, got {}",
                    short(shown.unwrap_or(&Value::Null))
                )),
                (false, true) => Err("expected a value, but it is unassigned".into()),
                _ => Ok(()),
            };
        }
        if let Op::NotEquals(v) = op {
            let not_this = want(v)?;
            return match actual {
                Some(a) if equal(a, &not_this, self.ignore_case) => Err(format!(
                    "expected anything but {}, got it",
                    short(&not_this)
                )),
                _ => Ok(()),
            };
        }
        if let Op::Exists(want) = op {
            return match (want, actual) {
                (true, None) => Err("expected it to exist, but it is absent".into()),
                // An empty list is unassigned too (RFC 7643 §2.5).
                (false, Some(Value::Array(a))) if a.is_empty() => Ok(()),
                (false, Some(_)) => Err(format!(
                    "expected it to be absent, got {}",
                    short(shown.unwrap_or(&Value::Null))
                )),
                _ => Ok(()),
            };
        }
        let Some(actual) = actual else {
            // Unassigned, null and [] are one state (RFC 7643 §2.5).
            match op {
                Op::Equals(v) | Op::Like(v) if unassigned(&render(v)?) => return Ok(()),
                Op::Count(0) => return Ok(()),
                _ => {}
            }
            let wanted = match op {
                Op::Equals(v) | Op::Like(v) => short(&render(v)?).to_string(),
                Op::Contains(v) => format!("something containing {}", short(&render(v)?)),
                _ => describe(op),
            };
            return Err(format!("expected {wanted}, but it is absent"));
        };
        let ic = self.ignore_case;
        let ord = cmp.ordered;
        let shown = shown.unwrap_or(actual);
        match op {
            Op::Equals(v) => {
                let want = want(v)?;
                if !(equal_in(actual, &want, ic, ord) || both_unassigned(actual, &want)) {
                    return Err(format!(
                        "expected {}, got {}",
                        short(&render(v)?),
                        short(shown)
                    ));
                }
            }
            Op::Like(v) => {
                let want = want(v)?;
                if !(like_in(actual, &want, ic, ord) || both_unassigned(actual, &want)) {
                    return Err(format!(
                        "expected {}, got {}",
                        short(&render(v)?),
                        short(shown)
                    ));
                }
            }
            Op::Contains(v) => {
                let want = want(v)?;
                let ok = match (actual, &want) {
                    (Value::String(a), Value::String(w)) => {
                        if ic {
                            a.to_lowercase().contains(&w.to_lowercase())
                        } else {
                            a.contains(w.as_str())
                        }
                    }
                    (Value::Array(items), w) => items.iter().any(|i| like_in(i, w, ic, ord)),
                    (Value::Object(_), w @ Value::Object(_)) => like_in(actual, w, ic, ord),
                    _ => false,
                };
                if !ok {
                    return Err(format!(
                        "expected something containing {}, got {}",
                        short(&render(v)?),
                        short(shown)
                    ));
                }
            }
            Op::Matches(re) => {
                let re = vars.render_text(re).map_err(|e| e.to_string())?;
                let re = regex::RegexBuilder::new(&re)
                    .case_insensitive(ic || cmp.fold_case)
                    .build()
                    .map_err(|e| format!("bad regex after templating: {e}"))?;
                let text = match shown {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                if !re.is_match(&text) {
                    return Err(format!("expected a match for /{re}/, got {}", short(shown)));
                }
            }
            Op::Count(n) => match actual {
                Value::Array(items) if items.len() as u64 == *n => {}
                Value::Array(items) => {
                    return Err(format!("expected {n} item(s), got {}", items.len()));
                }
                other => {
                    return Err(format!(
                        "expected a list of {n} item(s), got {}",
                        short(other)
                    ));
                }
            },
            Op::Type(t) => {
                if !t.holds(actual) {
                    return Err(format!("expected a {}, got {}", t.name(), short(actual)));
                }
            }
            Op::OneOf(vs) => {
                let wants = vs.iter().map(want).collect::<Result<Vec<_>, _>>()?;
                if !wants.iter().any(|w| equal_in(actual, w, ic, ord)) {
                    let shown_wants = vs.iter().map(render).collect::<Result<Vec<_>, _>>()?;
                    return Err(format!(
                        "expected one of {}, got {}",
                        short(&Value::Array(shown_wants)),
                        short(shown)
                    ));
                }
            }
            Op::Compare(c, n) => {
                let a = actual
                    .as_f64()
                    .ok_or_else(|| format!("expected a number, got {}", short(actual)))?;
                let ok = match c {
                    Cmp::Gt => a > *n,
                    Cmp::Ge => a >= *n,
                    Cmp::Lt => a < *n,
                    Cmp::Le => a <= *n,
                };
                if !ok {
                    return Err(format!("expected {}, got {}", describe(op), short(actual)));
                }
            }
            Op::Exists(_) | Op::Unassigned(_) | Op::NotEquals(_) => {}
        }
        Ok(())
    }
}

fn bool_arg(k: &str, v: &Value) -> Result<bool, String> {
    v.as_bool()
        .ok_or_else(|| format!("'{k}' takes true or false"))
}

fn describe(op: &Op) -> String {
    match op {
        Op::Matches(re) => format!("a match for /{re}/"),
        Op::Count(n) => format!("{n} item(s)"),
        Op::Type(t) => format!("a {}", t.name()),
        Op::OneOf(vs) => format!("one of {}", short(&Value::Array(vs.clone()))),
        Op::Compare(c, n) => {
            let s = match c {
                Cmp::Gt => ">",
                Cmp::Ge => ">=",
                Cmp::Lt => "<",
                Cmp::Le => "<=",
            };
            format!("a number {s} {n}")
        }
        Op::Equals(v) | Op::Like(v) => short(v),
        Op::Contains(v) => format!("something containing {}", short(v)),
        Op::NotEquals(v) => format!("anything but {}", short(v)),
        Op::Unassigned(true) => "it unassigned".into(),
        Op::Unassigned(false) => "a value".into(),
        Op::Exists(true) => "it to exist".into(),
        Op::Exists(false) => "it to be absent".into(),
    }
}

/// Deep equality; numbers by value, strings optionally ignoring case, lists
/// in order.
pub fn equal(a: &Value, b: &Value, ignore_case: bool) -> bool {
    equal_in(a, b, ignore_case, true)
}

/// Deep equality by RFC 7643's rules: member names case-insensitive (§2.1),
/// lists as sets unless `ordered` (§2.4).
fn equal_in(a: &Value, b: &Value, ic: bool, ordered: bool) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) if ic => x.to_lowercase() == y.to_lowercase(),
        (Value::Array(x), Value::Array(y)) => {
            lists_match(x, y, ordered, |a, b| equal_in(a, b, ic, ordered))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| member(y, k).is_some_and(|w| equal_in(v, w, ic, ordered)))
        }
        _ => a == b,
    }
}

/// Like [`equal`], but an expected object only needs its own members to match.
pub fn like(actual: &Value, want: &Value, ignore_case: bool) -> bool {
    like_in(actual, want, ignore_case, true)
}

fn like_in(actual: &Value, want: &Value, ic: bool, ordered: bool) -> bool {
    match (actual, want) {
        (Value::Object(a), Value::Object(w)) => w.iter().all(|(k, wv)| match member(a, k) {
            Some(av) => like_in(av, wv, ic, ordered) || both_unassigned(av, wv),
            None => unassigned(wv),
        }),
        (Value::Array(a), Value::Array(w)) => {
            lists_match(a, w, ordered, |x, y| like_in(x, y, ic, ordered))
        }
        _ => equal_in(actual, want, ic, ordered),
    }
}

/// The member named `k`, exactly or else ignoring case (RFC 7643 §2.1).
fn member<'a>(m: &'a serde_json::Map<String, Value>, k: &str) -> Option<&'a Value> {
    m.get(k).or_else(|| {
        m.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v)
    })
}

/// Null and the empty list: an unassigned attribute (RFC 7643 §2.5).
fn unassigned(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

fn both_unassigned(a: &Value, b: &Value) -> bool {
    unassigned(a) && unassigned(b)
}

/// Whether two lists hold matching items: pairwise in order, or else as
/// sets (each expected item matched by a different actual one).
fn lists_match(
    actual: &[Value],
    want: &[Value],
    ordered: bool,
    m: impl Fn(&Value, &Value) -> bool,
) -> bool {
    if actual.len() != want.len() {
        return false;
    }
    if ordered {
        return actual.iter().zip(want).all(|(a, w)| m(a, w));
    }
    // A bipartite matching by augmenting paths (lists here are short).
    let mut owner: Vec<Option<usize>> = vec![None; actual.len()];
    fn assign(
        w: usize,
        seen: &mut [bool],
        owner: &mut [Option<usize>],
        fits: &dyn Fn(usize, usize) -> bool,
    ) -> bool {
        for a in 0..owner.len() {
            if fits(a, w) && !seen[a] {
                seen[a] = true;
                if owner[a].is_none_or(|o| assign(o, seen, owner, fits)) {
                    owner[a] = Some(w);
                    return true;
                }
            }
        }
        false
    }
    let fits = |a: usize, w: usize| m(&actual[a], &want[w]);
    (0..want.len()).all(|w| {
        let mut seen = vec![false; actual.len()];
        assign(w, &mut seen, &mut owner, &fits)
    })
}

/// A value shortened for a one-line message.
pub fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 120 {
        let cut: String = s.chars().take(117).collect();
        format!("{cut}...")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Predicate {
        Predicate::parse(&v).unwrap()
    }

    fn check(pred: Value, actual: Option<Value>) -> Result<(), String> {
        let mut vars = Vars::default();
        vars.set("user", json!("ada@example.com"));
        p(pred).eval(actual.as_ref(), &vars)
    }

    #[test]
    fn literal_equality_and_templates() {
        assert!(check(json!("{{user}}"), Some(json!("ada@example.com"))).is_ok());
        let err = check(json!("{{user}}"), Some(json!("bob"))).unwrap_err();
        assert_eq!(err, r#"expected "ada@example.com", got "bob""#);
        assert!(check(json!(1), Some(json!(1.0))).is_ok());
        assert!(check(json!(true), Some(json!("True"))).is_err());
        assert_eq!(
            check(json!(true), None).unwrap_err(),
            "expected true, but it is absent"
        );
    }

    #[test]
    fn literal_objects_match_on_named_members() {
        assert!(
            check(
                json!({"value": "x"}),
                Some(json!({"value": "x", "display": "X"}))
            )
            .is_ok()
        );
        assert!(check(json!({"value": "x"}), Some(json!({"value": "y"}))).is_err());
        assert!(
            check(
                json!({"equals": {"value": "x"}}),
                Some(json!({"value": "x", "d": 1}))
            )
            .is_err()
        );
    }

    #[test]
    fn existence_treats_null_as_absent() {
        assert!(check(json!({"exists": true}), Some(json!("x"))).is_ok());
        assert!(check(json!({"exists": true}), Some(Value::Null)).is_err());
        assert!(check(json!({"absent": true}), None).is_ok());
        // RFC 7643 §2.5: null, [] and absent are one state.
        assert!(check(json!({"absent": true}), Some(json!([]))).is_ok());
        assert!(check(json!({"absent": true}), Some(json!(["x"]))).is_err());
        assert!(check(json!([]), None).is_ok());
        assert!(check(json!(null), Some(json!([]))).is_ok());
        assert!(check(json!({"emails": []}), Some(json!({"name": "x"}))).is_ok());
        assert!(check(json!({"count": 0}), None).is_ok());
    }

    #[test]
    fn word_predicates() {
        assert!(check(json!({"matches": "^ada@"}), Some(json!("ada@example.com"))).is_ok());
        assert!(check(json!({"matches": "^bob"}), Some(json!("ada"))).is_err());
        assert!(
            check(
                json!({"contains": "EXAMPLE", "ignore_case": true}),
                Some(json!("ada@example.com"))
            )
            .is_ok()
        );
        assert!(
            check(
                json!({"contains": {"type": "work"}}),
                Some(json!([{"type": "home"}, {"type": "work", "value": "a"}]))
            )
            .is_ok()
        );
        assert!(
            check(
                json!({"contains": {"type": "other"}}),
                Some(json!([{"type": "work"}]))
            )
            .is_err()
        );
        assert!(check(json!({"count": 2}), Some(json!([1, 2]))).is_ok());
        assert_eq!(
            check(json!({"count": 2}), Some(json!([1]))).unwrap_err(),
            "expected 2 item(s), got 1"
        );
        assert!(check(json!({"type": "integer"}), Some(json!(3))).is_ok());
        assert!(check(json!({"type": "integer"}), Some(json!("3"))).is_err());
        assert!(check(json!({"one_of": [200, 204]}), Some(json!(204))).is_ok());
        assert!(
            check(
                json!({"equals": "ADA@example.com", "ignore_case": true}),
                Some(json!("ada@EXAMPLE.com"))
            )
            .is_ok()
        );
        assert!(check(json!({"ge": 1, "lt": 3}), Some(json!(2))).is_ok());
        assert!(check(json!({"gt": 2}), Some(json!(2))).is_err());
    }

    #[test]
    fn schema_words() {
        assert!(check(json!({"not_equals": "x"}), Some(json!("y"))).is_ok());
        assert!(check(json!({"not_equals": "x"}), None).is_ok());
        assert!(check(json!({"not_equals": "x"}), Some(json!("x"))).is_err());
        assert!(
            check(
                json!({"not_equals": "X", "ignore_case": true}),
                Some(json!("x"))
            )
            .is_err()
        );
        assert!(check(json!({"unassigned": true}), Some(json!([]))).is_ok());
        assert!(check(json!({"unassigned": true}), Some(Value::Null)).is_ok());
        assert!(check(json!({"unassigned": true}), None).is_ok());
        assert!(check(json!({"unassigned": true}), Some(json!([1]))).is_err());
        assert!(check(json!({"unassigned": true}), Some(json!(""))).is_err());
        assert!(check(json!({"unassigned": false}), Some(json!([]))).is_err());
        assert!(check(json!({"type": "string", "if_present": true}), None).is_ok());
        assert!(
            check(
                json!({"type": "string", "if_present": true}),
                Some(json!(1))
            )
            .is_err()
        );
        assert!(check(json!({"type": "string"}), None).is_err());
    }

    #[test]
    fn lists_are_sets_unless_ordered_and_names_ignore_case() {
        let vars = Vars::default();
        let want = p(json!([{"value": "a"}, {"value": "b"}]));
        let shuffled = json!([{"Value": "b"}, {"value": "a", "primary": true}]);
        assert!(want.eval(Some(&shuffled), &vars).is_ok());
        let ordered = Compare {
            ordered: true,
            ..Compare::default()
        };
        assert!(want.eval_with(Some(&shuffled), &vars, &ordered).is_err());
        // Each expected item needs an item of its own.
        assert!(
            p(json!([{"value": "a"}, {"value": "a"}]))
                .eval(Some(&json!([{"value": "a"}, {"value": "b"}])), &vars)
                .is_err()
        );
        assert!(
            p(json!(["x", "y", "x"]))
                .eval(Some(&json!(["x", "x", "y"])), &vars)
                .is_ok()
        );
    }

    #[test]
    fn normalizing_compares_both_sides() {
        let vars = Vars::default();
        let lower = |v: &Value| match v {
            Value::String(s) => Value::String(s.to_lowercase()),
            other => other.clone(),
        };
        let cmp = Compare {
            normalize: Some(&lower),
            fold_case: true,
            ordered: false,
        };
        let pred = p(json!("Ada@Example.com"));
        assert!(pred.eval(Some(&json!("ada@example.com")), &vars).is_err());
        let err = pred
            .eval_with(Some(&json!("bob@example.com")), &vars, &cmp)
            .unwrap_err();
        assert_eq!(err, r#"expected "Ada@Example.com", got "bob@example.com""#);
        assert!(
            pred.eval_with(Some(&json!("ada@example.com")), &vars, &cmp)
                .is_ok()
        );
        assert!(
            p(json!({"matches": "^Ada@"}))
                .eval_with(Some(&json!("ada@x")), &vars, &cmp)
                .is_ok()
        );
    }

    #[test]
    fn bad_predicates_are_rejected() {
        assert!(Predicate::parse(&json!({"count": "two"})).is_err());
        assert!(Predicate::parse(&json!({"type": "text"})).is_err());
        assert!(Predicate::parse(&json!({"matches": "("})).is_err());
        assert!(Predicate::parse(&json!({"ignore_case": true})).is_err());
    }
}
