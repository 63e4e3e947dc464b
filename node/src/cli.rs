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

	/// Storage contracts as a buyer sees them, read from a running node.
	Client(ClientCmd),

	/// A provider's record, read from a running node.
	Provider(ProviderCmd),
}

/// The node whose JSON-RPC a `client` or `provider` command reads.
const DEFAULT_RPC: &str = "ws://127.0.0.1:9944";

/// `cairn-node client …`.
#[derive(Debug, clap::Args)]
pub struct ClientCmd {
	/// WebSocket JSON-RPC address of the node to ask.
	#[arg(long, global = true, value_name = "URL", default_value = DEFAULT_RPC)]
	pub rpc: String,

	#[command(subcommand)]
	pub action: ClientAction,
}

/// What `client` shows.
#[derive(Debug, clap::Subcommand)]
pub enum ClientAction {
	/// List contracts, newest first (all, or those of one owner).
	Ls {
		/// Only contracts of this account (SS58).
		#[arg(long)]
		owner: Option<String>,
	},
	/// One contract: escrow, payments and each shard's provider, status and proofs.
	Status {
		/// The contract id.
		contract: u64,
	},
}

/// `cairn-node provider …`.
#[derive(Debug, clap::Args)]
pub struct ProviderCmd {
	/// WebSocket JSON-RPC address of the node to ask.
	#[arg(long, global = true, value_name = "URL", default_value = DEFAULT_RPC)]
	pub rpc: String,

	#[command(subcommand)]
	pub action: ProviderAction,
}

/// What `provider` shows.
#[derive(Debug, clap::Subcommand)]
pub enum ProviderAction {
	/// A provider's stake, capacity, shards, price, faults and addresses.
	Status {
		/// The provider's account (SS58).
		account: String,
	},
}
