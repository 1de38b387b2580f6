//! Refusals: why the ledger declined an entry, with a stable machine-readable code.
//!
//! Every rule the ledger enforces refuses with one [`RefusalCode`]. Codes are part
//! of the public contract (clients, the HTTP API and auditors match on them) and
//! are listed with their rules in `docs/rules.md`; a code is never renamed or
//! reused for another rule. A refused entry changes nothing.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One reason an entry was refused, for a client or an auditor to act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The stable code of the rule that was broken.
    pub code: RefusalCode,
    /// A human explanation: what is wrong, where, and why.
    pub message: String,
    /// Further detail, such as every schema violation with its JSON pointer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<RefusalDetail>,
}

/// A located detail of a refusal, such as one schema violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalDetail {
    /// JSON pointer into the submitted signed entry.
    pub pointer: String,
    /// What is wrong at that place.
    pub message: String,
}

impl Refusal {
    /// A refusal with a code and a message and no further detail.
    pub fn new(code: RefusalCode, message: impl Into<String>) -> Self {
        Refusal { code, message: message.into(), details: Vec::new() }
    }

    /// The same refusal with located details attached.
    pub fn with_details(mut self, details: Vec<RefusalDetail>) -> Self {
        self.details = details;
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        for detail in &self.details {
            write!(f, "; at {}: {}", detail.pointer, detail.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

macro_rules! refusal_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident => $code:literal, )*) => {
        /// The stable code of a ledger rule. See `docs/rules.md` for each rule.
        #[non_exhaustive]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RefusalCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl RefusalCode {
            /// Every code, in the order of `docs/rules.md`.
            pub const ALL: &'static [RefusalCode] = &[$(RefusalCode::$variant,)*];

            /// The code as written on the wire, e.g. `custody.not_custodian`.
            pub fn as_str(self) -> &'static str {
                match self { $(RefusalCode::$variant => $code,)* }
            }
        }
    };
}

refusal_codes! {
    /// The submission is not well-formed JSON.
    JsonMalformed => "json.malformed",
    /// An object in the submission repeats a key.
    JsonDuplicateKey => "json.duplicate_key",
    /// A number in the submission lies outside ±(2^53−1).
    JsonNumberOutOfRange => "json.number_out_of_range",
    /// The JSON does not have the shape of a signed entry or record.
    EntryMalformed => "entry.malformed",
    /// The statement is already recorded, signed by other keys.
    EntryConflict => "entry.conflict",
    /// The entry's record would be larger than a record may be (16 MiB).
    EntryTooLarge => "entry.too_large",
    /// A field's value breaks the kind's JSON Schema.
    SchemaInvalid => "schema.invalid",
    /// The entry carries no signature.
    SignatureMissing => "signature.missing",
    /// The entry carries more signatures than the ledger accepts.
    SignatureTooMany => "signature.too_many",
    /// The same key signed the entry twice.
    SignatureDuplicate => "signature.duplicate",
    /// A signature does not verify (Ed25519 `verify_strict`).
    SignatureInvalid => "signature.invalid",
    /// Not checked: too many of the same submission's signatures did not
    /// verify before it (a node's bound on the work one submission costs).
    SignatureUnchecked => "signature.unchecked",
    /// A signing key belongs to no member.
    SignatureUnknownKey => "signature.unknown_key",
    /// A signing key has been revoked.
    SignatureKeyRevoked => "signature.key_revoked",
    /// An item entry is signed by more than one member.
    SignatureMultipleMembers => "signature.multiple_members",
    /// A disclosure is not `[salt, pointer, value]` as format 2 spells it.
    DisclosureMalformed => "disclosure.malformed",
    /// A restricted place has no disclosure.
    DisclosureMissing => "disclosure.missing",
    /// A disclosure is for no restricted place, a second one for a place, or
    /// sent to a ledger that records restricted values in the clear.
    DisclosureUnexpected => "disclosure.unexpected",
    /// A disclosure's digest is not listed in the body, or the body has no
    /// place for its value.
    DisclosureMismatch => "disclosure.mismatch",
    /// The signed body shows a value at a restricted place.
    DisclosureInClear => "disclosure.in_clear",
    /// The statement names another ledger, or none.
    LedgerMismatch => "ledger.mismatch",
    /// A second genesis, or a genesis that is not record 0.
    LedgerGenesisMisplaced => "ledger.genesis_misplaced",
    /// The genesis itself breaks a rule.
    LedgerGenesisInvalid => "ledger.genesis_invalid",
    /// The statement time is not RFC 3339 UTC or lies too far in the future.
    TimeInvalid => "time.invalid",
    /// The signer lacks the role the kind requires.
    RoleMissing => "role.missing",
    /// Fewer admin members signed than the admin threshold requires.
    AdminThresholdNotMet => "admin.threshold_not_met",
    /// A member with that id already exists.
    MemberExists => "member.exists",
    /// No member has that id.
    MemberUnknown => "member.unknown",
    /// The change would leave a member without an active key.
    MemberLastKey => "member.last_key",
    /// The change would leave fewer admins with active keys than the threshold.
    MemberThresholdUnreachable => "member.threshold_unreachable",
    /// A member may change only its own name and keys without admins.
    MemberNotAuthorised => "member.not_authorised",
    /// A public key is not a valid Ed25519 point.
    KeyInvalid => "key.invalid",
    /// A key to become a member's is not the canonical encoding of its point.
    KeyNonCanonical => "key.non_canonical",
    /// A public key is of small order (weak) and is refused.
    KeyWeak => "key.weak",
    /// A public key is already registered to a member.
    KeyInUse => "key.in_use",
    /// A key to revoke does not belong to the member.
    KeyUnknown => "key.unknown",
    /// A key to revoke is already revoked.
    KeyRevoked => "key.revoked",
    /// The GIAI lies outside every company prefix and serial range the signer holds.
    GiaiNotAllocated => "giai.not_allocated",
    /// A company prefix or serial range overlaps one already held.
    GiaiOverlap => "giai.overlap",
    /// The GIAI is reserved for another member.
    GiaiReserved => "giai.reserved",
    /// A reservation starts before the next free serial of the signer's prefix or range.
    GiaiIssued => "giai.issued",
    /// The item is reserved, not yet registered.
    ItemReserved => "item.reserved",
    /// An item with that GIAI is already registered.
    ItemExists => "item.exists",
    /// No item with that GIAI is registered.
    ItemUnknown => "item.unknown",
    /// The item is split or disposed; it never changes again.
    ItemTerminal => "item.terminal",
    /// The item is installed in a building; dismantle it first.
    ItemInstalled => "item.installed",
    /// The item is not installed, so it cannot be dismantled.
    ItemNotInstalled => "item.not_installed",
    /// The passport's GIAI differs from the item's.
    PassportGiaiMismatch => "passport.giai_mismatch",
    /// The signer's member is not the item's custodian.
    CustodyNotCustodian => "custody.not_custodian",
    /// A transfer of the item is pending; receive or cancel it first.
    CustodyTransferPending => "custody.transfer_pending",
    /// No transfer of the item is pending.
    CustodyNoPendingTransfer => "custody.no_pending_transfer",
    /// The signer's member is not the recipient of the pending transfer.
    CustodyNotRecipient => "custody.not_recipient",
    /// The custodian offered the item to itself.
    CustodySelfTransfer => "custody.self_transfer",
    /// The attestation names a passport version the item never had.
    AttestUnknownVersion => "attest.unknown_version",
    /// The attestation is recorded after its own last valid day (rules 2).
    AttestExpired => "attest.expired",
    /// The withdrawal names no attestation of the item.
    AttestUnknownAttestation => "attest.unknown_attestation",
    /// Only the certifier that made an attestation withdraws it.
    AttestNotIssuer => "attest.not_issuer",
    /// The attestation was withdrawn already.
    AttestAlreadyWithdrawn => "attest.already_withdrawn",
    /// Waste or asbestos is offered to a member that is no waste handler (rules 2).
    WasteRecipientNotHandler => "waste.recipient_not_handler",
    /// Waste or asbestos is installed (rules 2).
    WasteNotInstallable => "waste.not_installable",
    /// Hazardous waste is disposed of by a route that is not for hazardous waste (rules 2).
    WasteRouteNotHazardous => "waste.route_not_hazardous",
    /// An end-of-waste attestation of an item that holds asbestos (rules 2).
    WasteNeverReusable => "waste.never_reusable",
    /// An audit conclusion names a checkpoint of no records, or of more than precede it.
    AuditCheckpointAhead => "audit.checkpoint_ahead",
    /// An audit conclusion's checkpoint root is not the ledger's root at that size.
    AuditCheckpointMismatch => "audit.checkpoint_mismatch",
    /// An audit conclusion names an item that was not on the ledger at its checkpoint.
    AuditUnknownItem => "audit.unknown_item",
    /// An audit conclusion contradicts itself: an item twice, a flagged item it does not
    /// name, or a verdict or flags that do not fit its counts.
    AuditInconsistent => "audit.inconsistent",
    /// The parts of a split weigh more than the parent.
    SplitMassExceeded => "split.mass_exceeded",
    /// The parent or a part of a split has no mass in its passport.
    SplitMassUnknown => "split.mass_unknown",
    /// A split names the same part twice, or the parent as a part.
    SplitDuplicatePart => "split.duplicate_part",
    /// The entry names an attachment the node that took it does not hold.
    AttachmentMissing => "attachment.missing",
    /// The entry's reference to an attachment gives another media type or
    /// length than the file the node holds under that digest.
    AttachmentMismatch => "attachment.mismatch",
}

impl fmt::Display for RefusalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RefusalCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::str::FromStr for RefusalCode {
    type Err = UnknownRefusalCode;

    /// Reads a code as written on the wire, e.g. `custody.not_custodian`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RefusalCode::ALL
            .iter()
            .copied()
            .find(|code| code.as_str() == text)
            .ok_or_else(|| UnknownRefusalCode(text.to_owned()))
    }
}

impl<'de> Deserialize<'de> for RefusalCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A refusal code this version of the ledger does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown refusal code {0:?}")]
pub struct UnknownRefusalCode(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_dotted() {
        let mut seen = std::collections::BTreeSet::new();
        for code in RefusalCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate code {text}");
            assert!(text.contains('.') && text.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'));
        }
    }

    #[test]
    fn every_code_is_documented_in_rules_md() {
        let rules = include_str!("../../docs/rules.md");
        for code in RefusalCode::ALL {
            assert!(rules.contains(&format!("`{}`", code.as_str())), "{} missing from docs/rules.md", code);
        }
    }
}
