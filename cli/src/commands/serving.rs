//! What `salvage node` and `salvage demo` share to serve a ledger: logging,
//! the listener, the signals that stop the node, and the line that says it is
//! ready. The node itself is assembled by [`salvage_node::run`].

use std::net::TcpListener;

use anyhow::{Context, Result};
use salvage_node::config::NodeConfig;

/// Serves the node `config` describes until Ctrl-C or SIGTERM.
pub fn serve(config: NodeConfig) -> Result<()> {
    init_logging();
    let listener = TcpListener::bind(config.listen).with_context(|| format!("cannot listen on {}", config.listen))?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    salvage_node::run(config, listener, shutdown_signal(), |address| {
        // One line on stdout, for people and for scripts that started it on port 0.
        announce!("salvage node listening on {scheme}://{address}");
    })?;
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub(super) async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("interrupted: shutting down"),
        () = terminate => tracing::info!("terminated: shutting down"),
    }
}

/// Structured logs on stderr; `RUST_LOG` chooses the level (default `info`).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour escapes only for a person at a terminal, never into a log file or journal.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}
