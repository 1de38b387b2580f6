//! `/openapi.json` tells the truth: every status a route answers is listed for
//! it, and a parameter value the description allows is one the node takes.
//! The test reads the description a running node serves, builds probes for
//! every route from it (valid, malformed, out-of-range and unknown values of
//! each parameter), sends them, and holds every answer against it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_tests::http::{Answer, request};
use salvage_tests::node::{Running, Site};
use serde_json::Value;

const OPERATOR: &str = "city-of-jelgava";
const KNOWN: &str = "4750001BEAM-0001";

/// Values tried for a parameter of each kind: the first is a valid one.
fn candidates(schema: &Value) -> Vec<String> {
    let schema = if schema["type"] == "array" { &schema["items"] } else { schema };
    let kind = schema["type"].as_str().or_else(|| schema["type"][0].as_str()).unwrap_or("string");
    let values: &[&str] = match kind {
        "integer" => &["1", "0", "-1", "abc", "", "18446744073709551615", "99999999999999999999", "1.5"],
        _ if schema.get("pattern").is_some() => {
            &[KNOWN, "4750001NOPE-0001", "not-a-giai", "47500", "475000123456789012345678901234567890"]
        }
        _ => &["en", "lv", "xx", "all", ""],
    };
    values.iter().map(|value| (*value).to_owned()).collect()
}

/// Whether `value`, as sent in a URL, is one the parameter's schema allows.
fn allowed(schema: &Value, value: &str) -> bool {
    let schema = if schema["type"] == "array" { &schema["items"] } else { schema };
    let is_integer = schema["type"] == "integer" || schema["type"][0] == "integer";
    let instance = match (is_integer, value.parse::<i128>()) {
        (true, Ok(number)) => serde_json::from_str(&number.to_string()).unwrap(),
        _ => Value::String(value.to_owned()),
    };
    jsonschema::validator_for(schema).unwrap().is_valid(&instance)
}

struct Parameter {
    name: String,
    location: String,
    required: bool,
    schema: Value,
}

fn parameters(operation: &Value) -> Vec<Parameter> {
    operation["parameters"]
        .as_array()
        .map(|parameters| {
            parameters
                .iter()
                .map(|p| Parameter {
                    name: p["name"].as_str().unwrap().to_owned(),
                    location: p["in"].as_str().unwrap().to_owned(),
                    required: p["required"].as_bool().unwrap_or(false),
                    schema: p["schema"].clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The request path for `template` with `values` (name, value) in place.
fn url(template: &str, parameters: &[Parameter], values: &[(String, String)]) -> String {
    let mut path = template.to_owned();
    let mut query = Vec::new();
    for (name, value) in values {
        let parameter = parameters.iter().find(|p| &p.name == name).unwrap();
        if parameter.location == "path" {
            path = path.replace(&format!("{{{name}}}"), value);
        } else {
            query.push(format!("{name}={value}"));
        }
    }
    if query.is_empty() { path } else { format!("{path}?{}", query.join("&")) }
}

fn documented(operation: &Value) -> Vec<u16> {
    operation["responses"].as_object().unwrap().keys().map(|status| status.parse().unwrap()).collect()
}

/// Refusals that depend on the ledger's state, not on the request's form: a
/// value the description allows may still get them.
const STATE_DEPENDENT: &[&str] = &["proof.out_of_range"];

#[test]
fn every_route_answers_only_statuses_its_description_lists_and_takes_every_value_it_allows() {
    let site = Site::new(&[OPERATOR, "baltic-demolition"]);
    let node = Running::start(site.node(OPERATOR));
    let register = site.fixture.register("baltic-demolition", KNOWN, "HEA 160 steel beam", 182.4);
    assert_eq!(node.submit_one(&register).status, 201);
    let description = node.get_json("/openapi.json");
    let mut checked = 0;
    let mut problems = Vec::new();
    for (template, item) in description["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if method == "post" {
                continue; // POST /v1/entries: its bodies are probed below
            }
            let parameters = parameters(operation);
            // Every required parameter at a valid value, optional ones left out...
            let base: Vec<(String, String)> = parameters
                .iter()
                .filter(|p| p.required)
                .map(|p| (p.name.clone(), candidates(&p.schema)[0].clone()))
                .collect();
            let mut probes = vec![base.clone()];
            // ...then each parameter in turn at each of its candidate values.
            for parameter in &parameters {
                for value in candidates(&parameter.schema) {
                    let mut probe: Vec<_> = base.iter().filter(|(name, _)| name != &parameter.name).cloned().collect();
                    probe.push((parameter.name.clone(), value));
                    probes.push(probe);
                }
            }
            for probe in probes {
                let path = url(template, &parameters, &probe);
                let answer = request(&node.address, "GET", &path, &[], b"");
                checked += 1;
                judge(&mut problems, &path, operation, &answer, || {
                    probe.iter().all(|(name, value)| {
                        allowed(&parameters.iter().find(|p| &p.name == name).unwrap().schema, value)
                    })
                });
            }
        }
    }

    // POST /v1/entries with bodies of every kind of trouble.
    let submit = &description["paths"]["/v1/entries"]["post"];
    let entry = site.fixture.register("baltic-demolition", "4750001BEAM-0002", "door", 30.0).to_value().to_string();
    let again = register.to_value().to_string();
    let twice = format!("[{entry},{entry}]");
    let too_many = format!("[{}]", vec!["1"; 1001].join(","));
    let bodies: [(&str, &[u8]); 7] = [
        ("application/json", entry.as_bytes()),
        ("application/json", again.as_bytes()),
        ("application/json", twice.as_bytes()),
        ("application/json", b"{\"not\":\"an entry\"}"),
        ("application/json", b"[{"),
        ("application/json", too_many.as_bytes()),
        ("text/plain", entry.as_bytes()),
    ];
    for (content_type, body) in bodies {
        let answer = request(&node.address, "POST", "/v1/entries", &[("Content-Type", content_type)], body);
        checked += 1;
        judge(&mut problems, "POST /v1/entries", submit, &answer, || false);
    }
    assert!(checked > 100, "only {checked} probes");
    assert!(
        problems.is_empty(),
        "{} of {checked} answers disagree with /openapi.json:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

fn judge(problems: &mut Vec<String>, what: &str, operation: &Value, answer: &Answer, allowed: impl Fn() -> bool) {
    let listed = documented(operation);
    if !listed.contains(&answer.status) {
        problems.push(format!(
            "{what}: answered {}, the description lists {listed:?}: {}",
            answer.status,
            answer.text()
        ));
    }
    if answer.status == 500 {
        problems.push(format!("{what}: failed inside the node: {}", answer.text()));
    }
    if answer.status == 400 && allowed() && !STATE_DEPENDENT.contains(&answer.error_code().as_str()) {
        problems.push(format!("{what}: the description allows these values, the node refused them: {}", answer.text()));
    }
}
