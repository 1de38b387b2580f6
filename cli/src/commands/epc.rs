//! `salvage epc encode|decode`: EPC tag encodings for RFID, per the GS1 EPC Tag Data Standard.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;

use salvage_ledger::ident::TagEncoding;
use salvage_ledger::ident::digital_link::{DigitalLink, Resolver};
use salvage_ledger::ident::element::ElementString;

/// Encode a tag URI to the hex EPC, or decode a hex EPC.
#[derive(Debug, Args)]
pub struct EpcCommand {
    #[command(subcommand)]
    action: EpcAction,
}

#[derive(Debug, Subcommand)]
enum EpcAction {
    /// Print the hex EPC of a tag URI such as urn:epc:tag:giai-96:3.0614141.5678.
    Encode {
        /// The EPC tag URI.
        tag_uri: String,
        /// Print a JSON object with every representation instead.
        #[arg(long)]
        json: bool,
    },
    /// Print the tag URI (first line) and the pure identity URI of a hex EPC.
    Decode {
        /// The EPC in hex (24 digits for 96-bit schemes, 52 for GIAI-202).
        hex: String,
        /// Print a JSON object with every representation instead.
        #[arg(long)]
        json: bool,
    },
}

impl EpcCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let (tag, json) = match self.action {
            EpcAction::Encode { tag_uri, json } => {
                let tag = TagEncoding::from_tag_uri(&tag_uri).with_context(|| format!("tag URI {tag_uri:?}"))?;
                if !json {
                    say!("{}", tag.to_hex());
                    return Ok(());
                }
                (tag, json)
            }
            EpcAction::Decode { hex, json } => {
                let tag = TagEncoding::from_hex(&hex).with_context(|| format!("EPC {hex:?}"))?;
                if !json {
                    say!("{}", tag.to_tag_uri());
                    say!("{}", tag.to_pure_uri());
                    return Ok(());
                }
                (tag, json)
            }
        };
        debug_assert!(json);
        say!("{}", serde_json::to_string_pretty(&describe(&tag)?)?);
        Ok(())
    }
}

/// Every representation of a tag: hex, tag URI, pure identity URI, and the GS1
/// element string and Digital Link URI of its GS1 key.
fn describe(tag: &TagEncoding) -> Result<serde_json::Value> {
    let elements = ElementString::from_pairs(tag.to_ai_pairs()).context("the EPC's GS1 key")?;
    let digital_link = DigitalLink::from_element_string(&elements, &Resolver::gs1()).map(|link| link.to_string()).ok();
    Ok(json!({
        "hex": tag.to_hex(),
        "tag_uri": tag.to_tag_uri(),
        "pure_uri": tag.to_pure_uri(),
        "element_string": elements.to_string(),
        "digital_link": digital_link,
    }))
}
