//! What certifiers said about an item: its attestations (`item.attest`, perhaps withdrawn by
//! `item.attest_withdraw`) and the audit conclusions whose judged items name it
//! (`audit.conclusion`).
//!
//! Plain data like the rest of the view, read from the signed records alone. A record whose
//! body lacks a field the page needs, or holds one of the wrong type, is skipped, never fatal.
//! This file imports nothing from `view.rs`, which imports it (no import cycles).

use salvage_ledger::chain::Record;
use salvage_ledger::custody::ConclusionBody;
use salvage_ledger::entry::Timestamp;
use salvage_ledger::ident::Giai;
use serde::Deserialize;
use serde_json::Value;

use super::attachments_view::{Document, MemberRef, document, documents};

/// A certifier's statement about the item.
#[derive(Debug, Clone, PartialEq)]
pub struct Attestation {
    /// Its record.
    pub seq: u64,
    /// When the ledger accepted it.
    pub accepted: Timestamp,
    /// The certifier.
    pub issuer: MemberRef,
    /// The passport version examined.
    pub passport_version: u64,
    /// `inspection`, `certification`, `hazard_survey` or `test`.
    pub kind: String,
    /// `pass`, `fail` or `conditional`.
    pub result: String,
    /// The grade assigned.
    pub grade: Option<String>,
    /// The standard examined against.
    pub standard: Option<String>,
    /// The certificate or report id.
    pub certificate_id: Option<String>,
    /// Last day it is valid (`YYYY-MM-DD`).
    pub valid_until: Option<String>,
    /// What was examined and found.
    pub summary: Option<String>,
    /// The report or certificate issued, as a file.
    pub report: Option<Document>,
    /// Further files backing it.
    pub documents: Vec<Document>,
    /// Its withdrawal by the certifier, if it was withdrawn: then it counts for nothing.
    pub withdrawn: Option<Withdrawal>,
    /// Whether its `valid_until` lies before today (UTC, when the page was made).
    pub expired: bool,
}

/// A certifier's withdrawal of its attestation (`item.attest_withdraw`).
#[derive(Debug, Clone, PartialEq)]
pub struct Withdrawal {
    /// When the ledger accepted it.
    pub accepted: Timestamp,
    /// Why.
    pub reason: String,
}

/// A certifier's conclusion of a custody audit that judged the item's chain
/// (`audit.conclusion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConclusion {
    /// Its record.
    pub seq: u64,
    /// When the ledger accepted it.
    pub accepted: Timestamp,
    /// The certifier who signed it.
    pub certifier: MemberRef,
    /// The audit's verdict over everything it judged: `pass` or `fail`.
    pub verdict: String,
    /// Whether the report has a finding about this item's chain.
    pub flagged: bool,
    /// How many records of the ledger the audit read (its checkpoint's size).
    pub checkpoint_size: u64,
    /// BLAKE3 of the report's bytes, 64 lowercase hex digits.
    pub report_blake3: String,
}

impl AuditConclusion {
    /// The report's BLAKE3 shortened for reading: its first eight hex digits.
    pub fn report_short(&self) -> &str {
        self.report_blake3.get(..8).unwrap_or(&self.report_blake3)
    }
}

/// The conclusion a record makes about `giai`, if the record's body has the shape the schema
/// gives it, names the item among those it judged, and has a verdict and report digest the
/// page can show.
pub(super) fn audit_conclusion(record: &Record, giai: &Giai, certifier: MemberRef) -> Option<AuditConclusion> {
    let body = ConclusionBody::deserialize(&record.entry.statement().body).ok()?;
    let hex = |text: &str| text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !body.items.contains(giai) || !matches!(body.verdict.as_str(), "pass" | "fail") || !hex(&body.report) {
        return None;
    }
    Some(AuditConclusion {
        seq: record.seq.get(),
        accepted: record.accepted.clone(),
        certifier,
        flagged: body.flags(giai),
        verdict: body.verdict,
        checkpoint_size: body.checkpoint.size,
        report_blake3: body.report,
    })
}

/// The attestation a record makes, if its body has the shape the schema gives it.
pub(super) fn attestation(record: &Record, issuer: MemberRef) -> Option<Attestation> {
    let body = &record.entry.statement().body;
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    // An attestation restricts nothing (its schema has no `restricted`): all its files are public.
    let files_by = [issuer.clone()];
    let valid_until = text("/attestation/valid_until");
    // Dates of the schema's `date` format compare as text; the page is made anew each checkpoint.
    let now = Timestamp::now();
    let today = now.as_str().get(..10).unwrap_or_default();
    Some(Attestation {
        expired: valid_until.as_deref().is_some_and(|last| last < today),
        withdrawn: None,
        seq: record.seq.get(),
        accepted: record.accepted.clone(),
        passport_version: body.get("passport_version").and_then(Value::as_u64)?,
        kind: text("/attestation/type")?,
        result: text("/attestation/result")?,
        grade: text("/attestation/grade"),
        standard: text("/attestation/standard"),
        certificate_id: text("/attestation/certificate_id"),
        valid_until,
        summary: text("/attestation/summary"),
        report: body.pointer("/attestation/report").and_then(|r| document(r, &files_by)),
        documents: documents(body, "/attestation/documents", &files_by),
        issuer,
    })
}
