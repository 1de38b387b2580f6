//! `salvage labels`: printable labels (QR code, name, GIAI, consortium, EPC) as
//! an A4 sheet (PDF, SVG) or as ZPL II for an RFID printer-encoder.
//!
//! Labels are made for items listed (`--item`, `--items`) or, tag first, for
//! GIAIs reserved now (`--allocate N`): the member's next N serials become
//! reserved items on the ledger (`giai.reserve`), so that labels can be fixed
//! to things on site before each is registered with its passport.
//!
//! The QR codes lead to a resolver the consortium controls: `--resolver`, or
//! the public URL of the node given with `--node`; never one assumed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use serde_json::{Value, json};

use salvage_ledger::custody::Allocation;
use salvage_ledger::entry::Kind;
use salvage_ledger::ident::{CompanyPrefix, Giai, item_epc};
use salvage_ledger::key::KeyFile;
use salvage_node::labels::{Label, LabelEpc, SheetLayout, ZplOptions, sheet_pdf, sheet_svg, sheet_zpl};

use super::dl::{ResolverBase, resolver_base};
use super::member_args::{NodeArgs, SignerArgs};
use super::qr::{digital_link_of, extension};
use super::{path_segment, write_file};
use crate::client::{NodeClient, Refused};

/// Most GIAIs one `giai.reserve` takes (its schema's bound).
const PER_RESERVATION: u64 = 1000;

/// Most GIAIs one run reserves: ten reservations, 417 sheets. More is far
/// more often a typo than a plan, and reserved serials are never given back.
const MAX_ALLOCATE: u64 = 10_000;

/// Write labels (QR code, name, GIAI, consortium, EPC): an A4 sheet of 3 × 8
/// labels of 70 × 37 mm as PDF or SVG, or ZPL II for an RFID printer-encoder.
///
/// Items come from `--item GIAI=NAME` (repeatable) and/or `--items FILE.csv`, a
/// CSV file with a header row naming the columns `giai` and `name`; or, with
/// `--allocate N`, they are the next N GIAIs of the member's company prefix or
/// range, reserved on the ledger now (`giai.reserve`, signed with `--key`).
///
/// The QR codes carry Digital Links to `--resolver`, or else to the public URL
/// of the node given with `--node`; one of the two is needed.
#[derive(Debug, Args)]
pub struct LabelsCommand {
    /// The output file: .pdf (all pages in one file), .svg (one file per page,
    /// FILE.svg, FILE-2.svg, … when there is more than one page) or .zpl (ZPL II,
    /// one format per label, writing each label's EPC into its RFID tag).
    #[arg(long)]
    out: PathBuf,
    /// An item as GIAI=NAME; repeat for more.
    #[arg(long = "item", value_name = "GIAI=NAME")]
    items: Vec<String>,
    /// A CSV file with columns giai and name.
    #[arg(long = "items", value_name = "FILE.csv", conflicts_with = "items")]
    items_file: Option<PathBuf>,
    /// Reserve the next N GIAIs (up to 10,000; one reservation per 1,000) of the
    /// member whose --key signs, on the ledger of --node, and print their labels.
    #[arg(long, value_name = "N", conflicts_with_all = ["items", "items_file"])]
    allocate: Option<u64>,
    /// With --allocate: the company prefix to reserve under, when the member holds several
    /// [default: the first of its prefixes and ranges with room for N].
    #[arg(long, value_name = "DIGITS", requires = "allocate")]
    prefix: Option<String>,
    /// With --allocate: the first serial to reserve [default: the next free one]. Reservations
    /// never take a GIAI registered directly: a member that registered numbered GIAIs itself
    /// starts past them.
    #[arg(long, value_name = "SERIAL", requires = "allocate")]
    first: Option<u64>,
    /// With --allocate: the member that signs [default: the member whose key --key is].
    #[arg(long, value_name = "ID", requires = "allocate")]
    member: Option<String>,
    /// With --allocate: the name on every label [default: "Reserved for <member's name>"].
    #[arg(long, value_name = "TEXT", requires = "allocate")]
    name: Option<String>,
    /// With --allocate: the member's Ed25519 key, PKCS#8 PEM (mode 0600).
    #[arg(long, env = "SALVAGE_KEY")]
    key: Option<PathBuf>,
    /// The node: the QR codes point at its public URL (unless --resolver), the
    /// labels show the EPCs its ledger knows, and --allocate reserves on it.
    #[arg(long, env = "SALVAGE_NODE")]
    node: Option<String>,
    /// Without a node that knows them, where the company prefix of the GIAIs ends
    /// (6 to 12 digits), so that their EPCs can be computed and printed.
    #[arg(long, value_name = "N", conflicts_with = "allocate")]
    prefix_length: Option<usize>,
    /// The consortium name printed on every label [default: the name the node describes].
    #[arg(long, env = "SALVAGE_CONSORTIUM")]
    consortium: Option<String>,
    /// The consortium's resolver, for the Digital Link URIs in the QR codes
    /// [default: the public URL of --node].
    #[arg(long, env = "SALVAGE_RESOLVER")]
    resolver: Option<String>,
    /// With a .zpl output: the printer's dots per millimetre, 8 (203 dpi), 12 (300 dpi) or 24 (600 dpi).
    #[arg(long, default_value_t = 8)]
    dots_per_mm: u32,
}

/// What the output file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Pdf,
    Svg,
    Zpl,
}

impl LabelsCommand {
    /// Runs the command.
    pub fn run(self) -> Result<()> {
        let format = match extension(&self.out).as_deref() {
            Some("pdf") => Format::Pdf,
            Some("svg") => Format::Svg,
            Some("zpl") => Format::Zpl,
            _ => bail!("{}: the output file must end in .pdf, .svg or .zpl", self.out.display()),
        };
        if let Some(length) = self.prefix_length.filter(|length| !(6..=12).contains(length)) {
            bail!("--prefix-length {length}: a GS1 company prefix has 6 to 12 digits");
        }
        let client = self.node.as_deref().map(NodeClient::new).transpose()?;
        if let Some(count) = self.allocate {
            return self.allocate(count, format, client.as_ref());
        }
        let wanted = self.requested_items()?;
        let base = resolver_base(self.resolver.as_deref(), self.node.as_deref(), "--resolver")?;
        let consortium = self.consortium_name(&base)?;
        let mut labels = Vec::with_capacity(wanted.len());
        let mut without_epc = Vec::new();
        for (giai, name, place) in wanted {
            let uri = digital_link_of(&giai, &base.resolver).with_context(|| place.clone())?;
            let epc = self.epc_of(client.as_ref(), &giai, &place)?;
            if epc.is_none() {
                without_epc.push(giai.clone());
            }
            labels.push(Label { giai, name, consortium: consortium.clone(), uri, epc });
        }
        let written = self.write(format, &labels)?;
        self.note_missing_epcs(&without_epc, labels.len());
        say!("{written}");
        Ok(())
    }

    /// The (GIAI, name, place) of every label asked for, each GIAI checked.
    fn requested_items(&self) -> Result<Vec<(String, String, String)>> {
        let mut wanted = Vec::new();
        for item in &self.items {
            let (giai, name) = item.split_once('=').with_context(|| format!("--item {item:?} must be GIAI=NAME"))?;
            wanted.push((giai.trim().to_owned(), name.trim().to_owned(), format!("--item {item:?}")));
        }
        if let Some(path) = &self.items_file {
            wanted.extend(read_csv(path)?);
        }
        if wanted.is_empty() {
            bail!("no items: give --item GIAI=NAME, --items FILE.csv or --allocate N");
        }
        for (giai, _, place) in &wanted {
            // A Digital Link URI is taken as it is, for its QR code.
            if !giai.contains("://") {
                Giai::parse(giai).with_context(|| place.clone())?;
            }
        }
        Ok(wanted)
    }

    /// `--consortium`, or the name the node describes, or a refusal.
    fn consortium_name(&self, base: &ResolverBase) -> Result<String> {
        self.consortium.clone().or_else(|| base.consortium.clone()).context(
            "no consortium name for the labels: give --consortium NAME (or SALVAGE_CONSORTIUM), or --node URL \
             of a node that describes it",
        )
    }

    /// The EPC of `giai`'s tag: the node's (`item.epc`), else one computed
    /// with `--prefix-length`, else none.
    fn epc_of(&self, client: Option<&NodeClient>, giai: &str, place: &str) -> Result<Option<LabelEpc>> {
        let Ok(parsed) = Giai::parse(giai) else { return Ok(None) };
        if let Some(client) = client {
            match client.get_json(&format!("/v1/items/{}", path_segment(giai))) {
                Ok(view) => {
                    let epc = &view["item"]["epc"];
                    if let (Some(hex), Some(tag_uri)) = (epc["hex"].as_str(), epc["tag_uri"].as_str()) {
                        return Ok(Some(LabelEpc { hex: hex.to_owned(), tag_uri: tag_uri.to_owned() }));
                    }
                }
                // Not on the ledger (yet): a label may well be printed first.
                Err(error) if error.downcast_ref::<Refused>().is_some_and(|refused| refused.status == 404) => {}
                Err(error) => return Err(error.context(format!("{place}: reading the item's EPC from the node"))),
            }
        }
        let Some(length) = self.prefix_length else { return Ok(None) };
        let digits = giai.get(..length).filter(|_| giai.len() > length).with_context(|| {
            format!("{place}: GIAI {giai} is too short for a company prefix of {length} digits and an asset reference")
        })?;
        let prefix = CompanyPrefix::parse(digits)
            .with_context(|| format!("{place}: the first {length} characters of GIAI {giai}"))?;
        let tag = item_epc(&parsed, &prefix)
            .with_context(|| format!("{place}: the EPC of GIAI {giai} with company prefix {digits}"))?;
        Ok(Some(LabelEpc::of(&tag)))
    }

    /// Says once on stderr why labels show no EPC, when some do not.
    fn note_missing_epcs(&self, without_epc: &[String], total: usize) {
        let Some(first) = without_epc.first() else { return };
        if self.node.is_none() && self.prefix_length.is_none() {
            eprintln!(
                "salvage: note: the labels show no EPC: give --node URL (the EPCs its ledger knows) or \
                 --prefix-length N (where the GIAIs' company prefix ends) to print them"
            );
        } else {
            eprintln!(
                "salvage: note: {} of {total} label(s) show no EPC (first: {first}): the node knows no company \
                 prefix for them{}",
                without_epc.len(),
                if self.prefix_length.is_none() { "; --prefix-length N says where it ends" } else { "" }
            );
        }
    }

    /// Writes the labels and says what was written.
    fn write(&self, format: Format, labels: &[Label]) -> Result<String> {
        let rendered = self.render(format, labels)?;
        rendered.write()?;
        Ok(rendered.summary)
    }

    /// Draws the labels as the files to write, without writing them.
    fn render(&self, format: Format, labels: &[Label]) -> Result<Rendered> {
        let layout = SheetLayout::default();
        let pages = format!("{} label(s) on {} page(s)", labels.len(), layout.page_count(labels.len()));
        let (files, summary) = match format {
            Format::Pdf => (vec![(self.out.clone(), sheet_pdf(labels, &layout)?)], pages),
            Format::Svg => {
                let svgs = sheet_svg(labels, &layout)?.into_iter().enumerate();
                (svgs.map(|(page, svg)| (page_path(&self.out, page), svg.into_bytes())).collect(), pages)
            }
            Format::Zpl => {
                let options = ZplOptions { dots_per_mm: self.dots_per_mm, layout };
                let zpl = sheet_zpl(labels, &options)?.into_bytes();
                (
                    vec![(self.out.clone(), zpl)],
                    format!("{} label(s) as ZPL II in {}", labels.len(), self.out.display()),
                )
            }
        };
        Ok(Rendered { files, summary })
    }

    /// `--allocate N`: reserves the member's next `count` GIAIs and writes their labels.
    fn allocate(&self, count: u64, format: Format, client: Option<&NodeClient>) -> Result<()> {
        if count == 0 || count > MAX_ALLOCATE {
            bail!(
                "--allocate {count}: reserve 1 to {MAX_ALLOCATE} GIAIs in one run (a reservation takes up to \
                 {PER_RESERVATION}; several are made for more); reserved serials are never given back"
            );
        }
        let (Some(client), Some(node_url)) = (client, self.node.as_deref()) else {
            bail!("--allocate reserves GIAIs on the ledger: give --node URL (or SALVAGE_NODE)");
        };
        // Checked before anything is reserved, so that the labels have somewhere to go.
        if let Some(dir) = self.out.parent().filter(|dir| !dir.as_os_str().is_empty() && !dir.is_dir()) {
            bail!("{}: the directory {} does not exist; nothing was reserved", self.out.display(), dir.display());
        }
        let key = self.key.clone().context(
            "--allocate signs the reservation: give --key KEY.pem (or SALVAGE_KEY), a key of the member that \
             holds the company prefix or range",
        )?;
        let public = KeyFile::read(&key)?.public_key().to_hex();
        let members = client.get_json("/v1/members")?;
        let member = signing_member(&members, &public, self.member.as_deref())?;
        let id = member["id"].as_str().unwrap_or_default();
        let member_name = member["name"].as_str().unwrap_or(id);
        let held = allocations_of(member).with_context(|| format!("the identifiers of member {id}"))?;
        let chosen = choose(&held, self.prefix.as_deref(), count, id)?;
        // Where the codes point is settled before anything is reserved, so that
        // no reservation is left without its labels.
        let base = resolver_base(self.resolver.as_deref(), Some(node_url), "--resolver")?;
        let consortium = self.consortium_name(&base)?;
        let prefix = &chosen.prefix;

        // The labels of every serial are drawn before anything is reserved, so that a label
        // that cannot be drawn (an EPC that does not fit beside its code, say) reserves nothing.
        let name = self.name.clone().unwrap_or_else(|| format!("Reserved for {member_name}"));
        let label_of = |serial: u64| -> Result<Label> {
            let giai = Giai::parse(&format!("{}{serial}", chosen.prefix))
                .with_context(|| format!("serial {serial} under company prefix {}", chosen.prefix))?;
            let tag = item_epc(&giai, prefix).with_context(|| format!("the EPC of GIAI {giai}"))?;
            let uri = digital_link_of(giai.as_str(), &base.resolver)?;
            let epc = Some(LabelEpc::of(&tag));
            Ok(Label { giai: giai.to_string(), name: name.clone(), consortium: consortium.clone(), uri, epc })
        };
        let start = self.first.unwrap_or(chosen.next);
        let planned = (start..start.saturating_add(count)).map(label_of).collect::<Result<Vec<_>>>()?;
        let mut rendered = self.render(format, &planned)?;

        let signer_args =
            SignerArgs { node: NodeArgs { node: node_url.to_owned(), json: false }, key: vec![key], disclosures: None };
        let signer = signer_args.signer(client)?;
        let batches = batches(start, count);
        let entries = batches
            .iter()
            .map(|&(first, n)| {
                signer.sign(Kind::GiaiReserve, json!({"prefix": chosen.prefix, "first": first, "count": n}))
            })
            .collect::<Result<Vec<_>>>()?;
        // One reservation per request, in order, stopping at the first refusal: the node judges
        // the entries of one request apart, and a later reservation taken after a refused one
        // would move the next free serial past serials nobody reserved, for good.
        let mut reserved = Vec::new();
        let mut refusal: Option<anyhow::Error> = None;
        for (entry, &(first, n)) in entries.iter().zip(&batches) {
            match client.submit_disclosed(std::slice::from_ref(entry))?.into_iter().next() {
                Some(Ok(_)) => reserved.extend(first..first + n),
                Some(Err(refused)) => {
                    refusal = Some(refused.into());
                    break;
                }
                None => {
                    refusal = Some(anyhow!("the node answered no outcome for the reservation from serial {first}"));
                    break;
                }
            }
        }
        let (Some(&low), Some(&high)) = (reserved.first(), reserved.last()) else {
            // Nothing was reserved: the node's refusal is the whole story.
            return Err(refusal.unwrap_or_else(|| anyhow!("the node reserved nothing and gave no reason")));
        };
        if reserved.len() as u64 != count {
            let labels = reserved.iter().map(|&serial| label_of(serial)).collect::<Result<Vec<_>>>()?;
            rendered = self.render(format, &labels)?;
        }
        // Reserved serials are never given back: should the file not be written, say how to
        // print their labels again rather than leave the user to find them.
        rendered.write().with_context(|| {
            format!(
                "GIAIs {0}{low} to {0}{high} are reserved, but their labels were not written; print them with \
                 --item GIAI=NAME or --items FILE.csv",
                chosen.prefix
            )
        })?;
        say!(
            "reserved {} GIAI(s) for {member_name} ({id}) under company prefix {}: {}{low} to {}{high}",
            reserved.len(),
            chosen.prefix,
            chosen.prefix,
            chosen.prefix
        );
        say!("{}", rendered.summary);
        if let Some(refusal) = refusal {
            bail!(
                "only {} of {count} GIAIs were reserved, and their labels written; the node refused the rest: {refusal}",
                reserved.len()
            );
        }
        Ok(())
    }
}

/// Labels drawn and not yet written: the files and what to say about them.
struct Rendered {
    files: Vec<(PathBuf, Vec<u8>)>,
    summary: String,
}

impl Rendered {
    /// Writes every file.
    fn write(&self) -> Result<()> {
        self.files.iter().try_for_each(|(path, bytes)| write_file(path, bytes))
    }
}

/// Serials from `first`, `count` of them, as reservations of up to
/// [`PER_RESERVATION`] each: `(first, count)` pairs.
fn batches(first: u64, count: u64) -> Vec<(u64, u64)> {
    let mut batches = Vec::new();
    let mut done = 0;
    while done < count {
        let n = (count - done).min(PER_RESERVATION);
        batches.push((first + done, n));
        done += n;
    }
    batches
}

/// The member whose active key `public_hex` is, from the node's member list,
/// or the member `asked` for, which must hold that key.
fn signing_member<'a>(members: &'a Value, public_hex: &str, asked: Option<&str>) -> Result<&'a Value> {
    let list = members.as_array().context("the node's member list (GET /v1/members) is not a list")?;
    let holds_key = |member: &Value| {
        member["keys"].get(public_hex).is_some_and(|state| state.get("revoked").is_none_or(Value::is_null))
    };
    match asked {
        Some(id) => {
            let member = list
                .iter()
                .find(|member| member["id"] == id)
                .with_context(|| format!("--member {id}: no member of the node's ledger has this id"))?;
            if !holds_key(member) {
                bail!(
                    "--member {id}: key {public_hex} is not an active key of {id}, and a reservation must be signed \
                     by the member that holds the serials"
                );
            }
            Ok(member)
        }
        None => list.iter().find(|member| holds_key(member)).with_context(|| {
            format!("key {public_hex} is no active key of any member of the node's ledger; is it the right node?")
        }),
    }
}

/// A member's allocations as `GET /v1/members` lists them; a member without any holds none.
fn allocations_of(member: &Value) -> Result<Vec<Allocation>> {
    match member.get("identifiers") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(listed) => {
            serde_json::from_value(listed.clone()).context("the node lists identifiers this CLI cannot read")
        }
    }
}

/// For messages: `4750009 serials 100 to 199 (next 100)`.
fn describe(held: &Allocation) -> String {
    match held.range {
        Some(range) => format!("{} serials {} to {} (next {})", held.prefix, range.first, range.last, held.next),
        None => format!("{} (the whole prefix, next {})", held.prefix, held.next),
    }
}

/// The allocation to reserve `count` serials from: under `prefix` if given,
/// the first with room for all of them.
fn choose<'a>(held: &'a [Allocation], prefix: Option<&str>, count: u64, member: &str) -> Result<&'a Allocation> {
    if held.is_empty() {
        bail!(
            "{member} holds no company prefix or serial range on this ledger (giai.not_allocated), so it cannot \
             reserve GIAIs: a member's own prefix is added with member.update, a range under the consortium's \
             prefix with giai.allocate"
        );
    }
    let all = || held.iter().map(describe).collect::<Vec<_>>().join(", ");
    let candidates: Vec<&Allocation> = held.iter().filter(|a| prefix.is_none_or(|p| a.prefix.as_str() == p)).collect();
    if candidates.is_empty() {
        bail!("{member} holds nothing under company prefix {} (it holds {})", prefix.unwrap_or_default(), all());
    }
    candidates.into_iter().find(|a| a.room() >= count).with_context(|| {
        format!("no company prefix or range of {member} has room for {count} more GIAIs (it holds {})", all())
    })
}

/// `FILE.svg` for the first page, `FILE-2.svg` for the second, and so on.
fn page_path(out: &Path, page: usize) -> PathBuf {
    if page == 0 {
        return out.to_owned();
    }
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!("{stem}-{}.svg", page + 1))
}

/// Reads (giai, name, place) rows from a CSV file with a header naming `giai` and `name`.
fn read_csv(path: &Path) -> Result<Vec<(String, String, String)>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("{}: no header row", path.display()))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .with_context(|| format!("{}: the header row has no column {name:?}", path.display()))
    };
    let (giai_column, name_column) = (column("giai")?, column("name")?);
    let mut rows = Vec::new();
    for (index, row) in reader.records().enumerate() {
        // Row 1 is the header, so data rows start at 2, as a spreadsheet numbers them.
        let place = format!("{} row {}", path.display(), index + 2);
        let row = row.with_context(|| place.clone())?;
        let giai = row.get(giai_column).unwrap_or_default().trim().to_owned();
        let name = row.get(name_column).unwrap_or_default().trim().to_owned();
        rows.push((giai, name, place));
    }
    Ok(rows)
}

#[cfg(test)]
// Unwrapping is how a test states "this must succeed": a panic fails the test at that line.
#[allow(clippy::unwrap_used)]
mod tests {
    use salvage_ledger::chain::Seq;
    use salvage_ledger::custody::SerialRange;

    use super::*;

    fn whole(prefix: &str, next: u64) -> Allocation {
        Allocation { prefix: CompanyPrefix::parse(prefix).unwrap(), range: None, next, since: Seq::GENESIS }
    }

    fn range(first: u64, last: u64, next: u64) -> Allocation {
        let range = Some(SerialRange { first, last });
        Allocation { prefix: CompanyPrefix::parse("4750009").unwrap(), range, next, since: Seq::GENESIS }
    }

    #[test]
    fn reservations_take_up_to_a_thousand_serials_each() {
        assert_eq!(batches(1, 5), vec![(1, 5)]);
        assert_eq!(batches(100, 2500), vec![(100, 1000), (1100, 1000), (2100, 500)]);
        assert_eq!(batches(7, 1000), vec![(7, 1000)]);
    }

    #[test]
    fn the_first_allocation_with_room_is_chosen_unless_a_prefix_is_named() {
        let range = range(100, 199, 190);
        let held = [range.clone(), whole("4750001", 1)];
        assert_eq!(choose(&held, None, 10, "m").unwrap(), &range);
        assert_eq!(choose(&held, None, 11, "m").unwrap().prefix.as_str(), "4750001");
        assert_eq!(choose(&held, Some("4750001"), 1, "m").unwrap().prefix.as_str(), "4750001");
        let error = choose(&held, Some("4750009"), 11, "m").unwrap_err().to_string();
        assert!(error.contains("room for 11") && error.contains("4750009 serials 100 to 199 (next 190)"), "{error}");
        assert!(choose(&held, Some("4750002"), 1, "m").unwrap_err().to_string().contains("nothing under"));
        assert!(choose(&[], None, 1, "reuse-hub").unwrap_err().to_string().contains("giai.not_allocated"));
    }

    #[test]
    fn a_whole_prefix_ends_where_giais_or_json_integers_do() {
        const MAX_SERIAL: u64 = (1 << 53) - 1;
        assert_eq!(whole("4750001", 1).last_serial(), MAX_SERIAL);
        assert_eq!(whole("475000100002", 1).last_serial(), MAX_SERIAL.min(10_u64.pow(18) - 1));
        assert_eq!(range(100, 199, 200).room(), 0);
        assert_eq!(range(100, 199, 190).room(), 10);
    }

    #[test]
    fn the_signer_is_the_member_holding_the_key() {
        let members = json!([
            {"id": "a", "keys": {"aa": {"added": 0, "revoked": 3}}},
            {"id": "b", "keys": {"aa": {"added": 4}, "bb": {"added": 0}}},
        ]);
        assert_eq!(signing_member(&members, "aa", None).unwrap()["id"], "b", "a revoked key signs for nobody");
        assert_eq!(signing_member(&members, "bb", Some("b")).unwrap()["id"], "b");
        assert!(signing_member(&members, "aa", Some("a")).unwrap_err().to_string().contains("not an active key"));
        assert!(signing_member(&members, "cc", None).is_err());
        assert!(signing_member(&members, "aa", Some("z")).unwrap_err().to_string().contains("no member"));
    }
}
