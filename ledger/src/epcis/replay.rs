//! Replaying records into EPCIS events.
//!
//! A record alone does not say everything its event needs: the sender of a
//! received item is whoever held it, a passport's version is a count of the
//! item's earlier passports, and signers are known by keys that membership
//! records tie to members. [`Replay`] keeps exactly that much state while it
//! walks the records in ledger order, and turns every item record (and every
//! audit conclusion) into one event, which it hands back at once: the replay
//! holds no events, so its caller may collect them or write each one out.

use std::collections::{BTreeSet, HashMap};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::items::{self, Items, Tracked};
use super::vocabulary::{BizStep, Disposition};
use super::{EpcisError, incomplete, malformed};
use crate::chain::Record;
use crate::custody::{ConclusionBody, MemberId};
use crate::entry::{Kind, LedgerId};
use crate::ident::digital_link::{DigitalLink, Resolver};
use crate::ident::{ElementString, Giai};
use crate::redact::public_passport;
use crate::store::Ledger;

/// The offset of every event time: the ledger keeps time in UTC.
const UTC_OFFSET: &str = "+00:00";

/// Walks records in ledger order and turns them into events.
#[derive(Debug)]
pub(super) struct Replay {
    resolver: Resolver,
    /// The resolver as text, without a trailing slash: the base of record and member URIs.
    base: String,
    /// Every key the membership records seen so far added, as hex, to its member id.
    /// Membership records are few (members join a consortium by vote), so
    /// this stays small however many item records a ledger holds.
    owners: HashMap<String, MemberId>,
    /// The items whose creation has been seen: all of them, or the recent ones.
    items: Items,
    /// The items the document is about: those a conclusion's event lists.
    about: About,
    ledger: Option<LedgerId>,
}

/// The items a document is about, which decide the items an audit conclusion's
/// event lists of those it names: an item's document should not carry the
/// thousands of other items an audit judged alongside it.
#[derive(Debug)]
pub(super) enum About {
    /// Every item: the document is the whole ledger's.
    Every,
    /// The items asked for: the document holds their histories.
    Only(BTreeSet<Giai>),
    /// The items whose creation (a registration, or a split into parts) is among
    /// the records given so far, as in a proof bundle: a record of an item comes
    /// after its creation (see the [module documentation](super)), so these are
    /// the items whose histories the records hold.
    Created(BTreeSet<Giai>),
}

impl About {
    /// Notes that the records given create `giai`.
    fn created(&mut self, giai: &Giai) {
        if let About::Created(items) = self {
            items.insert(giai.clone());
        }
    }

    /// Whether the document is about `giai`.
    fn includes(&self, giai: &Giai) -> bool {
        match self {
            About::Every => true,
            About::Only(items) | About::Created(items) => items.contains(giai),
        }
    }
}

impl Replay {
    /// An empty replay whose URIs start with `resolver_base`, remembering
    /// `items`, for a document `about` those items.
    pub(super) fn new(resolver_base: &str, items: Items, about: About) -> Result<Replay, EpcisError> {
        let resolver = Resolver::parse(resolver_base)
            .map_err(|source| EpcisError::Resolver { base: resolver_base.to_owned(), source })?;
        let base = resolver.to_string();
        Ok(Replay { resolver, base, owners: HashMap::new(), items, about, ledger: None })
    }

    /// How many items the replay remembers now.
    #[cfg(test)]
    pub(super) fn remembered(&self) -> usize {
        self.items.len()
    }

    /// The ledger id, once a record has told it.
    pub(super) fn ledger_id(&self) -> Option<LedgerId> {
        self.ledger
    }

    /// Takes the next record: membership records teach keys, node records are
    /// skipped, item records and audit conclusions become events, returned.
    ///
    /// `history` is the ledger the records come from, if they do: a replay
    /// that forgets items rebuilds a forgotten one from its history there.
    pub(super) fn push(&mut self, record: &Record, history: Option<&Ledger>) -> Result<Option<Value>, EpcisError> {
        let statement = record.entry.statement();
        if self.ledger.is_none() {
            self.ledger = match statement.kind {
                Kind::Genesis => Some(LedgerId(record.entry.id().0)),
                _ => statement.ledger,
            };
        }
        match statement.kind {
            Kind::Genesis => {
                let members = statement
                    .body
                    .get("members")
                    .and_then(Value::as_array)
                    .ok_or_else(|| malformed(record, "no members"))?;
                for member in members {
                    self.learn_keys(record, member, "keys")?;
                }
                Ok(None)
            }
            Kind::MemberAdd => self.learn_keys(record, &statement.body, "keys").map(|()| None),
            Kind::MemberUpdate => self.learn_keys(record, &statement.body, "add_keys").map(|()| None),
            // The node set is no item's history, and allocating or reserving GIAIs is no
            // event of a physical object (the item begins at its registration): no EPCIS event.
            Kind::NodeAdd | Kind::NodeRemove | Kind::GiaiAllocate | Kind::GiaiReserve => Ok(None),
            // A conclusion changes nothing tracked of its items and needs nothing of their past.
            Kind::AuditConclusion => self.conclusion(record).map(Some),
            _ => self.item_event(record, history).map(Some),
        }
    }

    /// Records which member each key in `member[field]` belongs to.
    fn learn_keys(&mut self, record: &Record, member: &Value, field: &str) -> Result<(), EpcisError> {
        let id = member.get("id").and_then(Value::as_str).ok_or_else(|| malformed(record, "a member without an id"))?;
        let id = MemberId::parse(id).map_err(|refusal| malformed(record, &refusal.message))?;
        for key in member.get(field).and_then(Value::as_array).into_iter().flatten() {
            let key = key.as_str().ok_or_else(|| malformed(record, "a key that is not text"))?;
            self.owners.insert(key.to_owned(), id.clone());
        }
        Ok(())
    }

    /// The one event of an item record, updating what is tracked of its items.
    fn item_event(&mut self, record: &Record, history: Option<&Ledger>) -> Result<Value, EpcisError> {
        let statement = record.entry.statement();
        let body = &statement.body;
        let giai = giai_in(record, body)?;
        let signers = self.signers(record)?;
        let signer = signers.first().cloned().ok_or_else(|| malformed(record, "no signatures"))?;
        let seq = record.seq.get();
        let mut event = self.common(record, &signers);
        if statement.kind == Kind::ItemSplit {
            self.split(record, &giai, &signer, &mut event)?;
            return Ok(Value::Object(event));
        }
        // A registration needs nothing of the item's past: nothing to look up or rebuild.
        let before = match statement.kind {
            Kind::ItemRegister => None,
            _ => self.before(record, &giai, history)?,
        };
        let now = items::changed(record, &giai, before.clone(), &signer)?;
        // `changed` refuses every record but a registration when `before` is `None`.
        let known =
            |before: Option<Tracked>| before.ok_or_else(|| incomplete(record, &giai, "the registration of its item"));
        match statement.kind {
            Kind::ItemRegister => {
                self.about.created(&giai);
                self.object(&mut event, "ADD", &giai)?;
                step(&mut event, BizStep::Commissioning, Some(Disposition::Active));
                let passport = public_passport_in(record, body)?;
                event.insert("ilmd".into(), json!({"salvage:passport": passport, "salvage:passportVersion": 1}));
            }
            Kind::ItemAmend => {
                self.object(&mut event, "OBSERVE", &giai)?;
                // ILMD is fixed when an object is commissioned (EPCIS 2.0 §7.3.6), so a
                // new passport version travels as an extension of an OBSERVE event.
                event.insert("salvage:passport".into(), public_passport_in(record, body)?);
                event.insert("salvage:passportVersion".into(), json!(now.passport_version));
            }
            Kind::ItemTransfer => {
                let from = known(before)?.custodian;
                let to = now
                    .offer
                    .as_ref()
                    .map(|offer| offer.to.clone())
                    .ok_or_else(|| malformed(record, "no recipient (to)"))?;
                self.object(&mut event, "OBSERVE", &giai)?;
                step(&mut event, BizStep::Shipping, Some(Disposition::InTransit));
                self.parties(&mut event, &from, &to);
            }
            Kind::ItemReceive => {
                let from = known(before)?.custodian;
                self.object(&mut event, "OBSERVE", &giai)?;
                step(&mut event, BizStep::Receiving, Some(Disposition::Active));
                self.parties(&mut event, &from, &now.custodian);
            }
            Kind::ItemCancel => {
                let offer =
                    known(before)?.offer.ok_or_else(|| incomplete(record, &giai, "the transfer it withdraws"))?;
                self.object(&mut event, "OBSERVE", &giai)?;
                step(&mut event, BizStep::VoidShipping, Some(Disposition::Active));
                event.insert("salvage:voids".into(), json!(self.record_uri(offer.seq)));
            }
            Kind::ItemAttest => {
                let result = body.pointer("/attestation/result").and_then(Value::as_str);
                let disposition = match result {
                    Some("pass") => Some(Disposition::Conformant),
                    Some("fail") => Some(Disposition::NonConformant),
                    // A conditional pass has no CBV word; the item's state is left as it was.
                    Some("conditional") => None,
                    _ => return Err(malformed(record, "no attestation result")),
                };
                self.object(&mut event, "OBSERVE", &giai)?;
                step(&mut event, BizStep::Inspecting, disposition);
                event.insert("certificationInfo".into(), json!(self.record_uri(seq)));
            }
            Kind::ItemAttestWithdraw => {
                let withdrawn = body
                    .get("attestation")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| malformed(record, "no attestation withdrawn"))?;
                // No business step: withdrawing a certificate is no physical step, like an amendment.
                self.object(&mut event, "OBSERVE", &giai)?;
                event.insert("salvage:withdraws".into(), json!(self.record_uri(withdrawn)));
            }
            Kind::ItemInstall | Kind::ItemDismantle => {
                self.object(&mut event, "OBSERVE", &giai)?;
                let bizstep = if statement.kind == Kind::ItemInstall { BizStep::Installing } else { BizStep::Removing };
                step(&mut event, bizstep, Some(Disposition::Active));
            }
            Kind::ItemDispose => {
                let (bizstep, disposition) = match body.get("route").and_then(Value::as_str) {
                    Some("recycling" | "landfill" | "hazardous_waste_landfill") => {
                        (BizStep::Decommissioning, Disposition::Disposed)
                    }
                    Some("energy_recovery" | "hazardous_waste_treatment") => {
                        (BizStep::Destroying, Disposition::Destroyed)
                    }
                    _ => return Err(malformed(record, "no known disposal route")),
                };
                self.object(&mut event, "DELETE", &giai)?;
                step(&mut event, bizstep, Some(disposition));
            }
            // Made above: a split changes more than one item.
            Kind::ItemSplit => return Err(malformed(record, "a split is no event of one item")),
            // Made by `conclusion`: a conclusion judges many items.
            Kind::AuditConclusion => return Err(malformed(record, "a conclusion is no event of one item")),
            Kind::Genesis
            | Kind::MemberAdd
            | Kind::MemberUpdate
            | Kind::NodeAdd
            | Kind::NodeRemove
            | Kind::GiaiAllocate
            | Kind::GiaiReserve => {
                return Err(malformed(record, "a membership, node or identifier record is not an item event"));
            }
        }
        self.items.set(&giai, Some(now));
        Ok(Value::Object(event))
    }

    /// Makes `event` the TransformationEvent of a split: the parent ends, its parts begin.
    fn split(
        &mut self,
        record: &Record,
        parent: &Giai,
        signer: &MemberId,
        event: &mut Map<String, Value>,
    ) -> Result<(), EpcisError> {
        let parts = record
            .entry
            .statement()
            .body
            .get("parts")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed(record, "no parts"))?;
        let mut outputs = Vec::with_capacity(parts.len());
        let mut passports = Map::new();
        for part in parts {
            let part_giai = giai_in(record, part)?;
            let uri = self.digital_link(&part_giai)?;
            passports.insert(uri.clone(), public_passport_in(record, part)?);
            outputs.push(uri);
            let tracked = items::after(record, &part_giai, None, signer)?;
            self.items.set(&part_giai, tracked);
            self.about.created(&part_giai);
        }
        // The parent ends here; the parts may be exported without its earlier records.
        self.items.set(parent, None);
        event.insert("type".into(), json!("TransformationEvent"));
        event.insert("inputEPCList".into(), json!([self.digital_link(parent)?]));
        event.insert("outputEPCList".into(), json!(outputs));
        step(event, BizStep::Commissioning, Some(Disposition::Active));
        event.insert("ilmd".into(), json!({"salvage:passports": passports}));
        Ok(())
    }

    /// The event of an audit conclusion: a certifier inspected the custody
    /// chains of the items it names, those the document is about. What is
    /// tracked of them stays as it was.
    fn conclusion(&self, record: &Record) -> Result<Value, EpcisError> {
        let body = ConclusionBody::deserialize(&record.entry.statement().body)
            .map_err(|error| malformed(record, &error.to_string()))?;
        let signers = self.signers(record)?;
        if signers.is_empty() {
            return Err(malformed(record, "no signatures"));
        }
        let first = body.items.first().ok_or_else(|| malformed(record, "no items"))?;
        let mut epcs = Vec::new();
        for giai in body.items.iter().filter(|giai| self.about.includes(giai)) {
            epcs.push(self.digital_link(giai)?);
        }
        if epcs.is_empty() {
            // Only a set of records without the creation of any item it names.
            return Err(incomplete(record, first, "the registration of an item it names"));
        }
        let flagged: Vec<&str> =
            body.flagged.iter().filter(|giai| self.about.includes(giai)).map(Giai::as_str).collect();
        let mut event = self.common(record, &signers);
        event.insert("action".into(), json!("OBSERVE"));
        event.insert("epcList".into(), json!(epcs));
        // A verdict on a custody chain is no physical state of the objects: no disposition.
        step(&mut event, BizStep::Inspecting, None);
        event.insert("certificationInfo".into(), json!(self.record_uri(record.seq.get())));
        event.insert(
            "salvage:auditConclusion".into(),
            json!({
                "scope": body.scope,
                "checkpoint": {"size": body.checkpoint.size, "root": body.checkpoint.root},
                "report": body.report,
                "verdict": body.verdict,
                "findings": {"errors": body.findings.errors, "warnings": body.findings.warnings},
                "flagged": flagged,
            }),
        );
        Ok(Value::Object(event))
    }

    /// What was tracked of an item just before `record`: remembered, or, if
    /// this replay forgets items and reads them from a ledger (`history`),
    /// rebuilt from the item's earlier records there. The ledger keeps which
    /// records touched each item, so rebuilding reads only those.
    fn before(
        &mut self,
        record: &Record,
        giai: &Giai,
        history: Option<&Ledger>,
    ) -> Result<Option<Tracked>, EpcisError> {
        if let Some(item) = self.items.get(giai) {
            return Ok(Some(item));
        }
        let Some(ledger) = history.filter(|_| self.items.forgets()) else { return Ok(None) };
        let mut item = None;
        for seq in ledger.history_seqs(giai)?.into_iter().take_while(|seq| *seq < record.seq.get()) {
            let earlier = ledger.record(seq)?;
            let signer =
                self.signers(&earlier)?.into_iter().next().ok_or_else(|| malformed(&earlier, "no signatures"))?;
            item = items::after(&earlier, giai, item, &signer)?;
        }
        Ok(item)
    }

    /// The fields every event has: time, id, and the Salvage extensions that tie
    /// the event to its signed record.
    fn common(&self, record: &Record, signers: &[MemberId]) -> Map<String, Value> {
        let statement = record.entry.statement();
        let mut event = Map::new();
        event.insert("type".into(), json!("ObjectEvent"));
        event.insert("eventTime".into(), json!(record.accepted.as_str()));
        event.insert("eventTimeZoneOffset".into(), json!(UTC_OFFSET));
        event.insert("eventID".into(), json!(self.record_uri(record.seq.get())));
        event.insert("salvage:kind".into(), json!(statement.kind.as_str()));
        event.insert("salvage:entryId".into(), json!(record.entry.id().to_hex()));
        event.insert("salvage:statementTime".into(), json!(statement.time.as_str()));
        let signers: Vec<String> = signers.iter().map(|member| self.member_uri(member)).collect();
        event.insert("salvage:signers".into(), json!(signers));
        if let Some(details) = details(statement.kind, &statement.body) {
            event.insert("salvage:details".into(), details);
        }
        event
    }

    /// Makes `event` an ObjectEvent with `action` on one item.
    fn object(&self, event: &mut Map<String, Value>, action: &str, giai: &Giai) -> Result<(), EpcisError> {
        event.insert("action".into(), json!(action));
        event.insert("epcList".into(), json!([self.digital_link(giai)?]));
        Ok(())
    }

    /// Custody passing (or offered to pass) between two members.
    fn parties(&self, event: &mut Map<String, Value>, from: &MemberId, to: &MemberId) {
        event.insert("sourceList".into(), json!([{"type": "possessing_party", "source": self.member_uri(from)}]));
        event.insert(
            "destinationList".into(),
            json!([{"type": "possessing_party", "destination": self.member_uri(to)}]),
        );
    }

    /// The distinct members who signed a record, in signature order.
    fn signers(&self, record: &Record) -> Result<Vec<MemberId>, EpcisError> {
        let mut members: Vec<MemberId> = Vec::new();
        for signature in record.entry.signatures() {
            let key = signature.key.to_hex();
            let member = self.owners.get(&key).ok_or(EpcisError::UnknownKey { seq: record.seq.get(), key })?;
            if !members.contains(member) {
                members.push(member.clone());
            }
        }
        Ok(members)
    }

    /// The item's GS1 Digital Link URI: its EPC in the events.
    fn digital_link(&self, giai: &Giai) -> Result<String, EpcisError> {
        let wrap = |source| EpcisError::DigitalLink { giai: giai.clone(), source };
        let elements = ElementString::from_pairs([("8004", giai.as_str())]).map_err(|error| wrap(error.into()))?;
        Ok(DigitalLink::from_element_string(&elements, &self.resolver).map_err(wrap)?.to_string())
    }

    /// The URI of a record: where the node serves it.
    fn record_uri(&self, seq: u64) -> String {
        format!("{}/v1/records/{seq}", self.base)
    }

    /// The URI of a member: its entry in the node's member list.
    fn member_uri(&self, member: &MemberId) -> String {
        format!("{}/v1/members#{member}", self.base)
    }
}

/// Sets the business step and, if the event changes it, the disposition.
fn step(event: &mut Map<String, Value>, bizstep: BizStep, disposition: Option<Disposition>) {
    event.insert("bizStep".into(), json!(bizstep.as_str()));
    if let Some(disposition) = disposition {
        event.insert("disposition".into(), json!(disposition.as_str()));
    }
}

/// What a statement says beyond what the event's standard fields carry: the
/// body without the item (`giai`), passports (`passport`, `parts`: they travel
/// as ILMD or `salvage:passport`) and the recipient (`to`: the destination).
/// The postal address of an installation site is left out, as the provenance
/// page leaves it out: it says where people live or work; so is any other
/// place of the site the installation restricts (its `restricted` list). An
/// audit conclusion has none: its body is its event's `epcList` and
/// `salvage:auditConclusion`.
fn details(kind: Kind, body: &Value) -> Option<Value> {
    if kind == Kind::AuditConclusion {
        return None;
    }
    let mut fields = body.as_object()?.clone();
    for field in ["giai", "passport", "parts", "to"] {
        fields.remove(field);
    }
    if kind == Kind::ItemInstall {
        let restricted: Vec<String> = fields
            .remove("restricted")
            .and_then(|list| list.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|place| place.as_str()?.strip_prefix("/site/").map(str::to_owned))
            .collect();
        if let Some(Value::Object(site)) = fields.get_mut("site") {
            site.remove("address");
            for place in &restricted {
                site.remove(place);
            }
        }
    }
    (!fields.is_empty()).then_some(Value::Object(fields))
}

/// The GIAI a body (or a split's part) names.
fn giai_in(record: &Record, body: &Value) -> Result<Giai, EpcisError> {
    let text = body.get("giai").and_then(Value::as_str).ok_or_else(|| malformed(record, "no giai"))?;
    Giai::parse(text).map_err(|error| malformed(record, &error.to_string()))
}

/// The public passport of a body (or a split's part): its restricted fields removed.
fn public_passport_in(record: &Record, body: &Value) -> Result<Value, EpcisError> {
    body.get("passport")
        .filter(|passport| passport.is_object())
        .map(public_passport)
        .ok_or_else(|| malformed(record, "no passport"))
}
