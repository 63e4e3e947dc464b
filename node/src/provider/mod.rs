//! The provider service (`--provider`): keeps the shards the market assigns to this node's
//! account and proves them.
//!
//! - **Registration:** registers the account (stake, capacity, price, shard-network peer id and
//!   addresses), or updates the addresses when they changed; tops the stake up from the free
//!   balance when slashes left it below what the capacity requires (a provider short of stake
//!   takes no new shards, and so no repairs).
//! - **Accepting shards** ([`intake`]): a `Put` piece is taken only for a shard of an open
//!   contract assigned to this account, from a sender the contract's owner granted the upload,
//!   and only if it checks against the shard's BLAKE3 digest; pieces are staged per sender, and
//!   the complete shard is stored in RocksDB only if its Poseidon root is the one on chain.
//! - **Serving** ([`serving`]): `Get` and `Leaves` of stored shards, within the shard network's
//!   per-peer budgets and serving slots.
//! - **Confirming:** every stored shard still pending on chain is confirmed.
//! - **Scrubbing** ([`scrub`]): in the background, at a bounded rate, each active shard is read
//!   whole and checked against its digest, the one checked longest ago first. A shard that fails
//!   (or that the store no longer holds) is dropped and reported lost on chain (`report_lost`),
//!   so that it is not proven from bad data and its owner repairs it at once.
//! - **Proving** ([`proving`]): the proofs due (Groth16, the circuit's challenges from the
//!   period's seed) are made most urgent first and sent as they are made, each followed into a
//!   block; those that cannot be made in time are passed over rather than making all late.
//! - **Metrics** (`cairn_provider_*`, [`crate::metrics`]): set as the work is done, and from
//!   the events of finalized blocks ([`ledger`]) for what the chain paid, refused and slashed.
//! - **Restarts:** everything above is derived from the chain and the store on each block, so a
//!   restarted provider carries on where it stopped; staging files of unfinished puts are dropped.

mod capacity;
mod error;
mod intake;
mod ledger;
mod proving;
pub use error::ProviderError;
pub(crate) use proving::{owes, Window};
#[cfg(test)]
mod proving_bench;
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
	store::{AllShards, RocksShardStore, ShardId, ShardStore, StoreConfig, StoredShard},
	StorageError,
};
use frame_support::{traits::Get, BoundedVec};
use futures::StreamExt;
use pallet_market::{ContractOf, ShardStatus};
use pallet_providers::ProviderStatus;
use sc_client_api::BlockchainEvents;
use sp_blockchain::HeaderBackend;
use tokio::sync::Mutex;

use crate::{
	involved::{Involved, Role},
	metrics::{in_cairn, ProviderMetrics},
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

/// Finalized blocks in a row that must show a stored shard is no longer ours before it is deleted.
const DELETE_AFTER_BLOCKS: u32 = 5;

/// How long a shard moved away from us is kept while it is active nowhere: long enough for its
/// owner's node (down for a day, say) to fetch it for its new provider, short enough that moving
/// shards to a provider that never confirms them buys their owner no free storage here.
const KEEP_MOVED_BLOCKS: BlockNumber = 2 * cairn_runtime::time::DAYS;

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
				crate::rpc::market::ss58(&me)
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

	/// Deletes shards no longer ours (ended contracts, shards moved to another provider and
	/// confirmed there, or moved [`KEEP_MOVED_BLOCKS`] ago), however many the store holds. Only
	/// on evidence in the finalized state, seen on [`DELETE_AFTER_BLOCKS`] finalized blocks in a
	/// row, so that neither a reorganisation nor a node still catching up costs a shard.
	async fn collect_garbage(&self, now: BlockNumber) -> Result<(), ProviderError> {
		let info = self.state.client().info();
		let (finalized, finalized_number) = (info.finalized_hash, info.finalized_number);
		let mut doomed = self.doomed.lock().await;
		if doomed.at == Some(finalized) {
			return Ok(());
		}
		let next_contract = self.state.next_contract_id(finalized)?;
		let me = self.signer.account();
		// The walks over the store, the reads and the deletions block: off the async runtime.
		let (store, state) = (self.store.clone(), self.state.clone());
		let mut pass = std::mem::take(&mut *doomed);
		let (pass, deleted) = tokio::task::spawn_blocking(move || {
			// The contracts of the shards stored, one read each: what the store keeps is decided
			// by them alone, however many other contracts the chain has.
			let mut ids = std::collections::BTreeSet::new();
			for shard in AllShards::new(&*store) {
				ids.insert(shard?.id.contract);
			}
			let mut contracts = Vec::new();
			for id in ids {
				if let Some(contract) = state.contract(finalized, id)? {
					contracts.push((id, contract));
				}
			}
			let keep = Keep::new(&contracts, &me);
			let due = pass.pass(AllShards::new(&*store), &keep, next_contract, finalized_number)?;
			for id in &due {
				store.delete(*id)?;
			}
			Ok::<_, ProviderError>((pass, due))
		})
		.await??;
		*doomed = Doomed { at: Some(finalized), ..pass };
		for id in deleted {
			log::info!(target: "cairn-provider", "shard {id} is no longer ours: deleted (block {now})");
		}
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

	/// Registers `me`, or brings its record up to date: addresses, the stake its capacity
	/// requires, and (once the prover's `limit` is known, with our shards) the capacity offered.
	async fn register(
		&self,
		at: Hash,
		now: BlockNumber,
		me: &AccountId,
		limit: Option<(capacity::Limit, &[OurShard])>,
	) -> Result<(), ProviderError> {
		let record = self.state.provider(at, me)?;
		let required = pallet_providers::Pallet::<Runtime>::required_stake(
			record.as_ref().map_or(self.config.capacity, |info| info.capacity),
		);
		self.metrics.stake_required.set(in_cairn(required));
		self.metrics.stake.set(record.as_ref().map_or(0.0, |info| in_cairn(info.stake)));
		let addresses = self.network.announced_addresses();
		if addresses.is_empty() {
			return Ok(());
		}
		let peer_id: BoundedVec<u8, _> =
			BoundedVec::truncate_from(self.network.peer_id().to_bytes());
		let multiaddrs: BoundedVec<BoundedVec<u8, _>, _> = BoundedVec::truncate_from(
			addresses.iter().map(|a| BoundedVec::truncate_from(a.to_vec())).collect::<Vec<_>>(),
		);
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
			Some(info) if info.stake < required && info.status == ProviderStatus::Active => {
				if self.config.restake && self.may_send(Sent::Restake, now).await {
					self.restake(at, me, required - info.stake).await?;
				}
				return Ok(());
			}
			Some(info) if info.status == ProviderStatus::Active => {
				if let Some((limit, mine)) = limit {
					self.offer(now, &info, limit, mine).await?;
				}
				return Ok(());
			}
			Some(_) => return Ok(()),
		};
		if self.may_send(Sent::Registration, now).await {
			log::info!(target: "cairn-provider", "registering {} on the market", crate::rpc::market::ss58(me));
			self.signer.submit(call).await?;
		}
		Ok(())
	}

	/// Sets the capacity offered on chain to what the prover's `limit` leaves room for, when
	/// the chain's figure is too far from it ([`capacity::update`]); a rise only as far as the
	/// stake covers.
	async fn offer(
		&self,
		now: BlockNumber,
		info: &pallet_providers::ProviderInfoOf<Runtime>,
		limit: capacity::Limit,
		mine: &[OurShard],
	) -> Result<(), ProviderError> {
		let held = mine.iter().filter(|(_, status)| status.holds_capacity()).count();
		let target = capacity::offered(self.config.capacity, limit.shards(), held, info.used);
		let Some(capacity) = capacity::update(info.capacity, target) else { return Ok(()) };
		let required = pallet_providers::Pallet::<Runtime>::required_stake(capacity);
		if capacity > info.capacity && info.stake < required {
			return Ok(());
		}
		if !self.may_send(Sent::Capacity, now).await {
			return Ok(());
		}
		log::info!(
			target: "cairn-provider",
			"offering {capacity} bytes on the market (was {}): room for {} more shards, of the {} \
			 the prover keeps",
			info.capacity,
			u64::from(limit.shards()).saturating_sub(held as u64),
			limit.shards()
		);
		let call = RuntimeCall::Providers(pallet_providers::Call::update_provider {
			capacity: Some(capacity),
			price_per_byte_block: None,
			peer_id: None,
			multiaddrs: None,
		});
		Ok(self.signer.submit(call).await?)
	}

	/// Holds `deficit` more of the free balance as stake, so that the provider takes new shards
	/// again; says so when the free balance cannot cover it.
	async fn restake(
		&self,
		at: Hash,
		me: &AccountId,
		deficit: Balance,
	) -> Result<(), ProviderError> {
		let free = self.state.free_balance(at, me)?;
		let keep = <Runtime as pallet_balances::Config>::ExistentialDeposit::get();
		if free < deficit.saturating_add(keep) {
			log::warn!(
				target: "cairn-provider",
				"the stake is {} CAIRN short of what the offered capacity requires, and the free \
				 balance ({} CAIRN) cannot cover it: no new shards are taken until it is topped up \
				 or the capacity lowered",
				in_cairn(deficit),
				in_cairn(free)
			);
			return Ok(());
		}
		log::info!(
			target: "cairn-provider",
			"restoring the stake: {} CAIRN more, so that the offered capacity is covered again",
			in_cairn(deficit)
		);
		let call = RuntimeCall::Providers(pallet_providers::Call::add_stake { amount: deficit });
		Ok(self.signer.submit(call).await?)
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

/// Stored shards the finalized chain no longer assigns to us, and on how many finalized blocks
/// in a row it showed so; and the shards kept though moved away.
#[derive(Debug, Default)]
struct Doomed {
	/// The finalized block of the last pass.
	at: Option<Hash>,
	counts: HashMap<ShardId, u32>,
	/// Shards moved away and active nowhere, and the finalized block they were first seen so.
	moved: HashMap<ShardId, BlockNumber>,
}

impl Doomed {
	/// One pass over every stored shard at finalized block `now`: a shard is no longer ours when
	/// its contract was opened (its id is below `next_contract`; a contract the finalized block
	/// does not know yet is kept), `keep` does not assign it to us, and it is active elsewhere or
	/// was moved away [`KEEP_MOVED_BLOCKS`] ago. Returns those found so on
	/// [`DELETE_AFTER_BLOCKS`] passes in a row.
	fn pass(
		&mut self,
		stored: impl Iterator<Item = cairn_storage::Result<StoredShard>>,
		keep: &Keep,
		next_contract: u64,
		now: BlockNumber,
	) -> cairn_storage::Result<Vec<ShardId>> {
		let mut counts = HashMap::new();
		let mut moved = HashMap::new();
		let mut due = Vec::new();
		for shard in stored {
			let id = shard?.id;
			if id.contract >= next_contract || keep.ours.contains(&id) {
				continue;
			}
			if keep.unconfirmed.contains(&id) {
				let since = self.moved.get(&id).copied().unwrap_or(now);
				moved.insert(id, since);
				if now.saturating_sub(since) < KEEP_MOVED_BLOCKS {
					continue;
				}
			}
			let count = self.counts.get(&id).copied().unwrap_or(0) + 1;
			if count >= DELETE_AFTER_BLOCKS {
				due.push(id);
			} else {
				counts.insert(id, count);
			}
		}
		self.counts = counts;
		self.moved = moved;
		Ok(due)
	}
}

/// What a store of ours keeps, as the chain says.
#[derive(Debug, Default)]
struct Keep {
	/// The shards assigned to us, pending or active.
	ours: HashSet<ShardId>,
	/// The shards of open contracts active nowhere (lost, vacant, or moved and not confirmed by
	/// their new provider yet). One moved away from us (we were down, or late) may be the one
	/// copy its owner can fetch: deleting it at once could leave the file short of the `k`
	/// shards its rebuild needs.
	unconfirmed: HashSet<ShardId>,
}

impl Keep {
	fn new(contracts: &[(u64, ContractOf<Runtime>)], me: &AccountId) -> Self {
		let mut keep = Self::default();
		for (id, contract) in contracts {
			for (index, shard) in contract.shards.iter().enumerate() {
				let shard_id = shard_id(*id, index as u32);
				if shard.provider == *me && shard.status.holds_capacity() {
					keep.ours.insert(shard_id);
				} else if shard.status != ShardStatus::Active {
					keep.unconfirmed.insert(shard_id);
				}
			}
		}
		keep
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

#[cfg(test)]
mod tests {
	use super::*;

	/// A temporary directory where syncing costs nothing when the system has one in memory: the
	/// store syncs every put, and these tests put thousands.
	pub(super) fn scratch() -> tempfile::TempDir {
		let memory = std::path::Path::new("/dev/shm");
		if memory.is_dir() {
			if let Ok(dir) = tempfile::tempdir_in(memory) {
				return dir;
			}
		}
		tempfile::tempdir().expect("a temporary directory")
	}

	#[test]
	fn a_shard_moved_away_is_kept_while_it_is_active_nowhere_for_two_days_at_most() {
		use crate::fixtures::{contract, shard, shard_in as with};
		let me = AccountId::new([1; 32]);
		let other = AccountId::new([2; 32]);
		let pending = ShardStatus::Pending { deadline: 50 };
		let contracts = |moved_to: ShardStatus<BlockNumber>| {
			vec![(
				7,
				contract(
					vec![
						shard(&me, 0, 0),
						with(&me, pending),
						with(&other, ShardStatus::Active),
						with(&other, moved_to),
						with(&other, ShardStatus::Lost),
						with(&me, ShardStatus::Vacant),
					],
					1_000,
				),
			)]
		};
		let keep = Keep::new(&contracts(pending), &me);
		let indices = |ids: &HashSet<ShardId>| {
			let mut indices: Vec<u32> = ids.iter().map(|id| id.index).collect();
			indices.sort();
			indices
		};
		assert_eq!(indices(&keep.ours), vec![0, 1]);
		// Moved and not confirmed yet, lost or vacant: whoever was named; not the one another
		// provider proves now.
		assert_eq!(indices(&keep.unconfirmed), vec![3, 4, 5]);

		// The store holds shard 3, moved away from us.
		let dir = scratch();
		let (store, _) =
			RocksShardStore::open(dir.path(), StoreConfig { capacity_bytes: 1 << 30 }).unwrap();
		let moved = ShardId::new(7, 3);
		store.put(moved, 1, &mut &[3u8][..], None).unwrap();
		let mut doomed = Doomed::default();
		let pass = |doomed: &mut Doomed, keep: &Keep, now| {
			doomed.pass(AllShards::new(&store), keep, 8, now).unwrap()
		};
		// Kept for two days from the first pass that saw it moved, however many passes.
		for now in [100, 101, 102, 103, 104, 105, 100 + KEEP_MOVED_BLOCKS - 1] {
			assert!(pass(&mut doomed, &keep, now).is_empty(), "deleted at block {now}");
		}
		// Then deleted on the usual evidence.
		for now in 1..DELETE_AFTER_BLOCKS {
			assert!(pass(&mut doomed, &keep, 100 + KEEP_MOVED_BLOCKS + now).is_empty());
		}
		assert_eq!(pass(&mut doomed, &keep, 200 + KEEP_MOVED_BLOCKS), vec![moved]);

		// Confirmed by its new provider: deleted on the usual evidence, however soon.
		let confirmed = Keep::new(&contracts(ShardStatus::Active), &me);
		assert!(!confirmed.unconfirmed.contains(&moved));
		let mut doomed = Doomed::default();
		for now in 1..DELETE_AFTER_BLOCKS {
			assert!(pass(&mut doomed, &confirmed, now).is_empty());
		}
		assert_eq!(pass(&mut doomed, &confirmed, 10), vec![moved]);
	}

	#[test]
	fn shards_no_longer_ours_are_deleted_beyond_one_page_of_the_store() {
		let dir = scratch();
		let (store, _) =
			RocksShardStore::open(dir.path(), StoreConfig { capacity_bytes: 1 << 30 }).unwrap();
		// More shards than one page of the store lists: the old cleanup saw the first page only.
		let total = cairn_storage::store::MAX_LIST as u64 + 250;
		for contract in 0..total {
			store.put(ShardId::new(contract, 0), 1, &mut &[contract as u8][..], None).unwrap();
		}
		// Still ours: one shard on the first page and one on the last; and the last five
		// contracts are newer than the finalized block.
		let ours: HashSet<ShardId> = [ShardId::new(3, 0), ShardId::new(total - 20, 0)].into();
		let keep = |ours: &HashSet<ShardId>| Keep { ours: ours.clone(), ..Keep::default() };
		let next_contract = total - 5;
		let mut doomed = Doomed::default();
		for pass in 1..DELETE_AFTER_BLOCKS {
			let due = doomed.pass(AllShards::new(&store), &keep(&ours), next_contract, 0).unwrap();
			assert!(due.is_empty(), "deleted on pass {pass}, before the evidence is complete");
		}
		// A shard that is ours again on the last pass starts over.
		let back = ShardId::new(total - 100, 0);
		let with_back: HashSet<ShardId> = ours.iter().copied().chain([back]).collect();
		let due = doomed.pass(AllShards::new(&store), &keep(&with_back), next_contract, 0).unwrap();
		assert_eq!(due.len() as u64, total - 5 - 3);
		assert!(!due.contains(&back));
		assert!(due.iter().any(|id| id.contract == total - 6), "the last page is walked too");
		for id in due {
			store.delete(id).unwrap();
		}
		let kept: Vec<ShardId> = AllShards::new(&store).map(|shard| shard.unwrap().id).collect();
		let mut expected: Vec<ShardId> = with_back.into_iter().collect();
		expected.extend((next_contract..total).map(|contract| ShardId::new(contract, 0)));
		expected.sort();
		assert_eq!(kept, expected);
		// The shard that came back is deleted only after a full run of passes of its own.
		for _ in 1..DELETE_AFTER_BLOCKS {
			assert!(doomed
				.pass(AllShards::new(&store), &keep(&ours), next_contract, 0)
				.unwrap()
				.is_empty());
		}
		assert_eq!(
			doomed.pass(AllShards::new(&store), &keep(&ours), next_contract, 0).unwrap(),
			vec![back]
		);
	}
}
