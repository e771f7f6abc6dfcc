//! Evaluates a step's expectation against its exchange.

use serde_json::Value;

use crate::check;
use crate::http::Exchange;
use crate::results::Finding;
use crate::suite::template::Vars;
use crate::suite::{BodyRule, Expectation};

fn finding(subject: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding {
        subject: subject.into(),
        message: message.into(),
        rfc: None,
        advisory: false,
    }
}

/// Every way the exchange falls short of the expectation.
pub fn evaluate(exp: &Expectation, ex: &Exchange, vars: &Vars) -> Vec<Finding> {
    let mut out = Vec::new();
    let resp = &ex.response;
    if let Some(codes) = &exp.status
        && !codes.contains(&resp.status)
    {
        let want = match codes.as_slice() {
            [one] => one.to_string(),
            many => format!("one of {many:?}"),
        };
        let mut msg = format!("expected {want}, got {}", resp.status);
        if (300..400).contains(&resp.status) {
            msg.push_str(&format!(
                " (a redirect to {}, not followed)",
                resp.header("location").unwrap_or("nowhere")
            ));
        }
        out.push(finding("status", msg));
    }
    for (name, pred) in &exp.headers {
        let actual = resp.header(name).map(|v| Value::String(v.to_string()));
        if let Err(m) = pred.eval(actual.as_ref(), vars) {
            out.push(finding(format!("header {name}"), m));
        }
    }

    let body_empty = resp.body.trim().is_empty() && !resp.truncated;
    let needs_body = !exp.json.is_empty() || !exp.checks.is_empty();
    let body_checked = match exp.body {
        BodyRule::Empty => {
            if !body_empty {
                out.push(finding(
                    "body",
                    format!("expected no body, got {} bytes", resp.body.len()),
                ));
            }
            false
        }
        BodyRule::Optional if body_empty => false,
        _ if !needs_body => false,
        _ => match &resp.json {
            Some(_) => true,
            None => {
                let why = resp
                    .json_problem()
                    .unwrap_or_else(|| "the body is not JSON".into());
                out.push(finding("body", why));
                false
            }
        },
    };

    if body_checked {
        let body = resp.json.as_ref().unwrap_or(&Value::Null);
        for a in &exp.json {
            let rendered = match vars.render_text(&a.path) {
                Ok(p) => p,
                Err(e) => {
                    out.push(finding(format!("json {}", a.path), e.to_string()));
                    continue;
                }
            };
            let actual = match serde_json_path::JsonPath::parse(&rendered) {
                Ok(q) => select(&q, body),
                Err(e) => {
                    out.push(finding(
                        format!("json {rendered}"),
                        format!("not a JSONPath: {e}"),
                    ));
                    continue;
                }
            };
            if let Err(m) = a.predicate.eval(actual.as_ref(), vars) {
                out.push(finding(format!("json {rendered}"), m));
            }
        }
        for c in &exp.checks {
            for p in check::run(c.kind, ex) {
                out.push(Finding {
                    subject: format!("check {}", c.kind.name()),
                    message: p.message,
                    rfc: Some(p.rfc.to_string()),
                    advisory: c.advisory,
                });
            }
        }
    }

    if !exp.any_of.is_empty() {
        let alts: Vec<Vec<Finding>> = exp.any_of.iter().map(|e| evaluate(e, ex, vars)).collect();
        if !alts.iter().any(|f| f.iter().all(|x| x.advisory)) {
            let mut msg = String::from("no alternative held:");
            for (i, fs) in alts.iter().enumerate() {
                let parts: Vec<String> = fs
                    .iter()
                    .filter(|f| !f.advisory)
                    .map(|f| format!("{}: {}", f.subject, f.message))
                    .collect();
                msg.push_str(&format!(" ({}) {};", i + 1, parts.join(", ")));
            }
            msg.pop();
            out.push(finding("any_of", msg));
        }
    }
    out
}

/// A JSONPath's nodes as one value: absent, the node, or an array of nodes.
pub fn select(q: &serde_json_path::JsonPath, body: &Value) -> Option<Value> {
    let nodes = q.query(body).all();
    match nodes.len() {
        0 => None,
        1 => Some(nodes[0].clone()),
        _ => Some(Value::Array(nodes.into_iter().cloned().collect())),
    }
}
