//! The whole product on 127.0.0.1: three validators of the `local` chain and storage providers,
//! each a `cairn-node` process. The buyer (Alice's validator) uploads a 16 MiB random file with
//! `cairn_upload` on its client API (k = 4, m = 2); the providers store, confirm and prove it and are paid; the
//! file comes back byte for byte. Then a byte of a stored shard is corrupted: the provider finds
//! it, stops proving it, and the shard is repaired onto a spare provider, which proves it. Then
//! two providers are killed: the download still returns the exact bytes, the chain records their
//! faults and slashes them, and their shards are repaired onto other providers, who prove them.
//! In the other run, one provider is flooded on its shard network (ten times its connection
//! limit, thousands of hanging streams, audits and forged reads) for three proving periods: its
//! memory stays bounded, it still dials out, the owner's reads keep their speed and its proofs
//! land in every period. Then, for three more periods, an attacker fills every block with the
//! largest remarks a normal transaction may carry, each tipped ten tokens: every due proof still
//! lands (within its period or its grace), and no shard is faulted. Last, a buyer's node is
//! killed with SIGKILL at every stage of an upload and finishes it from its journal when started
//! again. A smaller network (one validator, one provider) overcommits a provider: it proves what
//! it can, the rest are faulted, and it takes no shard beyond the limit its measured pace allows.

use std::{
	path::Path,
	time::{Duration, Instant},
};

use anyhow::{ensure, Context};
use cairn_tests::{metrics::Metrics, rpc, Node, NodeConfig};
use jsonrpsee::{
	core::client::{ClientT, Subscription, SubscriptionClientT},
	rpc_params,
	ws_client::WsClient,
};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use serde_json::{json, Value};

/// Providers' development accounts, in start order: six for the contract, three spares.
const PROVIDERS: [&str; 9] = cairn_runtime::genesis_config_presets::DEV_PROVIDER_URIS;

/// Providers' inbound shard-network connections at most (below the default, so that ten times
/// as many attackers are a few hundred tasks).
const INBOUND_LIMIT: u32 = 32;

/// Most the flood may add to the flooded provider's resident memory: what the shard network's
/// budgets allow strangers (`docs/SECURITY.md`: 64 MiB of requests being read, 64 pieces of
/// `Put`s in flight, 32 MiB of unsent audit responses, connection buffers), with room for the
/// owner's reads.
const FLOOD_MEMORY_BOUND: u64 = 256 << 20;

/// Waits on new blocks until `check` gives a value.
struct Blocks {
	heads: Subscription<Value>,
}

impl Blocks {
	async fn new(rpc: &WsClient) -> anyhow::Result<Self> {
		Ok(Self { heads: rpc::subscribe_new_heads(rpc).await? })
	}

	/// Evaluates `check` now and after every new block, until it returns `Some` or `limit` ends.
	async fn until<T, F, Fut>(
		&mut self,
		what: &str,
		limit: Duration,
		mut check: F,
	) -> anyhow::Result<T>
	where
		F: FnMut() -> Fut,
		Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
	{
		let deadline = tokio::time::Instant::now() + limit;
		loop {
			if let Some(value) = check().await? {
				return Ok(value);
			}
			match tokio::time::timeout_at(deadline, self.heads.next()).await {
				Ok(Some(Ok(_))) => {}
				Ok(_) => anyhow::bail!("new-heads subscription closed waiting for {what}"),
				Err(_) => anyhow::bail!("timed out after {limit:?} waiting for {what}"),
			}
		}
	}
}

async fn contract(rpc: &WsClient, id: u64) -> anyhow::Result<Value> {
	let value: Value = rpc.request("cairn_contract", rpc_params![id]).await?;
	ensure!(!value.is_null(), "contract {id} not found");
	Ok(value)
}

fn shards(contract: &Value) -> Vec<Value> {
	contract["shards"].as_array().cloned().unwrap_or_default()
}

async fn providers(rpc: &WsClient) -> anyhow::Result<Vec<Value>> {
	Ok(rpc.request("cairn_providers", rpc_params![]).await?)
}

fn provider_config(dir: &Path, index: usize, key_file: &Path, bootnode: &str) -> NodeConfig {
	let mut config = NodeConfig::new("local", &dir.join(format!("provider{index}")), None);
	config.bootnodes = vec![bootnode.to_string()];
	config.extra_args = vec![
		"--provider".into(),
		"--cairn-key".into(),
		PROVIDERS[index].into(),
		"--proving-key".into(),
		key_file.display().to_string(),
		"--no-explorer".into(),
		"--shard-max-inbound".into(),
		INBOUND_LIMIT.to_string(),
		// Nine to twelve nodes share two cores: each provider's measured pace would keep one
		// or two shards. Here the limit leaves the offered capacity as configured;
		// `an_overcommitted_provider_proves_what_it_can` tests the measured one.
		"--provider-max-shards".into(),
		"1000".into(),
	];
	config
}

async fn download(files: &WsClient, id: u64, out: &Path) -> anyhow::Result<Vec<u8>> {
	let _ = std::fs::remove_file(out);
	let result: Value = files
		.request("cairn_download", rpc_params![json!({ "contract": id, "path": out })])
		.await
		.context("cairn_download")?;
	ensure!(result["bytes"].as_u64().is_some(), "download result {result}");
	Ok(std::fs::read(out)?)
}

/// Starts an upload of `path`, coded `k + m`, through a client API; its progress updates.
async fn subscribe_upload(
	api: &WsClient,
	path: &Path,
	k: u8,
	m: u8,
) -> anyhow::Result<Subscription<Value>> {
	api.subscribe(
		"cairn_subscribeUpload",
		rpc_params![json!({ "path": path, "k": k, "m": m })],
		"cairn_unsubscribeUpload",
	)
	.await
	.context("cairn_subscribeUpload")
}

/// The next progress update of an upload; an `error` stage is an error.
async fn next_update(updates: &mut Subscription<Value>) -> anyhow::Result<Value> {
	let update = updates.next().await.context("the upload subscription ended")??;
	ensure!(update["stage"] != "error", "upload failed: {update}");
	Ok(update)
}

/// Uploads `input` through the buyer's client API while a stranger on the shard network tries to
/// slip pieces into the upload (forged and misused grants, garbage, replayed real pieces): every
/// piece of the stranger's is refused with its reason, and the upload completes with every
/// shard confirmed. Returns the contract and the upload's result.
async fn upload_past_a_stranger(
	buyer_node: &Node,
	buyer: &WsClient,
	files: &WsClient,
	input: &Path,
) -> anyhow::Result<(u64, Value)> {
	use cairn_tests::stranger::{targets, Stranger};
	let line = buyer_node.wait_for_log("shard network peer id", Duration::from_secs(10)).await?;
	let uploader: cairn_net::PeerId = line
		.split_whitespace()
		.last()
		.context("a peer id")?
		.parse()
		.context("the buyer's peer id")?;
	let owner = sp_keyring::Sr25519Keyring::Alice.pair();
	let best = rpc::header(buyer, None).await?.number;
	let stranger = Stranger::start(rpc::genesis_hash(buyer).await?.0, best + 600)?;

	let mut updates = subscribe_upload(files, input, 4, 2).await?;
	let id = loop {
		let update = next_update(&mut updates).await?;
		if update["stage"] == "sending" {
			break update["contract"].as_u64().context("contract id")?;
		}
	};
	// The stranger strikes while the owner's node sends the shards.
	let shards = targets(buyer, id).await?;
	let attack = async {
		let mut refusals = Vec::new();
		for target in &shards {
			refusals.extend(stranger.try_everything(target, &owner, &uploader).await?);
		}
		Ok::<_, anyhow::Error>(refusals)
	};
	let finish = async {
		loop {
			let update = next_update(&mut updates).await?;
			if update["stage"] == "done" {
				return Ok::<_, anyhow::Error>(update);
			}
		}
	};
	let (refusals, done) = tokio::join!(attack, finish);
	let (refusals, done) = (refusals?, done?);
	ensure!(refusals.len() == 5 * shards.len(), "every trick refused: {refusals:#?}");
	// Real pieces, replayed once stored: to their own shard and to another one.
	for (source, target) in [(&shards[0], &shards[0]), (&shards[0], &shards[1])] {
		stranger.replay(source, target, &owner, &uploader).await?;
	}
	eprintln!("a stranger's {} pieces were refused: {:?}", refusals.len() + 2, refusals[0]);
	Ok((id, done))
}

/// The contract's current proving period, as `cairn_proofs` reports it.
async fn current_period(rpc: &WsClient, id: u64) -> anyhow::Result<u64> {
	let record: Value = rpc.request("cairn_proofs", rpc_params![id]).await?;
	record["currentPeriod"].as_u64().with_context(|| format!("no current period: {record}"))
}

/// Flips one byte of shard data in a stopped provider's store (keys of shard data chunks start
/// with `c`; see `cairn_storage::store`).
fn corrupt_store(store: &Path) -> anyhow::Result<()> {
	let db = rocksdb::DB::open_default(store).context("opening the provider's shard store")?;
	let (key, mut value) = db
		.prefix_iterator(b"c")
		.filter_map(Result::ok)
		.find(|(key, _)| key.first() == Some(&b'c'))
		.context("the store holds no shard data")?;
	let middle = value.len() / 2;
	value[middle] ^= 0x40;
	db.put(&key, &value)?;
	db.flush()?;
	Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_store_prove_and_get_paid_and_the_file_comes_back() -> anyhow::Result<()> {
	run_network(false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_and_dead_providers_shards_are_repaired() -> anyhow::Result<()> {
	run_network(true).await
}

/// The development proving key, written to a file in `dir`; the file.
async fn dev_proving_key(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
	let keys_dir = dir.join("keys");
	let keys_dir_for_setup = keys_dir.clone();
	tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
		let keys = cairn_prover::prover::dev_setup(cairn_prover::DEFAULT_CHALLENGES)?;
		cairn_prover::keys::write_key_files(
			&keys_dir_for_setup,
			keys.proving_key(),
			cairn_prover::DEFAULT_CHALLENGES,
		)?;
		Ok(())
	})
	.await??;
	Ok(keys_dir.join(cairn_prover::keys::PROVING_KEY_FILE))
}

/// The development proving key, three validators (Alice's node is the buyer's) and the first
/// `providers` of [`PROVIDERS`], registered and ready to prove; with the key file and a
/// bootnode address.
async fn start_network(
	dir: &Path,
	providers: usize,
) -> anyhow::Result<(Vec<Node>, Vec<Option<Node>>, std::path::PathBuf, String)> {
	// One development proving key for every provider.
	let key_file = dev_proving_key(dir).await?;

	// Three validators; Alice's node is the buyer's. Their pools hold 80 MB, not the default 20:
	// the remark flood's attacker keeps three 3.9 MB remarks ahead, and a pool also keeps the
	// remarks of blocks not final yet. With the default the attacker's remarks were dropped
	// ("immediately dropped", 1016) and a third of its blocks went unfilled: the test makes the
	// attack as strong as it can be.
	let pool = ["--pool-kbytes".to_string(), "81920".to_string()];
	let mut alice_config = NodeConfig::new("local", &dir.join("alice"), Some("alice"));
	alice_config.extra_args = vec!["--cairn-key".into(), "//Alice".into(), "--no-explorer".into()];
	alice_config.extra_args.extend(pool.iter().cloned());
	let s3 = format!("127.0.0.1:{}", cairn_tests::node::free_port()?);
	alice_config.extra_args.extend(["--s3-addr".to_string(), s3]);
	let alice = Node::start(alice_config)?;
	alice.wait_ready().await?;
	let bootnode = alice.multiaddr().await?;
	let mut validators = vec![alice];
	for name in ["bob", "charlie"] {
		let mut config = NodeConfig::new("local", &dir.join(name), Some(name));
		config.bootnodes = vec![bootnode.clone()];
		config.extra_args = vec!["--no-explorer".into()];
		config.extra_args.extend(pool.iter().cloned());
		validators.push(Node::start(config)?);
	}
	let mut nodes: Vec<Option<Node>> = Vec::new();
	for index in 0..providers {
		nodes.push(Some(Node::start(provider_config(dir, index, &key_file, &bootnode))?));
	}
	let rpc = validators[0].rpc().await?;
	// Every node compiles the WASM runtime as it starts, and a provider registers only once it
	// has caught up: nine nodes starting together on two cores have taken over four minutes.
	Blocks::new(&rpc)
		.await?
		.until(&format!("{providers} registered providers"), Duration::from_secs(480), || async {
			Ok((self::providers(&rpc).await?.len() >= providers).then_some(()))
		})
		.await?;
	for node in nodes.iter().flatten() {
		node.wait_for_log("prover ready", Duration::from_secs(240)).await?;
	}
	Ok((validators, nodes, key_file, bootnode))
}

/// One provider holds more shards than its prover can keep proven: it proves as many as it can
/// in time and the rest are faulted (not all), and it takes no shard beyond the limit it
/// measured. A development chain of one validator (Alice's node, the buyer's, and root) and one
/// provider that measures its own pace: it takes one-shard files up to its limit, then root
/// shortens the proving period to a quarter, so that the shards it holds need about twice the
/// proofs it can make.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overcommitted_provider_proves_what_it_can() -> anyhow::Result<()> {
	const SHORT_PERIOD: u32 = 5;
	let started = Instant::now();
	let dir = tempfile::tempdir()?;
	let dir = dir.path();
	let key_file = dev_proving_key(dir).await?;
	let mut alice_config = NodeConfig::dev(&dir.join("alice"));
	alice_config.extra_args = vec!["--cairn-key".into(), "//Alice".into(), "--no-explorer".into()];
	let alice = Node::start(alice_config)?;
	alice.wait_ready().await?;
	let mut provider_config = provider_config(dir, 0, &key_file, &alice.multiaddr().await?);
	provider_config.chain = "dev".into();
	// Its own measured limit, not the one the other network tests set.
	let at = provider_config.extra_args.iter().position(|arg| arg == "--provider-max-shards");
	provider_config.extra_args.drain(at.context("the tests' limit")?..=at.context("limit")? + 1);
	let provider = Node::start(provider_config)?;
	let rpc = alice.rpc().await?;
	let files = alice.api().await?;
	let mut blocks = Blocks::new(&rpc).await?;
	let account = provider_account(0)?;
	let record = || async {
		let all = providers(&rpc).await?;
		Ok(all.into_iter().find(|p| p["account"] == account.as_str()))
	};
	blocks.until("the provider registered", Duration::from_secs(240), record).await?;
	let limit_of = |line: &str| -> anyhow::Result<u32> {
		let after = line.split("keeps at most ").nth(1).context("a limit")?;
		Ok(after.split_whitespace().next().context("a number")?.parse()?)
	};
	let line = provider.wait_for_log("the prover keeps at most", Duration::from_secs(240)).await?;
	let limit = limit_of(&line)?;
	eprintln!("overcommit: up after {:?}; {line}", started.elapsed());
	ensure!(limit >= 3, "a provider that keeps fewer than 3 shards cannot show this: {line}");

	// One-shard files up to one below its limit (the pace it measures moves a little): proving
	// them takes about half of a normal period, so about twice a period a quarter as long,
	// whatever this machine's pace. At most 24 (a prover faster than 0.8 s a proof would need
	// more files than that to be overcommitted by the short period).
	let count = (limit - 1).min(24) as usize;
	let uploads = (0..count).map(|index| {
		let path = dir.join(format!("small-{index}.bin"));
		let files = &files;
		async move {
			let mut data = vec![0u8; 64 << 10];
			ChaCha20Rng::seed_from_u64(100 + index as u64).fill_bytes(&mut data);
			std::fs::write(&path, &data)?;
			let upload: Value = files
				.request("cairn_upload", rpc_params![json!({ "path": path, "k": 1, "m": 0 })])
				.await?;
			upload["contract"].as_u64().context("the contract")
		}
	});
	let ids = cairn_tests::within(
		Duration::from_secs(300),
		"the uploads",
		futures::future::try_join_all(uploads),
	)
	.await?;
	eprintln!("overcommit: {count} one-shard files stored after {:?}", started.elapsed());

	// Root shortens the periods: the shards held now need about twice the proofs it can make.
	let context = cairn_tests::tx::chain_context(&rpc).await?;
	let call = cairn_runtime::RuntimeCall::Sudo(pallet_sudo::Call::sudo {
		call: Box::new(cairn_runtime::RuntimeCall::Market(
			pallet_market::Call::set_proving_period { blocks: SHORT_PERIOD },
		)),
	});
	let alice_key = sp_keyring::Sr25519Keyring::Alice;
	cairn_tests::tx::submit(&rpc, context, alice_key, call, cairn_tests::tx::Until::InBlock)
		.await?;
	blocks
		.until("a short period", Duration::from_secs(120), || async {
			Ok((current_period_length(&rpc, ids[0]).await? == u64::from(SHORT_PERIOD))
				.then_some(()))
		})
		.await?;
	let short_from = current_period(&rpc, ids[0]).await?;
	let proven = || async {
		let mut total = 0;
		for id in &ids {
			total += shards(&contract(&rpc, *id).await?)
				.iter()
				.map(|shard| shard["proofs"].as_u64().unwrap_or(0))
				.sum::<u64>();
		}
		Ok::<_, anyhow::Error>(total)
	};
	let faults = || async {
		Ok::<_, anyhow::Error>(record().await?.and_then(|p| p["faults"].as_u64()).unwrap_or(0))
	};
	let (proven_before, faults_before) = (proven().await?, faults().await?);
	ensure!(faults_before == 0, "no fault before the periods shortened: {faults_before}");

	// It proves some and passes over the rest, and says why; its limit falls below them.
	let round = blocks
		.until("a round that proves some and passes over others", Duration::from_secs(180), || {
			let lines = provider.log_lines("proving round at period");
			async move { Ok(lines.into_iter().find(|line| proves_and_passes_over(line))) }
		})
		.await?;
	eprintln!("overcommit: {round}");
	let line = blocks
		.until("the limit below the shards held", Duration::from_secs(60), || {
			let last = provider.log_lines("the prover keeps at most").pop();
			async move { Ok(last.filter(|line| limit_of(line).is_ok_and(|limit| limit < count as u32))) }
		})
		.await?;
	eprintln!("overcommit: {line}");

	// The chain: proofs accepted after the periods shortened, and faults for the rest.
	let (proven_after, faults_after) = blocks
		.until("both proofs and faults", Duration::from_secs(240), || async {
			let (proven, faults) = (proven().await?, faults().await?);
			Ok((proven > proven_before && faults > faults_before).then_some((proven, faults)))
		})
		.await?;
	eprintln!(
		"overcommit: from period {short_from} on, {} proofs accepted and {} periods faulted \
		 for {count} shards",
		proven_after - proven_before,
		faults_after - faults_before
	);

	// No room for another shard: the upload finds no provider, or the provider declines it.
	let before = record().await?.context("the provider")?;
	let path = dir.join("one-more.bin");
	std::fs::write(&path, vec![9u8; 64 << 10])?;
	let mut updates = subscribe_upload(&files, &path, 1, 0).await?;
	let refused = async {
		loop {
			match updates.next().await {
				Some(Ok(update)) if update["stage"] == "error" => return Ok(update.to_string()),
				Some(Ok(update)) if update["stage"] == "done" => {
					anyhow::bail!("a shard beyond the limit was stored: {update}")
				}
				Some(Ok(_)) => {}
				Some(Err(error)) => return Ok(error.to_string()),
				None => return Ok("the upload ended".to_string()),
			}
		}
	};
	let declined = provider.wait_for_log("declining", Duration::from_secs(120));
	let outcome = tokio::select! {
		refused = refused => refused?,
		declined = declined => declined?,
	};
	eprintln!("overcommit: one more file: {outcome}");
	blocks
		.until("no shard taken beyond the limit", Duration::from_secs(60), || async {
			let after = record().await?.context("the provider")?;
			Ok((after["shards"].as_u64() <= before["shards"].as_u64()).then_some(()))
		})
		.await?;
	eprintln!("overcommit: passed in {:?}", started.elapsed());
	Ok(())
}

/// Whether a proving round's log line says it made proofs and passed over others.
fn proves_and_passes_over(line: &str) -> bool {
	let first_number = |text: &str| -> Option<u64> { text.split_whitespace().next()?.parse().ok() };
	// "proving round at period P: M of N due proofs made, R sent again, S passed over (…)"
	let made = line
		.split("proving round at period ")
		.nth(1)
		.and_then(|rest| first_number(rest.split_once(": ")?.1));
	let passed = line.split(" sent again, ").nth(1).and_then(first_number);
	made.is_some_and(|n| n > 0) && passed.is_some_and(|n| n > 0)
}

#[test]
fn a_round_that_proves_some_and_passes_over_others_is_recognised() {
	let line = |made, passed| {
		format!(
			"2026-12-04 23:10:00 INFO cairn-provider: proving round at period 12: {made} of 5 due \
			 proofs made, 0 sent again, {passed} passed over (they could not be made and \
			 included before their deadline; 2.9 s a proof)"
		)
	};
	assert!(proves_and_passes_over(&line(2, 3)));
	assert!(!proves_and_passes_over(&line(0, 5)));
	assert!(!proves_and_passes_over(&line(5, 0)));
}

/// Runs the network and the upload; with `repairs`, also the corruption and provider deaths.
async fn run_network(repairs: bool) -> anyhow::Result<()> {
	let started = Instant::now();
	let dir = tempfile::tempdir()?;
	let dir = dir.path();

	let (validators, mut nodes, key_file, bootnode) = start_network(dir, 6).await?;
	let buyer = validators[0].rpc().await?;
	let files = validators[0].api().await?;
	let mut blocks = Blocks::new(&buyer).await?;
	eprintln!("network up after {:?}", started.elapsed());

	// Upload 16 MiB of random bytes.
	let mut file = vec![0u8; 16 << 20];
	ChaCha20Rng::seed_from_u64(6).fill_bytes(&mut file);
	let input = dir.join("input.bin");
	std::fs::write(&input, &file)?;
	let (id, upload) = upload_past_a_stranger(&validators[0], &buyer, &files, &input).await?;
	ensure!(upload["sent"] == 6, "every shard sent: {upload}");

	// All shards confirmed, then proven and paid in at least two periods each.
	blocks
		.until("all shards confirmed", Duration::from_secs(120), || async {
			let c = contract(&buyer, id).await?;
			Ok(shards(&c).iter().all(|s| s["status"] == "active").then_some(()))
		})
		.await?;
	let proven = blocks
		.until("two accepted proofs per shard", Duration::from_secs(360), || async {
			let c = contract(&buyer, id).await?;
			Ok(shards(&c).iter().all(|s| s["proofs"].as_u64() >= Some(2)).then_some(c))
		})
		.await?;
	let paid: u128 = proven["paid"].as_str().context("paid")?.parse()?;
	ensure!(paid > 0, "providers were paid: {proven}");
	let record: Value = buyer.request("cairn_proofs", rpc_params![id]).await?;
	ensure!(record["shards"].as_array().map(Vec::len) == Some(6), "cairn_proofs: {record}");
	eprintln!("stored, proven twice and paid after {:?}", started.elapsed());

	let out = dir.join("output.bin");
	ensure!(download(&files, id, &out).await? == file, "the downloaded file differs");
	if !repairs {
		a_range_reads_its_stripes_alone(&files, &proven, &file).await?;
		let provider = nodes[0].as_ref().context("provider 0")?;
		let counted =
			metrics_count_the_file(&validators[0], provider, &mut blocks, file.len()).await?;
		flood_a_provider(&nodes, &buyer, &mut blocks, id).await?;
		flood_blocks_with_remarks(&validators, &nodes, &buyer, &mut blocks, id).await?;
		uploads_survive_kills(dir, &bootnode, &mut blocks, &buyer).await?;
		let provider = nodes[0].as_ref().context("provider 0")?;
		metrics_move(&counted, &provider.metrics().await?)?;
		return an_empty_store_is_refused(dir, &mut nodes, &key_file, &bootnode).await;
	}

	// A second buyer loses its node and its disk; a new node, given only the buyer's written-down
	// secret, finds and downloads its three files, and repairs the one it keeps below.
	let (restored_node, restored) =
		restore_from_the_secret(dir, &bootnode, &mut blocks, &buyer).await?;

	// A small file kept for two periods at a time: the buyer's node renews it on its own, and
	// it stays proven and paid past its first end, through the repairs below.
	let mut small = vec![0u8; 200 << 10];
	ChaCha20Rng::seed_from_u64(7).fill_bytes(&mut small);
	let term = 2 * current_period_length(&buyer, id).await?;
	let quote = quoted_as_uploaded(&files, small.len(), term).await?;
	let upload: Value = files
		.request(
			"cairn_upload",
			rpc_params![json!({ "data": format!("0x{}", hex::encode(&small)), "duration": term })],
		)
		.await?;
	for field in ["k", "m", "shardBytes", "escrow", "duration"] {
		ensure!(upload[field] == quote[field], "{field}: quoted {quote}, uploaded {upload}");
	}
	let renewed_id = upload["contract"].as_u64().context("the small file's contract")?;
	let first_end = upload["end"].as_u64().context("its end")?;
	streamed_by_name(&validators[0], &files).await?;

	// Three spare providers join.
	for index in 6..9 {
		nodes.push(Some(Node::start(provider_config(dir, index, &key_file, &bootnode))?));
	}
	blocks
		.until("nine registered providers", Duration::from_secs(240), || async {
			Ok((providers(&buyer).await?.len() >= 9).then_some(()))
		})
		.await?;

	// A flipped byte in shard 0's store: its provider must find it, prove nothing from it and
	// report the loss, and the shard is repaired onto a spare provider, which proves it.
	let original: Vec<String> = shards(&proven)
		.iter()
		.map(|s| s["provider"].as_str().unwrap_or_default().to_string())
		.collect();
	let shard0_provider = original[0].clone();
	let stake_of = |registry: &[Value], account: &str| -> anyhow::Result<u128> {
		let record = registry
			.iter()
			.find(|p| p["account"] == account)
			.with_context(|| format!("{account} is registered"))?;
		Ok(record["stake"].as_str().context("stake")?.parse()?)
	};
	// Registered with the stake its capacity requires, no more.
	let required_stake = stake_of(&providers(&buyer).await?, &shard0_provider)?;
	let holder = find_node_of(&nodes, &shard0_provider).await?;
	{
		let node = nodes[holder].as_mut().context("running")?;
		ensure!(node.stop(Duration::from_secs(30))?, "provider stopped cleanly");
	}
	// Proofs made before the stop may still land, but none for a later period.
	let stopped_in = current_period(&buyer, id).await?;
	let store =
		dir.join(format!("provider{holder}")).join("chains/cairn_local/cairn/provider/shards");
	corrupt_store(&store)?;
	let restarted = Node::start(provider_config(dir, holder, &key_file, &bootnode))?;
	if let Err(error) = restarted.wait_for_log("is lost", Duration::from_secs(180)).await {
		eprintln!("restarted provider {holder}:\n{}", restarted.log_lines("cairn").join("\n"));
		return Err(error);
	}
	// The report is in a block, and did not fail there.
	let reported = format!("reporting the loss of shard {id}/0: done in block");
	restarted.wait_for_log(&reported, Duration::from_secs(90)).await?;
	let reported_at = (Instant::now(), rpc::header(&buyer, None).await?.number);
	nodes[holder] = Some(restarted);
	let repaired = blocks
		.until("shard 0 repaired and proven elsewhere", Duration::from_secs(420), || async {
			let c = contract(&buyer, id).await?;
			let s = &shards(&c)[0];
			if s["provider"] == shard0_provider.as_str() {
				let last = s["lastProven"].as_u64();
				ensure!(
					last.is_none_or(|period| period <= stopped_in),
					"a proof from the corrupted store was accepted (period {last:?}, stopped \
					 in {stopped_in}): {s}"
				);
			}
			// `lastProven` restarts with the new provider.
			Ok((s["provider"] != shard0_provider.as_str()
				&& s["status"] == "active"
				&& s["lastProven"].is_u64())
			.then_some(c))
		})
		.await?;
	eprintln!(
		"repair: the corrupted shard, reported lost in block {}, moved, rebuilt, confirmed and \
		 proven in {:.0} s ({} blocks)",
		reported_at.1,
		reported_at.0.elapsed().as_secs_f64(),
		rpc::header(&buyer, None).await?.number - reported_at.1,
	);
	// The loss was slashed; the provider tops its stake up again from its free balance, so that
	// it stays eligible for new shards.
	let reporter = nodes[holder].as_ref().context("running")?;
	reporter.wait_for_log("restoring the stake", Duration::from_secs(120)).await?;
	blocks
		.until("the slashed provider's stake restored", Duration::from_secs(120), || async {
			let stake = stake_of(&providers(&buyer).await?, &shard0_provider)?;
			Ok((stake >= required_stake).then_some(()))
		})
		.await?;

	// Two providers die.
	let current: Vec<String> = shards(&repaired)
		.iter()
		.map(|s| s["provider"].as_str().unwrap_or_default().to_string())
		.collect();
	let stakes_before = providers(&buyer).await?;
	let mut killed = Vec::new();
	let died_at = (Instant::now(), rpc::header(&buyer, None).await?.number);
	for shard in [1usize, 2] {
		let index = find_node_of(&nodes, &current[shard]).await?;
		let mut node = nodes[index].take().context("running")?;
		node.stop(Duration::ZERO)?;
		killed.push(current[shard].clone());
	}
	ensure!(download(&files, id, &out).await? == file, "download with two providers gone");
	eprintln!("downloaded with two providers dead after {:?}", started.elapsed());

	// Lost after `MaxConsecutiveFaults` missed periods and one of grace, then moved, sent,
	// confirmed and proven: about seven periods of 40 s, more on a busy machine.
	let repaired = blocks
		.until(
			"both dead providers' shards repaired and proven",
			Duration::from_secs(600),
			|| async {
				let c = contract(&buyer, id).await?;
				let s = shards(&c);
				let done = [1usize, 2].iter().all(|&i| {
					!killed.contains(&s[i]["provider"].as_str().unwrap_or_default().to_string())
						&& s[i]["status"] == "active"
						&& s[i]["lastProven"].is_u64()
				});
				Ok(done.then_some(c))
			},
		)
		.await;
	let final_state = match repaired {
		Ok(state) => {
			let blocks_taken = rpc::header(&buyer, None).await?.number - died_at.1;
			let length = current_period_length(&buyer, id).await?;
			eprintln!(
				"repair: two dead providers' shards, found lost by missed proofs, moved, rebuilt, \
				 confirmed and proven in {:.0} s ({blocks_taken} blocks, {:.1} proving periods)",
				died_at.0.elapsed().as_secs_f64(),
				f64::from(blocks_taken) / length as f64,
			);
			state
		}
		Err(error) => {
			eprintln!("the contract: {:#}", contract(&buyer, id).await?);
			eprintln!("the buyer's node:\n{}", validators[0].log_lines("cairn").join("\n"));
			return Err(error);
		}
	};
	let registry = providers(&buyer).await?;
	for dead in &killed {
		let record = registry
			.iter()
			.find(|p| p["account"] == dead.as_str())
			.context("dead provider still registered")?;
		ensure!(record["faults"].as_u64() >= Some(1), "faults recorded: {record}");
		ensure!(
			stake_of(&registry, dead)? < stake_of(&stakes_before, dead)?,
			"{dead} was slashed: {record}"
		);
	}
	let paid_now = final_state["paid"].as_str().unwrap_or("0").parse::<u128>()?;
	ensure!(paid_now > paid, "payments continued");
	proven_past_its_first_end(&mut blocks, &buyer, renewed_id, first_end).await?;
	repaired_by_the_restored_node(&mut blocks, &buyer, &restored_node, &restored, &killed).await?;
	ensure!(download(&files, id, &out).await? == file, "download after the repairs");
	eprintln!("repaired twice and downloaded after {:?}", started.elapsed());

	// The owner ends the contract: its escrow's rest comes back, and every provider that holds
	// one of its shards deletes it once the end is final.
	let holders: Vec<(usize, u32)> = {
		let mut holders = Vec::new();
		for (index, shard) in shards(&final_state).iter().enumerate() {
			let account = shard["provider"].as_str().unwrap_or_default();
			holders.push((find_node_of(&nodes, account).await?, index as u32));
		}
		holders
	};
	let context = cairn_tests::tx::chain_context(&buyer).await?;
	let end =
		cairn_runtime::RuntimeCall::Market(pallet_market::Call::end_contract { contract: id });
	let included = cairn_tests::tx::submit(
		&buyer,
		context,
		sp_keyring::Sr25519Keyring::Alice,
		end,
		cairn_tests::tx::Until::InBlock,
	)
	.await?;
	ensure!(
		included.events.iter().any(|event| matches!(
			event,
			cairn_runtime::RuntimeEvent::Market(pallet_market::Event::ContractEnded {
				early: true,
				..
			})
		)),
		"the contract ended: {:?}",
		included.events
	);
	for (node, shard) in holders {
		let node = nodes[node].as_ref().context("running")?;
		node.wait_for_log(
			&format!("shard {id}/{shard} is no longer ours"),
			Duration::from_secs(120),
		)
		.await?;
	}
	// Last, so that its 64 MiB object's proofs do not share the cores with the repairs above.
	stored_through_s3(&validators[0], &files, dir).await?;
	eprintln!("done after {:?}", started.elapsed());
	Ok(())
}

/// A few bytes of a stored file, asked for by range, come back fetched from the stripes that
/// hold them, not from whole shards; ranges that are empty or past the end are refused in words.
async fn a_range_reads_its_stripes_alone(
	files: &WsClient,
	contract: &Value,
	file: &[u8],
) -> anyhow::Result<()> {
	let id = contract["id"].as_u64().context("the contract's id")?;
	let k = contract["k"].as_u64().context("k")?;
	let shard_bytes = shards(contract)[0]["bytes"].as_u64().context("shard bytes")?;
	for (first, last) in
		[(5_000_000usize, 5_000_099usize), (0, 0), (file.len() - 3, file.len() - 1)]
	{
		let read: Value = files
			.request(
				"cairn_download",
				rpc_params![json!({ "contract": id, "range": [first, last] })],
			)
			.await
			.context("a ranged cairn_download")?;
		let data =
			hex::decode(read["data"].as_str().context("inline data")?.trim_start_matches("0x"))?;
		ensure!(data == file[first..=last], "the bytes {first}-{last}: {read:#}");
		let fetched = read["fetched"].as_u64().context("fetched")?;
		ensure!(
			fetched > 0 && fetched * 4 <= k * shard_bytes,
			"the bytes {first}-{last} fetched {fetched} bytes of {k} shards of {shard_bytes}"
		);
	}
	for range in [[10, 5], [0, file.len() as u64]] {
		let (code, message) = rpc_error(
			files,
			"cairn_download",
			rpc_params![json!({ "contract": id, "range": range })],
		)
		.await?;
		ensure!(
			code == jsonrpsee::types::error::INVALID_PARAMS_CODE
				&& message.contains("is not within the file's"),
			"the range {range:?}: {code} {message}"
		);
	}
	Ok(())
}

/// A buyer with a new account (a fresh twelve-word mnemonic, funded by Bob, whose validator
/// sends nothing of its own) uploads three files through its own node, which then dies with its
/// base path. A new node on a new base path, started with nothing but the mnemonic, lists the
/// three files from the chain and `client restore` writes them back byte-exact. Returns the new
/// node, left running to repair them, and the files by contract.
async fn restore_from_the_secret(
	dir: &Path,
	bootnode: &str,
	blocks: &mut Blocks,
	rpc: &WsClient,
) -> anyhow::Result<(Node, Vec<(u64, Vec<u8>)>)> {
	use sp_core::Pair;
	let (pair, secret, _) = sp_core::sr25519::Pair::generate_with_phrase(None);
	ensure!(secret.split_whitespace().count() == 12, "a twelve-word mnemonic: {secret}");
	let funded_in = fund_new_account(rpc, &pair).await?;
	let config = |name: &str| {
		let mut config = NodeConfig::new("local", &dir.join(name), None);
		config.bootnodes = vec![bootnode.to_string()];
		config.extra_args = vec!["--cairn-key".into(), secret.clone(), "--no-explorer".into()];
		config
	};
	let mut lost = Node::start(config("buyer"))?;
	lost.wait_ready().await?;
	caught_up(blocks, &lost, funded_in).await?;
	let api = lost.api().await?;
	let mut stored = Vec::new();
	for (seed, size) in [(20u64, 1usize), (21, 70_000), (22, 300_000)] {
		let mut data = vec![0u8; size];
		ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut data);
		let upload: Value = api
			.request(
				"cairn_upload",
				rpc_params![json!({ "data": format!("0x{}", hex::encode(&data)) })],
			)
			.await?;
		stored.push((upload["contract"].as_u64().context("the contract")?, data));
	}
	blocks
		.until("the three files' shards confirmed", Duration::from_secs(180), || async {
			for (id, _) in &stored {
				let c = contract(rpc, *id).await?;
				if !shards(&c).iter().all(|s| s["status"] == "active") {
					return Ok(None);
				}
			}
			Ok(Some(()))
		})
		.await?;
	lost.stop(Duration::ZERO)?;
	std::fs::remove_dir_all(dir.join("buyer"))?;

	let node = Node::start(config("new-buyer"))?;
	node.wait_ready().await?;
	let api = node.api().await?;
	blocks
		.until("the new node lists the three files", Duration::from_secs(180), || async {
			let files: Vec<Value> = api.request("cairn_files", rpc_params![]).await?;
			Ok((files.len() == stored.len() && files.iter().all(|f| f["name"].is_string()))
				.then_some(()))
		})
		.await?;
	let out = dir.join("restored");
	let token = node.api_token().await?;
	let printed = cairn_tests::node::cli(&[
		"client",
		"--api",
		&node.api_url(),
		"--token",
		&token,
		"restore",
		&out.display().to_string(),
	])?;
	ensure!(printed.contains("restored 3 files"), "client restore printed:\n{printed}");
	for (id, data) in &stored {
		let back = std::fs::read(out.join(format!("{id}-file")))
			.with_context(|| format!("contract {id}'s file restored"))?;
		ensure!(back == *data, "contract {id}'s file comes back byte-exact");
	}
	// What the new node keeps of them holds no key, and only its user may read it.
	let kept = node.config.base_path.join("chains/cairn_local/cairn/files");
	for entry in std::fs::read_dir(&kept)? {
		use std::os::unix::fs::PermissionsExt;
		let entry = entry?;
		let metadata = entry.metadata()?;
		let private = if metadata.is_dir() { 0o700 } else { 0o600 };
		let mode = metadata.permissions().mode() & 0o777;
		ensure!(mode == private, "{} is open to others: {mode:o}", entry.path().display());
	}
	eprintln!("three files restored from the secret alone");
	// Two of them are ended: two cores prove only so many shards a period, and the one kept is
	// enough to show the new node repairing.
	let context = cairn_tests::tx::chain_context(rpc).await?;
	let kept = stored.split_off(2);
	for (id, _) in &stored {
		let end =
			cairn_runtime::RuntimeCall::Market(pallet_market::Call::end_contract { contract: *id });
		cairn_tests::tx::submit_by(rpc, context, &pair, end, cairn_tests::tx::Until::InBlock)
			.await
			.with_context(|| format!("ending contract {id}"))?;
	}
	Ok((node, kept))
}

/// Gives `account` 1,000 tokens from Bob (whose validator sends nothing of its own); returns
/// the number of the block that did, once it is finalized: a best block could be left on a fork,
/// and a node following the other branch would refuse the account's first transaction for want
/// of fees.
async fn fund_new_account(rpc: &WsClient, account: &sp_core::sr25519::Pair) -> anyhow::Result<u32> {
	use cairn_runtime::{currency::UNITS, RuntimeCall};
	use cairn_tests::tx::{self, Until};
	use sp_core::Pair;
	let fund = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: sp_runtime::AccountId32::from(account.public()).into(),
		value: 1_000 * UNITS,
	});
	let context = tx::chain_context(rpc).await?;
	let funded = tx::submit(rpc, context, sp_keyring::Sr25519Keyring::Bob, fund, Until::Finalized);
	Ok(rpc::header(rpc, Some(funded.await?.block)).await?.number)
}

/// Waits until `node` has caught up with the chain and finalized block `past`: until then it
/// refuses to sign (its transaction pool would judge by an old state), and a best block of the
/// same height could lie on a branch without what `past` holds.
async fn caught_up(blocks: &mut Blocks, node: &Node, past: u32) -> anyhow::Result<()> {
	let own = node.rpc().await?;
	blocks
		.until(
			"the buyer's node has caught up with the chain",
			Duration::from_secs(180),
			|| async {
				let health: Value = own.request("system_health", rpc_params![]).await?;
				let finalized = rpc::finalized_number(&own).await?;
				Ok((health["isSyncing"] == false && finalized >= past).then_some(()))
			},
		)
		.await
}

/// A buyer's node is killed (SIGKILL) at each stage of an upload of a 4 MiB file (its
/// contract signed and sent; the contract made; part of its shards' bytes sent; every byte sent
/// and none confirmed yet) and started again on its base path. Every time, the node finishes
/// the upload by itself from its journal: the contract's shards are all confirmed, the file
/// comes back byte-exact, and the journal is empty. No contract is left waiting for its data.
/// A provider started on an empty base path while the chain lists shards it keeps (a wrong
/// path, a disk not mounted) refuses to run and says why, rather than reporting them all lost.
/// The buyer's and a provider's `cairn_*` metrics, once the file is stored, proven and
/// downloaded: its bytes went out and came back, the provider stores and proves its shard, and
/// finalized blocks paid it. Returns the provider's.
async fn metrics_count_the_file(
	buyer: &Node,
	provider: &Node,
	blocks: &mut Blocks,
	file_bytes: usize,
) -> anyhow::Result<Metrics> {
	let file_bytes = file_bytes as f64;
	let client = buyer.metrics().await?;
	for (name, labels, least) in [
		("cairn_client_uploads_total", &[("outcome", "sent")][..], 1.0),
		("cairn_client_uploaded_bytes_total", &[], file_bytes),
		// Coded: the parity shards are sent too.
		("cairn_client_shard_bytes_sent_total", &[], file_bytes * 1.5),
		("cairn_client_downloads_total", &[("outcome", "complete")], 1.0),
		("cairn_client_downloaded_bytes_total", &[], file_bytes),
		("cairn_client_contracts", &[], 1.0),
	] {
		let value = client.value(name, labels);
		ensure!(value >= least, "the buyer's {name}{labels:?} is {value}, not at least {least}");
	}
	ensure!(client.value("cairn_client_escrow_cairn", &[]) > 0.0, "the buyer's escrow: {client:?}");
	// Payments count from finalized blocks, which trail the best block.
	let ours = blocks
		.until("a provider's metrics count a payment", Duration::from_secs(120), || async {
			let ours = provider.metrics().await?;
			Ok((ours.value("cairn_provider_earned_cairn_total", &[]) > 0.0).then_some(ours))
		})
		.await?;
	for (name, labels, least) in [
		("cairn_provider_shards", &[("status", "active")][..], 1.0),
		("cairn_provider_received_bytes_total", &[], 1.0),
		("cairn_provider_stored_bytes", &[], 1.0),
		("cairn_provider_proofs_total", &[("outcome", "made")], 2.0),
		("cairn_provider_proofs_total", &[("outcome", "submitted")], 2.0),
		("cairn_provider_proofs_total", &[("outcome", "accepted")], 1.0),
		("cairn_provider_proving_seconds_count", &[], 2.0),
	] {
		let value = ours.value(name, labels);
		ensure!(value >= least, "the provider's {name}{labels:?} is {value}, not at least {least}");
	}
	let (stake, required) = (
		ours.value("cairn_provider_stake_cairn", &[]),
		ours.value("cairn_provider_stake_required_cairn", &[]),
	);
	ensure!(required > 0.0 && stake >= required, "stake {stake} against {required} required");
	eprintln!(
		"metrics: the provider made {} proofs ({} accepted, {:.6} CAIRN earned); the buyer sent \
		 {} shard bytes",
		ours.value("cairn_provider_proofs_total", &[("outcome", "made")]),
		ours.value("cairn_provider_proofs_total", &[("outcome", "accepted")]),
		ours.value("cairn_provider_earned_cairn_total", &[]),
		client.value("cairn_client_shard_bytes_sent_total", &[]),
	);
	Ok(ours)
}

/// Periods later, the provider's proofs and earnings have moved on.
fn metrics_move(before: &Metrics, after: &Metrics) -> anyhow::Result<()> {
	for (name, labels) in [
		("cairn_provider_proofs_total", &[("outcome", "made")][..]),
		("cairn_provider_proofs_total", &[("outcome", "accepted")]),
		("cairn_provider_earned_cairn_total", &[]),
		("cairn_provider_proving_seconds_count", &[]),
	] {
		let (then, now) = (before.value(name, labels), after.value(name, labels));
		ensure!(now > then, "the provider's {name}{labels:?} stayed at {then} (now {now})");
	}
	eprintln!(
		"metrics moved: {} proofs accepted, {:.6} CAIRN earned, {} missed periods",
		after.value("cairn_provider_proofs_total", &[("outcome", "accepted")]),
		after.value("cairn_provider_earned_cairn_total", &[]),
		after.value("cairn_provider_missed_periods_total", &[]),
	);
	Ok(())
}

async fn an_empty_store_is_refused(
	dir: &Path,
	nodes: &mut [Option<Node>],
	key_file: &Path,
	bootnode: &str,
) -> anyhow::Result<()> {
	nodes[0].take().context("provider 0 runs")?.stop(Duration::from_secs(30))?;
	let mut config = provider_config(dir, 0, key_file, bootnode);
	config.base_path = dir.join("provider0-elsewhere");
	let mut node = Node::start(config)?;
	let said = node
		.wait_for_log("is empty, but the chain lists", Duration::from_secs(180))
		.await
		.with_context(|| node.log_tail(30))?;
	let status = node.wait_exit(Duration::from_secs(60))?;
	ensure!(!status.success(), "the node stopped with an error: {status}");
	ensure!(node.log_lines("reporting the loss").is_empty(), "it reported nothing lost");
	eprintln!("a provider on an empty store refused to run: {said}");
	Ok(())
}

async fn uploads_survive_kills(
	dir: &Path,
	bootnode: &str,
	blocks: &mut Blocks,
	rpc: &WsClient,
) -> anyhow::Result<()> {
	use sp_core::{crypto::Ss58Codec, Pair};
	let (pair, secret, _) = sp_core::sr25519::Pair::generate_with_phrase(None);
	let account = sp_runtime::AccountId32::from(pair.public()).to_ss58check_with_version(
		sp_core::crypto::Ss58AddressFormat::custom(cairn_runtime::SS58_PREFIX),
	);
	let funded_in = fund_new_account(rpc, &pair).await?;
	let base = dir.join("killed-buyer");
	let start = || {
		let mut config = NodeConfig::new("local", &base, None);
		config.bootnodes = vec![bootnode.to_string()];
		config.extra_args = vec!["--cairn-key".into(), secret.clone(), "--no-explorer".into()];
		Node::start(config)
	};
	let mut file = vec![0u8; 4 << 20];
	ChaCha20Rng::seed_from_u64(30).fill_bytes(&mut file);
	let input = dir.join("killed-upload.bin");
	std::fs::write(&input, &file)?;
	let journal = base.join("chains/cairn_local/cairn/files/uploads");
	let owned = |contracts: Vec<Value>| -> Vec<Value> {
		contracts.into_iter().filter(|c| c["owner"] == account.as_str()).collect()
	};

	type Stage = (&'static str, fn(&Value) -> bool);
	let stages: [Stage; 4] = [
		("its contract signed and sent", |u| u["stage"] == "submitted"),
		("its contract made", |u| u["stage"] == "sending" && u["sent"].is_null()),
		("part of its bytes sent", |u| {
			u["stage"] == "sending"
				&& u["sent"]
					.as_u64()
					.is_some_and(|sent| sent > 0 && sent < u["total"].as_u64().unwrap_or(0) / 2)
		}),
		("every byte sent, none confirmed", |u| u["stage"] == "sent"),
	];
	let mut node = start()?;
	node.wait_ready().await?;
	caught_up(blocks, &node, funded_in).await?;
	for (when, reached) in stages {
		let before: Vec<u64> = owned(rpc.request("cairn_contracts", rpc_params![]).await?)
			.iter()
			.filter_map(|c| c["id"].as_u64())
			.collect();
		let api = node.api().await?;
		let mut updates = subscribe_upload(&api, &input, 4, 2).await?;
		loop {
			let update = match next_update(&mut updates).await {
				Ok(update) => update,
				Err(error) => {
					eprintln!("providers: {:#}", Value::from(providers(rpc).await?));
					return Err(error);
				}
			};
			ensure!(update["stage"] != "done", "the upload ended before {when}: {update}");
			if reached(&update) {
				break;
			}
		}
		node.kill()?;
		let killed_at = Instant::now();
		node = start()?;
		node.wait_ready().await?;
		let what = format!("the upload killed at {when} finished by the restarted node");
		let finished = blocks
			.until(&what, Duration::from_secs(300), || async {
				let contracts = owned(rpc.request("cairn_contracts", rpc_params![]).await?);
				let new: Vec<&Value> = contracts
					.iter()
					.filter(|c| c["id"].as_u64().is_some_and(|id| !before.contains(&id)))
					.collect();
				let pending = std::fs::read_dir(&journal).map(|d| d.count()).unwrap_or(0);
				let done = new.len() == 1
					&& shards(new[0]).iter().all(|s| s["status"] == "active")
					&& pending == 0;
				Ok(if done { new[0]["id"].as_u64() } else { None })
			})
			.await?;
		let files = node.api().await?;
		let out = dir.join("killed-upload.back");
		ensure!(download(&files, finished, &out).await? == file, "killed at {when}: byte-exact");
		eprintln!(
			"upload killed at {when}: finished by the restarted node {:.0} s later (contract \
			 {finished})",
			killed_at.elapsed().as_secs_f64()
		);
	}
	// Nothing of the account is left waiting for its data.
	for c in owned(rpc.request("cairn_contracts", rpc_params![]).await?) {
		ensure!(shards(&c).iter().all(|s| s["status"] == "active"), "left half-made: {c}");
	}
	Ok(())
}

/// Waits until every shard of the restored buyer's file that lay on a `killed` provider has
/// been rebuilt by its new node and confirmed elsewhere; then one file comes back whole.
async fn repaired_by_the_restored_node(
	blocks: &mut Blocks,
	rpc: &WsClient,
	node: &Node,
	restored: &[(u64, Vec<u8>)],
	killed: &[String],
) -> anyhow::Result<()> {
	let repaired = blocks
		.until("the restored files repaired", Duration::from_secs(600), || async {
			for (id, _) in restored {
				let c = contract(rpc, *id).await?;
				let done = shards(&c).iter().all(|s| {
					!killed.iter().any(|dead| s["provider"] == dead.as_str())
						&& s["status"] == "active"
				});
				if !done {
					return Ok(None);
				}
			}
			Ok(Some(()))
		})
		.await;
	if let Err(error) = repaired {
		for (id, _) in restored {
			eprintln!("contract {id}: {:#}", contract(rpc, *id).await?);
		}
		eprintln!("the restored node:\n{}", node.log_lines("cairn").join("\n"));
		return Err(error);
	}
	let (id, data) = restored.last().context("the file kept")?;
	let out = node.config.base_path.join("repaired.bin");
	ensure!(download(&node.api().await?, *id, &out).await? == *data, "a repaired file comes back");
	eprintln!("the restored node repaired its files");
	Ok(())
}

/// The length of contract `id`'s current proving period, in blocks.
async fn current_period_length(rpc: &WsClient, id: u64) -> anyhow::Result<u64> {
	let record: Value = rpc.request("cairn_proofs", rpc_params![id]).await?;
	record["periodLength"].as_u64().with_context(|| format!("no current period: {record}"))
}

/// Waits until contract `id`, whose first term ended at block `first_end`, has been renewed and
/// one of its shards proven (and paid) for a period that opened at or after that block.
async fn proven_past_its_first_end(
	blocks: &mut Blocks,
	rpc: &WsClient,
	id: u64,
	first_end: u64,
) -> anyhow::Result<()> {
	let proven = blocks
		.until("a renewed contract proven past its first end", Duration::from_secs(240), || async {
			let record: Value = rpc.request("cairn_proofs", rpc_params![id]).await?;
			let field =
				|name: &str| record[name].as_u64().with_context(|| format!("{name} in {record}"));
			let (current, start, length) =
				(field("currentPeriod")?, field("periodStart")?, field("periodLength")?);
			// The first period that opened at or after `first_end` (periods keep one length).
			let Some(first_after) =
				start.checked_sub(first_end).map(|since| current - since / length)
			else {
				return Ok(None);
			};
			let past = shards(&record)
				.iter()
				.any(|shard| shard["lastProven"].as_u64().is_some_and(|p| p >= first_after));
			Ok(past.then_some(first_after))
		})
		.await?;
	let renewed = contract(rpc, id).await?;
	ensure!(renewed["end"].as_u64() > Some(first_end), "renewed: {renewed}");
	ensure!(renewed["paid"] != "0", "paid: {renewed}");
	eprintln!("contract {id}: renewed to block {}, proven in period {proven}", renewed["end"]);
	Ok(())
}

/// Waits for the next proving period of contract `id` to start; returns it.
async fn next_period(blocks: &mut Blocks, rpc: &WsClient, id: u64) -> anyhow::Result<u64> {
	period_after(blocks, rpc, id, Duration::from_secs(120)).await
}

/// Waits up to `limit` for the proving period after the current one of contract `id` to open.
async fn period_after(
	blocks: &mut Blocks,
	rpc: &WsClient,
	id: u64,
	limit: Duration,
) -> anyhow::Result<u64> {
	let now = current_period(rpc, id).await?;
	blocks
		.until("the next proving period", limit, || async {
			let period = current_period(rpc, id).await?;
			Ok((period > now).then_some(period))
		})
		.await
}

/// Floods the provider of shard 0 of contract `id` on its shard network for three proving
/// periods and checks that it holds: the owner's reads keep 80 % of their speed (the median of
/// three samples within a whole period before and during the flood), its memory stays within
/// [`FLOOD_MEMORY_BOUND`], it uploads a file of its own (dialing out to the other providers),
/// and its proofs land in every period.
async fn flood_a_provider(
	nodes: &[Option<Node>],
	buyer: &WsClient,
	blocks: &mut Blocks,
	id: u64,
) -> anyhow::Result<()> {
	use cairn_tests::{
		flood::{
			cpu_seconds, on_client_cores, read_throughput, resident_bytes, Flood, PeakMemory, Plan,
			Tally,
		},
		stranger::{targets, Stranger},
	};
	const MIB: f64 = (1 << 20) as f64;
	let target = targets(buyer, id).await?.remove(0);
	let record = contract(buyer, id).await?;
	let account = shards(&record)[0]["provider"].as_str().context("provider")?.to_string();
	let provider = nodes[find_node_of(nodes, &account).await?].as_ref().context("running")?;
	let pid = provider.pid().context("the provider runs")?;
	let faults_of = |registry: Vec<Value>| -> anyhow::Result<u64> {
		let record = registry.iter().find(|p| p["account"] == account.as_str());
		record.and_then(|p| p["faults"].as_u64()).context("the provider's faults")
	};
	// The owner's node reads its shard: a fresh peer for each measurement, holding the owner's
	// grant (the test holds the owner's development key).
	let owner = sp_keyring::Sr25519Keyring::Alice.pair();
	let genesis = rpc::genesis_hash(buyer).await?.0;
	let best = rpc::header(buyer, None).await?.number;
	// Bytes per second read, the median of three 12-second samples (the other eight nodes share
	// the machine's cores: a sample that overlaps their proving or block import measures them,
	// not the flood, and one sample may be far off either way), and the provider's CPU use
	// meanwhile (cores).
	let measure = |expires: u32| {
		let (target, owner) = (target.clone(), owner.clone());
		on_client_cores(move || async move {
			let reader = Stranger::start(genesis, expires)?;
			let grant = reader.grant(&owner, &target, &reader.peer_id());
			// The first sample meets every provider proving as the period opens; the median of
			// three is what the provider serves when the machine is not busy with that, without
			// resting on one lucky sample (one of 250 MiB/s beside 85 and 218 in one run).
			let sample = Duration::from_secs(12);
			let (cpu, started) = (cpu_seconds(pid)?, Instant::now());
			let mut speeds = Vec::new();
			for _ in 0..3 {
				speeds.push(read_throughput(reader.network(), &target, &grant, sample).await?);
			}
			let cores = (cpu_seconds(pid)? - cpu) / started.elapsed().as_secs_f64();
			let samples: Vec<_> = speeds.iter().map(|s| format!("{:.1}", s / MIB)).collect();
			eprintln!("flood: read samples {} MiB/s", samples.join(", "));
			speeds.sort_by(f64::total_cmp);
			Ok((speeds[1], cores))
		})
	};

	// A whole period unflooded.
	next_period(blocks, buyer, id).await?;
	let (baseline, baseline_cores) = measure(best + 600).await?;

	// The flood starts with the next period.
	let flooded_from = next_period(blocks, buyer, id).await?;
	let proofs_before =
		shards(&contract(buyer, id).await?)[0]["proofs"].as_u64().context("proofs")?;
	let faults_before = faults_of(providers(buyer).await?)?;
	let resident_before = resident_bytes(pid)?;
	let memory = PeakMemory::watch(pid);
	let plan = Plan {
		connections: 10 * INBOUND_LIMIT as usize,
		hanging_per_connection: 8,
		readers: 16,
		reads_per_second: 64,
	};
	let flood = Flood::start(&target, &plan)?;
	eprintln!("flood: started on the provider with pid {pid}");

	// A whole period flooded, by a reader that connects in the middle of the flood.
	next_period(blocks, buyer, id).await?;
	let (flooded, flooded_cores) = measure(best + 600).await?;

	// It still dials out: it uploads a file of its own to the other providers (after the
	// measurement, so that proving the new shards does not weigh on it).
	let api = provider.api().await?;
	let data = format!("0x{}", hex::encode(vec![0x5a; 64 << 10]));
	let upload: Value =
		cairn_tests::within(Duration::from_secs(120), "the flooded provider's own upload", async {
			Ok(api
				.request("cairn_upload", rpc_params![json!({ "data": data, "k": 4, "m": 2 })])
				.await?)
		})
		.await?;
	ensure!(upload["sent"] == 6, "the flooded provider's upload reached every provider: {upload}");
	let flooded_until = next_period(blocks, buyer, id).await?;
	let peak = memory.peak();
	let tally = flood.tally.clone();
	eprintln!("flood: {}", tally.summary());
	drop(flood);

	let shard = shards(&contract(buyer, id).await?)[0].clone();
	let proofs = shard["proofs"].as_u64().context("proofs")?;
	let ratio = flooded / baseline;
	eprintln!(
		"flood: the owner read {:.1} MiB/s flooded, {:.1} MiB/s unflooded ({:.0} %; the provider \
		 used {flooded_cores:.2} and {baseline_cores:.2} cores); provider memory {:.0} MiB \
		 before, {:.0} MiB at most during the flood (+{:.0} MiB); proofs of periods \
		 {flooded_from}..{flooded_until}: {}",
		flooded / MIB,
		baseline / MIB,
		100.0 * ratio,
		resident_before as f64 / MIB,
		peak as f64 / MIB,
		peak.saturating_sub(resident_before) as f64 / MIB,
		proofs - proofs_before,
	);
	ensure!(
		Tally::get(&tally.connected) >= plan.connections as u64,
		"the flood made as many connections as planned: {}",
		tally.summary()
	);
	ensure!(
		Tally::get(&tally.hanging) >= 2_000,
		"thousands of hanging streams: {}",
		tally.summary()
	);
	// The bar guards against a collapse (reads starved, or failing), not the figure: on two
	// cores shared by nine nodes and the attacker, runs with the same defences have kept from
	// 45 % to 101 % (docs/PERFORMANCE.md, where the benchmark's figures are kept).
	ensure!(ratio >= 1.0 / 3.0, "the owner's reads kept {:.0} % of their speed", 100.0 * ratio);
	ensure!(
		peak.saturating_sub(resident_before) <= FLOOD_MEMORY_BOUND,
		"the flood grew the provider's memory by {} MiB",
		peak.saturating_sub(resident_before) >> 20
	);
	let periods = flooded_until - flooded_from;
	ensure!(
		proofs >= proofs_before + periods
			&& shard["lastProven"].as_u64() == Some(flooded_until - 1)
			&& shard["consecutiveFaults"] == 0,
		"a proof for each of the {periods} flooded periods landed: {shard}"
	);
	ensure!(faults_of(providers(buyer).await?)? == faults_before, "no fault while flooded");
	Ok(())
}

/// "Proof censorship for pennies": for three proving periods an attacker (a funded account that
/// is neither a validator nor a provider) keeps every validator's pool supplied with the largest
/// remarks a normal transaction may carry, each tipped ten tokens, which outbid any untipped
/// transaction of the normal class and leave no room for one beside them. Checks, on the
/// finalized blocks of those periods, that:
///
/// - most of them carry such a remark (the normal class's block length less 1 KiB), and nearly
///   most others carry proofs instead, none both: proofs ranked first by `PrioritizeProofs`
///   leave the remark no room (ranked after it, they would have fitted in the operational share);
/// - every shard that was active before the flood had a proof accepted for each flooded period
///   within that period or its grace (`ProofAccepted` events; the last period's grace lies past
///   the flood, so its proofs are counted, not required), and the shard records agree
///   (`lastProven`, the `proofs` counter, no consecutive faults);
/// - no `ShardFaulted`, `LossReported` or `ShardLost`, and no provider's fault count moved.
///
/// Reports the blocks' fill, the proofs' delays and what the attacker paid.
async fn flood_blocks_with_remarks(
	validators: &[Node],
	nodes: &[Option<Node>],
	buyer: &WsClient,
	blocks: &mut Blocks,
	id: u64,
) -> anyhow::Result<()> {
	use cairn_runtime::{currency::UNITS, RuntimeEvent};
	use cairn_tests::{
		flood::cpu_seconds,
		remarks::{self, Plan, RemarkFlood},
	};
	use pallet_market::Event as Market;
	use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};
	use std::collections::{BTreeMap, BTreeSet, HashMap};
	const PERIODS: u32 = 3;
	const MB: f64 = 1e6;
	let tokens = |amount: u128| amount as f64 / UNITS as f64;

	// Alice, Bob and Charlie validate; this run's providers are the first six of `PROVIDERS`.
	let attacker = sp_keyring::Sr25519Keyring::FerdieStash;
	let account = attacker.to_account_id();
	let address =
		account.to_ss58check_with_version(Ss58AddressFormat::custom(cairn_runtime::SS58_PREFIX));
	ensure!(
		providers(buyer).await?.iter().all(|p| p["account"] != address.as_str()),
		"the attacker {address} is a provider"
	);

	// A remark that fills the normal class is ranked by its tip alone (one fits a block). Ten
	// tokens outrank an untipped proof of the normal class (about 140: the proofs that fit a
	// block's weight), as proofs were before the fix, and an operational one's own priority too
	// (five times the fee of a whole block's weight, five tokens at a fee multiplier of 1): only
	// `PrioritizeProofs` ranks the proofs first.
	let tip = 10 * UNITS;
	let urls: Vec<String> = validators.iter().map(Node::rpc_url).collect();
	let flood = RemarkFlood::start(&urls, attacker.pair(), Plan { tip, ahead: 3 }).await?;
	let extrinsic_len = flood.extrinsic_len;
	flood.wait_included(1, Duration::from_secs(60)).await?;

	// Three whole periods, from the first that opens with remarks in the pools.
	// Blocks of 3.9 MB come slower while every node imports them and six provers share the
	// two cores: a 40-second period has taken over two minutes, and once (2026-12-07) more than
	// seven.
	const FLOODED_PERIOD: Duration = Duration::from_secs(600);
	let waited = Instant::now();
	let flooded_from = period_after(blocks, buyer, id, FLOODED_PERIOD).await?;
	eprintln!("remarks: period {flooded_from} opened after {:.0?}", waited.elapsed());
	let pids: Vec<u32> =
		validators.iter().chain(nodes.iter().flatten()).filter_map(Node::pid).collect();
	let cpu = || pids.iter().map(|&pid| cpu_seconds(pid).unwrap_or(0.0)).sum::<f64>();
	let (cpu_before, flood_started) = (cpu(), Instant::now());
	let record: Value = buyer.request("cairn_proofs", rpc_params![id]).await?;
	ensure!(record["currentPeriod"].as_u64() == Some(flooded_from), "cairn_proofs: {record}");
	let start = record["periodStart"].as_u64().context("periodStart")? as u32;
	let length = record["periodLength"].as_u64().context("periodLength")? as u32;
	let mut flooded_until = flooded_from;
	for _ in 0..PERIODS {
		let waited = Instant::now();
		flooded_until = period_after(blocks, buyer, id, FLOODED_PERIOD).await?;
		eprintln!("remarks: period {flooded_until} opened after {:.0?}", waited.elapsed());
	}
	let cores = (cpu() - cpu_before) / flood_started.elapsed().as_secs_f64();
	ensure!(flooded_until == flooded_from + u64::from(PERIODS), "periods skipped");
	let (first, last) = (start, start + PERIODS * length - 1);
	// The flooded blocks are all authored: the flood stops before their finality is awaited.
	// Waited for under a running flood, finality once took more than fifteen minutes on two
	// cores (2026-12-07), where three validators, alone or with six full nodes, keep it three
	// blocks behind a flood (`finality_under_a_remark_flood` in `chain.rs`): here six provers
	// share the cores too.
	let trailing = last.saturating_sub(rpc::finalized_number(buyer).await?);
	let stats = flood.stop();
	eprintln!("remarks: the attacker: {}", stats.summary());
	eprintln!(
		"remarks: when the flood stopped, the finalized head was {trailing} blocks short of {last}"
	);
	let stopped = Instant::now();
	cairn_tests::within(
		Duration::from_secs(900),
		"the flooded blocks' finality",
		rpc::wait_finalized(buyer, last),
	)
	.await
	.with_context(|| Node::log_tails(validators, 20))?;
	eprintln!("remarks: block {last} final {:.0?} after the flood stopped", stopped.elapsed());
	ensure!(stats.failed.is_none(), "the attacker stopped early: {}", stats.summary());

	let fills = cairn_tests::within(
		Duration::from_secs(300),
		"reading the flooded blocks",
		remarks::survey(&validators[0].rpc_url(), &account, first..=last),
	)
	.await?;
	let before = rpc::block_hash(buyer, first - 1).await?.context("the block before the flood")?;
	let after = rpc::block_hash(buyer, last).await?.context("the flood's last block")?;

	// Due in every flooded period: the shards active before the first one opened, of contracts
	// that outlast the flood.
	let contracts_before: Vec<Value> =
		buyer.request("cairn_contracts", rpc_params![Value::Null, before]).await?;
	let contracts_after: Vec<Value> =
		buyer.request("cairn_contracts", rpc_params![Value::Null, after]).await?;
	let mut due: Vec<(u64, u32, u64)> = Vec::new();
	let mut provers = BTreeSet::new();
	for c in &contracts_before {
		if c["end"].as_u64().is_none_or(|end| end <= u64::from(last)) {
			continue;
		}
		let contract = c["id"].as_u64().context("contract id")?;
		for s in shards(c).iter().filter(|s| s["status"] == "active") {
			let index = s["index"].as_u64().context("shard index")? as u32;
			due.push((contract, index, s["proofs"].as_u64().context("proofs")?));
			provers.insert(s["provider"].as_str().unwrap_or_default().to_string());
		}
	}
	ensure!(
		due.iter().filter(|(contract, ..)| *contract == id).count() == 6,
		"the file's six shards were active before the flood: {contracts_before:?}"
	);

	// What the flooded blocks' events say.
	let from = flooded_from as u32;
	let mut accepted: HashMap<(u64, u32, u32), u32> = HashMap::new();
	let mut accepted_of: HashMap<(u64, u32), u64> = HashMap::new();
	let (mut opened, mut rejected, mut faults) = (Vec::new(), 0, Vec::new());
	for fill in &fills {
		for event in &fill.events {
			match event {
				RuntimeEvent::Market(Market::ProofAccepted { contract, shard, period, .. }) => {
					accepted.insert((*contract, *shard, *period), fill.number);
					*accepted_of.entry((*contract, *shard)).or_default() += 1;
				}
				RuntimeEvent::Market(Market::ProofRejected { .. }) => rejected += 1,
				RuntimeEvent::Market(Market::PeriodOpened { period, start: at, .. }) => {
					opened.push((*period, *at))
				}
				RuntimeEvent::Market(
					event @ (Market::ShardFaulted { .. }
					| Market::LossReported { .. }
					| Market::ShardLost { .. }),
				) => faults.push(format!("block {}: {event:?}", fill.number)),
				_ => {}
			}
		}
	}
	let periods: Vec<(u32, u32)> = (0..PERIODS).map(|i| (from + i, start + i * length)).collect();
	ensure!(opened == periods, "the flooded blocks are periods {periods:?}: opened {opened:?}");

	// Each due shard's proof of each flooded period, accepted within that period or its grace
	// (the next period). The last period's grace lies past the flood: its proofs are counted
	// when they landed within the flood, and required of the periods before it.
	let mut missing = Vec::new();
	let mut delays = Vec::new();
	let last_period = from + PERIODS - 1;
	for &(contract, shard, _) in &due {
		for &(period, opens) in &periods {
			let until = opens + length * (1 + pallet_market::GRACE_PERIODS);
			match accepted.get(&(contract, shard, period)) {
				Some(&block) if (opens..until).contains(&block) => delays.push(block - opens),
				Some(&block) => {
					missing.push(format!("{contract}/{shard}: period {period} in {block}"))
				}
				None if period == last_period => {}
				None => missing.push(format!("{contract}/{shard}: no proof of period {period}")),
			}
		}
	}
	// The shard records agree: proven through the last period whose grace was flooded (or the
	// last one), by as many proofs as were accepted, with no fault.
	for &(contract, shard, proofs_before) in &due {
		let record = contracts_after
			.iter()
			.find(|c| c["id"].as_u64() == Some(contract))
			.and_then(|c| shards(c).get(shard as usize).cloned())
			.with_context(|| format!("shard {contract}/{shard} after the flood"))?;
		let landed = accepted_of.get(&(contract, shard)).copied().unwrap_or(0);
		if record["status"] != "active"
			|| record["consecutiveFaults"] != 0
			|| record["lastProven"].as_u64().is_none_or(|p| p + 2 < u64::from(from + PERIODS))
			|| record["proofs"].as_u64() != Some(proofs_before + landed)
		{
			missing.push(format!("{contract}/{shard} ({proofs_before} proofs before): {record}"));
		}
	}
	let faults_of = |registry: Vec<Value>| -> BTreeMap<String, Option<u64>> {
		registry.iter().map(|p| (p["account"].to_string(), p["faults"].as_u64())).collect()
	};
	let faults_before = faults_of(buyer.request("cairn_providers", rpc_params![before]).await?);
	let faults_after = faults_of(buyer.request("cairn_providers", rpc_params![after]).await?);

	// How full the blocks were, and what the attacker paid.
	let normal = remarks::normal_limit();
	let full_at = normal - 1024;
	let blocks_read = fills.len();
	let full = fills.iter().filter(|f| f.remark_bytes >= full_at).count();
	let proofs_instead =
		fills.iter().filter(|f| f.remark_bytes < full_at && f.proof_transactions > 0).count();
	let neither = blocks_read - full - proofs_instead;
	// Proofs ranked first leave a full remark no room; ranked after it, they would have had the
	// operational share of the block to themselves.
	let both =
		fills.iter().filter(|f| f.remark_bytes >= full_at && f.proof_transactions > 0).count();
	let remark_count: usize = fills.iter().map(|f| f.remarks).sum();
	let remark_bytes: usize = fills.iter().map(|f| f.remark_bytes).sum();
	let largest = fills.iter().map(|f| f.bytes).max().unwrap_or(0);
	let mean = fills.iter().map(|f| f.bytes).sum::<usize>() as f64 / blocks_read.max(1) as f64;
	let fees: u128 = fills.iter().map(|f| f.fees).sum();
	let tips: u128 = fills.iter().map(|f| f.tips).sum();
	let spent = rpc::account(buyer, &account, Some(before))
		.await?
		.data
		.free
		.checked_sub(rpc::account(buyer, &account, Some(after)).await?.data.free)
		.context("the attacker's balance grew")?;
	let multiplier = (
		remarks::fee_multiplier(buyer, Some(before)).await?,
		remarks::fee_multiplier(buyer, Some(after)).await?,
	);
	let mean_delay = delays.iter().sum::<u32>() as f64 / delays.len().max(1) as f64;

	eprintln!(
		"remarks: periods {from}..{flooded_until} (blocks {first}..={last}) flooded with remarks \
		 of {:.3} MB tipping {} CAIRN each: {remark_count} landed ({:.1} MB); {full} of \
		 {blocks_read} blocks carried at least {:.3} MB of them (the normal class's {:.3} MB \
		 less 1 KiB; {both} of those proofs too), {proofs_instead} carried proofs instead, \
		 {neither} neither; blocks held {:.2} MB on average, {:.2} MB at most (the runtime's \
		 limit {:.2} MB); the nodes used {cores:.2} cores",
		extrinsic_len as f64 / MB,
		tokens(tip),
		remark_bytes as f64 / MB,
		full_at as f64 / MB,
		normal as f64 / MB,
		mean / MB,
		largest as f64 / MB,
		remarks::block_limit() as f64 / MB,
	);
	eprintln!(
		"remarks: {} shards of {} providers due in each flooded period: {} of {} proofs \
		 accepted ({} of them in their period's grace), {mean_delay:.1} blocks after it opened \
		 on average, {} at the latest (of {length}); {rejected} proofs rejected; {} faults",
		due.len(),
		provers.len(),
		delays.len(),
		due.len() * periods.len(),
		delays.iter().filter(|delay| **delay >= length).count(),
		delays.iter().max().copied().unwrap_or(0),
		faults.len(),
	);
	eprintln!(
		"remarks: the attacker paid {:.6} CAIRN in fees besides {:.0} CAIRN of tips ({:.3} \
		 mCAIRN a remark; its balance fell by {:.6} CAIRN); the weight-fee multiplier went from \
		 {:.4} to {:.4}",
		tokens(fees - tips),
		tokens(tips),
		tokens(fees - tips) * 1e3 / remark_count.max(1) as f64,
		tokens(spent),
		multiplier.0,
		multiplier.1,
	);

	ensure!(blocks_read == (PERIODS * length) as usize, "read {blocks_read} flooded blocks");
	ensure!(missing.is_empty(), "due proofs missing from the flooded periods: {missing:#?}");
	ensure!(faults.is_empty(), "faults while flooded: {faults:#?}");
	ensure!(
		faults_before == faults_after,
		"fault counts moved: {faults_before:?} → {faults_after:?}"
	);
	ensure!(
		2 * full > blocks_read,
		"most flooded blocks were full of remarks: {full} of {blocks_read}"
	);
	ensure!(both == 0, "{both} flooded blocks ranked proofs below a remark");
	// Blocks with neither: an epoch change's block has no room for a full remark, and the
	// attacker's supply stalls now and then.
	ensure!(
		3 * neither <= blocks_read,
		"{neither} of {blocks_read} flooded blocks carried neither a full remark nor proofs"
	);
	ensure!(spent == fees, "the attacker's balance fell by its fees: {spent} against {fees}");
	Ok(())
}

/// The index of the running provider node whose account is `account`.
async fn find_node_of(nodes: &[Option<Node>], account: &str) -> anyhow::Result<usize> {
	for (index, node) in nodes.iter().enumerate() {
		let Some(node) = node else { continue };
		if node.wait_for_log(account, Duration::from_millis(1)).await.is_ok() {
			return Ok(index);
		}
	}
	anyhow::bail!("no running provider with account {account}")
}

/// A command line pointed at the node by URL and token stores a file from standard input under
/// a name, cut into three segments of a contract each, and reads it back to standard output,
/// through the client API's HTTP side; the file is listed once; ranges come back alone, across
/// segments; renewing it by name renews all three, removing it ends them; what cannot be done is refused in
/// clear words and leaves no contract.
async fn streamed_by_name(node: &Node, files: &WsClient) -> anyhow::Result<()> {
	const LIMIT: Duration = Duration::from_secs(300);
	let started = Instant::now();
	let mut data = vec![0u8; 700 << 10];
	ChaCha20Rng::seed_from_u64(9).fill_bytes(&mut data);
	let (token, api) = (node.api_token().await?, node.api_url());
	let name = "notes/2026/a file with spaces & ünïcode.bin";
	let client = |rest: &[&str]| -> Vec<String> {
		["client", "--api", &api, "--token", &token]
			.iter()
			.chain(rest)
			.map(|a| a.to_string())
			.collect()
	};
	let run = |args: Vec<String>, input: Vec<u8>| async move {
		let args: Vec<&str> = args.iter().map(String::as_str).collect();
		cairn_tests::node::cli_with_input(&args, &input, LIMIT).await
	};
	// Cut into three segments of 256 KiB at most (the smallest a caller may ask for), each
	// under a contract of its own, as a file larger than one contract holds is.
	let put = ["put", "-", "--name", name, "--k", "4", "--m", "2", "--segment-bytes", "262144"];
	let stored = run(client(&put), data.clone()).await?;
	let stored = String::from_utf8(stored)?;
	ensure!(
		stored.contains("contracts ") && stored.contains("700.0 KiB in 3 segments"),
		"put printed:\n{stored}"
	);
	let listed: Vec<Value> = files.request("cairn_files", rpc_params![]).await?;
	let file = listed
		.iter()
		.find(|file| file["name"] == name)
		.with_context(|| format!("cairn_files lists {name:?}: {listed:?}"))?;
	let segments: Vec<u64> = serde_json::from_value(file["contracts"].clone())?;
	ensure!(
		segments.len() == 3 && file["bytes"] == data.len() && file["problem"].is_null(),
		"the file is listed once, whole, with its three contracts: {file}"
	);
	let id = segments[0];
	let back = run(client(&["get", name, "-"]), Vec::new()).await?;
	ensure!(back == data, "the file read back by name differs ({} bytes)", back.len());

	// Ranges, straight over HTTP, by any of its contracts: one across the first two
	// segments, one within the last.
	let port = node.config.api_port;
	let bearer = format!("Bearer {token}");
	let auth = [("Authorization", bearer.as_str())];
	for (contract, first, last) in [(id, 262_000, 263_999), (segments[1], 600_000, 600_099)] {
		let range = format!("bytes={first}-{last}");
		let range = [auth[0], ("Range", range.as_str())];
		let (status, body) =
			http_exchange(port, "GET", &format!("/contracts/{contract}"), &range, b"").await?;
		ensure!(
			status.contains("206") && body == data[first..=last],
			"the range {first}-{last}: {status}"
		);
	}
	let outside = [auth[0], ("Range", "bytes=800000-")];
	let (status, _) =
		http_exchange(port, "GET", &format!("/contracts/{id}"), &outside, b"").await?;
	ensure!(status.contains("416"), "a range outside the file: {status}");

	// An empty object, as S3 tools make them.
	run(client(&["put", "-", "--name", "notes/empty"]), Vec::new()).await?;
	let back = run(client(&["get", "notes/empty", "-"]), Vec::new()).await?;
	ensure!(back.is_empty(), "the empty file came back with {} bytes", back.len());

	// The command line says what went wrong: an unknown name, a wrong token.
	let unknown = run(client(&["get", "notes/none.bin", "-"]), Vec::new()).await;
	let unknown = format!("{:#}", unknown.err().context("an unknown name is refused")?);
	ensure!(unknown.contains("no file named") && unknown.contains("404"), "{unknown}");
	let wrong = ["client", "--api", &api, "--token", "00", "get", name, "-"];
	let wrong = cairn_tests::node::cli_with_input(&wrong, b"", LIMIT).await;
	let wrong = format!("{:#}", wrong.err().context("a wrong token is refused")?);
	ensure!(wrong.contains("401"), "{wrong}");

	// Renewed by name: every segment runs 100 blocks longer.
	let chain = node.rpc().await?;
	let mut ends = Vec::new();
	for &segment in &segments {
		ends.push(contract(&chain, segment).await?["end"].as_u64().context("end")?);
	}
	let renewed = run(client(&["renew", name, "--blocks", "100"]), Vec::new()).await?;
	let renewed = String::from_utf8(renewed)?;
	let listed =
		format!("contracts {}, {}, {} now end at block", segments[0], segments[1], segments[2]);
	ensure!(renewed.contains(&listed), "renew printed: {renewed}");
	for (&segment, end) in segments.iter().zip(ends) {
		let now = contract(&chain, segment).await?["end"].as_u64();
		ensure!(now == Some(end + 100), "contract {segment} ends at {now:?}, not {}", end + 100);
	}

	// Removed by name, from the command line and over HTTP: the escrow's rest comes back (and
	// the providers' two cores prove only what the repairs below need).
	let removed = run(client(&["rm", name]), Vec::new()).await?;
	let removed = String::from_utf8(removed)?;
	let ended = format!("ended contracts {}, {}, {}", segments[0], segments[1], segments[2]);
	ensure!(removed.contains(&ended), "rm printed: {removed}");
	ensure!(removed.contains("back to the account"), "rm printed: {removed}");
	let (status, ended) = http_exchange(port, "DELETE", "/files/notes/empty", &auth, b"").await?;
	let ended: Value = serde_json::from_slice(&ended)?;
	ensure!(status.contains("200") && ended["refunded"].is_string(), "DELETE: {status} {ended}");
	let left: Vec<Value> = files.request("cairn_files", rpc_params![]).await?;
	ensure!(
		!left.iter().any(|file| {
			file["name"] == name
				|| file["name"] == "notes/empty"
				|| file["contract"].as_u64().is_some_and(|contract| segments.contains(&contract))
		}),
		"removed files are still listed: {left:?}"
	);
	let gone = run(client(&["get", name, "-"]), Vec::new()).await;
	ensure!(gone.is_err(), "a removed file is not found by its name");
	eprintln!("streamed by name through HTTP in {:?}", started.elapsed());
	Ok(())
}

/// An S3 user's session with boto3 against the buyer's gateway (`tests/s3/s3_client.py`): a
/// bucket; a 64 MiB object uploaded in eight parts, listed, read by range and whole; S3 errors
/// for bad input (an unknown key, bucket or upload, a range outside the object, a bad bucket
/// name, a wrong signature, a completion with a wrong part), none of which makes a contract.
/// `client ls BUCKET/` shows the object as the account's file; deleting it ends its contract,
/// and the bucket goes.
async fn stored_through_s3(node: &Node, files: &WsClient, dir: &Path) -> anyhow::Result<()> {
	const LIMIT: Duration = Duration::from_secs(900);
	let started = Instant::now();
	let (url, secret) = node.s3_gateway().await?;
	let (bucket, key) = ("backups", "2026/december/photos.tar");
	let mut data = vec![0u8; 64 << 20];
	ChaCha20Rng::seed_from_u64(10).fill_bytes(&mut data);
	let path = dir.join("s3-object.bin");
	std::fs::write(&path, &data)?;
	let script = concat!(env!("CARGO_MANIFEST_DIR"), "/s3/s3_client.py");
	let boto3 = |args: Vec<String>| async move {
		let output = tokio::time::timeout(
			LIMIT,
			tokio::process::Command::new("python3")
				.arg(script)
				.args(&args)
				.kill_on_drop(true)
				.output(),
		)
		.await
		.with_context(|| format!("boto3 {args:?} within {LIMIT:?}"))??;
		ensure!(
			output.status.success(),
			"boto3 {args:?} failed:\n{}",
			String::from_utf8_lossy(&output.stderr)
		);
		anyhow::Ok(serde_json::from_slice::<Value>(&output.stdout)?)
	};
	let before: Vec<Value> = files.request("cairn_files", rpc_params![]).await?;
	let args = |rest: &[&str]| -> Vec<String> {
		[url.as_str(), secret.as_str()].iter().chain(rest).map(|a| a.to_string()).collect()
	};
	let seen = boto3(args(&["put", bucket, key, &path.display().to_string()])).await?;
	eprintln!("boto3 stored {} MiB and saw {}", data.len() >> 20, seen["errors"]);

	// One new file, the object, under its bucket's name, and nothing of the refused requests.
	let after: Vec<Value> = files.request("cairn_files", rpc_params![]).await?;
	ensure!(after.len() == before.len() + 1, "one contract made: {before:?} then {after:?}");
	let token = node.api_token().await?;
	let listed = cairn_tests::node::cli(&[
		"client",
		"--api",
		&node.api_url(),
		"--token",
		&token,
		"ls",
		&format!("{bucket}/"),
		"--output",
		"json",
	])?;
	let listed: Vec<Value> = serde_json::from_str(&listed)?;
	let name = format!("{bucket}/{key}");
	ensure!(
		listed.len() == 1 && listed[0]["name"] == name.as_str() && listed[0]["bytes"] == data.len(),
		"client ls {bucket}/ shows the object: {listed:?}"
	);
	ensure!(
		seen["etag"] == format!("\"cairn-{}\"", listed[0]["contract"]),
		"the object's etag names its contract: {seen}"
	);

	boto3(args(&["delete", bucket, key])).await?;
	let left: Vec<Value> = files.request("cairn_files", rpc_params![]).await?;
	ensure!(left.len() == before.len(), "the object's contract ended: {left:?}");
	std::fs::remove_file(&path)?;
	eprintln!("stored, read and deleted through S3 in {:?}", started.elapsed());
	Ok(())
}

/// The status line and body of one HTTP request to the client API on `port`: `body` is sent
/// with its length, unless `headers` declare one of their own.
async fn http_exchange(
	port: u16,
	method: &str,
	path: &str,
	headers: &[(&str, &str)],
	body: &[u8],
) -> anyhow::Result<(String, Vec<u8>)> {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let mut request =
		format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
	if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-length")) {
		request.push_str(&format!("Content-Length: {}\r\n", body.len()));
	}
	for (name, value) in headers {
		request.push_str(&format!("{name}: {value}\r\n"));
	}
	request.push_str("\r\n");
	let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
	stream.write_all(request.as_bytes()).await?;
	stream.write_all(body).await?;
	let mut response = Vec::new();
	tokio::time::timeout(Duration::from_secs(120), stream.read_to_end(&mut response))
		.await
		.context("the client API did not answer in 120 s")??;
	let split =
		response.windows(4).position(|window| window == b"\r\n\r\n").context("an HTTP response")?;
	let head = String::from_utf8_lossy(&response[..split]).to_string();
	let status = head.lines().next().unwrap_or_default().to_string();
	Ok((status, response[split + 4..].to_vec()))
}

/// The client API's HTTP side answers every bad request with a status and JSON words that say
/// what is wrong, before anything is paid, and keeps nothing of it.
async fn bad_http_requests_get_clear_statuses(node: &Node) -> anyhow::Result<()> {
	let port = node.config.api_port;
	let bearer = format!("Bearer {}", node.api_token().await?);
	let auth = ("Authorization", bearer.as_str());
	let huge = ("Content-Length", "99999999999999");
	// Method, path, headers, body, the status and words of the answer.
	type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a [u8], &'a str, &'a str);
	let cases: [Case; 14] = [
		("PUT", "/files/a", &[], b"hello", "401", "token"),
		("PUT", "/files/a", &[auth, ("Origin", "https://attacker.example")], b"hi", "403", "web"),
		("GET", "/files/a", &[("Authorization", "Bearer 00")], b"", "401", "token"),
		("PUT", "/files/%FF", &[auth], b"hello", "400", "UTF-8"),
		("PUT", "/files/a%0Ab", &[auth], b"hello", "400", "control"),
		("PUT", "/files/a?path=/etc/passwd", &[auth], b"hello", "400", "unknown parameter"),
		("PUT", "/files/a?k=0", &[auth], b"hello", "400", "k must be"),
		("PUT", "/files/a", &[auth], b"hello", "503", "insufficient balance"),
		("GET", "/files/nothing/here", &[auth], b"", "404", "no file named"),
		("GET", "/contracts/99", &[auth], b"", "400", "no contract 99"),
		("DELETE", "/files/nothing", &[auth], b"", "404", "no file named"),
		("DELETE", "/contracts/99", &[auth], b"", "400", "no contract 99"),
		("POST", "/files/a", &[auth], b"", "405", "PUT, GET and DELETE"),
		("PUT", "/files/huge", &[auth, huge], b"", "413", "at most"),
	];
	for (method, path, headers, body, status, words) in cases {
		// The huge one is refused on its word, before a byte of its body is read.
		let (got, answer) = http_exchange(port, method, path, headers, body).await?;
		let answer = String::from_utf8_lossy(&answer);
		ensure!(got.contains(status) && answer.contains(words), "{method} {path}: {got} {answer}");
	}
	// No body is kept.
	let chains = node.config.base_path.join("chains");
	for chain in std::fs::read_dir(&chains)? {
		let spool = chain?.path().join("cairn/files/incoming");
		if let Ok(left) = std::fs::read_dir(&spool) {
			let left: Vec<_> = left.flatten().map(|entry| entry.path()).collect();
			ensure!(left.is_empty(), "bodies left in the spool: {left:?}");
		}
	}
	Ok(())
}

/// `cairn_quoteUpload` for a file of `bytes` kept `duration` blocks, after checking that it
/// quotes an empty file (one stripe) and refuses an impossible coding with invalid params.
async fn quoted_as_uploaded(
	files: &WsClient,
	bytes: usize,
	duration: u64,
) -> anyhow::Result<Value> {
	let invalid = jsonrpsee::types::error::INVALID_PARAMS_CODE;
	let empty: Value =
		files.request("cairn_quoteUpload", rpc_params![json!({ "bytes": 0 })]).await?;
	ensure!(empty["shardBytes"].as_u64() > Some(0), "an empty file is one stripe: {empty}");
	let (code, message) =
		rpc_error(files, "cairn_quoteUpload", rpc_params![json!({ "bytes": 10, "k": 0 })]).await?;
	ensure!(code == invalid && message.contains("k must be"), "k = 0: {code} {message}");
	let quote: Value = files
		.request("cairn_quoteUpload", rpc_params![json!({ "bytes": bytes, "duration": duration })])
		.await?;
	ensure!(quote["bytes"] == bytes && quote["total"].is_string(), "the quote: {quote}");
	Ok(quote)
}

/// A JSON-RPC error's code and message.
async fn rpc_error(
	rpc: &WsClient,
	method: &str,
	params: jsonrpsee::core::params::ArrayParams,
) -> anyhow::Result<(i32, String)> {
	match rpc.request::<Value, _>(method, params).await {
		Ok(value) => anyhow::bail!("{method} succeeded with {value}"),
		Err(jsonrpsee::core::client::Error::Call(error)) => {
			let data = error.data().map(|data| data.get().to_string()).unwrap_or_default();
			Ok((error.code(), format!("{} {data}", error.message())))
		}
		Err(other) => anyhow::bail!("{method}: not a JSON-RPC error: {other}"),
	}
}

/// The status line of a JSON-RPC call sent over plain HTTP to `port` with `headers`.
async fn http_status(port: u16, headers: &[(&str, &str)]) -> anyhow::Result<String> {
	use tokio::io::{AsyncReadExt, AsyncWriteExt};
	let body = r#"{"jsonrpc":"2.0","id":1,"method":"cairn_download","params":[{"contract":99}]}"#;
	let mut request = format!(
		"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\nConnection: close\r\n",
		body.len()
	);
	for (name, value) in headers {
		request.push_str(&format!("{name}: {value}\r\n"));
	}
	request.push_str("\r\n");
	request.push_str(body);
	let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
	stream.write_all(request.as_bytes()).await?;
	let mut response = String::new();
	stream.read_to_string(&mut response).await?;
	Ok(response.lines().next().unwrap_or_default().to_string())
}

/// The client API serves only the holder of the node's token, and never a web page; the chain's
/// RPC does not serve the client's methods at all.
async fn check_the_client_api_guard(node: &Node, chain: &WsClient) -> anyhow::Result<()> {
	const METHOD_NOT_FOUND: i32 = -32601;
	for method in [
		"cairn_upload",
		"cairn_quoteUpload",
		"cairn_download",
		"cairn_remove",
		"cairn_subscribeUpload",
	] {
		let (code, message) = rpc_error(chain, method, rpc_params![json!({})]).await?;
		ensure!(code == METHOD_NOT_FOUND, "{method} on the chain RPC: {code} {message}");
	}
	// Nor Substrate's unsafe methods, which would let a web page write the keystore.
	let (code, message) =
		rpc_error(chain, "author_insertKey", rpc_params!["cair", "//Evil", "0x00"]).await?;
	ensure!(message.contains("unsafe"), "author_insertKey on the chain RPC: {code} {message}");
	let token = node.api_token().await?;
	let bearer = format!("Bearer {token}");
	let port = node.config.api_port;
	let cases: [(&[(&str, &str)], &str); 6] = [
		(&[], "401"),
		(&[("Authorization", "Bearer 00")], "401"),
		(&[("Authorization", &token)], "401"),
		(&[("Authorization", &bearer), ("Origin", "https://attacker.example")], "403"),
		(&[("Authorization", &bearer), ("Sec-Fetch-Site", "cross-site")], "403"),
		(&[("Authorization", &bearer)], "200"),
	];
	for (headers, status) in cases {
		let line = http_status(port, headers).await?;
		ensure!(line.contains(status), "{headers:?}: {line} (expected {status})");
	}
	// A browser's WebSocket carries an Origin: refused at the handshake, token or not.
	let foreign = node
		.api_with(&[("authorization", bearer.clone()), ("origin", "http://localhost:8080".into())])
		.await;
	ensure!(foreign.is_err(), "a WebSocket with an Origin header was admitted");
	ensure!(node.api_with(&[]).await.is_err(), "a WebSocket without the token was admitted");
	Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_to_cairn_methods_gets_clear_errors_and_makes_no_contract() -> anyhow::Result<()>
{
	use cairn_runtime::{currency::UNITS, RuntimeCall};
	use cairn_tests::tx::{self, Until};
	use codec::Encode;
	use frame_support::BoundedVec;
	use sp_keyring::Sr25519Keyring;

	const INVALID_PARAMS: i32 = -32602;
	// The providers' price: high, so that a renewal costs more than the fees around it.
	const PRICE: u128 = 100_000;
	let dir = tempfile::tempdir()?;
	let dir = dir.path();
	// The node's Cairn account has no funds. It renews a file as soon as 1 % of its term is gone.
	let mut config = NodeConfig::dev(&dir.join("node"));
	config.extra_args = vec![
		"--cairn-key".into(),
		"//Nobody".into(),
		"--no-explorer".into(),
		"--renew-below".into(),
		"99".into(),
	];
	let node = Node::start(config)?;
	node.wait_ready().await?;
	let client = node.rpc().await?;
	cairn_tests::within(Duration::from_secs(60), "the first block", rpc::wait_best(&client, 1))
		.await?;
	check_the_client_api_guard(&node, &client).await?;
	let api = node.api().await?;

	// No providers yet.
	let small = format!("0x{}", hex::encode([7u8; 1000]));
	let (code, message) =
		rpc_error(&api, "cairn_upload", rpc_params![json!({ "data": small })]).await?;
	ensure!(code == 3 && message.contains("0 eligible providers"), "{code} {message}");

	// Six providers register.
	let context = tx::chain_context(&client).await?;
	let keys = [
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
		Sr25519Keyring::Ferdie,
		Sr25519Keyring::AliceStash,
	];
	let registrations = keys.iter().map(|key| {
		let call = RuntimeCall::Providers(pallet_providers::Call::register_provider {
			stake: 1_000 * UNITS,
			capacity: 1 << 40,
			price_per_byte_block: PRICE,
			peer_id: BoundedVec::truncate_from(key.to_account_id().encode()),
			multiaddrs: BoundedVec::new(),
		});
		tx::submit(&client, context, *key, call, Until::InBlock)
	});
	cairn_tests::within(Duration::from_secs(60), "registrations", async {
		futures::future::try_join_all(registrations).await
	})
	.await?;

	let missing = dir.join("no-such-file");
	let empty = dir.join("empty");
	std::fs::write(&empty, b"")?;
	// A sparse file far beyond what one contract holds.
	let huge = dir.join("huge");
	std::fs::File::create(&huge)?.set_len(1 << 40)?;
	let cases = [
		(json!({ "path": missing }), INVALID_PARAMS, "cannot read"),
		(json!({ "path": dir }), INVALID_PARAMS, "is not a regular file (a directory)"),
		(json!({ "path": "/dev/zero" }), INVALID_PARAMS, "is not a regular file (a device)"),
		(json!({ "path": "input.bin" }), INVALID_PARAMS, "not an absolute path"),
		// An empty file is a file (S3 tools make empty objects): it gets as far as paying.
		(json!({ "path": empty }), 3, "insufficient balance"),
		// Cut into segments, one contract each: it gets as far as paying for them all.
		(json!({ "path": huge }), 3, "contracts (one per segment) hold"),
		(json!({ "path": huge, "segmentBytes": 1 << 20 }), INVALID_PARAMS, "too large"),
		(json!({ "data": small, "segmentBytes": 1000 }), INVALID_PARAMS, "at least 262144"),
		(json!({}), INVALID_PARAMS, "either `path` or `data`"),
		(json!({ "path": empty, "data": "0x00" }), INVALID_PARAMS, "either `path` or `data`"),
		(json!({ "data": "0xzz" }), INVALID_PARAMS, "not hex"),
		(json!({ "data": small, "k": 0 }), INVALID_PARAMS, "k must be at least 1"),
		(json!({ "data": small, "k": 30, "m": 10 }), INVALID_PARAMS, "at most 32"),
		(json!({ "data": small, "duration": 0 }), INVALID_PARAMS, "duration must be"),
		(json!({ "data": small, "maxPrice": "lots" }), INVALID_PARAMS, "not an amount"),
		(json!({ "data": small, "k": 5, "m": 2 }), 3, "6 eligible providers"),
		(json!({ "data": small, "maxPrice": "0" }), 3, "at or below 0"),
		(json!({ "data": small }), 3, "insufficient balance"),
		(json!({ "data": small, "colour": "red" }), INVALID_PARAMS, "unknown field"),
	];
	for (params, code, needle) in cases {
		let (got, message) = rpc_error(&api, "cairn_upload", rpc_params![params.clone()]).await?;
		ensure!(got == code && message.contains(needle), "{params}: {got} {message:?}");
	}
	// The progress subscription reports the same errors as its last update.
	let mut updates: Subscription<Value> = jsonrpsee::core::client::SubscriptionClientT::subscribe(
		&api,
		"cairn_subscribeUpload",
		rpc_params![json!({ "path": missing })],
		"cairn_unsubscribeUpload",
	)
	.await?;
	let last = updates.next().await.context("an update")??;
	// A missing file is the caller's to fix: asking again the same way cannot help.
	ensure!(
		last["stage"] == "error" && last["invalid"] == true && last["transient"] == false,
		"{last}"
	);

	// Malformed and unknown ids.
	for (rpc, method, params) in [
		(&api, "cairn_download", rpc_params![json!({ "contract": "seven" })]),
		(&api, "cairn_download", rpc_params![json!({ "contract": -1 })]),
		(&client, "cairn_contract", rpc_params!["seven"]),
		(&client, "cairn_proofs", rpc_params![json!({})]),
		(&client, "cairn_contracts", rpc_params!["not-an-address"]),
		(&client, "cairn_quote", rpc_params![0, 6, 100]),
	] {
		let (code, message) = rpc_error(rpc, method, params).await?;
		ensure!(code == INVALID_PARAMS, "{method}: {code} {message}");
	}
	let (code, message) =
		rpc_error(&api, "cairn_download", rpc_params![json!({ "contract": 99 })]).await?;
	ensure!(code == INVALID_PARAMS && message.contains("no contract 99"), "{code} {message}");
	let proofs: Value = client.request("cairn_proofs", rpc_params![99]).await?;
	ensure!(proofs.is_null(), "no proofs for an unknown contract: {proofs}");

	// Random parameters, garbage and near-misses, for every cairn_* method: each call gets a
	// result or an error, the node keeps running, and nothing panics.
	let api_calls = cairn_tests::fuzz::fuzz_methods(
		&api,
		&[
			"cairn_upload",
			"cairn_quoteUpload",
			"cairn_download",
			"cairn_renew",
			"cairn_remove",
			"cairn_file",
			"cairn_files",
		],
		150,
		1,
	)
	.await?;
	let chain_calls = cairn_tests::fuzz::fuzz_methods(
		&client,
		&["cairn_contract", "cairn_contracts", "cairn_proofs", "cairn_quote", "cairn_events"],
		150,
		2,
	)
	.await?;
	ensure!(node.log_lines("panicked").is_empty(), "the node panicked:\n{}", node.log_tail(40));
	eprintln!("{} random calls answered", api_calls + chain_calls);

	bad_http_requests_get_clear_statuses(&node).await?;

	// Nothing half-made.
	let contracts: Vec<Value> = client.request("cairn_contracts", rpc_params![Value::Null]).await?;
	ensure!(contracts.is_empty(), "no contract was made: {contracts:?}");

	others_contracts_are_refused(&node, &client, &api, context, &keys, PRICE).await?;
	renewal_says_when_the_account_cannot_pay(&node, &client, &api, context, &small).await
}

/// A contract Alice made on chain, without this node: the node's account may neither end, renew
/// nor read it, through JSON-RPC or over HTTP, and the contract stays as it was.
async fn others_contracts_are_refused(
	node: &Node,
	client: &WsClient,
	api: &WsClient,
	context: cairn_tests::tx::ChainContext,
	providers: &[sp_keyring::Sr25519Keyring],
	price: u128,
) -> anyhow::Result<()> {
	use cairn_tests::tx::{self, Until};
	use frame_support::BoundedVec;
	let (_, specs) = tx::coded_file(6 << 10, 4, 2, 11)?;
	let call = cairn_runtime::RuntimeCall::Market(pallet_market::Call::create_contract {
		shards: BoundedVec::truncate_from(specs),
		k: 4,
		m: 2,
		providers: BoundedVec::truncate_from(
			providers.iter().map(|key| key.to_account_id()).collect::<Vec<_>>(),
		),
		duration: 1_000,
		max_price: price,
		manifest: BoundedVec::new(),
	});
	let alice = sp_keyring::Sr25519Keyring::Alice;
	let created = tx::submit(client, context, alice, call, Until::InBlock).await?;
	let id = created
		.events
		.iter()
		.find_map(|event| match event {
			cairn_runtime::RuntimeEvent::Market(pallet_market::Event::ContractCreated {
				contract,
				..
			}) => Some(*contract),
			_ => None,
		})
		.with_context(|| format!("no ContractCreated among {:?}", created.events))?;
	let before = contract(client, id).await?;

	let theirs = format!("contract {id} belongs to");
	let unreadable = format!("contract {id} has no manifest this node's account can open");
	for (method, needle) in
		[("cairn_remove", &theirs), ("cairn_renew", &theirs), ("cairn_download", &unreadable)]
	{
		let (code, message) =
			rpc_error(api, method, rpc_params![json!({ "contract": id })]).await?;
		ensure!(code == -32602 && message.contains(needle.as_str()), "{method}: {code} {message}");
	}
	let port = node.config.api_port;
	let bearer = format!("Bearer {}", node.api_token().await?);
	let path = format!("/contracts/{id}");
	for method in ["DELETE", "GET"] {
		let (status, body) =
			http_exchange(port, method, &path, &[("Authorization", &bearer)], b"").await?;
		let body = String::from_utf8_lossy(&body);
		ensure!(
			status.contains(" 400 ") && body.contains(&format!("contract {id}")),
			"{method} {path}: {status} {body}"
		);
	}
	// Still Alice's, running to the same end, its escrow whole.
	let after = contract(client, id).await?;
	for field in ["owner", "end", "escrow", "paid"] {
		ensure!(after[field] == before[field], "{field} changed:\n{before}\n{after}");
	}
	eprintln!("another account's contract {id} was neither ended, renewed nor read");
	Ok(())
}

/// The node renews a file of its account without being asked, while the account can pay; once
/// it cannot, it says so in its log and in `client status`, before the contract ends. (The
/// registered providers are not on the shard network: the file's shards are never sent, which
/// renewal does not need.)
async fn renewal_says_when_the_account_cannot_pay(
	node: &Node,
	client: &WsClient,
	api: &WsClient,
	context: cairn_tests::tx::ChainContext,
	data: &str,
) -> anyhow::Result<()> {
	use cairn_runtime::{currency::UNITS, RuntimeCall};
	use cairn_tests::tx::{self, Until};
	use sp_core::{crypto::Ss58Codec, Pair};
	/// The file's term: the node renews it at once, and again 20 blocks later.
	const TERM: u64 = 20;

	let nobody = sp_core::sr25519::Pair::from_string("//Nobody", None)?;
	let account = sp_runtime::AccountId32::from(nobody.public());
	let fund = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: account.clone().into(),
		value: 100 * UNITS,
	});
	tx::submit(client, context, sp_keyring::Sr25519Keyring::Alice, fund, Until::InBlock).await?;
	let upload: Value =
		api.request("cairn_upload", rpc_params![json!({ "data": data, "duration": TERM })]).await?;
	let id = upload["contract"].as_u64().context("a contract id")?;
	let first_end = upload["end"].as_u64().context("its end")?;
	ensure!(upload["autoRenew"] == true && upload["duration"] == TERM, "{upload}");
	// Six providers: the default coding is the narrowest, and the upload says what it risks.
	let warning = upload["warning"].as_str().unwrap_or_default();
	ensure!(
		upload["k"] == 4 && upload["m"] == 2 && upload["nines"].as_f64() < Some(6.0),
		"{upload}"
	);
	ensure!(warning.contains("4+2") && warning.contains("nines"), "{upload}");

	node.wait_for_log(&format!("contract {id} renewed"), Duration::from_secs(60)).await?;
	let renewed = contract(client, id).await?;
	let end = renewed["end"].as_u64().context("end")?;
	ensure!(end == first_end + TERM, "renewed by its term once: {renewed}");
	let file: Value = api.request("cairn_file", rpc_params![id]).await?;
	ensure!(file["renewedTo"] == end && file["problem"].is_null(), "{file}");

	// The account keeps half of what the next renewal costs.
	let cost: u128 = shards(&renewed)
		.iter()
		.map(|shard| {
			let price: u128 = shard["pricePerByteBlock"].as_str().unwrap_or("0").parse()?;
			let bytes = u128::from(shard["bytes"].as_u64().context("bytes")?);
			Ok(price * bytes * u128::from(TERM))
		})
		.sum::<anyhow::Result<u128>>()?;
	ensure!(cost >= UNITS, "a renewal costs more than its fees: {cost}");
	let free = rpc::account(client, &account, None).await?.data.free;
	let drain = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: sp_keyring::Sr25519Keyring::Alice.to_account_id().into(),
		value: free - cost / 2,
	});
	let nonce = rpc::next_nonce(client, &account.to_ss58check()).await?;
	let drain = tx::signed_extrinsic(drain, &nobody, nonce, context);
	tx::submit_extrinsic(client, &drain, Until::InBlock).await?;

	let warning = format!("contract {id} CANNOT BE RENEWED: insufficient balance");
	node.wait_for_log(&warning, Duration::from_secs(90)).await?;
	let file: Value = api.request("cairn_file", rpc_params![id]).await?;
	let problem = file["problem"].as_str().unwrap_or_default();
	ensure!(problem.contains("insufficient balance"), "{file}");
	ensure!(file["now"].as_u64() < file["end"].as_u64(), "said before the end: {file}");
	let token = node.api_token().await?;
	let id_text = id.to_string();
	let (rpc_url, api_url) = (node.rpc_url(), node.api_url());
	let status = cairn_tests::node::cli(&[
		"client", "status", &id_text, "--rpc", &rpc_url, "--api", &api_url, "--token", &token,
	])?;
	ensure!(status.contains("FAILING: insufficient balance"), "client status:\n{status}");

	// By hand: the same words; and clear errors for what cannot be renewed.
	let (code, message) =
		rpc_error(api, "cairn_renew", rpc_params![json!({ "contract": id })]).await?;
	ensure!(code == 3 && message.contains("insufficient balance"), "{code} {message}");
	for (params, needle) in [
		(json!({ "contract": 99 }), "no contract 99"),
		(json!({ "contract": id, "blocks": 0 }), "at least 1"),
		(json!({ "contract": id, "blocks": u32::MAX }), "runs at most"),
		(json!({ "contract": id, "maxPrice": "cheap" }), "not an amount"),
	] {
		let (code, message) = rpc_error(api, "cairn_renew", rpc_params![params.clone()]).await?;
		ensure!(code == -32602 && message.contains(needle), "{params}: {code} {message}");
	}
	let (code, message) = rpc_error(api, "cairn_file", rpc_params![99]).await?;
	ensure!(code == -32602 && message.contains("no file"), "{code} {message}");
	eprintln!("renewed automatically, then refused for want of funds: {status}");
	Ok(())
}

/// Provider churn, as a benchmark (`docs/DURABILITY.md`): for `CAIRN_CHURN_PERIODS` proving
/// periods (20 by default), at the start of each a running provider is killed with SIGKILL at
/// random (`CAIRN_CHURN_SEED`) and started again on its base path and addresses one, two or five
/// periods later, never leaving more than `m` of a contract's shards unreadable (on providers
/// that are down, or waiting for their data) nor a lost shard without a provider to move to. Two
/// 4 + 2 files are kept on nine providers through it. Every shard the chain finds lost must be
/// moved, rebuilt and confirmed within two periods. Then `m + 1` of one file's providers die at
/// once ([`beyond_m`]) and come back; at the end both files come back byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark of 20 proving periods (about 20 minutes): see docs/DURABILITY.md"]
async fn churn_loses_no_byte() -> anyhow::Result<()> {
	let setting = |name: &str| std::env::var(name).ok().map(|value| value.parse::<u64>());
	let periods = setting("CAIRN_CHURN_PERIODS").transpose()?.unwrap_or(20);
	let seed = setting("CAIRN_CHURN_SEED")
		.transpose()?
		.unwrap_or_else(|| ChaCha20Rng::from_entropy().next_u64());
	churn(periods, seed).await
}

/// Shards seen not active (lost, or waiting for their data) and the block each was first seen
/// so; and how long each repair took, in periods.
#[derive(Default)]
struct Repairs {
	since: std::collections::HashMap<(u64, usize), u32>,
	took: Vec<f64>,
}

impl Repairs {
	/// Looks at every shard of `ids` in the best block.
	async fn observe(
		cell: &std::cell::RefCell<Self>,
		rpc: &WsClient,
		ids: &[u64],
		length: u64,
	) -> anyhow::Result<()> {
		let best = rpc::header(rpc, None).await?.number;
		for id in ids {
			let held = shards(&contract(rpc, *id).await?);
			let mut this = cell.borrow_mut();
			for (index, shard) in held.iter().enumerate() {
				if shard["status"] == "active" {
					if let Some(at) = this.since.remove(&(*id, index)) {
						this.took.push(f64::from(best - at) / length as f64);
					}
				} else {
					this.since.entry((*id, index)).or_insert(best);
				}
			}
		}
		Ok(())
	}
}

/// The account of provider `index` of [`PROVIDERS`], as the RPC writes it.
fn provider_account(index: usize) -> anyhow::Result<String> {
	use sp_core::{crypto::Ss58Codec, Pair};
	let pair = sp_core::sr25519::Pair::from_string(PROVIDERS[index], None)
		.map_err(|e| anyhow::anyhow!("{}: {e:?}", PROVIDERS[index]))?;
	Ok(sp_runtime::AccountId32::from(pair.public()).to_ss58check_with_version(
		sp_core::crypto::Ss58AddressFormat::custom(cairn_runtime::SS58_PREFIX),
	))
}

async fn churn(periods: u64, seed: u64) -> anyhow::Result<()> {
	use std::collections::HashMap;
	const M: usize = 2;
	let started = Instant::now();
	let dir = tempfile::tempdir()?;
	let dir = dir.path();
	let (validators, mut nodes, _, _) = start_network(dir, PROVIDERS.len()).await?;
	let buyer = validators[0].rpc().await?;
	let files = validators[0].api().await?;
	let mut blocks = Blocks::new(&buyer).await?;
	eprintln!("churn: network of {} providers up after {:?}", nodes.len(), started.elapsed());

	let mut stored = Vec::new();
	for file_seed in [40u64, 41] {
		let mut data = vec![0u8; 2 << 20];
		ChaCha20Rng::seed_from_u64(file_seed).fill_bytes(&mut data);
		let path = dir.join(format!("churn-{file_seed}.bin"));
		std::fs::write(&path, &data)?;
		let upload: Value = files
			.request("cairn_upload", rpc_params![json!({ "path": path, "k": 4, "m": M })])
			.await?;
		stored.push((upload["contract"].as_u64().context("the contract")?, data));
	}
	let ids: Vec<u64> = stored.iter().map(|(id, _)| *id).collect();
	let length = current_period_length(&buyer, ids[0]).await?;
	let watch = std::cell::RefCell::new(Repairs::default());
	let all_active = || async {
		Repairs::observe(&watch, &buyer, &ids, length).await?;
		Ok(watch.borrow().since.is_empty().then_some(()))
	};
	blocks.until("both files' shards confirmed", Duration::from_secs(180), all_active).await?;
	watch.borrow_mut().took.clear();

	let accounts = (0..nodes.len()).map(provider_account).collect::<anyhow::Result<Vec<_>>>()?;
	let mut rng = ChaCha20Rng::seed_from_u64(seed);
	eprintln!("churn: {periods} periods of {length} blocks, seed {seed}");
	// Providers down: the period each starts again in, and how it was started (its addresses
	// stay, as a real provider's do).
	let mut down: HashMap<usize, (u64, NodeConfig)> = HashMap::new();
	let mut kills = 0;
	let first = current_period(&buyer, ids[0]).await?;
	for period in first..first + periods {
		for index in down
			.iter()
			.filter(|(_, (back, _))| *back <= period)
			.map(|(i, _)| *i)
			.collect::<Vec<_>>()
		{
			let (_, config) = down.remove(&index).context("down")?;
			nodes[index] = Some(Node::start(config)?);
		}
		// A provider to kill: running, and leaving each file at most `M` shards it cannot be
		// read from (on a provider that is down, or waiting for their data after a move), and a
		// provider up to move each shard on one that is down to.
		let mut held = Vec::new();
		for id in &ids {
			held.push(shards(&contract(&buyer, *id).await?));
		}
		let fits = |shards: &[Value], also: usize| {
			let is_down = |index: usize| down.contains_key(&index) || index == also;
			let on = |shard: &Value| accounts.iter().position(|a| shard["provider"] == a.as_str());
			let on_down = shards.iter().filter(|shard| on(shard).is_some_and(is_down)).count();
			let unreadable = shards
				.iter()
				.filter(|shard| shard["status"] != "active" || on(shard).is_some_and(is_down))
				.count();
			let spares = (0..accounts.len())
				.filter(|index| !is_down(*index))
				.filter(|index| shards.iter().all(|shard| on(shard) != Some(*index)))
				.count();
			unreadable <= M && spares >= on_down
		};
		let candidates: Vec<usize> = (0..nodes.len())
			.filter(|&index| nodes[index].is_some())
			.filter(|&index| held.iter().all(|shards| fits(shards, index)))
			.collect();
		if !candidates.is_empty() {
			let index = candidates[(rng.next_u64() % candidates.len() as u64) as usize];
			let downtime = [1u64, 2, 5][(rng.next_u64() % 3) as usize];
			let mut node = nodes[index].take().context("running")?;
			let config = node.config.clone();
			node.kill()?;
			down.insert(index, (period + downtime, config));
			kills += 1;
			eprintln!("churn: period {period}: provider {index} killed for {downtime} periods");
		}
		blocks
			.until("the next period", Duration::from_secs(300), || async {
				Repairs::observe(&watch, &buyer, &ids, length).await?;
				Ok((current_period(&buyer, ids[0]).await? > period).then_some(()))
			})
			.await?;
		let seen = watch.borrow();
		eprintln!(
			"churn: period {period} over: {} shards not active, {} repaired so far",
			seen.since.len(),
			seen.took.len()
		);
	}
	for (index, (_, config)) in down.drain() {
		nodes[index] = Some(Node::start(config)?);
	}
	// A provider killed in the last periods may still cost its shards: they are found lost up to
	// five periods after it stopped (three faults and the grace; it may have been down through
	// them), and then get their two periods of repair (of 2-second blocks).
	let settle = Duration::from_secs(length * 2 * 8);
	if let Err(error) = blocks.until("every shard active after the churn", settle, all_active).await
	{
		for id in &ids {
			let left: Vec<String> = shards(&contract(&buyer, *id).await?)
				.iter()
				.filter(|shard| shard["status"] != "active")
				.map(|shard| shard.to_string())
				.collect();
			eprintln!("churn: contract {id}, shards not active: {left:?}");
		}
		return Err(error);
	}
	let took = watch.into_inner().took;
	let owner = &validators[0];
	beyond_m(&mut blocks, &buyer, owner, &mut nodes, &accounts, ids[0], length, M).await?;
	for (id, data) in &stored {
		let out = dir.join(format!("churn-{id}.back"));
		ensure!(download(&files, *id, &out).await? == *data, "contract {id} comes back byte-exact");
	}
	let slowest = took.iter().copied().fold(0.0, f64::max);
	eprintln!(
		"churn: {periods} periods, {kills} kills, {} shards repaired (slowest {slowest:.1} \
		 periods, mean {:.1}); both files byte-exact after {:?}",
		took.len(),
		took.iter().sum::<f64>() / took.len().max(1) as f64,
		started.elapsed()
	);
	ensure!(slowest <= 2.0, "a shard took {slowest:.1} periods to repair: {took:?}");
	Ok(())
}

/// Beyond `m`: the providers of `m + 1` shards of contract `id` are killed at once. Their shards
/// are found lost and moved, but their rebuilds find `k - 1` shards, one short, until the first
/// of them comes back: that one kept its shard though it was moved away (it is active nowhere),
/// the owner's node fetches it from there, and the file is whole again. Then the others come back.
#[allow(clippy::too_many_arguments)]
async fn beyond_m(
	blocks: &mut Blocks,
	buyer: &WsClient,
	owner: &Node,
	nodes: &mut [Option<Node>],
	accounts: &[String],
	id: u64,
	length: u64,
	m: usize,
) -> anyhow::Result<()> {
	let held = shards(&contract(buyer, id).await?);
	let mut dead = Vec::new();
	for shard in held.iter().take(m + 1) {
		let index = accounts
			.iter()
			.position(|account| shard["provider"] == account.as_str())
			.context("a test provider")?;
		let mut node = nodes[index].take().context("running")?;
		let config = node.config.clone();
		node.kill()?;
		dead.push((index, config));
	}
	eprintln!("churn: the providers of shards 0 to {m} of contract {id} killed at once");
	let first = &accounts[dead[0].0];
	let moved = blocks
		.until("shard 0 found lost and moved", Duration::from_secs(length * 2 * 8), || async {
			let shard = &shards(&contract(buyer, id).await?)[0];
			Ok((shard["provider"] != first.as_str()).then_some(()))
		})
		.await;
	if let Err(error) = moved {
		eprintln!("contract {id}: {:#}", contract(buyer, id).await?);
		return Err(error);
	}
	let fetched = format!("contract {id}: shard 0 fetched from a former provider");
	let before = owner.log_lines(&fetched).len();
	let (index, config) = dead.remove(0);
	nodes[index] = Some(Node::start(config)?);
	let from_it = blocks
		.until("shard 0 fetched from the provider it left", Duration::from_secs(240), || async {
			Ok((owner.log_lines(&fetched).len() > before).then_some(()))
		})
		.await;
	if let Err(error) = from_it {
		eprintln!("contract {id}: {:#}", contract(buyer, id).await?);
		eprintln!("the owner's node:\n{}", owner.log_lines(&format!("contract {id}")).join("\n"));
		return Err(error);
	}
	for (index, config) in dead {
		nodes[index] = Some(Node::start(config)?);
	}
	blocks
		.until("every shard active again", Duration::from_secs(length * 2 * 8), || async {
			let held = shards(&contract(buyer, id).await?);
			Ok(held.iter().all(|shard| shard["status"] == "active").then_some(()))
		})
		.await?;
	eprintln!("churn: {} of contract {id}'s shards lost at once, and none of its bytes", m + 1);
	Ok(())
}
