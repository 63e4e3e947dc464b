//! The node service: client, database, networking, BABE block production, GRANDPA finality and
//! RPC, assembled from the polkadot-sdk service components.

use std::{sync::Arc, time::Duration};

use cairn_runtime::{apis::RuntimeApi, opaque::Block};
use sc_client_api::BlockBackend;
use sc_consensus_babe::{BabeWorkerHandle, SlotProportion};
use sc_consensus_grandpa::SharedVoterState;
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_consensus_babe::SlotDuration;
use sp_runtime::traits::Block as BlockT;

#[cfg(feature = "runtime-benchmarks")]
pub use cairn_chain::full::BenchmarkHostFunctions;
pub use cairn_chain::{FullBackend, FullClient, FullPool, HostFunctions};

type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type FullGrandpaBlockImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;
type FullBabeBlockImport = sc_consensus_babe::BabeBlockImport<
	Block,
	FullClient,
	FullGrandpaBlockImport,
	InherentDataProviders,
	FullSelectChain,
>;

/// GRANDPA stores a justification at least every this many blocks, so that a syncing node can
/// check finality without replaying every vote.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// Creates the inherent data of a block: its timestamp and the BABE slot it claims.
#[derive(Clone)]
pub struct InherentDataProviders {
	slot_duration: SlotDuration,
}

#[async_trait::async_trait]
impl sp_inherents::CreateInherentDataProviders<Block, ()> for InherentDataProviders {
	type InherentDataProviders =
		(sp_consensus_babe::inherents::InherentDataProvider, sp_timestamp::InherentDataProvider);

	async fn create_inherent_data_providers(
		&self,
		_parent: <Block as BlockT>::Hash,
		_extra: (),
	) -> Result<Self::InherentDataProviders, Box<dyn std::error::Error + Send + Sync>> {
		let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
		let slot =
			sp_consensus_babe::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
				*timestamp,
				self.slot_duration,
			);
		Ok((slot, timestamp))
	}
}

/// The block import pipeline (BABE wrapping GRANDPA) and the links the consensus workers share.
pub struct ImportSetup {
	block_import: FullBabeBlockImport,
	grandpa_link: sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
	babe_link: sc_consensus_babe::BabeLink<Block>,
	babe_worker_handle: BabeWorkerHandle<Block>,
	inherent_data_providers: InherentDataProviders,
}

/// The parts of a node that the maintenance subcommands need too.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	FullPool,
	(ImportSetup, Option<Telemetry>),
>;

/// Builds the client, the database, the transaction pool and the import queue.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let babe_config = sc_consensus_babe::configuration(&*client)?;
	let slot_duration = babe_config.slot_duration();
	let inherent_data_providers = InherentDataProviders { slot_duration };
	let (block_import, babe_link) = sc_consensus_babe::block_import(
		babe_config,
		grandpa_block_import.clone(),
		client.clone(),
		inherent_data_providers.clone(),
		select_chain.clone(),
		OffchainTransactionPoolFactory::new(transaction_pool.clone()),
	)?;

	let (import_queue, babe_worker_handle) =
		sc_consensus_babe::import_queue(sc_consensus_babe::ImportQueueParams {
			link: babe_link.clone(),
			block_import: block_import.clone(),
			justification_import: Some(Box::new(grandpa_block_import)),
			client: client.clone(),
			slot_duration,
			spawner: &task_manager.spawn_essential_handle(),
			registry: config.prometheus_registry(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
		})?;

	let import_setup = ImportSetup {
		block_import,
		grandpa_link,
		babe_link,
		babe_worker_handle,
		inherent_data_providers,
	};

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (import_setup, telemetry),
	})
}

/// Builds and starts a full node: networking, RPC, and (for validators) BABE and GRANDPA voting.
pub fn new_full<N: sc_network::NetworkBackend<Block, <Block as BlockT>::Hash>>(
	config: Configuration,
	explorer_port: Option<u16>,
	cairn: crate::cli::CairnParams,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (import_setup, mut telemetry),
	} = new_partial(&config)?;
	let ImportSetup {
		block_import,
		grandpa_link,
		babe_link,
		babe_worker_handle,
		inherent_data_providers,
	} = import_setup;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as BlockT>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.expect("the genesis block is written when the client is created");
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			grandpa_protocol_name.clone(),
			metrics.clone(),
			net_config.peer_store_handle(),
		);
	net_config.add_notification_protocol(grandpa_protocol_config);

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();
	let shared_voter_state = SharedVoterState::empty();

	start_storage_services(
		&config,
		&cairn,
		&task_manager,
		client.clone(),
		transaction_pool.clone(),
		keystore_container.keystore(),
		sync_service.clone(),
	)?;

	let rpc_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		let select_chain = select_chain.clone();
		let keystore = keystore_container.keystore();
		let justification_stream = grandpa_link.justification_stream();
		let shared_authority_set = grandpa_link.shared_authority_set().clone();
		let shared_voter_state = shared_voter_state.clone();
		let finality_provider = sc_consensus_grandpa::FinalityProofProvider::new_for_service(
			backend.clone(),
			Some(shared_authority_set.clone()),
		);

		Box::new(move |subscription_executor: sc_rpc::SubscriptionTaskExecutor| {
			let deps = cairn_rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				select_chain: select_chain.clone(),
				babe: cairn_rpc::BabeDeps {
					babe_worker_handle: babe_worker_handle.clone(),
					keystore: keystore.clone(),
				},
				grandpa: cairn_rpc::GrandpaDeps {
					shared_voter_state: shared_voter_state.clone(),
					shared_authority_set: shared_authority_set.clone(),
					justification_stream: justification_stream.clone(),
					subscription_executor,
					finality_provider: finality_provider.clone(),
				},
			};
			cairn_rpc::create_full(deps).map_err(Into::into)
		})
	};

	if let Some(port) = explorer_port {
		spawn_explorer(&task_manager, port, &rpc_url(&config));
	}

	sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		);

		let babe = sc_consensus_babe::start_babe(sc_consensus_babe::BabeParams {
			keystore: keystore_container.keystore(),
			client: client.clone(),
			select_chain,
			env: proposer_factory,
			block_import,
			sync_oracle: sync_service.clone(),
			justification_sync_link: sync_service.clone(),
			create_inherent_data_providers: inherent_data_providers,
			force_authoring,
			backoff_authoring_blocks: Some(
				sc_consensus_slots::BackoffAuthoringOnFinalizedHeadLagging::default(),
			),
			babe_link,
			block_proposal_slot_portion: SlotProportion::new(0.5),
			max_block_proposal_slot_portion: None,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
		})?;
		task_manager.spawn_essential_handle().spawn_blocking(
			"babe-proposer",
			Some("block-authoring"),
			babe,
		);
	}

	if enable_grandpa {
		let keystore = if role.is_authority() { Some(keystore_container.keystore()) } else { None };
		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			protocol_name: grandpa_protocol_name,
		};
		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: sync_service,
			notification_service: grandpa_notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};
		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(task_manager)
}

/// Starts the shard network, the client service and, with `--provider`, the provider service.
fn start_storage_services(
	config: &Configuration,
	cairn: &crate::cli::CairnParams,
	task_manager: &TaskManager,
	client: Arc<FullClient>,
	pool: Arc<FullPool>,
	keystore: sp_keystore::KeystorePtr,
	sync: Arc<dyn sp_consensus::SyncOracle + Send + Sync>,
) -> Result<(), ServiceError> {
	use cairn_chain::signer;
	use cairn_files::Files;
	use cairn_provider as provider;
	let dir = config.data_path.join("cairn");
	if let Some(suri) = &cairn.cairn_key {
		signer::insert_dev_key(&keystore, suri).map_err(|e| ServiceError::Other(e.to_string()))?;
	}
	let signer = signer::Signer::from_keystore(client.clone(), pool, keystore, sync);
	match &signer {
		Some(signer) => log::info!("Cairn account {}", cairn_chain::ss58(&signer.account())),
		None => log::info!("no Cairn account in the keystore: uploads and --provider are off"),
	}
	let keypair = cairn_net::load_or_create_key(&dir.join("network_key"))
		.map_err(|e| ServiceError::Other(format!("shard network key: {e}")))?;
	let net_config = cairn_net::Config {
		listen: cairn.shard_listen.clone(),
		public: cairn.shard_public_addr.clone(),
		limits: cairn.shard_limits.limits(),
	};
	let (network, driver) = cairn_net::start(keypair, net_config)
		.map_err(|e| ServiceError::Other(format!("shard network: {e}")))?;
	log::info!("shard network peer id {}", network.peer_id());
	task_manager.spawn_essential_handle().spawn("cairn-shard-network", None, driver);

	let state = cairn_chain::signer::State::new(client.clone());
	let auto_renew = cairn_files::AutoRenew { below_percent: cairn.renew_below };
	let registry = config.prometheus_registry();
	let metrics_error = |error| ServiceError::Other(format!("Cairn metrics: {error}"));
	let client_metrics =
		cairn_files::metrics::ClientMetrics::register(registry).map_err(metrics_error)?;
	let files = Arc::new(Files::new(
		state,
		signer.clone(),
		network.clone(),
		dir.join("files"),
		auto_renew,
		client_metrics,
	));
	task_manager.spawn_handle().spawn("cairn-repair", None, files.clone().run());
	if let Some(address) = cairn.s3_addr {
		spawn_s3(task_manager, address, &dir, files.clone())?;
	}
	if let Some(address) = cairn.api_addr() {
		spawn_api(task_manager, address, &dir.join(cairn_rpc::api::TOKEN_FILE), files)?;
	}

	if cairn.provider {
		let signer = signer.ok_or_else(|| {
			ServiceError::Other(
				"--provider needs a Cairn account: --cairn-key, or a key of type \"cair\" in the \
				 keystore"
					.into(),
			)
		})?;
		let limits = cairn.shard_limits.limits();
		let config = provider::ProviderConfig {
			capacity: cairn.provider_capacity,
			price: cairn.provider_price,
			dir: dir.join("provider"),
			proving_key: cairn.proving_key.clone(),
			audit_threads: limits.audit_slots,
			// The asker's request times out, counted from before it waited for its slot.
			audit_time: limits.request_timeout.saturating_sub(limits.slot_wait),
			scrub_rate: cairn.scrub_rate,
			shards_lost: cairn.provider_shards_lost,
			restake: !cairn.provider_no_restake,
			max_shards: cairn.provider_max_shards,
		};
		let metrics =
			cairn_provider::metrics::ProviderMetrics::register(registry).map_err(metrics_error)?;
		let service = provider::Provider::start(config, client, signer, network, metrics)
			.map_err(|e| ServiceError::Other(e.to_string()))?;
		task_manager.spawn_essential_handle().spawn("cairn-provider", None, service.run());
	}
	Ok(())
}

/// Runs `bind`, a server of `what` binding `address`, from the service's set-up (which is not
/// async); its failure stops the node, with `hint`.
fn bind_now<T>(
	what: &str,
	address: std::net::SocketAddr,
	hint: &str,
	bind: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, ServiceError> {
	let runtime = tokio::runtime::Handle::current();
	tokio::task::block_in_place(|| runtime.block_on(bind))
		.map_err(|error| ServiceError::Other(format!("{what} on {address}: {error} ({hint})")))
}

/// Serves the client API on `address` for as long as the node runs; its token goes to
/// `token_file`. An address that cannot be bound stops the node: a user who asked for the API
/// must not find it missing.
fn spawn_api(
	task_manager: &TaskManager,
	address: std::net::SocketAddr,
	token_file: &std::path::Path,
	files: Arc<cairn_files::Files>,
) -> Result<(), ServiceError> {
	let server = bind_now(
		"Cairn client API",
		address,
		"choose another --api-addr, or --no-api",
		cairn_rpc::api::start(address, token_file, files),
	)?;
	log::info!("Cairn client API on {} (token in {})", server.local_addr(), token_file.display());
	if !server.local_addr().ip().is_loopback() {
		log::warn!(
			"the client API listens on {}: its token travels in clear text, so reach it only over \
			 a trusted network or through a TLS proxy",
			server.local_addr()
		);
	}
	task_manager.spawn_handle().spawn("cairn-api", None, async move {
		// Held until the node stops; dropping it stops the server and removes its token files.
		let _server = server;
		futures::future::pending::<()>().await
	});
	Ok(())
}

/// Serves the S3 gateway on `address` for as long as the node runs, its state under `dir/s3`
/// and its secret in `dir`. An address that cannot be bound stops the node, as the API's does.
fn spawn_s3(
	task_manager: &TaskManager,
	address: std::net::SocketAddr,
	dir: &std::path::Path,
	files: Arc<cairn_files::Files>,
) -> Result<(), ServiceError> {
	let secret_file = dir.join(cairn_s3::SECRET_FILE);
	let server = bind_now(
		"Cairn S3 gateway",
		address,
		"choose another --s3-addr",
		cairn_s3::S3Server::bind(address, &dir.join("s3"), &secret_file, files),
	)?;
	let bound = server.local_addr().map_err(|e| ServiceError::Other(e.to_string()))?;
	log::info!(
		"Cairn S3 gateway on http://{bound} (access key {}, secret key in {})",
		cairn_s3::ACCESS_KEY,
		secret_file.display()
	);
	if !bound.ip().is_loopback() {
		log::warn!(
			"the S3 gateway listens on {bound}: its requests are signed, but travel in clear text, \
			 so reach it only over a trusted network or through a TLS proxy"
		);
	}
	task_manager.spawn_handle().spawn("cairn-s3", None, server.run());
	Ok(())
}

/// The WebSocket address of the node's RPC server, as a browser on this machine reaches it.
fn rpc_url(config: &Configuration) -> String {
	let listen = config
		.rpc
		.addr
		.as_ref()
		.and_then(|endpoints| endpoints.first())
		.map(|endpoint| endpoint.listen_addr)
		.unwrap_or_else(|| std::net::SocketAddr::from(([127, 0, 0, 1], config.rpc.port)));
	let host = if listen.ip().is_unspecified() {
		std::net::IpAddr::from([127, 0, 0, 1])
	} else {
		listen.ip()
	};
	format!("ws://{}", std::net::SocketAddr::new(host, listen.port()))
}

/// Serves the explorer page on `127.0.0.1:port`; a port in use is reported, not fatal.
fn spawn_explorer(task_manager: &TaskManager, port: u16, rpc_url: &str) {
	let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
	match crate::explorer::Explorer::bind(address, rpc_url) {
		Ok(explorer) => {
			let address = explorer.local_addr().unwrap_or(address);
			log::info!("Cairn explorer on http://{address}/");
			task_manager.spawn_handle().spawn("cairn-explorer", None, explorer.serve());
		}
		Err(error) => log::warn!(
			"Cairn explorer not served on {address}: {error} (choose another --explorer-port, or \
			 --no-explorer)"
		),
	}
}
