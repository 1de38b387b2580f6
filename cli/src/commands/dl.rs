//! `salvage dl parse|build`: GS1 Digital Link URIs and element strings, and
//! where the consortium's Digital Links point.
//!
//! A Digital Link printed on a label must lead to a resolver the consortium
//! controls, for as long as the label lives: its node's public URL, or a
//! resolver of its own. No command defaults to one it does not control (such
//! as GS1's `id.gs1.org`): the resolver is `--resolver` (or `--domain`), or,
//! with `--node`, the resolver root the node describes at
//! `/.well-known/gs1resolver` ([`node_resolver`]), else a refusal that says so.

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde_json::Value;

use salvage_ledger::ident::digital_link::{DigitalLink, Resolver};
use salvage_ledger::ident::element::ElementString;

use crate::client::{NodeClient, Refused};

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
        /// The resolver: a domain or a base URL with an optional path stem
        /// (`id.gs1.org` gives GS1's canonical form) [default: with --node, the
        /// node's public URL].
        #[arg(long, alias = "resolver", env = "SALVAGE_RESOLVER")]
        domain: Option<String>,
        /// A node whose public URL (its `/.well-known/gs1resolver`) is the resolver.
        #[arg(long, env = "SALVAGE_NODE")]
        node: Option<String>,
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
            DlAction::Build { element_string, domain, node } => {
                let elements: ElementString =
                    element_string.parse().with_context(|| format!("element string {element_string:?}"))?;
                let base = resolver_base(domain.as_deref(), node.as_deref(), "--domain")?;
                let link = DigitalLink::from_element_string(&elements, &base.resolver)
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

/// The resolver Digital Links point at, and what a node said about itself.
#[derive(Debug)]
pub struct ResolverBase {
    /// Where the links point.
    pub resolver: Resolver,
    /// The consortium's name from the node's resolver description, when a node gave one.
    pub consortium: Option<String>,
}

/// The resolver of `explicit` (a flag, `option` names it in messages) if given,
/// else the public URL of the node at `node` ([`node_resolver`]); without
/// either, a refusal: links on labels never point at a resolver the consortium
/// does not control.
pub fn resolver_base(explicit: Option<&str>, node: Option<&str>, option: &str) -> Result<ResolverBase> {
    if let Some(domain) = explicit {
        return Ok(ResolverBase { resolver: resolver(domain)?, consortium: None });
    }
    let Some(node) = node else {
        bail!(
            "no resolver for the Digital Link URIs: give --node URL (they then point at the node's public URL) \
             or {option} URL (the consortium's own resolver); none is assumed, since a label must lead to a \
             resolver the consortium controls"
        );
    };
    node_resolver(&NodeClient::new(node)?, node)
}

/// The resolver a node describes in `GET /.well-known/gs1resolver` (its
/// `resolverRoot`, the node's public URL), and the consortium's name there.
///
/// A node that does not serve the description (an older one) answers with
/// an error or something that is not one; then the links point at `node_url`
/// itself, which is said on stderr. A node that cannot be reached is an error.
pub fn node_resolver(client: &NodeClient, node_url: &str) -> Result<ResolverBase> {
    let node_url = node_url.trim_end_matches('/');
    let described = match client.get_bytes("/.well-known/gs1resolver", "application/json") {
        Ok(bytes) => serde_json::from_slice::<Value>(&bytes).ok(),
        Err(error) if error.downcast_ref::<Refused>().is_some() => None,
        Err(error) => return Err(error),
    };
    let root = described.as_ref().and_then(|description| description["resolverRoot"].as_str());
    let consortium = described.as_ref().and_then(|description| description["name"].as_str()).map(str::to_owned);
    match root {
        Some(root) => {
            let resolver = resolver(root).with_context(|| format!("the resolver root {node_url} describes"))?;
            Ok(ResolverBase { resolver, consortium })
        }
        None => {
            eprintln!(
                "salvage: note: {node_url} describes no resolver root (/.well-known/gs1resolver); the links point at {node_url} itself"
            );
            Ok(ResolverBase { resolver: resolver(node_url)?, consortium })
        }
    }
}

#[cfg(test)]
// Unwrapping is how a test states "this must succeed": a panic fails the test at that line.
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpListener;

    use super::*;

    /// A node that answers one request with `answer` (a whole HTTP/1.1 response); its URL.
    fn answering_once(answer: impl Into<String>) -> String {
        let answer = answer.into();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(answer.as_bytes());
        });
        url
    }

    #[test]
    fn the_resolver_is_the_root_the_node_describes() {
        let body =
            r#"{"name": "Zemgale Materials Reuse Consortium", "resolverRoot": "https://passports.jelgava.example"}"#;
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let url = answering_once(answer);
        let base = resolver_base(None, Some(&url), "--resolver").unwrap();
        assert_eq!(base.resolver.to_string(), "https://passports.jelgava.example");
        assert_eq!(base.consortium.as_deref(), Some("Zemgale Materials Reuse Consortium"));
    }

    #[test]
    fn a_node_without_a_description_is_its_own_resolver() {
        let url = answering_once("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let base = resolver_base(None, Some(&format!("{url}/")), "--resolver").unwrap();
        assert_eq!(base.resolver.to_string(), url);
        assert_eq!(base.consortium, None);
    }

    #[test]
    fn a_node_that_cannot_be_reached_is_an_error_and_no_resolver_is_assumed() {
        let url = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let error = resolver_base(None, Some(&url), "--resolver").unwrap_err();
        assert!(format!("{error:#}").contains("cannot reach"), "{error:#}");
        let error = resolver_base(None, None, "--domain").unwrap_err().to_string();
        assert!(error.contains("--node URL") && error.contains("--domain URL"), "{error}");
        // A resolver given is taken as it is, without asking the node.
        let base = resolver_base(Some("id.salvage.example"), Some(&url), "--resolver").unwrap();
        assert_eq!(base.resolver.to_string(), "https://id.salvage.example");
    }
}
