//! The node as a GS1-Conformant resolver (GS1-Conformant Resolver standard
//! 1.2), driven over HTTP against the real `salvage node`: its description
//! file validates against GS1's published schema and names this node; every
//! link type of an item's linkset, compact or in full, redirects (307) to
//! exactly that link, which the node serves; the linkset answers
//! `linkType=linkset`, `linkType=all` and `Accept: application/linkset+json`
//! and validates against GS1's linkset schema; without a link type the QR
//! code's address is still the page; what is not there is 404.
//!
//! The tests' client never follows redirects (`salvage_tests::http`): a 307
//! is an answer whose `Location` the test reads.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a failed unwrap is a failed test")]

use salvage_tests::http::{Answer, request};
use salvage_tests::node::{PUBLIC_URL, Running, Site};
use serde_json::{Value, json};

const OPERATOR: &str = "city-of-jelgava";
const BEAM: &str = "4750001BEAM-0001";
const UNKNOWN: &str = "4750001NOPE-0001";
const GS1_VOC: &str = "https://gs1.org/voc/";
const LINKSET: &str = "application/linkset+json";

/// A node with one registered beam (the site must outlive the node).
fn node_with_a_beam() -> (Site, Running) {
    let site = Site::new(&[OPERATOR, "baltic-demolition"]);
    let node = Running::start(site.node(OPERATOR));
    let register = site.fixture.register("baltic-demolition", BEAM, "HEA 160 steel beam", 182.4);
    assert_eq!(node.submit_one(&register).status, 201);
    (site, node)
}

/// A copied GS1 schema of `tests/data/`, compiled with its formats checked.
fn gs1_schema(file: &str) -> jsonschema::Validator {
    let path = format!("{}/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn assert_valid(validator: &jsonschema::Validator, document: &Value, what: &str) {
    let errors: Vec<String> =
        validator.iter_errors(document).map(|e| format!("{}: {e}", e.instance_path().as_str())).collect();
    assert!(errors.is_empty(), "{what} breaks GS1's schema:\n{}\n{document:#}", errors.join("\n"));
}

/// Every value of the header `name` (lower case).
fn all(answer: &Answer, name: &str) -> Vec<String> {
    answer.headers.iter().filter(|(key, _)| key == name).map(|(_, value)| value.clone()).collect()
}

fn get(node: &Running, path: &str, headers: &[(&str, &str)]) -> Answer {
    request(&node.address, "GET", path, headers, b"")
}

/// The `Link` header value naming the beam's linkset.
fn linkset_link() -> String {
    format!(r#"<{PUBLIC_URL}/8004/{BEAM}?linkType=linkset>; rel="linkset"; type="{LINKSET}""#)
}

/// The path on the node of one of its own URLs.
fn path_of(url: &str) -> &str {
    url.strip_prefix(PUBLIC_URL).unwrap_or_else(|| panic!("{url} is not one of the node's URLs"))
}

#[test]
fn the_description_file_is_valid_against_gs1_s_schema_and_describes_this_node() {
    let (site, node) = node_with_a_beam();
    let answer = get(&node, "/.well-known/gs1resolver", &[("Accept", "application/json")]);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let description = answer.json();
    let schema = gs1_schema("gs1resolver-description.schema.json");
    assert_valid(&schema, &description, "/.well-known/gs1resolver");
    // The copied schema bites: a primary key it does not know, a missing root.
    assert!(!schema.is_valid(&json!({"resolverRoot": PUBLIC_URL, "supportedPrimaryKeys": ["8004x"]})));
    assert!(!schema.is_valid(&json!({"supportedPrimaryKeys": ["8004"]})));

    assert_eq!(description["resolverRoot"], PUBLIC_URL, "the node's public URL");
    assert_eq!(description["name"], site.fixture.genesis.statement().body["consortium"]["name"]);
    assert_eq!(description["supportedPrimaryKeys"], json!(["8004"]), "GIAIs only");
    assert_eq!(description["linkTypeDefaultCanBeLinkset"], false, "the default is the page");
    // Every link relation of a linkset is of a namespace the description declares.
    let linkset = get(&node, &format!("/8004/{BEAM}?linkType=linkset"), &[]).json();
    let namespaces: Vec<&str> = description["supportedLinkType"]
        .as_array()
        .unwrap()
        .iter()
        .map(|declared| declared["namespace"].as_str().unwrap())
        .collect();
    assert!(namespaces.contains(&GS1_VOC), "{namespaces:?}");
    for relation in relations(&linkset) {
        let iana = format!("http://www.iana.org/assignments/relation/{relation}");
        let full = if relation.contains(':') { relation.clone() } else { iana };
        assert!(
            namespaces.iter().any(|namespace| full.starts_with(namespace)),
            "{relation} is in no declared namespace"
        );
    }

    // HEAD and OPTIONS, with the CORS preflight answer.
    let head = request(&node.address, "HEAD", "/.well-known/gs1resolver", &[], b"");
    assert_eq!((head.status, head.body.len()), (200, 0));
    let options = request(
        &node.address,
        "OPTIONS",
        "/.well-known/gs1resolver",
        &[("Origin", "https://ref.gs1.org"), ("Access-Control-Request-Method", "GET")],
        b"",
    );
    assert_eq!(options.status, 204, "{}", options.text());
    assert_eq!(options.header("access-control-allow-origin"), Some("*"));
    assert_eq!(options.header("access-control-allow-methods"), Some("GET, HEAD, OPTIONS"));
}

/// The link relations of a linkset's one context object, in its order.
fn relations(linkset: &Value) -> Vec<String> {
    let context = linkset["linkset"][0].as_object().unwrap();
    context.keys().filter(|key| !matches!(key.as_str(), "anchor" | "itemDescription")).cloned().collect()
}

#[test]
fn every_link_type_of_the_linkset_redirects_to_its_link_in_compact_and_full_form() {
    let (_site, node) = node_with_a_beam();
    let linkset = get(&node, &format!("/8004/{BEAM}?linkType=linkset"), &[]).json();
    let context = &linkset["linkset"][0];
    let mut redirects = 0;
    for relation in relations(&linkset) {
        let targets = context[&relation].as_array().unwrap();
        assert_eq!(targets.len(), 1, "{relation}: one link each");
        let href = targets[0]["href"].as_str().unwrap();
        let forms = match relation.strip_prefix(GS1_VOC) {
            Some(term) => vec![format!("gs1:{term}"), relation.clone()],
            None => vec![relation.clone(), format!("iana:{relation}")],
        };
        // As written, and percent-encoded as a client encodes a URI in a query.
        let encoded = forms.iter().map(|form| form.replace(':', "%3A").replace('/', "%2F")).collect::<Vec<_>>();
        for form in forms.iter().chain(&encoded) {
            let path = format!("/8004/{BEAM}?linkType={form}");
            let answer = get(&node, &path, &[]);
            assert_eq!(answer.status, 307, "{path}: {}", answer.text());
            assert_eq!(all(&answer, "location"), [href], "{path}");
            assert_eq!(all(&answer, "link"), [linkset_link()], "{path}");
            assert_eq!(answer.header("access-control-allow-origin"), Some("*"), "{path}");
            redirects += 1;
        }
        // The redirect lands on something the node serves (the page's own link types too: no loop).
        let target = get(&node, path_of(href), &[]);
        assert_eq!(target.status, 200, "{href}: {}", target.text());
    }
    assert_eq!(redirects, 6 * 4, "pip, defaultLink, masterData, traceability, epcis, alternate; four forms each");

    // The rest of the query is passed on (§2.12), after the link's own query.
    let answer = get(&node, &format!("/8004/{BEAM}?linkType=gs1:epcis&lang=lv"), &[]);
    assert_eq!(answer.header("location"), Some(format!("{PUBLIC_URL}/v1/epcis?giai={BEAM}&lang=lv").as_str()));
    let answer = get(&node, &format!("/8004/{BEAM}?utm_source=label&linkType=gs1:pip"), &[]);
    assert_eq!(answer.header("location"), Some(format!("{PUBLIC_URL}/8004/{BEAM}?utm_source=label").as_str()));
    // HEAD redirects as GET does.
    let head = request(&node.address, "HEAD", &format!("/8004/{BEAM}?linkType=gs1:masterData"), &[], b"");
    assert_eq!(head.status, 307);
    assert_eq!(head.header("location"), Some(format!("{PUBLIC_URL}/v1/items/{BEAM}").as_str()));
}

#[test]
fn the_linkset_answers_linktype_linkset_or_all_and_accept_linkset_json() {
    let (_site, node) = node_with_a_beam();
    let path = format!("/8004/{BEAM}");
    let answer = get(&node, &format!("{path}?linkType=linkset"), &[]);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some(LINKSET));
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    assert!(all(&answer, "link").contains(&linkset_link()));
    assert!(
        all(&answer, "link").iter().any(|link| link.contains("https://ref.gs1.org/standards/resolver/linkset-context"))
    );
    let linkset = answer.json();
    let schema = gs1_schema("gs1-linkset.schema.json");
    assert_valid(&schema, &linkset, "the linkset");
    let mut undescribed = linkset.clone();
    undescribed["linkset"][0].as_object_mut().unwrap().remove("itemDescription");
    assert!(!schema.is_valid(&undescribed), "GS1's linkset schema requires itemDescription");
    assert_eq!(linkset["linkset"][0]["anchor"], format!("{PUBLIC_URL}{path}"));
    assert_eq!(
        linkset["linkset"][0]["https://gs1.org/voc/defaultLink"],
        json!([{"href": format!("{PUBLIC_URL}{path}"), "title": format!("Provenance of item {BEAM}")}]),
        "the default link has a title and nothing else (§2.5.8)"
    );

    for (query, headers) in [
        ("?linkType=all", &[][..]),
        ("", &[("Accept", LINKSET)][..]),
        ("", &[("Accept", "application/json")][..]),
        ("?linkType=linkset", &[("Accept", "text/html")][..]),
    ] {
        let answer = get(&node, &format!("{path}{query}"), headers);
        assert_eq!(answer.status, 200, "{query} {headers:?}: {}", answer.text());
        assert_eq!(answer.header("content-type"), Some(LINKSET), "{query} {headers:?}");
        assert_eq!(answer.json(), linkset, "{query} {headers:?}");
    }
    // A named link type wins over Accept.
    let answer = get(&node, &format!("{path}?linkType=gs1:masterData"), &[("Accept", LINKSET)]);
    assert_eq!(answer.status, 307);
}

#[test]
fn without_a_link_type_the_page_is_served_and_what_is_not_there_is_404() {
    let (_site, node) = node_with_a_beam();
    for path in [format!("/8004/{BEAM}"), format!("/8004/{BEAM}?lang=en"), format!("/8004/{BEAM}?linkType=")] {
        let page = get(&node, &path, &[]);
        assert_eq!(page.status, 200, "{path}: {}", page.text());
        assert!(page.header("content-type").unwrap().starts_with("text/html"), "{path}");
        assert!(page.text().contains("HEA 160 steel beam"), "{path}");
        assert_eq!(all(&page, "link"), [linkset_link()], "{path}");
        assert_eq!(page.header("access-control-allow-origin"), Some("*"), "{path}");
    }
    let options = request(&node.address, "OPTIONS", &format!("/8004/{BEAM}"), &[], b"");
    assert_eq!(options.status, 204);
    assert_eq!(options.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(all(&options, "link"), [linkset_link()]);

    // A link type the item does not offer is 404 (§2.6.2), the linkset still linked.
    for link_type in
        ["gs1:recallStatus", "https://gs1.org/voc/recallStatus", "https://example.com/voc/pip", "%FF", "pip"]
    {
        let path = format!("/8004/{BEAM}?linkType={link_type}");
        let answer = get(&node, &path, &[]);
        assert_eq!(answer.status, 404, "{path}: {}", answer.text());
        assert_eq!(answer.error_code(), "http.not_found", "{path}");
        assert_eq!(all(&answer, "link"), [linkset_link()], "{path}");
        assert!(answer.text().contains("gs1:masterData"), "the 404 names the link types there are: {}", answer.text());
        assert!(!answer.text().contains("recallStatus") && !answer.text().contains("example.com"), "{}", answer.text());
    }

    // An unknown GIAI keeps its 404: the page, or JSON to a request for links.
    let page = get(&node, &format!("/8004/{UNKNOWN}"), &[]);
    assert_eq!(page.status, 404);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    for query in ["?linkType=gs1:pip", "?linkType=linkset"] {
        let answer = get(&node, &format!("/8004/{UNKNOWN}{query}"), &[]);
        assert_eq!(answer.status, 404, "{query}: {}", answer.text());
        assert_eq!(answer.error_code(), "http.not_found", "{query}");
    }
}
