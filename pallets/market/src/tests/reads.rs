//! What the runtime API reads: contracts page by page, of one owner or of all.

use std::collections::BTreeSet;

use super::*;
use crate::runtime_api::CONTRACTS_PAGE;

/// Every contract of `owner` (of anyone without one), read in pages of `limit`.
fn read_all(owner: Option<AccountId>, limit: u32) -> Vec<ContractId> {
	let mut ids: Vec<ContractId> = Vec::new();
	loop {
		let page = Market::contracts_page(owner, ids.last().copied(), limit);
		assert!(page.len() <= limit as usize);
		let last = page.len() < limit as usize;
		ids.extend(page.iter().map(|(id, contract)| {
			assert!(owner.is_none_or(|owner| contract.owner == owner));
			*id
		}));
		if last {
			return ids;
		}
	}
}

#[test]
fn contracts_are_read_page_by_page_each_once_of_one_owner_or_of_all() {
	ExtBuilder::default().build().execute_with(|| {
		let mut of_buyer = BTreeSet::new();
		let mut of_other = BTreeSet::new();
		for n in 0..23 {
			let owner = if n % 3 == 0 { OTHER_BUYER } else { BUYER };
			let id = create_single_shard_contract(owner, n % 5);
			if owner == BUYER {
				of_buyer.insert(id)
			} else {
				of_other.insert(id)
			};
		}
		for limit in [1, 5, 7, 23, 24, 100] {
			let all = read_all(None, limit);
			assert_eq!(all.len(), 23, "pages of {limit}: each contract once");
			let all: BTreeSet<_> = all.into_iter().collect();
			assert_eq!(all, of_buyer.union(&of_other).copied().collect());
			let buyer: BTreeSet<_> = read_all(Some(BUYER), limit).into_iter().collect();
			assert_eq!(buyer, of_buyer, "pages of {limit} of one owner");
		}
		assert!(read_all(Some(STRANGER), 5).is_empty());
		// Any limit is cut to the API's page.
		let page = Market::contracts_page(None, None, u32::MAX);
		assert_eq!(page.len(), 23.min(CONTRACTS_PAGE as usize));
	});
}

#[test]
fn a_page_after_an_ended_contract_still_goes_on_from_where_it_was() {
	ExtBuilder::default().build().execute_with(|| {
		let ids: Vec<_> = (0..6).map(|n| create_single_shard_contract(BUYER, n)).collect();
		let first = Market::contracts_page(None, None, 3);
		let after = first.last().map(|(id, _)| *id).unwrap();
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(BUYER), after));
		let rest = Market::contracts_page(None, Some(after), 10);
		let mut seen: Vec<_> = first.iter().chain(&rest).map(|(id, _)| *id).collect();
		seen.sort();
		assert_eq!(seen, ids, "the ended contract was read before it ended; none is lost");
	});
}

#[test]
fn contracts_are_read_by_id_in_the_order_asked_without_those_ended() {
	ExtBuilder::default().build().execute_with(|| {
		let ids: Vec<_> = (0..4).map(|n| create_single_shard_contract(BUYER, n)).collect();
		assert_ok!(Market::end_contract(RuntimeOrigin::signed(BUYER), ids[1]));
		let asked = vec![ids[3], ids[1], 999, ids[0]];
		let read: Vec<_> =
			Market::contracts_with_ids(asked).into_iter().map(|(id, _)| id).collect();
		assert_eq!(read, vec![ids[3], ids[0]]);
	});
}
