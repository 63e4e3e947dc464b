//! The storage market on a real dev chain, driven only through JSON-RPC: providers register, a
//! buyer stores an erasure-coded file with them, they confirm, prove the challenged leaves with
//! real Groth16 proofs, and are paid; the `cairn_*` methods show the result. Then root upgrades
//! the chain to a runtime that keeps contracts under other storage keys, and the node's reads of
//! the market give what they gave before.

use std::time::Duration;

use anyhow::{ensure, Context};
use cairn_primitives::tree::MemoryTree;
use cairn_prover::{
	prover::{dev_setup, Prover},
	statement::ProofRequest,
	DEFAULT_CHALLENGES,
};
use cairn_runtime::{currency::UNITS, BlockNumber, RuntimeCall, RuntimeEvent};
use cairn_tests::{
	rpc,
	tx::{self, Until},
	within, Node, NodeConfig,
};
use codec::Encode;
use frame_support::BoundedVec;
use jsonrpsee::{core::client::ClientT, rpc_params, ws_client::WsClient};
use pallet_market::{ContractId, PeriodIndex, PeriodInfo, ProofSubmission, ShardSpec};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
use serde_json::Value;
use sp_core::{crypto::Ss58Codec, H256};
use sp_crypto_hashing::{blake2_128, twox_128, twox_64};
use sp_keyring::Sr25519Keyring;

const STARTUP: Duration = Duration::from_secs(120);
/// Long enough for several blocks and a proof.
const STEP: Duration = Duration::from_secs(90);

const PROVIDERS: [Sr25519Keyring; 3] =
	[Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave];
const BUYER: Sr25519Keyring = Sr25519Keyring::Ferdie;
const PRICE: u128 = 1;

fn market_key(item: &[u8]) -> Vec<u8> {
	[twox_128(b"Market"), twox_128(item)].concat()
}

async fn current_period(rpc: &WsClient, at: H256) -> anyhow::Result<Option<PeriodIndex>> {
	rpc::storage(rpc, &market_key(b"CurrentPeriod"), Some(at)).await
}

async fn period_info(
	rpc: &WsClient,
	period: PeriodIndex,
	at: H256,
) -> anyhow::Result<PeriodInfo<BlockNumber>> {
	let encoded = period.encode();
	let key = [market_key(b"Periods"), twox_64(&encoded).to_vec(), encoded].concat();
	rpc::storage(rpc, &key, Some(at)).await?.context("the period is recorded")
}

/// Waits for the first best block whose current period is after `period`.
async fn wait_period_after(
	rpc: &WsClient,
	period: PeriodIndex,
) -> anyhow::Result<(PeriodIndex, H256)> {
	let mut heads = rpc::subscribe_new_heads(rpc).await?;
	loop {
		let head = heads.next().await.context("new-heads subscription closed")??;
		let number = rpc::parse_header(&head)?.number;
		let hash = rpc::block_hash(rpc, number).await?.context("a best block has a hash")?;
		if let Some(current) = current_period(rpc, hash).await? {
			if current > period {
				return Ok((current, hash));
			}
		}
	}
}

fn has_event(events: &[RuntimeEvent], matches: impl Fn(&RuntimeEvent) -> bool) -> bool {
	events.iter().any(matches)
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_store_prove_and_get_paid_through_json_rpc() -> anyhow::Result<()> {
	// The proving keys take a few seconds: make them while the chain starts.
	let prover = tokio::task::spawn_blocking(|| Prover::new(dev_setup(DEFAULT_CHALLENGES)?));
	let (shards, specs) = tx::coded_file(96 * 1024, 2, 1, 7)?;

	let dir = tempfile::tempdir()?;
	let node = Node::start(NodeConfig::dev(dir.path()))?;
	node.wait_ready().await?;
	let client = node.rpc().await?;
	within(STARTUP, "the first block", rpc::wait_best(&client, 1)).await?;
	let context = tx::chain_context(&client).await?;

	// Three providers register.
	let registrations = PROVIDERS.iter().map(|provider| {
		let call = RuntimeCall::Providers(pallet_providers::Call::register_provider {
			stake: 1_000 * UNITS,
			capacity: 1 << 40,
			price_per_byte_block: PRICE,
			peer_id: BoundedVec::truncate_from(provider.to_account_id().encode()),
			multiaddrs: BoundedVec::new(),
		});
		tx::submit(&client, context, *provider, call, Until::InBlock)
	});
	for included in
		within(STEP, "registrations", async { futures::future::try_join_all(registrations).await })
			.await?
	{
		ensure!(
			has_event(&included.events, |e| matches!(
				e,
				RuntimeEvent::Providers(pallet_providers::Event::ProviderRegistered { .. })
			)),
			"no ProviderRegistered among {:?}",
			included.events
		);
	}

	// A quote for the file's three shards: the three providers, at their price.
	let duration: BlockNumber = 300;
	let shard_bytes = specs[0].bytes;
	let quote: Value = client.request("cairn_quote", rpc_params![shard_bytes, 3, duration]).await?;
	let expected_escrow = 3 * PRICE * u128::from(shard_bytes) * u128::from(duration);
	ensure!(quote["escrow"] == expected_escrow.to_string(), "quote {quote}");
	ensure!(quote["providers"].as_array().map(Vec::len) == Some(3), "quote {quote}");
	let too_many = client.request::<Value, _>("cairn_quote", rpc_params![shard_bytes, 4, duration]);
	let error = too_many.await.err().context("four shards need four providers")?;
	ensure!(error.to_string().contains("3 eligible providers"), "{error}");

	// The buyer opens a 2 + 1 contract over them.
	let call = RuntimeCall::Market(pallet_market::Call::create_contract {
		shards: BoundedVec::truncate_from(specs.clone()),
		k: 2,
		m: 1,
		providers: BoundedVec::truncate_from(
			PROVIDERS.iter().map(|provider| provider.to_account_id()).collect::<Vec<_>>(),
		),
		duration,
		max_price: PRICE,
		manifest: BoundedVec::new(),
	});
	let created =
		within(STEP, "the contract", tx::submit(&client, context, BUYER, call, Until::InBlock))
			.await?;
	let contract: ContractId = created
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Market(pallet_market::Event::ContractCreated {
				contract, owner, ..
			}) if *owner == BUYER.to_account_id() => Some(*contract),
			_ => None,
		})
		.with_context(|| format!("no ContractCreated among {:?}", created.events))?;
	ensure!(
		created.events.iter().any(|event| matches!(
			event,
			RuntimeEvent::Market(pallet_market::Event::ContractCreated { escrow, .. })
				if *escrow == expected_escrow
		)),
		"the contract holds the quoted escrow"
	);

	// Each provider confirms its shard.
	let confirmations = PROVIDERS.iter().enumerate().map(|(index, provider)| {
		let call = RuntimeCall::Market(pallet_market::Call::confirm_shard {
			contract,
			shard: index as u32,
		});
		tx::submit(&client, context, *provider, call, Until::InBlock)
	});
	let confirmed =
		within(STEP, "confirmations", async { futures::future::try_join_all(confirmations).await })
			.await?;
	let mut confirmed_in = 0;
	for included in &confirmed {
		ensure!(
			has_event(&included.events, |e| matches!(
				e,
				RuntimeEvent::Market(pallet_market::Event::ShardConfirmed { .. })
			)),
			"no ShardConfirmed among {:?}",
			included.events
		);
		let period = current_period(&client, included.block).await?.context("a period")?;
		confirmed_in = confirmed_in.max(period);
	}

	// The next period challenges every shard; each provider proves its own.
	let (period, opened_at) =
		within(STEP, "the next proving period", wait_period_after(&client, confirmed_in)).await?;
	let info = period_info(&client, period, opened_at).await?;
	let prover = prover.await??;
	let proofs = PROVIDERS
		.iter()
		.enumerate()
		.map(|(index, provider)| {
			let tree = MemoryTree::from_shard(&shards[index])?;
			let request = ProofRequest {
				seed: info.seed,
				provider: provider.to_account_id().into(),
				contract,
				shard: index as u32,
				period,
				root: specs[index].root,
				shard_bytes: specs[index].bytes,
			};
			let statement = request.statement(DEFAULT_CHALLENGES)?;
			let mut rng = ChaCha20Rng::seed_from_u64(index as u64);
			let proof = prover.prove(&tree, &statement, &mut rng)?;
			Ok(BoundedVec::truncate_from(proof.to_bytes().to_vec()))
		})
		.collect::<anyhow::Result<Vec<_>>>()?;

	// Bob and Charlie submit one proof each, Dave through the batch call.
	let mut submissions = Vec::new();
	for (index, (provider, proof)) in PROVIDERS.iter().zip(proofs).enumerate() {
		let shard = index as u32;
		let call = if *provider == Sr25519Keyring::Dave {
			RuntimeCall::Market(pallet_market::Call::submit_proofs {
				proofs: BoundedVec::truncate_from(vec![ProofSubmission {
					contract,
					shard,
					period,
					proof,
				}]),
			})
		} else {
			RuntimeCall::Market(pallet_market::Call::submit_proof {
				contract,
				shard,
				period,
				proof,
			})
		};
		submissions.push(tx::submit(&client, context, *provider, call, Until::InBlock));
	}
	let proven =
		within(STEP, "the proofs", async { futures::future::try_join_all(submissions).await })
			.await?;
	let view: Value = client.request("cairn_contract", rpc_params![contract]).await?;
	let end = BlockNumber::try_from(view["end"].as_u64().context("end")?)?;
	let period_blocks = info.length.min(end - info.start);
	let mut paid = 0u128;
	for (index, included) in proven.iter().enumerate() {
		let payment = included
			.events
			.iter()
			.find_map(|event| match event {
				RuntimeEvent::Market(pallet_market::Event::ProofAccepted {
					shard,
					payment,
					..
				}) if *shard == index as u32 => Some(*payment),
				_ => None,
			})
			.with_context(|| format!("no ProofAccepted among {:?}", included.events))?;
		let expected = PRICE * u128::from(specs[index].bytes) * u128::from(period_blocks);
		ensure!(payment == expected, "shard {index} paid {payment}, expected {expected}");
		paid += payment;
	}

	// The `cairn_*` methods show the same story.
	let view: Value = client.request("cairn_contract", rpc_params![contract]).await?;
	ensure!(view["owner"] == BUYER.to_account_id().to_ss58check_with_version(2207u16.into()));
	ensure!(view["paid"] == paid.to_string(), "paid {} vs {paid}", view["paid"]);
	let shards_view = view["shards"].as_array().context("shards")?;
	ensure!(shards_view.len() == 3);
	for shard in shards_view {
		ensure!(shard["status"] == "active" && shard["proofs"] == 1, "shard {shard}");
	}
	let providers: Vec<Value> = client.request("cairn_providers", rpc_params![]).await?;
	ensure!(providers.len() == 3, "providers {providers:?}");
	ensure!(providers.iter().all(|p| p["shards"] == 1), "providers {providers:?}");
	let owned: Vec<Value> = client
		.request("cairn_contracts", rpc_params![BUYER.to_account_id().to_ss58check()])
		.await?;
	ensure!(owned.len() == 1 && owned[0]["id"] == contract, "contracts {owned:?}");
	let events: Vec<Value> = client.request("cairn_events", rpc_params![proven[0].block]).await?;
	ensure!(events.iter().any(|event| event["name"] == "ProofAccepted"), "cairn_events {events:?}");
	let bad = client.request::<Value, _>("cairn_contracts", rpc_params!["not-an-address"]).await;
	ensure!(bad.is_err(), "a malformed owner is refused");

	// The command line shows the same.
	let url = node.rpc_url();
	let status =
		cairn_tests::node::cli(&["client", "status", &contract.to_string(), "--rpc", &url])?;
	let shard_lines: Vec<&str> = status.lines().filter(|line| line.contains(" active ")).collect();
	ensure!(shard_lines.len() == 3, "client status:\n{status}");
	ensure!(status.contains("2 data + 1 parity shards"), "client status:\n{status}");
	let buyer = BUYER.to_account_id().to_ss58check_with_version(2207u16.into());
	let listed = cairn_tests::node::cli(&["client", "ls", "--owner", &buyer, "--rpc", &url])?;
	ensure!(listed.lines().count() == 2 && listed.contains(&buyer), "client ls:\n{listed}");
	let bob = Sr25519Keyring::Bob.to_account_id().to_ss58check_with_version(2207u16.into());
	let earnings: Value = client.request("cairn_providerEarnings", rpc_params![&bob]).await?;
	let planck = |field: &str| earnings[field].as_str().and_then(|text| text.parse::<u128>().ok());
	ensure!(
		earnings["activeShards"] == 1
			&& planck("perPeriod") > Some(0)
			&& planck("earned") > Some(0)
			&& earnings["dueBy"].as_u64() > earnings["lateBy"].as_u64(),
		"cairn_providerEarnings: {earnings}"
	);
	let bad = client.request::<Value, _>("cairn_providerEarnings", rpc_params!["bob"]).await;
	ensure!(bad.is_err(), "a malformed account is refused");
	let provider = cairn_tests::node::cli(&["provider", "status", &bob, "--rpc", &url])?;
	ensure!(
		provider.contains("active")
			&& provider.contains("1000 CAIRN")
			&& provider.contains("from 1 active shards")
			&& !provider.contains("earned       0 CAIRN"),
		"provider:\n{provider}"
	);
	let missing = std::process::Command::new(cairn_tests::node::node_binary()?)
		.args(["client", "status", "999", "--rpc", &url])
		.output()?;
	ensure!(!missing.status.success(), "an unknown contract is an error");
	ensure!(String::from_utf8_lossy(&missing.stderr).contains("contract 999 not found"));

	upgrade_moves_contracts_and_the_node_still_reads_them(&client, &url, contract, &specs).await
}

/// `System::set_code` by root (Alice on the dev chain) to the upgrade test's runtime: the next
/// `spec_version`, whose migration moves every contract to other storage keys. The node was
/// built with the old layout; its reads of the market (the `cairn_*` methods and the command
/// line, through the runtime API) give what they gave before, for the moved contract and for one
/// made after the upgrade.
async fn upgrade_moves_contracts_and_the_node_still_reads_them(
	client: &WsClient,
	url: &str,
	contract: ContractId,
	specs: &[ShardSpec],
) -> anyhow::Result<()> {
	let encoded = contract.encode();
	let released_key =
		[market_key(b"Contracts"), twox_64(&encoded).to_vec(), encoded.clone()].concat();
	let upgraded_key = [market_key(b"Contracts"), blake2_128(&encoded).to_vec(), encoded].concat();
	let raw = |key: Vec<u8>, at: H256| async move {
		rpc::storage::<pallet_market::ContractOf<cairn_runtime::Runtime>>(client, &key, Some(at))
			.await
	};
	let buyer = BUYER.to_account_id().to_ss58check();
	let buyer = buyer.as_str();
	let reads = |id: ContractId, at: H256| async move {
		let contract: Value = client.request("cairn_contract", rpc_params![id, at]).await?;
		let owned: Vec<Value> = client.request("cairn_contracts", rpc_params![buyer, at]).await?;
		let providers: Vec<Value> = client.request("cairn_providers", rpc_params![at]).await?;
		anyhow::Ok((contract, owned, providers))
	};

	let context = tx::chain_context(client).await?;
	let code = cairn_runtime::upgrade_test::WASM_BINARY
		.context("the runtime's build makes the upgrade test's WASM")?;
	let call = RuntimeCall::Sudo(pallet_sudo::Call::sudo_unchecked_weight {
		call: Box::new(RuntimeCall::System(frame_system::Call::set_code { code: code.to_vec() })),
		weight: frame_support::weights::Weight::zero(),
	});
	let upgraded = within(
		STEP,
		"the runtime upgrade",
		tx::submit(client, context, Sr25519Keyring::Alice, call, Until::InBlock),
	)
	.await?;
	ensure!(
		has_event(&upgraded.events, |e| matches!(
			e,
			RuntimeEvent::System(frame_system::Event::CodeUpdated { .. })
		)),
		"no CodeUpdated among {:?}",
		upgraded.events
	);
	// The block after runs the new code, and its migration first. The upgrade's own block holds
	// the new code already but not the moved contracts: the last block of the old layout is its
	// parent.
	let header = rpc::header(client, Some(upgraded.block)).await?;
	let (number, before) = (header.number, header.parent_hash);
	within(STEP, "the first upgraded block", rpc::wait_best(client, number + 1)).await?;
	let after = rpc::block_hash(client, number + 1).await?.context("the upgraded block")?;
	let version: Value = client.request("state_getRuntimeVersion", rpc_params![after]).await?;
	ensure!(
		version["specVersion"].as_u64() == Some(u64::from(context.spec_version) + 1),
		"the upgraded block runs {version}"
	);

	// The contract moved: under the released runtime's key before, under the new one after.
	ensure!(raw(released_key.clone(), before).await?.is_some(), "not under the released key");
	ensure!(raw(upgraded_key.clone(), before).await?.is_none());
	ensure!(raw(released_key, after).await?.is_none(), "still under the released key");
	let moved = raw(upgraded_key, after).await?.context("not under the upgraded key")?;
	ensure!(moved.owner == BUYER.to_account_id(), "moved {moved:?}");

	// The node reads the market as before. The block may have settled a period, so compare what a
	// block cannot change.
	let (old, old_owned, old_providers) = reads(contract, before).await?;
	let (new, new_owned, new_providers) = reads(contract, after).await?;
	let stable = |contract: &Value| {
		let shards = contract["shards"].as_array().cloned().unwrap_or_default();
		let shards: Vec<_> =
			shards.iter().map(|s| (s["provider"].clone(), s["root"].clone())).collect();
		(contract["owner"].clone(), contract["k"].clone(), contract["end"].clone(), shards)
	};
	ensure!(new["id"] == contract && stable(&new) == stable(&old), "{old}\nbecame\n{new}");
	ensure!(stable(&old).3.len() == 3, "{old}");
	let ids = |owned: &[Value]| owned.iter().map(|c| c["id"].clone()).collect::<Vec<_>>();
	ensure!(ids(&new_owned) == ids(&old_owned) && ids(&new_owned) == [contract]);
	ensure!(new_providers.len() == old_providers.len() && new_providers.len() == 3);
	let status =
		cairn_tests::node::cli(&["client", "status", &contract.to_string(), "--rpc", url])?;
	ensure!(status.contains("2 data + 1 parity shards"), "client status:\n{status}");

	// A contract made under the new runtime is read as well.
	let context = tx::chain_context(client).await?;
	ensure!(context.spec_version == u32::try_from(version["specVersion"].as_u64().unwrap_or(0))?);
	let call = RuntimeCall::Market(pallet_market::Call::create_contract {
		shards: BoundedVec::truncate_from(specs.to_vec()),
		k: 2,
		m: 1,
		providers: BoundedVec::truncate_from(
			PROVIDERS.iter().map(|provider| provider.to_account_id()).collect::<Vec<_>>(),
		),
		duration: 300,
		max_price: PRICE,
		manifest: BoundedVec::new(),
	});
	let created = within(
		STEP,
		"a contract after the upgrade",
		tx::submit(client, context, BUYER, call, Until::InBlock),
	)
	.await?;
	let second = created
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Market(pallet_market::Event::ContractCreated { contract, .. }) => {
				Some(*contract)
			}
			_ => None,
		})
		.with_context(|| format!("no ContractCreated among {:?}", created.events))?;
	let (second, owned, _) = reads(second, created.block).await?;
	// Newest first, as before the upgrade.
	ensure!(ids(&owned) == [second["id"].as_u64().unwrap_or(u64::MAX), contract], "{owned:?}");
	ensure!(stable(&second).3.len() == 3 && second["owner"] == new["owner"], "{second}");
	Ok(())
}
