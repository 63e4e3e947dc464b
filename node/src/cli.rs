//! Command-line interface: the standard Substrate node flags plus the maintenance subcommands.

use sc_cli::RunCmd;

/// The `cairn-node` command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: RunCmd,

	#[clap(flatten)]
	pub explorer: ExplorerParams,
}

/// The built-in block explorer page.
#[derive(Debug, Clone, clap::Args)]
pub struct ExplorerParams {
	/// Serve the block explorer page on this port of 127.0.0.1.
	#[arg(long, value_name = "PORT", default_value_t = 9955)]
	pub explorer_port: u16,

	/// Do not serve the block explorer page.
	#[arg(long)]
	pub no_explorer: bool,
}

impl ExplorerParams {
	/// The port to serve the explorer on, if it is served.
	pub fn port(&self) -> Option<u16> {
		(!self.no_explorer).then_some(self.explorer_port)
	}
}

/// Maintenance subcommands; without one, the node runs.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management (generate, inspect, insert keys).
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification.
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export a chain specification.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Database meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}
