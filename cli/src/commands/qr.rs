//! `salvage qr`: the QR code of an item's Digital Link URI, as PNG or SVG.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

use salvage_ledger::ident::Giai;
use salvage_ledger::ident::digital_link::{DigitalLink, Resolver};
use salvage_node::qr::QrCode;

use super::dl::resolver_base;
use super::write_file;

/// Write the QR code of a Digital Link URI, or of an item's GIAI, to a PNG or SVG file.
#[derive(Debug, Args)]
pub struct QrCommand {
    /// A GS1 Digital Link URI, or a GIAI (then the URI is built with --resolver or --node).
    target: String,
    /// The output file; its extension (.png or .svg) chooses the format.
    #[arg(long)]
    out: PathBuf,
    /// The consortium's resolver, used when TARGET is a GIAI [default: with
    /// --node, the node's public URL; without it, none: give one or the other].
    #[arg(long, env = "SALVAGE_RESOLVER")]
    resolver: Option<String>,
    /// A node whose public URL (its `/.well-known/gs1resolver`) is the resolver.
    #[arg(long, env = "SALVAGE_NODE")]
    node: Option<String>,
    /// The size of one QR module in pixels (PNG) or user units (SVG).
    #[arg(long, default_value_t = 8)]
    module: u32,
}

impl QrCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let uri = if self.target.contains("://") {
            digital_link_of(&self.target, &Resolver::gs1())?
        } else {
            // Checked before the node is asked, so that a typo is told as such.
            Giai::parse(&self.target)
                .with_context(|| format!("{:?} is neither a Digital Link URI nor a GIAI", self.target))?;
            let base = resolver_base(self.resolver.as_deref(), self.node.as_deref(), "--resolver")?;
            digital_link_of(&self.target, &base.resolver)?
        };
        let code = QrCode::encode(&uri).with_context(|| format!("QR code of {uri}"))?;
        let bytes = match extension(&self.out).as_deref() {
            Some("png") => code.to_png(self.module)?,
            Some("svg") => code.to_svg(self.module)?.into_bytes(),
            _ => bail!("{}: the output file must end in .png or .svg", self.out.display()),
        };
        write_file(&self.out, &bytes)?;
        say!("{uri}");
        Ok(())
    }
}

/// The Digital Link URI of a target that is either a URI (kept as it is,
/// whatever its resolver) or a GIAI (under `resolver`).
pub fn digital_link_of(target: &str, resolver: &Resolver) -> Result<String> {
    if target.contains("://") {
        let link = DigitalLink::parse(target).with_context(|| format!("Digital Link {target:?}"))?;
        return Ok(link.to_string());
    }
    let giai = Giai::parse(target).with_context(|| format!("{target:?} is neither a Digital Link URI nor a GIAI"))?;
    Ok(DigitalLink::for_giai(&resolver.to_string(), &giai)?.to_string())
}

/// The lowercase extension of a path.
pub fn extension(path: &std::path::Path) -> Option<String> {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase)
}
