//! What the provenance page shows, gathered from the ledger: [`Provenance`].
//!
//! The view model is built in one place and holds only what a buyer may see:
//! every passport field comes through [`public_passport`], so restricted fields
//! never reach it. It is plain data, so the page, a JSON API or a test can use
//! it alike; translation happens in the page, not here.

use std::collections::BTreeMap;

use salvage_ledger::attachment::AttachmentDigest;
use salvage_ledger::chain::Record;
use salvage_ledger::checkpoint::{NoteVerifier, SignedCheckpoint};
use salvage_ledger::custody::{ItemState, ItemStatus, LedgerFormat, Member, Role};
use salvage_ledger::entry::{Kind, PublicKey, Timestamp};
use salvage_ledger::ident::Giai;
use salvage_ledger::merkle::{Blake3Hasher, verify_inclusion};
use salvage_ledger::store::checkpoint_origin;
use salvage_ledger::{Ledger, LedgerError};
use serde_json::Value;

pub use super::attachments_view::{Document, MemberRef, Photo};
use super::attachments_view::{documents, named_only_privately, photos};
pub use super::attestations_view::{Attestation, AuditConclusion, Withdrawal};
use super::attestations_view::{attestation, audit_conclusion};
use super::redact::public_passport;

/// Everything the provenance page of one item shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Provenance {
    /// The item's GIAI.
    pub giai: Giai,
    /// What the item is, from its public passport.
    pub passport: PublicPassport,
    /// The passport version shown (1 for the registered one, +1 per amendment).
    pub passport_version: u64,
    /// The member holding custody now.
    pub custodian: MemberRef,
    /// Where the item is in its life.
    pub status: ItemStatus,
    /// The member a transfer is offered to and not yet received by.
    pub pending_transfer: Option<MemberRef>,
    /// The item this one was cut from.
    pub parent: Option<Giai>,
    /// The parts this item was cut into.
    pub parts: Vec<Giai>,
    /// Every record that touched the item, oldest first.
    pub timeline: Vec<TimelineStep>,
    /// Inspections, certifications, hazard surveys and tests, oldest first.
    pub attestations: Vec<Attestation>,
    /// Custody audits that judged the item's chain, oldest first.
    pub audits: Vec<AuditConclusion>,
    /// What was checked, and how it came out.
    pub verification: Verification,
    /// The passport's fields its holder withheld from the public.
    pub withheld: Withheld,
}

/// The places of the shown passport that its holder restricted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Withheld {
    /// Their JSON Pointers, as the passport lists them.
    pub places: Vec<String>,
    /// Whether the ledger (format 1) signed them into its records in the
    /// clear: hidden here, but not secret.
    pub recorded_in_clear: bool,
}

/// The public passport fields the page shows. Absent fields are `None` or empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PublicPassport {
    /// The human name; `None` only if the contractor restricted it.
    pub name: Option<String>,
    /// The category code, e.g. `structural_steel`.
    pub category: Option<String>,
    /// A longer description.
    pub description: Option<String>,
    /// The original GTIN, where known.
    pub gtin: Option<String>,
    /// Materials by mass fraction.
    pub materials: Vec<Material>,
    /// How much the passport covers.
    pub quantity: Option<Quantity>,
    /// The mass in kilograms.
    pub mass_kg: Option<f64>,
    /// Dimensions in millimetres, in the schema's order (length, width, height, thickness, diameter).
    pub dimensions_mm: Vec<(String, f64)>,
    /// The condition grade (A to D) and notes.
    pub condition: Option<Condition>,
    /// Hazardous substances and the survey that found them.
    pub hazards: Option<Hazards>,
    /// Where the item was harvested.
    pub origin: Option<Origin>,
    /// How and when it was taken out of the donor building.
    pub dismantling: Option<Dismantling>,
    /// The legal status code (e.g. `used_product`, `waste`).
    pub legal_status: Option<String>,
    /// The European List of Waste code, for waste.
    pub waste_code: Option<String>,
    /// The EPD that applies.
    pub epd_reference: Option<String>,
    /// Emissions avoided by reuse, kg CO2e.
    pub co2e_avoided_kg: Option<f64>,
    /// Photos of the item, the first one first.
    pub photos: Vec<Photo>,
    /// Documents backing the passport.
    pub documents: Vec<Document>,
}

/// One material of the item.
#[derive(Debug, Clone, PartialEq)]
pub struct Material {
    /// Its name.
    pub name: String,
    /// Mass fraction of the item, 0 to 1.
    pub fraction: Option<f64>,
    /// Fraction of the material that is recycled content, 0 to 1.
    pub recycled_content: Option<f64>,
}

/// An amount and its UN/ECE Rec 20 unit code.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    /// The amount.
    pub value: f64,
    /// The unit code, e.g. `H87` (piece).
    pub unit: String,
}

/// The condition assessed at registration.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// A (as new) to D.
    pub grade: Option<String>,
    /// Defects, repairs, coatings.
    pub notes: Option<String>,
}

/// What the hazardous materials survey found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hazards {
    /// The survey's reference.
    pub survey_reference: Option<String>,
    /// Whether the survey found the item free of asbestos.
    pub asbestos_free: Option<bool>,
    /// Substances of concern.
    pub substances: Vec<Substance>,
}

impl Hazards {
    /// Whether any substance found is asbestos (by name or by the CAS numbers of the asbestos minerals).
    pub fn has_asbestos(&self) -> bool {
        self.asbestos_free == Some(false) || self.substances.iter().any(Substance::is_asbestos)
    }
}

/// A hazardous substance found in or on the item.
#[derive(Debug, Clone, PartialEq)]
pub struct Substance {
    /// Its name.
    pub name: String,
    /// Its CAS Registry Number.
    pub cas: Option<String>,
    /// The measured concentration with its unit, e.g. `12 %`.
    pub concentration: Option<(f64, String)>,
    /// The CLP hazard classification.
    pub clp_class: Option<String>,
}

impl Substance {
    /// Whether the substance is a form of asbestos: a CAS number the schema marks never
    /// reusable (the ledger's own list, which the waste rules read), or asbestos by name.
    pub fn is_asbestos(&self) -> bool {
        self.cas.as_deref().is_some_and(salvage_ledger::schema::is_never_reusable)
            || self.name.to_lowercase().contains("asbest")
    }
}

/// The donor building, as far as it is public.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origin {
    /// Its name.
    pub building: Option<String>,
    /// Its postal address (usually restricted).
    pub address: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// Year built.
    pub year_built: Option<i64>,
    /// Year the item was installed there.
    pub year_installed: Option<i64>,
    /// Where in the building.
    pub location: Option<String>,
}

/// How the item was taken out of the donor building.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dismantling {
    /// The date (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// The method code, e.g. `selective_deconstruction`.
    pub method: Option<String>,
    /// Who did it: a member's name if the passport names a member id.
    pub contractor: Option<String>,
}

/// One record of the item's history.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineStep {
    /// Its position in the ledger.
    pub seq: u64,
    /// When the ledger accepted it.
    pub accepted: Timestamp,
    /// What happened.
    pub event: Event,
    /// The members who signed it.
    pub by: Vec<MemberRef>,
}

/// What a record did to the item.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A contractor registered the item with its passport.
    Registered,
    /// The custodian published a new passport version.
    Amended {
        /// The new version.
        version: u64,
    },
    /// The custodian offered custody to a member.
    TransferOffered {
        /// The member offered custody.
        to: MemberRef,
    },
    /// The recipient accepted custody.
    Received,
    /// The custodian withdrew a pending transfer.
    TransferCancelled,
    /// A certifier withdrew its attestation recorded at `record`.
    AttestationWithdrawn {
        /// The attestation's record.
        record: u64,
    },
    /// A certifier attested the item (details in [`Provenance::attestations`]).
    Attested {
        /// The kind of examination, e.g. `inspection`.
        kind: String,
        /// `pass`, `fail` or `conditional`.
        result: String,
    },
    /// A certifier audited the item's custody chain (details in [`Provenance::audits`]).
    Audited {
        /// Whether the report has a finding about this item.
        flagged: bool,
    },
    /// The item was cut from a parent item.
    SplitFrom {
        /// The parent.
        parent: String,
    },
    /// The item was cut into parts.
    SplitInto {
        /// The parts.
        parts: Vec<String>,
    },
    /// The item was built into a building for reuse. The site's postal address
    /// is left out on purpose: it says where a building's owner lives or works.
    Installed {
        /// The building or project.
        building: Option<String>,
        /// Its country.
        country: Option<String>,
        /// Where in the building.
        location: Option<String>,
    },
    /// The item was taken out of a building again.
    Dismantled {
        /// Why.
        reason: Option<String>,
    },
    /// The item was recycled or disposed of; nothing can happen to it afterwards.
    Disposed {
        /// The treatment route, e.g. `landfill`.
        route: Option<String>,
        /// The treatment facility.
        facility: Option<String>,
    },
}

/// What the page checked for the buyer, each with its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// Records of the item whose signatures were verified again for this page.
    pub records_checked: usize,
    /// Signatures verified.
    pub signatures_checked: usize,
    /// Records whose signatures did not verify (always 0 on an intact ledger).
    pub records_failed: usize,
    /// The item's latest record.
    pub latest_seq: u64,
    /// Whether that record's inclusion proof leads to the checkpoint's root.
    pub inclusion: Inclusion,
    /// The checkpoint's tree size.
    pub checkpoint_size: u64,
    /// Whether the checkpoint names this ledger.
    pub checkpoint_origin_matches: bool,
    /// Operators whose checkpoint signatures verify against their keys.
    pub signed_by: Vec<MemberRef>,
    /// Signatures by operator keys that do not verify: someone altered the checkpoint.
    pub bad_signatures: usize,
    /// How many consortium operators there are.
    pub operators: usize,
    /// The checkpoint's Merkle root, lowercase hex.
    pub root_hex: String,
}

/// The outcome of checking the latest record's inclusion proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inclusion {
    /// The proof leads from the record to the checkpoint's root.
    Verified,
    /// The record is newer than the checkpoint; the next checkpoint will cover it.
    AfterCheckpoint,
    /// The proof does not verify: the page must not claim inclusion.
    Failed(String),
}

impl Verification {
    /// Whether every check passed.
    pub fn all_passed(&self) -> bool {
        self.records_failed == 0
            && self.inclusion == Inclusion::Verified
            && self.checkpoint_origin_matches
            && !self.signed_by.is_empty()
            && self.bad_signatures == 0
    }
}

impl Provenance {
    /// Gathers the page of an item, or `None` if no item has that GIAI.
    ///
    /// `checkpoint` is the latest signed checkpoint the node holds; every
    /// current operator of the consortium is expected to sign it.
    /// Signatures of the item's records and of the checkpoint are verified
    /// here, and the latest record's inclusion proof is checked against the
    /// checkpoint's root: the page reports what was found, not what is assumed.
    pub fn from_ledger(
        ledger: &Ledger,
        giai: &Giai,
        checkpoint: &SignedCheckpoint,
    ) -> Result<Option<Provenance>, LedgerError> {
        let Some(item) = ledger.item(giai)? else {
            return Ok(None);
        };
        let history = ledger.history(giai)?;
        let members = Members::new(ledger.members()?);
        let passport_record = ledger.record(item.passport_seq.get())?;
        let places: Vec<String> = passport_of(&passport_record, giai)
            .and_then(|passport| passport.get("restricted").and_then(Value::as_array).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|place| place.as_str().map(str::to_owned))
            .collect();
        let withheld =
            Withheld { recorded_in_clear: !places.is_empty() && ledger.format() == LedgerFormat::V1, places };
        let passport = public_passport_of(&passport_record, giai);
        let mut passport = PublicPassport::from_public(&passport, &members);
        // The passport's files are attached by whoever signed the record that holds it.
        let attached_by = members.signers(passport_record.entry.signatures().iter().map(|s| &s.key));
        for document in &mut passport.documents {
            document.attached_by.clone_from(&attached_by);
        }
        // A reference with a restricted part (its size, say) can leave the rest
        // in the public passport, but its file is not public: left out too.
        let private =
            named_only_privately(passport_record.entry.statement().kind, &passport_record.entry.statement().body);
        passport.photos.retain(|photo| photo.digest().is_some_and(|digest| !private.contains(&digest)));
        passport.documents.retain(|d| {
            d.blake3.as_deref().and_then(AttachmentDigest::parse).is_none_or(|digest| !private.contains(&digest))
        });

        let mut timeline = Vec::with_capacity(history.len());
        let mut attestations = Vec::new();
        let mut audits = Vec::new();
        let (mut signatures_checked, mut records_failed) = (0, 0);
        let mut version = 1;
        for record in &history {
            let entry = &record.entry;
            match entry.verify_signatures() {
                Ok(()) => signatures_checked += entry.signatures().len(),
                Err(_) => records_failed += 1,
            }
            let by: Vec<MemberRef> = members.signers(entry.signatures().iter().map(|s| &s.key));
            let body = &entry.statement().body;
            if entry.statement().kind == Kind::ItemAttest
                && let Some(attestation) = attestation(record, by.first().cloned().unwrap_or_else(|| members.unknown()))
            {
                attestations.push(attestation);
            }
            if entry.statement().kind == Kind::ItemAttestWithdraw {
                let withdrawn = body.get("attestation").and_then(Value::as_u64);
                if let Some(attestation) = attestations.iter_mut().find(|a| Some(a.seq) == withdrawn) {
                    let reason = body.get("reason").and_then(Value::as_str).unwrap_or_default().to_owned();
                    attestation.withdrawn = Some(Withdrawal { accepted: record.accepted.clone(), reason });
                }
            }
            let audit = (entry.statement().kind == Kind::AuditConclusion)
                .then(|| audit_conclusion(record, giai, by.first().cloned().unwrap_or_else(|| members.unknown())))
                .flatten();
            let audited = audit.as_ref().map(|a| Event::Audited { flagged: a.flagged });
            audits.extend(audit);
            if let Some(mut event) = event(entry.statement().kind, body, giai, &members).or(audited) {
                // Versions count from the passport the item started with.
                match &mut event {
                    Event::Registered | Event::SplitFrom { .. } => version = 1,
                    Event::Amended { version: amended } => {
                        version += 1;
                        *amended = version;
                    }
                    _ => {}
                }
                timeline.push(TimelineStep { seq: record.seq.get(), accepted: record.accepted.clone(), event, by });
            }
        }

        let verification = verify(
            ledger,
            &item,
            history.last(),
            checkpoint,
            members.operator_count(),
            &members,
            (history.len(), signatures_checked, records_failed),
        )?;
        Ok(Some(Provenance {
            giai: giai.clone(),
            passport,
            passport_version: item.passport_version,
            custodian: members.get(item.custodian.as_str()),
            status: item.status,
            pending_transfer: item.pending.as_ref().map(|p| members.get(p.to.as_str())),
            parent: item.parent.clone(),
            parts: item.parts.clone(),
            timeline,
            attestations,
            audits,
            verification,
            withheld,
        }))
    }

    /// The name to show: the passport's, or the GIAI if the name is restricted.
    pub fn display_name(&self) -> &str {
        self.passport.name.as_deref().unwrap_or(self.giai.as_str())
    }

    /// Sets each photo's thumbnail size from `thumbnail_size`: the node's
    /// attachments, which know which images they hold (`None` for one they do
    /// not hold yet). The ledger alone cannot say, so the view leaves it to the node.
    pub fn set_thumbnails(&mut self, mut thumbnail_size: impl FnMut(&AttachmentDigest) -> Option<(u32, u32)>) {
        for photo in &mut self.passport.photos {
            photo.thumbnail = photo.digest().and_then(|digest| thumbnail_size(&digest));
        }
    }
}

impl PublicPassport {
    /// Reads the fields the page shows from a passport that has been through
    /// [`public_passport`]. Fields of the wrong type are skipped, not fatal.
    pub fn from_public(passport: &Value, members: &Members) -> PublicPassport {
        let text = |value: &Value, pointer: &str| value.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
        let number = |value: &Value, pointer: &str| value.pointer(pointer).and_then(Value::as_f64);
        let materials = array(passport, "/materials")
            .filter_map(|m| {
                Some(Material {
                    name: text(m, "/name")?,
                    fraction: number(m, "/fraction"),
                    recycled_content: number(m, "/recycled_content"),
                })
            })
            .collect();
        let quantity = number(passport, "/quantity/value")
            .zip(text(passport, "/quantity/unit"))
            .map(|(value, unit)| Quantity { value, unit });
        let dimensions_mm = ["length", "width", "height", "thickness", "diameter"]
            .iter()
            .filter_map(|d| Some(((*d).to_owned(), number(passport, &format!("/dimensions_mm/{d}"))?)))
            .collect();
        let condition = passport
            .get("condition")
            .filter(|c| c.is_object())
            .map(|c| Condition { grade: text(c, "/grade"), notes: text(c, "/notes") })
            .filter(|c| c.grade.is_some() || c.notes.is_some());
        let hazards = passport.get("hazards").filter(|h| h.is_object()).map(|h| Hazards {
            survey_reference: text(h, "/survey_reference"),
            asbestos_free: h.get("asbestos_free").and_then(Value::as_bool),
            substances: array(h, "/substances")
                .filter_map(|s| {
                    Some(Substance {
                        name: text(s, "/name")?,
                        cas: text(s, "/cas"),
                        concentration: number(s, "/concentration/value").zip(text(s, "/concentration/unit")),
                        clp_class: text(s, "/clp_class"),
                    })
                })
                .collect(),
        });
        let origin = passport.get("origin").filter(|o| o.is_object()).map(|o| Origin {
            building: text(o, "/building"),
            address: text(o, "/address"),
            country: text(o, "/country"),
            year_built: o.get("year_built").and_then(Value::as_i64),
            year_installed: o.get("year_installed").and_then(Value::as_i64),
            location: text(o, "/location_in_building"),
        });
        let dismantling = passport.get("dismantling").filter(|d| d.is_object()).map(|d| Dismantling {
            date: text(d, "/date"),
            method: text(d, "/method"),
            contractor: text(d, "/contractor").map(|c| members.name_or_text(&c)),
        });
        PublicPassport {
            name: text(passport, "/name"),
            category: text(passport, "/category"),
            description: text(passport, "/description"),
            gtin: text(passport, "/identity/gtin"),
            materials,
            quantity,
            mass_kg: number(passport, "/mass_kg"),
            dimensions_mm,
            condition,
            hazards,
            origin,
            dismantling,
            legal_status: text(passport, "/legal_status/status"),
            waste_code: text(passport, "/legal_status/list_of_waste_code"),
            epd_reference: text(passport, "/environment/epd_reference"),
            co2e_avoided_kg: number(passport, "/environment/co2e_avoided_kg"),
            photos: photos(passport),
            // Who attached them is known from the record: `Provenance::from_ledger` says.
            documents: documents(passport, "/documents", &[]),
        }
    }
}

/// The consortium's members, looked up by id and by key.
#[derive(Debug, Clone, Default)]
pub struct Members {
    by_id: BTreeMap<String, Member>,
    by_key: BTreeMap<PublicKey, String>,
}

impl Members {
    /// Indexes the members (every key they ever had, so old records still name their signer).
    pub fn new(members: Vec<Member>) -> Members {
        let mut by_key = BTreeMap::new();
        for member in &members {
            for key in member.keys.keys() {
                by_key.insert(*key, member.id.to_string());
            }
        }
        Members { by_id: members.into_iter().map(|m| (m.id.to_string(), m)).collect(), by_key }
    }

    /// A member by id; an unknown id is shown as itself.
    pub fn get(&self, id: &str) -> MemberRef {
        MemberRef { id: id.to_owned(), name: self.by_id.get(id).map_or_else(|| id.to_owned(), |m| m.name.clone()) }
    }

    /// The member's name if `text` is a member id, else `text` itself.
    fn name_or_text(&self, text: &str) -> String {
        self.by_id.get(text).map_or_else(|| text.to_owned(), |m| m.name.clone())
    }

    /// The distinct members owning the keys, in signature order.
    pub(crate) fn signers<'a>(&self, keys: impl Iterator<Item = &'a PublicKey>) -> Vec<MemberRef> {
        let mut signers: Vec<MemberRef> = Vec::new();
        for key in keys {
            let member = self
                .by_key
                .get(key)
                .map_or_else(|| MemberRef { id: key.to_hex(), name: key.to_hex() }, |id| self.get(id));
            if !signers.contains(&member) {
                signers.push(member);
            }
        }
        signers
    }

    fn unknown(&self) -> MemberRef {
        MemberRef { id: String::new(), name: String::new() }
    }

    /// Checkpoint verifiers for every active key of every operator, named by member id
    /// as the C2SP key name.
    fn operator_verifiers(&self) -> Vec<NoteVerifier> {
        self.operators().flat_map(Member::checkpoint_verifiers).collect()
    }

    /// How many members run a node of the consortium.
    fn operator_count(&self) -> usize {
        self.operators().count()
    }

    fn operators(&self) -> impl Iterator<Item = &Member> {
        self.by_id.values().filter(|m| m.has_role(Role::Operator))
    }
}

/// The passport a record carries for an item, without its restricted fields
/// (`null` if the record carries none for it).
pub fn public_passport_of(record: &Record, giai: &Giai) -> Value {
    passport_of(record, giai).map(|passport| public_passport(&passport)).unwrap_or_default()
}

/// The passport a record carries for an item: `item.register` and `item.amend`
/// carry it in `passport`, `item.split` in the part naming the item.
fn passport_of(record: &Record, giai: &Giai) -> Option<Value> {
    let statement = record.entry.statement();
    match statement.kind {
        Kind::ItemRegister | Kind::ItemAmend => statement.body.get("passport").cloned(),
        Kind::ItemSplit => array(&statement.body, "/parts")
            .find(|part| part.get("giai").and_then(Value::as_str) == Some(giai.as_str()))
            .and_then(|part| part.get("passport").cloned()),
        _ => None,
    }
}

/// The timeline event a record makes for the item, if it concerns it.
fn event(kind: Kind, body: &Value, giai: &Giai, members: &Members) -> Option<Event> {
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str).map(str::to_owned);
    let event = match kind {
        Kind::ItemRegister => Event::Registered,
        Kind::ItemAmend => Event::Amended { version: 0 },
        Kind::ItemTransfer => Event::TransferOffered { to: members.get(&text("/to").unwrap_or_default()) },
        Kind::ItemReceive => Event::Received,
        Kind::ItemCancel => Event::TransferCancelled,
        Kind::ItemAttestWithdraw => {
            Event::AttestationWithdrawn { record: body.get("attestation").and_then(Value::as_u64).unwrap_or_default() }
        }
        Kind::ItemAttest => Event::Attested {
            kind: text("/attestation/type").unwrap_or_default(),
            result: text("/attestation/result").unwrap_or_default(),
        },
        Kind::ItemSplit => {
            let parent = text("/giai").unwrap_or_default();
            if parent == giai.as_str() {
                Event::SplitInto {
                    parts: array(body, "/parts").filter_map(|p| p.get("giai")?.as_str().map(str::to_owned)).collect(),
                }
            } else {
                Event::SplitFrom { parent }
            }
        }
        Kind::ItemInstall => {
            // Where in the building it went is left out when the holder restricts it.
            let restricted = array(body, "/restricted").any(|place| place.as_str() == Some("/site/location"));
            Event::Installed {
                building: text("/site/building"),
                country: text("/site/country"),
                location: if restricted { None } else { text("/site/location") },
            }
        }
        Kind::ItemDismantle => Event::Dismantled { reason: text("/reason") },
        Kind::ItemDispose => Event::Disposed { route: text("/route"), facility: text("/facility") },
        _ => return None,
    };
    Some(event)
}

/// Checks the latest record's inclusion and the checkpoint's signatures.
fn verify(
    ledger: &Ledger,
    item: &ItemState,
    latest: Option<&Record>,
    checkpoint: &SignedCheckpoint,
    operators: usize,
    members: &Members,
    (records_checked, signatures_checked, records_failed): (usize, usize, usize),
) -> Result<Verification, LedgerError> {
    let size = checkpoint.checkpoint.size();
    let root = *checkpoint.checkpoint.root();
    let latest_seq = latest.map_or(item.updated.get(), |r| r.seq.get());
    let inclusion = match latest {
        None => Inclusion::Failed("the item has no records".to_owned()),
        Some(_) if latest_seq >= size => Inclusion::AfterCheckpoint,
        Some(record) if size > ledger.size() => Inclusion::Failed(format!(
            "the checkpoint covers {size} records but the ledger holds {}; record {} cannot be proven",
            ledger.size(),
            record.seq
        )),
        Some(record) => {
            let path = ledger.inclusion_proof(latest_seq, size)?;
            match verify_inclusion::<Blake3Hasher>(&record.leaf_hash().0, latest_seq, size, &path, &root) {
                Ok(()) => Inclusion::Verified,
                Err(error) => Inclusion::Failed(error.to_string()),
            }
        }
    };
    let verified = checkpoint.verify(&members.operator_verifiers());
    let bad_signatures = verified.invalid.len();
    let mut signer_ids = verified.valid;
    signer_ids.sort();
    signer_ids.dedup();
    Ok(Verification {
        records_checked,
        signatures_checked,
        records_failed,
        latest_seq,
        inclusion,
        checkpoint_size: size,
        checkpoint_origin_matches: checkpoint.checkpoint.origin() == checkpoint_origin(&ledger.ledger_id()),
        signed_by: signer_ids.iter().map(|id| members.get(id)).collect(),
        bad_signatures,
        operators,
        root_hex: hex::encode(root),
    })
}

/// The elements of the array at `pointer`, or none.
fn array<'a>(value: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> {
    value.pointer(pointer).and_then(Value::as_array).into_iter().flatten()
}
