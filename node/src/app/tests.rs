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
