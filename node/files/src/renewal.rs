//! Renewal: a contract's end moves before it comes, so that a file outlives its first term.
//!
//! - **By hand:** `cairn_renew` (`client renew`) extends one contract by some blocks.
//! - **Automatically:** on every new best block, each file uploaded here with auto-renew on
//!   (the default) is renewed by its term once less than [`AutoRenew::below_percent`] of that
//!   term is left, while the account can pay. When it cannot (no funds, a provider leaving,
//!   prices above what the account allows), the node says so at once in its log, again every
//!   [`RETRY_BLOCKS`] blocks, and in `cairn_file` (`client status`), with the blocks left.

use std::sync::Arc;

use cairn_runtime::{Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use pallet_market::{ContractId, ContractOf};
use pallet_providers::ProviderStatus;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Files, FilesError};
use cairn_chain::{signer::Signer, ss58};

/// Blocks between two attempts to renew the same contract automatically.
pub const RETRY_BLOCKS: BlockNumber = 10;

/// The node's automatic renewal policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoRenew {
	/// Renew a file once less than this share (in percent) of its term is left.
	pub below_percent: u8,
}

impl Default for AutoRenew {
	fn default() -> Self {
		Self { below_percent: 25 }
	}
}

impl AutoRenew {
	/// Whether a contract with `left` blocks to run, of a file kept for `term` blocks at a time,
	/// is due for renewal.
	pub fn due(&self, left: BlockNumber, term: BlockNumber) -> bool {
		u64::from(left) * 100 < u64::from(term) * u64::from(self.below_percent)
	}
}

/// What `cairn_renew` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenewParams {
	/// The contract (of a file cut into segments: any of its segments'; all of them are
	/// renewed).
	pub contract: Option<ContractId>,
	/// Or the name the file was stored under: the newest open contract of this account with
	/// that name.
	pub name: Option<String>,
	/// Blocks to add (default: the file's term, or the contract's length).
	pub blocks: Option<BlockNumber>,
	/// Highest price per byte per block to pay (decimal string; default: what its providers
	/// ask now).
	pub max_price: Option<String>,
}

/// Where a contract's automatic renewal stands.
#[derive(Debug, Clone, Default)]
pub(super) struct RenewalState {
	/// The block of the last attempt.
	pub asked_at: BlockNumber,
	/// Why the last attempt failed, if it did.
	pub problem: Option<String>,
	/// The end the last successful renewal set.
	pub renewed_to: Option<BlockNumber>,
}

/// What renewing `contract` by `blocks` costs at least, and the price limit that lets it
/// through: each assigned shard at the higher of its agreed price and its provider's current
/// ask (the rule of `extend_contract`). Fails, in words, when a provider is leaving; one that a
/// slash left under-staked keeps its shards, and does not stop a renewal.
fn renewal_cost(
	files: &Files,
	at: Hash,
	contract: &ContractOf<Runtime>,
	blocks: BlockNumber,
) -> Result<(Balance, Balance), FilesError> {
	let mut cost: Balance = 0;
	let mut max_price: Balance = 0;
	for (index, shard) in contract.shards.iter().enumerate() {
		let mut price = shard.price_per_byte_block;
		if shard.status.holds_capacity() {
			let info = files
				.state
				.provider(at, &shard.provider)?
				.filter(|info| info.status == ProviderStatus::Active)
				.ok_or_else(|| {
					FilesError::Market(format!(
						"the provider of shard {index} ({}) is leaving the market: the shard \
						 must move to another provider first",
						ss58(&shard.provider)
					))
				})?;
			price = price.max(info.price_per_byte_block);
		}
		max_price = max_price.max(price);
		let shard_cost = pallet_market::Pallet::<Runtime>::shard_cost(
			price,
			shard.spec.bytes,
			Balance::from(blocks),
		)
		.map_err(|_| FilesError::invalid("the renewal's price overflows"))?;
		cost = cost.saturating_add(shard_cost);
	}
	Ok((cost, max_price))
}

impl Files {
	/// Extends a contract of this node's account; returns its new end and the escrow added.
	pub async fn renew(&self, params: RenewParams) -> Result<Value, FilesError> {
		let signer = self.signer()?.clone();
		signer.caught_up()?;
		let ids = self.named_file(params.contract, params.name.as_deref())?.contracts;
		let at = self.state.at(None);
		let now = self.state.number(at);
		let max_price = super::max_price(params.max_price.as_deref())?;
		// Every segment is checked, and paid for together, before any is extended.
		let mut extensions = Vec::with_capacity(ids.len());
		let mut cost: Balance = 0;
		for &id in &ids {
			let contract = self.own_contract(&signer, at, id)?;
			let blocks = match params.blocks {
				Some(0) => return Err(FilesError::invalid("blocks must be at least 1")),
				Some(blocks) => blocks,
				None => self
					.load_record(id)
					.map(|record| record.renewal.term)
					.filter(|term| *term > 0)
					.unwrap_or(contract.end.saturating_sub(contract.start)),
			};
			let (more, price) =
				self.check_extension(&signer, at, now, id, &contract, blocks, max_price)?;
			cost = cost.saturating_add(more);
			extensions.push((id, blocks, price));
		}
		let me = signer.account();
		let free = self.state.free_balance(at, &me)?;
		if free < cost {
			return Err(FilesError::Market(format!(
				"insufficient balance: renewing the {} contracts of the file needs {cost} and {} \
				 has {free} free",
				ids.len(),
				ss58(&me)
			)));
		}
		let mut renewed: Vec<Extended> = Vec::with_capacity(extensions.len());
		for (id, blocks, price) in extensions {
			match self.submit_extension(&signer, id, blocks, price).await {
				Ok(done) => renewed.push(done),
				Err(error) if renewed.is_empty() => return Err(error),
				Err(error) => {
					let before: Vec<String> =
						renewed.iter().map(|done| done.contract.to_string()).collect();
					return Err(FilesError::Network(format!(
						"renewing contract {id}: {error} (contracts {} were renewed)",
						before.join(", ")
					)));
				}
			}
		}
		Ok(renewed_file(&renewed))
	}

	/// What the chain would refuse of extending contract `id` by `blocks` at `max_price` (what
	/// its providers ask, without one), in words; else what it costs, and the price limit.
	#[allow(clippy::too_many_arguments)]
	fn check_extension(
		&self,
		signer: &Signer,
		at: Hash,
		now: BlockNumber,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		blocks: BlockNumber,
		max_price: Option<Balance>,
	) -> Result<(Balance, Balance), FilesError> {
		if now >= contract.end {
			return Err(FilesError::Refused(format!(
				"contract {id} ended at block {}: it can no longer be renewed",
				contract.end
			)));
		}
		let longest: BlockNumber = <Runtime as pallet_market::Config>::MaxContractDuration::get();
		let left = contract.end - now;
		if u64::from(left) + u64::from(blocks) > u64::from(longest) {
			return Err(FilesError::invalid(format!(
				"a contract runs at most {longest} blocks ahead; contract {id} has {left} left, \
				 so at most {} more",
				longest.saturating_sub(left)
			)));
		}
		let (cost, asked) = renewal_cost(self, at, contract, blocks)?;
		let max_price = max_price.unwrap_or(asked);
		if asked > max_price {
			return Err(FilesError::Market(format!(
				"a provider of contract {id} asks {asked} per byte per block, above the limit \
				 of {max_price}"
			)));
		}
		let me = signer.account();
		let free = self.state.free_balance(at, &me)?;
		if free < cost {
			return Err(FilesError::Market(format!(
				"insufficient balance: renewing contract {id} by {blocks} blocks needs {cost} and \
				 {} has {free} free",
				ss58(&me)
			)));
		}
		Ok((cost, max_price))
	}

	/// Submits `extend_contract` and waits for its block.
	async fn submit_extension(
		&self,
		signer: &Signer,
		id: ContractId,
		blocks: BlockNumber,
		max_price: Balance,
	) -> Result<Extended, FilesError> {
		let call = RuntimeCall::Market(pallet_market::Call::extend_contract {
			contract: id,
			blocks,
			max_price,
		});
		let included = signer.submit_and_watch(call).await?;
		let (end, escrow) = included.market_event("ContractExtended", |event| match event {
			pallet_market::Event::ContractExtended { contract, end, escrow } if *contract == id => {
				Some((*end, *escrow))
			}
			_ => None,
		})?;
		Ok(Extended { contract: id, end, escrow, block: included.block })
	}

	/// Renews, in the background, this account's files that are due under the node's policy.
	pub(super) async fn renew_due(
		self: &Arc<Self>,
		at: Hash,
		now: BlockNumber,
		contracts: &[(ContractId, ContractOf<Runtime>)],
		signer: &Arc<Signer>,
	) {
		for (id, contract) in contracts {
			let Some(record) = self.load_record(*id) else { continue };
			let term = record.renewal.term;
			if !record.renewal.auto || term == 0 || now >= contract.end {
				continue;
			}
			if !self.auto_renew.due(contract.end - now, term) {
				continue;
			}
			// A contract whose shards, confirmed or still waiting for their data, cannot give its
			// file back (too many were lost at once, or moved and never sent) is not paid for
			// longer. (An unfinished upload is finished by the journal.)
			let held = contract.shards.iter().filter(|s| s.status.holds_capacity()).count();
			if held < usize::from(contract.k) {
				let mut renewals = self.renewals.lock().await;
				let state = renewals.entry(*id).or_default();
				if state.asked_at == 0 || now >= state.asked_at + RETRY_BLOCKS {
					state.asked_at = now;
					let why = format!(
						"only {held} of its shards hold or await the file ({} are needed to read it)",
						contract.k
					);
					log::warn!(target: "cairn-client", "contract {id} CANNOT BE RENEWED: {why}");
					state.problem = Some(why);
				}
				continue;
			}
			{
				let mut renewals = self.renewals.lock().await;
				let state = renewals.entry(*id).or_default();
				if state.asked_at != 0 && now < state.asked_at + RETRY_BLOCKS {
					continue;
				}
				state.asked_at = now;
			}
			let (this, signer, id, contract) =
				(self.clone(), signer.clone(), *id, contract.clone());
			tokio::spawn(async move {
				let longest: BlockNumber =
					<Runtime as pallet_market::Config>::MaxContractDuration::get();
				let blocks = term.min(longest.saturating_sub(contract.end - now)).max(1);
				let outcome = async {
					let (_, price) =
						this.check_extension(&signer, at, now, id, &contract, blocks, None)?;
					this.submit_extension(&signer, id, blocks, price).await
				}
				.await;
				let mut renewals = this.renewals.lock().await;
				let state = renewals.entry(id).or_default();
				match outcome {
					Ok(done) => {
						state.problem = None;
						state.renewed_to = Some(done.end);
						log::info!(
							target: "cairn-client",
							"contract {id} renewed: it ends at block {} (escrow {} more)",
							done.end,
							done.escrow
						);
					}
					Err(failure) => {
						log::warn!(
							target: "cairn-client",
							"contract {id} CANNOT BE RENEWED: {}. It ends at block {}, in {} \
							 blocks; its file is lost after that",
							failure,
							contract.end,
							contract.end - now
						);
						state.problem = Some(failure.to_string());
					}
				}
			});
		}
	}

	/// What this node knows of one of its files: name, size, renewal policy and state.
	pub async fn file(&self, id: ContractId) -> Result<Value, FilesError> {
		let record = self.load_record(id).ok_or_else(|| {
			FilesError::invalid(format!("this node has no file stored under contract {id}"))
		})?;
		let manifest = cairn_storage::encoding::FileManifest::from_bytes(&record.manifest)
			.map_err(|e| FilesError::Data(format!("manifest: {e}")))?;
		let at = self.state.at(None);
		let now = self.state.number(at);
		let end = self.state.contract(at, id)?.map(|contract| contract.end);
		let state = self.renewals.lock().await.get(&id).cloned().unwrap_or_default();
		let term = record.renewal.term;
		let renew_at = (record.renewal.auto && term > 0).then(|| {
			// The first block at which less than the policy's share of the term is left.
			let share = u64::from(term) * u64::from(self.auto_renew.below_percent);
			end.map(|end| u64::from(end).saturating_sub(share.div_ceil(100)).saturating_add(1))
		});
		Ok(json!({
			"contract": id,
			"name": record.name,
			"bytes": manifest.plaintext_bytes,
			"end": end,
			"now": now,
			"term": term,
			"autoRenew": record.renewal.auto,
			"renewBelowPercent": self.auto_renew.below_percent,
			"renewAt": renew_at.flatten(),
			"lastAttempt": (state.asked_at != 0).then_some(state.asked_at),
			"renewedTo": state.renewed_to,
			"problem": state.problem,
		}))
	}
}

/// One contract's extension, as the chain made it.
struct Extended {
	contract: ContractId,
	end: BlockNumber,
	/// The escrow it added.
	escrow: Balance,
	block: Hash,
}

/// What `cairn_renew` returns for a file's renewed contracts (one per segment): the first
/// contract, the earliest new end (the file is whole until then), the escrow added in all and
/// the last block; with `contracts` for a file of several.
fn renewed_file(renewed: &[Extended]) -> Value {
	let (Some(first), Some(last)) = (renewed.first(), renewed.last()) else {
		return Value::Null;
	};
	let mut done = json!({
		"contract": first.contract,
		"end": renewed.iter().map(|done| done.end).min(),
		"escrow": renewed.iter().map(|done| done.escrow).sum::<Balance>().to_string(),
		"block": format!("{:?}", last.block),
	});
	if renewed.len() > 1 {
		done["contracts"] = renewed.iter().map(|done| done.contract).collect();
	}
	done
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_file_is_due_once_less_than_the_share_of_its_term_is_left() {
		let policy = AutoRenew { below_percent: 25 };
		assert!(!policy.due(25, 100));
		assert!(policy.due(24, 100));
		assert!(policy.due(0, 100));
		assert!(!policy.due(u32::MAX, u32::MAX));
		assert!(AutoRenew { below_percent: 99 }.due(98, 100));
	}
}
