//! The node's own Cairn account: an sr25519 key of type [`KEY_TYPE`] in the node's keystore,
//! which signs what the provider and client services submit (registration, confirmations,
//! proofs, contracts, repairs). Transactions go straight into the node's transaction pool.

use std::{collections::BTreeSet, sync::Arc};

use cairn_runtime::{
	extrinsic::{signed_extrinsic, ChainContext},
	opaque::Block,
	AccountId, BlockNumber, Hash, Nonce, RuntimeCall, RuntimeError, RuntimeEvent,
};
use codec::{Decode, DecodeAll, Encode};
use futures::StreamExt;
use sc_client_api::{BlockBackend, BlockchainEvents, HeaderBackend};
use sc_transaction_pool_api::{
	error::{Error as PoolError, IntoPoolError},
	InPoolTransaction, TransactionPool, TransactionSource, TransactionStatus,
};
use sp_api::ProvideRuntimeApi;
use sp_core::{crypto::KeyTypeId, sr25519};
use sp_keystore::KeystorePtr;
use sp_runtime::transaction_validity::InvalidTransaction;
use substrate_frame_rpc_system::AccountNonceApi;
use tokio::sync::Mutex;

use crate::{market_state::MarketState, FullBackend, FullClient, FullPool};

/// Key type of a node's Cairn account in its keystore.
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"cair");

/// How long an upload grant holds: an hour of 2-second blocks, longer than any shard takes to
/// send. Providers accept grants that expire at most [`cairn_net::protocol::MAX_GRANT_BLOCKS`]
/// ahead.
pub const GRANT_BLOCKS: u32 = 1_800;

/// Why the node's account could not do what it was asked, and whether asking again later can
/// help ([`SignerError::is_transient`]).
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
	/// The Cairn key is missing from the keystore or cannot sign.
	#[error("the Cairn key: {0}")]
	Key(String),
	/// The chain could not be read (a block, the state, a runtime call).
	#[error("reading the chain: {0}")]
	Chain(String),
	/// The node is still catching up with the chain.
	#[error("the node is still catching up with the chain (at block #{0}); try again once it has")]
	Syncing(BlockNumber),
	/// The transaction pool refused the transaction; `unpaid` when the account could not pay
	/// its fee.
	#[error("the transaction pool refused the transaction: {reason}")]
	Refused { reason: String, unpaid: bool },
	/// Sent, but not (yet) in a block: dropped, replaced, or not followed to the end.
	#[error("{0}")]
	NotIncluded(String),
	/// In a block, and failed there (the pallet error's name), or did not do what it was sent
	/// for.
	#[error("{0}")]
	Failed(String),
	/// The signed transaction could not be kept before it was sent, so it was not sent.
	#[error("the signed transaction could not be kept, so it was not sent: {0}")]
	NotKept(#[source] std::io::Error),
}

impl SignerError {
	/// Whether the same request may succeed when made again later: the chain was unreadable
	/// or busy, or the transaction did not get into a block; not when the key is unusable or
	/// the call failed on chain.
	pub fn is_transient(&self) -> bool {
		match self {
			Self::Chain(_) | Self::Syncing(_) | Self::NotIncluded(_) => true,
			Self::Refused { unpaid, .. } => *unpaid,
			Self::Key(_) | Self::Failed(_) | Self::NotKept(_) => false,
		}
	}
}

/// For the services that still report errors as text.
impl From<SignerError> for String {
	fn from(error: SignerError) -> Self {
		error.to_string()
	}
}

/// The key left the keystore after the signer was made.
fn key_gone() -> SignerError {
	SignerError::Key("the Cairn key left the keystore".into())
}

/// The market as the services read it.
pub type State = MarketState<FullClient, FullBackend>;

/// What a transaction did once in a block.
#[derive(Debug)]
pub struct Included {
	/// The block.
	pub block: Hash,
	/// Its events, in order.
	pub events: Vec<RuntimeEvent>,
}

impl Included {
	/// The first of its market events that `pick` takes, or `Err` naming the `expected` one.
	pub fn market_event<R>(
		&self,
		expected: &str,
		mut pick: impl FnMut(&pallet_market::Event<cairn_runtime::Runtime>) -> Option<R>,
	) -> Result<R, SignerError> {
		self.events
			.iter()
			.find_map(|event| match event {
				RuntimeEvent::Market(event) => pick(event),
				_ => None,
			})
			.ok_or_else(|| {
				SignerError::Failed(format!(
					"the transaction was included without its {expected} event"
				))
			})
	}
}

/// Signs and submits the node account's transactions.
pub struct Signer {
	client: Arc<FullClient>,
	pool: Arc<FullPool>,
	keystore: KeystorePtr,
	public: sr25519::Public,
	/// The nonce after the last transaction sent, and the best block it was sent at; held while
	/// a transaction is signed and handed to the pool.
	sent: Mutex<Option<(Nonce, BlockNumber)>>,
	/// Whether the node is still catching up with the chain.
	sync: Arc<dyn sp_consensus::SyncOracle + Send + Sync>,
}

/// Puts `suri` (a development seed such as `//Alice`) into the keystore as the Cairn account.
pub fn insert_dev_key(keystore: &KeystorePtr, suri: &str) -> Result<sr25519::Public, SignerError> {
	keystore
		.sr25519_generate_new(KEY_TYPE, Some(suri))
		.map_err(|error| SignerError::Key(format!("cannot insert {suri:?}: {error}")))
}

impl Signer {
	/// The keystore's Cairn account, if it holds one.
	pub fn from_keystore(
		client: Arc<FullClient>,
		pool: Arc<FullPool>,
		keystore: KeystorePtr,
		sync: Arc<dyn sp_consensus::SyncOracle + Send + Sync>,
	) -> Option<Arc<Self>> {
		let public = *keystore.sr25519_public_keys(KEY_TYPE).first()?;
		let sent = Mutex::new(None);
		Some(Arc::new(Self { client, pool, keystore, public, sent, sync }))
	}

	/// An error while the node is still catching up with the chain: its pool validates against
	/// the blocks it has heard of, and blocks imported while catching up are not announced to
	/// it, so what the user sends now would be judged by an old state (an account funded since
	/// would be refused as unable to pay). (A provider's proofs go out regardless: the node
	/// may fall a few blocks behind under load, and a proof is valid against any recent state.)
	pub fn caught_up(&self) -> Result<(), SignerError> {
		match self.sync.is_major_syncing() {
			true => Err(SignerError::Syncing(self.client.info().best_number)),
			false => Ok(()),
		}
	}

	/// The account.
	pub fn account(&self) -> AccountId {
		AccountId::from(self.public)
	}

	/// The account's public key bytes.
	pub fn public_bytes(&self) -> [u8; 32] {
		self.public.0
	}

	/// The chain's genesis hash.
	pub fn genesis_hash(&self) -> Result<Hash, SignerError> {
		self.client
			.block_hash(0)
			.map_err(|e| SignerError::Chain(e.to_string()))?
			.ok_or_else(|| SignerError::Chain("no genesis block".into()))
	}

	/// Signs `message` with the account's key.
	pub fn sign(&self, message: &[u8]) -> Result<[u8; 64], SignerError> {
		let signature = self
			.keystore
			.sr25519_sign(KEY_TYPE, &self.public, message)
			.map_err(|e| SignerError::Key(e.to_string()))?
			.ok_or_else(key_gone)?;
		Ok(signature.0)
	}

	/// The account's file secret, from which its files' keys derive: the VRF output of the
	/// account's key on a fixed input. Only that key makes it, and the key (so the account's
	/// written-down mnemonic) makes it again on any machine; it is never stored.
	pub fn file_secret(&self) -> Result<cairn_storage::encoding::FileSecret, SignerError> {
		let input = sr25519::vrf::VrfInput::new(b"cairn", &[(b"purpose", b"file secret v1")]);
		let pre_output = self
			.keystore
			.sr25519_vrf_pre_output(KEY_TYPE, &self.public, &input)
			.map_err(|e| SignerError::Key(e.to_string()))?
			.ok_or_else(key_gone)?;
		let bytes: [u8; 32] = pre_output
			.make_bytes(b"cairn file secret", &input, &self.public)
			.map_err(|e| SignerError::Key(e.to_string()))?;
		Ok(cairn_storage::encoding::FileSecret::from_bytes(bytes))
	}

	/// The owner's permission for `uploader` to send shard `shard` of `contract`, for
	/// [`GRANT_BLOCKS`] from the best block.
	pub fn grant(
		&self,
		contract: u64,
		shard: u32,
		uploader: libp2p::PeerId,
	) -> Result<cairn_net::Grant, SignerError> {
		let expires = self.client.info().best_number.saturating_add(GRANT_BLOCKS);
		let genesis = self.genesis_hash()?;
		let payload = cairn_net::Grant::payload(
			genesis.as_fixed_bytes(),
			contract,
			shard,
			&uploader,
			expires,
		);
		Ok(cairn_net::Grant { expires, signature: self.sign(&payload)? })
	}

	fn context(&self, at: Hash) -> Result<ChainContext, SignerError> {
		let genesis = self.genesis_hash()?;
		let version = sp_api::Core::<Block>::version(&*self.client.runtime_api(), at)
			.map_err(|e| SignerError::Chain(e.to_string()))?;
		Ok(ChainContext {
			genesis,
			spec_version: version.spec_version,
			transaction_version: version.transaction_version,
		})
	}

	async fn build(
		&self,
		call: RuntimeCall,
		nonce: Nonce,
		at: Hash,
	) -> Result<Vec<u8>, SignerError> {
		let context = self.context(at)?;
		let keystore = self.keystore.clone();
		let public = self.public;
		let extrinsic = signed_extrinsic(call, public, nonce, context, |payload| {
			keystore
				.sr25519_sign(KEY_TYPE, &public, payload)
				.map_err(|e| SignerError::Key(e.to_string()))?
				.ok_or_else(key_gone)
		})?;
		Ok(extrinsic.encode())
	}

	/// Signs and submits `call`; unless `watch` is [`Watch::No`], waits until a block includes
	/// it (or a finalized block does) and returns its events (an `Err` if it failed, with the
	/// module error's name). `keep` is handed each signed transaction before it is sent.
	async fn send(
		&self,
		call: RuntimeCall,
		watch: Watch,
		keep: &mut Keep<'_>,
	) -> Result<Option<Included>, SignerError> {
		match self.try_send(call.clone(), watch, keep).await {
			// The pool judges a transaction by the last block it has processed, and after the
			// node caught up with the chain that is an old one until the next block arrives:
			// an account funded since seems unable to pay. Once more, a block later.
			Err(SignerError::Refused { unpaid: true, .. }) => {
				let mut blocks = self.client.import_notification_stream();
				let next_best =
					async { while blocks.next().await.is_some_and(|b| !b.is_new_best) {} };
				let _ = tokio::time::timeout(std::time::Duration::from_secs(12), next_best).await;
				self.try_send(call, watch, keep).await
			}
			sent => sent,
		}
	}

	async fn try_send(
		&self,
		call: RuntimeCall,
		watch: Watch,
		keep: &mut Keep<'_>,
	) -> Result<Option<Included>, SignerError> {
		let mut sent = self.sent.lock().await;
		let info = self.client.info();
		let (at, best) = (info.best_hash, info.best_number);
		let on_chain = self
			.client
			.runtime_api()
			.account_nonce(at, self.account())
			.map_err(|e| SignerError::Chain(format!("cannot read the account nonce: {e}")))?;
		let nonce = next_nonce(on_chain, &self.nonces_in_pool(), *sent, best);
		let bytes = self.build(call, nonce, at).await?;
		keep(&bytes).map_err(SignerError::NotKept)?;
		let submitted = self.submit_bytes(at, &bytes, watch).await?;
		*sent = Some((nonce + 1, best));
		drop(sent);
		match submitted {
			None => Ok(None),
			Some(status) => Ok(Some(self.follow(status, watch == Watch::Finalized).await?)),
		}
	}

	/// The nonces of this account's transactions in the pool: ready, or waiting for an earlier
	/// one. The nonce's tag is one of several a transaction may provide (a batch of proofs also
	/// provides one per proof).
	fn nonces_in_pool(&self) -> BTreeSet<Nonce> {
		let account = self.account();
		let ready = self.pool.ready().map(|transaction| transaction.provides().to_vec());
		let waiting =
			self.pool.futures().into_iter().map(|transaction| transaction.provides().to_vec());
		ready
			.chain(waiting)
			.flatten()
			.filter_map(|tag| <(AccountId, Nonce)>::decode_all(&mut &tag[..]).ok())
			.filter(|(who, _)| *who == account)
			.map(|(_, nonce)| nonce)
			.collect()
	}

	/// Signs `call` and submits it as [`Signer::submit_and_finalize`] does, handing the signed
	/// bytes to `keep` before they are sent (which writes them down, so that they can be sent
	/// again after a crash with [`Signer::send_signed_and_finalize`]: a nonce is used once, so
	/// they land at most once). Nothing is sent if `keep` fails.
	pub async fn submit_kept_and_finalize(
		&self,
		call: RuntimeCall,
		mut keep: impl FnMut(&[u8]) -> std::io::Result<()> + Send,
	) -> Result<Included, SignerError> {
		self.send(call, Watch::Finalized, &mut keep).await?.ok_or_else(not_followed)
	}

	/// Sends a transaction signed earlier (kept by [`Signer::submit_kept_and_finalize`]) and
	/// waits until a finalized block includes it.
	pub async fn send_signed_and_finalize(&self, bytes: &[u8]) -> Result<Included, SignerError> {
		let at = self.client.info().best_hash;
		match self.submit_bytes(at, bytes, Watch::Finalized).await? {
			Some(status) => self.follow(status, true).await,
			None => Err(not_followed()),
		}
	}

	/// Hands signed `bytes` to the pool, and returns the transaction's status stream unless
	/// `watch` is [`Watch::No`].
	async fn submit_bytes(
		&self,
		at: Hash,
		bytes: &[u8],
		watch: Watch,
	) -> Result<Option<Status>, SignerError> {
		let extrinsic = <Block as sp_runtime::traits::Block>::Extrinsic::decode(&mut &bytes[..])
			.map_err(|e| SignerError::Failed(format!("a transaction that does not decode: {e}")))?;
		let submitted = match watch {
			Watch::No => {
				self.pool.submit_one(at, TransactionSource::Local, extrinsic).await.map(|_| None)
			}
			_ => {
				self.pool.submit_and_watch(at, TransactionSource::Local, extrinsic).await.map(Some)
			}
		};
		submitted.map_err(refusal)
	}

	/// Submits `call` without waiting for it.
	pub async fn submit(&self, call: RuntimeCall) -> Result<(), SignerError> {
		self.send(call, Watch::No, &mut |_| Ok(())).await.map(|_| ())
	}

	/// Submits `call` and waits until a block includes it.
	pub async fn submit_and_watch(&self, call: RuntimeCall) -> Result<Included, SignerError> {
		self.send(call, Watch::InBlock, &mut |_| Ok(())).await?.ok_or_else(not_followed)
	}

	/// Submits `call` and waits until a finalized block includes it: what it did cannot be
	/// undone by a reorganisation (a contract's id read from a best block may be another
	/// contract's after one).
	pub async fn submit_and_finalize(&self, call: RuntimeCall) -> Result<Included, SignerError> {
		self.send(call, Watch::Finalized, &mut |_| Ok(())).await?.ok_or_else(not_followed)
	}

	async fn follow(&self, mut status: Status, finalized: bool) -> Result<Included, SignerError> {
		let followed = async {
			while let Some(update) = status.next().await {
				match update {
					TransactionStatus::InBlock((block, index)) if !finalized => {
						return self.outcome(block, index as u32);
					}
					TransactionStatus::Finalized((block, index)) => {
						return self.outcome(block, index as u32);
					}
					TransactionStatus::Invalid
					| TransactionStatus::Dropped
					| TransactionStatus::Usurped(_)
					| TransactionStatus::FinalityTimeout(_) => {
						return Err(SignerError::NotIncluded(format!(
							"the transaction was not included: {update:?}"
						)));
					}
					_ => {}
				}
			}
			Err(not_followed())
		};
		tokio::time::timeout(FOLLOW_AT_MOST, followed).await.unwrap_or_else(|_| {
			Err(SignerError::NotIncluded(format!(
				"the transaction was not {} within {} minutes (it may still be)",
				if finalized { "finalized" } else { "included" },
				FOLLOW_AT_MOST.as_secs() / 60
			)))
		})
	}

	fn outcome(&self, block: Hash, index: u32) -> Result<Included, SignerError> {
		let state = State::new(self.client.clone());
		let phase = frame_system::Phase::ApplyExtrinsic(index);
		let events: Vec<RuntimeEvent> = state
			.events(block)
			.map_err(|e| SignerError::Chain(e.to_string()))?
			.into_iter()
			.filter(|record| record.phase == phase)
			.map(|record| record.event)
			.collect();
		for event in &events {
			if let RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error,
				..
			}) = event
			{
				return Err(SignerError::Failed(describe(*dispatch_error)));
			}
		}
		Ok(Included { block, events })
	}
}

/// How long a transaction is followed into a (finalized) block before its caller hears that
/// it has not got there.
const FOLLOW_AT_MOST: std::time::Duration = std::time::Duration::from_secs(600);

/// For how many blocks after a transaction was sent the next one takes the nonce after it even
/// if the pool does not list it as ready (a transaction just submitted may not be yet).
const TRUST_SENT_BLOCKS: BlockNumber = 5;

/// The nonce of the account's next transaction: the lowest from the chain's (`on_chain`) up
/// that none of its transactions in the pool (`in_pool`) takes. A transaction the pool dropped
/// (a proof whose period ended before a block took it) leaves a gap that every later one waits
/// behind, unseen by the chain and never included; the next transaction fills it. Without a
/// gap, the nonce after the one `sent` at a best block at most [`TRUST_SENT_BLOCKS`] before
/// `best` counts too, as the pool may not list a transaction just submitted yet.
fn next_nonce(
	on_chain: Nonce,
	in_pool: &BTreeSet<Nonce>,
	sent: Option<(Nonce, BlockNumber)>,
	best: BlockNumber,
) -> Nonce {
	let mut next = on_chain;
	while in_pool.contains(&next) {
		next += 1;
	}
	let gap = in_pool.range(next..).next().is_some();
	match sent {
		Some((after, at_block)) if !gap && best <= at_block + TRUST_SENT_BLOCKS => after.max(next),
		_ => next,
	}
}

/// A transaction's status in the pool, as it changes.
type Status = std::pin::Pin<Box<sc_transaction_pool_api::TransactionStatusStreamFor<FullPool>>>;

/// What is handed each signed transaction before it is sent; an `Err` stops it.
type Keep<'a> = dyn FnMut(&[u8]) -> std::io::Result<()> + Send + 'a;

/// Why the pool refused a transaction.
fn refusal<E: IntoPoolError + std::fmt::Display>(error: E) -> SignerError {
	let reason = error.to_string();
	let unpaid = matches!(
		error.into_pool_error(),
		Ok(PoolError::InvalidTransaction(InvalidTransaction::Payment))
	);
	SignerError::Refused { reason, unpaid }
}

/// The pool stopped telling where a transaction is.
fn not_followed() -> SignerError {
	SignerError::NotIncluded("the transaction pool stopped following the transaction".into())
}

/// How far [`Signer::send`] follows a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Watch {
	/// Not at all: submitted is enough.
	No,
	/// Into a best block.
	InBlock,
	/// Into a finalized block.
	Finalized,
}

/// A dispatch error as a reader wants it: the pallet error's name where there is one.
pub fn describe(error: sp_runtime::DispatchError) -> String {
	match RuntimeError::from_dispatch_error(error) {
		Some(error) => format!("{error:?}"),
		None => format!("{error:?}"),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn pool(nonces: &[Nonce]) -> BTreeSet<Nonce> {
		nonces.iter().copied().collect()
	}

	#[test]
	fn the_next_nonce_follows_the_chain_and_the_pool() {
		assert_eq!(next_nonce(7, &pool(&[]), None, 100), 7);
		assert_eq!(next_nonce(7, &pool(&[7, 8]), None, 100), 9);
		// Nonces the chain has used are no longer the pool's concern.
		assert_eq!(next_nonce(7, &pool(&[5, 6]), None, 100), 7);
	}

	#[test]
	fn a_transaction_just_sent_counts_before_the_pool_lists_it() {
		assert_eq!(next_nonce(7, &pool(&[]), Some((8, 100)), 100), 8);
		assert_eq!(next_nonce(7, &pool(&[]), Some((8, 100)), 100 + TRUST_SENT_BLOCKS), 8);
		// Later, the pool is right: the transaction was dropped or is in a block.
		assert_eq!(next_nonce(7, &pool(&[]), Some((8, 100)), 101 + TRUST_SENT_BLOCKS), 7);
	}

	/// A proof sent with nonce 7 and dropped when its period ended: 8 and 9 wait behind it, and
	/// would forever, however recently they were sent.
	#[test]
	fn a_dropped_transaction_s_gap_is_filled_first() {
		assert_eq!(next_nonce(7, &pool(&[8, 9]), Some((10, 100)), 100), 7);
		assert_eq!(next_nonce(7, &pool(&[7, 9]), Some((10, 100)), 100), 8);
	}
}
