//! Item rules: registration, passports, custody transfers, attestations, splits,
//! installation and disposal.

use std::collections::BTreeSet;

use super::bodies::{Body, PassportBody, PassportFacts, WithdrawBody};
use super::identifiers;
use super::may::{Action, preconditions};
use super::waste::{self, WasteMarks};
use super::{
    AttestationRef, Change, Context, ItemState, ItemStatus, MemberId, PendingTransfer, Role, Rules, State,
    require_role, role_missing, sole_signer,
};
use crate::ident::Giai;
use crate::refusal::{Refusal, RefusalCode};

/// Relative slack when comparing masses on a split, so that parts whose masses
/// were written in decimal and add up exactly are not refused for rounding.
const MASS_TOLERANCE: f64 = 1e-9;

/// Checks an item entry and computes its change, by the `rules` given (the ledger's own, or
/// a later edition's for an audit that asks what it would refuse). `public` says the entry is
/// judged without the disclosures of a format-2 ledger (docs/format.md §13.5), so values the
/// rules need may be unknown: a rule that needs one is then not checked.
pub(super) fn check(
    state: &State,
    signers: &BTreeSet<MemberId>,
    body: &Body,
    public: bool,
    rules: Rules,
    context: &Context,
) -> Result<Change, Refusal> {
    let signer = sole_signer(signers)?;
    // The item an action changes, as a copy, once the action's preconditions hold: the same
    // verdict a member's app is given before it signs (`State::may`).
    let precondition = |giai: &Giai, action: Action| {
        preconditions(state.item(giai), giai, signer, state.member(signer), rules, action).cloned()
    };
    let items = match body {
        Body::Register(b) => vec![register(state, signer, b, context)?],
        Body::Amend(b) => {
            let item = precondition(&b.giai, Action::Amend)?;
            vec![amend(item, b, context)?]
        }
        Body::Transfer(b) => {
            let mut item = precondition(&b.giai, Action::Transfer)?;
            let recipient = state
                .member(&b.to)
                .ok_or_else(|| Refusal::new(RefusalCode::MemberUnknown, format!("no member has id {}", b.to)))?;
            if b.to == *signer {
                return Err(Refusal::new(
                    RefusalCode::CustodySelfTransfer,
                    format!("{signer} already holds {}", b.giai),
                ));
            }
            waste::require_waste_handler(rules, &item, recipient)?;
            if !waste::may_receive(rules, &item, Some(recipient)) {
                return Err(role_missing(&b.to, Role::Holder, "receive custody"));
            }
            item.pending = Some(PendingTransfer { to: b.to.clone(), offered: context.seq });
            vec![touched(item, context)]
        }
        Body::Receive(b) => {
            // The precondition found the transfer pending, offered to the signer.
            let mut item = precondition(&b.giai, Action::Receive)?;
            item.pending = None;
            item.custodian = signer.clone();
            vec![touched(item, context)]
        }
        Body::Cancel(b) => {
            let mut item = precondition(&b.giai, Action::Cancel)?;
            item.pending = None;
            vec![touched(item, context)]
        }
        Body::Attest(b) => {
            let mut item = precondition(&b.giai, Action::Attest)?;
            if b.passport_version == 0 || b.passport_version > item.passport_version {
                return Err(Refusal::new(
                    RefusalCode::AttestUnknownVersion,
                    format!(
                        "{} has passport versions 1 to {}, not {}",
                        b.giai, item.passport_version, b.passport_version
                    ),
                ));
            }
            waste::require_attestable(rules, &item, &b.attestation, context)?;
            item.attestations.push(AttestationRef {
                seq: context.seq,
                passport_version: b.passport_version,
                certifier: signer.clone(),
                withdrawn: None,
            });
            // Only an attestation of the passport as it is now lifts what made the item waste.
            if b.passport_version == item.passport_version {
                item.waste_marks.note_attestation(&b.attestation, context.seq);
            }
            vec![touched(item, context)]
        }
        Body::AttestWithdraw(b) => {
            let item = precondition(&b.giai, Action::Attest)?;
            vec![withdraw(item, signer, b, context)?]
        }
        Body::Split(b) => {
            let parent = precondition(&b.giai, Action::Split)?;
            split(state, signer, parent, &b.parts, public, context)?
        }
        Body::Install(b) => {
            let mut item = precondition(&b.giai, Action::Install)?;
            item.status = ItemStatus::Installed;
            vec![touched(item, context)]
        }
        Body::Dismantle(b) => {
            let mut item = precondition(&b.giai, Action::Dismantle)?;
            item.status = ItemStatus::Available;
            vec![touched(item, context)]
        }
        Body::Dispose(b) => {
            let mut item = precondition(&b.giai, Action::Dispose)?;
            waste::require_disposal_route(rules, &item, b)?;
            item.status = ItemStatus::Disposed;
            vec![touched(item, context)]
        }
        Body::Genesis(_)
        | Body::MemberAdd(_)
        | Body::MemberUpdate(_)
        | Body::NodeAdd(_)
        | Body::NodeRemove(_)
        | Body::Allocate(_)
        | Body::Reserve(_)
        | Body::Conclusion(_) => {
            return Err(Refusal::new(RefusalCode::EntryMalformed, "not an item statement"));
        }
    };
    // Registrations change no member (not even the next free serial of its allocation), so
    // that a proof bundle's membership records stay the records that change members.
    Ok(Change { members: vec![], items })
}

fn register(state: &State, signer: &MemberId, body: &PassportBody, context: &Context) -> Result<ItemState, Refusal> {
    require_role(state, signer, Role::Contractor, "register items")?;
    require_issuable(state, signer, &body.giai)?;
    require_passport_names(&body.giai, &body.passport)?;
    let mut waste_marks = WasteMarks::default();
    waste_marks.note_passport(&body.passport, context.seq);
    Ok(ItemState {
        giai: body.giai.clone(),
        name: body.passport.name.clone(),
        custodian: signer.clone(),
        status: ItemStatus::Available,
        pending: None,
        passport_version: 1,
        passport_seq: context.seq,
        mass_kg: body.passport.mass_kg,
        parent: None,
        parts: vec![],
        registered: context.seq,
        updated: context.seq,
        attestations: vec![],
        waste_marks,
    })
}

fn amend(mut item: ItemState, body: &PassportBody, context: &Context) -> Result<ItemState, Refusal> {
    require_passport_names(&body.giai, &body.passport)?;
    item.passport_version += 1;
    item.passport_seq = context.seq;
    item.name = body.passport.name.clone();
    item.mass_kg = body.passport.mass_kg;
    item.waste_marks.note_passport(&body.passport, context.seq);
    Ok(touched(item, context))
}

/// The certifier withdraws an attestation it made; what the attestation lifted comes back.
fn withdraw(
    mut item: ItemState,
    signer: &MemberId,
    body: &WithdrawBody,
    context: &Context,
) -> Result<ItemState, Refusal> {
    let giai = &item.giai;
    let attestation = item.attestations.iter_mut().find(|a| a.seq.get() == body.attestation).ok_or_else(|| {
        Refusal::new(
            RefusalCode::AttestUnknownAttestation,
            format!("record {} is no attestation of {giai}", body.attestation),
        )
    })?;
    if attestation.certifier != *signer {
        return Err(Refusal::new(
            RefusalCode::AttestNotIssuer,
            format!(
                "the attestation at record {} was made by {}; only it may withdraw it, not {signer}",
                body.attestation, attestation.certifier
            ),
        ));
    }
    if let Some(withdrawn) = attestation.withdrawn {
        return Err(Refusal::new(
            RefusalCode::AttestAlreadyWithdrawn,
            format!("the attestation at record {} was withdrawn at record {withdrawn}", body.attestation),
        ));
    }
    attestation.withdrawn = Some(context.seq);
    item.waste_marks.note_withdrawal(attestation.seq);
    Ok(touched(item, context))
}

/// A split's parts may not weigh more than their parent, and every mass must be known.
fn conserve_mass(giai: &Giai, parent_mass: Option<f64>, parts: &[PassportBody]) -> Result<(), Refusal> {
    let parent_mass = parent_mass
        .ok_or_else(|| Refusal::new(RefusalCode::SplitMassUnknown, format!("{giai} has no mass_kg in its passport")))?;
    let mut total = 0.0;
    for part in parts {
        total += part.passport.mass_kg.ok_or_else(|| {
            Refusal::new(RefusalCode::SplitMassUnknown, format!("part {} has no mass_kg in its passport", part.giai))
        })?;
    }
    if total > parent_mass * (1.0 + MASS_TOLERANCE) {
        return Err(Refusal::new(
            RefusalCode::SplitMassExceeded,
            format!("the parts weigh {total} kg together, more than the {parent_mass} kg of {giai}"),
        ));
    }
    Ok(())
}

fn split(
    state: &State,
    signer: &MemberId,
    mut parent: ItemState,
    parts: &[PassportBody],
    public: bool,
    context: &Context,
) -> Result<Vec<ItemState>, Refusal> {
    let giai = &parent.giai.clone();
    let mut seen = BTreeSet::new();
    for part in parts {
        if part.giai == *giai || !seen.insert(&part.giai) {
            return Err(Refusal::new(
                RefusalCode::SplitDuplicatePart,
                format!("part {} appears twice or is the parent itself", part.giai),
            ));
        }
        require_issuable(state, signer, &part.giai)?;
        require_passport_names(&part.giai, &part.passport)?;
    }
    // A public judgement cannot weigh what it cannot see: the parts' masses,
    // or the parent's when its passport withheld it.
    let unknown = parent.mass_kg.is_none() || parts.iter().any(|part| part.passport.mass_kg.is_none());
    if !(public && unknown) {
        conserve_mass(giai, parent.mass_kg, parts)?;
    }

    parent.status = ItemStatus::Split;
    parent.parts = parts.iter().map(|p| p.giai.clone()).collect();
    // The parts are of the parent's material: what made it waste goes with them.
    let inherited = parent.waste_marks.clone();
    let mut changed = vec![touched(parent, context)];
    for part in parts {
        let mut waste_marks = inherited.clone();
        waste_marks.note_passport(&part.passport, context.seq);
        changed.push(ItemState {
            giai: part.giai.clone(),
            name: part.passport.name.clone(),
            custodian: signer.clone(),
            status: ItemStatus::Available,
            pending: None,
            passport_version: 1,
            passport_seq: context.seq,
            mass_kg: part.passport.mass_kg,
            parent: Some(giai.clone()),
            parts: vec![],
            registered: context.seq,
            updated: context.seq,
            attestations: vec![],
            waste_marks,
        });
    }
    Ok(changed)
}

/// Whether `signer` may give an item the GIAI now: no item has it (or only the signer's
/// reservation), and on a ledger that allocates GIAIs the signer holds it.
fn require_issuable(state: &State, signer: &MemberId, giai: &Giai) -> Result<(), Refusal> {
    if let Some(item) = state.item(giai)
        && !(item.status == ItemStatus::Reserved && item.custodian == *signer)
    {
        return Err(identifiers::exists(item));
    }
    if state.consortium.giai_allocation {
        identifiers::require_held(state, signer, giai)?;
    }
    Ok(())
}

fn require_passport_names(giai: &Giai, passport: &PassportFacts) -> Result<(), Refusal> {
    match passport.giai() {
        Some(named) if named == giai.as_str() => Ok(()),
        named => Err(Refusal::new(
            RefusalCode::PassportGiaiMismatch,
            format!("the passport names {} but the statement is about {giai}", named.unwrap_or("no GIAI")),
        )),
    }
}

fn touched(mut item: ItemState, context: &Context) -> ItemState {
    item.updated = context.seq;
    item
}
