//! A test runtime: balances, the real providers pallet and the market, with a deterministic
//! randomness source and a verifier that checks a MAC of the public inputs.

use codec::Encode;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, Hooks, Randomness, VariantCountOf},
	BoundedVec,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, Perbill};

use crate::{self as pallet_market, ProofVerifier, PublicInputs};

type Block = frame_system::mocking::MockBlock<Test>;

pub type AccountId = u64;
pub type Balance = u128;

pub const BUYER: AccountId = 1;
pub const OTHER_BUYER: AccountId = 2;
/// Providers are accounts 10 ..= 19.
pub const FIRST_PROVIDER: AccountId = 10;
pub const PROVIDER_COUNT: u64 = 10;
/// A funded account that never registers.
pub const STRANGER: AccountId = 50;
pub const POOR_BUYER: AccountId = 51;

pub const INITIAL_BALANCE: Balance = 1_000_000_000;
pub const PROVIDER_STAKE: Balance = 100_000;
pub const PROVIDER_CAPACITY: u64 = 1 << 30;
pub const PROVIDER_PRICE: Balance = 1;
pub const PROVING_PERIOD: u64 = 10;
pub const CONFIRM_WINDOW: u64 = 5;
pub const MAX_FAULTS: u32 = 3;
pub const SWEEP_PER_BLOCK: u32 = 2;
pub const CHALLENGES: u32 = 4;
pub const MAX_DURATION: u64 = 1_000;
pub const DEV_KEY: &[u8] = b"mock verifying key";

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Providers: pallet_providers,
		Market: pallet_market,
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
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
}

parameter_types! {
	pub const MinStakePerTib: Balance = 1_000;
	pub const UnbondingPeriod: u64 = 20;
	pub const MaxCapacity: u64 = 1 << 50;
	pub const MaxContractDuration: u64 = MAX_DURATION;
	pub const ConfirmWindow: u64 = CONFIRM_WINDOW;
	pub const FaultSlash: Perbill = Perbill::from_percent(10);
}

impl pallet_providers::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type MinStakePerTib = MinStakePerTib;
	type UnbondingPeriod = UnbondingPeriod;
	type MaxCapacity = MaxCapacity;
	type MaxPeerIdLen = ConstU32<64>;
	type MaxMultiaddrLen = ConstU32<128>;
	type MaxMultiaddrs = ConstU32<4>;
	type WeightInfo = ();
}

/// Randomness that depends only on the subject and the block number.
pub struct BlockRandomness;
impl Randomness<H256, u64> for BlockRandomness {
	fn random(subject: &[u8]) -> (H256, u64) {
		let block = System::block_number();
		(H256(sp_crypto_hashing::blake2_256(&(subject, block).encode())), block)
	}
}

/// Accepts exactly [`MacVerifier::proof`] of the public inputs under the key, so a proof made
/// for another root, other indices or another binding fails.
pub struct MacVerifier;
impl MacVerifier {
	/// The only proof the verifier accepts for these inputs under this key.
	pub fn proof(verifying_key: &[u8], inputs: &PublicInputs) -> Vec<u8> {
		let preimage = (b"mock proof", verifying_key, inputs.root, &inputs.indices, inputs.binding);
		sp_crypto_hashing::blake2_256(&preimage.encode()).to_vec()
	}
}
impl ProofVerifier for MacVerifier {
	fn verify(verifying_key: &[u8], inputs: &PublicInputs, proof: &[u8]) -> bool {
		proof == Self::proof(verifying_key, inputs).as_slice()
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for MacVerifier {
	fn verifying_key() -> Vec<u8> {
		DEV_KEY.to_vec()
	}
	fn valid_proof(verifying_key: &[u8], inputs: &PublicInputs) -> Vec<u8> {
		Self::proof(verifying_key, inputs)
	}
}

impl pallet_market::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Providers = Providers;
	type Randomness = BlockRandomness;
	type ProofVerifier = MacVerifier;
	type ChallengeCount = ConstU32<CHALLENGES>;
	type MaxShards = ConstU32<8>;
	type MaxContractDuration = MaxContractDuration;
	type ConfirmWindow = ConfirmWindow;
	type FaultSlash = FaultSlash;
	type MaxConsecutiveFaults = ConstU32<MAX_FAULTS>;
	type SweepContractsPerBlock = ConstU32<SWEEP_PER_BLOCK>;
	type PeriodHistory = ConstU32<8>;
	type MaxProofLen = ConstU32<256>;
	type MaxProofsPerBatch = ConstU32<8>;
	type MaxVerifyingKeyLen = ConstU32<1024>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MacVerifier;
}

/// The `n`-th provider account.
pub fn provider(n: u64) -> AccountId {
	FIRST_PROVIDER + n
}

/// Builds the genesis state of a test.
pub struct ExtBuilder {
	providers: u64,
	proving_period: u64,
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { providers: 8, proving_period: PROVING_PERIOD }
	}
}

impl ExtBuilder {
	/// The externalities at block 1, with period 0 open.
	pub fn build(self) -> sp_io::TestExternalities {
		let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
		let mut balances = vec![
			(BUYER, INITIAL_BALANCE),
			(OTHER_BUYER, INITIAL_BALANCE),
			(STRANGER, INITIAL_BALANCE),
			(POOR_BUYER, 100),
		];
		balances.extend((0..PROVIDER_COUNT).map(|n| (provider(n), INITIAL_BALANCE)));
		pallet_balances::GenesisConfig::<Test> { balances, ..Default::default() }
			.assimilate_storage(&mut storage)
			.unwrap();
		pallet_market::GenesisConfig::<Test> {
			proving_period: self.proving_period,
			verifying_key: DEV_KEY.to_vec(),
		}
		.assimilate_storage(&mut storage)
		.unwrap();
		let mut ext = sp_io::TestExternalities::new(storage);
		let providers = self.providers;
		ext.execute_with(|| {
			run_to_block(1);
			for n in 0..providers {
				Providers::register_provider(
					RuntimeOrigin::signed(provider(n)),
					PROVIDER_STAKE,
					PROVIDER_CAPACITY,
					PROVIDER_PRICE,
					BoundedVec::truncate_from(b"peer".to_vec()),
					BoundedVec::new(),
				)
				.unwrap();
			}
		});
		ext
	}

	/// Run `test`, then check the market's invariants.
	pub fn build_and_execute(self, test: impl FnOnce()) {
		self.build().execute_with(|| {
			test();
			crate::tests::assert_invariants();
		});
	}
}

/// Advance to block `n`, running the market's `on_initialize` for every block on the way.
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Market::on_initialize(next);
	}
}
