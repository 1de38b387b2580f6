//! `salvage key new|show`: a member's Ed25519 key files.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use salvage_ledger::entry::PublicKey;
use salvage_ledger::key::KeyFile;
use salvage_ledger::key::generate_signing_key;

/// Create or inspect a key file.
#[derive(Debug, Args)]
pub struct KeyCommand {
    #[command(subcommand)]
    action: KeyAction,
}

#[derive(Debug, Subcommand)]
enum KeyAction {
    /// Generate a new Ed25519 key as PKCS#8 PEM (mode 0600) and print its public key.
    New {
        /// The key file to create; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key of a key file.
    Show {
        /// The key file.
        file: PathBuf,
    },
}

/// Writes `key` as PKCS#8 PEM to a new file readable by its owner only
/// (mode 0600, synced); an existing file is never overwritten.
pub fn write_new_key(path: &Path, key: &SigningKey) -> Result<()> {
    let pem = key.to_pkcs8_pem(LineEnding::LF).context("encoding the key as PKCS#8")?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (an existing key is never overwritten)", path.display()))?;
    file.write_all(pem.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

impl KeyCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        match self.action {
            KeyAction::New { out } => {
                let key = generate_signing_key().context("the operating system gave no randomness for a key")?;
                write_new_key(&out, &key)?;
                say!("{}", PublicKey::of(&key).to_hex());
            }
            KeyAction::Show { file } => say!("{}", KeyFile::read(&file)?.public_key().to_hex()),
        }
        Ok(())
    }
}
