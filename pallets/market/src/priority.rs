//! Proofs first: a transaction extension that checks, from storage alone, that a proof
//! transaction carries only due proofs (or that a confirmation is due), and then ranks it above
//! anything a tip can buy, so that a pool full of well-paying transactions cannot keep proofs out
//! of blocks, nor hold an upload back until its shards' confirmation deadlines pass.
//!
//! Block space is the other half: `submit_proof`, `submit_proofs` and `confirm_shard` are
//! `Operational`, so they may use the part of a block that normal transactions (remarks,
//! transfers) can never fill.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::marker::PhantomData;
use frame_support::{
	traits::{Get, IsSubType, OriginTrait},
	DefaultNoBound,
};
use scale_info::TypeInfo;
use sp_runtime::{
	impl_tx_ext_default,
	traits::{DispatchInfoOf, TransactionExtension, ValidateResult},
	transaction_validity::{
		InvalidTransaction, TransactionPriority, TransactionSource, TransactionValidityError,
		ValidTransaction,
	},
	Weight,
};

use crate::{
	pallet::{Call, Config, Error, Pallet},
	ContractId, PeriodIndex, ShardIndex,
};

/// The priority of a transaction whose proofs are all due (added to the priority
/// `ChargeTransactionPayment` gives it).
///
/// `ChargeTransactionPayment` ranks a normal transaction at `(tip + 1) × n`, where `n` is how many
/// transactions of its length and weight fit in an empty block. To outrank a proof a transaction
/// must tip `PROOF_PRIORITY / n`, so the transactions that would fill a block ahead of the proofs
/// tip about `PROOF_PRIORITY` units in total, whatever their size: 2^63 units, 9.2 million tokens of
/// 12 decimals, per block. Half of `TransactionPriority::MAX` leaves room for the fee priority added
/// on top without saturating.
///
/// Only a shard's provider can obtain it, once per shard and period, and once per pending shard
/// for its confirmation (see [`PrioritizeProofs`]), so the prioritized transactions of a period
/// are bounded by the shards.
pub const PROOF_PRIORITY: TransactionPriority = TransactionPriority::MAX / 2;

/// Storage reads `Pallet::check_proof_due` makes per proof: the contract, the current period and
/// the period's record (one more kept in hand).
const READS_PER_PROOF: u64 = 4;

/// Storage reads of `Pallet::check_confirmable`: the contract and the block number.
const READS_PER_CONFIRMATION: u64 = 2;

/// Prefix of the tag a proof transaction provides for each of its proofs.
const PROOF_TAG: &[u8; 11] = b"cairn/proof";

/// Prefix of the tag a confirmation provides.
const CONFIRMATION_TAG: &[u8; 13] = b"cairn/confirm";

/// Why [`PrioritizeProofs`] refused a proof transaction: the `n` of its
/// `InvalidTransaction::Custom(n)`. The first proof that fails decides.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum InvalidProofCode {
	/// A proof names a contract that does not exist (or no longer does).
	UnknownContract = 1,
	/// A proof names a shard index the contract does not have.
	UnknownShard = 2,
	/// The signer is not the shard's provider.
	NotShardProvider = 3,
	/// The shard is not active (unconfirmed or lost): it owes no proof.
	ShardNotActive = 4,
	/// No proving period is open, or the proof's period is no longer recorded.
	NoProvingPeriod = 5,
	/// The proof's period is over.
	PeriodOver = 6,
	/// The proof's period has not opened yet.
	PeriodNotOpen = 7,
	/// Every proof of the transaction is already proven for its period.
	AlreadyProven = 8,
	/// The shard was confirmed during the period; its first due period is the next one.
	ShardNotDueYet = 9,
	/// The period opened at or after the contract's end: nothing is due.
	PeriodAfterContractEnd = 10,
	/// No verifying key is set, so no proof can be accepted.
	NoVerifyingKey = 11,
	/// `submit_proofs` with no proof in it.
	EmptyBatch = 12,
	/// The same contract, shard and period twice in one batch.
	DuplicateProof = 13,
	/// A confirmation of a shard that is not pending (already confirmed, lost or vacant).
	ShardNotPending = 14,
	/// A confirmation after the shard's deadline.
	ConfirmationDeadlinePassed = 15,
	/// A confirmation for a contract past its end.
	ContractExpired = 16,
	/// Any other market error (not returned by today's checks).
	Other = 255,
}

impl InvalidProofCode {
	/// The code for an error of `Pallet::check_proof_due`.
	fn of<T: Config>(error: &Error<T>) -> Self {
		match error {
			Error::ContractNotFound => Self::UnknownContract,
			Error::ShardNotFound => Self::UnknownShard,
			Error::NotShardProvider => Self::NotShardProvider,
			Error::ShardNotActive => Self::ShardNotActive,
			Error::NoProvingPeriod => Self::NoProvingPeriod,
			Error::ProofTooLate => Self::PeriodOver,
			Error::PeriodNotOpen => Self::PeriodNotOpen,
			Error::AlreadyProven => Self::AlreadyProven,
			Error::ShardNotDueYet => Self::ShardNotDueYet,
			Error::PeriodAfterContractEnd => Self::PeriodAfterContractEnd,
			Error::NoVerifyingKey => Self::NoVerifyingKey,
			Error::ShardNotPending => Self::ShardNotPending,
			Error::ConfirmationDeadlinePassed => Self::ConfirmationDeadlinePassed,
			Error::ContractExpired => Self::ContractExpired,
			_ => Self::Other,
		}
	}
}

impl From<InvalidProofCode> for TransactionValidityError {
	fn from(code: InvalidProofCode) -> Self {
		InvalidTransaction::Custom(code as u8).into()
	}
}

/// Validates `submit_proof` and `submit_proofs` from the pool's point of view, without verifying
/// any proof: each proof must be for an existing contract's shard whose provider is the signer,
/// the shard active and the period the current one or one still in its grace
/// (`Pallet::check_proof_due`, the checks dispatch makes before verification), and at least one
/// of them not yet proven (proofs that already landed are tolerated, as dispatch skips them). A
/// transaction that passes gets [`PROOF_PRIORITY`] and provides one tag per proof,
/// `(b"cairn/proof", contract, shard, period)`, so that two transactions with the same proof do
/// not both wait in the pool; one that fails is invalid ([`InvalidProofCode`]) and never enters the
/// pool, so invalid batches cannot take the operational space.
///
/// `confirm_shard` is validated the same way (`Pallet::check_confirmable`: the signer's pending
/// shard, within its deadline) and gets the same priority and the tag
/// `(b"cairn/confirm", contract, shard)`. Every other call passes untouched.
#[derive(Encode, Decode, DecodeWithMemTracking, DefaultNoBound, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct PrioritizeProofs<T>(PhantomData<T>);

impl<T: Config + Send + Sync> core::fmt::Debug for PrioritizeProofs<T> {
	#[cfg(feature = "std")]
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(f, "PrioritizeProofs")
	}

	#[cfg(not(feature = "std"))]
	fn fmt(&self, _: &mut core::fmt::Formatter) -> core::fmt::Result {
		Ok(())
	}
}

impl<T: Config + Send + Sync> PrioritizeProofs<T> {
	/// The extension (it carries no data).
	pub fn new() -> Self {
		Self(PhantomData)
	}
}

/// The proofs a call claims to carry, as (contract, shard, period); `None` for any call that is
/// not a proof submission.
fn claimed_proofs<T: Config>(
	call: &<T as frame_system::Config>::RuntimeCall,
) -> Option<Vec<(ContractId, ShardIndex, PeriodIndex)>>
where
	<T as frame_system::Config>::RuntimeCall: IsSubType<Call<T>>,
{
	match call.is_sub_type()? {
		Call::submit_proof { contract, shard, period, .. } => {
			Some(alloc::vec![(*contract, *shard, *period)])
		}
		Call::submit_proofs { proofs } => {
			Some(proofs.iter().map(|proof| (proof.contract, proof.shard, proof.period)).collect())
		}
		_ => None,
	}
}

/// The validity of `provider`'s confirmation of `shard` of `contract`.
fn validate_confirmation<T: Config>(
	provider: &T::AccountId,
	contract: ContractId,
	shard: ShardIndex,
) -> Result<ValidTransaction, TransactionValidityError> {
	let record = crate::Contracts::<T>::get(contract).ok_or(InvalidProofCode::UnknownContract)?;
	Pallet::<T>::check_confirmable(provider, &record, shard)
		.map_err(|error| InvalidProofCode::of(&error))?;
	let provides = alloc::vec![(CONFIRMATION_TAG, contract, shard).encode()];
	Ok(ValidTransaction { priority: PROOF_PRIORITY, provides, ..Default::default() })
}

/// The validity of `provider`'s transaction carrying `proofs`.
fn validate_proofs<T: Config>(
	provider: &T::AccountId,
	proofs: Vec<(ContractId, ShardIndex, PeriodIndex)>,
) -> Result<ValidTransaction, TransactionValidityError> {
	if proofs.is_empty() {
		return Err(InvalidProofCode::EmptyBatch.into());
	}
	let mut provides: Vec<Vec<u8>> = Vec::with_capacity(proofs.len());
	let mut seen: Vec<(ContractId, ShardIndex, PeriodIndex)> = Vec::with_capacity(proofs.len());
	for (contract, shard, period) in proofs {
		if seen.contains(&(contract, shard, period)) {
			return Err(InvalidProofCode::DuplicateProof.into());
		}
		seen.push((contract, shard, period));
		match Pallet::<T>::check_proof_due(provider, contract, shard, period) {
			Ok(_) => provides.push((PROOF_TAG, contract, shard, period).encode()),
			// A proof that landed in an earlier transaction (a batch sent again): harmless, and
			// dispatch skips it, so it does not cost the batch's other proofs their place.
			Err(Error::AlreadyProven) => {}
			Err(error) => return Err(InvalidProofCode::of(&error).into()),
		}
	}
	if provides.is_empty() {
		return Err(InvalidProofCode::AlreadyProven.into());
	}
	Ok(ValidTransaction { priority: PROOF_PRIORITY, provides, ..Default::default() })
}

impl<T: Config + Send + Sync> TransactionExtension<<T as frame_system::Config>::RuntimeCall>
	for PrioritizeProofs<T>
where
	<T as frame_system::Config>::RuntimeCall: IsSubType<Call<T>>,
{
	const IDENTIFIER: &'static str = "PrioritizeProofs";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	/// Four database reads per proof, two for a confirmation; nothing for other calls.
	fn weight(&self, call: &<T as frame_system::Config>::RuntimeCall) -> Weight {
		let reads = match call.is_sub_type() {
			Some(Call::submit_proof { .. }) => READS_PER_PROOF,
			Some(Call::submit_proofs { proofs }) => {
				READS_PER_PROOF.saturating_mul(proofs.len() as u64)
			}
			Some(Call::confirm_shard { .. }) => READS_PER_CONFIRMATION,
			_ => 0,
		};
		T::DbWeight::get().reads(reads)
	}

	fn validate(
		&self,
		origin: <T as frame_system::Config>::RuntimeOrigin,
		call: &<T as frame_system::Config>::RuntimeCall,
		_info: &DispatchInfoOf<<T as frame_system::Config>::RuntimeCall>,
		_len: usize,
		_self_implicit: Self::Implicit,
		_inherited_implication: &impl Encode,
		_source: TransactionSource,
	) -> ValidateResult<Self::Val, <T as frame_system::Config>::RuntimeCall> {
		// Unsigned proof submissions and confirmations fail at dispatch; they get no priority.
		let Some(provider) = origin.as_signer() else {
			return Ok((ValidTransaction::default(), (), origin));
		};
		let validity = match (call.is_sub_type(), claimed_proofs::<T>(call)) {
			(Some(Call::confirm_shard { contract, shard }), _) => {
				validate_confirmation::<T>(provider, *contract, *shard)?
			}
			(_, Some(proofs)) => validate_proofs::<T>(provider, proofs)?,
			_ => ValidTransaction::default(),
		};
		Ok((validity, (), origin))
	}

	impl_tx_ext_default!(<T as frame_system::Config>::RuntimeCall; prepare);
}
