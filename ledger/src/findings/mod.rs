//! A certifier's audit of custody chains: for every item in a scope, who held it and for how
//! long, its passport versions and attestations, and the findings a certification scheme
//! weighs (`salvage audit --scope … --findings`, docs/audit.md).
//!
//! The integrity audit ([`crate::audit`]) proves the records; this module reads the records it
//! accepted, in the same pass ([`crate::audit::audit_observing`]), and judges what they say:
//! waste installed or handed to a member that is no waste handler, hazardous waste still in
//! circulation or not disposed of as such, installations without a passed attestation,
//! attestations expired or bound to an older passport, material lost in a split. The waste
//! rules are the ledger's own (`custody::WasteMarks`, docs/rules.md §11), so a ledger founded
//! before they were enforced gets the findings its records would have been refused for.
//!
//! Memory grows with the items of the ledger (a chain each, some hundred bytes), not with its
//! records: which items a `member=` or `building=` scope covers is known only at the end.

mod chain;
#[cfg(feature = "testkit")]
pub mod examples;
mod sample;
mod scheme;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

pub use chain::{At, AttestationSummary, Chain, Disposal, Hold, Offer, PassportVersion};
pub use sample::{Sample, Sampling};
pub use scheme::{MAX_SCHEME_BYTES, Scheme, SchemeError, Severity};

use crate::chain::Record;
use crate::custody::MemberId;
use crate::entry::{Kind, Timestamp};
use crate::ident::Giai;
use crate::scope::{Scope, ScopeError, ScopeMatcher, Signers};

/// What a certifier's audit can find in a custody chain. Codes are stable: reports, schemes and
/// the certifier's own tools match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FindingCode {
    /// Waste (or asbestos) was installed.
    WasteInstalled,
    /// Waste (or asbestos) was offered to a member that is no waste handler.
    WasteToNonHandler,
    /// Hazardous waste is still in circulation, or was disposed of by a route not for it.
    HazardNotDisposed,
    /// An item was installed with no passed attestation before.
    InstalledWithoutInspection,
    /// An attestation was recorded after its last valid day, or the last one of an item in
    /// circulation has expired.
    AttestationExpired,
    /// An item in circulation is attested only for an older passport version than its current.
    AttestedOlderVersion,
    /// A split's parts weigh less than their parent by more than the scheme's tolerance.
    SplitMassLoss,
    /// A certifier withdrew an attestation.
    AttestationWithdrawn,
}

impl FindingCode {
    /// Every finding, in the order reports list them.
    pub const ALL: [FindingCode; 8] = [
        FindingCode::WasteInstalled,
        FindingCode::WasteToNonHandler,
        FindingCode::HazardNotDisposed,
        FindingCode::InstalledWithoutInspection,
        FindingCode::AttestationExpired,
        FindingCode::AttestedOlderVersion,
        FindingCode::SplitMassLoss,
        FindingCode::AttestationWithdrawn,
    ];

    /// The code as reports write it, e.g. `finding.waste_installed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::WasteInstalled => "finding.waste_installed",
            FindingCode::WasteToNonHandler => "finding.waste_to_non_handler",
            FindingCode::HazardNotDisposed => "finding.hazard_not_disposed",
            FindingCode::InstalledWithoutInspection => "finding.installed_without_inspection",
            FindingCode::AttestationExpired => "finding.attestation_expired",
            FindingCode::AttestedOlderVersion => "finding.attested_older_version",
            FindingCode::SplitMassLoss => "finding.split_mass_loss",
            FindingCode::AttestationWithdrawn => "finding.attestation_withdrawn",
        }
    }

    /// The templates its messages are made from, by name (`custody_audit.finding.<name>` in the
    /// node's locales): the code's own name, and a second for the two findings raised two ways.
    pub fn templates(self) -> &'static [&'static str] {
        match self {
            FindingCode::WasteInstalled => &["waste_installed"],
            FindingCode::WasteToNonHandler => &["waste_to_non_handler"],
            FindingCode::HazardNotDisposed => &["hazard_not_disposed", "hazard_not_disposed_still"],
            FindingCode::InstalledWithoutInspection => &["installed_without_inspection"],
            FindingCode::AttestationExpired => &["attestation_expired", "attestation_expired_lapsed"],
            FindingCode::AttestedOlderVersion => &["attested_older_version"],
            FindingCode::SplitMassLoss => &["split_mass_loss"],
            FindingCode::AttestationWithdrawn => &["attestation_withdrawn"],
        }
    }
}

impl Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The facts a finding's message is made of, by the name of their placeholder in its template:
/// a report in another language fills its own template with them (`custody_audit.finding` in
/// node/locales/). Every finding has `giai`; the others, by template:
///
/// - `marks`: why the item is waste, as a list of codes joined by `, `: `waste 17 06 05*` (a
///   passport said it is waste, with its List of Waste code; `waste` without one), `asbestos`
///   (it holds asbestos). The English message says `asbestos waste` when `asbestos` is listed,
///   else `waste (List of Waste code C)` or `waste`.
/// - `to` (a member id), `building`, `route` (the disposal route's code), `status` (`available`
///   or `installed`), `reason` (as the withdrawal gave it).
/// - `record`, `version`, `current`, `parts`: whole numbers; `recorded_on`, `valid_until`:
///   dates `YYYY-MM-DD`; `kg`, `parts_kg`, `percent`: decimals with a `.`, as the message
///   writes them (`182.4`, `11.1`).
pub type FindingParams = BTreeMap<&'static str, String>;

/// A finding as a chain raised it, before a scheme weighed it.
#[derive(Debug, Clone)]
pub(crate) struct RaisedFinding {
    code: FindingCode,
    template: &'static str,
    seq: Option<u64>,
    message: String,
    params: FindingParams,
}

/// One finding in a report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Its stable code.
    pub code: FindingCode,
    /// How serious the scheme makes it.
    pub severity: Severity,
    /// The item.
    pub giai: Giai,
    /// The record it is about, when one record is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// What was found, in English: stable for scripts, whatever language a report is in.
    pub message: String,
    /// The facts of the message, by name ([`FindingParams`]).
    pub params: FindingParams,
    /// The template the message is made from: one of its code's [`FindingCode::templates`].
    #[serde(skip)]
    pub template: &'static str,
}

/// The chains of a ledger's items, built as the records are read in order.
#[derive(Debug)]
pub struct ChainBook {
    matcher: ScopeMatcher,
    signers: Signers,
    roles: BTreeMap<MemberId, Vec<String>>,
    // Boxed: the map's empty slots then cost a pointer, not a chain.
    chains: HashMap<Giai, Box<Chain>>,
    split_mass_loss_tolerance: f64,
}

/// A certifier's audit of the chains in scope.
#[derive(Debug, Clone, Serialize)]
pub struct CustodyAudit {
    /// The scopes, as typed (they intersect); empty for the whole ledger.
    pub scope: Vec<String>,
    /// The day the audit judged expiry on, `YYYY-MM-DD` (UTC).
    pub as_of: String,
    /// The scheme that weighed the findings.
    pub scheme: SchemeName,
    /// How many items the scope covers.
    pub items_in_scope: usize,
    /// The sample drawn, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample: Option<Sample>,
    /// The chains audited (the sample's, or every one in scope), by GIAI.
    pub chains: Vec<Chain>,
    /// Their findings the scheme does not ignore, by item and record.
    pub findings: Vec<Finding>,
    /// How many findings of each severity.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// `pass` when no finding is an error under the scheme, else `fail`.
    pub verdict: &'static str,
}

/// Which scheme weighed a report.
#[derive(Debug, Clone, Serialize)]
pub struct SchemeName {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl ChainBook {
    /// An empty book of the chains in every one of `scopes` (at most [`crate::scope::MAX_SCOPES`]);
    /// `scheme` gives the split tolerance the chains judge by.
    pub fn new(scheme: &Scheme, scopes: &[Scope]) -> Result<ChainBook, ScopeError> {
        Ok(ChainBook {
            matcher: ScopeMatcher::new(scopes)?,
            signers: Signers::new(),
            roles: BTreeMap::new(),
            chains: HashMap::new(),
            split_mass_loss_tolerance: scheme.split_mass_loss_tolerance,
        })
    }

    /// Takes the next accepted record, in ledger order from the genesis.
    pub fn note(&mut self, record: &Record) {
        self.signers.learn(record);
        let statement = record.entry.statement();
        let body = &statement.body;
        self.learn_roles(statement.kind, body);
        if !statement.kind.is_item_kind() {
            return;
        }
        let Some(giai) = body.get("giai").and_then(Value::as_str).and_then(|giai| Giai::parse(giai).ok()) else {
            return;
        };
        let signer = self.signers.first_signer(record);
        match statement.kind {
            Kind::ItemRegister => {
                let matched = self.matcher.registered(record, &giai, signer.as_ref());
                let passport = body.get("passport").unwrap_or(&Value::Null);
                let chain = Chain::begin(record, &giai, passport, signer, matched, None);
                self.chains.insert(giai.clone(), Box::new(chain));
            }
            Kind::ItemSplit => self.split(record, &giai, body),
            _ => {
                if let Some(chain) = self.chains.get_mut(&giai) {
                    chain.note(record, signer.as_ref(), &self.roles, &self.matcher);
                }
            }
        }
    }

    fn split(&mut self, record: &Record, giai: &Giai, body: &Value) {
        let Some(mut parent) = self.chains.remove(giai) else { return };
        let holder = parent.custody.last().map(|hold| hold.member.clone());
        let mut parts = Vec::new();
        let mut parts_kg = Some(0.0);
        for part in body.get("parts").and_then(Value::as_array).into_iter().flatten() {
            let Some(part_giai) = part.get("giai").and_then(Value::as_str).and_then(|g| Giai::parse(g).ok()) else {
                continue;
            };
            let passport = part.get("passport").unwrap_or(&Value::Null);
            let matched = self.matcher.split_off(parent.matched, record, &part_giai, passport);
            let chain = Box::new(Chain::begin(record, &part_giai, passport, holder.clone(), matched, Some(&parent)));
            parts_kg = parts_kg.zip(chain.mass_kg()).map(|(sum, kg)| sum + kg);
            self.chains.insert(part_giai.clone(), chain);
            parts.push(part_giai);
        }
        parent.split_into(record, parts, parts_kg, self.split_mass_loss_tolerance, &self.matcher);
        self.chains.insert(giai.clone(), parent);
    }

    /// Membership records say which members are waste handlers.
    fn learn_roles(&mut self, kind: Kind, body: &Value) {
        let roles_of = |member: &Value| -> Option<(MemberId, Vec<String>)> {
            let id = MemberId::parse(member.get("id")?.as_str()?).ok()?;
            let roles = member.get("roles")?.as_array()?.iter().filter_map(Value::as_str).map(str::to_owned).collect();
            Some((id, roles))
        };
        let members: Vec<&Value> = match kind {
            Kind::Genesis => body.get("members").and_then(Value::as_array).into_iter().flatten().collect(),
            Kind::MemberAdd | Kind::MemberUpdate => vec![body],
            _ => return,
        };
        self.roles.extend(members.into_iter().filter_map(roles_of));
    }

    /// The audit of the chains in scope, as of `now`, weighed by `scheme`; with `sampling`, of
    /// the sample it draws from them.
    pub fn finish(self, now: &Timestamp, scheme: &Scheme, sampling: Option<&Sampling>) -> CustodyAudit {
        let today = now.as_str().get(..10).unwrap_or_default().to_owned();
        let matcher = self.matcher;
        let mut in_scope: Vec<Chain> =
            self.chains.into_values().filter(|chain| matcher.is_in(chain.matched)).map(|chain| *chain).collect();
        let items_in_scope = in_scope.len();
        let sample = sampling.map(|sampling| sampling.draw(&mut in_scope));
        in_scope.sort_by(|a, b| a.giai.as_str().cmp(b.giai.as_str()));
        let mut findings = Vec::new();
        for chain in &mut in_scope {
            chain.close(&today, now);
            for raised in chain.raised.drain(..) {
                let severity = scheme.severity(raised.code);
                if severity != Severity::Ignore {
                    findings.push(Finding {
                        code: raised.code,
                        severity,
                        giai: chain.giai.clone(),
                        seq: raised.seq,
                        message: raised.message,
                        params: raised.params,
                        template: raised.template,
                    });
                }
            }
        }
        let count = |severity: Severity| findings.iter().filter(|finding| finding.severity == severity).count();
        let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
        CustodyAudit {
            scope: matcher.scopes().iter().map(ToString::to_string).collect(),
            as_of: today,
            scheme: SchemeName { name: scheme.name.clone(), version: scheme.version.clone() },
            items_in_scope,
            sample,
            chains: in_scope,
            findings,
            errors,
            warnings,
            verdict: if errors == 0 { "pass" } else { "fail" },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]
mod tests;
