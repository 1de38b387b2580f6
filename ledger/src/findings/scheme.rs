//! A certification scheme: how serious each finding is, read from a TOML file the certifier
//! chooses (`ledger/data/audit_scheme.toml` ships as the default).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::FindingCode;

/// The scheme that ships with Salvage.
const DEFAULT: &str = include_str!("../../data/audit_scheme.toml");

/// The most bytes a scheme file may have: a scheme is a few lines.
pub const MAX_SCHEME_BYTES: usize = 64 * 1024;

/// How serious a finding is under a scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not reported.
    Ignore,
    /// Listed for the record.
    Info,
    /// Reported; the chain still passes.
    Warning,
    /// The chain fails the scheme.
    Error,
}

impl Severity {
    /// The severity as the scheme file and reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ignore => "ignore",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A checked scheme: every finding has a severity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scheme {
    /// Its name, e.g. "Salvage default scheme".
    pub name: String,
    /// Its version, as its author numbers it.
    pub version: String,
    /// The share of a parent's mass a split may lose before `finding.split_mass_loss`.
    pub split_mass_loss_tolerance: f64,
    severity: BTreeMap<FindingCode, Severity>,
}

/// Why a scheme file cannot be used; the message names the file and the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scheme {file}: {reason}")]
pub struct SchemeError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemeFile {
    name: String,
    version: String,
    split_mass_loss_tolerance: f64,
    severity: BTreeMap<String, Severity>,
}

impl Scheme {
    /// The scheme that ships with Salvage.
    pub fn default_scheme() -> Scheme {
        // The shipped file is checked by a test; should it ever be broken, every finding is an error.
        Scheme::parse("ledger/data/audit_scheme.toml", DEFAULT).unwrap_or_else(|_| Scheme {
            name: "Salvage default scheme".into(),
            version: "built-in".into(),
            split_mass_loss_tolerance: 0.05,
            severity: FindingCode::ALL.iter().map(|code| (*code, Severity::Error)).collect(),
        })
    }

    /// Reads a scheme file's text; `file` names it in errors. Every finding code must be given
    /// a severity, and no unknown code may be: a typo must not silently drop a requirement.
    pub fn parse(file: &str, text: &str) -> Result<Scheme, SchemeError> {
        let error = |reason: String| SchemeError { file: file.to_owned(), reason };
        if text.len() > MAX_SCHEME_BYTES {
            return Err(error(format!("{} bytes; a scheme has at most {MAX_SCHEME_BYTES}", text.len())));
        }
        let parsed: SchemeFile = toml::from_str(text).map_err(|e| error(e.to_string().trim().to_owned()))?;
        if !(0.0..=1.0).contains(&parsed.split_mass_loss_tolerance) {
            return Err(error(format!(
                "split_mass_loss_tolerance is {}; it is a share of the parent's mass, from 0 to 1",
                parsed.split_mass_loss_tolerance
            )));
        }
        let mut severity = BTreeMap::new();
        for (code, level) in parsed.severity {
            let known = FindingCode::ALL.iter().find(|known| known.as_str() == code).ok_or_else(|| {
                let codes: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
                error(format!("[severity] names {code:?}, which is no finding; the findings are {}", codes.join(", ")))
            })?;
            severity.insert(*known, level);
        }
        if let Some(missing) = FindingCode::ALL.iter().find(|code| !severity.contains_key(code)) {
            return Err(error(format!(
                "[severity] gives {:?} no severity (error, warning, info or ignore)",
                missing.as_str()
            )));
        }
        Ok(Scheme {
            name: parsed.name,
            version: parsed.version,
            split_mass_loss_tolerance: parsed.split_mass_loss_tolerance,
            severity,
        })
    }

    /// How serious `code` is under this scheme.
    pub fn severity(&self, code: FindingCode) -> Severity {
        self.severity.get(&code).copied().unwrap_or(Severity::Error)
    }
}
