//! Dispatches the command line: runs the node or one of the maintenance subcommands.

use std::sync::Arc;

use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use cairn_runtime::opaque::Block;

/// Why `--chain cairn` is refused, and what to do instead.
const PRODUCTION_SPEC_HINT: &str = "`--chain cairn` has no built-in specification: a production \
	chain's validators and root are its operators' own keys. Write a genesis description (see \
	docs/production-genesis.example.json), build the spec with `cairn-node production-spec \
	--genesis FILE --raw --out cairn.json`, and start every node with `--chain cairn.json`.";

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Cairn Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		"The Cairn developers".into()
	}

	fn support_url() -> String {
		"https://github.com/cairn-network/cairn/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			// No built-in production spec: its validators and root are its operators' keys, which
			// this binary cannot know (and a spec with example keys would be a chain no one can
			// run).
			"cairn" => return Err(PRODUCTION_SPEC_HINT.into()),
			path => {
				Box::new(chain_spec::ChainSpec::from_json_file(std::path::PathBuf::from(path))?)
			}
		})
	}
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let mut cli = Cli::from_args();
	// Only the safe RPC methods unless asked otherwise: web pages reach a node's WebSocket RPC
	// on 127.0.0.1 (browsers apply no CORS to WebSocket), and Substrate's unsafe methods would
	// let any of them insert keys into the keystore or change the node's peers.
	let asked = |flag: &str| std::env::args_os().any(|arg| arg.to_string_lossy().starts_with(flag));
	if !asked("--rpc-methods") {
		cli.run.rpc_params.rpc_methods = sc_cli::RpcMethods::Safe;
	}
	// The single-state transaction pool unless asked otherwise. Substrate's fork-aware pool
	// (sc-transaction-pool 48) has panicked in a provider's node on a submission
	// (`fork_aware_txpool.rs`: "The number of Ok results in mempool is exactly the same as the
	// size of view_store submission result"), and bans for half an hour, on every fork, a
	// transaction one fork found unpayable; a provider's proofs cannot wait that long.
	if !asked("--pool-type") {
		cli.run.pool_config.pool_type = sc_cli::TransactionPoolType::SingleState;
	}

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		}
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		}
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		}
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		}
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		}
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let aux_revert = Box::new(|client: Arc<service::FullClient>, backend, blocks| {
					sc_consensus_babe::revert(client.clone(), backend, blocks)?;
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		}
		Some(Subcommand::Client(cmd)) => crate::client::run_client(cmd).map_err(Into::into),
		Some(Subcommand::Provider(cmd)) => crate::client::run_provider(cmd).map_err(Into::into),
		Some(Subcommand::Devnet(cmd)) => crate::devnet::run(cmd).map_err(Into::into),
		// The error's own words (which file, which field), not its debug form.
		Some(Subcommand::ProductionSpec(cmd)) => crate::production_spec::run(cmd)
			.map_err(|error| sc_cli::Error::Input(error.to_string())),
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			use frame_benchmarking_cli::BenchmarkCmd;
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => cmd
					.run_with_spec::<sp_runtime::traits::HashingFor<Block>, service::BenchmarkHostFunctions>(
						Some(config.chain_spec),
					),
				BenchmarkCmd::Machine(cmd) => {
					cmd.run(&config, frame_benchmarking_cli::SUBSTRATE_REFERENCE_HARDWARE.clone())
				}
				_ => Err("cairn-node offers `benchmark pallet` and `benchmark machine`".into()),
			})
		}
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		}
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let explorer = cli.explorer.port();
			let cairn = cli.cairn.clone();
			runner.run_node_until_exit(|config| async move {
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => {
						service::new_full::<
							sc_network::NetworkWorker<
								Block,
								<Block as sp_runtime::traits::Block>::Hash,
							>,
						>(config, explorer, cairn)
						.map_err(sc_cli::Error::Service)
					}
					sc_network::config::NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(
							config, explorer, cairn,
						)
						.map_err(sc_cli::Error::Service)
					}
				}
			})
		}
	}
}
