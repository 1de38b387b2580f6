//! The words of the export: the JSON-LD contexts and the CBV 2.0 business
//! steps and dispositions the mapping uses.
//!
//! EPCIS 2.0 JSON writes standard vocabulary as bare words (`shipping`, not
//! `urn:epcglobal:cbv:bizstep:shipping` or `https://ref.gs1.org/cbv/BizStep-shipping`);
//! the GS1 context expands them. Only the words below ever appear, so they are
//! enums rather than strings a typo could slip into.

use serde_json::{Value, json};

/// The GS1 EPCIS 2.0 JSON-LD context, as GS1 publishes it among the standard's artefacts.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld";

/// The namespace of Salvage's extension fields, written with the prefix `salvage:`.
pub const SALVAGE_NAMESPACE: &str = "https://salvage.example/ns/epcis#";

/// The media type of an EPCIS 2.0 document in JSON-LD.
pub const MEDIA_TYPE: &str = "application/ld+json";

/// The `schemaVersion` of the documents: EPCIS 2.0.
pub(super) const SCHEMA_VERSION: &str = "2.0";

/// The `@context` of every document: the GS1 context, then the Salvage prefix.
///
/// Passports, passport maps, statement details and audit conclusions are
/// JSON-LD 1.1 JSON literals (`@type: @json`): their inner keys are Salvage's
/// own field names, not terms, and a JSON-LD processor keeps them as one value
/// instead of dropping keys it cannot expand. Member and record references are IRIs.
pub(super) fn context() -> Value {
    json!([
        EPCIS_CONTEXT,
        {
            "salvage": SALVAGE_NAMESPACE,
            "salvage:passport": {"@type": "@json"},
            "salvage:passports": {"@type": "@json"},
            "salvage:details": {"@type": "@json"},
            "salvage:auditConclusion": {"@type": "@json"},
            "salvage:signers": {"@type": "@id"},
            "salvage:voids": {"@type": "@id"},
        }
    ])
}

/// The CBV 2.0 business steps the export uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BizStep {
    /// An item is registered, or parts come out of a split.
    Commissioning,
    /// Custody is offered to another member.
    Shipping,
    /// The recipient accepts custody.
    Receiving,
    /// The sender withdraws its offer.
    VoidShipping,
    /// A certifier attests the item, or concludes an audit of its custody chain.
    Inspecting,
    /// The item is built into a building.
    Installing,
    /// The item is taken out of a building again.
    Removing,
    /// The item leaves the reuse chain for recycling or landfill.
    Decommissioning,
    /// The item is destroyed by incineration or hazardous-waste treatment.
    Destroying,
}

impl BizStep {
    /// The bare CBV word.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            BizStep::Commissioning => "commissioning",
            BizStep::Shipping => "shipping",
            BizStep::Receiving => "receiving",
            BizStep::VoidShipping => "void_shipping",
            BizStep::Inspecting => "inspecting",
            BizStep::Installing => "installing",
            BizStep::Removing => "removing",
            BizStep::Decommissioning => "decommissioning",
            BizStep::Destroying => "destroying",
        }
    }
}

/// The CBV 2.0 dispositions the export uses: the item's business state after the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Disposition {
    /// In circulation: registered, held by a custodian, installed, or back from a transfer.
    Active,
    /// Offered to another member and not yet received.
    InTransit,
    /// Attested with the result `pass`.
    Conformant,
    /// Attested with the result `fail`.
    NonConformant,
    /// Handed over for recycling or landfill.
    Disposed,
    /// Incinerated or treated as hazardous waste.
    Destroyed,
}

impl Disposition {
    /// The bare CBV word.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Disposition::Active => "active",
            Disposition::InTransit => "in_transit",
            Disposition::Conformant => "conformant",
            Disposition::NonConformant => "non_conformant",
            Disposition::Disposed => "disposed",
            Disposition::Destroyed => "destroyed",
        }
    }
}
