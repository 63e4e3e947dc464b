//! A test runtime with balances and the providers pallet.

use frame_support::{derive_impl, parameter_types, traits::VariantCountOf};
use sp_runtime::BuildStorage;

use crate as pallet_providers;

type Block = frame_system::mocking::MockBlock<Test>;

/// Account ids of the test runtime.
pub type AccountId = u64;
/// Balances of the test runtime.
pub type Balance = u128;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// An account that has no funds at all.
pub const PAUPER: AccountId = 99;

/// What every funded account starts with.
pub const INITIAL_BALANCE: Balance = 1_000_000;
/// Stake per TiB of capacity.
pub const STAKE_PER_TIB: Balance = 1_000;
/// Blocks between `begin_exit` and `withdraw`.
pub const UNBONDING: u64 = 20;
/// Largest capacity a provider may offer: 16 TiB.
pub const MAX_CAPACITY: u64 = 16 * crate::TIB;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Providers: pallet_providers,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = frame_support::traits::ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
}

parameter_types! {
	pub const MinStakePerTib: Balance = STAKE_PER_TIB;
	pub const UnbondingPeriod: u64 = UNBONDING;
	pub const MaxCapacity: u64 = MAX_CAPACITY;
}

impl pallet_providers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinStakePerTib = MinStakePerTib;
	type UnbondingPeriod = UnbondingPeriod;
	type MaxCapacity = MaxCapacity;
	type MaxPeerIdLen = frame_support::traits::ConstU32<64>;
	type MaxMultiaddrLen = frame_support::traits::ConstU32<128>;
	type MaxMultiaddrs = frame_support::traits::ConstU32<4>;
	type WeightInfo = ();
}

/// Builds the genesis state of a test.
pub struct ExtBuilder {
	balances: Vec<(AccountId, Balance)>,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self {
			balances: vec![
				(ALICE, INITIAL_BALANCE),
				(BOB, INITIAL_BALANCE),
				(CHARLIE, INITIAL_BALANCE),
			],
		}
	}
}

impl ExtBuilder {
	/// The externalities with the configured genesis.
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		pallet_balances::GenesisConfig::<Test> { balances: self.balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		ext.execute_with(|| System::set_block_number(1));
		ext
	}

	/// Run `test`, then check the registry's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			crate::tests::assert_invariants();
		});
	}
}
