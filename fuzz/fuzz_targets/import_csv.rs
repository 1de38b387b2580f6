//! The inventory import (`salvage import`, `cli/src/inventory.rs`): a spreadsheet from a
//! demolition survey, read into passports before anything is signed or sent.
//!
//! Beyond "never panics": a row the import accepts is a passport the ledger can sign (every
//! number within ±(2^53−1)) whose GIAI is valid, so that a file the import called clean never
//! fails half-way through signing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use salvage_cli::inventory::{passport_of, read_inventory};
use salvage_ledger::canonical::check_numbers;
use salvage_ledger::ident::Giai;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = read_inventory(data, "inventory.csv") else { return };
    for (row, cells) in &rows {
        assert!(*row >= 2, "data rows start after the header, on row 2");
        let Ok(passport) = passport_of(cells) else { continue };
        if let Err(error) = check_numbers(&passport) {
            panic!("row {row} was accepted but its passport cannot be signed: {error}");
        }
        let giai = passport.pointer("/identity/giai").and_then(Value::as_str);
        assert!(giai.is_some_and(|giai| Giai::parse(giai).is_ok()), "row {row} was accepted without a valid GIAI");
    }
});
