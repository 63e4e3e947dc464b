//! The open contracts one account takes part in, followed block by block from the chain's
//! events instead of a read of every open contract: the services' per-block work grows with
//! their own contracts, not with the chain's.
//!
//! Which contracts take part is all the index keeps: an account joins a contract only through
//! an event that names it (`ContractCreated` for its owner, `ShardAssigned` or
//! `ShardReassigned` for a provider), so the events of each new block add the contracts it
//! joined, and the contracts themselves are read afresh, one key each, at every block. A
//! contract that ended (gone from state) leaves the index. When the new block is not a
//! descendant of the last one followed within [`MAX_WALK`] blocks (the first block, a
//! reorganisation, a node busy for long), the index is rebuilt from every open contract once.

use std::collections::BTreeSet;

use cairn_runtime::{opaque::Block, AccountId, Hash, Runtime, RuntimeEvent};
use pallet_market::{ContractId, ContractOf};

use crate::market_state::{MarketClient, MarketState, Unreadable};

/// Blocks walked back from a new block to the last one followed before the index is rebuilt
/// instead.
const MAX_WALK: usize = 64;

/// How the account takes part in a contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
	/// It owns the contract.
	Owner,
	/// It is, or was, the provider of one of its shards.
	Provider,
}

/// The open contracts `account` takes part in as `role`.
pub struct Involved {
	account: AccountId,
	role: Role,
	ids: BTreeSet<ContractId>,
	/// The block the index was last brought to.
	at: Option<Hash>,
}

impl Involved {
	pub fn new(account: AccountId, role: Role) -> Self {
		Self { account, role, ids: BTreeSet::new(), at: None }
	}

	/// The contracts the account takes part in at block `at`, read at `at`.
	pub fn contracts<C, B>(
		&mut self,
		state: &MarketState<C, B>,
		at: Hash,
	) -> Result<Vec<(ContractId, ContractOf<Runtime>)>, Unreadable>
	where
		C: MarketClient<B>,
		B: sc_client_api::Backend<Block> + Send + Sync + 'static,
	{
		if self.at != Some(at) && !self.follow(state, at)? {
			let all = state.contracts(at)?;
			self.ids = all
				.iter()
				.filter(|(_, contract)| self.takes_part(contract))
				.map(|(id, _)| *id)
				.collect();
			self.at = Some(at);
			return Ok(all.into_iter().filter(|(id, _)| self.ids.contains(id)).collect());
		}
		self.at = Some(at);
		let ids: Vec<ContractId> = self.ids.iter().copied().collect();
		let contracts = state.contracts_with_ids(at, &ids)?;
		// Those no longer open have ended.
		self.ids = contracts.iter().map(|(id, _)| *id).collect();
		Ok(contracts)
	}

	/// Adds the contracts joined in the blocks from the last one followed to `at`; false when
	/// `at` does not descend from it within [`MAX_WALK`] blocks.
	fn follow<C, B>(&mut self, state: &MarketState<C, B>, at: Hash) -> Result<bool, Unreadable>
	where
		C: MarketClient<B>,
		B: sc_client_api::Backend<Block> + Send + Sync + 'static,
	{
		let Some(last) = self.at else { return Ok(false) };
		let mut path = Vec::new();
		let mut block = at;
		while block != last {
			if path.len() == MAX_WALK {
				return Ok(false);
			}
			path.push(block);
			let Some(header) =
				state.client().header(block).map_err(|e| Unreadable(e.to_string()))?
			else {
				return Ok(false);
			};
			block = header.parent_hash;
		}
		for block in path.into_iter().rev() {
			for record in state.events(block)? {
				if let Some(id) = joined(&record.event, &self.account, self.role) {
					self.ids.insert(id);
				}
			}
		}
		Ok(true)
	}

	fn takes_part(&self, contract: &ContractOf<Runtime>) -> bool {
		match self.role {
			Role::Owner => contract.owner == self.account,
			Role::Provider => contract.shards.iter().any(|shard| shard.provider == self.account),
		}
	}
}

/// The contract `event` makes `account` take part in as `role`, if any.
fn joined(event: &RuntimeEvent, account: &AccountId, role: Role) -> Option<ContractId> {
	use pallet_market::Event;
	let RuntimeEvent::Market(event) = event else { return None };
	match (role, event) {
		(Role::Owner, Event::ContractCreated { contract, owner, .. }) if owner == account => {
			Some(*contract)
		}
		(Role::Provider, Event::ShardAssigned { contract, provider, .. })
			if provider == account =>
		{
			Some(*contract)
		}
		(Role::Provider, Event::ShardReassigned { contract, to, .. }) if to == account => {
			Some(*contract)
		}
		_ => None,
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use pallet_market::Event;

	#[test]
	fn an_account_joins_a_contract_only_through_an_event_that_names_it_in_its_role() {
		let (me, other) = (AccountId::new([1; 32]), AccountId::new([2; 32]));
		let market = |event: Event<Runtime>| RuntimeEvent::Market(event);
		let created = |owner: &AccountId| {
			market(Event::ContractCreated {
				contract: 7,
				owner: owner.clone(),
				shards: 6,
				escrow: 1,
				deposit: 1,
				end: 100,
			})
		};
		let assigned = |provider: &AccountId| {
			market(Event::ShardAssigned {
				contract: 8,
				shard: 2,
				provider: provider.clone(),
				deadline: 9,
			})
		};
		let moved = |to: &AccountId| {
			market(Event::ShardReassigned {
				contract: 9,
				shard: 1,
				from: other.clone(),
				to: to.clone(),
			})
		};
		assert_eq!(joined(&created(&me), &me, Role::Owner), Some(7));
		assert_eq!(joined(&created(&me), &me, Role::Provider), None);
		assert_eq!(joined(&created(&other), &me, Role::Owner), None);
		assert_eq!(joined(&assigned(&me), &me, Role::Provider), Some(8));
		assert_eq!(joined(&assigned(&me), &me, Role::Owner), None);
		assert_eq!(joined(&assigned(&other), &me, Role::Provider), None);
		assert_eq!(joined(&moved(&me), &me, Role::Provider), Some(9));
		assert_eq!(joined(&moved(&other), &me, Role::Provider), None);
		let confirmed =
			market(Event::ShardConfirmed { contract: 8, shard: 2, provider: me.clone() });
		assert_eq!(joined(&confirmed, &me, Role::Provider), None);
	}
}
