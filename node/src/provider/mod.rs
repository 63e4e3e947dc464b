//! The provider service (`--provider`): keeps the shards the market assigns to this node's
//! account and proves them.
//!
//! - **Registration:** registers the account (stake, capacity, price, shard-network peer id and
//!   addresses), or updates the addresses when they changed.
//! - **Accepting shards** ([`intake`]): a `Put` piece is taken only for a shard of an open
//!   contract assigned to this account, from a sender the contract's owner granted the upload,
//!   and only if it checks against the shard's BLAKE3 digest; pieces are staged per sender, and
//!   the complete shard is stored in RocksDB only if its Poseidon root is the one on chain.
//! - **Serving** ([`serving`]): `Get` and `Leaves` of stored shards, within the shard network's
//!   per-peer budgets and serving slots.
//! - **Confirming:** every stored shard still pending on chain is confirmed.
//! - **Checking:** in every proving period, each active shard is read whole and checked against
//!   its digest, whether or not the prover is ready yet. A shard that fails (or that the store no
//!   longer holds) is dropped and reported lost on chain (`report_lost`), so that it is never
//!   proven from bad data and its owner repairs it at once.
//! - **Proving:** each active shard checked in the current period is proven (Groth16, the
//!   circuit's challenges from the period's seed); the proofs of a period go out in batches.
//! - **Restarts:** everything above is derived from the chain and the store on each block, so a
//!   restarted provider carries on where it stopped; staging files of unfinished puts are dropped.

mod intake;
mod serving;

use std::{
	collections::{HashMap, HashSet},
	path::PathBuf,
	sync::Arc,
};

use cairn_net::Network;
use cairn_prover::{prover::Prover, statement::ProofRequest, DEFAULT_CHALLENGES};
use cairn_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use cairn_storage::{
	store::{RocksShardStore, ShardId, ShardReader, ShardStore, StoreConfig},
	StorageError,
};
use frame_support::{traits::Get, BoundedVec};
use futures::StreamExt;
use pallet_market::{ContractOf, PeriodIndex, ProofSubmission, ShardStatus};
use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};
use sc_client_api::BlockchainEvents;
use sp_blockchain::HeaderBackend;
use tokio::sync::Mutex;

use crate::{
	service::FullClient,
	signer::{Signer, State},
};

/// How a provider offers its storage.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
	/// Bytes offered to the market (and kept at most in the store).
	pub capacity: u64,
	/// Price per byte per block.
	pub price: Balance,
	/// Where the shard store and staging files live.
	pub dir: PathBuf,
	/// The proving key file; the deterministic development key when absent.
	pub proving_key: Option<PathBuf>,
	/// Threads strangers' audits are answered on (one per audit slot of the shard network).
	pub audit_threads: usize,
	/// How long an audit may take once it has its slot: by then its asker has given up.
	pub audit_time: std::time::Duration,
}

/// Finalized blocks in a row that must show a stored shard is no longer ours before it is deleted.
const DELETE_AFTER_BLOCKS: u32 = 5;

/// Blocks to wait before sending a transaction again that did not take effect.
const RETRY_BLOCKS: BlockNumber = 5;

/// The provider service.
pub struct Provider {
	config: ProviderConfig,
	/// The chain's genesis hash, which every grant names.
	genesis: [u8; 32],
	state: State,
	signer: Arc<Signer>,
	store: Arc<RocksShardStore>,
	network: Network,
	intake: intake::Intake,
	/// Where strangers' audits are answered, behind everything else.
	audits: serving::AuditPool,
	/// Transactions sent, by what they do, and the block they were sent at.
	sent: Mutex<HashMap<Sent, BlockNumber>>,
	/// Shards found damaged: never confirmed or proven again, and reported lost.
	damaged: Mutex<HashSet<ShardId>>,
	/// The period in which each shard last passed its digest check.
	checked: Mutex<HashMap<ShardId, PeriodIndex>>,
	/// Stored shards the chain no longer assigns to us, and for how many blocks in a row.
	doomed: Mutex<HashMap<ShardId, u32>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Sent {
	Registration,
	Confirm(ShardId),
	ReportLost(ShardId),
	Proof(ShardId, PeriodIndex),
}

fn shard_id(contract: u64, shard: u32) -> ShardId {
	ShardId::new(contract, shard)
}

impl Provider {
	/// Opens the shard store and answers shard requests from now on.
	pub fn start(
		config: ProviderConfig,
		client: Arc<FullClient>,
		signer: Arc<Signer>,
		network: Network,
	) -> Result<Arc<Self>, String> {
		let (store, report) = RocksShardStore::open(
			&config.dir.join("shards"),
			StoreConfig { capacity_bytes: config.capacity },
		)
		.map_err(|e| format!("cannot open the shard store: {e}"))?;
		log::info!(
			target: "cairn-provider",
			"shard store: {} shards kept, {} unfinished puts removed",
			report.committed,
			report.removed_pending.len()
		);
		let store = Arc::new(store);
		// Unfinished puts of an earlier run start over.
		let staging = config.dir.join("incoming");
		let genesis = signer.genesis_hash()?.to_fixed_bytes();
		let intake = intake::Intake::new(staging.clone(), store.clone())
			.map_err(|e| format!("cannot stage shards in {}: {e}", staging.display()))?;
		let audits = serving::AuditPool::new(config.audit_threads)?;
		let provider = Arc::new(Self {
			config,
			genesis,
			state: State::new(client),
			signer,
			store,
			network: network.clone(),
			intake,
			audits,
			sent: Mutex::new(HashMap::new()),
			damaged: Mutex::new(HashSet::new()),
			checked: Mutex::new(HashMap::new()),
			doomed: Mutex::new(HashMap::new()),
		});
		network
			.set_handler(Arc::new(serving::Handler(provider.clone())))
			.map_err(|e| e.to_string())?;
		Ok(provider)
	}

	/// Follows the chain: registers, confirms and proves on every new best block.
	pub async fn run(self: Arc<Self>) {
		// The key loads in the background: registering and storing need no prover.
		let loading = {
			let this = self.clone();
			tokio::spawn(async move {
				let started = std::time::Instant::now();
				match this.load_prover().await {
					Ok(prover) => {
						log::info!(
							target: "cairn-provider",
							"prover ready ({} constraints, {:.1} s)",
							prover.num_constraints(),
							started.elapsed().as_secs_f64()
						);
						Some(Arc::new(prover))
					}
					Err(error) => {
						log::error!(target: "cairn-provider", "not proving: {error}");
						None
					}
				}
			})
		};
		let mut loading = Some(loading);
		let mut prover: Option<Arc<Prover>> = None;
		let mut blocks = self.state.client().import_notification_stream();
		let mut busy: Option<tokio::task::JoinHandle<()>> = None;
		while let Some(block) = blocks.next().await {
			if !block.is_new_best {
				continue;
			}
			// One read of the market per block serves the chores and the proving round.
			let contracts = match self.state.contracts(block.hash) {
				Ok(contracts) => Arc::new(contracts),
				Err(error) => {
					log::warn!(target: "cairn-provider", "reading contracts: {error}");
					continue;
				}
			};
			if let Err(error) = self.on_block(block.hash, &contracts).await {
				log::warn!(target: "cairn-provider", "{error}");
			}
			if loading.as_ref().is_some_and(|task| task.is_finished()) {
				prover = loading
					.take()
					.and_then(futures::FutureExt::now_or_never)
					.and_then(|r| r.ok())
					.flatten();
			}
			// One round at a time; a round still running skips this block. Shards are checked
			// before the prover is ready, so that damage is reported without waiting for it.
			if busy.as_ref().is_none_or(|task| task.is_finished()) {
				let this = self.clone();
				let prover = prover.clone();
				let at = block.hash;
				busy = Some(tokio::spawn(async move {
					if let Err(error) = this.check_and_prove(at, &contracts, prover).await {
						log::warn!(target: "cairn-provider", "proving: {error}");
					}
				}));
			}
		}
	}

	async fn load_prover(&self) -> Result<Prover, String> {
		let path = self.config.proving_key.clone();
		let chain_key = self.state.verifying_key(self.state.at(None)).map_err(|e| e.to_string())?;
		tokio::task::spawn_blocking(move || {
			let keys = match path {
				Some(path) => {
					let (key, challenges) =
						cairn_prover::keys::read_proving_key(&path, Some(DEFAULT_CHALLENGES))
							.map_err(|e| format!("cannot read {}: {e}", path.display()))?;
					cairn_prover::prover::Keys::new(key, challenges)
				}
				None => untraced(|| cairn_prover::prover::dev_setup(DEFAULT_CHALLENGES))
					.map_err(|e| e.to_string())?,
			};
			let ours =
				cairn_prover::keys::verifying_key_to_bytes(keys.verifying_key(), keys.challenges())
					.map_err(|e| e.to_string())?;
			if ours != chain_key {
				return Err("the proving key does not match the chain's verifying key (pass the \
				            matching key with --proving-key)"
					.to_string());
			}
			untraced(|| Prover::new(keys)).map_err(|e| e.to_string())
		})
		.await
		.map_err(|e| e.to_string())?
	}

	/// Whether a transaction for `what` may be sent at block `now` (not sent recently).
	async fn may_send(&self, what: Sent, now: BlockNumber) -> bool {
		let mut sent = self.sent.lock().await;
		match sent.get(&what) {
			Some(at) if now < at + RETRY_BLOCKS => false,
			_ => {
				sent.insert(what, now);
				true
			}
		}
	}

	fn number(&self, at: Hash) -> BlockNumber {
		self.state.number(at)
	}

	async fn on_block(
		&self,
		at: Hash,
		contracts: &[(u64, ContractOf<Runtime>)],
	) -> Result<(), String> {
		let now = self.number(at);
		let me = self.signer.account();
		self.register(at, now, &me).await?;
		let mine = mine_in(contracts, &me);
		for (id, status) in &mine {
			let (what, action, call) = match status {
				ShardStatus::Pending { .. } if self.is_stored(*id).await => (
					Sent::Confirm(*id),
					"confirming",
					pallet_market::Call::confirm_shard { contract: id.contract, shard: id.index },
				),
				// Damaged, or gone from the store (a store lost or replaced while we were
				// down): the chain must hear of it, not wait for missed proofs.
				ShardStatus::Active if self.is_missing(*id).await => (
					Sent::ReportLost(*id),
					"reporting the loss of",
					pallet_market::Call::report_lost { contract: id.contract, shard: id.index },
				),
				_ => continue,
			};
			if !self.may_send(what, now).await {
				continue;
			}
			log::info!(target: "cairn-provider", "{action} shard {id}");
			// Followed into a block in the background, so that the log says whether it held.
			let signer = self.signer.clone();
			let id = *id;
			tokio::spawn(async move {
				match signer.submit_and_watch(RuntimeCall::Market(call)).await {
					Ok(included) => log::info!(
						target: "cairn-provider",
						"{action} shard {id}: done in block {:?}",
						included.block
					),
					Err(error) => {
						log::warn!(target: "cairn-provider", "{action} shard {id}: {error}")
					}
				}
			});
		}
		let waiting: HashSet<ShardId> = mine
			.iter()
			.filter(|(_, status)| matches!(status, ShardStatus::Pending { .. }))
			.map(|(id, _)| *id)
			.collect();
		self.intake.expire(&waiting).await;
		self.collect_garbage(now).await?;
		// Forget old transactions.
		self.sent.lock().await.retain(|_, at| now < *at + 100);
		Ok(())
	}

	/// Deletes shards no longer ours (ended contracts, shards moved to another provider). Only on
	/// evidence in the finalized state, seen on [`DELETE_AFTER_BLOCKS`] blocks in a row, so that
	/// neither a reorganisation nor a node still catching up costs a shard: a contract counts as
	/// ended only when the finalized state has opened it (its id is below `NextContractId`) and
	/// no longer holds it.
	async fn collect_garbage(&self, now: BlockNumber) -> Result<(), String> {
		let finalized = self.state.client().info().finalized_hash;
		let me = self.signer.account();
		let stored =
			self.store.list(None, cairn_storage::store::MAX_LIST).map_err(|e| e.to_string())?;
		let next_contract = self.state.next_contract_id(finalized).map_err(|e| e.to_string())?;
		let mut doomed = self.doomed.lock().await;
		let mut seen = HashMap::new();
		for shard in stored {
			let id = shard.id;
			let gone =
				match self.state.contract(finalized, id.contract).map_err(|e| e.to_string())? {
					Some(contract) => {
						contract.shards.get(id.index as usize).is_none_or(|assigned| {
							assigned.provider != me || !assigned.status.holds_capacity()
						})
					}
					// Opened before the finalized block and no longer open: it ended. A
					// contract the finalized block does not know yet is kept.
					None => id.contract < next_contract,
				};
			if gone {
				let count = doomed.get(&id).copied().unwrap_or(0) + 1;
				if count >= DELETE_AFTER_BLOCKS {
					log::info!(target: "cairn-provider", "shard {id} is no longer ours: deleted (block {now})");
					let _ = self.store.delete(id);
				} else {
					seen.insert(id, count);
				}
			}
		}
		*doomed = seen;
		Ok(())
	}

	async fn register(&self, at: Hash, now: BlockNumber, me: &AccountId) -> Result<(), String> {
		let addresses = self.network.announced_addresses();
		if addresses.is_empty() {
			return Ok(());
		}
		let peer_id: BoundedVec<u8, _> =
			BoundedVec::truncate_from(self.network.peer_id().to_bytes());
		let multiaddrs: BoundedVec<BoundedVec<u8, _>, _> = BoundedVec::truncate_from(
			addresses.iter().map(|a| BoundedVec::truncate_from(a.to_vec())).collect::<Vec<_>>(),
		);
		let record = self.state.provider(at, me).map_err(|e| e.to_string())?;
		let call = match record {
			None => {
				let stake =
					pallet_providers::Pallet::<Runtime>::required_stake(self.config.capacity);
				RuntimeCall::Providers(pallet_providers::Call::register_provider {
					stake,
					capacity: self.config.capacity,
					price_per_byte_block: self.config.price,
					peer_id,
					multiaddrs,
				})
			}
			Some(info) if info.peer_id != peer_id || info.multiaddrs != multiaddrs => {
				RuntimeCall::Providers(pallet_providers::Call::update_provider {
					capacity: None,
					price_per_byte_block: None,
					peer_id: Some(peer_id),
					multiaddrs: Some(multiaddrs),
				})
			}
			Some(_) => return Ok(()),
		};
		if self.may_send(Sent::Registration, now).await {
			log::info!(target: "cairn-provider", "registering {} on the market", crate::rpc::market::ss58(me));
			self.signer.submit(call).await?;
		}
		Ok(())
	}

	async fn is_stored(&self, id: ShardId) -> bool {
		!self.damaged.lock().await.contains(&id) && self.store.commitment(id).is_ok()
	}

	/// Whether shard `id` is known to be damaged or absent from the store (not merely unreadable
	/// for a moment).
	async fn is_missing(&self, id: ShardId) -> bool {
		self.damaged.lock().await.contains(&id)
			|| matches!(self.store.commitment(id), Err(StorageError::UnknownShard(_)))
	}

	/// Drops a shard whose data failed a check: it is never proven again, and the next block
	/// reports it lost.
	async fn lose(&self, id: ShardId, error: &str) {
		log::error!(
			target: "cairn-provider",
			"shard {id} is lost: {error}; it is not proven, and it is reported for repair"
		);
		self.damaged.lock().await.insert(id);
		if let Err(error) = self.store.delete(id) {
			log::warn!(target: "cairn-provider", "deleting damaged shard {id}: {error}");
		}
	}

	/// Checks every active shard of ours once per period against its digest, and proves those
	/// that passed and that the current period still wants proven (once the prover is ready).
	async fn check_and_prove(
		&self,
		at: Hash,
		contracts: &[(u64, ContractOf<Runtime>)],
		prover: Option<Arc<Prover>>,
	) -> Result<(), String> {
		let Some((period, info)) = self.state.current_period(at).map_err(|e| e.to_string())? else {
			return Ok(());
		};
		let now = self.number(at);
		let me = self.signer.account();
		let mut due = Vec::new();
		for (id, contract) in contracts {
			for (index, shard) in contract.shards.iter().enumerate() {
				let sid = shard_id(*id, index as u32);
				if shard.provider != me
					|| shard.status != ShardStatus::Active
					|| !self.is_stored(sid).await
				{
					continue;
				}
				if self.checked.lock().await.get(&sid) != Some(&period) {
					let store = self.store.clone();
					let digest = shard.spec.blake3;
					let checked =
						tokio::task::spawn_blocking(move || check_digest(&store, sid, &digest))
							.await
							.map_err(|e| e.to_string())?;
					match checked {
						Ok(()) => {
							self.checked.lock().await.insert(sid, period);
						}
						Err(error) => {
							self.lose(sid, &error).await;
							continue;
						}
					}
				}
				let proven_or_not_due = shard.is_proven(period)
					|| period <= shard.settled_through
					|| info.start >= contract.end
					|| self.sent.lock().await.contains_key(&Sent::Proof(sid, period));
				if !proven_or_not_due {
					due.push((sid, shard.spec.clone()));
				}
			}
		}
		self.checked.lock().await.retain(|_, checked_in| *checked_in == period);
		let Some(prover) = prover else { return Ok(()) };
		if due.is_empty() {
			return Ok(());
		}
		log::info!(target: "cairn-provider", "proving {} shards for period {period}", due.len());
		let mut batch = Vec::new();
		for (sid, spec) in due {
			let store = self.store.clone();
			let prover = prover.clone();
			let request = ProofRequest {
				seed: info.seed,
				provider: self.signer.public_bytes(),
				contract: sid.contract,
				shard: sid.index,
				period,
				root: spec.root,
				shard_bytes: spec.bytes,
			};
			let proven = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, ProofFailure> {
				let statement = request
					.statement(DEFAULT_CHALLENGES)
					.map_err(|e| ProofFailure::Prover(e.to_string()))?;
				// Every chunk read here is checked against its checksum as well.
				let openings = store
					.challenge_proofs(sid, statement.indices())
					.map_err(|e| ProofFailure::Data(e.to_string()))?;
				let proof = untraced(|| {
					prover.prove_openings(&statement, openings, &mut ChaCha20Rng::from_entropy())
				})
				.map_err(|e| ProofFailure::Prover(e.to_string()))?;
				Ok(proof.to_bytes().to_vec())
			})
			.await
			.map_err(|e| e.to_string())?;
			match proven {
				Err(ProofFailure::Prover(error)) => {
					log::error!(target: "cairn-provider", "proving shard {sid}: {error}");
				}
				Ok(proof) => {
					self.sent.lock().await.insert(Sent::Proof(sid, period), now);
					batch.push(ProofSubmission {
						contract: sid.contract,
						shard: sid.index,
						period,
						proof: BoundedVec::truncate_from(proof),
					});
				}
				Err(ProofFailure::Data(error)) => self.lose(sid, &error).await,
			}
		}
		let max: u32 = <Runtime as pallet_market::Config>::MaxProofsPerBatch::get();
		let max = max as usize;
		for chunk in batch.chunks(max) {
			let count = chunk.len();
			let call = RuntimeCall::Market(pallet_market::Call::submit_proofs {
				proofs: BoundedVec::truncate_from(chunk.to_vec()),
			});
			match self.signer.submit(call).await {
				Ok(()) => log::info!(
					target: "cairn-provider",
					"submitted {count} proofs for period {period}"
				),
				Err(error) => log::warn!(target: "cairn-provider", "submitting proofs: {error}"),
			}
		}
		Ok(())
	}
}

/// Why a shard was not proven.
enum ProofFailure {
	/// Its stored data failed a check: the shard is lost.
	Data(String),
	/// The prover failed (the data may be fine).
	Prover(String),
}

/// Runs `work` with no tracing subscriber on this thread. The constraint-system gadgets open a
/// tracing span per namespace and never close it (`ark_relations::ns!`); under the node's
/// subscriber those spans pile up by the million while a circuit is synthesized.
fn untraced<T>(work: impl FnOnce() -> T) -> T {
	tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), work)
}

/// Our shards and their on-chain status.
fn mine_in(
	contracts: &[(u64, ContractOf<Runtime>)],
	me: &AccountId,
) -> Vec<(ShardId, ShardStatus<BlockNumber>)> {
	contracts
		.iter()
		.flat_map(|(id, contract)| {
			contract
				.shards
				.iter()
				.enumerate()
				.filter(|(_, shard)| shard.provider == *me)
				.map(move |(index, shard)| (shard_id(*id, index as u32), shard.status))
		})
		.collect()
}

/// Reads a stored shard whole and compares its BLAKE3 digest with `expected`.
fn check_digest(store: &RocksShardStore, id: ShardId, expected: &[u8; 32]) -> Result<(), String> {
	let mut reader = ShardReader::new(store, id).map_err(|e| e.to_string())?;
	let mut hasher = blake3::Hasher::new();
	std::io::copy(&mut reader, &mut hasher).map_err(|e| format!("unreadable: {e}"))?;
	if hasher.finalize().as_bytes() != expected {
		return Err("its BLAKE3 digest no longer matches".into());
	}
	Ok(())
}
