//! What a statement does: the closed list of statement kinds and their wire names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::refusal::{Refusal, RefusalCode};

macro_rules! kinds {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:literal, )*) => {
        /// What a statement does. See `docs/rules.md` for the rules of each kind.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Kind {
            /// Every kind.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The kind as written on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(Kind::$variant => $name,)* }
            }
        }

        impl FromStr for Kind {
            type Err = Refusal;
            fn from_str(text: &str) -> Result<Self, Refusal> {
                match text {
                    $($name => Ok(Kind::$variant),)*
                    _ => Err(Refusal::new(RefusalCode::EntryMalformed, format!("unknown statement kind {text:?}"))),
                }
            }
        }
    };
}

kinds! {
    /// Record 0: the consortium, its founding members and the admin threshold.
    Genesis => "ledger.genesis",
    /// Admins add a member.
    MemberAdd => "member.add",
    /// Admins change a member's roles; a member or admins change its name and keys.
    MemberUpdate => "member.update",
    /// Admins let an operator run a consortium node at a URL; the nodes add it to
    /// their replication group.
    NodeAdd => "node.add",
    /// Admins take a member's node out of the consortium; the nodes drop it from
    /// their replication group.
    NodeRemove => "node.remove",
    /// Admins, or a member with the `issuer` role, allocate a range of serials under one
    /// of the consortium's GS1 company prefixes to a member.
    GiaiAllocate => "giai.allocate",
    /// A member reserves the next GIAIs of its prefix or range, to tag items before
    /// registering them.
    GiaiReserve => "giai.reserve",
    /// A contractor registers an item with its passport and becomes its custodian.
    ItemRegister => "item.register",
    /// The custodian publishes a new passport version.
    ItemAmend => "item.amend",
    /// The custodian offers custody to another member.
    ItemTransfer => "item.transfer",
    /// The recipient accepts a pending transfer; custody moves.
    ItemReceive => "item.receive",
    /// The custodian withdraws a pending transfer.
    ItemCancel => "item.cancel",
    /// A certifier attests inspection or certification results for a passport version.
    ItemAttest => "item.attest",
    /// The certifier that made an attestation withdraws it, with a reason.
    ItemAttestWithdraw => "item.attest_withdraw",
    /// The custodian splits an item into parts that weigh no more than it.
    ItemSplit => "item.split",
    /// The custodian records that the item is reused in a building.
    ItemInstall => "item.install",
    /// The custodian records that the item was taken out of a building again.
    ItemDismantle => "item.dismantle",
    /// The custodian records recycling or disposal; the item never changes again.
    ItemDispose => "item.dispose",
    /// A certifier concludes a custody audit of items at a checkpoint (docs/format.md §18).
    AuditConclusion => "audit.conclusion",
}

impl Kind {
    /// Whether the kind acts on an item (its body names a `giai`).
    pub fn is_item_kind(self) -> bool {
        self.as_str().starts_with("item.")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Kind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(|r: Refusal| serde::de::Error::custom(r.message))
    }
}
