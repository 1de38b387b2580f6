//! Embeds every translation in `locales/*.toml`, so that adding a language is
//! adding a file: this script writes the list of files into `OUT_DIR`, and
//! `provenance::locale` includes it.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=locales");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(manifest.join("locales"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
                .filter_map(|path| Some((path.file_stem()?.to_str()?.to_owned(), path)))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut code = String::from("/// Every `locales/<code>.toml`: its code and its text.\n");
    code.push_str("pub(crate) const EMBEDDED: &[(&str, &str)] = &[\n");
    for (code_name, path) in &files {
        // Debug formatting writes both as Rust string literals, escapes included.
        let _ = writeln!(code, "    ({code_name:?}, include_str!({:?})),", path.display().to_string());
    }
    code.push_str("];\n");
    if let Err(error) = std::fs::write(out.join("locales.rs"), code) {
        panic!("cannot write the locale list into OUT_DIR: {error}");
    }
}
