//! Typed statement bodies, decoded only after signatures and schema pass.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::conclusions::ConclusionBody;
use super::{LedgerFormat, MemberId, Role};
use crate::disclosure::{self, DisclosedEntry, Disclosure};
use crate::entry::{Kind, SignedEntry};
use crate::ident::{CompanyPrefix, Giai};
use crate::refusal::{Refusal, RefusalCode, RefusalDetail};
use crate::schema::{self, SchemaError};

/// A signed entry whose signatures verify and whose body fits its kind's schema.
///
/// Only [`VerifiedEntry::verify`] and its siblings (and, inside the crate, the audit,
/// once it has checked the signatures the same way) can make one, so the custody rules
/// never see an unchecked entry.
///
/// On a format-2 ledger an entry is judged one of two ways (docs/format.md §13.5):
/// *with its disclosures* (a node, at submission, replication and replay), when the
/// whole body is put back together and judged exactly as on format 1; or *publicly*
/// (an audit or a bundle without disclosures), when everything but the withheld
/// values is checked and [`VerifiedEntry::withheld`] says how many were not.
#[derive(Debug, Clone)]
pub struct VerifiedEntry {
    entry: SignedEntry,
    /// The whole body: on a format-2 ledger, with its disclosures put back.
    body: Body,
    /// The disclosures of the restricted values (format 2), in the order they came.
    disclosures: Vec<Disclosure>,
    /// How many values the body withholds that were judged without their
    /// disclosures (a public judgement); 0 when the body was judged whole.
    withheld: usize,
    /// Whether the entry is judged without disclosures on a format-2 ledger.
    public: bool,
}

impl VerifiedEntry {
    /// Verifies every signature with `verify_strict`, validates the body against
    /// its kind's schema and decodes it, as on a format-1 ledger (and for a
    /// genesis, which restricts nothing).
    pub fn verify(entry: SignedEntry) -> Result<VerifiedEntry, Refusal> {
        entry.verify_signatures()?;
        Self::after_signatures(entry)
    }

    /// [`VerifiedEntry::verify`]'s verdict for each of `entries`, in order; their
    /// signatures are checked together, which spares work but decides nothing
    /// differently (see [`crate::signature`]).
    pub fn verify_each(entries: Vec<SignedEntry>) -> Vec<Result<VerifiedEntry, Refusal>> {
        judge_each(entries.into_iter().map(|entry| (entry, ())).collect(), |entry, ()| Self::after_signatures(entry))
    }

    /// [`VerifiedEntry::verify_disclosed`]'s verdict for each entry and its
    /// disclosures, in order, with the signatures checked together.
    pub fn verify_each_disclosed(
        format: LedgerFormat,
        entries: Vec<(SignedEntry, Vec<Disclosure>)>,
    ) -> Vec<Result<VerifiedEntry, Refusal>> {
        judge_each(entries, |entry, disclosures| Self::disclosed_after_signatures(entry, format, disclosures))
    }

    /// The verdict on each stored entry, in order, with the disclosures held
    /// for it; one without any held (`None`) is judged publicly.
    pub(crate) fn verify_each_stored(
        format: LedgerFormat,
        entries: Vec<(SignedEntry, Option<Vec<Disclosure>>)>,
    ) -> Vec<Result<VerifiedEntry, Refusal>> {
        judge_each(entries, |entry, disclosures| match disclosures {
            Some(disclosures) => Self::disclosed_after_signatures(entry, format, disclosures),
            None => Self::public_after_signatures(entry, format),
        })
    }

    /// [`VerifiedEntry::verify_disclosed`]'s verdict on each entry of
    /// `canonical`, given as its canonical JSON (or its envelope's, with its
    /// disclosures: [`DisclosedEntry`]), in order; bytes that are neither get
    /// the strict parser's refusal. Each body is validated and decoded as soon
    /// as its entry is, while its JSON tree is still in this core's cache, and
    /// the tree is then dropped: the entry is only to be recorded, which takes
    /// its canonical bytes (see `SignedEntry::without_body_tree`). The
    /// signatures are checked after, together; a bad signature still decides
    /// the verdict before a bad body does, as in [`VerifiedEntry::verify`].
    pub(crate) fn verify_canonical<'a>(
        format: LedgerFormat,
        canonical: impl Iterator<Item = &'a [u8]>,
    ) -> Vec<Result<VerifiedEntry, Refusal>> {
        let mut entries = Vec::new();
        let checked: Vec<Result<Result<Judged, Refusal>, Refusal>> = canonical
            .map(|bytes| {
                let (entry, disclosures) = if disclosure::is_canonical_envelope(bytes) {
                    let envelope = DisclosedEntry::from_json_bytes(bytes)?;
                    (envelope.entry, envelope.disclosures)
                } else {
                    (SignedEntry::from_canonical_json(bytes)?, Vec::new())
                };
                let body = whole_body(&entry, format, &disclosures).map(|body| (body, disclosures));
                entries.push(entry.without_body_tree());
                Ok(body)
            })
            .collect();
        let mut signatures = SignedEntry::verify_signatures_each(&entries).into_iter();
        let mut entries = entries.into_iter();
        checked
            .into_iter()
            .map(|decoded| {
                let judged = decoded?;
                // One entry and one verdict per decoded entry; a missing one refuses rather than admits.
                let (Some(entry), Some(signatures)) = (entries.next(), signatures.next()) else {
                    return Err(Refusal::new(RefusalCode::EntryMalformed, "the entry could not be checked"));
                };
                signatures?;
                let (body, disclosures) = judged?;
                Ok(VerifiedEntry { entry, body, disclosures, withheld: 0, public: false })
            })
            .collect()
    }

    /// Validates and decodes the body of an entry whose signatures the caller has
    /// already verified, as on a format-1 ledger.
    pub(crate) fn after_signatures(entry: SignedEntry) -> Result<VerifiedEntry, Refusal> {
        let body = Body::decode(entry.statement().kind, &entry.statement().body)?;
        Ok(VerifiedEntry { entry, body, disclosures: Vec::new(), withheld: 0, public: false })
    }

    /// [`VerifiedEntry::verify`] for an entry of a ledger of `format`, with the
    /// disclosures that came beside it. On format 2 they are put back into the
    /// signed body (docs/format.md §13) and the whole body is validated and
    /// decoded, so schemas and rules judge what the holder really recorded; a
    /// format-1 ledger takes none.
    pub fn verify_disclosed(
        entry: SignedEntry,
        format: LedgerFormat,
        disclosures: Vec<Disclosure>,
    ) -> Result<VerifiedEntry, Refusal> {
        entry.verify_signatures()?;
        Self::disclosed_after_signatures(entry, format, disclosures)
    }

    /// [`VerifiedEntry::verify_disclosed`] after the signatures.
    pub(crate) fn disclosed_after_signatures(
        entry: SignedEntry,
        format: LedgerFormat,
        disclosures: Vec<Disclosure>,
    ) -> Result<VerifiedEntry, Refusal> {
        let body = whole_body(&entry, format, &disclosures)?;
        Ok(VerifiedEntry { entry, body, disclosures, withheld: 0, public: false })
    }

    /// Verifies an entry of a ledger of `format` without its disclosures (a
    /// public audit, a bundle): the signatures, and on format 2 everything the
    /// signed body shows. A body that withholds values is decoded without its
    /// schema, which would miss them; [`VerifiedEntry::withheld`] counts them.
    pub fn verify_public(entry: SignedEntry, format: LedgerFormat) -> Result<VerifiedEntry, Refusal> {
        entry.verify_signatures()?;
        Self::public_after_signatures(entry, format)
    }

    /// [`VerifiedEntry::verify_public`] after the signatures.
    pub(crate) fn public_after_signatures(entry: SignedEntry, format: LedgerFormat) -> Result<VerifiedEntry, Refusal> {
        if format == LedgerFormat::V1 {
            return Self::after_signatures(entry);
        }
        let kind = entry.statement().kind;
        let public = &entry.statement().body;
        let withheld = disclosure::withheld_values(kind, public)?;
        let body = match public {
            Value::Object(members) if members.contains_key(disclosure::DIGESTS_MEMBER) => {
                let mut shown = members.clone();
                shown.remove(disclosure::DIGESTS_MEMBER);
                let shown = Value::Object(shown);
                if withheld == 0 { Body::decode(kind, &shown)? } else { Body::decode_unvalidated(kind, &shown)? }
            }
            _ => Body::decode(kind, public)?,
        };
        Ok(VerifiedEntry { entry, body, disclosures: Vec::new(), withheld, public: true })
    }

    /// The disclosures of the entry's restricted values (format 2).
    pub fn disclosures(&self) -> &[Disclosure] {
        &self.disclosures
    }

    /// How many withheld values the entry was judged without (0 unless it was
    /// judged publicly): their schema and the rules that read them went unchecked.
    pub fn withheld(&self) -> usize {
        self.withheld
    }

    /// Whether the entry was judged without the disclosures of a format-2
    /// ledger, so rules that need a withheld value could not be checked.
    pub fn judged_publicly(&self) -> bool {
        self.public
    }

    /// The entry.
    pub fn entry(&self) -> &SignedEntry {
        &self.entry
    }

    /// The decoded body.
    pub fn body(&self) -> &Body {
        &self.body
    }

    /// The entry, giving up the decoded body.
    pub fn into_entry(self) -> SignedEntry {
        self.entry
    }

    /// The entry and its disclosures, giving up the decoded body.
    pub fn into_disclosed(self) -> (SignedEntry, Vec<Disclosure>) {
        (self.entry, self.disclosures)
    }
}

/// Checks the entries' signatures together, then judges each entry whose
/// signatures verify, with what came beside it, by `judge`.
fn judge_each<T>(
    entries: Vec<(SignedEntry, T)>,
    judge: impl Fn(SignedEntry, T) -> Result<VerifiedEntry, Refusal>,
) -> Vec<Result<VerifiedEntry, Refusal>> {
    let (entries, beside): (Vec<SignedEntry>, Vec<T>) = entries.into_iter().unzip();
    let signatures = SignedEntry::verify_signatures_each(&entries);
    entries
        .into_iter()
        .zip(beside)
        .zip(signatures)
        .map(|((entry, beside), signatures)| signatures.and_then(|()| judge(entry, beside)))
        .collect()
}

/// A body judged whole, and the disclosures that made it whole.
type Judged = (Body, Vec<Disclosure>);

/// The whole body of an entry of a ledger of `format` with `disclosures` put
/// back, validated against its kind's schema and decoded.
fn whole_body(entry: &SignedEntry, format: LedgerFormat, disclosures: &[Disclosure]) -> Result<Body, Refusal> {
    let kind = entry.statement().kind;
    match format {
        LedgerFormat::V1 if !disclosures.is_empty() => Err(Refusal::new(
            RefusalCode::DisclosureUnexpected,
            "this ledger (format 1) records restricted values in the clear and takes no disclosures",
        )),
        LedgerFormat::V1 => Body::decode(kind, &entry.statement().body),
        LedgerFormat::V2 => Body::decode(kind, &disclosure::reveal(kind, &entry.statement().body, disclosures)?)
            .map_err(|refusal| without_withheld_values(refusal, disclosures)),
    }
}

/// A refusal of a revealed body that repeats none of its restricted values:
/// schema messages quote the values they judge, and a refusal travels further
/// than its submitter (a consortium's batch outcomes, logs), while a
/// disclosure is never part of an error (docs/format.md §13).
fn without_withheld_values(mut refusal: Refusal, disclosures: &[Disclosure]) -> Refusal {
    const WITHHELD: &str = "(a restricted value, not repeated here)";
    for detail in &mut refusal.details {
        let at_withheld = disclosures.iter().any(|disclosure| {
            let place = format!("/statement/body{}", disclosure.place());
            detail.pointer == place || detail.pointer.starts_with(&format!("{place}/"))
        });
        if at_withheld {
            detail.message = format!("the value here breaks the schema {WITHHELD}");
        }
    }
    // What a message may quote of a value elsewhere (a parent's complaint, a
    // typed field): any withheld text or number long enough to be told apart.
    for disclosure in disclosures {
        for text in quotable(disclosure.value()) {
            refusal.message = refusal.message.replace(&text, WITHHELD);
            for detail in &mut refusal.details {
                detail.message = detail.message.replace(&text, WITHHELD);
            }
        }
    }
    refusal
}

/// The spellings of a value's strings and numbers a message could quote,
/// leaving out those too short to be told apart from ordinary words.
fn quotable(value: &Value) -> Vec<String> {
    let mut spelled = Vec::new();
    match value {
        Value::String(text) => spelled.extend([text.clone(), Value::String(text.clone()).to_string()]),
        Value::Number(number) => spelled.push(number.to_string()),
        Value::Array(values) => spelled.extend(values.iter().flat_map(quotable)),
        Value::Object(members) => spelled.extend(members.values().flat_map(quotable)),
        Value::Bool(_) | Value::Null => {}
    }
    spelled.retain(|text| text.chars().count() >= 4);
    // The quoted spelling first, so that its quotes go with it.
    spelled.sort_by_key(|text| std::cmp::Reverse(text.len()));
    spelled
}

/// The body of a statement, decoded by kind.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Body {
    /// `ledger.genesis`.
    Genesis(GenesisBody),
    /// `member.add`.
    MemberAdd(MemberBody),
    /// `member.update`.
    MemberUpdate(MemberUpdateBody),
    /// `node.add`.
    NodeAdd(NodeAddBody),
    /// `node.remove`.
    NodeRemove(NodeRemoveBody),
    /// `giai.allocate`.
    Allocate(AllocateBody),
    /// `giai.reserve`.
    Reserve(ReserveBody),
    /// `item.register`.
    Register(PassportBody),
    /// `item.amend`.
    Amend(PassportBody),
    /// `item.transfer`.
    Transfer(TransferBody),
    /// `item.receive`.
    Receive(ItemRef),
    /// `item.cancel`.
    Cancel(ItemRef),
    /// `item.attest`.
    Attest(AttestBody),
    /// `item.attest_withdraw`.
    AttestWithdraw(WithdrawBody),
    /// `item.split`.
    Split(SplitBody),
    /// `item.install`.
    Install(ItemRef),
    /// `item.dismantle`.
    Dismantle(ItemRef),
    /// `item.dispose`.
    Dispose(DisposeBody),
    /// `audit.conclusion`.
    Conclusion(ConclusionBody),
}

impl Body {
    /// Every item whose state the rules read to judge the body: the item it is about, and a
    /// split's parts (which must not exist yet). A state that keeps only a working set of its
    /// items in memory must hold these before it checks the entry.
    pub fn items(&self) -> Vec<&Giai> {
        match self {
            Body::Genesis(_)
            | Body::MemberAdd(_)
            | Body::MemberUpdate(_)
            | Body::NodeAdd(_)
            | Body::NodeRemove(_)
            | Body::Allocate(_) => Vec::new(),
            Body::Reserve(body) => body.giais.iter().collect(),
            Body::Register(body) | Body::Amend(body) => vec![&body.giai],
            Body::Transfer(body) => vec![&body.giai],
            Body::Receive(body) | Body::Cancel(body) | Body::Install(body) | Body::Dismantle(body) => {
                vec![&body.giai]
            }
            Body::Dispose(body) => vec![&body.giai],
            Body::Attest(body) => vec![&body.giai],
            Body::AttestWithdraw(body) => vec![&body.giai],
            Body::Split(body) => std::iter::once(&body.giai).chain(body.parts.iter().map(|part| &part.giai)).collect(),
            Body::Conclusion(body) => body.items.iter().collect(),
        }
    }

    /// Validates a body against its kind's schema, then decodes it.
    pub fn decode(kind: Kind, body: &Value) -> Result<Body, Refusal> {
        schema::validate_body(kind.as_str(), body).map_err(|error| schema_refusal(kind, error))?;
        Self::decode_unvalidated(kind, body)
    }

    /// Decodes a body without its schema: only for a body some of whose values
    /// are withheld (its schema would miss them), judged publicly. The typed
    /// fields a restricted place may hold all have defaults.
    fn decode_unvalidated(kind: Kind, body: &Value) -> Result<Body, Refusal> {
        Ok(match kind {
            Kind::Genesis => Body::Genesis(typed(kind, body)?),
            Kind::MemberAdd => Body::MemberAdd(typed(kind, body)?),
            Kind::MemberUpdate => Body::MemberUpdate(typed(kind, body)?),
            Kind::NodeAdd => Body::NodeAdd(typed(kind, body)?),
            Kind::NodeRemove => Body::NodeRemove(typed(kind, body)?),
            Kind::GiaiAllocate => Body::Allocate(typed(kind, body)?),
            Kind::GiaiReserve => Body::Reserve(typed(kind, body)?),
            Kind::ItemRegister => Body::Register(typed(kind, body)?),
            Kind::ItemAmend => Body::Amend(typed(kind, body)?),
            Kind::ItemTransfer => Body::Transfer(typed(kind, body)?),
            Kind::ItemReceive => Body::Receive(typed(kind, body)?),
            Kind::ItemCancel => Body::Cancel(typed(kind, body)?),
            Kind::ItemAttest => Body::Attest(typed(kind, body)?),
            Kind::ItemAttestWithdraw => Body::AttestWithdraw(typed(kind, body)?),
            Kind::ItemSplit => Body::Split(typed(kind, body)?),
            Kind::ItemInstall => Body::Install(typed(kind, body)?),
            Kind::ItemDismantle => Body::Dismantle(typed(kind, body)?),
            Kind::ItemDispose => Body::Dispose(typed(kind, body)?),
            Kind::AuditConclusion => Body::Conclusion(typed(kind, body)?),
        })
    }

    /// The checkpoint a conclusion names, as size and root: what
    /// [`require_root`](super::require_root) compares with the ledger's tree.
    pub fn named_root(&self) -> Option<(u64, [u8; 32])> {
        match self {
            Body::Conclusion(conclusion) => conclusion.named_root(),
            _ => None,
        }
    }

    /// The item the body acts on, for item kinds.
    pub fn giai(&self) -> Option<&Giai> {
        match self {
            Body::Register(b) | Body::Amend(b) => Some(&b.giai),
            Body::Transfer(b) => Some(&b.giai),
            Body::Receive(b) | Body::Cancel(b) | Body::Install(b) | Body::Dismantle(b) => Some(&b.giai),
            Body::Dispose(b) => Some(&b.giai),
            Body::Attest(b) => Some(&b.giai),
            Body::AttestWithdraw(b) => Some(&b.giai),
            Body::Split(b) => Some(&b.giai),
            Body::Genesis(_)
            | Body::MemberAdd(_)
            | Body::MemberUpdate(_)
            | Body::NodeAdd(_)
            | Body::NodeRemove(_)
            | Body::Allocate(_)
            | Body::Reserve(_)
            | Body::Conclusion(_) => None,
        }
    }
}

/// The consortium named in a genesis.
#[derive(Debug, Clone, Deserialize)]
pub struct ConsortiumBody {
    /// Its name.
    pub name: String,
    /// The GS1 company prefixes it holds and allocates serial ranges under.
    #[serde(default)]
    pub company_prefixes: Vec<CompanyPrefix>,
}

/// The body of `ledger.genesis`.
#[derive(Debug, Clone, Deserialize)]
pub struct GenesisBody {
    /// The consortium.
    pub consortium: ConsortiumBody,
    /// How the ledger records restricted values; format 1 when absent.
    #[serde(default)]
    pub format: LedgerFormat,
    /// Whether registrations must name GIAIs the signer holds (docs/rules.md §10).
    #[serde(default)]
    pub giai_allocation: bool,
    /// Which edition of the rules the ledger enforces; the first when absent.
    #[serde(default)]
    pub rules: super::Rules,
    /// Distinct admin members needed for a membership change.
    pub admin_threshold: u64,
    /// The founding members.
    pub members: Vec<MemberBody>,
}

/// A member as `member.add` and the genesis describe it.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberBody {
    /// Its id.
    pub id: MemberId,
    /// Its name.
    pub name: String,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Its public keys, hex.
    pub keys: Vec<String>,
    /// The GS1 company prefixes it holds.
    #[serde(default)]
    pub company_prefixes: Vec<CompanyPrefix>,
}

/// The body of `member.update`.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberUpdateBody {
    /// The member to change.
    pub id: MemberId,
    /// A new name.
    pub name: Option<String>,
    /// A new set of roles.
    pub roles: Option<Vec<Role>>,
    /// Keys to add.
    pub add_keys: Option<Vec<String>>,
    /// Keys to revoke.
    pub revoke_keys: Option<Vec<String>>,
    /// GS1 company prefixes the member now holds too.
    pub add_company_prefixes: Option<Vec<CompanyPrefix>>,
}

/// The body of `giai.allocate`.
#[derive(Debug, Clone, Deserialize)]
pub struct AllocateBody {
    /// The member the range goes to.
    pub member: MemberId,
    /// One of the consortium's company prefixes.
    pub prefix: CompanyPrefix,
    /// The first serial.
    pub first: u64,
    /// The last serial, inclusive.
    pub last: u64,
}

/// The body of `giai.reserve`, with the GIAIs it reserves spelled out.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "ReserveWire")]
pub struct ReserveBody {
    /// The company prefix of the signer's own or allocated serials.
    pub prefix: CompanyPrefix,
    /// The first serial reserved.
    pub first: u64,
    /// How many consecutive serials.
    pub count: u64,
    /// `prefix ‖ serial` for every serial reserved, in order.
    giais: Vec<Giai>,
}

impl ReserveBody {
    /// The GIAIs reserved, in order of their serials.
    pub fn giais(&self) -> &[Giai] {
        &self.giais
    }
}

/// `giai.reserve` as the wire has it.
#[derive(Deserialize)]
struct ReserveWire {
    prefix: CompanyPrefix,
    first: u64,
    count: u64,
}

impl TryFrom<ReserveWire> for ReserveBody {
    type Error = String;

    fn try_from(wire: ReserveWire) -> Result<ReserveBody, String> {
        // The schema bounds count to 1000; a body decoded without it is bounded here too.
        if !(1..=1000).contains(&wire.count) {
            return Err(format!("a reservation takes 1 to 1000 GIAIs, not {}", wire.count));
        }
        let giais = (0..wire.count)
            .map(|offset| {
                let serial = wire.first.checked_add(offset).ok_or("the serials run past 2^64")?;
                Giai::parse(&format!("{}{serial}", wire.prefix)).map_err(|error| error.to_string())
            })
            .collect::<Result<Vec<Giai>, String>>()?;
        Ok(ReserveBody { prefix: wire.prefix, first: wire.first, count: wire.count, giais })
    }
}

/// The body of `node.add`. The schema has already checked the URL's form
/// (`http://host[:port]`, no path, at most 200 characters).
#[derive(Debug, Clone, Deserialize)]
pub struct NodeAddBody {
    /// The operator that runs the node.
    pub member: MemberId,
    /// Where the other nodes reach it, e.g. `http://10.0.3.10:8080`.
    pub url: String,
}

/// The body of `node.remove`.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeRemoveBody {
    /// The member whose node leaves the consortium.
    pub member: MemberId,
}

/// A body that carries a passport: `item.register` and `item.amend`.
#[derive(Debug, Clone, Deserialize)]
pub struct PassportBody {
    /// The item.
    pub giai: Giai,
    /// What the custody rules read from its passport.
    pub passport: PassportFacts,
}

/// What the custody rules read from a passport. The passport itself stays in
/// the signed statement; decoding only these fields spares a copy of its
/// whole JSON tree for every entry (the schema has already checked their types).
#[derive(Debug, Clone, Deserialize)]
pub struct PassportFacts {
    /// The human name.
    #[serde(default)]
    pub name: String,
    /// The mass of the item in kilograms.
    #[serde(default)]
    pub mass_kg: Option<f64>,
    /// The identity block, for the GIAI the passport names.
    #[serde(default)]
    identity: Option<PassportIdentity>,
    /// Its legal status under the Waste Framework Directive (never restricted).
    #[serde(default)]
    legal_status: Option<LegalStatusFacts>,
    /// What its hazardous materials survey found (never restricted).
    #[serde(default)]
    hazards: Option<HazardFacts>,
}

#[derive(Debug, Clone, Deserialize)]
struct LegalStatusFacts {
    status: String,
    #[serde(default)]
    list_of_waste_code: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct HazardFacts {
    #[serde(default)]
    asbestos_free: Option<bool>,
    #[serde(default)]
    substances: Vec<SubstanceFacts>,
}

#[derive(Debug, Clone, Deserialize)]
struct SubstanceFacts {
    cas: String,
}

#[derive(Debug, Clone, Deserialize)]
struct PassportIdentity {
    #[serde(default)]
    giai: Option<String>,
}

impl PassportFacts {
    /// What the rules read of a passport given as JSON (fields of the wrong type read as
    /// absent): for readers of records already accepted, such as a certifier's audit.
    pub fn deserialize_from(passport: &Value) -> PassportFacts {
        PassportFacts::deserialize(passport).unwrap_or(PassportFacts {
            name: passport.get("name").and_then(Value::as_str).unwrap_or_default().to_owned(),
            mass_kg: passport.get("mass_kg").and_then(Value::as_f64),
            identity: None,
            legal_status: None,
            hazards: None,
        })
    }

    /// The GIAI the passport names in `identity.giai`.
    pub fn giai(&self) -> Option<&str> {
        self.identity.as_ref()?.giai.as_deref()
    }

    /// The passport's List of Waste code when it says the item is waste (`legal_status.status`
    /// `waste`): `Some(None)` for a waste without a code (only a ledger's older records can
    /// hold one; the schema asks for the code).
    pub fn waste(&self) -> Option<Option<&str>> {
        let status = self.legal_status.as_ref().filter(|status| status.status == "waste")?;
        Some(status.list_of_waste_code.as_deref())
    }

    /// Whether the passport says the item holds asbestos: a substance with the CAS number of an
    /// asbestos mineral (the schema's `never_reusable_cas`), or `hazards.asbestos_free` false.
    pub fn lists_asbestos(&self) -> bool {
        self.hazards.as_ref().is_some_and(|hazards| {
            hazards.asbestos_free == Some(false)
                || hazards.substances.iter().any(|substance| schema::is_never_reusable(&substance.cas))
        })
    }
}

/// The body of `item.transfer`.
#[derive(Debug, Clone, Deserialize)]
pub struct TransferBody {
    /// The item.
    pub giai: Giai,
    /// The member offered custody.
    pub to: MemberId,
}

/// A body that only names its item.
#[derive(Debug, Clone, Deserialize)]
pub struct ItemRef {
    /// The item.
    pub giai: Giai,
}

/// The body of `item.dispose`.
#[derive(Debug, Clone, Deserialize)]
pub struct DisposeBody {
    /// The item.
    pub giai: Giai,
    /// The treatment route, e.g. `recycling` or `hazardous_waste_treatment`.
    pub route: String,
}

impl DisposeBody {
    /// Whether the route is one of the hazardous-waste routes (docs/rules.md §11).
    pub fn is_hazardous_route(&self) -> bool {
        HAZARDOUS_ROUTES.contains(&self.route.as_str())
    }
}

/// The disposal routes a hazardous item may take (docs/rules.md §11).
pub const HAZARDOUS_ROUTES: [&str; 2] = ["hazardous_waste_treatment", "hazardous_waste_landfill"];

/// The body of `item.attest`.
#[derive(Debug, Clone, Deserialize)]
pub struct AttestBody {
    /// The item.
    pub giai: Giai,
    /// The passport version attested.
    pub passport_version: u64,
    /// What the certifier found, as far as the rules read it.
    pub attestation: AttestationFacts,
}

/// What the rules read of an attestation.
#[derive(Debug, Clone, Deserialize)]
pub struct AttestationFacts {
    /// The kind of examination: `inspection`, `certification`, `hazard_survey`, `test` or
    /// `end_of_waste`.
    #[serde(rename = "type")]
    pub examination: String,
    /// `pass`, `fail` or `conditional`.
    pub result: String,
    /// The last day it is valid, `YYYY-MM-DD`.
    #[serde(default)]
    pub valid_until: Option<String>,
}

impl AttestationFacts {
    /// What the rules read of an attestation given as JSON, if it has their shape.
    pub fn deserialize_from(attestation: &Value) -> Option<AttestationFacts> {
        AttestationFacts::deserialize(attestation).ok()
    }

    /// Whether it is a passed examination of the given kind.
    pub fn passed(&self, examination: &str) -> bool {
        self.examination == examination && self.result == "pass"
    }
}

/// The body of `item.attest_withdraw`.
#[derive(Debug, Clone, Deserialize)]
pub struct WithdrawBody {
    /// The item.
    pub giai: Giai,
    /// The record of the attestation withdrawn.
    pub attestation: u64,
    /// Why.
    pub reason: String,
}

/// The body of `item.split`.
#[derive(Debug, Clone, Deserialize)]
pub struct SplitBody {
    /// The parent item.
    pub giai: Giai,
    /// The parts, each with its own passport.
    pub parts: Vec<PassportBody>,
}

fn typed<T: DeserializeOwned>(kind: Kind, body: &Value) -> Result<T, Refusal> {
    T::deserialize(body)
        .map_err(|e| Refusal::new(RefusalCode::SchemaInvalid, format!("{kind} body does not decode: {e}")))
}

fn schema_refusal(kind: Kind, error: SchemaError) -> Refusal {
    match error {
        SchemaError::Invalid { violations, total } => {
            let details: Vec<RefusalDetail> = violations
                .into_iter()
                .map(|v| RefusalDetail { pointer: format!("/statement/body{}", v.pointer), message: v.message })
                .collect();
            let first =
                if details.len() < total { format!("; the first {} are listed", details.len()) } else { String::new() };
            Refusal::new(
                RefusalCode::SchemaInvalid,
                format!("{kind} body breaks its schema in {total} place(s){first}"),
            )
            .with_details(details)
        }
        other => Refusal::new(RefusalCode::SchemaInvalid, format!("{kind} body cannot be validated: {other}")),
    }
}
