//! The repair loop: on every new best block, for this account's contracts whose manifests it can
//! open (whichever machine uploaded them), a lost shard (or one not confirmed by its deadline, or
//! whose provider does not answer on the shard network) is reassigned to the cheapest eligible
//! provider not holding another shard of the contract that answers (one that is down would hold
//! it unconfirmed until its deadline), and a shard waiting for its data is fetched from a provider
//! it was moved away from (which keeps it until it is active elsewhere), or rebuilt from `k`
//! others, and sent to its provider.

use std::{collections::HashMap, sync::Arc};

use cairn_net::{NetError, Request};
use cairn_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use cairn_storage::encoding::{rebuild_shard, FileManifest};
use futures::{FutureExt, StreamExt};
use pallet_market::{ContractId, ContractOf, ShardStatus};
use sc_client_api::{BlockchainEvents, HeaderBackend};

use super::{
	download::Fetched,
	provider_address,
	sources::{obtainable, Holds, ShardSource},
	Files,
};
use crate::{
	shards::{Filling, ShardDir, ShardFile},
	transfer::OutgoingShard,
};
use cairn_chain::{
	involved::{Involved, Role},
	market_state::QuoteError,
	signer::Signer,
};

/// Providers asked, cheapest first, before a lost shard is moved: the first that answers takes it.
const CANDIDATES: u32 = 3;

/// Blocks after a rebuild that failed (too few shards could be fetched) before it is tried again.
const RETRY_BLOCKS: BlockNumber = 3;

/// How long a provider has to answer before it counts as down.
const PROBE_TIME: std::time::Duration = std::time::Duration::from_secs(10);

impl Files {
	/// Repairs this account's contracts on every new best block.
	pub async fn run(self: Arc<Self>) {
		let Some(signer) = self.signer.clone() else { return };
		let mut involved = Involved::new(signer.account(), Role::Owner);
		let mut blocks = self.state.client().import_notification_stream();
		while let Some(mut block) = blocks.next().await {
			// A pass may take longer than a block (a provider that does not answer is waited
			// for): only the newest best block imported meanwhile is looked at.
			while let Some(Some(next)) = blocks.next().now_or_never() {
				if next.is_new_best || !block.is_new_best {
					block = next;
				}
			}
			if !block.is_new_best {
				continue;
			}
			if let Err(error) = self.repair(block.hash, &signer, &mut involved).await {
				log::warn!(target: "cairn-client", "repair: {error}");
			}
		}
	}

	async fn repair(
		self: &Arc<Self>,
		at: Hash,
		signer: &Arc<Signer>,
		involved: &mut Involved,
	) -> Result<(), String> {
		let now = self.state.number(at);
		let contracts = involved.contracts(&self.state, at).map_err(|e| e.to_string())?;
		self.renew_due(at, now, &contracts, signer).await;
		self.check_uploads(at).await;
		// Without a manifest this account can open, a file cannot be rebuilt.
		let (repairable, others): (Vec<_>, Vec<_>) =
			contracts.into_iter().partition(|(id, _)| self.load_record(*id).is_some());
		self.count_contracts(now, &repairable, &others);
		self.former.forget(&repairable);
		// Who answered on the shard network in this pass: each provider is asked once.
		let mut probed = HashMap::new();
		for (id, contract) in repairable {
			// Providers holding a shard of the contract, and those its shards move to in this
			// pass; one named only on a vacant or lost shard may take another (as the chain says).
			let mut holders: Vec<AccountId> = contract
				.shards
				.iter()
				.filter(|s| s.status.holds_capacity())
				.map(|s| s.provider.clone())
				.collect();
			// A pending shard not being sent now waits on its provider alone: one that does not
			// answer is passed over at once rather than at its deadline.
			let waiting: Vec<AccountId> = contract
				.shards
				.iter()
				.enumerate()
				.filter(|(index, s)| {
					matches!(s.status, ShardStatus::Pending { .. })
						&& !self.being_sent.contains(&(id, *index as u32))
				})
				.map(|(_, s)| s.provider.clone())
				.collect();
			self.probe(at, id, &waiting, &mut probed).await;
			// A waiting shard comes from a provider it left, or is rebuilt from `k` others
			// confirmed or kept; without those, its data can only come from its upload (this
			// node's, or its journal's after a restart).
			let sources = self.former.sources(id, &contract);
			let obtainable = |index: usize| obtainable(&sources, index, usize::from(contract.k));
			for (index, shard) in contract.shards.iter().enumerate() {
				let key = (id, index as u32);
				let overdue =
					matches!(shard.status, ShardStatus::Pending { deadline } if now > deadline);
				let silent = matches!(shard.status, ShardStatus::Pending { .. })
					&& probed.get(&shard.provider) == Some(&false);
				if !shard.status.holds_capacity() || overdue || silent {
					let moved = self
						.reassign(at, now, id, &contract, index, &holders, &mut probed, signer)
						.await;
					if let Some(to) = moved {
						self.former.moved(id, index as u32, &shard.provider);
						if silent && !overdue {
							log::info!(
								target: "cairn-client",
								"contract {id}: provider {} of pending shard {index} did not answer",
								cairn_chain::ss58(&shard.provider)
							);
						}
						if shard.status.holds_capacity() {
							holders.retain(|holder| *holder != shard.provider);
						}
						holders.push(to);
					}
				} else if let (ShardStatus::Pending { .. }, true) =
					(&shard.status, obtainable(index))
				{
					let resend = match self.resend_at.lock().await.get(&key) {
						Some((to, at)) => *to != shard.provider || now >= *at,
						None => true,
					};
					let sending = if resend { self.being_sent.mark(vec![key]) } else { None };
					if let Some(sending) = sending {
						self.sent([(key, shard.provider.clone())], shard.spec.bytes, now).await;
						let this = self.clone();
						let contract = contract.clone();
						let former: Vec<ShardSource> = sources
							.iter()
							.filter(|source| source.index == index && source.holds == Holds::Former)
							.cloned()
							.collect();
						tokio::spawn(async move {
							let repairs = &this.metrics.repairs;
							match this.rebuild_and_send(at, id, &contract, index, &former).await {
								Ok(how) => {
									repairs.with_label_values(&["sent"]).inc();
									log::info!(target: "cairn-client", "contract {id}: shard {index} {how} and sent to its provider")
								}
								Err(error) => {
									repairs.with_label_values(&["failed"]).inc();
									log::warn!(target: "cairn-client", "contract {id}: shard {index} not repaired yet: {error}");
									// Nothing was sent: tried again in a few blocks.
									let failed = this.state.client().info().best_number;
									let provider = contract.shards[index].provider.clone();
									let again = (provider, failed + RETRY_BLOCKS);
									this.resend_at.lock().await.insert(key, again);
								}
							}
							drop(sending);
						});
					}
				}
			}
		}
		Ok(())
	}

	/// Asks the chain to move shard `index` to the cheapest eligible provider not in `holders`
	/// that answers on the shard network (asked a few at a time, cheapest first); returns the
	/// provider asked for.
	#[allow(clippy::too_many_arguments)]
	async fn reassign(
		&self,
		at: Hash,
		now: BlockNumber,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		index: usize,
		holders: &[AccountId],
		probed: &mut HashMap<AccountId, bool>,
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
		// Passed over: the contract's holders, and providers that did not answer in this pass.
		let mut passed: Vec<AccountId> = holders.to_vec();
		passed
			.extend(probed.iter().filter(|(_, answered)| !**answered).map(|(who, _)| who.clone()));
		// The cheapest few at a time, so that those that do not answer are passed over.
		let to = loop {
			let quote = match self.state.quote(at, shard.spec.bytes, CANDIDATES, remaining, &passed)
			{
				Err(QuoteError::TooFewProviders { eligible, .. }) if eligible > 0 => {
					self.state.quote(at, shard.spec.bytes, eligible as u32, remaining, &passed)
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
			// Cheapest first; none may ask more than the shard's agreed price.
			let affordable: Vec<AccountId> = quote
				.providers
				.into_iter()
				.take_while(|(_, price)| *price <= shard.price_per_byte_block)
				.map(|(candidate, _)| candidate)
				.collect();
			if affordable.is_empty() {
				log::warn!(target: "cairn-client", "contract {id}: no provider for shard {index} at its price");
				return None;
			}
			// A provider that is down would hold the shard unconfirmed until its deadline.
			self.probe(at, id, &affordable, probed).await;
			for candidate in &affordable {
				if probed[candidate] {
					break;
				}
				log::info!(
					target: "cairn-client",
					"contract {id}: provider {} does not answer; shard {index} goes elsewhere",
					cairn_chain::ss58(candidate)
				);
			}
			if let Some(to) = affordable.iter().find(|candidate| probed[*candidate]) {
				break to.clone();
			}
			passed.extend(affordable);
		};
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
					cairn_chain::ss58(&to)
				);
				Some(to)
			}
			Err(error) => {
				log::warn!(target: "cairn-client", "contract {id}: reassigning shard {index}: {}", error);
				None
			}
		}
	}

	/// Asks each provider of `who` not yet in `probed`, all at once, whether it answers on the
	/// shard network now, and records the answers in `probed`.
	async fn probe(
		&self,
		at: Hash,
		id: ContractId,
		who: &[AccountId],
		probed: &mut HashMap<AccountId, bool>,
	) {
		let mut asking: Vec<&AccountId> =
			who.iter().filter(|who| !probed.contains_key(*who)).collect();
		asking.sort();
		asking.dedup();
		let answers =
			futures::future::join_all(asking.iter().map(|who| self.answers(at, who, id))).await;
		probed.extend(asking.into_iter().cloned().zip(answers));
	}

	/// Whether provider `who` answers on the shard network now: an empty audit of a shard of
	/// contract `id`, which any provider answers (with nothing, or that it is busy) at no cost.
	/// A connection this node's own transfers fill is one the provider answers on.
	async fn answers(&self, at: Hash, who: &AccountId, id: ContractId) -> bool {
		let Ok(to) = provider_address(&self.state, at, who) else { return false };
		let probe = Request::Leaves { contract: id, shard: 0, indices: Vec::new() };
		let asked = self.network.request(to.peer, to.addresses, probe);
		matches!(
			tokio::time::timeout(PROBE_TIME, asked).await,
			Ok(Ok(_) | Err(NetError::Saturated { .. }))
		)
	}

	/// Gets shard `index` of `contract` (as block `at` has it) to its new provider: fetched from
	/// one of the providers it was moved away from (`former`), or rebuilt from `k` others. Says
	/// which.
	async fn rebuild_and_send(
		&self,
		at: Hash,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		index: usize,
		former: &[ShardSource],
	) -> Result<&'static str, String> {
		// Those that are down are passed over after a probe, not a stalled transfer.
		let answers = futures::future::join_all(
			former.iter().map(|source| self.answers(at, &source.provider, id)),
		)
		.await;
		let dir = self.shard_dir().map_err(|failure| failure.to_string())?;
		let mut kept = None;
		for (source, _) in former.iter().zip(answers).filter(|(_, answers)| *answers) {
			let into = Filling::new(dir.create().map_err(super::disk_text)?);
			match self.fetch_from(at, id, contract, source, None, &|_| {}, &into).await {
				Ok(()) => {
					kept = Some(into.file().clone());
					break;
				}
				Err(error) => log::info!(
					target: "cairn-client",
					"contract {id}: shard {index} not fetched from its former provider {}: {error}",
					cairn_chain::ss58(&source.provider)
				),
			}
		}
		let (how, shard) = match kept {
			Some(file) => ("fetched from a former provider", file),
			None => ("rebuilt", self.rebuild(id, contract, index, &dir).await?),
		};
		let digest = contract.shards[index].spec.blake3;
		let outgoing = tokio::task::spawn_blocking(move || {
			let read = shard.read_through(false).map_err(super::disk_text)?;
			if read.digest != digest {
				return Err(format!("the {how} shard does not match its digest"));
			}
			Ok(OutgoingShard::new(shard, read))
		})
		.await
		.map_err(|e| e.to_string())??;
		let provider = &contract.shards[index].provider;
		self.send_shard(at, id, index as u32, provider, &outgoing, &|_| {}).await?;
		Ok(how)
	}

	/// Shard `index` of `contract`, rebuilt from `k` others, in a file of `dir`.
	async fn rebuild(
		&self,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		index: usize,
		dir: &ShardDir,
	) -> Result<ShardFile, String> {
		let record = self.load_record(id).ok_or("no manifest")?;
		let manifest = FileManifest::from_bytes(&record.manifest).map_err(|e| e.to_string())?;
		let k = usize::from(contract.k);
		let others = self
			.fetch_any(
				id,
				contract,
				k,
				Some(index),
				None,
				None,
				Fetched { before: 0, total: 0 },
				dir,
			)
			.await
			.map_err(|failure| failure.to_string())?;
		let rebuilt = dir.create().map_err(super::disk_text)?;
		tokio::task::spawn_blocking(move || {
			let mut readers: Vec<_> =
				others.iter().map(|shard| shard.as_ref().map(ShardFile::reader)).collect();
			rebuild_shard(&manifest, &mut readers, index, rebuilt.writer())
				.map_err(|e| e.to_string())?
				.into_inner()
				.map_err(|e| super::disk_text(e.error()))?;
			Ok(rebuilt)
		})
		.await
		.map_err(|e| e.to_string())?
	}

	/// Sets the gauges of our open contracts at block `now`: how many, their escrow, and the
	/// shards of the `repairable` ones (this node can open their manifests; `others` it cannot)
	/// waiting for repair (lost or vacant, unconfirmed past their deadline, or moved to a new
	/// provider that has not confirmed them yet).
	fn count_contracts(
		&self,
		now: BlockNumber,
		repairable: &[(ContractId, ContractOf<Runtime>)],
		others: &[(ContractId, ContractOf<Runtime>)],
	) {
		let waiting = repairable
			.iter()
			.flat_map(|(_, contract)| &contract.shards)
			.filter(|shard| {
				let pending = |late: bool| {
					matches!(shard.status, ShardStatus::Pending { deadline } if late || now > deadline)
				};
				!shard.status.holds_capacity() || pending(shard.repair)
			})
			.count();
		let contracts = || repairable.iter().chain(others);
		let escrow: Balance = contracts().map(|(_, contract)| contract.escrow).sum();
		self.metrics.contracts.set(contracts().count() as u64);
		self.metrics.escrow.set(cairn_chain::metrics::in_cairn(escrow));
		self.metrics.repair_queue.set(waiting as u64);
	}
}
