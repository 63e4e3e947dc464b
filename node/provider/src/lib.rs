//! The provider service (`--provider`): keeps the shards the market assigns to this node's
//! account and proves them.
//!
//! - **Registration** ([`registration`]): registers the account (stake, capacity, price,
//!   shard-network peer id and addresses), or updates the addresses when they changed; tops the
//!   stake up from the free balance when slashes left it below what the capacity requires (a
//!   provider short of stake takes no new shards, and so no repairs).
//! - **Accepting shards** ([`intake`]): a `Put` piece is taken only for a shard of an open contract
//!   assigned to this account, from a sender the contract's owner granted the upload, and only if
//!   it checks against the shard's BLAKE3 digest; pieces are staged per sender, and the complete
//!   shard is stored in RocksDB only if its Poseidon root is the one on chain.
//! - **Serving** ([`serving`]): `Get` and `Leaves` of stored shards, within the shard network's
//!   per-peer budgets and serving slots.
//! - **Confirming:** every stored shard still pending on chain is confirmed.
//! - **Scrubbing** ([`scrub`]): in the background, at a bounded rate, each active shard is read
//!   whole and checked against its digest, the one checked longest ago first. A shard that fails
//!   (or that the store no longer holds) is dropped and reported lost on chain (`report_lost`), so
//!   that it is not proven from bad data and its owner repairs it at once.
//! - **Proving** ([`proving`]): the proofs due (Groth16, the circuit's challenges from the period's
//!   seed) are made most urgent first and sent as they are made, each followed into a block; those
//!   that cannot be made in time are passed over rather than making all late.
//! - **Cleanup** ([`cleanup`]): shards of ended contracts, and shards moved to another provider,
//!   are deleted once the finalized chain has shown so on several blocks in a row.
//! - **Metrics** (`cairn_provider_*`, [`crate::metrics`]): set as the work is done, and from the
//!   events of finalized blocks ([`ledger`]) for what the chain paid, refused and slashed.
//! - **Restarts:** everything above is derived from the chain and the store on each block, so a
//!   restarted provider carries on where it stopped; staging files of unfinished puts are dropped.

mod capacity;
mod cleanup;
mod error;
mod intake;
mod ledger;
pub mod metrics;
mod owed;
mod proving;
pub use error::ProviderError;
pub use owed::{owes, Window};
#[cfg(test)]
mod proving_bench;
mod registration;
mod scrub;
mod serving;

use std::{
	collections::{HashMap, HashSet},
	path::PathBuf,
	sync::Arc,
};

use cairn_net::Network;
use cairn_prover::{prover::Prover, DEFAULT_CHALLENGES};
use cairn_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use cairn_storage::{
	store::{RocksShardStore, ShardId, ShardStore, StoreConfig},
	StorageError,
};
use futures::StreamExt;
use pallet_market::{ContractOf, ShardStatus};
use sc_client_api::BlockchainEvents;
use tokio::sync::Mutex;

use cleanup::Doomed;

use cairn_chain::{
	involved::{Involved, Role},
	signer::{Signer, State},
	FullClient,
};
use metrics::ProviderMetrics;

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
	/// Bytes a second the scrub reads at most (0: no bound).
	pub scrub_rate: u64,
	/// Start even if the store is empty while the chain lists shards kept here, and report
	/// them lost.
	pub shards_lost: bool,
	/// Top the stake up from the free balance when a slash left it below what the offered
	/// capacity requires (without it, the provider takes no new shards until the operator does).
	pub restake: bool,
	/// Shards kept at most, in place of those the prover's measured pace can keep proven
	/// ([`capacity`]).
	pub max_shards: Option<u32>,
}

/// How old the best block may be for the node to count as caught up with the chain.
const CURRENT_WITHIN_MS: u64 = 60_000;

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
	/// Proofs made and on their way, and the pace of the prover.
	proofs: Arc<std::sync::Mutex<proving::Proofs>>,
	/// Stored shards the finalized chain no longer assigns to us.
	doomed: Mutex<Doomed>,
	/// The shards the prover can keep proven, as last told to the operator.
	limit: std::sync::Mutex<Option<capacity::Limit>>,
	metrics: ProviderMetrics,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Sent {
	Registration,
	Restake,
	Capacity,
	Confirm(ShardId),
	Decline(ShardId),
	ReportLost(ShardId),
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
		metrics: ProviderMetrics,
	) -> Result<Arc<Self>, ProviderError> {
		let (store, report) = RocksShardStore::open(
			&config.dir.join("shards"),
			StoreConfig { capacity_bytes: config.capacity },
		)?;
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
		let intake =
			intake::Intake::new(staging.clone(), store.clone(), metrics.received_bytes.clone())
				.map_err(|e| {
					ProviderError::Setup(format!(
						"cannot stage shards in {}: {e}",
						staging.display()
					))
				})?;
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
			proofs: Default::default(),
			doomed: Mutex::new(Doomed::default()),
			limit: std::sync::Mutex::new(None),
			metrics,
		});
		network
			.set_handler(Arc::new(serving::Handler(provider.clone())))
			.map_err(|e| ProviderError::Setup(format!("cannot serve on the shard network: {e}")))?;
		Ok(provider)
	}

	/// Follows the chain: registers, confirms and proves on every new best block, and scrubs
	/// in the background.
	pub async fn run(self: Arc<Self>) {
		// The key loads in the background: registering and storing need no prover.
		let loading = {
			let this = self.clone();
			tokio::spawn(async move {
				let started = std::time::Instant::now();
				match this.load_prover().await {
					Ok((prover, pace)) => {
						log::info!(
							target: "cairn-provider",
							"prover ready ({} constraints, {:.1} s; a proof takes {:.2} s here)",
							prover.num_constraints(),
							started.elapsed().as_secs_f64(),
							pace.as_secs_f64()
						);
						this.proofs.lock().expect("proofs").timed(pace);
						Some(Arc::new(prover))
					}
					Err(error) => {
						log::error!(target: "cairn-provider", "not proving: {error}");
						None
					}
				}
			})
		};
		tokio::spawn(self.clone().follow_finalized());
		let mut loading = Some(loading);
		let mut prover: Option<Arc<Prover>> = None;
		let mut blocks = self.state.client().import_notification_stream();
		let mut busy: Option<tokio::task::JoinHandle<()>> = None;
		let (latest, contracts) = tokio::sync::watch::channel(scrub::Contracts::default());
		let mut scrub = Some(contracts);
		let mut involved = Involved::new(self.signer.account(), Role::Provider);
		while let Some(block) = blocks.next().await {
			if !block.is_new_best {
				continue;
			}
			// One read of our contracts per block serves the chores and the proving round.
			let contracts = match involved.contracts(&self.state, block.hash) {
				Ok(contracts) => Arc::new(contracts),
				Err(error) => {
					log::warn!(target: "cairn-provider", "reading contracts: {error}");
					continue;
				}
			};
			// Nothing is done before the node has caught up with the chain and found the store
			// to be the one the chain knows; the scrub starts then.
			if scrub.is_some() {
				match self.may_start(block.hash, &contracts) {
					Ok(false) => continue,
					Ok(true) => {
						if let Some(contracts) = scrub.take() {
							tokio::spawn(self.clone().scrub(contracts));
						}
					}
					Err(error) if error.is_transient() => {
						log::warn!(target: "cairn-provider", "{error}; trying again");
						continue;
					}
					Err(refusal) => {
						log::error!(target: "cairn-provider", "{refusal}");
						return;
					}
				}
			}
			match self.on_block(block.hash, &contracts).await {
				Err(error) if error.is_transient() => {
					log::warn!(target: "cairn-provider", "{error}; trying again on the next block")
				}
				Err(error) => log::error!(target: "cairn-provider", "{error}"),
				Ok(()) => {}
			}
			latest.send_replace(contracts.clone());
			if loading.as_ref().is_some_and(|task| task.is_finished()) {
				prover = loading
					.take()
					.and_then(futures::FutureExt::now_or_never)
					.and_then(|r| r.ok())
					.flatten();
			}
			// One round at a time; a round still running skips this block.
			if let Some(prover) = prover.clone() {
				if busy.as_ref().is_none_or(|task| task.is_finished()) {
					let this = self.clone();
					let at = block.hash;
					busy = Some(tokio::spawn(async move {
						if let Err(error) = this.prove_due(at, &contracts, &prover).await {
							log::warn!(target: "cairn-provider", "proving: {error}");
						}
					}));
				}
			}
		}
	}

	/// Whether the provider may start work at block `at`: not while `at` is old (the node is
	/// still catching up with the chain), and never on a store that is empty while the chain
	/// lists shards kept here (a wrong base path, a disk not mounted), unless the operator said
	/// they are lost: every one would be reported lost and slashed.
	fn may_start(
		&self,
		at: Hash,
		contracts: &[(u64, ContractOf<Runtime>)],
	) -> Result<bool, ProviderError> {
		let made = self.state.timestamp(at)?;
		let now = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map_or(0, |since| since.as_millis() as u64);
		if now.saturating_sub(made) > CURRENT_WITHIN_MS {
			return Ok(false);
		}
		let me = self.signer.account();
		let held = held_by(contracts, &me)
			.filter(|(_, shard)| shard.status == ShardStatus::Active)
			.count();
		let stored = self.store.list(None, 1)?.len();
		if held > 0 && stored == 0 && !self.config.shards_lost {
			return Err(ProviderError::Refused(format!(
				"the shard store in {} is empty, but the chain lists {held} active shards kept \
				 by {}: is this the provider's base path, and is its disk mounted? The node \
				 stops without sending anything. If the shards are truly lost, start with \
				 --provider-shards-lost to report them (each costs one missed period's slash)",
				self.config.dir.join("shards").display(),
				cairn_chain::ss58(&me)
			)));
		}
		Ok(true)
	}

	/// The prover, and the time one proof takes with it here (a proof of a shard made up for
	/// the purpose: a proof costs the same for any shard).
	async fn load_prover(&self) -> Result<(Prover, std::time::Duration), ProviderError> {
		let path = self.config.proving_key.clone();
		let chain_key = self.state.verifying_key(self.state.at(None))?;
		let prover_error = |e: cairn_prover::Error| ProviderError::Prover(e.to_string());
		tokio::task::spawn_blocking(move || {
			let keys = match path {
				Some(path) => {
					let (key, challenges) =
						cairn_prover::keys::read_proving_key(&path, Some(DEFAULT_CHALLENGES))
							.map_err(|e| {
								ProviderError::Prover(format!(
									"cannot read {}: {e}",
									path.display()
								))
							})?;
					cairn_prover::prover::Keys::new(key, challenges)
				}
				None => untraced(|| cairn_prover::prover::dev_setup(DEFAULT_CHALLENGES))
					.map_err(prover_error)?,
			};
			let ours =
				cairn_prover::keys::verifying_key_to_bytes(keys.verifying_key(), keys.challenges())
					.map_err(prover_error)?;
			if ours != chain_key {
				return Err(ProviderError::Prover(
					"the proving key does not match the chain's verifying key (pass the matching \
					 key with --proving-key)"
						.into(),
				));
			}
			let prover = untraced(|| Prover::new(keys)).map_err(prover_error)?;
			let pace = untraced(|| capacity::time_a_proof(&prover))?;
			Ok((prover, pace))
		})
		.await?
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
	) -> Result<(), ProviderError> {
		let now = self.number(at);
		let me = self.signer.account();
		let mine = mine_in(contracts, &me);
		let limit = self.limit(at)?;
		self.register(at, now, &me, limit.map(|limit| (limit, &mine[..]))).await?;
		self.count_shards(&mine);
		let declined =
			limit.map(|limit| capacity::beyond(&mine, limit.shards())).unwrap_or_default();
		for (id, status) in &mine {
			let (what, action, call) = match status {
				ShardStatus::Pending { .. } if declined.contains(id) => (
					Sent::Decline(*id),
					"declining (beyond what the prover can keep proven)",
					pallet_market::Call::decline_shard { contract: id.contract, shard: id.index },
				),
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

	/// The shards the prover can keep proven at `at` ([`capacity`]): the operator's limit, or
	/// the one of the pace measured here and the current period's length (none before either is
	/// known). Told to the operator when it changes.
	fn limit(&self, at: Hash) -> Result<Option<capacity::Limit>, ProviderError> {
		let seconds = self.proofs.lock().expect("proofs").seconds();
		let period = self.state.current_period(at)?;
		let limit = match (self.config.max_shards, period) {
			(Some(shards), _) => capacity::Limit::Operator(shards),
			(None, Some((_, info))) if seconds > 0.0 => {
				capacity::Limit::measured(seconds, info.length)
			}
			_ => return Ok(None),
		};
		let mut told = self.limit.lock().expect("limit");
		if told.is_none_or(|told| told.differs(&limit)) {
			log::info!(target: "cairn-provider", "the prover keeps at most {limit}");
			*told = Some(limit);
		}
		self.metrics.shard_limit.set(u64::from(limit.shards()));
		Ok(Some(limit))
	}

	/// Sets the gauges of our shards on chain and of the store.
	fn count_shards(&self, mine: &[OurShard]) {
		let pending =
			mine.iter().filter(|(_, status)| matches!(status, ShardStatus::Pending { .. })).count();
		let active = mine.iter().filter(|(_, status)| *status == ShardStatus::Active).count();
		self.metrics.shards.with_label_values(&["pending"]).set(pending as u64);
		self.metrics.shards.with_label_values(&["active"]).set(active as u64);
		let usage = self.store.usage();
		self.metrics.stored_bytes.set(usage.used);
		self.metrics.capacity_bytes.set(usage.capacity);
		if let Ok(free) = fs2::available_space(&self.config.dir) {
			self.metrics.disk_free_bytes.set(free);
		}
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
}

/// Runs `work` with no tracing subscriber on this thread. The constraint-system gadgets open a
/// tracing span per namespace and never close it (`ark_relations::ns!`); under the node's
/// subscriber those spans pile up by the million while a circuit is synthesized.
fn untraced<T>(work: impl FnOnce() -> T) -> T {
	tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), work)
}

/// The shards of `contracts` assigned to `me`.
fn held_by<'a>(
	contracts: &'a [(u64, ContractOf<Runtime>)],
	me: &'a AccountId,
) -> impl Iterator<Item = (ShardId, &'a pallet_market::Shard<AccountId, Balance, BlockNumber>)> + 'a
{
	contracts.iter().flat_map(move |(id, contract)| {
		contract
			.shards
			.iter()
			.enumerate()
			.filter(move |(_, shard)| shard.provider == *me)
			.map(move |(index, shard)| (shard_id(*id, index as u32), shard))
	})
}

/// One of our shards and its on-chain status.
type OurShard = (ShardId, ShardStatus<BlockNumber>);

/// Our shards and their on-chain status.
fn mine_in(contracts: &[(u64, ContractOf<Runtime>)], me: &AccountId) -> Vec<OurShard> {
	held_by(contracts, me).map(|(id, shard)| (id, shard.status)).collect()
}
