//! The ids of entries and ledgers: blake3 hashes of canonical statements, written as lowercase
//! hex on the wire.

use crate::digest::hash_newtype;

hash_newtype! {
    /// The id of an entry: blake3 of the canonical bytes of its statement.
    EntryId
}

hash_newtype! {
    /// The id of a ledger: blake3 of the canonical bytes of its genesis statement.
    LedgerId
}
