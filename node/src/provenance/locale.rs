//! Translations of the provenance page, one TOML file per language.
//!
//! Each `node/locales/<code>.toml` maps keys to strings; tables nest keys, so
//! `[timeline]` followed by `received = "…"` defines `timeline.received`.
//! Strings may hold `{placeholders}` that [`Locale::format`] fills in. The build
//! script embeds every file of that folder, so adding a language needs no code
//! change; [`Locales::parse`] refuses a language whose keys or placeholders
//! differ from English, so a missing translation is found when the node starts,
//! not by a buyer.

use std::collections::{BTreeMap, BTreeSet};

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// The language every other one is checked against and falls back to.
pub const DEFAULT_LOCALE: &str = "en";

/// The key of each language's own name, shown in the language switch.
pub const LANGUAGE_NAME_KEY: &str = "language.name";

/// Why the translations could not be loaded.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocaleError {
    /// A file is not valid TOML.
    #[error("locale {code}: not valid TOML: {reason}")]
    Syntax {
        /// The language code (the file name without `.toml`).
        code: String,
        /// What the TOML parser said.
        reason: String,
    },
    /// A value is not a string or a table of strings.
    #[error("locale {code}: key {key} must be a string (or a table of strings)")]
    NotText {
        /// The language code.
        code: String,
        /// The offending key.
        key: String,
    },
    /// The file name is not a language code such as `lv` or `pt-br`.
    #[error(
        "locale file {code:?}.toml must be named after a language code (2 to 8 lowercase letters, optionally -region)"
    )]
    BadCode {
        /// The file name without `.toml`.
        code: String,
    },
    /// There is no English file to check the others against.
    #[error("no {DEFAULT_LOCALE}.toml: English is the reference every other locale is checked against")]
    NoDefault,
    /// A language lacks keys that English has.
    #[error("locale {code} lacks keys that {DEFAULT_LOCALE} has: {keys:?}")]
    MissingKeys {
        /// The language code.
        code: String,
        /// The keys it lacks.
        keys: Vec<String>,
    },
    /// A language has keys that English does not.
    #[error("locale {code} has keys that {DEFAULT_LOCALE} does not: {keys:?}")]
    ExtraKeys {
        /// The language code.
        code: String,
        /// The keys only it has.
        keys: Vec<String>,
    },
    /// A translation uses other placeholders than the English string.
    #[error("locale {code}, key {key}: placeholders {found:?} differ from {DEFAULT_LOCALE}'s {expected:?}")]
    Placeholders {
        /// The language code.
        code: String,
        /// The key.
        key: String,
        /// The placeholders of the English string.
        expected: Vec<String>,
        /// The placeholders of the translation.
        found: Vec<String>,
    },
}

/// One language: its code and its strings.
// INVARIANT: has exactly the keys of English, each with English's placeholders
// (checked by `Locales::parse`), and a `language.name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale {
    code: String,
    strings: BTreeMap<String, String>,
}

impl Locale {
    /// The language code, as used in `?lang=` and `<html lang>`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The language's name for itself, for the language switch.
    pub fn name(&self) -> &str {
        self.text(LANGUAGE_NAME_KEY)
    }

    /// The string of a key. An unknown key (a bug in the page, since every
    /// locale has every key the page uses) shows as the key itself rather than
    /// failing the page.
    pub fn text<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map_or(key, String::as_str)
    }

    /// The string of a key if it exists: for values that only sometimes have a
    /// translation, such as a category a newer schema added.
    pub fn lookup(&self, key: &str) -> Option<&str> {
        self.strings.get(key).map(String::as_str)
    }

    /// The string of a key with each `{name}` replaced by its argument. The
    /// arguments are inserted once, so text in them is never treated as a
    /// placeholder.
    pub fn format(&self, key: &str, args: &[(&str, &str)]) -> String {
        let template = self.text(key);
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let (before, after) = rest.split_at(open);
            out.push_str(before);
            let name_and_rest = &after[1..];
            match name_and_rest.find('}') {
                Some(close) => {
                    let name = &name_and_rest[..close];
                    match args.iter().find(|(arg, _)| *arg == name) {
                        Some((_, value)) => out.push_str(value),
                        None => {
                            out.push('{');
                            out.push_str(name);
                            out.push('}');
                        }
                    }
                    rest = &name_and_rest[close + 1..];
                }
                None => {
                    out.push_str(after);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// Every key, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.strings.keys().map(String::as_str)
    }
}

/// Every language the page speaks.
// INVARIANT: non-empty, sorted by code, codes unique, English among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locales {
    locales: Vec<Locale>,
    default: usize,
}

impl Locales {
    /// The languages embedded in the binary from `node/locales/*.toml`.
    pub fn embedded() -> Result<Locales, LocaleError> {
        Locales::parse(EMBEDDED)
    }

    /// Parses `(code, TOML text)` pairs, checking every language against English.
    pub fn parse(files: &[(&str, &str)]) -> Result<Locales, LocaleError> {
        let mut locales = Vec::with_capacity(files.len());
        for (code, text) in files {
            if !is_language_code(code) {
                return Err(LocaleError::BadCode { code: (*code).to_owned() });
            }
            let table: toml::Table = toml::from_str(text)
                .map_err(|e| LocaleError::Syntax { code: (*code).to_owned(), reason: e.to_string() })?;
            let mut strings = BTreeMap::new();
            flatten(code, "", &table, &mut strings)?;
            locales.push(Locale { code: (*code).to_owned(), strings });
        }
        locales.sort_by(|a, b| a.code.cmp(&b.code));
        locales.dedup_by(|a, b| a.code == b.code);
        let default = locales.iter().position(|l| l.code == DEFAULT_LOCALE).ok_or(LocaleError::NoDefault)?;
        let english = locales.get(default).ok_or(LocaleError::NoDefault)?;
        if !english.strings.contains_key(LANGUAGE_NAME_KEY) {
            return Err(LocaleError::MissingKeys {
                code: DEFAULT_LOCALE.to_owned(),
                keys: vec![LANGUAGE_NAME_KEY.to_owned()],
            });
        }
        for locale in &locales {
            check_against(english, locale)?;
        }
        Ok(Locales { locales, default })
    }

    /// English, the fallback.
    pub fn default_locale(&self) -> &Locale {
        // The invariant keeps `default` in range: `parse` found it there.
        &self.locales[self.default]
    }

    /// A language by code (`lv`, or `lv-LV` for `lv`), ignoring case.
    pub fn get(&self, code: &str) -> Option<&Locale> {
        let code = code.trim().to_ascii_lowercase();
        self.locales
            .iter()
            .find(|l| l.code == code)
            .or_else(|| self.locales.iter().find(|l| code.split('-').next() == Some(l.code.as_str())))
    }

    /// Every language, by code.
    pub fn iter(&self) -> impl Iterator<Item = &Locale> {
        self.locales.iter()
    }

    /// The language to answer in: an explicit `?lang=` that names a language
    /// wins; otherwise the `Accept-Language` entry with the highest q-value that
    /// matches one (by its primary subtag, so `lv-LV` gets `lv`; entries with
    /// `q=0` are refused, equal q-values keep the header's order); otherwise
    /// English.
    pub fn negotiate(&self, accept_language: Option<&str>, requested: Option<&str>) -> &Locale {
        if let Some(locale) = requested.and_then(|code| self.get(code)) {
            return locale;
        }
        let mut ranges: Vec<(u16, &str)> = accept_language
            .unwrap_or_default()
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let tag = parts.next()?.trim();
                let quality = parts
                    .find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                    .map_or(Some(1000), parse_quality)?;
                (!tag.is_empty() && quality > 0).then_some((quality, tag))
            })
            .collect();
        // A stable sort keeps the header's order among equal q-values.
        ranges.sort_by_key(|range| std::cmp::Reverse(range.0));
        ranges
            .into_iter()
            .find_map(|(_, tag)| if tag == "*" { None } else { self.get(tag) })
            .unwrap_or_else(|| self.default_locale())
    }
}

/// An RFC 9110 q-value in thousandths (`1`, `0.8`, `0.125`), or None if malformed.
fn parse_quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether a file name is a language code: `lv`, `sl`, `pt-br`.
fn is_language_code(code: &str) -> bool {
    let mut parts = code.split('-');
    let primary_ok =
        parts.next().is_some_and(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase()));
    primary_ok
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

/// Flattens nested tables into dotted keys.
fn flatten(
    code: &str,
    prefix: &str,
    table: &toml::Table,
    out: &mut BTreeMap<String, String>,
) -> Result<(), LocaleError> {
    for (key, value) in table {
        let full = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::String(text) => {
                out.insert(full, text.clone());
            }
            toml::Value::Table(inner) => flatten(code, &full, inner, out)?,
            _ => return Err(LocaleError::NotText { code: code.to_owned(), key: full }),
        }
    }
    Ok(())
}

/// Checks that a locale has exactly English's keys, with the same placeholders.
fn check_against(english: &Locale, locale: &Locale) -> Result<(), LocaleError> {
    let missing: Vec<String> = english.strings.keys().filter(|k| !locale.strings.contains_key(*k)).cloned().collect();
    if !missing.is_empty() {
        return Err(LocaleError::MissingKeys { code: locale.code.clone(), keys: missing });
    }
    let extra: Vec<String> = locale.strings.keys().filter(|k| !english.strings.contains_key(*k)).cloned().collect();
    if !extra.is_empty() {
        return Err(LocaleError::ExtraKeys { code: locale.code.clone(), keys: extra });
    }
    for (key, text) in &english.strings {
        let expected = placeholders(text);
        let found = placeholders(locale.text(key));
        if expected != found {
            return Err(LocaleError::Placeholders {
                code: locale.code.clone(),
                key: key.clone(),
                expected: expected.into_iter().collect(),
                found: found.into_iter().collect(),
            });
        }
    }
    Ok(())
}

/// The `{names}` a string uses.
pub(crate) fn placeholders(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                names.insert(after[..close].to_owned());
                rest = &after[close + 1..];
            }
            None => break,
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Locales {
        Locales::parse(&[
            ("en", "[language]\nname = \"English\"\n[greeting]\nhello = \"Hello {who}\"\n"),
            ("lv", "[language]\nname = \"Latviešu\"\n[greeting]\nhello = \"Sveiki, {who}\"\n"),
        ])
        .unwrap()
    }

    #[test]
    fn every_embedded_locale_has_exactly_the_keys_and_placeholders_of_english() {
        let locales = Locales::embedded().unwrap();
        let english = locales.default_locale();
        assert_eq!(english.code(), "en");
        let codes: Vec<&str> = locales.iter().map(Locale::code).collect();
        assert!(codes.contains(&"lv"), "{codes:?}");
        for locale in locales.iter() {
            let keys: Vec<&str> = locale.keys().collect();
            assert_eq!(keys, english.keys().collect::<Vec<_>>(), "keys of {}", locale.code());
            for key in english.keys() {
                assert_eq!(placeholders(locale.text(key)), placeholders(english.text(key)), "{} {key}", locale.code());
                assert!(!locale.text(key).trim().is_empty(), "{} {key} is empty", locale.code());
            }
        }
        assert_eq!(locales.get("lv").unwrap().name(), "Latviešu");
        assert_eq!(english.name(), "English");
    }

    #[test]
    fn a_locale_with_missing_extra_or_mismatched_keys_is_refused() {
        let en = "[language]\nname = \"English\"\n[a]\nb = \"x {n}\"\n";
        assert!(matches!(
            Locales::parse(&[("en", en), ("sl", "[language]\nname = \"Slovenščina\"\n")]),
            Err(LocaleError::MissingKeys { code, keys }) if code == "sl" && keys == ["a.b"]
        ));
        assert!(matches!(
            Locales::parse(&[("en", en), ("sl", "[language]\nname = \"S\"\n[a]\nb = \"{n}\"\nc = \"?\"\n")]),
            Err(LocaleError::ExtraKeys { keys, .. }) if keys == ["a.c"]
        ));
        assert!(matches!(
            Locales::parse(&[("en", en), ("sl", "[language]\nname = \"S\"\n[a]\nb = \"{m}\"\n")]),
            Err(LocaleError::Placeholders { key, .. }) if key == "a.b"
        ));
        assert!(matches!(Locales::parse(&[("lv", en)]), Err(LocaleError::NoDefault)));
        assert!(matches!(Locales::parse(&[("en", en), ("LV", en)]), Err(LocaleError::BadCode { .. })));
        assert!(matches!(Locales::parse(&[("en", "a = 1\n")]), Err(LocaleError::NotText { .. })));
        assert!(matches!(Locales::parse(&[("en", "a = \n")]), Err(LocaleError::Syntax { .. })));
    }

    #[test]
    fn a_new_file_is_a_new_language() {
        let locales = Locales::parse(&[
            ("en", "[language]\nname = \"English\"\n"),
            ("sl", "[language]\nname = \"Slovenščina\"\n"),
        ])
        .unwrap();
        assert_eq!(locales.negotiate(Some("sl-SI"), None).name(), "Slovenščina");
    }

    #[test]
    fn explicit_choice_wins_then_accept_language_by_quality_then_english() {
        let locales = two();
        let code = |accept: Option<&str>, lang: Option<&str>| locales.negotiate(accept, lang).code().to_owned();
        assert_eq!(code(Some("lv"), Some("en")), "en");
        assert_eq!(code(Some("en"), Some("LV")), "lv");
        assert_eq!(code(Some("lv-LV,lv;q=0.9,en;q=0.8"), None), "lv");
        assert_eq!(code(Some("de-DE, en;q=0.5, lv;q=0.7"), None), "lv");
        assert_eq!(code(Some("lv;q=0, en;q=0.1"), None), "en");
        assert_eq!(code(Some("de, fr;q=0.9"), None), "en");
        assert_eq!(code(Some("lv;q=1.5, ru"), None), "en");
        assert_eq!(code(Some("*;q=0.9, lv;q=0.2"), None), "lv");
        assert_eq!(code(Some(""), Some("xx")), "en");
        assert_eq!(code(None, None), "en");
        assert_eq!(code(Some(";;,,q=,"), Some("")), "en");
    }

    #[test]
    fn format_fills_placeholders_once() {
        let locales = two();
        let lv = locales.get("lv").unwrap();
        assert_eq!(lv.format("greeting.hello", &[("who", "{who} & Co")]), "Sveiki, {who} & Co");
        assert_eq!(lv.format("greeting.hello", &[]), "Sveiki, {who}");
        assert_eq!(lv.text("no.such.key"), "no.such.key");
    }
}
