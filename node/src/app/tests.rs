use std::collections::BTreeSet;

use super::*;
use crate::provenance::locale::Locales;

/// The path below `/app/` that `reference`, written in the shell file at `from`, names.
fn resolve(from: &str, reference: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for step in reference.split('/') {
        match step {
            "." => {}
            ".." => {
                parts.pop();
            }
            step => parts.push(step),
        }
    }
    parts.join("/")
}

/// Every `"…"` in `text` right after one of `openers`.
fn quoted_after<'a>(text: &'a str, openers: &[&str]) -> Vec<&'a str> {
    let mut found = Vec::new();
    for opener in openers {
        let mut rest = text;
        while let Some(at) = rest.find(opener) {
            rest = &rest[at + opener.len()..];
            if let Some(end) = rest.find('"') {
                found.push(&rest[..end]);
            }
        }
    }
    found
}

#[test]
fn every_module_script_and_file_the_shell_names_is_in_the_shell() {
    let paths: BTreeSet<&str> = SHELL.iter().map(|file| file.path).collect();
    let mut checked = 0;
    for file in SHELL {
        let Ok(text) = std::str::from_utf8(file.bytes) else { continue };
        let references = if file.path.ends_with(".js") {
            // Static and dynamic imports, workers and a worker's importScripts; the worker path is
            // relative to the page (`/app/`), the others to the file.
            let mut references: Vec<String> = quoted_after(text, &[" from \"", "import(\"", "importScripts(\""])
                .into_iter()
                .map(|r| resolve(file.path, r))
                .collect();
            references.extend(quoted_after(text, &["new Worker(\""]).into_iter().map(|r| resolve("index.html", r)));
            references
        } else if file.path.is_empty() {
            quoted_after(text, &["src=\"", "href=\""])
                .into_iter()
                .filter(|r| !r.starts_with('#'))
                .map(|r| resolve("index.html", r))
                .collect()
        } else {
            continue;
        };
        for reference in references {
            assert!(paths.contains(reference.as_str()), "{:?} names {reference}, which the shell lacks", file.path);
            checked += 1;
        }
    }
    assert!(checked > 30, "only {checked} references found: the scan is broken");
}

#[test]
fn the_shell_stays_under_150_kb_and_names_no_other_origin() {
    assert!(shell_size() < 150 * 1024, "the app shell is {} bytes", shell_size());
    for file in SHELL {
        let Ok(text) = std::str::from_utf8(file.bytes) else { continue };
        // An absolute URL in quotes or in CSS's url() is something loaded from elsewhere.
        for quote in ["\"", "'", "`", "(", "="] {
            for scheme in ["http://", "https://", "//"] {
                let opener = format!("{quote}{scheme}");
                assert!(!text.contains(&opener), "{} loads from another origin ({opener}…)", file.path);
            }
        }
    }
}

#[test]
fn the_policy_allows_no_inline_script_no_eval_and_no_other_origin() {
    for forbidden in ["unsafe-inline", "unsafe-eval", "*", "http:", "https:", "data:"] {
        assert!(!CONTENT_SECURITY_POLICY.contains(forbidden), "{forbidden}");
    }
    assert!(CONTENT_SECURITY_POLICY.starts_with("default-src 'none'"));
    let page = std::str::from_utf8(SHELL[0].bytes).unwrap_or_default();
    assert!(
        !page.contains("<script>") && !page.contains(" style=") && !page.contains("onclick"),
        "inline code in the page"
    );
}

#[test]
fn the_service_worker_keeps_every_shell_file_the_strings_and_the_schema() {
    let worker = service_worker(&["en", "lv"]);
    assert!(worker.contains(&format!("\"{}\"", shell_version())));
    assert!(!worker.contains("__SHELL"));
    for file in SHELL {
        assert!(worker.contains(&format!("\"./{}\"", file.path)), "{}", file.path);
    }
    for kept in ["./locale/en.json", "./locale/lv.json", "./schema/passport.json"] {
        assert!(worker.contains(kept), "{kept}");
    }
}

#[test]
fn every_language_has_the_app_strings_the_scripts_look_up() {
    let locales = Locales::embedded().unwrap_or_else(|error| panic!("{error}"));
    let mut looked_up = BTreeSet::new();
    for file in SHELL.iter().filter(|file| file.path.ends_with(".js")) {
        let text = std::str::from_utf8(file.bytes).unwrap_or_default();
        // `t("key")` where `t` is the function itself, not the end of another name.
        for (at, _) in text.match_indices("t(\"") {
            let before = text[..at].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' || before == '.' {
                continue;
            }
            let rest = &text[at + 3..];
            if let Some(end) = rest.find('"') {
                looked_up.insert(rest[..end].to_owned());
            }
        }
    }
    assert!(looked_up.len() > 60, "{looked_up:?}");
    for locale in locales.iter() {
        for key in &looked_up {
            assert!(locale.lookup(key).is_some(), "{} lacks {key}", locale.code());
        }
        let strings = locale_strings(locale, &[("en", "English")]);
        assert_eq!(strings["strings"]["app.nav.scan"], locale.text("app.nav.scan"));
    }
}

#[test]
fn the_schema_the_form_is_made_from_is_the_one_the_ledger_enforces() {
    let schemas = passport_schema();
    assert_eq!(schemas["passport"]["$id"], "https://salvage.example/schemas/passport.schema.json");
    assert!(schemas["common"]["$defs"]["giai"].is_object());
    assert_eq!(
        schemas["passport"],
        serde_json::from_str::<Value>(salvage_ledger::schema::schema_source("passport").unwrap_or_default())
            .unwrap_or_default()
    );
}

mod routes {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use http_body_util::BodyExt;
    use salvage_ledger::genesis::Genesis;
    use salvage_ledger::operator::Operator;
    use salvage_ledger::store::Ledger;
    use salvage_ledger::testkit::Fixture;
    use tower::ServiceExt;

    use crate::server::router;

    async fn answer(method: &str, uri: &str, body: Vec<u8>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let fixture = Fixture::new();
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
        let ledger = Ledger::create(dir.path(), fixture.genesis.clone()).unwrap_or_else(|e| panic!("{e}"));
        let genesis = Genesis::from_entry(fixture.genesis.clone()).unwrap_or_else(|e| panic!("{e}"));
        let members = ledger.members().unwrap_or_else(|e| panic!("{e}"));
        let operator =
            Operator::identify(Fixture::key("reuse-hub"), &genesis, &members).unwrap_or_else(|e| panic!("{e}"));
        let node = crate::server::Node::new(ledger, operator, "https://salvage.example", 1 << 20)
            .unwrap_or_else(|e| panic!("{e}"));
        let request =
            Request::builder().method(method).uri(uri).body(Body::from(body)).unwrap_or_else(|e| panic!("{e}"));
        let response = router(std::sync::Arc::new(node)).oneshot(request).await.unwrap_or_else(|e| panic!("{e}"));
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
        (parts.status, parts.headers, bytes)
    }

    #[tokio::test]
    async fn the_app_s_files_strings_and_checks_answer_as_the_app_expects() {
        let (status, headers, _) = answer("GET", "/app", Vec::new()).await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
        assert_eq!(headers[header::LOCATION], "/app/");
        let (status, headers, page) = answer("GET", "/app/", Vec::new()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_SECURITY_POLICY], super::CONTENT_SECURITY_POLICY);
        assert!(String::from_utf8_lossy(&page).contains("js/main.js"));
        let (status, headers, _) = answer("GET", "/app/js/canonical.js", Vec::new()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        for missing in ["/app/js/nothing.js", "/app/locale/xx.json", "/app/../Cargo.toml"] {
            assert_eq!(answer("GET", missing, Vec::new()).await.0, StatusCode::NOT_FOUND, "{missing}");
        }
        let (status, _, strings) = answer("GET", "/app/locale/lv.json", Vec::new()).await;
        assert_eq!(status, StatusCode::OK);
        let strings: serde_json::Value = serde_json::from_slice(&strings).unwrap_or_default();
        assert_eq!(strings["strings"]["app.nav.scan"], "Skenēt");
        let (status, _, worker) = answer("GET", "/app/sw.js", Vec::new()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(String::from_utf8_lossy(&worker).contains(super::shell_version()));

        // A phone's key as its enrolment QR code; anything else is refused.
        let key = salvage_ledger::entry::PublicKey::of(&Fixture::key("reuse-hub")).to_hex();
        let (status, headers, _) = answer("GET", &format!("/app/key.svg?key={key}"), Vec::new()).await;
        assert_eq!(
            (status, headers[header::CONTENT_TYPE].to_str().unwrap_or_default()),
            (StatusCode::OK, "image/svg+xml")
        );
        assert_eq!(answer("GET", "/app/key.svg?key=abc", Vec::new()).await.0, StatusCode::BAD_REQUEST);

        // The passport check: the schema's problems with their pointers, bounded input.
        let (status, _, problems) = answer("POST", "/app/check/passport", br#"{"name": 5}"#.to_vec()).await;
        assert_eq!(status, StatusCode::OK);
        let problems: serde_json::Value = serde_json::from_slice(&problems).unwrap_or_default();
        assert!(
            problems["problems"].as_array().is_some_and(|p| p.iter().any(|p| p["pointer"] == "/name")),
            "{problems}"
        );
        let (status, _, _) = answer("POST", "/app/check/passport", br#"{"a": 1, "a": 2}"#.to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _, _) = answer("POST", "/app/check/passport", vec![b' '; 70 * 1024]).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let good = salvage_ledger::testkit::passport("4750001BEAM-0001", "Beam", 10.0);
        let (_, _, problems) = answer("POST", "/app/check/passport", good.to_string().into_bytes()).await;
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&problems).unwrap_or_default(),
            serde_json::json!({"problems": []})
        );
    }
}
