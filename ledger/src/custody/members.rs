//! Membership rules: the genesis, adding members, roles, key rotation and revocation.

use std::collections::{BTreeMap, BTreeSet};

use super::bodies::{Body, MemberBody, MemberUpdateBody};
use super::identifiers;
use super::{
    Change, Consortium, Context, Element, KeyState, Member, MemberId, Role, State, StateLattice, VerifiedEntry,
};
use crate::chain::Seq;
use crate::entry::{Kind, LedgerId, PublicKey, SignedEntry};
use crate::refusal::{Refusal, RefusalCode};

/// Builds the state a genesis founds, checking every genesis rule.
pub(super) fn found(genesis: &SignedEntry) -> Result<State, Refusal> {
    let invalid = |message: String| Refusal::new(RefusalCode::LedgerGenesisInvalid, message);
    let statement = genesis.statement();
    if statement.kind != Kind::Genesis {
        return Err(invalid(format!("record 0 must be a ledger.genesis, not {}", statement.kind)));
    }
    if statement.ledger.is_some() {
        return Err(invalid("a genesis names no ledger: its own hash is the ledger id".to_owned()));
    }
    let verified = VerifiedEntry::verify(genesis.clone())?;
    let Body::Genesis(body) = verified.body() else {
        return Err(invalid("the genesis body does not decode as a genesis".to_owned()));
    };

    let mut state = State {
        consortium: Consortium {
            ledger_id: LedgerId(genesis.id().0),
            name: body.consortium.name.clone(),
            admin_threshold: body.admin_threshold,
            format: body.format,
            company_prefixes: body.consortium.company_prefixes.clone(),
            giai_allocation: body.giai_allocation,
            rules: body.rules,
        },
        members: BTreeMap::new(),
        key_owners: BTreeMap::new(),
        items: BTreeMap::new(),
        item_count: 0,
        holds_every_item: true,
        lattice: StateLattice::new(),
    };
    identifiers::check_consortium_prefixes(&state.consortium.company_prefixes)?;
    state.lattice.add(&Element::Consortium(&state.consortium));
    for founder in &body.members {
        if state.members.contains_key(&founder.id) {
            return Err(Refusal::new(
                RefusalCode::MemberExists,
                format!("founding member {} is listed twice", founder.id),
            ));
        }
        let member = new_member(&state, founder, Seq::GENESIS)?;
        state.apply(Change { members: vec![member], items: vec![] });
    }
    let admins = active_admins(state.members.values());
    if body.admin_threshold == 0 || body.admin_threshold > admins {
        return Err(invalid(format!(
            "admin threshold {} must be between 1 and the {admins} founding admin(s)",
            body.admin_threshold
        )));
    }
    // The founders agree to the consortium: enough founding admins sign the genesis.
    let signers = state.signers(genesis)?;
    let signed = state.admin_signers(&signers);
    if signed < body.admin_threshold {
        return Err(Refusal::new(
            RefusalCode::AdminThresholdNotMet,
            format!("the genesis is signed by {signed} founding admin(s); the threshold is {}", body.admin_threshold),
        ));
    }
    Ok(state)
}

/// `member.add`: admins up to the threshold add a new member.
pub(super) fn add(
    state: &State,
    signers: &BTreeSet<MemberId>,
    body: &MemberBody,
    context: &Context,
) -> Result<Change, Refusal> {
    require_admins(state, signers, "add a member")?;
    if state.members.contains_key(&body.id) {
        return Err(Refusal::new(RefusalCode::MemberExists, format!("member {} already exists", body.id)));
    }
    Ok(Change { members: vec![new_member(state, body, context.seq)?], items: vec![] })
}

/// `member.update`: admins change roles; a member itself, or admins, change its name and keys.
pub(super) fn update(
    state: &State,
    signers: &BTreeSet<MemberId>,
    body: &MemberUpdateBody,
    context: &Context,
) -> Result<Change, Refusal> {
    let current = state
        .members
        .get(&body.id)
        .ok_or_else(|| Refusal::new(RefusalCode::MemberUnknown, format!("no member has id {}", body.id)))?;
    let by_admins = state.admin_signers(signers) >= state.consortium.admin_threshold;
    let by_itself = signers.len() == 1 && signers.contains(&body.id);
    if body.roles.is_some() && !by_admins {
        require_admins(state, signers, "change a member's roles")?;
    }
    if body.add_company_prefixes.is_some() && !by_admins {
        require_admins(state, signers, "give a member company prefixes")?;
    }
    if !by_admins && !by_itself {
        if state.admin_signers(signers) > 0 {
            require_admins(state, signers, "change another member")?;
        }
        return Err(Refusal::new(
            RefusalCode::MemberNotAuthorised,
            format!("only member {} itself or {} admin(s) may change it", body.id, state.consortium.admin_threshold),
        ));
    }

    let mut member = current.clone();
    if let Some(name) = &body.name {
        member.name = name.clone();
    }
    if let Some(roles) = &body.roles {
        member.roles = roles.iter().copied().collect();
    }
    for text in body.revoke_keys.iter().flatten() {
        let key = PublicKey::from_hex(text)?;
        let key_state = member.keys.get_mut(&key).ok_or_else(|| {
            Refusal::new(RefusalCode::KeyUnknown, format!("key {key} does not belong to member {}", body.id))
        })?;
        if let Some(revoked) = key_state.revoked {
            return Err(Refusal::new(
                RefusalCode::KeyRevoked,
                format!("key {key} was already revoked at record {revoked}"),
            ));
        }
        key_state.revoked = Some(context.seq);
    }
    identifiers::add_prefixes(
        state,
        &member.id,
        &mut member.identifiers,
        body.add_company_prefixes.as_deref().unwrap_or_default(),
        context.seq,
    )?;
    for key in admissible_keys(state, body.add_keys.iter().flatten())? {
        member.keys.insert(key, KeyState { added: context.seq, revoked: None });
    }
    if member.active_keys().next().is_none() {
        return Err(Refusal::new(
            RefusalCode::MemberLastKey,
            format!("member {} would be left without an active key; add a new key in the same update", body.id),
        ));
    }

    // Admins as they would be after the change, counted without copying the state.
    let others = state.members.values().filter(|other| other.id != member.id);
    let admins = active_admins(others.chain([&member]));
    if admins < state.consortium.admin_threshold {
        return Err(Refusal::new(
            RefusalCode::MemberThresholdUnreachable,
            format!(
                "after this change only {admins} admin(s) could sign, below the threshold of {}",
                state.consortium.admin_threshold
            ),
        ));
    }
    Ok(Change { members: vec![member], items: vec![] })
}

fn new_member(state: &State, body: &MemberBody, since: Seq) -> Result<Member, Refusal> {
    let keys = admissible_keys(state, body.keys.iter())?
        .into_iter()
        .map(|key| (key, KeyState { added: since, revoked: None }))
        .collect();
    Ok(Member {
        id: body.id.clone(),
        name: body.name.clone(),
        roles: body.roles.iter().copied().collect(),
        keys,
        since,
        identifiers: identifiers::own_prefixes(state, body, since)?,
    })
}

/// Parses keys that are to join a member: valid, not weak, not anyone's already,
/// and not repeated.
fn admissible_keys<'a>(state: &State, texts: impl Iterator<Item = &'a String>) -> Result<Vec<PublicKey>, Refusal> {
    let mut keys = Vec::new();
    for text in texts {
        let key = PublicKey::parse_for_membership(text)?;
        if let Some(owner) = state.key_owners.get(&key) {
            return Err(Refusal::new(RefusalCode::KeyInUse, format!("key {key} already belongs to member {owner}")));
        }
        if keys.contains(&key) {
            return Err(Refusal::new(RefusalCode::KeyInUse, format!("key {key} is listed twice")));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// Refuses unless at least the admin threshold of distinct admin members are
/// among the signers; `action` says what they were trying to do.
pub(super) fn require_admins(state: &State, signers: &BTreeSet<MemberId>, action: &str) -> Result<(), Refusal> {
    let signed = state.admin_signers(signers);
    if signed < state.consortium.admin_threshold {
        return Err(Refusal::new(
            RefusalCode::AdminThresholdNotMet,
            format!("to {action}, {} admin member(s) must sign; {signed} did", state.consortium.admin_threshold),
        ));
    }
    Ok(())
}

/// Admin members that still have a key to sign with.
/// How many of the members are admins with an active key.
fn active_admins<'a>(members: impl Iterator<Item = &'a Member>) -> u64 {
    members.filter(|m| m.has_role(Role::Admin) && m.active_keys().next().is_some()).count() as u64
}
