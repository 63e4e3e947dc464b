//! The repair loop: on every new best block, for this account's contracts whose manifests it can
//! open (whichever machine uploaded them), a lost shard (or one not confirmed by its deadline) is reassigned to the
//! cheapest eligible provider not yet in the contract that answers on the shard network (one
//! that is down would hold it unconfirmed until its deadline), and a shard waiting for its data
//! is rebuilt from `k` others and sent to its provider.

use std::sync::Arc;

use cairn_net::Request;
use cairn_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use cairn_storage::encoding::{rebuild_shard, FileManifest};
use futures::StreamExt;
use pallet_market::{ContractId, ContractOf, ShardStatus};
use sc_client_api::BlockchainEvents;

use super::{provider_address, Files, RESEND_BLOCKS};
use crate::{
	market_state::QuoteError,
	signer::Signer,
	transfer::{push_shard, OutgoingShard},
};

/// Providers asked, cheapest first, before a lost shard is moved: the first that answers takes it.
const CANDIDATES: u32 = 3;

/// How long a provider has to answer before it counts as down.
const PROBE_TIME: std::time::Duration = std::time::Duration::from_secs(10);

impl Files {
	/// Repairs this account's contracts on every new best block.
	pub async fn run(self: Arc<Self>) {
		let Some(signer) = self.signer.clone() else { return };
		let mut blocks = self.state.client().import_notification_stream();
		while let Some(block) = blocks.next().await {
			if !block.is_new_best {
				continue;
			}
			if let Err(error) = self.repair(block.hash, &signer).await {
				log::warn!(target: "cairn-client", "repair: {error}");
			}
		}
	}

	async fn repair(self: &Arc<Self>, at: Hash, signer: &Arc<Signer>) -> Result<(), String> {
		let now = self.state.number(at);
		let me = signer.account();
		let mut contracts = self.state.contracts(at).map_err(|e| e.to_string())?;
		contracts.retain(|(_, contract)| contract.owner == me);
		self.count_contracts(now, &contracts);
		self.renew_due(at, now, &contracts, signer).await;
		self.check_uploads(at).await;
		for (id, contract) in contracts {
			// Without a manifest this account can open, a file cannot be rebuilt.
			if self.load_record(id).is_none() {
				continue;
			}
			// Providers in the contract, and those its shards move to in this pass.
			let mut holders: Vec<AccountId> =
				contract.shards.iter().map(|s| s.provider.clone()).collect();
			// A waiting shard is rebuilt from `k` confirmed ones; with fewer, its data can
			// only come from its upload (this node's, or its journal's after a restart).
			let rebuildable =
				contract.shards.iter().filter(|s| s.status == ShardStatus::Active).count()
					>= usize::from(contract.k);
			for (index, shard) in contract.shards.iter().enumerate() {
				let key = (id, index as u32);
				let overdue =
					matches!(shard.status, ShardStatus::Pending { deadline } if now > deadline);
				if !shard.status.holds_capacity() || overdue {
					if let Some(to) =
						self.reassign(at, now, id, &contract, index, &holders, signer).await
					{
						holders.push(to);
					}
				} else if let (ShardStatus::Pending { .. }, true) = (&shard.status, rebuildable) {
					let resend = match self.sent.lock().await.get(&key) {
						Some((to, sent_at)) => {
							*to != shard.provider || now >= sent_at + RESEND_BLOCKS
						}
						None => true,
					};
					if resend && self.repairing.lock().await.insert(key) {
						self.sent.lock().await.insert(key, (shard.provider.clone(), now));
						let this = self.clone();
						let contract = contract.clone();
						tokio::spawn(async move {
							let repairs = &this.metrics.repairs;
							match this.rebuild_and_send(id, &contract, index).await {
								Ok(()) => {
									repairs.with_label_values(&["sent"]).inc();
									log::info!(target: "cairn-client", "contract {id}: shard {index} rebuilt and sent to its provider")
								}
								Err(error) => {
									repairs.with_label_values(&["failed"]).inc();
									log::warn!(target: "cairn-client", "contract {id}: shard {index} not repaired yet: {error}")
								}
							}
							this.repairing.lock().await.remove(&key);
						});
					}
				}
			}
		}
		Ok(())
	}

	/// Asks the chain to move shard `index` to the cheapest eligible provider not in `holders`;
	/// returns the provider asked for.
	#[allow(clippy::too_many_arguments)]
	async fn reassign(
		&self,
		at: Hash,
		now: BlockNumber,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		index: usize,
		holders: &[AccountId],
		signer: &Arc<Signer>,
	) -> Option<AccountId> {
		let key = (id, index as u32);
		{
			let mut asked = self.reassigned.lock().await;
			if asked.get(&key).is_some_and(|at| now < at + 5) {
				return None;
			}
			asked.insert(key, now);
		}
		let shard = &contract.shards[index];
		let remaining = contract.end.saturating_sub(now).max(1);
		// The cheapest few, so that one that does not answer can be passed over.
		let quote = match self.state.quote(at, shard.spec.bytes, CANDIDATES, remaining, holders) {
			Err(QuoteError::TooFewProviders { eligible, .. }) if eligible > 0 => {
				self.state.quote(at, shard.spec.bytes, eligible as u32, remaining, holders)
			}
			quote => quote,
		};
		let quote = match quote {
			Ok(quote) => quote,
			Err(error) => {
				log::warn!(target: "cairn-client", "contract {id}: shard {index} cannot move yet: {error}");
				return None;
			}
		};
		let mut chosen = None;
		for (candidate, price) in quote.providers {
			if price > shard.price_per_byte_block {
				log::warn!(target: "cairn-client", "contract {id}: no provider for shard {index} at its price");
				return None;
			}
			// A provider that is down would hold the shard unconfirmed until its deadline.
			if self.answers(at, &candidate, id, index as u32).await {
				chosen = Some(candidate);
				break;
			}
			log::info!(
				target: "cairn-client",
				"contract {id}: provider {} does not answer; shard {index} goes elsewhere",
				crate::rpc::market::ss58(&candidate)
			);
		}
		let to = chosen?;
		let call = RuntimeCall::Market(pallet_market::Call::reassign_shard {
			contract: id,
			shard: index as u32,
			new_provider: to.clone(),
		});
		match signer.submit(call).await {
			Ok(()) => {
				self.metrics.repairs.with_label_values(&["reassigned"]).inc();
				log::info!(
					target: "cairn-client",
					"contract {id}: shard {index} moves to {}",
					crate::rpc::market::ss58(&to)
				);
				Some(to)
			}
			Err(error) => {
				log::warn!(target: "cairn-client", "contract {id}: reassigning shard {index}: {}", error);
				None
			}
		}
	}

	/// Whether provider `who` answers on the shard network now: an empty audit of shard `index`
	/// of contract `id`, which any provider answers (with nothing, or that it is busy) at no
	/// cost.
	async fn answers(&self, at: Hash, who: &AccountId, id: ContractId, index: u32) -> bool {
		let Ok(to) = provider_address(&self.state, at, who) else { return false };
		let probe = Request::Leaves { contract: id, shard: index, indices: Vec::new() };
		let asked = self.network.request(to.peer, to.addresses, probe);
		matches!(tokio::time::timeout(PROBE_TIME, asked).await, Ok(Ok(_)))
	}

	async fn rebuild_and_send(
		&self,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		index: usize,
	) -> Result<(), String> {
		let record = self.load_record(id).ok_or("no manifest")?;
		let manifest = FileManifest::from_bytes(&record.manifest).map_err(|e| e.to_string())?;
		let k = usize::from(contract.k);
		let spec = contract.shards[index].spec.clone();
		let others = self
			.fetch_any(id, contract, k, Some(index), None, 0)
			.await
			.map_err(|failure| failure.message)?;
		let rebuilt = tokio::task::spawn_blocking(move || {
			let mut readers: Vec<Option<&[u8]>> = others.iter().map(|s| s.as_deref()).collect();
			let rebuilt = rebuild_shard(&manifest, &mut readers, index, Vec::new())
				.map_err(|e| e.to_string())?;
			if blake3::hash(&rebuilt).as_bytes() != &spec.blake3 {
				return Err("the rebuilt shard does not match its digest".to_string());
			}
			OutgoingShard::new(rebuilt)
		})
		.await
		.map_err(|e| e.to_string())??;
		let at = self.state.at(None);
		let provider = &contract.shards[index].provider;
		let to = provider_address(&self.state, at, provider)?;
		let grant = self.signer().map_err(|failure| failure.message)?.grant(
			id,
			index as u32,
			self.network.peer_id(),
		)?;
		let sent = &self.metrics.shard_bytes_sent;
		push_shard(&self.network, &to, id, index as u32, &rebuilt, grant, &|bytes| {
			sent.inc_by(bytes)
		})
		.await
	}

	/// Sets the gauges of our open `contracts` at block `now`: how many, their escrow, and the
	/// shards waiting for repair (lost or vacant, unconfirmed past their deadline, or moved to a
	/// new provider that has not confirmed them yet).
	fn count_contracts(&self, now: BlockNumber, contracts: &[(ContractId, ContractOf<Runtime>)]) {
		let waiting = contracts
			.iter()
			.flat_map(|(_, contract)| &contract.shards)
			.filter(|shard| {
				let pending = |late: bool| {
					matches!(shard.status, ShardStatus::Pending { deadline } if late || now > deadline)
				};
				!shard.status.holds_capacity() || pending(shard.repair)
			})
			.count();
		let escrow: Balance = contracts.iter().map(|(_, contract)| contract.escrow).sum();
		self.metrics.contracts.set(contracts.len() as u64);
		self.metrics.escrow.set(crate::metrics::in_cairn(escrow));
		self.metrics.repair_queue.set(waiting as u64);
	}
}
