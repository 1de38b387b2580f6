//! One item's custody chain, built record by record, and the findings its records raise as
//! they happen (a transfer of waste, an installation without inspection); the findings that
//! depend on the day of the audit are raised at its end (`Chain::closing_findings`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{FindingCode, FindingParams, RaisedFinding};
use crate::chain::{Record, Seq};
use crate::custody::{AttestationFacts, HAZARDOUS_ROUTES, MemberId, PassportFacts, WasteMarks};
use crate::entry::Timestamp;
use crate::ident::Giai;
use crate::scope::{Matched, ScopeMatcher};
use time::OffsetDateTime;

/// An item's custody chain as a report shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    /// The item.
    pub giai: Giai,
    /// Its name, from its current passport.
    pub name: String,
    /// Its category, from its current passport.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Where it is in its life: `available`, `installed`, `split` or `disposed`.
    pub status: &'static str,
    /// Who held it and for how long, first to last.
    pub custody: Vec<Hold>,
    /// A transfer offered and not yet received or cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Offer>,
    /// Its passport versions, first to last.
    pub passports: Vec<PassportVersion>,
    /// Its attestations, first to last.
    pub attestations: Vec<AttestationSummary>,
    /// The building it is installed in, if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_in: Option<String>,
    /// How it ended, if it was disposed of: the route and List of Waste code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposal: Option<Disposal>,
    /// The item it was cut from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<Giai>,
    /// The parts it was cut into.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Giai>,
    /// Whether it is waste and whether hazardous, at the end of the records (docs/rules.md §11).
    pub waste: bool,
    /// Whether it is hazardous waste.
    pub hazardous: bool,
    #[serde(skip)]
    pub(super) matched: Matched,
    #[serde(skip)]
    marks: WasteMarks,
    #[serde(skip)]
    mass_kg: Option<f64>,
    #[serde(skip)]
    pub(super) raised: Vec<RaisedFinding>,
}

/// A moment of a chain: an instant, written as RFC 3339 text only when a report is. Kept
/// without its text, as a chain is kept for every item of a ledger until the end of the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct At(pub OffsetDateTime);

impl At {
    fn of(timestamp: &Timestamp) -> At {
        At(timestamp.instant())
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(Timestamp::from_instant(self.0).as_str())
    }
}

impl Serialize for At {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A custodian's time with the item.
#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    /// The custodian.
    pub member: MemberId,
    /// The record that gave it custody (registration, split or receipt).
    pub from_seq: u64,
    /// When.
    pub from: At,
    /// When custody passed on, or `None` while it holds the item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<At>,
    /// How many whole days it held the item (until the audit, while it holds it).
    pub days: i64,
}

/// A pending transfer.
#[derive(Debug, Clone, Serialize)]
pub struct Offer {
    /// The member offered custody.
    pub to: MemberId,
    /// The offer's record.
    pub seq: u64,
    /// When.
    pub at: At,
}

/// One passport version.
#[derive(Debug, Clone, Serialize)]
pub struct PassportVersion {
    /// Its number, from 1.
    pub version: u64,
    /// The record holding it.
    pub seq: u64,
    /// When it was recorded.
    pub at: At,
}

/// An attestation as a certifier's report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationSummary {
    /// Its record.
    pub seq: u64,
    /// When it was recorded.
    pub at: At,
    /// The certifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certifier: Option<MemberId>,
    /// The passport version it is bound to.
    pub passport_version: u64,
    /// `inspection`, `certification`, `hazard_survey`, `test` or `end_of_waste`.
    #[serde(rename = "type")]
    pub examination: String,
    /// `pass`, `fail` or `conditional`.
    pub result: String,
    /// Its last valid day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Whether it had expired on the day of the audit.
    pub expired: bool,
    /// The record that withdrew it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<u64>,
}

/// How an item ended.
#[derive(Debug, Clone, Serialize)]
pub struct Disposal {
    /// The record.
    pub seq: u64,
    /// The treatment route.
    pub route: String,
    /// The List of Waste code it was consigned under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waste_code: Option<String>,
}

impl Chain {
    /// The chain of an item that `record` registers (`passport` is its passport), or that it
    /// splits off a parent whose chain is `parent`.
    pub(super) fn begin(
        record: &Record,
        giai: &Giai,
        passport: &Value,
        custodian: Option<MemberId>,
        matched: Matched,
        parent: Option<&Chain>,
    ) -> Chain {
        let member = custodian;
        let mut chain = Chain {
            giai: giai.clone(),
            name: String::new(),
            category: None,
            status: "available",
            // Most items have one custodian and one passport all their life, and a chain is kept
            // for every item: room for one each, not the four a first push would make.
            custody: {
                let mut custody = Vec::with_capacity(1);
                custody.extend(member.map(|member| Hold {
                    member,
                    from_seq: record.seq.get(),
                    from: At::of(&record.accepted),
                    until: None,
                    days: 0,
                }));
                custody
            },
            pending: None,
            passports: Vec::with_capacity(1),
            attestations: Vec::new(),
            installed_in: None,
            disposal: None,
            parent: parent.map(|parent| parent.giai.clone()),
            parts: Vec::new(),
            waste: false,
            hazardous: false,
            matched,
            // A part is of its parent's material: what made the parent waste goes with it.
            marks: parent.map(|parent| parent.marks.clone()).unwrap_or_default(),
            mass_kg: None,
            raised: Vec::new(),
        };
        chain.new_passport(record, passport);
        chain
    }

    /// The chain's mass now, from its current passport.
    pub(super) fn mass_kg(&self) -> Option<f64> {
        self.mass_kg
    }

    fn new_passport(&mut self, record: &Record, passport: &Value) {
        let facts = PassportFacts::deserialize_from(passport);
        self.name = facts.name.clone();
        self.mass_kg = facts.mass_kg;
        self.category = passport.get("category").and_then(Value::as_str).map(str::to_owned);
        self.marks.note_passport(&facts, record.seq);
        let version = self.passports.len() as u64 + 1;
        self.passports.push(PassportVersion { version, seq: record.seq.get(), at: At::of(&record.accepted) });
    }

    /// Raises a finding about the record `seq` (if about one), made from `template` with the
    /// item's GIAI and `facts`.
    fn raise<const N: usize>(
        &mut self,
        code: FindingCode,
        template: &'static str,
        seq: Option<u64>,
        message: String,
        facts: [(&'static str, String); N],
    ) {
        let mut params = FindingParams::from([("giai", self.giai.to_string())]);
        params.extend(facts);
        self.raised.push(RaisedFinding { code, template, seq, message, params });
    }

    /// Takes a later record of the item, signed by `signer`; `roles` are every member's roles.
    pub(super) fn note(
        &mut self,
        record: &Record,
        signer: Option<&MemberId>,
        roles: &BTreeMap<MemberId, Vec<String>>,
        matcher: &ScopeMatcher,
    ) {
        let statement = record.entry.statement();
        let body = &statement.body;
        let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
        let seq = Some(record.seq.get());
        matcher.note(&mut self.matched, record);
        use crate::entry::Kind;
        match statement.kind {
            Kind::ItemAmend => {
                if let Some(passport) = body.get("passport") {
                    self.new_passport(record, passport);
                }
            }
            Kind::ItemTransfer => {
                let Some(to) = text("/to").and_then(|to| MemberId::parse(&to).ok()) else { return };
                let handler = roles.get(&to).is_some_and(|roles| roles.iter().any(|role| role == "waste_handler"));
                if self.marks.is_waste() && !handler {
                    let message = format!(
                        "{} is {}, offered to {to}, which is no waste handler",
                        self.giai,
                        self.marks.describe()
                    );
                    let facts = [("marks", marks_codes(&self.marks)), ("to", to.to_string())];
                    self.raise(FindingCode::WasteToNonHandler, "waste_to_non_handler", seq, message, facts);
                }
                self.pending = Some(Offer { to, seq: record.seq.get(), at: At::of(&record.accepted) });
            }
            Kind::ItemReceive => {
                if let Some(offer) = self.pending.take() {
                    if let Some(last) = self.custody.last_mut() {
                        last.until = Some(At::of(&record.accepted));
                    }
                    let hold = Hold {
                        member: offer.to,
                        from_seq: record.seq.get(),
                        from: At::of(&record.accepted),
                        until: None,
                        days: 0,
                    };
                    self.custody.push(hold);
                }
            }
            Kind::ItemCancel => self.pending = None,
            Kind::ItemAttest => {
                let Some(facts) = body.get("attestation").and_then(AttestationFacts::deserialize_from) else { return };
                let version = body.get("passport_version").and_then(Value::as_u64).unwrap_or_default();
                let recorded_on = record.accepted.as_str().get(..10).unwrap_or_default().to_owned();
                if let Some(last) = facts.valid_until.as_deref().filter(|last| *last < recorded_on.as_str()) {
                    let message = format!(
                        "an attestation of {} was recorded on {recorded_on}, after its last valid day {last}",
                        self.giai
                    );
                    let dates = [("recorded_on", recorded_on.clone()), ("valid_until", last.to_owned())];
                    self.raise(FindingCode::AttestationExpired, "attestation_expired", seq, message, dates);
                }
                if version == self.passports.len() as u64 {
                    self.marks.note_attestation(&facts, record.seq);
                }
                self.attestations.push(AttestationSummary {
                    seq: record.seq.get(),
                    at: At::of(&record.accepted),
                    certifier: signer.cloned(),
                    passport_version: version,
                    examination: facts.examination,
                    result: facts.result,
                    valid_until: facts.valid_until,
                    expired: false,
                    withdrawn: None,
                });
            }
            Kind::ItemAttestWithdraw => {
                let withdrawn = body.get("attestation").and_then(Value::as_u64);
                if let Some(attestation) = self.attestations.iter_mut().find(|a| Some(a.seq) == withdrawn) {
                    attestation.withdrawn = Some(record.seq.get());
                    if let Some(seq) = withdrawn.and_then(Seq::new) {
                        self.marks.note_withdrawal(seq);
                    }
                    let reason = text("/reason").unwrap_or_default();
                    let message = format!("the attestation of record {} was withdrawn: {reason}", attestation.seq);
                    let facts = [("record", attestation.seq.to_string()), ("reason", reason)];
                    self.raise(FindingCode::AttestationWithdrawn, "attestation_withdrawn", seq, message, facts);
                }
            }
            Kind::ItemInstall => {
                let building = text("/site/building").unwrap_or_default();
                if self.marks.is_waste() {
                    let message = format!("{} is {} and was installed in {building}", self.giai, self.marks.describe());
                    let facts = [("marks", marks_codes(&self.marks)), ("building", building.clone())];
                    self.raise(FindingCode::WasteInstalled, "waste_installed", seq, message, facts);
                }
                let inspected = self
                    .attestations
                    .iter()
                    .any(|a| a.withdrawn.is_none() && matches!(a.result.as_str(), "pass" | "conditional"));
                if !inspected {
                    let message = format!("{} was installed in {building} with no passed attestation", self.giai);
                    let facts = [("building", building.clone())];
                    let code = FindingCode::InstalledWithoutInspection;
                    self.raise(code, "installed_without_inspection", seq, message, facts);
                }
                self.status = "installed";
                self.installed_in = Some(building);
            }
            Kind::ItemDismantle => {
                self.status = "available";
                self.installed_in = None;
            }
            Kind::ItemDispose => {
                let route = text("/route").unwrap_or_default();
                if self.marks.is_hazardous() && !HAZARDOUS_ROUTES.contains(&route.as_str()) {
                    let message = format!("{} is {} and was disposed of by {route}", self.giai, self.marks.describe());
                    let facts = [("marks", marks_codes(&self.marks)), ("route", route.clone())];
                    self.raise(FindingCode::HazardNotDisposed, "hazard_not_disposed", seq, message, facts);
                }
                self.status = "disposed";
                self.disposal = Some(Disposal { seq: record.seq.get(), route, waste_code: text("/waste_code") });
            }
            _ => {}
        }
    }

    /// Marks the chain split into `parts`, weighing `parts_kg` together when every part's mass
    /// is known; a loss beyond `tolerance` of the parent's mass is a finding.
    pub(super) fn split_into(
        &mut self,
        record: &Record,
        parts: Vec<Giai>,
        parts_kg: Option<f64>,
        tolerance: f64,
        matcher: &ScopeMatcher,
    ) {
        if let (Some(parent), Some(parts_kg)) = (self.mass_kg, parts_kg)
            && parent > 0.0
            && parent - parts_kg > parent * tolerance
        {
            let percent = format!("{:.1}", (parent - parts_kg) / parent * 100.0);
            let message = format!(
                "{} weighed {parent} kg; its {} parts weigh {parts_kg} kg: {percent} % of the material is unaccounted for",
                self.giai,
                parts.len(),
            );
            let facts = [
                ("kg", parent.to_string()),
                ("parts", parts.len().to_string()),
                ("parts_kg", parts_kg.to_string()),
                ("percent", percent),
            ];
            self.raise(FindingCode::SplitMassLoss, "split_mass_loss", Some(record.seq.get()), message, facts);
        }
        matcher.note(&mut self.matched, record);
        if let Some(last) = self.custody.last_mut() {
            last.until = Some(At::of(&record.accepted));
        }
        self.status = "split";
        self.parts = parts;
    }

    /// The findings that depend on the day of the audit, `today` (`YYYY-MM-DD`), and the
    /// chain's final shape; also settles how long each custodian held it.
    pub(super) fn close(&mut self, today: &str, now: &Timestamp) {
        let now = At::of(now);
        self.waste = self.marks.is_waste();
        self.hazardous = self.marks.is_hazardous();
        for hold in &mut self.custody {
            let until = hold.until.unwrap_or(now);
            hold.days = (until.0 - hold.from.0).whole_days().max(0);
        }
        let in_circulation = matches!(self.status, "available" | "installed");
        if self.hazardous && in_circulation {
            let message =
                format!("{} is {} and is still {}, not disposed of", self.giai, self.marks.describe(), self.status);
            let facts = [("marks", marks_codes(&self.marks)), ("status", self.status.to_owned())];
            self.raise(FindingCode::HazardNotDisposed, "hazard_not_disposed_still", None, message, facts);
        }
        for attestation in &mut self.attestations {
            attestation.expired = attestation.valid_until.as_deref().is_some_and(|last| last < today);
        }
        let current = self.passports.len() as u64;
        let live: Vec<&AttestationSummary> = self.attestations.iter().filter(|a| a.withdrawn.is_none()).collect();
        if in_circulation && let Some(last) = live.last() {
            let (last_seq, expired) = (last.seq, last.expired);
            let valid_until = last.valid_until.clone().unwrap_or_default();
            let newest = live.iter().map(|a| a.passport_version).max().unwrap_or(current);
            let raised_at_recording =
                self.raised.iter().any(|f| f.code == FindingCode::AttestationExpired && f.seq == Some(last_seq));
            if expired && !raised_at_recording {
                let message =
                    format!("the last attestation of {} (record {last_seq}) expired on {valid_until}", self.giai);
                let facts = [("record", last_seq.to_string()), ("valid_until", valid_until)];
                let code = FindingCode::AttestationExpired;
                self.raise(code, "attestation_expired_lapsed", Some(last_seq), message, facts);
            }
            if newest < current {
                let message = format!(
                    "{} is attested up to passport version {newest}; its passport is at version {current}",
                    self.giai
                );
                let facts = [("version", newest.to_string()), ("current", current.to_string())];
                self.raise(FindingCode::AttestedOlderVersion, "attested_older_version", None, message, facts);
            }
        }
    }
}

/// Why an item is waste now, as the code list of the `marks` of [`FindingParams`]: `waste C`
/// (or `waste`) while a passport's waste status stands, `asbestos` while it holds asbestos.
fn marks_codes(marks: &WasteMarks) -> String {
    let mut codes = Vec::with_capacity(2);
    if let Some(mark) = marks.waste.as_ref().filter(|_| marks.end_of_waste.is_none()) {
        codes.push(mark.code.as_ref().map_or_else(|| "waste".to_owned(), |code| format!("waste {code}")));
    }
    if marks.holds_asbestos() {
        codes.push("asbestos".to_owned());
    }
    codes.join(", ")
}
