//! What a filed audit says ([`AuditSummary`]: what was audited, how, and
//! what was found), and its HTML report for `salvage audit --html FILE`: one
//! self-contained page (no scripts, fonts, images or style sheets from
//! elsewhere) that a certification body can file, print or mail as it is.

use std::path::PathBuf;

use maud::{DOCTYPE, Markup, html as page};
use salvage_ledger::audit::AuditReport;
use serde::Serialize;

/// What an audit read, for the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A node's API at this URL.
    Node(String),
    /// A data directory (or log directory) on this machine.
    Data(PathBuf),
}

/// The earlier checkpoint an audit was asked to check, and whether the ledger extends it.
#[derive(Debug, Clone, Serialize)]
pub struct EarlierFinding {
    /// The file it was read from.
    pub file: PathBuf,
    /// Its tree size.
    pub size: u64,
    /// Its root, hex.
    pub root: String,
    /// Whether the audited ledger extends it.
    pub extended: bool,
}

/// Everything a filed audit says: what was audited, how, and what was found.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSummary {
    /// The tool and its version, e.g. `salvage 0.1.0`.
    pub tool: String,
    /// When the audit finished (RFC 3339 UTC).
    pub audited_at: String,
    /// Where the records came from.
    pub source: Source,
    /// The genesis file trusted.
    pub genesis: PathBuf,
    /// The consortium's name, from the genesis.
    pub consortium: String,
    /// Whether no problem was found.
    pub clean: bool,
    /// The earlier checkpoint, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<EarlierFinding>,
    /// The audit itself: counts, root, checkpoint, problems.
    #[serde(flatten)]
    pub report: AuditReport,
}

/// The style of the report, inline so that the file stands alone.
const STYLE: &str = "
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #1b1b1b; line-height: 1.4; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
.verdict { padding: 0.8rem 1rem; border-radius: 4px; font-weight: bold; margin: 1rem 0; }
.clean { background: #e3f4e1; border: 1px solid #2e7d32; }
.problems { background: #fde7e7; border: 1px solid #c62828; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { text-align: left; vertical-align: top; padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; }
th { width: 14rem; font-weight: 600; }
code { font-family: ui-monospace, monospace; word-break: break-all; }
table.list th { width: auto; background: #f4f4f4; }
footer { color: #555; font-size: 0.85rem; margin-top: 2rem; }
";

/// The report as a whole HTML document.
pub fn html(summary: &AuditSummary) -> String {
    let report = &summary.report;
    let title = format!("Ledger audit: {}", summary.consortium);
    let markup: Markup = page! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(summary.tool);
                title { (title) }
                style { (STYLE) }
            }
            body {
                h1 { (title) }
                p { "Audit of a Salvage ledger against its genesis, as of " (summary.audited_at) "." }
                @if summary.clean {
                    p.verdict.clean { "Clean: every record, signature, custody rule and checkpoint checked without a problem." }
                } @else {
                    p.verdict.problems { "Problems found: " (report.problem_count) ". Each is listed below." }
                }
                h2 { "Ledger" }
                table {
                    tr { th { "Ledger id" } td { code { (report.ledger_id) } } }
                    tr { th { "Consortium" } td { (summary.consortium) } }
                    tr { th { "Genesis file" } td { code { (summary.genesis.display()) } } }
                    tr { th { "Source" } td {
                        @match &summary.source {
                            Source::Node(url) => { "node " code { (url) } }
                            Source::Data(dir) => { "data directory " code { (dir.display()) } }
                        }
                    } }
                    tr { th { "Records" } td { (report.records) } }
                    tr { th { "Signatures verified" } td { (report.signatures) } }
                    tr { th { "Items" } td { (report.items) } }
                    tr { th { "Members" } td { (report.members) } }
                    @if report.records_withholding > 0 || report.values_checked > 0 {
                        tr { th { "Restricted values" } td {
                            (report.values_unchecked) " withheld in " (report.records_withholding)
                            " records: their digests and signatures verified, the values not checked (only their holders \
                             have them); " (report.values_checked) " checked with disclosures given to the audit"
                        } }
                    }
                    @if report.giais_unallocated > 0 {
                        tr { th { "GIAIs not allocated" } td {
                            (report.giais_unallocated) " items were registered under GIAIs outside their registrant's \
                             company prefixes and ranges. This ledger predates allocation and took them; a ledger that \
                             allocates GIAIs would refuse them (giai.not_allocated)."
                            @if !report.unallocated.is_empty() {
                                ul { @for found in &report.unallocated {
                                    li { "record " (found.seq) ": " code { (found.giai) } " by " (found.registrant) }
                                } }
                            }
                        } }
                    }
                    @if report.rules_would_refuse > 0 {
                        tr { th { "Waste and attestation rules" } td {
                            (report.rules_would_refuse) " entries break the waste and attestation rules \
                             (docs/rules.md §11). This ledger predates them and took the entries; a ledger of \
                             rules 2 would refuse them."
                            @if !report.would_refuse.is_empty() {
                                ul { @for found in &report.would_refuse {
                                    li { "record " (found.seq) ": " code { (found.code) } " " (found.message) }
                                } }
                            }
                        } }
                    }
                    tr { th { "Merkle root of the records" } td { code { (report.root) } } }
                    tr { th { "Custody state digest" } td { code { (report.state) } } }
                }
                h2 { "Checkpoint" }
                @match &report.checkpoint {
                    Some(checkpoint) => {
                        table {
                            tr { th { "Tree size" } td { (checkpoint.size) } }
                            tr { th { "Root" } td { code { (checkpoint.root) } } }
                            tr { th { "Signed by" } td {
                                @if checkpoint.signed_by.is_empty() { "nobody in the consortium" } @else { (checkpoint.signed_by.join(", ")) }
                                " (" (checkpoint.signed_by.len()) " of " (checkpoint.operators) " operators)"
                            } }
                        }
                    }
                    None => { p { "No signed checkpoint was checked." } }
                }
                h2 { "Earlier checkpoint" }
                @match &summary.earlier {
                    Some(earlier) => {
                        table {
                            tr { th { "File" } td { code { (earlier.file.display()) } } }
                            tr { th { "Tree size" } td { (earlier.size) } }
                            tr { th { "Root" } td { code { (earlier.root) } } }
                            tr { th { "Extended by the ledger" } td { @if earlier.extended { "yes" } @else { strong { "no" } } } }
                        }
                    }
                    None => { p { "No earlier checkpoint was given." } }
                }
                h2 { "Problems" }
                @if report.problems.is_empty() {
                    p { "None." }
                } @else {
                    table.list {
                        tr { th { "Record" } th { "Code" } th { "What is wrong" } }
                        @for problem in &report.problems {
                            tr {
                                td { @match problem.seq { Some(seq) => { (seq) } None => { "ledger" } } }
                                td { code { (problem.code) } }
                                td { (problem.message) }
                            }
                        }
                    }
                    @let unlisted = report.problem_count.saturating_sub(report.problems.len() as u64);
                    @if unlisted > 0 {
                        p { "… and " (unlisted) " more problems, not listed." }
                    }
                }
                footer {
                    p { "Produced by " (summary.tool) " on " (summary.audited_at) ". The audit trusted only the genesis file named above; problem codes are described in the project's docs/format.md." }
                }
            }
        }
    };
    markup.into_string()
}
