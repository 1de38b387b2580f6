//! Tests of validation against the example documents in `schemas/examples`, and of the
//! catalogue, the messages, the passport rules and the `cas-number` format.
//!
//! They sit in their own file so that the implementation files stay short enough to read whole.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::cas::is_cas_number;
use super::catalogue::{compile_catalogue, compile_validators};
use super::rules::ASBESTOS_CAS_NUMBERS;
use super::*;

/// The repository's example folder, read at test time so new examples need no code change.
fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/examples")
}

/// One example file: which schema it is for, the document, and (for invalid ones) where an
/// error must be reported.
struct Example {
    file: String,
    schema: String,
    document: Value,
    expected_pointer: Option<String>,
}

fn examples(folder: &str) -> Vec<Example> {
    let mut paths: Vec<PathBuf> = fs::read_dir(examples_dir().join(folder))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = fs::read_to_string(&path).unwrap();
            let example: Value =
                serde_json::from_str(&text).unwrap_or_else(|error| panic!("{file} is not JSON: {error}"));
            let description = example["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{file} has no description");
            Example {
                schema: example["schema"].as_str().unwrap_or_else(|| panic!("{file} names no schema")).to_owned(),
                document: example["document"].clone(),
                expected_pointer: example["expected_pointer"].as_str().map(str::to_owned),
                file,
            }
        })
        .collect()
}

fn validate(schema: &str, document: &Value) -> Result<(), SchemaError> {
    if schema == PASSPORT { validate_passport(document) } else { validate_body(schema, document) }
}

fn pointers(error: &SchemaError) -> Vec<&str> {
    error.violations().iter().map(|violation| violation.pointer.as_str()).collect()
}

fn steel_beam() -> Value {
    json!({
        "identity": {"giai": "0614141HEA300-0001"},
        "name": "Steel beam HEA 300, 6.00 m",
        "category": "structural_steel",
        "quantity": {"value": 1, "unit": "H87"},
        "mass_kg": 529.8,
        "legal_status": {"status": "used_product"}
    })
}

#[test]
fn every_named_schema_compiles() {
    let catalogue = compile_catalogue().unwrap();
    assert_eq!(catalogue.validators.len(), SCHEMA_NAMES.len());
    for name in SCHEMA_NAMES {
        assert!(catalogue.validator(name).is_some(), "{name} is not compiled");
    }
}

#[test]
fn references_outside_the_embedded_schemas_are_not_fetched() {
    let id = "https://salvage.example/schemas/broken.schema.json".to_owned();
    let dangling = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": id,
        "$ref": "https://schemas.example.org/elsewhere.schema.json"
    });
    // Whether the registry or the compiler notices first, the reference must fail rather
    // than be retrieved.
    let error = compile_validators(&[("broken", id, dangling)]).unwrap_err();
    assert!(error.to_string().contains("elsewhere.schema.json"), "{error}");
}

#[test]
fn a_misspelt_format_is_a_compile_error_not_a_silent_pass() {
    let id = "https://salvage.example/schemas/typo.schema.json".to_owned();
    let typo = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": id,
        "type": "string",
        "format": "cas_number"
    });
    assert!(compile_validators(&[("typo", id, typo)]).is_err());
}

#[test]
fn every_schema_file_is_embedded_under_its_own_name_and_id() {
    let names: Vec<&str> = EMBEDDED.iter().map(|embedded| embedded.name).collect();
    assert_eq!(names, SCHEMA_NAMES);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas");
    let mut on_disk: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|entry| {
            let file = entry.unwrap().file_name().to_string_lossy().into_owned();
            file.strip_suffix(".schema.json").map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut embedded: Vec<String> = SCHEMA_NAMES.iter().map(|name| (*name).to_owned()).collect();
    embedded.sort();
    assert_eq!(on_disk, embedded, "a schema file is not embedded, or vice versa");
    for name in SCHEMA_NAMES {
        let source = schema_source(name).unwrap();
        let on_disk = fs::read_to_string(dir.join(format!("{name}.schema.json"))).unwrap();
        assert_eq!(source, on_disk);
        let document: Value = serde_json::from_str(source).unwrap();
        assert_eq!(document["$id"], format!("https://salvage.example/schemas/{name}.schema.json"));
        assert_eq!(document["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }
}

#[test]
fn every_statement_kind_has_a_body_schema() {
    for kind in BODY_KINDS {
        assert!(SCHEMA_NAMES.contains(kind), "{kind}");
    }
    assert_eq!(BODY_KINDS.len() + 2, SCHEMA_NAMES.len());
}

#[test]
fn every_kind_of_the_ledger_has_a_body_schema() {
    let kinds: Vec<&str> = crate::entry::Kind::ALL.iter().map(|kind| kind.as_str()).collect();
    assert_eq!(kinds, BODY_KINDS);
}

#[test]
fn schema_source_refuses_unknown_names() {
    assert!(schema_source("item.teleport").is_none());
    assert!(schema_source("passport.schema.json").is_none());
}

#[test]
fn valid_examples_pass() {
    let examples = examples("valid");
    assert!(examples.len() >= 12, "only {} valid examples", examples.len());
    for example in &examples {
        assert!(example.expected_pointer.is_none(), "{}", example.file);
        if let Err(error) = validate(&example.schema, &example.document) {
            panic!("{} was refused: {error}", example.file);
        }
    }
    for kind in BODY_KINDS {
        assert!(examples.iter().any(|example| example.schema == *kind), "no valid example of {kind}");
    }
    assert!(examples.iter().any(|example| example.schema == PASSPORT));
}

#[test]
fn invalid_examples_fail_at_their_expected_pointer() {
    let examples = examples("invalid");
    assert!(examples.len() >= 15, "only {} invalid examples", examples.len());
    for example in &examples {
        let expected =
            example.expected_pointer.as_deref().unwrap_or_else(|| panic!("{} has no expected_pointer", example.file));
        match validate(&example.schema, &example.document) {
            Ok(()) => panic!("{} was accepted", example.file),
            Err(error) => assert!(
                pointers(&error).contains(&expected),
                "{}: expected a violation at {expected:?}, got {error}",
                example.file
            ),
        }
    }
}

#[test]
fn cas_check_digits() {
    for valid in ["1332-21-4", "7440-47-3", "12001-29-5", "7439-92-1", "132207-32-0", "50-00-0"] {
        assert!(is_cas_number(valid), "{valid} should pass");
    }
    for invalid in [
        "1332-21-5",
        "7440-47-4",
        "12001-29-6",
        "1-00-1",
        "12345678-90-1",
        "1332-2-4",
        "1332-211-4",
        "1332-21-44",
        "1332-21",
        "1332214",
        "1332-21-4-",
        "-1332-21-4",
        "1a32-21-4",
        "١٣٣٢-21-4",
        "",
    ] {
        assert!(!is_cas_number(invalid), "{invalid} should fail");
    }
}

#[test]
fn the_common_schema_marks_exactly_the_asbestos_minerals_never_reusable() {
    let common: Value = serde_json::from_str(schema_source("common").unwrap()).unwrap();
    let marked: Vec<&str> =
        common["$defs"]["never_reusable_cas"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(marked, ASBESTOS_CAS_NUMBERS);
    assert!(crate::schema::is_never_reusable("12001-29-5"));
    assert!(!crate::schema::is_never_reusable("7439-92-1"), "lead is hazardous but not banned from reuse");
}

#[test]
fn asbestos_cas_numbers_have_valid_check_digits() {
    for cas in ASBESTOS_CAS_NUMBERS {
        assert!(is_cas_number(cas), "{cas}");
    }
}

#[test]
fn a_document_with_several_errors_reports_all_of_them() {
    let mut passport = steel_beam();
    passport["mass_kg"] = json!(-1);
    passport["quantity"]["unit"] = json!("PCS");
    passport["hazards"] = json!({"substances": [{"name": "Asbestos", "cas": "1332-21-5"}]});
    passport["materials"] = json!([
        {"name": "Steel", "fraction": 0.9},
        {"name": "Paint", "fraction": 0.2}
    ]);
    passport.as_object_mut().unwrap().remove("category");
    let error = validate_passport(&passport).unwrap_err();
    let found = pointers(&error);
    for expected in ["/mass_kg", "/quantity/unit", "/hazards/substances/0/cas", "/materials", ""] {
        assert!(found.contains(&expected), "{expected:?} missing from {error}");
    }
    let text = error.to_string();
    for violation in error.violations() {
        assert!(text.contains(&violation.message), "{text}");
    }
    assert!(text.contains(&format!("in {} places", error.violations().len())), "{text}");
}

#[test]
fn integers_beyond_two_to_the_53_are_refused() {
    let attest = |version: Value| {
        json!({
            "giai": "0614141HEA300-0001",
            "passport_version": version,
            "attestation": {"type": "test", "result": "pass", "summary": "Tensile test."}
        })
    };
    validate_body("item.attest", &attest(json!(9_007_199_254_740_991_u64))).unwrap();
    for too_big in [json!(9_007_199_254_740_992_u64), json!(u64::MAX), serde_json::from_str::<Value>("1e300").unwrap()]
    {
        let error = validate_body("item.attest", &attest(too_big.clone())).unwrap_err();
        assert_eq!(pointers(&error), ["/passport_version"], "{too_big}: {error}");
    }
    let error = validate_body("item.attest", &attest(json!(9_007_199_254_740_992_u64))).unwrap_err();
    assert!(error.to_string().contains("2^53−1"), "{error}");
}

#[test]
fn measures_written_as_huge_integers_are_refused() {
    let mut passport = steel_beam();
    passport["mass_kg"] = json!(9_007_199_254_740_992_u64);
    passport["dimensions_mm"] = json!({"length": u64::MAX});
    let error = validate_passport(&passport).unwrap_err();
    let mut found = pointers(&error);
    found.sort_unstable();
    assert_eq!(found, ["/dimensions_mm/length", "/mass_kg"], "{error}");
}

#[test]
fn unknown_kinds_are_refused_not_accepted_unchecked() {
    for kind in ["item.teleport", "passport", "common", ""] {
        match validate_body(kind, &json!({})) {
            Err(SchemaError::UnknownSchema(name)) => assert_eq!(name, kind),
            other => panic!("{kind}: {other:?}"),
        }
    }
}

#[test]
fn cross_file_references_are_enforced() {
    // The GIAI pattern lives in common.schema.json; a body must still be held to it.
    let error = validate_body("item.receive", &json!({"giai": "not a giai"})).unwrap_err();
    assert_eq!(pointers(&error), ["/giai"]);
    assert!(error.to_string().contains("GS1"), "{error}");
    // The passport is a separate file referenced by item.register.
    let mut passport = steel_beam();
    passport["quantity"]["value"] = json!(0);
    let body = json!({"giai": "0614141HEA300-0001", "passport": passport});
    let error = validate_body("item.register", &body).unwrap_err();
    assert_eq!(pointers(&error), ["/passport/quantity/value"]);
}

#[test]
fn giai_follows_gs1_rules() {
    let receive = |giai: &str| validate_body("item.receive", &json!({ "giai": giai }));
    for valid in ["0614141HEA300-0001", "06141415000123", "123456!\"%&'()*+,-./:;<=>?_zZ", "1234567"] {
        receive(valid).unwrap_or_else(|error| panic!("{valid}: {error}"));
    }
    let thirty = format!("123456{}", "A".repeat(24));
    receive(&thirty).unwrap();
    for invalid in [
        "123456",
        "12345A-0001",
        "0614141 HEA300",
        "0614141HEA#300",
        "0614141HÉA300",
        &format!("123456{}", "A".repeat(25)),
    ] {
        assert!(receive(invalid).is_err(), "{invalid} should be refused");
    }
}

#[test]
fn materials_fractions_may_reach_one_but_not_exceed_it() {
    let mut passport = steel_beam();
    passport["materials"] = json!([
        {"name": "Steel", "fraction": 0.7},
        {"name": "Concrete", "fraction": 0.2},
        {"name": "Paint", "fraction": 0.1}
    ]);
    validate_passport(&passport).unwrap();
    passport["materials"] = json!([
        {"name": "Steel", "fraction": 0.7},
        {"name": "Concrete", "fraction": 0.31}
    ]);
    let error = validate_passport(&passport).unwrap_err();
    assert_eq!(pointers(&error), ["/materials"]);
}

#[test]
fn passport_rules_apply_inside_bodies_at_the_right_pointer() {
    let mut passport = steel_beam();
    passport["materials"] = json!([
        {"name": "Steel", "fraction": 0.9},
        {"name": "Paint", "fraction": 0.2}
    ]);
    let register = json!({"giai": "0614141HEA300-0001", "passport": passport.clone()});
    let error = validate_body("item.register", &register).unwrap_err();
    assert_eq!(pointers(&error), ["/passport/materials"]);

    let mut second = passport.clone();
    second["identity"]["giai"] = json!("0614141HEA300-0001B");
    let mut first = steel_beam();
    first["identity"]["giai"] = json!("0614141HEA300-0001A");
    let split = json!({"giai": "0614141HEA300-0001", "parts": [
        {"giai": "0614141HEA300-0001A", "passport": first},
        {"giai": "0614141HEA300-0001B", "passport": second}
    ]});
    let error = validate_body("item.split", &split).unwrap_err();
    assert_eq!(pointers(&error), ["/parts/1/passport/materials"]);
}

#[test]
fn rules_with_their_own_refusal_codes_are_left_to_custody() {
    // Custody refuses these with specific codes (PassportGiaiMismatch, SplitDuplicatePart,
    // LedgerGenesisInvalid, MemberExists, KeyInUse); the schema must let them through.
    let mut other = steel_beam();
    other["identity"]["giai"] = json!("0614141OTHER");
    validate_body("item.register", &json!({"giai": "0614141HEA300-0001", "passport": other})).unwrap();
    let part = json!({"giai": "0614141P1", "passport": {
        "identity": {"giai": "0614141P1"}, "name": "Part", "category": "structural_steel",
        "quantity": {"value": 1, "unit": "H87"}, "legal_status": {"status": "used_product"}
    }});
    validate_body("item.split", &json!({"giai": "0614141P1", "parts": [part, part]})).unwrap();
    let key = "11ee2307fe084d5423192e019e632de13ba3c44b2a3fbeb82548e392122bf073";
    let founder = json!({"id": "a", "name": "A", "roles": ["admin"], "keys": [key]});
    let genesis = json!({
        "consortium": {"name": "C"},
        "admin_threshold": 3,
        "members": [founder, founder]
    });
    validate_body("ledger.genesis", &genesis).unwrap();
}

#[test]
fn formats_are_asserted() {
    let install = |date: &str| {
        validate_body("item.install", &json!({"giai": "0614141RAD-0310", "site": {"building": "School"}, "date": date}))
    };
    install("2025-09-22").unwrap();
    for bad in ["2025-9-22", "22-09-2025", "2025-02-29", "2025-09-22T10:00:00Z"] {
        let error = install(bad).unwrap_err();
        assert_eq!(pointers(&error), ["/date"], "{bad}");
    }
    let genesis = |website: &str| {
        json!({
            "consortium": {"name": "C", "website": website},
            "admin_threshold": 1,
            "members": [{"id": "a", "name": "A", "roles": ["admin"],
                         "keys": ["11ee2307fe084d5423192e019e632de13ba3c44b2a3fbeb82548e392122bf073"]}]
        })
    };
    validate_body("ledger.genesis", &genesis("https://circular.example/")).unwrap();
    let error = validate_body("ledger.genesis", &genesis("not a uri")).unwrap_err();
    assert_eq!(pointers(&error), ["/consortium/website"]);
}

#[test]
fn messages_say_what_is_expected_without_echoing_whole_documents() {
    let mut passport = steel_beam();
    passport["hazards"] = json!({"substances": [{"name": "Asbestos", "cas": "1332-21-5"}]});
    passport["legal_status"] = json!({"status": "waste"});
    passport["identity"] = json!("0614141HEA300-0001");
    let error = validate_passport(&passport).unwrap_err();
    let message = |pointer: &str| {
        error
            .violations()
            .iter()
            .find(|violation| violation.pointer == pointer)
            .map(|violation| violation.message.clone())
            .unwrap_or_else(|| panic!("nothing at {pointer}: {error}"))
    };
    assert!(message("/hazards/substances/0/cas").contains("check digit"));
    assert!(message("/legal_status").contains("list_of_waste_code"));
    assert!(message("/legal_status").contains("List of Waste"));
    assert!(message("/identity").starts_with("expected an object, found a string"));

    let huge = json!({"giai": "0614141HEA300-0001", "passport": "x".repeat(10_000)});
    let error = validate_body("item.register", &huge).unwrap_err();
    assert!(error.to_string().len() < 500, "{error}");
}

#[test]
fn violation_display_names_the_place() {
    let at_root = SchemaViolation { pointer: String::new(), message: "missing required field \"to\"".to_owned() };
    assert_eq!(at_root.to_string(), "at the document root: missing required field \"to\"");
    let nested = SchemaViolation { pointer: "/mass_kg".to_owned(), message: "-1 must be greater than 0".to_owned() };
    assert_eq!(nested.to_string(), "at /mass_kg: -1 must be greater than 0");
}

#[test]
fn hostile_documents_do_not_panic() {
    let hostile = [
        json!(null),
        json!([]),
        json!("passport"),
        json!({"materials": "all of them", "origin": [], "hazards": {"substances": {}}}),
        json!({"giai": 7, "parts": [null, {"passport": []}, {"giai": []}]}),
        json!({"members": [null, {"keys": {}, "roles": "admin"}], "admin_threshold": -1}),
        json!({"add_keys": "k", "revoke_keys": [1, null]}),
    ];
    for document in &hostile {
        assert!(validate_passport(document).is_err());
        for kind in BODY_KINDS {
            assert!(validate_body(kind, document).is_err(), "{kind} accepted {document}");
        }
    }
}

#[test]
fn body_kinds_are_the_ledgers_statement_kinds() {
    let kinds: Vec<&str> = crate::entry::Kind::ALL.iter().map(|kind| kind.as_str()).collect();
    assert_eq!(kinds, BODY_KINDS, "schema::BODY_KINDS must list entry::Kind::ALL, in order");
}
