//! Test harness for Cairn's integration tests: starts real `cairn-node` processes on 127.0.0.1,
//! talks to them over JSON-RPC, and stops them (SIGTERM, then SIGKILL after a grace period) when
//! a [`Node`] is dropped.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let node = cairn_tests::Node::start(cairn_tests::NodeConfig::dev(dir.path()))?;
//! node.wait_ready().await?;
//! let rpc = node.rpc().await?;
//! # Ok(()) }
//! ```

pub mod flood;
pub mod fuzz;
pub mod metrics;
pub mod node;
pub mod remarks;
pub mod rpc;
pub mod stranger;
pub mod tx;

pub use node::{Node, NodeConfig};

use std::time::Duration;

/// Runs `fut` with a deadline, naming what timed out.
pub async fn within<T>(
	limit: Duration,
	what: &str,
	fut: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
	match tokio::time::timeout(limit, fut).await {
		Ok(result) => result,
		Err(_) => anyhow::bail!("timed out after {limit:?} waiting for {what}"),
	}
}
