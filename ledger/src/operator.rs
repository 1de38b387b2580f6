//! The operator a node runs for: a member with the `operator` role, and one of
//! its active keys, which signs the node's checkpoints and its requests to the
//! consortium's other nodes.
//!
//! An [`Operator`] can only be had by [`Operator::identify`]ing a key against
//! the consortium's members, so holding one means the check was made.

use std::fmt;
use std::path::PathBuf;

use ed25519_dalek::SigningKey;

use crate::checkpoint::NoteSigner;
use crate::custody::{Member, MemberId, Role};
use crate::genesis::Genesis;
use crate::key::{KeyFile, PublicKey};

/// The member a node runs for and the key it signs with.
pub struct Operator {
    member: MemberId,
    key: SigningKey,
}

/// Why a key may not run a node.
#[non_exhaustive]
#[derive(Debug)]
pub struct NotAnOperator {
    /// The key's file, when it was read from one.
    pub key_file: Option<PathBuf>,
    /// The key's public half (boxed: a decoded point is large, and errors travel far).
    pub key: Box<PublicKey>,
    /// What the consortium's members say of the key.
    pub why: Why,
}

/// What the consortium's members say of a key that is no operator's.
#[non_exhaustive]
#[derive(Debug)]
pub enum Why {
    /// The key belongs to no member of the consortium.
    NoMember {
        /// The consortium's name.
        consortium: String,
    },
    /// The key belonged to a member but was revoked.
    Revoked {
        /// The member it belonged to.
        member: MemberId,
    },
    /// The key's member lacks the `operator` role.
    NoRole {
        /// The member it belongs to.
        member: MemberId,
        /// The consortium's name.
        consortium: String,
        /// The members that are operators.
        operators: Vec<MemberId>,
    },
}

impl Operator {
    /// Finds the member `key` belongs to and checks that it may run a node:
    /// the key is one of its active keys and it has the `operator` role.
    ///
    /// `members` are the consortium's members now: [`Ledger::members`] once the
    /// ledger is open (keys may have been rotated and roles changed since the
    /// genesis), or [`Genesis::founders`] to check before opening it.
    ///
    /// [`Ledger::members`]: crate::Ledger::members
    pub fn identify<'a>(
        key: SigningKey,
        genesis: &Genesis,
        members: impl IntoIterator<Item = &'a Member>,
    ) -> Result<Operator, NotAnOperator> {
        Operator::identify_key(key, None, genesis, members)
    }

    /// [`Operator::identify`] for the key of a key file, whose path the refusal names.
    pub fn identify_file<'a>(
        file: KeyFile,
        genesis: &Genesis,
        members: impl IntoIterator<Item = &'a Member>,
    ) -> Result<Operator, NotAnOperator> {
        let path = file.path().to_owned();
        Operator::identify_key(file.into_signing_key(), Some(path), genesis, members)
    }

    fn identify_key<'a>(
        key: SigningKey,
        key_file: Option<PathBuf>,
        genesis: &Genesis,
        members: impl IntoIterator<Item = &'a Member>,
    ) -> Result<Operator, NotAnOperator> {
        let public_key = PublicKey::of(&key);
        let refuse = |why| NotAnOperator { key_file: key_file.clone(), key: Box::new(public_key), why };
        let members: Vec<&Member> = members.into_iter().collect();
        let Some(member) = members.iter().find(|member| member.keys.contains_key(&public_key)) else {
            return Err(refuse(Why::NoMember { consortium: genesis.consortium().to_owned() }));
        };
        if !member.active_keys().any(|active| *active == public_key) {
            return Err(refuse(Why::Revoked { member: member.id.clone() }));
        }
        if !member.has_role(Role::Operator) {
            return Err(refuse(Why::NoRole {
                member: member.id.clone(),
                consortium: genesis.consortium().to_owned(),
                operators: members.iter().filter(|m| m.has_role(Role::Operator)).map(|m| m.id.clone()).collect(),
            }));
        }
        Ok(Operator { member: member.id.clone(), key })
    }

    /// The operator member.
    pub fn member(&self) -> &MemberId {
        &self.member
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The public half of the signing key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::of(&self.key)
    }

    /// The signer of checkpoint notes: the key name is the member id.
    pub fn note_signer(&self) -> NoteSigner<'_> {
        NoteSigner { name: self.member.as_str(), key: &self.key }
    }
}

impl fmt::Debug for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the private half, so that a debug log cannot leak it.
        f.debug_struct("Operator").field("member", &self.member).field("public_key", &self.public_key()).finish()
    }
}

impl fmt::Display for NotAnOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.key_file {
            Some(path) => write!(f, "key {} (ed25519 public key {})", path.display(), self.key)?,
            None => write!(f, "ed25519 public key {}", self.key)?,
        }
        match &self.why {
            Why::NoMember { consortium } => write!(f, " belongs to no member of consortium {consortium:?}"),
            Why::Revoked { member } => write!(f, " of member {member} was revoked; use one of its active keys"),
            Why::NoRole { member, consortium, operators } => {
                let operators: Vec<&str> = operators.iter().map(MemberId::as_str).collect();
                let operators = if operators.is_empty() { "none".to_owned() } else { operators.join(", ") };
                write!(
                    f,
                    " belongs to member {member}, which is not an operator of consortium {consortium:?} (operators: {operators})"
                )
            }
        }
    }
}

impl std::error::Error for NotAnOperator {}
