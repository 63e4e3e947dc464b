//! A test runtime: balances, the real providers pallet and the market, with a deterministic
//! randomness source. Under the mock's [`DEV_KEY`] proofs are MACs of the public inputs (cheap, for
//! the many unit tests); under a real key file they are Groth16 proofs checked by
//! [`crate::HostGroth16Verifier`], as in the runtime.

use codec::Encode;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU128, ConstU32, Hooks, Randomness, VariantCountOf},
	BoundedVec,
};
use sp_core::H256;
use sp_runtime::{BuildStorage, Perbill};

use crate::{self as pallet_market, HostGroth16Verifier, ProofVerifier, PublicInputs};

type Block = frame_system::mocking::MockBlock<Test>;

pub type AccountId = u64;
pub type Balance = u128;

pub const BUYER: AccountId = 1;
pub const OTHER_BUYER: AccountId = 2;
/// Providers are accounts 10 ..= 19.
pub const FIRST_PROVIDER: AccountId = 10;
pub const PROVIDER_COUNT: u64 = 10;
/// The largest manifest a contract of the mock may carry.
pub const MAX_MANIFEST_BYTES: u32 = 64;

/// A funded account that never registers.
pub const STRANGER: AccountId = 50;
pub const POOR_BUYER: AccountId = 51;

pub const INITIAL_BALANCE: Balance = 1_000_000_000;
pub const PROVIDER_STAKE: Balance = 100_000;
/// Room for a hundred of the tests' 1 000-byte shards: each is backed by a hundredth of the
/// stake, so that faults slash whole units.
pub const PROVIDER_CAPACITY: u64 = 100_000;
pub const PROVIDER_PRICE: Balance = 1;
pub const PROVING_PERIOD: u64 = 10;
pub const CONFIRM_WINDOW: u64 = 5;
pub const MAX_FAULTS: u32 = 3;
pub const SWEEP_PER_BLOCK: u32 = 2;
/// As in the runtime: the proving circuit's challenge count.
pub const CHALLENGES: u32 = cairn_prover::DEFAULT_CHALLENGES as u32;
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
	/// Sending adds no block to the tests' small contracts unless a test lowers it.
	pub storage ConfirmBytesPerBlock: u64 = 1 << 20;
	pub const MaxProvingPeriod: u64 = 100;
	pub const FaultSlash: Perbill = Perbill::from_percent(10);
	/// No deposits unless a test sets them, so that balances elsewhere stay simple.
	pub storage ContractDeposit: Balance = 0;
	pub storage ShardDeposit: Balance = 0;
	pub storage ManifestByteDeposit: Balance = 0;
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
	/// Any key that is not empty, for the mock's challenge count.
	fn key_challenges(verifying_key: &[u8]) -> Option<u32> {
		(!verifying_key.is_empty()).then_some(CHALLENGES)
	}
	fn verify(verifying_key: &[u8], inputs: &PublicInputs, proof: &[u8]) -> bool {
		proof == Self::proof(verifying_key, inputs).as_slice()
	}
}

/// [`HostGroth16Verifier`] (as in the runtime; natively here) under a `cairn-prover` key file,
/// [`MacVerifier`] under any other key.
pub struct MockVerifier;
impl MockVerifier {
	fn is_mac_key(verifying_key: &[u8]) -> bool {
		!verifying_key.starts_with(&cairn_prover::keys::KEY_MAGIC)
	}
}
impl ProofVerifier for MockVerifier {
	fn key_challenges(verifying_key: &[u8]) -> Option<u32> {
		if Self::is_mac_key(verifying_key) {
			MacVerifier::key_challenges(verifying_key)
		} else {
			HostGroth16Verifier::key_challenges(verifying_key)
		}
	}
	fn verify(verifying_key: &[u8], inputs: &PublicInputs, proof: &[u8]) -> bool {
		if Self::is_mac_key(verifying_key) {
			MacVerifier::verify(verifying_key, inputs, proof)
		} else {
			HostGroth16Verifier::verify(verifying_key, inputs, proof)
		}
	}
	fn verify_batch(verifying_key: &[u8], batch: &[(PublicInputs, &[u8])]) -> Vec<bool> {
		if Self::is_mac_key(verifying_key) {
			MacVerifier::verify_batch(verifying_key, batch)
		} else {
			HostGroth16Verifier::verify_batch(verifying_key, batch)
		}
	}
}

impl pallet_market::Config for Test {
	type Currency = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type Providers = Providers;
	type Randomness = BlockRandomness;
	type ProofVerifier = MockVerifier;
	type ChallengeCount = ConstU32<CHALLENGES>;
	type MaxShards = ConstU32<8>;
	type MaxContractDuration = MaxContractDuration;
	type ConfirmWindow = ConfirmWindow;
	type ConfirmBytesPerBlock = ConfirmBytesPerBlock;
	type MaxProvingPeriod = MaxProvingPeriod;
	type FaultSlash = FaultSlash;
	type MaxConsecutiveFaults = ConstU32<MAX_FAULTS>;
	type SweepContractsPerBlock = ConstU32<SWEEP_PER_BLOCK>;
	type ContractDeposit = ContractDeposit;
	type ShardDeposit = ShardDeposit;
	type MaxManifestBytes = ConstU32<MAX_MANIFEST_BYTES>;
	type ManifestByteDeposit = ManifestByteDeposit;
	type PeriodHistory = ConstU32<8>;
	type MaxProofLen = ConstU32<256>;
	type MaxProofsPerBatch = ConstU32<8>;
	type MaxVerifyingKeyLen = ConstU32<1024>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = crate::host::BenchmarkProofs;
}

/// The `n`-th provider account.
pub fn provider(n: u64) -> AccountId {
	FIRST_PROVIDER + n
}

/// Builds the genesis state of a test.
pub struct ExtBuilder {
	providers: u64,
	proving_period: u64,
	verifying_key: &'static [u8],
}

impl Default for ExtBuilder {
	fn default() -> Self {
		Self { providers: 8, proving_period: PROVING_PERIOD, verifying_key: DEV_KEY }
	}
}

impl ExtBuilder {
	/// A genesis without a verifying key, as a production chain starts before its ceremony.
	pub fn without_key(mut self) -> Self {
		self.verifying_key = &[];
		self
	}

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
			verifying_key: self.verifying_key.to_vec(),
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

/// Run blocks up to `n`, each leaving `idle` weight unused for `on_idle`.
pub fn run_to_block_with_idle(n: u64, idle: frame_support::weights::Weight) {
	while System::block_number() < n {
		let next = System::block_number() + 1;
		System::set_block_number(next);
		Market::on_initialize(next);
		Market::on_idle(next, idle);
	}
}
