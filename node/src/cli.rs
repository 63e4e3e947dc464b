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

	#[clap(flatten)]
	pub cairn: CairnParams,
}

/// The storage services: shard network, provider, client.
#[derive(Debug, Clone, clap::Args)]
pub struct CairnParams {
	/// Address the shard network listens on (peers reach providers there).
	#[arg(long, value_name = "MULTIADDR", default_value = "/ip4/0.0.0.0/tcp/30433")]
	pub shard_listen: libp2p::Multiaddr,

	/// Address others reach this node's shard network at, announced in a provider's on-chain
	/// record (repeat for several). Without it, the listen address is announced, or, when it
	/// is 0.0.0.0, only those of the machine's addresses that are globally routable.
	#[arg(long, value_name = "MULTIADDR")]
	pub shard_public_addr: Vec<libp2p::Multiaddr>,

	#[clap(flatten)]
	pub shard_limits: ShardLimitParams,

	/// Put this development key (a secret URI such as `//Alice`) into the keystore as the node's
	/// Cairn account, which signs uploads, repairs and, with `--provider`, the provider's
	/// transactions. Without it the account is the keystore's key of type `cair`, if any.
	#[arg(long, value_name = "SURI")]
	pub cairn_key: Option<String>,

	/// Run the provider service: offer storage on the market, keep and prove shards.
	#[arg(long)]
	pub provider: bool,

	/// Bytes of storage offered (the stake held covers it).
	#[arg(long, value_name = "BYTES", default_value_t = 64 << 30)]
	pub provider_capacity: u64,

	/// Price asked per byte per block, in planck.
	#[arg(long, value_name = "PLANCK", default_value_t = 1)]
	pub provider_price: u128,

	/// Start the provider even though its shard store is empty while the chain lists shards it
	/// keeps (a replaced disk), and report those shards lost so that their owners repair them;
	/// each costs one missed period's slash. Without it such a provider refuses to start.
	#[arg(long)]
	pub provider_shards_lost: bool,

	/// Do not top the stake up from the free balance when slashes leave it below what the
	/// offered capacity requires; the provider then takes no new shards until the operator adds
	/// stake (`add_stake`) or lowers the capacity.
	#[arg(long)]
	pub provider_no_restake: bool,

	/// Keep at most this many shards, in place of the limit the provider measures: as many as
	/// its prover proves in half a proving period at the pace timed at start and on every proof
	/// since (a proof costs the same for any shard). The capacity offered on chain leaves room
	/// for no more, and a shard assigned beyond it is declined.
	#[arg(long, value_name = "SHARDS")]
	pub provider_max_shards: Option<u32>,

	/// Bytes a second the provider reads at most to check its stored shards against their
	/// digests in the background (each at most once a proving period; 0: no bound). At the
	/// default, a TiB is read through about every nine hours.
	#[arg(long, value_name = "BYTES", default_value_t = 32 << 20)]
	pub scrub_rate: u64,

	/// Proving key file (the key of the chain's verifying key); default: the deterministic
	/// development key, which only development chains accept.
	#[arg(long, value_name = "FILE")]
	pub proving_key: Option<std::path::PathBuf>,

	/// Address of the client API (uploads and downloads of this node's files, signed with its
	/// key). Only holders of the token the node writes at every start to `api.token` in its data
	/// folder (`<base path>/chains/<chain>/cairn/`) are served, and never a web page; keep it on
	/// 127.0.0.1 unless remote clients need it, and put TLS in front of it beyond a trusted
	/// network (the token travels in a header).
	#[arg(long, value_name = "ADDR", default_value = cairn_rpc::api::DEFAULT_API_ADDR)]
	pub api_addr: std::net::SocketAddr,

	/// Do not serve the client API.
	#[arg(long)]
	pub no_api: bool,

	/// Serve the S3-compatible gateway on this address (`127.0.0.1:9967`, say): the account's
	/// files as buckets and objects for S3 tools, which sign with the access key `cairn` and the
	/// secret the node keeps in `s3.secret` in its data folder. Off unless given; keep it on
	/// 127.0.0.1 unless remote clients need it, and put TLS in front of it beyond a trusted
	/// network.
	#[arg(long, value_name = "ADDR")]
	pub s3_addr: Option<std::net::SocketAddr>,

	/// Renew a file uploaded through this node (with auto-renew on, the default) once less than
	/// this share of its term, in percent, is left.
	#[arg(
		long,
		value_name = "PERCENT",
		default_value_t = cairn_files::AutoRenew::default().below_percent,
		value_parser = clap::value_parser!(u8).range(1..=99)
	)]
	pub renew_below: u8,
}

/// The shard network's budgets (see docs/SECURITY.md for the reasoning behind the defaults).
#[derive(Debug, Clone, clap::Args)]
pub struct ShardLimitParams {
	/// Inbound shard-network connections at most.
	#[arg(long, value_name = "COUNT", default_value_t = cairn_net::Limits::default().max_inbound)]
	pub shard_max_inbound: u32,

	/// Outbound shard-network connections at most (counted apart from inbound ones).
	#[arg(long, value_name = "COUNT", default_value_t = cairn_net::Limits::default().max_outbound)]
	pub shard_max_outbound: u32,

	/// `Put` pieces one peer may send per second.
	#[arg(long, value_name = "PER_SECOND", default_value_t = cairn_net::Limits::default().rates.put)]
	pub shard_rate_put: f64,

	/// `Get` requests (of up to 1 MiB) one peer may send per second.
	#[arg(long, value_name = "PER_SECOND", default_value_t = cairn_net::Limits::default().rates.get)]
	pub shard_rate_get: f64,

	/// `Leaves` requests (of up to 64 leaves with paths) one peer may send per second.
	#[arg(long, value_name = "PER_SECOND", default_value_t = cairn_net::Limits::default().rates.leaves)]
	pub shard_rate_leaves: f64,

	/// `Put` requests of all peers served at once, and again `Get` requests (only the contract
	/// owners' grantees reach these).
	#[arg(long, value_name = "COUNT", default_value_t = cairn_net::Limits::default().serving_slots)]
	pub shard_serving_slots: usize,

	/// `Leaves` requests (audits, open to anyone) of all peers served at once.
	#[arg(long, value_name = "COUNT", default_value_t = cairn_net::Limits::default().audit_slots)]
	pub shard_audit_slots: usize,
}

impl ShardLimitParams {
	/// The limits these flags set.
	pub fn limits(&self) -> cairn_net::Limits {
		let defaults = cairn_net::Limits::default();
		cairn_net::Limits {
			max_inbound: self.shard_max_inbound,
			max_outbound: self.shard_max_outbound,
			rates: cairn_net::limits::Rates {
				put: self.shard_rate_put,
				get: self.shard_rate_get,
				leaves: self.shard_rate_leaves,
			},
			serving_slots: self.shard_serving_slots.max(1),
			audit_slots: self.shard_audit_slots.max(1),
			..defaults
		}
	}
}

impl CairnParams {
	/// The address to serve the client API on, if it is served.
	pub fn api_addr(&self) -> Option<std::net::SocketAddr> {
		(!self.no_api).then_some(self.api_addr)
	}
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

	/// Runtime benchmarks (`benchmark pallet` writes the pallets' `weights.rs`); only in a node
	/// built with `--features runtime-benchmarks`.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Storage contracts as a buyer sees them, read from a running node.
	Client(ClientCmd),

	/// A provider's record, read from a running node.
	Provider(ProviderCmd),

	/// A whole local network on 127.0.0.1: validators, providers and a buyer, as child
	/// processes of this binary, until Ctrl-C.
	Devnet(crate::devnet::DevnetCmd),

	/// The chain specification of a production chain, from a genesis description (validators,
	/// root signatories and threshold, endowments) that is checked first: no development key,
	/// no verifying key, root held by a multisig account.
	ProductionSpec(crate::production_spec::ProductionSpecCmd),
}

/// The node whose JSON-RPC a `client` or `provider` command reads.
const DEFAULT_RPC: &str = "ws://127.0.0.1:9944";

/// The client API a `client put` or `client get` uses.
const DEFAULT_API: &str = "ws://127.0.0.1:9966";

/// `cairn-node client …`.
#[derive(Debug, clap::Args)]
pub struct ClientCmd {
	/// WebSocket JSON-RPC address of the node to ask.
	#[arg(long, global = true, value_name = "URL", default_value = DEFAULT_RPC)]
	pub rpc: String,

	/// The node's client API (`put` and `get`).
	#[arg(long, global = true, value_name = "URL", default_value = DEFAULT_API)]
	pub api: String,

	/// The client API's token (also `$CAIRN_API_TOKEN`); by default it is read from the copy a
	/// node on this machine keeps for its API's port.
	#[arg(long, global = true, value_name = "TOKEN")]
	pub token: Option<String>,

	/// Read the client API's token from this file (`<base path>/chains/<chain>/cairn/api.token`
	/// of the node).
	#[arg(long, global = true, value_name = "FILE")]
	pub token_file: Option<std::path::PathBuf>,

	#[command(subcommand)]
	pub action: ClientAction,
}

/// What `client` shows.
#[derive(Debug, clap::Subcommand)]
pub enum ClientAction {
	/// List this account's files by name (those whose name begins with PREFIX: a folder, or an
	/// S3 bucket as `BUCKET/`), through the node's client API; or, with `--all` or `--owner`,
	/// the chain's contracts, newest first.
	Ls {
		/// Only names that begin with this (`photos/2026/`, `BUCKET/`, `BUCKET/KEY-PREFIX`).
		prefix: Option<String>,
		/// The chain's contracts of this account (SS58) instead.
		#[arg(long, conflicts_with_all = ["prefix", "all"])]
		owner: Option<String>,
		/// Every contract on the chain instead.
		#[arg(long, conflicts_with = "prefix")]
		all: bool,
		/// `text` (default) or `json`.
		#[arg(long, value_enum, default_value_t = Output::Text)]
		output: Output,
	},
	/// One contract: escrow, payments and each shard's provider, status and proofs.
	Status {
		/// The contract id.
		contract: u64,
	},
	/// Store a file on the market through the node (its account pays); prints the contract id
	/// once every shard is confirmed.
	Put {
		/// The file, or `-` for standard input. A node on another machine (`--api`) is sent
		/// the bytes over HTTP; a node on this one reads the file itself.
		file: std::path::PathBuf,
		/// The name to keep it under (`photos/cat.jpg`; default: the file's path; needed with
		/// `-`); `get` finds it by that name.
		#[arg(long)]
		name: Option<String>,
		#[command(flatten)]
		options: StoreOptions,
		/// Do not renew the contract when its end draws near (`client renew` still can).
		#[arg(long)]
		no_auto_renew: bool,
	},
	/// What storing FILE would cost now, decided as `put` decides it (coding, shards, the
	/// cheapest eligible providers' price, escrow and deposits); nothing is paid. Only the
	/// file's size leaves this machine.
	Quote {
		/// The file.
		file: std::path::PathBuf,
		#[command(flatten)]
		options: StoreOptions,
		/// `text` (default) or `json` (the node's answer as it is).
		#[arg(long, value_enum, default_value_t = Output::Text)]
		output: Output,
	},
	/// Fetch a file back into OUT.
	Get {
		/// The contract id, or the name the file was stored under (its newest contract).
		file: String,
		/// Where to write the file, or `-` for standard output.
		out: std::path::PathBuf,
	},
	/// End a file's contract now: the rest of its escrow comes back to the account, and its
	/// providers delete the shards.
	Rm {
		/// The contract id, or the name the file was stored under (its newest contract).
		file: String,
	},
	/// Fetch every file of the node's account into DIR, as `<contract>-<name>`: its files are
	/// found on chain and decoded with the account's secret, so this works on a machine that
	/// never saw them (start the node with the account's key, e.g. its mnemonic).
	Restore {
		/// The directory to write the files into (made if missing).
		dir: std::path::PathBuf,
	},
	/// Keep a file longer: move its contract's end and pay the escrow for the added blocks.
	Renew {
		/// The contract id, or the name the file was stored under (its newest contract); every
		/// segment of a file cut into several is renewed.
		file: String,
		/// Blocks to add (default: the file's term).
		#[arg(long)]
		blocks: Option<u32>,
		/// Highest price per byte per block, in planck (default: what its providers ask now).
		#[arg(long)]
		max_price: Option<u128>,
	},
}

/// How `put` stores a file, and `quote` prices it.
#[derive(Debug, clap::Args)]
pub struct StoreOptions {
	/// Data shards (default: the widest of 10+6, 8+4, 6+3 and 4+2 that the market has
	/// providers for; 4 when only --m is given). A coding below six nines a year in the
	/// durability model (`docs/DURABILITY.md`) is stored with a warning.
	#[arg(long)]
	pub k: Option<u8>,
	/// Parity shards (default: with --k's, see there; 2 when only --k is given).
	#[arg(long)]
	pub m: Option<u8>,
	/// Blocks to keep it at a time (default: thirty days, renewed automatically).
	#[arg(long)]
	pub duration: Option<u32>,
	/// Highest price per byte per block, in planck (default: the market's quote).
	#[arg(long)]
	pub max_price: Option<u128>,
	/// Store the plaintext (by default the file is encrypted with a key only the account's key
	/// derives).
	#[arg(long)]
	pub no_encrypt: bool,
	/// The most bytes one contract holds: a larger file is cut into segments of this size, each
	/// stored under a contract of its own (default, and at most: what the coding's largest
	/// shards hold, about 990 MiB at 4+2; at least 256 KiB).
	#[arg(long, value_name = "BYTES")]
	pub segment_bytes: Option<u64>,
}

impl StoreOptions {
	/// The options as `cairn_upload` and `cairn_quoteUpload` take them.
	pub fn params(&self) -> serde_json::Value {
		serde_json::json!({
			"k": self.k,
			"m": self.m,
			"duration": self.duration,
			"maxPrice": self.max_price.map(|price| price.to_string()),
			"encrypt": !self.no_encrypt,
			"segmentBytes": self.segment_bytes,
		})
	}
}

/// How a command prints its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
	/// Lines for a person.
	Text,
	/// JSON for a program.
	Json,
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
