//! `cairn-node devnet`: a whole Cairn network on 127.0.0.1 in one command. Three validators
//! (Alice, Bob, Charlie of the `local` chain; Alice's node is also the buyer's, with the
//! explorer) and storage providers (development accounts Dave, Eve, Ferdie and the stash
//! accounts), each a child process of this binary with its own base path and log file. Prints the
//! addresses, waits until the providers are registered, and stops every node on Ctrl-C.

use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::Duration,
};

use jsonrpsee::{core::client::ClientT, rpc_params, ws_client::WsClientBuilder};

use crate::client::Error;

/// Development accounts of the providers, in order.
const PROVIDER_KEYS: [&str; 9] = cairn_runtime::genesis_config_presets::DEV_PROVIDER_URIS;

/// The validators of the `local` chain.
const VALIDATORS: [&str; 3] = ["alice", "bob", "charlie"];

/// Shards each development provider keeps at most (`--provider-max-shards`).
const DEVNET_MAX_SHARDS: u32 = 32;

/// `cairn-node devnet`.
#[derive(Debug, clap::Args)]
pub struct DevnetCmd {
	/// Storage providers to start (at most 9; the default coding needs 6).
	#[arg(long, default_value_t = 6)]
	pub providers: usize,

	/// Where the nodes keep their data and logs (default: a new temporary directory, removed
	/// on exit).
	#[arg(long, value_name = "DIR")]
	pub base_path: Option<PathBuf>,

	/// JSON-RPC port of the buyer's node (Alice); the others take the ports after it (passing
	/// over the explorer's and the client API's).
	#[arg(long, default_value_t = 9944)]
	pub rpc_port: u16,

	/// Port of the block explorer page.
	#[arg(long, default_value_t = 9955)]
	pub explorer_port: u16,

	/// Port of the buyer's client API (uploads and downloads, for holders of its token).
	#[arg(long, default_value_t = 9966)]
	pub api_port: u16,

	/// Port of the buyer's S3 gateway (access key `cairn`, secret key in its base path's
	/// `s3.secret`).
	#[arg(long, default_value_t = 9967)]
	pub s3_port: u16,

	/// Prometheus port of the buyer's node (`/metrics`, Substrate's and Cairn's `cairn_*`); the
	/// others take the ports after it (passing over those taken above).
	#[arg(long, default_value_t = 9615)]
	pub prometheus_port: u16,

	/// First chain p2p port; the shard network takes the ports from this plus 100.
	#[arg(long, default_value_t = 30333)]
	pub p2p_port: u16,

	/// Measure instead of waiting for Ctrl-C: upload and download a random file of this many
	/// MiB once the network is up, count proofs per block, print the figures and stop.
	#[arg(long, value_name = "MIB")]
	pub bench: Option<u64>,

	/// The market's proving period in blocks (default: the local chain's 20, 40 seconds). Every
	/// node of the devnet shares this machine's cores, and a large transfer slows each proof:
	/// `--bench 2048` on two cores needs longer periods than the tests' (a real network's
	/// periods are an hour).
	#[arg(long, value_name = "BLOCKS")]
	pub proving_period: Option<cairn_runtime::BlockNumber>,
}

struct Node {
	name: String,
	child: Child,
}

struct Nodes(Vec<Node>);

impl Drop for Nodes {
	/// Stops every node: SIGTERM (a clean shutdown), then SIGKILL after ten seconds.
	fn drop(&mut self) {
		for node in &self.0 {
			// SAFETY: `kill` with a child's pid and a signal number has no memory effects.
			unsafe { libc::kill(node.child.id() as libc::pid_t, libc::SIGTERM) };
		}
		let deadline = std::time::Instant::now() + Duration::from_secs(10);
		for node in &mut self.0 {
			while std::time::Instant::now() < deadline {
				if let Ok(Some(_)) = node.child.try_wait() {
					break;
				}
				std::thread::sleep(Duration::from_millis(100));
			}
			if node.child.try_wait().ok().flatten().is_none() {
				let _ = node.child.kill();
				let _ = node.child.wait();
			}
		}
	}
}

/// Peer id of the chain network key `key` (a 32-byte ed25519 secret).
fn chain_peer_id(key: [u8; 32]) -> Result<String, Error> {
	let mut secret = key;
	let keypair = libp2p::identity::Keypair::ed25519_from_bytes(&mut secret)
		.map_err(|e| format!("node key: {e}"))?;
	Ok(keypair.public().to_peer_id().to_base58())
}

fn spawn(exe: &Path, dir: &Path, name: &str, args: Vec<String>) -> Result<Node, Error> {
	let log_path = dir.join(format!("{name}.log"));
	let log = std::fs::File::create(&log_path)
		.map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
	let stderr = log.try_clone().map_err(|e| e.to_string())?;
	let child = Command::new(exe)
		.args(args)
		.stdin(Stdio::null())
		.stdout(log)
		.stderr(stderr)
		.spawn()
		.map_err(|e| format!("cannot start {name}: {e}"))?;
	Ok(Node { name: name.to_string(), child })
}

/// `count` ports from `first` up, passing over those in `taken`.
fn ports(first: u16, count: usize, taken: &[u16]) -> Result<Vec<u16>, Error> {
	let free: Vec<u16> =
		(first..=u16::MAX).filter(|port| !taken.contains(port)).take(count).collect();
	if free.len() < count {
		return Err(format!("no {count} free ports from {first} up"));
	}
	Ok(free)
}

/// Runs the network until Ctrl-C.
pub fn run(cmd: &DevnetCmd) -> Result<(), Error> {
	if cmd.providers > PROVIDER_KEYS.len() {
		return Err(format!("at most {} providers", PROVIDER_KEYS.len()));
	}
	let exe = std::env::current_exe().map_err(|e| e.to_string())?;
	let (dir, temporary) = match &cmd.base_path {
		Some(dir) => (dir.clone(), false),
		None => (std::env::temp_dir().join(format!("cairn-devnet-{}", std::process::id())), true),
	};
	std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;

	// Fixed chain network keys: node `i` has `[i + 1; 32]` (validators need one).
	let node_key = |index: usize| [index as u8 + 1; 32];
	let bootnode_key = node_key(0);
	let bootnode =
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", cmd.p2p_port, chain_peer_id(bootnode_key)?);
	// One development proving key for every provider (making it takes seconds and gigabytes).
	let keys_dir = dir.join("keys");
	let proving_key = keys_dir.join(cairn_prover::keys::PROVING_KEY_FILE);
	// A key of an older circuit (left by an earlier run in the same directory) is made again.
	let verifying_key = std::fs::read(keys_dir.join(cairn_prover::keys::VERIFYING_KEY_FILE));
	let current = verifying_key.is_ok_and(|key| key == cairn_prover::keys::DEV_VERIFYING_KEY);
	if !proving_key.exists() || !current {
		println!("making the development proving key");
		let keys = cairn_prover::prover::dev_setup(cairn_prover::DEFAULT_CHALLENGES)
			.map_err(|e| format!("proving key: {e}"))?;
		cairn_prover::keys::write_key_files(
			&keys_dir,
			keys.proving_key(),
			cairn_prover::DEFAULT_CHALLENGES,
		)
		.map_err(|e| format!("proving key: {e}"))?;
	}
	let chain = match cmd.proving_period {
		None => "local".to_string(),
		Some(blocks) => {
			let spec = crate::chain_spec::local_chain_spec_with_proving_period(blocks)?;
			let json = sc_service::ChainSpec::as_json(&spec, false)?;
			let path = dir.join("chain-spec.json");
			std::fs::write(&path, json)
				.map_err(|e| format!("cannot write {}: {e}", path.display()))?;
			path.display().to_string()
		}
	};
	let total = VALIDATORS.len() + cmd.providers;
	// The nodes' RPC and Prometheus ports run from the first ones up, past the explorer's and
	// the client API's (twelve nodes' RPC ports from 9944 would reach the explorer's 9955).
	let fixed = [cmd.explorer_port, cmd.api_port, cmd.s3_port];
	let rpc_ports = ports(cmd.rpc_port, total, &fixed)?;
	let mut taken = rpc_ports.clone();
	taken.extend(fixed);
	let prometheus_ports = ports(cmd.prometheus_port, total, &taken)?;
	let mut nodes = Nodes(Vec::new());
	for index in 0..total {
		let (name, mut role_args) = if index < VALIDATORS.len() {
			let name = VALIDATORS[index].to_string();
			(name.clone(), vec!["--validator".to_string(), format!("--{name}")])
		} else {
			let key = PROVIDER_KEYS[index - VALIDATORS.len()];
			(
				format!("provider{}", index - VALIDATORS.len() + 1),
				vec![
					"--provider".into(),
					"--cairn-key".into(),
					key.into(),
					"--proving-key".into(),
					proving_key.display().to_string(),
					// All providers prove on the same few cores, in 40-second periods: each
					// keeps a fixed number of shards rather than what its share of the
					// machine would prove (one or two).
					"--provider-max-shards".into(),
					DEVNET_MAX_SHARDS.to_string(),
				],
			)
		};
		if index == 0 {
			// The buyer's node: Alice's account uploads, and the explorer is served here.
			role_args.extend(["--cairn-key".into(), "//Alice".into()]);
			role_args.extend(["--explorer-port".into(), cmd.explorer_port.to_string()]);
			role_args.extend(["--api-addr".into(), format!("127.0.0.1:{}", cmd.api_port)]);
			role_args.extend(["--s3-addr".into(), format!("127.0.0.1:{}", cmd.s3_port)]);
		} else {
			role_args.extend(["--no-explorer".into(), "--no-api".into()]);
			role_args.extend(["--bootnodes".into(), bootnode.clone()]);
		}
		let offset = index as u16;
		let mut args = vec![
			"--chain".to_string(),
			chain.clone(),
			"--base-path".into(),
			dir.join(&name).display().to_string(),
			"--name".into(),
			name.clone(),
			"--listen-addr".into(),
			format!("/ip4/127.0.0.1/tcp/{}", cmd.p2p_port + offset),
			"--rpc-port".into(),
			rpc_ports[index].to_string(),
			"--shard-listen".into(),
			format!("/ip4/127.0.0.1/tcp/{}", cmd.p2p_port + 100 + offset),
			"--prometheus-port".into(),
			prometheus_ports[index].to_string(),
			"--no-telemetry".into(),
			"--no-mdns".into(),
			// Only the chain's safe methods on the RPC port: web pages reach it too (browsers
			// do not apply CORS to WebSocket), and the node's own files are the client API's.
			"--rpc-methods".into(),
			"safe".into(),
		];
		args.extend(["--node-key".into(), hex::encode(node_key(index))]);
		args.extend(role_args);
		nodes.0.push(spawn(&exe, &dir, &name, args)?);
	}

	let rpc = format!("ws://127.0.0.1:{}", cmd.rpc_port);
	println!(
		"Cairn devnet: {} validators and {} providers on 127.0.0.1",
		VALIDATORS.len(),
		cmd.providers
	);
	for (index, node) in nodes.0.iter().enumerate() {
		println!(
			"  {:<10} pid {:>7}  rpc ws://127.0.0.1:{}  metrics http://127.0.0.1:{}/metrics  log {}",
			node.name,
			node.child.id(),
			rpc_ports[index],
			prometheus_ports[index],
			dir.join(format!("{}.log", node.name)).display()
		);
	}
	let api = format!("ws://127.0.0.1:{}", cmd.api_port);
	println!("buyer (//Alice) RPC {rpc}, client API {api} (token in its base path)");
	println!("explorer http://127.0.0.1:{}/", cmd.explorer_port);
	println!(
		"S3 gateway http://127.0.0.1:{} (access key {}, secret key in {})",
		cmd.s3_port,
		cairn_s3::ACCESS_KEY,
		dir.join(&nodes.0[0].name)
			.join("chains/cairn_local/cairn")
			.join(cairn_s3::SECRET_FILE)
			.display()
	);

	let outcome = tokio::runtime::Builder::new_multi_thread()
		.worker_threads(1)
		.enable_all()
		.build()
		.map_err(|e| e.to_string())?
		.block_on(watch(&mut nodes, &rpc, &api, cmd.providers, cmd.bench, &dir));
	drop(nodes);
	if temporary {
		let _ = std::fs::remove_dir_all(&dir);
	}
	outcome
}

/// Reports when the providers are registered, then runs the benchmark, if asked for, or waits
/// for Ctrl-C or a node's exit.
async fn watch(
	nodes: &mut Nodes,
	rpc: &str,
	api: &str,
	providers: usize,
	bench: Option<u64>,
	dir: &Path,
) -> Result<(), Error> {
	let mut ready = false;
	let mut tick = tokio::time::interval(Duration::from_secs(1));
	let ctrl_c = tokio::signal::ctrl_c();
	tokio::pin!(ctrl_c);
	loop {
		tokio::select! {
			_ = &mut ctrl_c => {
				println!("stopping the devnet");
				return Ok(());
			}
			_ = tick.tick() => {
				for node in &mut nodes.0 {
					if let Ok(Some(status)) = node.child.try_wait() {
						return Err(format!("{} exited ({status}); see its log", node.name));
					}
				}
				if !ready {
					if let Ok(client) = WsClientBuilder::default().build(rpc).await {
						let registered: Result<Vec<serde_json::Value>, _> =
							client.request("cairn_providers", rpc_params![]).await;
						if registered.is_ok_and(|list| list.len() >= providers) {
							ready = true;
							if let Some(mib) = bench {
								println!("ready: {providers} providers registered");
								let buyer = nodes.0[0].child.id();
								return crate::bench::run(rpc, api, dir, mib, buyer).await;
							}
							println!("ready: {providers} providers registered; try `cairn-node client put FILE`");
						}
					}
				}
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn twelve_nodes_pass_over_the_explorer_and_api_ports() {
		let rpc = ports(9944, 12, &[9955, 9966]).unwrap();
		assert_eq!(rpc.first(), Some(&9944));
		assert_eq!(rpc.last(), Some(&9956));
		assert!(!rpc.contains(&9955));
		let mut taken = rpc.clone();
		taken.extend([9955, 9966]);
		let metrics = ports(9950, 12, &taken).unwrap();
		assert!(metrics.iter().all(|port| !taken.contains(port)), "{metrics:?}");
		assert!(ports(u16::MAX - 1, 3, &[]).is_err());
	}
}
