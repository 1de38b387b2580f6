//! Who may issue which GIAIs (docs/rules.md §10, docs/format.md §16): company prefixes that
//! members hold, serial ranges the consortium allocates under its own prefixes, and
//! reservations of the next serials for labels printed before items are registered.
//!
//! Under GS1's rules only the licensee of a company prefix allocates identifiers under it
//! (GS1 General Specifications §1.4.4); most small firms hold none, so the consortium allocates
//! ranges under its prefix instead. Prefixes never overlap (none is the beginning of another
//! held by someone else), and ranges under one prefix never overlap, so every GIAI has at most
//! one holder.

use std::collections::BTreeSet;

use super::bodies::{AllocateBody, MemberBody, ReserveBody};
use super::{
    Allocation, Change, Context, ItemState, ItemStatus, Member, MemberId, Role, SerialRange, State, require_role,
    sole_signer,
};
use crate::chain::Seq;
use crate::ident::{CompanyPrefix, Giai};
use crate::refusal::{Refusal, RefusalCode};

/// The serial a member's own prefix starts its reservations at.
const FIRST_OWN_SERIAL: u64 = 1;

/// `giai.allocate`: admins up to the threshold, or one member with the `issuer` role, give a
/// member the serials `first..=last` under one of the consortium's prefixes.
pub(super) fn allocate(
    state: &State,
    signers: &BTreeSet<MemberId>,
    body: &AllocateBody,
    context: &Context,
) -> Result<Change, Refusal> {
    let by_issuer =
        signers.len() == 1 && signers.iter().all(|id| state.member(id).is_some_and(|m| m.has_role(Role::Issuer)));
    if !by_issuer && state.admin_signers(signers) < state.consortium.admin_threshold {
        return Err(Refusal::new(
            RefusalCode::AdminThresholdNotMet,
            format!(
                "to allocate GIAIs, {} admin member(s) must sign, or one member with the issuer role",
                state.consortium.admin_threshold
            ),
        ));
    }
    let member = state
        .member(&body.member)
        .ok_or_else(|| Refusal::new(RefusalCode::MemberUnknown, format!("no member has id {}", body.member)))?;
    if !state.consortium.company_prefixes.contains(&body.prefix) {
        let held = spelled(&state.consortium.company_prefixes);
        return Err(Refusal::new(
            RefusalCode::GiaiNotAllocated,
            format!(
                "company prefix {} is not the consortium's (it holds {held}): only its licensee allocates under it",
                body.prefix
            ),
        ));
    }
    if body.first > body.last {
        return Err(Refusal::new(
            RefusalCode::SchemaInvalid,
            format!("the range starts at {} after its last serial {}", body.first, body.last),
        ));
    }
    // A guard: the schema's bounds (12 digits of prefix, serials below 2^53) keep every GIAI of
    // a range within GS1's 30 characters; this holds even if they are ever widened.
    let longest = body.prefix.digits() + body.last.to_string().len();
    if longest > 30 {
        return Err(Refusal::new(
            RefusalCode::SchemaInvalid,
            format!("{}{} would be {longest} characters long; a GIAI has at most 30", body.prefix, body.last),
        ));
    }
    for other in state.members() {
        for held in &other.identifiers {
            let Some(range) = held.range.filter(|_| held.prefix == body.prefix) else { continue };
            if range.first <= body.last && body.first <= range.last {
                return Err(Refusal::new(
                    RefusalCode::GiaiOverlap,
                    format!(
                        "serials {} to {} under {} overlap those allocated to {} ({} to {})",
                        body.first, body.last, body.prefix, other.id, range.first, range.last
                    ),
                ));
            }
        }
    }
    let mut member = member.clone();
    member.identifiers.push(Allocation {
        prefix: body.prefix.clone(),
        range: Some(SerialRange { first: body.first, last: body.last }),
        next: body.first,
        since: context.seq,
    });
    Ok(Change { members: vec![member], items: vec![] })
}

/// `giai.reserve`: the holder of a prefix or range reserves its next serials; each becomes an
/// item in the `reserved` state, held by the signer, until it is registered.
pub(super) fn reserve(
    state: &State,
    signers: &BTreeSet<MemberId>,
    body: &ReserveBody,
    context: &Context,
) -> Result<Change, Refusal> {
    let signer = sole_signer(signers)?;
    let member = state
        .member(signer)
        .ok_or_else(|| Refusal::new(RefusalCode::MemberUnknown, format!("no member has id {signer}")))?;
    // Only a contractor can register what it reserves: without the role its labels could never
    // name an item, and nothing gives a reservation back.
    require_role(state, signer, Role::Contractor, "reserve GIAIs (and register them)")?;
    let giais = body.giais();
    let (Some(first), Some(last)) = (giais.first(), giais.last()) else {
        return Err(Refusal::new(RefusalCode::SchemaInvalid, "a reservation names at least one GIAI"));
    };
    let position = member
        .identifiers
        .iter()
        .position(|held| held.prefix == body.prefix && held.covers(first) && held.covers(last))
        .ok_or_else(|| {
            Refusal::new(
                RefusalCode::GiaiNotAllocated,
                format!("{signer} holds no company prefix or range that covers {first} to {last}"),
            )
        })?;
    let mut member = member.clone();
    let allocation = &mut member.identifiers[position];
    if body.first < allocation.next {
        return Err(Refusal::new(
            RefusalCode::GiaiIssued,
            format!(
                "serials under {} up to {} are reserved or registered already; the next free one is {}",
                body.prefix,
                allocation.next - 1,
                allocation.next
            ),
        ));
    }
    let mut items = Vec::with_capacity(giais.len());
    for giai in giais {
        if let Some(item) = state.item(giai) {
            // Registered directly (a reservation's cursor does not see those): say where to go on.
            let mut refusal = exists(item);
            refusal.message = format!("{}; reserve serials after it instead", refusal.message);
            return Err(refusal);
        }
        items.push(ItemState {
            giai: giai.clone(),
            name: String::new(),
            custodian: signer.clone(),
            status: ItemStatus::Reserved,
            pending: None,
            passport_version: 0,
            passport_seq: context.seq,
            mass_kg: None,
            parent: None,
            parts: vec![],
            registered: context.seq,
            updated: context.seq,
            attestations: vec![],
            waste_marks: Default::default(),
        });
    }
    allocation.next = body.first + body.count;
    Ok(Change { members: vec![member], items })
}

/// Whether `signer` may issue `giai`: one of its allocations covers it.
pub(super) fn require_held(state: &State, signer: &MemberId, giai: &Giai) -> Result<(), Refusal> {
    match holder_among(state.members(), giai) {
        Some((holder, _)) if holder.id == *signer => Ok(()),
        Some((holder, _)) => Err(Refusal::new(
            RefusalCode::GiaiNotAllocated,
            format!("{giai} lies in the identifiers of {}, not of {signer}", holder.id),
        )),
        None => {
            let own = state.member(signer).map(|m| m.identifiers.as_slice()).unwrap_or_default();
            let hint = if own.is_empty() {
                format!("{signer} holds no company prefix or range yet: ask the consortium's admins for one")
            } else {
                format!("{signer} holds {}", describe(own))
            };
            Err(Refusal::new(RefusalCode::GiaiNotAllocated, format!("{giai} was allocated to no member; {hint}")))
        }
    }
}

/// The company prefix `giai` was issued under: that of the member's allocation that covers it,
/// or else the consortium's own prefix it begins with.
pub fn issued_under<'a>(
    consortium: &'a [CompanyPrefix],
    members: impl IntoIterator<Item = &'a Member>,
    giai: &Giai,
) -> Option<&'a CompanyPrefix> {
    holder_among(members, giai)
        .map(|(_, held)| &held.prefix)
        .or_else(|| consortium.iter().find(|prefix| giai.as_str().starts_with(prefix.as_str())))
}

/// The member whose allocation covers `giai`, with that allocation: at most one does.
fn holder_among<'a>(
    members: impl IntoIterator<Item = &'a Member>,
    giai: &Giai,
) -> Option<(&'a Member, &'a Allocation)> {
    members
        .into_iter()
        .find_map(|member| member.identifiers.iter().find(|held| held.covers(giai)).map(|held| (member, held)))
}

/// The allocations of a new member (the genesis, `member.add`) for the prefixes it holds.
pub(super) fn own_prefixes(state: &State, body: &MemberBody, since: Seq) -> Result<Vec<Allocation>, Refusal> {
    let mut identifiers = Vec::new();
    add_prefixes(state, &body.id, &mut identifiers, &body.company_prefixes, since)?;
    Ok(identifiers)
}

/// Gives a member the prefixes it now holds, refusing any that overlaps a prefix held by the
/// consortium, another member, the member itself, or another of those given.
pub(super) fn add_prefixes(
    state: &State,
    id: &MemberId,
    identifiers: &mut Vec<Allocation>,
    prefixes: &[CompanyPrefix],
    since: Seq,
) -> Result<(), Refusal> {
    for prefix in prefixes {
        let overlaps = |held: &CompanyPrefix| overlap(held, prefix);
        let holder = state
            .consortium
            .company_prefixes
            .iter()
            .find(|held| overlaps(held))
            .map(|held| (held.clone(), "the consortium".to_owned()))
            .or_else(|| {
                state.members().filter(|member| member.id != *id).find_map(|member| {
                    member
                        .identifiers
                        .iter()
                        .find(|held| overlaps(&held.prefix))
                        .map(|held| (held.prefix.clone(), format!("member {}", member.id)))
                })
            })
            .or_else(|| {
                identifiers.iter().find(|held| overlaps(&held.prefix)).map(|held| (held.prefix.clone(), id.to_string()))
            });
        if let Some((held, holder)) = holder {
            return Err(Refusal::new(
                RefusalCode::GiaiOverlap,
                format!("company prefix {prefix} overlaps {held}, held by {holder}"),
            ));
        }
        identifiers.push(Allocation { prefix: prefix.clone(), range: None, next: FIRST_OWN_SERIAL, since });
    }
    Ok(())
}

/// Refuses a genesis whose consortium prefixes overlap one another.
pub(super) fn check_consortium_prefixes(prefixes: &[CompanyPrefix]) -> Result<(), Refusal> {
    for (index, prefix) in prefixes.iter().enumerate() {
        if let Some(other) = prefixes[index + 1..].iter().find(|other| overlap(other, prefix)) {
            return Err(Refusal::new(
                RefusalCode::GiaiOverlap,
                format!("the consortium's company prefixes {prefix} and {other} overlap"),
            ));
        }
    }
    Ok(())
}

/// Whether two company prefixes overlap: one is the beginning of the other, so some GIAIs would
/// lie under both.
fn overlap(one: &CompanyPrefix, other: &CompanyPrefix) -> bool {
    one.as_str().starts_with(other.as_str()) || other.as_str().starts_with(one.as_str())
}

/// The refusal of a GIAI that is taken: reserved for someone, or registered.
pub(super) fn exists(item: &ItemState) -> Refusal {
    if item.status == ItemStatus::Reserved {
        Refusal::new(
            RefusalCode::GiaiReserved,
            format!("{} is reserved for {} (record {})", item.giai, item.custodian, item.registered),
        )
    } else {
        Refusal::new(RefusalCode::ItemExists, format!("{} is already registered", item.giai))
    }
}

fn spelled(prefixes: &[CompanyPrefix]) -> String {
    if prefixes.is_empty() {
        return "none".to_owned();
    }
    prefixes.iter().map(CompanyPrefix::as_str).collect::<Vec<_>>().join(", ")
}

/// The first few of a member's allocations, in words: a refusal quotes a bounded part.
fn describe(identifiers: &[Allocation]) -> String {
    const QUOTED: usize = 5;
    let more = identifiers.len().saturating_sub(QUOTED);
    let listed = identifiers
        .iter()
        .take(QUOTED)
        .map(|held| match held.range {
            None => format!("prefix {}", held.prefix),
            Some(range) => format!("{}{} to {}{}", held.prefix, range.first, held.prefix, range.last),
        })
        .collect::<Vec<_>>()
        .join(", ");
    if more > 0 { format!("{listed} and {more} more") } else { listed }
}
