//! EPCIS 2.0 export: an item's life as GS1 visibility events.
//!
//! Buyers, certification bodies and their software speak GS1 EPCIS, not
//! Salvage records. [`document`] maps records, in ledger order, to an
//! `EPCISDocument` in JSON-LD that validates against the official EPCIS 2.0
//! JSON Schema; [`export`] does it for a whole [`Ledger`] or for some of its
//! items, and [`LedgerExport`] writes a whole ledger's document as it reads
//! the records, in memory that does not grow with the ledger. The mapping is
//! pure: the same records and arguments give the same document.
//!
//! # The mapping
//!
//! Every item record and every audit conclusion becomes exactly one event;
//! the genesis and membership records become none (they only tell which
//! member signed with which key).
//!
//! | kind | event | action | bizStep | disposition |
//! |---|---|---|---|---|
//! | `item.register` | ObjectEvent | ADD | `commissioning` | `active` |
//! | `item.amend` | ObjectEvent | OBSERVE | — | — |
//! | `item.transfer` | ObjectEvent | OBSERVE | `shipping` | `in_transit` |
//! | `item.receive` | ObjectEvent | OBSERVE | `receiving` | `active` |
//! | `item.cancel` | ObjectEvent | OBSERVE | `void_shipping` | `active` |
//! | `item.attest` | ObjectEvent | OBSERVE | `inspecting` | `conformant` (pass), `non_conformant` (fail), none (conditional) |
//! | `item.attest_withdraw` | ObjectEvent | OBSERVE | — | — (`salvage:withdraws` names the attestation's record) |
//! | `item.split` | TransformationEvent | — | `commissioning` | `active` (of the parts) |
//! | `item.install` | ObjectEvent | OBSERVE | `installing` | `active` |
//! | `item.dismantle` | ObjectEvent | OBSERVE | `removing` | `active` |
//! | `item.dispose` | ObjectEvent | DELETE | `decommissioning` (recycling, landfill, hazardous-waste landfill), `destroying` (energy recovery, hazardous-waste treatment) | `disposed`, `destroyed` |
//! | `audit.conclusion` | ObjectEvent (of the items it names) | OBSERVE | `inspecting` | — (`salvage:auditConclusion` holds the verdict) |
//!
//! Decisions where the standard leaves a choice:
//!
//! - **Identifiers.** Items are their GS1 Digital Link URIs
//!   (`{resolver}/8004/{giai}`, built by [`crate::ident::digital_link`]).
//!   `eventID` is the URI of the record (`{resolver}/v1/records/{seq}`), where
//!   a node serves the signed record the event came from. Members are
//!   `{resolver}/v1/members#{member id}`.
//! - **Time.** `eventTime` is the record's `accepted` time (the ledger's clock,
//!   which orders the events), with `eventTimeZoneOffset` `+00:00` since the
//!   ledger keeps UTC. The signer's own statement time is kept in
//!   `salvage:statementTime`.
//! - **Vocabulary.** CBV business steps and dispositions are bare words
//!   (`shipping`, `in_transit`), as EPCIS 2.0 JSON writes them. `active` means
//!   "in circulation": registered, held, installed, or back from a transfer.
//!   Custody is `possessing_party` in `sourceList` / `destinationList` of
//!   shipping and receiving; Salvage records no ownership.
//! - **Passports.** The registered passport is the ILMD of the `commissioning`
//!   event (`salvage:passport`, `salvage:passportVersion`); a split's parts'
//!   passports are the ILMD of its TransformationEvent (`salvage:passports`, by
//!   Digital Link). EPCIS allows ILMD only when objects come into being, so an
//!   amended passport travels in the OBSERVE event's own `salvage:passport` and
//!   `salvage:passportVersion`, without a business step: an amendment records
//!   new facts, not a physical step. Every passport is the public passport of
//!   [`crate::redact::public_passport`]: restricted fields never appear.
//! - **Attestations.** `certificationInfo` is the attestation record's URI;
//!   the attestation itself is in `salvage:details`.
//! - **Audit conclusions.** A certifier's conclusion of a custody audit is one
//!   OBSERVE event of the items it judged, `inspecting` and without a
//!   disposition: a verdict on a custody chain is no physical state of the
//!   objects. It changes nothing the export tracks of them (custodian, open
//!   transfer, passport version), and needs nothing of their past.
//!   `certificationInfo` is the conclusion record's URI, and
//!   `salvage:auditConclusion` holds its `scope`, `checkpoint` (`size`,
//!   `root`), `report` (the BLAKE3 of the report), `verdict`, `findings` (the
//!   whole audit's counts) and `flagged` (GIAIs, as in the body; empty when
//!   none), but not `salvage:details`. A whole ledger's document lists every
//!   item the conclusion names; a document about some items lists only those
//!   of them, in `epcList` and in `flagged`, so that an item's document does
//!   not carry the thousands of other items an audit judged alongside it (the
//!   record, at `certificationInfo`, names them all). The items [`export`] is
//!   about are those asked for; those [`document`] is about are the items
//!   whose creation (registration or split) is among its records, as in a
//!   proof bundle.
//! - **Cancelled transfers.** `void_shipping`, with `salvage:voids` naming the
//!   withdrawn shipping event.
//! - **Splits.** One TransformationEvent, parent in `inputEPCList`, parts in
//!   `outputEPCList`: it belongs to the history of the parent and of each part.
//! - **Extensions.** Salvage fields are prefixed `salvage:`, a prefix the
//!   document's `@context` declares ([`SALVAGE_NAMESPACE`]) after the GS1 EPCIS
//!   context ([`EPCIS_CONTEXT`]). Every event carries `salvage:kind`,
//!   `salvage:entryId`, `salvage:statementTime`, `salvage:signers` and, when
//!   the statement says more than the standard fields hold, `salvage:details`
//!   (its body without the item, passports and recipient, and without an
//!   installation site's postal address, which the provenance page withholds
//!   too; never for an audit conclusion, whose body travels as above). The
//!   document carries the ledger id as `salvage:ledger`.
//!
//! # What the records must include
//!
//! The records given to [`document`] must include the membership records
//! that added the signers' keys (the genesis, `member.add`, `member.update`)
//! and, before any other record of an item, the record that created it (its
//! registration, or the split it came out of); a receipt or cancellation also
//! needs the transfer it answers, and an audit conclusion the creation of at
//! least one of the items it names. A record without them is refused with
//! [`EpcisError::UnknownKey`] or [`EpcisError::IncompleteHistory`] rather than
//! exported with a party missing. [`export`] always selects such a set, as a
//! proof bundle does.

mod items;
mod replay;
mod stream;
mod vocabulary;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

pub use stream::LedgerExport;
pub use vocabulary::{EPCIS_CONTEXT, MEDIA_TYPE, SALVAGE_NAMESPACE};

use crate::chain::Record;
use crate::entry::{Kind, LedgerId, Timestamp};
use crate::ident::{DigitalLinkError, Giai};
use crate::store::{Ledger, LedgerError};
use items::Items;
use replay::{About, Replay};
use vocabulary::{SCHEMA_VERSION, context};

/// Why an EPCIS document could not be made.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum EpcisError {
    /// The resolver base cannot start Digital Link URIs.
    #[error("resolver base {base:?} cannot start the items' Digital Link URIs: {source}")]
    Resolver {
        /// The base as given.
        base: String,
        /// Why the Digital Link code refused it.
        source: DigitalLinkError,
    },
    /// An item's GIAI cannot be written as a Digital Link URI.
    #[error("item {giai} has no Digital Link URI: {source}")]
    DigitalLink {
        /// The item.
        giai: Giai,
        /// Why the Digital Link code refused it.
        source: DigitalLinkError,
    },
    /// A record's body lacks what its event needs; a record the ledger accepted never does.
    #[error("record {seq} ({kind}) cannot be exported: {reason}")]
    Malformed {
        /// The record.
        seq: u64,
        /// Its kind.
        kind: Kind,
        /// What is missing or wrong.
        reason: String,
    },
    /// A record is signed with a key that no membership record given before it adds.
    #[error(
        "record {seq} is signed with key {key}, which no membership record before it adds; include the genesis and member records"
    )]
    UnknownKey {
        /// The record.
        seq: u64,
        /// The key, hex.
        key: String,
    },
    /// A record about an item comes without the earlier record its event depends on.
    #[error("record {seq} ({kind}) of item {giai} needs {missing}, which is not among the records before it")]
    IncompleteHistory {
        /// The record.
        seq: u64,
        /// Its kind.
        kind: Kind,
        /// The item.
        giai: Giai,
        /// The record that is missing, in words.
        missing: &'static str,
    },
    /// [`export`] was asked for an item the ledger does not have.
    #[error("no item {0} is registered")]
    UnknownItem(Giai),
    /// Reading the ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The document could not be written out as JSON; JSON values always can.
    #[error("cannot write the EPCIS document as JSON: {0}")]
    Encoding(String),
}

/// A record the export cannot map: what is missing or wrong in it.
fn malformed(record: &Record, reason: &str) -> EpcisError {
    EpcisError::Malformed { seq: record.seq.get(), kind: record.entry.statement().kind, reason: reason.to_owned() }
}

/// A record that comes without the earlier record its event depends on.
fn incomplete(record: &Record, giai: &Giai, missing: &'static str) -> EpcisError {
    EpcisError::IncompleteHistory {
        seq: record.seq.get(),
        kind: record.entry.statement().kind,
        giai: giai.clone(),
        missing,
    }
}

/// The EPCIS 2.0 document of `records`, taken in the order given (ledger order),
/// with URIs under `resolver_base` (such as `https://salvage.example`) and
/// `creationDate` `created`.
///
/// See the [module documentation](self) for the mapping and for the records
/// the set must include.
pub fn document<'a>(
    records: impl IntoIterator<Item = &'a Record>,
    resolver_base: &str,
    created: &Timestamp,
) -> Result<Value, EpcisError> {
    // The records are all given, so every item they create is remembered; the
    // document is about those items (the histories of a proof bundle, say).
    let mut replay = Replay::new(resolver_base, Items::every(), About::Created(BTreeSet::new()))?;
    let mut events = Vec::new();
    for record in records {
        events.extend(replay.push(record, None)?);
    }
    Ok(envelope(created, replay.ledger_id(), events))
}

/// The EPCIS 2.0 document of a ledger's durable records: every item's events
/// when `items` is empty, otherwise the events of those items (each event
/// once, in ledger order; a split's event belongs to its parent and its parts).
///
/// An item the ledger does not have is [`EpcisError::UnknownItem`].
///
/// The document of a whole ledger is as large as the ledger: [`LedgerExport`]
/// writes the same document, as bytes, without holding it.
pub fn export(ledger: &Ledger, items: &[Giai], resolver_base: &str, created: &Timestamp) -> Result<Value, EpcisError> {
    // The document holds every event anyway, which outweighs what is tracked
    // of the items, so every item is remembered.
    let about = if items.is_empty() { About::Every } else { About::Only(items.iter().cloned().collect()) };
    let mut replay = Replay::new(resolver_base, Items::every(), about)?;
    let mut events = Vec::new();
    // Every set below is cut at one size, so records appended meanwhile (whose
    // signers' keys might be newer than the membership records read) stay out.
    let size = ledger.size();
    if items.is_empty() {
        for seq in 0..size {
            events.extend(replay.push(&ledger.record(seq)?, None)?);
        }
        return Ok(envelope(created, replay.ledger_id(), events));
    }
    let mut seqs: BTreeSet<u64> = ledger.membership_records()?.into_iter().collect();
    for giai in items {
        if ledger.item(giai)?.is_none() {
            return Err(EpcisError::UnknownItem(giai.clone()));
        }
        seqs.extend(ledger.history_seqs(giai)?);
    }
    for seq in seqs.into_iter().filter(|seq| *seq < size) {
        events.extend(replay.push(&ledger.record(seq)?, None)?);
    }
    Ok(envelope(created, replay.ledger_id(), events))
}

/// The `EPCISDocument` holding `events`, made `created`, of the ledger `ledger`
/// (unknown when no record told it).
fn envelope(created: &Timestamp, ledger: Option<LedgerId>, events: Vec<Value>) -> Value {
    let mut document = Map::new();
    document.insert("@context".into(), context());
    document.insert("type".into(), json!("EPCISDocument"));
    document.insert("schemaVersion".into(), json!(SCHEMA_VERSION));
    document.insert("creationDate".into(), json!(created.as_str()));
    if let Some(ledger) = ledger {
        document.insert("salvage:ledger".into(), json!(ledger.to_hex()));
    }
    document.insert("epcisBody".into(), json!({"eventList": events}));
    Value::Object(document)
}

#[cfg(test)]
mod tests;
