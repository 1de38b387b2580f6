//! `salvage dl parse|build`: GS1 Digital Link URIs and element strings.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

use salvage_ledger::ident::digital_link::{DigitalLink, Resolver};
use salvage_ledger::ident::element::ElementString;

/// Convert between GS1 Digital Link URIs and GS1 element strings.
#[derive(Debug, Args)]
pub struct DlCommand {
    #[command(subcommand)]
    action: DlAction,
}

#[derive(Debug, Subcommand)]
enum DlAction {
    /// Print the element string of a Digital Link URI, e.g. (8004)4750001BEAM-0001.
    Parse {
        /// The Digital Link URI.
        uri: String,
    },
    /// Print the Digital Link URI of an element string such as (01)09520123456788(21)12345.
    Build {
        /// The element string, AIs in parentheses.
        element_string: String,
        /// The resolver: a domain (id.gs1.org) or a base URL with an optional path stem.
        #[arg(long, default_value = "id.gs1.org")]
        domain: String,
    },
}

impl DlCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        match self.action {
            DlAction::Parse { uri } => {
                let link = DigitalLink::parse(&uri).with_context(|| format!("Digital Link {uri:?}"))?;
                say!("{}", link.element_string());
            }
            DlAction::Build { element_string, domain } => {
                let elements: ElementString =
                    element_string.parse().with_context(|| format!("element string {element_string:?}"))?;
                let resolver = resolver(&domain)?;
                let link = DigitalLink::from_element_string(&elements, &resolver)
                    .with_context(|| format!("element string {element_string:?}"))?;
                say!("{link}");
            }
        }
        Ok(())
    }
}

/// A resolver from a bare domain (`https://` is implied) or a full base URL.
pub fn resolver(domain: &str) -> Result<Resolver> {
    let base = if domain.contains("://") { domain.to_owned() } else { format!("https://{domain}") };
    Resolver::parse(&base).with_context(|| format!("resolver {domain:?}"))
}
