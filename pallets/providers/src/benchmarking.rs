//! Benchmarks of every call (frame-benchmarking v2).

use super::*;
use crate::Pallet as ProvidersPallet;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::RawOrigin;
use sp_runtime::traits::Saturating;

const CAPACITY: u64 = TIB;

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	let stake = ProvidersPallet::<T>::required_stake(4 * CAPACITY);
	let funds = stake.saturating_mul(8u32.into()).saturating_add(T::Currency::minimum_balance());
	T::Currency::set_balance(&who, funds);
	who
}

fn peer_id<T: Config>() -> PeerIdOf<T> {
	BoundedVec::truncate_from(alloc::vec![7u8; T::MaxPeerIdLen::get() as usize])
}

fn multiaddrs<T: Config>(count: u32) -> MultiaddrsOf<T> {
	let addr: MultiaddrOf<T> =
		BoundedVec::truncate_from(alloc::vec![4u8; T::MaxMultiaddrLen::get() as usize]);
	BoundedVec::truncate_from(alloc::vec![addr; count as usize])
}

fn registered<T: Config>(name: &'static str) -> T::AccountId {
	let who = funded::<T>(name);
	let stake = ProvidersPallet::<T>::required_stake(CAPACITY);
	ProvidersPallet::<T>::register_provider(
		RawOrigin::Signed(who.clone()).into(),
		stake,
		CAPACITY,
		1u32.into(),
		peer_id::<T>(),
		multiaddrs::<T>(T::MaxMultiaddrs::get()),
	)
	.expect("a funded account with the required stake registers");
	who
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn register_provider(a: Linear<0, { T::MaxMultiaddrs::get() }>) {
		let who = funded::<T>("provider");
		let stake = ProvidersPallet::<T>::required_stake(CAPACITY);
		#[extrinsic_call]
		_(
			RawOrigin::Signed(who.clone()),
			stake,
			CAPACITY,
			1u32.into(),
			peer_id::<T>(),
			multiaddrs::<T>(a),
		);
		assert!(Providers::<T>::contains_key(&who));
	}

	#[benchmark]
	fn update_provider(a: Linear<0, { T::MaxMultiaddrs::get() }>) {
		let who = registered::<T>("provider");
		#[extrinsic_call]
		_(
			RawOrigin::Signed(who.clone()),
			Some(CAPACITY / 2),
			Some(2u32.into()),
			Some(peer_id::<T>()),
			Some(multiaddrs::<T>(a)),
		);
		assert_eq!(Providers::<T>::get(&who).map(|info| info.capacity), Some(CAPACITY / 2));
	}

	#[benchmark]
	fn add_stake() {
		let who = registered::<T>("provider");
		let before = Providers::<T>::get(&who).map(|info| info.stake);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), 10u32.into());
		assert_eq!(
			Providers::<T>::get(&who).map(|info| info.stake),
			before.map(|stake| stake.saturating_add(10u32.into()))
		);
	}

	#[benchmark]
	fn begin_exit() {
		let who = registered::<T>("provider");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Providers::<T>::get(&who).is_some_and(|info| info.status != ProviderStatus::Active));
	}

	#[benchmark]
	fn withdraw() {
		let who = registered::<T>("provider");
		ProvidersPallet::<T>::begin_exit(RawOrigin::Signed(who.clone()).into())
			.expect("a registered provider can start its exit");
		let later =
			frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
		frame_system::Pallet::<T>::set_block_number(later);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Providers::<T>::contains_key(&who));
	}

	impl_benchmark_test_suite!(
		ProvidersPallet,
		crate::mock::ExtBuilder::default().build(),
		crate::mock::Test
	);

	/// Native execution times of the benchmarks in the mock runtime, printed next to a balance
	/// transfer measured the same way: the source of the figures in `weights.rs`.
	#[cfg(test)]
	mod timings {
		use super::SelectedBenchmark;
		use crate::mock::{Balances, ExtBuilder, RuntimeOrigin, Test, ALICE, BOB};

		/// The harness both pallets share.
		mod bench_timing {
			include!("../../bench_timing.rs");
		}

		#[test]
		#[ignore = "prints timings; run with --ignored --nocapture"]
		fn bench_timings() {
			let ext = || ExtBuilder::default().build();
			let baseline = bench_timing::call_ns(&ext, || {
				Balances::transfer_allow_death(RuntimeOrigin::signed(ALICE), BOB, 10)
					.expect("a funded account transfers");
			});
			let cases: [bench_timing::Case<SelectedBenchmark>; 5] = [
				("register_provider", || SelectedBenchmark::register_provider),
				("update_provider", || SelectedBenchmark::update_provider),
				("add_stake", || SelectedBenchmark::add_stake),
				("begin_exit", || SelectedBenchmark::begin_exit),
				("withdraw", || SelectedBenchmark::withdraw),
			];
			bench_timing::print_timings::<Test, _>(ext, &cases, "balances transfer", baseline);
		}
	}
}
