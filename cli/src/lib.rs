//! The parts of the `salvage` command that are pure parsing, kept in a library so that they can
//! be fuzzed (docs/fuzzing.md) and tested without the binary; the commands themselves are in
//! `main.rs` and `commands/`.

pub mod disclosures_dir;
pub mod inventory;
pub mod strip;
