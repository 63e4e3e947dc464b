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

/// Real Groth16 proving with the deterministic development keys, shared by the tests and
/// benchmarks that use real proofs.
pub mod groth16 {
	use std::{
		collections::HashMap,
		sync::{Mutex, OnceLock},
	};

	use cairn_primitives::{field::fr_to_le_bytes, tree::MemoryTree};
	use cairn_prover::{
		keys::DEV_VERIFYING_KEY,
		prover::{dev_setup, Prover},
		statement::Statement,
		DEFAULT_CHALLENGES,
	};
	use rand_chacha::{rand_core::SeedableRng, ChaCha20Rng};

	use crate::PublicInputs;

	/// The development prover (its setup takes a few seconds, once per test binary).
	pub fn prover() -> &'static Prover {
		static PROVER: OnceLock<Prover> = OnceLock::new();
		PROVER.get_or_init(|| {
			let keys = dev_setup(DEFAULT_CHALLENGES).expect("development setup");
			Prover::new(keys).expect("prover of the development keys")
		})
	}

	/// The development verifying key file, as the runtime's genesis installs it.
	pub fn verifying_key() -> Vec<u8> {
		DEV_VERIFYING_KEY.to_vec()
	}

	fn trees() -> &'static Mutex<HashMap<[u8; 32], MemoryTree>> {
		static TREES: OnceLock<Mutex<HashMap<[u8; 32], MemoryTree>>> = OnceLock::new();
		TREES.get_or_init(Default::default)
	}

	/// Deterministic shard contents for `seed`.
	pub fn shard_data(seed: u32, bytes: u64) -> Vec<u8> {
		let mut rng = ChaCha20Rng::seed_from_u64(seed.into());
		let mut data = vec![0u8; bytes as usize];
		rand_chacha::rand_core::RngCore::fill_bytes(&mut rng, &mut data);
		data
	}

	/// Commit to `data`; remembers the tree so that [`prove`] can open it later.
	pub fn commit(data: &[u8]) -> [u8; 32] {
		let tree = MemoryTree::from_shard(data).expect("a shard within the tree's size");
		let root = fr_to_le_bytes(&tree.root());
		trees().lock().expect("tree cache").insert(root, tree);
		root
	}

	/// A Groth16 proof of `inputs` for a shard committed with [`commit`]. Proofs are kept, so a
	/// benchmark repeated over the same state proves once.
	pub fn prove(inputs: &PublicInputs) -> Vec<u8> {
		static PROOFS: OnceLock<Mutex<HashMap<Vec<u8>, Vec<u8>>>> = OnceLock::new();
		let cache_key = codec::Encode::encode(&(inputs.root, inputs.binding, &inputs.indices));
		let proofs = PROOFS.get_or_init(Default::default);
		if let Some(proof) = proofs.lock().expect("proof cache").get(&cache_key) {
			return proof.clone();
		}
		let trees = trees().lock().expect("tree cache");
		let tree = trees.get(&inputs.root).expect("the shard was committed with `commit`");
		let statement = Statement::new(&inputs.root, &inputs.binding, inputs.indices.clone())
			.expect("the pallet's public inputs form a statement");
		let mut rng = ChaCha20Rng::from_seed(inputs.binding);
		let proof =
			prover().prove(tree, &statement, &mut rng).expect("proving").to_bytes().to_vec();
		proofs.lock().expect("proof cache").insert(cache_key, proof.clone());
		proof
	}
}

/// Benchmarks verify real Groth16 proofs, so that the weights include verification.
#[cfg(feature = "runtime-benchmarks")]
pub struct Groth16Benchmarks;

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper for Groth16Benchmarks {
	fn verifying_key() -> Vec<u8> {
		groth16::verifying_key()
	}
	fn shard_root(index: u32, bytes: u64) -> [u8; 32] {
		use std::{collections::HashMap, sync::Mutex};
		type Roots = HashMap<(u32, u64), [u8; 32]>;
		static ROOTS: Mutex<Option<Roots>> = Mutex::new(None);
		let mut roots = ROOTS.lock().expect("root cache");
		*roots
			.get_or_insert_with(HashMap::new)
			.entry((index, bytes))
			.or_insert_with(|| groth16::commit(&groth16::shard_data(index, bytes)))
	}
	fn valid_proof(_verifying_key: &[u8], inputs: &PublicInputs) -> Vec<u8> {
		groth16::prove(inputs)
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
	type BenchmarkHelper = Groth16Benchmarks;
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
