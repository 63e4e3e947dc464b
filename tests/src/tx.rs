//! Builds and signs Cairn extrinsics with the runtime's own types, as any Rust client would.

use cairn_runtime::{RuntimeCall, SignedPayload, TxExtension, UncheckedExtrinsic};
use codec::Encode;
use sp_core::{sr25519, Pair, H256};
use sp_runtime::{generic::Era, MultiAddress, MultiSignature};

/// What an immortal transaction commits to besides its call.
#[derive(Clone, Copy, Debug)]
pub struct ChainContext {
	/// The chain's genesis hash.
	pub genesis: H256,
	/// The runtime's `spec_version`.
	pub spec_version: u32,
	/// The runtime's `transaction_version`.
	pub transaction_version: u32,
}

/// Signs `call` by `signer` with `nonce`, immortal, no tip; returns the SCALE-encoded extrinsic.
pub fn signed_extrinsic(
	call: RuntimeCall,
	signer: &sr25519::Pair,
	nonce: u32,
	context: ChainContext,
) -> Vec<u8> {
	let tx_ext: TxExtension = (
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(0),
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
	);
	let payload = SignedPayload::from_raw(call.clone(), tx_ext.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	let account = sp_runtime::AccountId32::from(signer.public());
	UncheckedExtrinsic::new_signed(
		call,
		MultiAddress::Id(account),
		MultiSignature::Sr25519(signature),
		tx_ext,
	)
	.encode()
}
