//! A flood of big remarks, as an attacker who wants proofs kept out of blocks would send it
//! ("proof censorship for pennies"): `system.remark` transactions as long as a normal
//! transaction can be (the normal class's share of the block length, less what a block's header
//! and inherents already take), each with a tip, kept a few ahead of the chain in every
//! validator's pool, so that each block has one to include and no other normal transaction fits
//! beside it. Such a remark takes all of the normal class's length but only about 6 % of its
//! weight (43 ms of 750), and fees rise only while blocks carry more than a quarter of that weight
//! (`TargetedFeeAdjustment`): its fee stays about four hundredths of a token (the weight fee;
//! the length fee is four millionths), and filling every block costs the attacker little more
//! than its tips.
//!
//! The attacker sends each remark to every validator's JSON-RPC (`author_submitExtrinsic`), in
//! nonce order, from connections and a thread of its own, so that the test's own RPC calls never
//! wait behind its 8 MB requests. Unlike [`crate::flood`] it runs at normal CPU priority: its
//! work is small (signing and hex-encoding one remark per block), and starving it would measure
//! the attacker's weakness, not the chain's. Everything stops when the [`RemarkFlood`] is
//! dropped.
//!
//! [`survey`] reads blocks back from a node: how much of each the remarks took, its proof
//! transactions, its events and what the attacker paid in it.

use std::{
	ops::RangeInclusive,
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
	time::Duration,
};

use anyhow::{bail, ensure, Context};
use cairn_runtime::{Balance, RuntimeCall, RuntimeEvent, UncheckedExtrinsic};
use codec::{Compact, Decode, Encode};
use frame_support::dispatch::DispatchClass;
use jsonrpsee::{
	core::client::{ClientT, Error as ClientError},
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;
use sp_core::{sr25519, Pair, H256};
use sp_crypto_hashing::twox_128;
use sp_runtime::{generic::Preamble, AccountId32, MultiAddress};
use tokio::sync::{oneshot, watch};

use crate::tx::{self, ChainContext};

/// Bytes of the normal class's length each remark leaves unused beyond the header and inherents
/// measured at the start: room for a few bytes more of block number or timestamp, too little for
/// any signed transaction (a proof transaction has about 250). A block whose runtime adds a log
/// (a BABE epoch change, every 300 blocks) has no room for the remark.
const SLACK: usize = 64;

/// New blocks without one of the remarks in flight after which they are signed and sent again
/// (new signatures give them new hashes: a validator bans the hashes of transactions it
/// dropped). Blocks full of proofs may take none for a few blocks.
const STALL_BLOCKS: u32 = 6;

/// Longest wait for a new block before the attacker gives up.
const HEAD_TIMEOUT: Duration = Duration::from_secs(60);

/// The attacker's JSON-RPC requests and responses: a remark is twice its length in hex, and a
/// block read back by [`survey`] as much. The nodes accept 15 MiB (`--rpc-max-request-size`,
/// `--rpc-max-response-size`).
const MAX_MESSAGE: u32 = 32 << 20;

/// `author_*` errors that mean the validator has the remark already: it reached it from another
/// validator first (1013, already imported), or an earlier signature of the same nonce is there
/// (1014, too low priority to replace it).
const ALREADY_THERE: [i32; 2] = [1013, 1014];

/// The first byte of a `DigestItem::Seal`, which the author adds after executing the block.
const SEAL: u8 = 5;

/// How to flood.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
	/// The tip of every remark.
	pub tip: Balance,
	/// Remarks kept in the pools ahead of the chain. A pool holds 20 MiB of ready transactions
	/// by default (`--pool-kbytes`), so at most 4.
	pub ahead: u32,
}

/// What the flood did so far.
#[derive(Clone, Debug, Default)]
pub struct Stats {
	/// The attacker's nonce when the flood started.
	pub first_nonce: u32,
	/// Remarks signed and sent (each to every validator).
	pub sent: u64,
	/// Of those, in the best chain (the account's nonce moved past them).
	pub included: u64,
	/// Times the chain took none of the remarks in flight for [`STALL_BLOCKS`] blocks, and they
	/// were signed and sent again.
	pub stalls: u64,
	/// Submissions a validator refused for another reason than holding the remark already.
	pub refused: u64,
	/// The last of those refusals.
	pub last_refusal: Option<String>,
	/// Why the attacker stopped before it was told to, if it did.
	pub failed: Option<String>,
}

impl Stats {
	/// One line for the log.
	pub fn summary(&self) -> String {
		format!(
			"{} remarks sent, {} in the best chain, {} stalls, {} refusals{}{}",
			self.sent,
			self.included,
			self.stalls,
			self.refused,
			self.last_refusal.as_ref().map(|r| format!(" (last: {r})")).unwrap_or_default(),
			self.failed.as_ref().map(|f| format!("; failed: {f}")).unwrap_or_default(),
		)
	}
}

/// The largest block length the normal class may fill (`RuntimeBlockLength`).
pub fn normal_limit() -> usize {
	*cairn_runtime::configs::RuntimeBlockLength::get().max.get(DispatchClass::Normal) as usize
}

/// The largest block length the runtime allows, which operational transactions may fill (the
/// node's block builder stops at 4 MiB + 512 bytes, `sc_basic_authorship`'s default).
pub fn block_limit() -> usize {
	*cairn_runtime::configs::RuntimeBlockLength::get().max.get(DispatchClass::Operational) as usize
}

/// A running flood.
pub struct RemarkFlood {
	/// The attacker's account.
	pub attacker: AccountId32,
	/// The encoded length of each remark transaction.
	pub extrinsic_len: usize,
	/// What a block's header and inherents took of its length when the flood started.
	pub block_overhead: usize,
	stats: watch::Receiver<Stats>,
	/// The attacker's thread; dropping it ends every task of the flood.
	runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for RemarkFlood {
	fn drop(&mut self) {
		if let Some(runtime) = self.runtime.take() {
			runtime.shutdown_background();
		}
	}
}

impl RemarkFlood {
	/// Starts flooding the chain whose validators serve JSON-RPC at `validators`
	/// (`ws://` addresses) with remarks signed by `signer`, per `plan`. Returns once the remark
	/// size is known and the attacker is connected; the first remarks are on their way.
	pub async fn start(
		validators: &[String],
		signer: sr25519::Pair,
		plan: Plan,
	) -> anyhow::Result<Self> {
		ensure!(!validators.is_empty(), "a flood needs a validator to send to");
		ensure!(plan.ahead > 0, "a flood keeps at least one remark in the pools");
		let runtime = tokio::runtime::Builder::new_multi_thread()
			.worker_threads(1)
			.thread_name("remarks")
			.enable_all()
			.build()?;
		let (stats_tx, stats) = watch::channel(Stats::default());
		let (ready_tx, ready_rx) = oneshot::channel();
		let attacker = AccountId32::from(signer.public());
		let urls = validators.to_vec();
		runtime.spawn(async move {
			let attacker = match Attacker::connect(&urls, signer, plan.tip).await {
				Ok(attacker) => attacker,
				Err(error) => {
					let _ = ready_tx.send(Err(error));
					return;
				}
			};
			let _ = ready_tx.send(Ok((attacker.remarks.extrinsic_len, attacker.remarks.overhead)));
			if let Err(error) = attacker.run(plan.ahead, &stats_tx).await {
				stats_tx.send_modify(|stats| stats.failed = Some(format!("{error:#}")));
			}
		});
		// Dropped, and its thread stopped, if the start fails.
		let mut flood =
			Self { attacker, extrinsic_len: 0, block_overhead: 0, stats, runtime: Some(runtime) };
		let (extrinsic_len, block_overhead) =
			crate::within(Duration::from_secs(60), "the remark flood's start", async {
				match ready_rx.await {
					Ok(sizes) => sizes,
					Err(_) => bail!("the attacker's task ended before it started"),
				}
			})
			.await?;
		flood.extrinsic_len = extrinsic_len;
		flood.block_overhead = block_overhead;
		Ok(flood)
	}

	/// What the flood did so far.
	pub fn stats(&self) -> Stats {
		self.stats.borrow().clone()
	}

	/// Waits until `count` remarks of the flood are in the best chain.
	pub async fn wait_included(&self, count: u64, limit: Duration) -> anyhow::Result<Stats> {
		let mut updates = self.stats.clone();
		let stats = crate::within(limit, "the flood's remarks in blocks", async {
			let stats = updates.wait_for(|s| s.included >= count || s.failed.is_some()).await?;
			Ok(stats.clone())
		})
		.await?;
		if let Some(failed) = &stats.failed {
			bail!("the remark flood stopped: {failed}");
		}
		Ok(stats)
	}

	/// Stops the flood; returns what it did. Remarks already in the pools may still land.
	pub fn stop(self) -> Stats {
		self.stats()
	}
}

/// Builds the attacker's remarks.
struct Remarks {
	signer: sr25519::Pair,
	account: AccountId32,
	context: ChainContext,
	tip: Balance,
	/// The encoded length of each remark transaction.
	extrinsic_len: usize,
	/// What a block's header and inherents took of its length when the flood started.
	overhead: usize,
	/// Bytes a remark's encoding adds beyond its own and those of an empty remark's transaction
	/// (length prefixes grow): learned from the first remark, so that the next ones are signed
	/// once.
	growth: AtomicUsize,
}

impl Remarks {
	/// The remark transaction with `nonce`, exactly `extrinsic_len` bytes long, as `0x` hex. Its
	/// bytes are zeros: what a remark says does not matter here, and the nodes' databases
	/// compress them, so that the flood does not fill the disk.
	fn build(&self, nonce: u32) -> anyhow::Result<String> {
		let sign = |len: usize| {
			let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![0; len] });
			tx::tipped_extrinsic(call, &self.signer, nonce, self.tip, self.context)
		};
		let target = self.extrinsic_len;
		let bare = sign(0).len();
		let mut len = target
			.checked_sub(bare + self.growth.load(Ordering::Relaxed))
			.context("no remark fits")?;
		for _ in 0..3 {
			let extrinsic = sign(len);
			if extrinsic.len() == target {
				self.growth.store(target - bare - len, Ordering::Relaxed);
				return Ok(format!("0x{}", hex::encode(extrinsic)));
			}
			len = (len + target).checked_sub(extrinsic.len()).context("no remark fits")?;
		}
		bail!("no remark transaction encodes to exactly {target} bytes")
	}
}

/// The attacker's task: its connections and remarks.
struct Attacker {
	/// One client per validator; the first also follows the chain.
	clients: Vec<WsClient>,
	remarks: Arc<Remarks>,
}

impl Attacker {
	/// Connects to every validator and sizes the remarks: the normal class's block length, less
	/// the header and inherents of the best block, less [`SLACK`].
	async fn connect(urls: &[String], signer: sr25519::Pair, tip: Balance) -> anyhow::Result<Self> {
		let mut clients = Vec::with_capacity(urls.len());
		for url in urls {
			clients.push(client(url).await?);
		}
		let rpc = &clients[0];
		let context = tx::chain_context(rpc).await?;
		let overhead = block_overhead(rpc).await?;
		let extrinsic_len =
			normal_limit().checked_sub(overhead + SLACK).context("blocks have no room")?;
		let account = AccountId32::from(signer.public());
		let remarks = Remarks {
			signer,
			account,
			context,
			tip,
			extrinsic_len,
			overhead,
			growth: AtomicUsize::new(0),
		};
		Ok(Self { clients, remarks: Arc::new(remarks) })
	}

	/// Keeps `ahead` remarks beyond the account's nonce in the best block in the validators'
	/// pools: at every new best block, signs and sends the missing ones; when the chain has
	/// taken none of them for [`STALL_BLOCKS`] blocks, signs and sends them all again.
	async fn run(&self, ahead: u32, stats: &watch::Sender<Stats>) -> anyhow::Result<()> {
		let rpc = &self.clients[0];
		let account = &self.remarks.account;
		let mut heads = crate::rpc::subscribe_new_heads(rpc).await?;
		let first = crate::rpc::account(rpc, account, None).await?.nonce;
		stats.send_modify(|s| s.first_nonce = first);
		let (mut next, mut seen, mut idle) = (first, first, 0u32);
		loop {
			let nonce = crate::rpc::account(rpc, account, None).await?.nonce;
			if nonce != seen {
				(seen, idle) = (nonce, 0);
			} else if next > nonce {
				idle += 1;
			}
			if idle >= STALL_BLOCKS {
				(next, idle) = (nonce, 0);
				stats.send_modify(|s| s.stalls += 1);
			}
			next = next.max(nonce);
			stats.send_modify(|s| s.included = u64::from(nonce.saturating_sub(first)));
			while next < nonce + ahead {
				let remarks = self.remarks.clone();
				let hex = tokio::task::spawn_blocking(move || remarks.build(next)).await??;
				self.send(&hex, stats).await?;
				next += 1;
				stats.send_modify(|s| s.sent += 1);
			}
			match tokio::time::timeout(HEAD_TIMEOUT, heads.next()).await {
				Ok(Some(Ok(_))) => {}
				Ok(Some(Err(error))) => return Err(error).context("the new-heads subscription"),
				Ok(None) => bail!("the new-heads subscription closed"),
				Err(_) => bail!("no new block within {HEAD_TIMEOUT:?}"),
			}
		}
	}

	/// Sends a remark to every validator in turn, so that each holds it before the next remark
	/// (whose nonce follows it) reaches it from anywhere: a validator that got that one first
	/// would put it among its future transactions, which may hold 2 MiB (a tenth of
	/// `--pool-kbytes`), and drop it at once.
	async fn send(&self, hex: &str, stats: &watch::Sender<Stats>) -> anyhow::Result<()> {
		for client in &self.clients {
			match client.request::<Value, _>("author_submitExtrinsic", rpc_params![hex]).await {
				Ok(_) => {}
				Err(ClientError::Call(error)) if ALREADY_THERE.contains(&error.code()) => {}
				Err(ClientError::Call(error)) => stats.send_modify(|s| {
					s.refused += 1;
					s.last_refusal = Some(format!("{} {}", error.code(), error.message()));
				}),
				Err(error) => return Err(error).context("author_submitExtrinsic"),
			}
		}
		Ok(())
	}
}

/// A client whose messages may hold a remark or a block full of them.
async fn client(url: &str) -> anyhow::Result<WsClient> {
	WsClientBuilder::default()
		.max_request_size(MAX_MESSAGE)
		.max_response_size(MAX_MESSAGE)
		.request_timeout(Duration::from_secs(60))
		.build(url)
		.await
		.with_context(|| format!("connecting to {url}"))
}

fn hex_bytes(value: &Value) -> anyhow::Result<Vec<u8>> {
	let text = value.as_str().context("hex is a JSON string")?;
	Ok(hex::decode(text.trim_start_matches("0x"))?)
}

/// The encoded length of a block header given as JSON, with or without its seal (which the
/// author adds after executing the block, so that the runtime never counts it).
fn header_len(header: &Value, with_seal: bool) -> anyhow::Result<usize> {
	let number = crate::rpc::parse_header(header)?.number;
	let logs = header["digest"]["logs"].as_array().context("a header has a digest")?;
	let (mut items, mut bytes) = (0u32, 0usize);
	for log in logs {
		let item = hex_bytes(log)?;
		if with_seal || item.first() != Some(&SEAL) {
			items += 1;
			bytes += item.len();
		}
	}
	// Parent hash, number, state root, extrinsics root, digest.
	Ok(32 + Compact(number).encoded_size() + 32 + 32 + Compact(items).encoded_size() + bytes)
}

/// What the best block's header and inherents took of its length before any transaction, as
/// the runtime counts it (`frame_system::BlockSize`: an empty header, the digest, and every
/// extrinsic applied).
async fn block_overhead(rpc: &WsClient) -> anyhow::Result<usize> {
	let block: Value = rpc.request("chain_getBlock", rpc_params![]).await?;
	let header = &block["block"]["header"];
	// The empty header's digest is one byte more.
	let mut overhead = header_len(header, false)? + 1;
	for extrinsic in block["block"]["extrinsics"].as_array().context("a block has extrinsics")? {
		let bytes = hex_bytes(extrinsic)?;
		if UncheckedExtrinsic::decode(&mut &bytes[..])?.is_inherent() {
			overhead += bytes.len();
		}
	}
	Ok(overhead)
}

/// `TransactionPayment::NextFeeMultiplier` at `at` (the best block if `None`): the factor of the
/// weight fees of the next block's transactions.
pub async fn fee_multiplier(rpc: &WsClient, at: Option<H256>) -> anyhow::Result<f64> {
	let key = [twox_128(b"TransactionPayment"), twox_128(b"NextFeeMultiplier")].concat();
	// A `FixedU128`: the factor times 10^18.
	let inner: Option<u128> = crate::rpc::storage(rpc, &key, at).await?;
	Ok(inner.map_or(1.0, |inner| inner as f64 / 1e18))
}

/// One block, as the flood left it.
#[derive(Clone, Debug)]
pub struct BlockFill {
	/// Its number.
	pub number: u32,
	/// Its hash.
	pub hash: H256,
	/// Its encoded length: header (seal included), extrinsic count and extrinsics.
	pub bytes: usize,
	/// The attacker's remarks in it.
	pub remarks: usize,
	/// Their encoded length.
	pub remark_bytes: usize,
	/// Its transactions carrying proofs (`submit_proof`, `submit_proofs`).
	pub proof_transactions: usize,
	/// Its other signed transactions.
	pub other_transactions: usize,
	/// The fees the attacker paid in it, tips included.
	pub fees: Balance,
	/// Of those, the tips.
	pub tips: Balance,
	/// Its events.
	pub events: Vec<RuntimeEvent>,
}

/// Reads the blocks numbered `numbers` of the canonical chain (finalized, or they may change)
/// from the node at `url`, on a connection of its own: their length, `attacker`'s remarks in
/// them, their proof transactions, their events and `attacker`'s fees.
pub async fn survey(
	url: &str,
	attacker: &AccountId32,
	numbers: RangeInclusive<u32>,
) -> anyhow::Result<Vec<BlockFill>> {
	let rpc = client(url).await?;
	let events_key = [twox_128(b"System"), twox_128(b"Events")].concat();
	let mut fills = Vec::new();
	for number in numbers {
		let hash = crate::rpc::block_hash(&rpc, number).await?.context("no such block")?;
		let block: Value = rpc.request("chain_getBlock", rpc_params![hash]).await?;
		let header = &block["block"]["header"];
		let extrinsics =
			block["block"]["extrinsics"].as_array().context("a block has extrinsics")?;
		let mut fill = BlockFill {
			number,
			hash,
			bytes: header_len(header, true)? + Compact(extrinsics.len() as u32).encoded_size(),
			remarks: 0,
			remark_bytes: 0,
			proof_transactions: 0,
			other_transactions: 0,
			fees: 0,
			tips: 0,
			events: Vec::new(),
		};
		for extrinsic in extrinsics {
			let bytes = hex_bytes(extrinsic)?;
			fill.bytes += bytes.len();
			let decoded = UncheckedExtrinsic::decode(&mut &bytes[..])
				.with_context(|| format!("an extrinsic of block {number}"))?;
			let signer = match &decoded.preamble {
				Preamble::Bare(_) => continue,
				Preamble::Signed(MultiAddress::Id(who), ..) => Some(who),
				_ => None,
			};
			match &decoded.function {
				RuntimeCall::System(frame_system::Call::remark { .. })
					if signer == Some(attacker) =>
				{
					fill.remarks += 1;
					fill.remark_bytes += bytes.len();
				}
				RuntimeCall::Market(
					pallet_market::Call::submit_proof { .. }
					| pallet_market::Call::submit_proofs { .. },
				) => fill.proof_transactions += 1,
				_ => fill.other_transactions += 1,
			}
		}
		let records: Vec<frame_system::EventRecord<RuntimeEvent, H256>> =
			crate::rpc::storage(&rpc, &events_key, Some(hash)).await?.unwrap_or_default();
		for record in records {
			if let RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { who, actual_fee, tip },
			) = &record.event
			{
				if who == attacker {
					fill.fees += actual_fee;
					fill.tips += tip;
				}
			}
			fill.events.push(record.event);
		}
		fills.push(fill);
	}
	Ok(fills)
}
