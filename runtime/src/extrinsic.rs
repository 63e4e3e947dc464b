//! Signed extrinsics built with the runtime's own types (std only): what the node's provider and
//! client services and the integration tests submit.

use crate::{Hash, RuntimeCall, SignedPayload, TxExtension, UncheckedExtrinsic};
use codec::Encode;
use sp_core::sr25519;
use sp_runtime::{generic::Era, AccountId32, MultiAddress, MultiSignature};

/// What an immortal transaction commits to besides its call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainContext {
	/// The chain's genesis hash.
	pub genesis: Hash,
	/// The runtime's `spec_version`.
	pub spec_version: u32,
	/// The runtime's `transaction_version`.
	pub transaction_version: u32,
}

/// Builds `call` from `signer` with `nonce`, immortal and without tip; `sign` signs the payload
/// (a keystore, or a key pair in tests). Returns the extrinsic, or `sign`'s error.
pub fn signed_extrinsic<E>(
	call: RuntimeCall,
	signer: sr25519::Public,
	nonce: u32,
	context: ChainContext,
	sign: impl FnOnce(&[u8]) -> Result<sr25519::Signature, E>,
) -> Result<UncheckedExtrinsic, E> {
	tipped_extrinsic(call, signer, nonce, 0, context, sign)
}

/// [`signed_extrinsic`] with `tip` for the block author.
pub fn tipped_extrinsic<E>(
	call: RuntimeCall,
	signer: sr25519::Public,
	nonce: u32,
	tip: crate::Balance,
	context: ChainContext,
	sign: impl FnOnce(&[u8]) -> Result<sr25519::Signature, E>,
) -> Result<UncheckedExtrinsic, E> {
	let tx_ext: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_market::PrioritizeProofs::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(tip),
		frame_system::WeightReclaim::new(),
	);
	// The values the extensions add to the signed payload without sending them.
	let implicit = (
		(),
		context.spec_version,
		context.transaction_version,
		context.genesis,
		context.genesis,
		(),
		(),
		(),
		(),
		(),
	);
	let payload = SignedPayload::from_raw(call.clone(), tx_ext.clone(), implicit);
	// Payloads longer than 256 bytes are signed by their BLAKE2 hash.
	let signature = payload.using_encoded(sign)?;
	Ok(UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(AccountId32::from(signer)),
		MultiSignature::Sr25519(signature),
		tx_ext,
	))
}

/// The SCALE encoding of [`tipped_extrinsic`] signed by a key pair.
pub fn signed_by_pair(
	call: RuntimeCall,
	pair: &sr25519::Pair,
	nonce: u32,
	tip: crate::Balance,
	context: ChainContext,
) -> Vec<u8> {
	use sp_core::Pair;
	let signed = tipped_extrinsic(call, pair.public(), nonce, tip, context, |payload| {
		Ok::<_, core::convert::Infallible>(pair.sign(payload))
	});
	match signed {
		Ok(extrinsic) => extrinsic.encode(),
		Err(never) => match never {},
	}
}
