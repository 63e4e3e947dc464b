//! The client service: stores files on the market for this node's account, fetches them back and
//! repairs their lost shards.
//!
//! - **Upload** ([`upload`]): the file is encrypted, coded into `k + m` shards and committed; the
//!   cheapest eligible providers are chosen, `create_contract` holds the escrow, and each shard
//!   goes to its provider over the shard network. The file's key derives from the account's file
//!   secret ([`FileSecret`], from the account's key) and a salt; its manifest (sizes, coding, salt,
//!   name) goes on chain with the contract, sealed under that secret, and a copy is cached under
//!   the node's base path (`files/<contract>.file`). Any node holding the account's key finds and
//!   decodes the file from the chain alone. Everything a caller can get wrong is checked before the
//!   contract is made.
//! - **Download** ([`download`]): any `k` shards, each checked against its on-chain BLAKE3 digest,
//!   fetched from the providers concurrently; a provider that fails or stalls is replaced by a
//!   spare.
//! - **Repair** ([`repair`]): on every block, for this account's contracts: a lost shard (or one
//!   not confirmed in time) is reassigned to another eligible provider, and a shard waiting for its
//!   data is fetched from the provider it was moved away from, or rebuilt from `k` others, and sent
//!   to its provider.
//! - **Renewal** ([`renewal`]): by hand, or on every block for files whose term is running out, a
//!   contract's end moves on, while the account can pay; the node says loudly when it cannot.

use std::{
	collections::{HashMap, HashSet},
	path::PathBuf,
	sync::Arc,
};

use cairn_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime};
use cairn_storage::encoding::{EncryptionKey, FileSecret, SALT_BYTES};
use codec::{Decode, DecodeAll, Encode};
use frame_support::traits::Get;
use libp2p::{Multiaddr, PeerId};
use pallet_market::{ContractId, ContractOf};
use serde_json::Value;
use substrate_prometheus_endpoint::{Counter, CounterVec, U64};
use tokio::sync::{mpsc, Mutex};

mod download;
pub mod durability;
mod ending;
mod error;
mod journal;
pub mod local_file;
pub mod metrics;
mod renewal;
mod repair;
mod sending;
pub mod shards;
mod sources;
pub mod spool;
pub mod transfer;
mod upload;

use journal::Journal;
use sources::Former;

pub use download::DownloadParams;
pub use ending::{RemoveParams, StoredFile};
pub use error::FilesError;
pub use renewal::{AutoRenew, RenewParams};
pub use spool::SpoolError;
pub use upload::{check_name, largest_upload, QuoteParams, UploadParams};

use cairn_chain::signer::{Signer, State};
use cairn_net::Network;
use metrics::ClientMetrics;
use shards::ShardDir;
use transfer::Endpoint;

/// Largest file `cairn_upload` takes inline (hex in the request) or `cairn_download` returns
/// inline: bulk data goes by path, as JSON-RPC messages are capped.
pub const MAX_INLINE_BYTES: u64 = 4 << 20;

/// Longest name a caller may give a file ([`upload::check_name`]): with the largest manifest it
/// fits the chain's sealed manifest whole.
pub const MAX_NAME_BYTES: usize = 512;

/// Contract length when the caller names none: thirty days, renewed automatically (see
/// [`renewal`]) unless the caller turns that off.
pub const DEFAULT_DURATION: BlockNumber = 30 * cairn_runtime::time::DAYS;

/// Tries to send a shard during an upload before leaving it to the repair loop.
const PUSH_ATTEMPTS: u32 = 3;

/// Blocks after sending a shard before it is sent again, if its provider has not confirmed it,
/// besides the time its bytes take ([`resend_after`]).
const RESEND_BLOCKS: BlockNumber = 30;

/// Blocks after sending a shard of `bytes` before it is sent again, if its provider has not
/// confirmed it: [`RESEND_BLOCKS`], and a block for every `ConfirmBytesPerBlock` of the shard,
/// the pace the chain gives its buyer, for the provider to take them in and commit to them.
/// (A large shard sent again too soon costs `k` shards fetched to rebuild it, and the sending.)
fn resend_after(bytes: u64) -> BlockNumber {
	let pace = <cairn_runtime::Runtime as pallet_market::Config>::ConfirmBytesPerBlock::get();
	RESEND_BLOCKS.saturating_add((bytes / pace.max(1)).try_into().unwrap_or(BlockNumber::MAX))
}

/// Progress reports, as JSON objects with a `stage`.
pub type Progress = mpsc::UnboundedSender<Value>;

fn report(progress: Option<&Progress>, value: Value) {
	if let Some(progress) = progress {
		let _ = progress.send(value);
	}
}

/// How a file is renewed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode)]
struct RenewalPolicy {
	/// Renewed automatically.
	auto: bool,
	/// Blocks it is kept for at a time: its first duration, and each renewal's.
	term: BlockNumber,
}

/// Where a file's encryption key comes from.
///
/// Encoded like the `Option<[u8; 32]>` that records held before keys were derived, so that
/// those records still read.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
enum FileKey {
	/// The file is not encrypted.
	None,
	/// Kept in the record: files uploaded before keys derived from the account's secret.
	Stored([u8; 32]),
	/// Derived from the account's file secret and this salt; never stored.
	Derived([u8; SALT_BYTES]),
}

/// Bytes of a segmented file's random id.
pub const FILE_ID_BYTES: usize = 16;

/// Where a contract's data lies in a file larger than one contract holds.
///
/// Such a file is cut into segments of equal size (the last one shorter), in order; each is
/// encrypted under a key of its own, coded and stored under a contract of its own, whose record
/// says which part of which file it holds. The segments of a file are found again by its random
/// id, on chain as in the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
struct Segment {
	/// The file's id, the same in all its segments.
	file: [u8; FILE_ID_BYTES],
	/// This segment's place, from 0.
	index: u32,
	/// How many segments the file has.
	count: u32,
	/// Where this segment starts in the file.
	offset: u64,
	/// The whole file's size.
	total: u64,
}

/// What is known of a file: kept on chain, sealed, as the contract's manifest (see
/// [`FileSecret`]), and cached under the node's base path.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
struct FileRecord {
	manifest: Vec<u8>,
	key: FileKey,
	name: String,
	renewal: RenewalPolicy,
	/// The part of the file this contract holds, when the file is cut into segments; `None`
	/// when the contract holds the whole file.
	segment: Option<Segment>,
}

/// A [`FileRecord`] as kept before segments existed.
#[derive(Decode)]
struct WholeRecord {
	manifest: Vec<u8>,
	key: FileKey,
	name: String,
	renewal: RenewalPolicy,
}

impl From<WholeRecord> for FileRecord {
	fn from(WholeRecord { manifest, key, name, renewal }: WholeRecord) -> Self {
		Self { manifest, key, name, renewal, segment: None }
	}
}

impl FileRecord {
	/// A record as kept now, as kept before segments existed, or as kept before renewal existed
	/// (then renewed by hand only).
	fn decode_any(bytes: &[u8]) -> Option<Self> {
		#[derive(Decode)]
		struct Before {
			manifest: Vec<u8>,
			key: Option<[u8; 32]>,
			name: String,
		}
		let whole = || WholeRecord::decode_all(&mut &bytes[..]).ok().map(Self::from);
		let before = || {
			let Before { manifest, key, name } = Before::decode_all(&mut &bytes[..]).ok()?;
			let key = key.map_or(FileKey::None, FileKey::Stored);
			Some(Self { manifest, key, name, renewal: RenewalPolicy::default(), segment: None })
		};
		Self::decode_all(&mut &bytes[..]).ok().or_else(whole).or_else(before)
	}
}

/// The client service.
pub struct Files {
	state: State,
	signer: Option<Arc<Signer>>,
	/// The account's file secret (with the signer).
	secret: Option<FileSecret>,
	network: Network,
	dir: PathBuf,
	auto_renew: AutoRenew,
	/// Automatic renewals asked for, and how they went.
	renewals: Mutex<HashMap<ContractId, renewal::RenewalState>>,
	/// Shards sent (or being sent) to a provider, and the block from which the repair loop may
	/// send them again if that provider has not confirmed them.
	resend_at: Mutex<HashMap<(ContractId, u32), (AccountId, BlockNumber)>>,
	/// Reassignments asked for, and the block.
	reassigned: Mutex<HashMap<(ContractId, u32), BlockNumber>>,
	/// The providers shards were moved away from, asked for them until they are active again.
	former: Former,
	/// Shards being sent now (uploads, resumed uploads, repairs): the repair loop leaves them
	/// alone.
	being_sent: sending::BeingSent,
	/// The upload journal.
	journal: Journal,
	/// Journal entries this run of the node works on (its own uploads, and those resumed).
	uploads: std::sync::Mutex<HashSet<String>>,
	metrics: ClientMetrics,
}

/// Counts an upload's or a download's `result` in `outcomes` (as `success`, or `failed`), and
/// the file's bytes in `bytes` when it succeeded.
fn count(
	outcomes: &CounterVec<U64>,
	success: &str,
	bytes: &Counter<U64>,
	result: &Result<Value, FilesError>,
) {
	match result {
		Ok(value) => {
			outcomes.with_label_values(&[success]).inc();
			bytes.inc_by(value["bytes"].as_u64().unwrap_or(0));
		}
		Err(_) => outcomes.with_label_values(&["failed"]).inc(),
	}
}

/// A caller's `maxPrice` (planck per byte per block, as a decimal string), if given.
fn max_price(text: Option<&str>) -> Result<Option<Balance>, FilesError> {
	text.map(|text| {
		text.parse().map_err(|_| FilesError::invalid(format!("maxPrice {text:?} is not an amount")))
	})
	.transpose()
}

/// A new file's random id ([`Segment::file`]).
fn random_id() -> [u8; FILE_ID_BYTES] {
	use rand_chacha::rand_core::{RngCore, SeedableRng};
	let mut id = [0u8; FILE_ID_BYTES];
	rand_chacha::ChaCha20Rng::from_entropy().fill_bytes(&mut id);
	id
}

/// A failure of this node's own disk while it holds shards ([`shards`]).
fn disk(error: std::io::Error) -> FilesError {
	FilesError::local("this node's copy of the shards", error)
}

/// The same, in the words of the work that reports its failures as text (repairs, resumed
/// uploads, fetches).
fn disk_text(error: impl std::fmt::Display) -> String {
	format!("this node's disk: {error}")
}

fn hex_bytes(text: &str) -> Result<Vec<u8>, FilesError> {
	hex::decode(text.trim_start_matches("0x"))
		.map_err(|e| FilesError::invalid(format!("data is not hex: {e}")))
}

/// A provider's shard-network endpoint from its on-chain record.
fn provider_address(state: &State, at: Hash, who: &AccountId) -> Result<Endpoint, String> {
	let info = state
		.provider(at, who)
		.map_err(|e| e.to_string())?
		.ok_or_else(|| format!("{} is not a registered provider", cairn_chain::ss58(who)))?;
	let peer = PeerId::from_bytes(&info.peer_id).map_err(|e| format!("bad peer id: {e}"))?;
	let addresses =
		info.multiaddrs.iter().filter_map(|a| Multiaddr::try_from(a.to_vec()).ok()).collect();
	Ok(Endpoint { peer, addresses })
}

impl Files {
	/// The service for `signer`'s files, kept under `dir`, renewed under `auto_renew`.
	pub fn new(
		state: State,
		signer: Option<Arc<Signer>>,
		network: Network,
		dir: PathBuf,
		auto_renew: AutoRenew,
		metrics: ClientMetrics,
	) -> Self {
		let secret = signer.as_ref().and_then(|signer| {
			signer
				.file_secret()
				.inspect_err(
					|error| log::error!(target: "cairn-client", "no file secret: {error}; uploads fail"),
				)
				.ok()
		});
		let spool = dir.join(spool::DIR);
		let spool = std::path::absolute(&spool).unwrap_or(spool);
		let files = Self {
			state,
			signer,
			secret,
			network,
			auto_renew,
			renewals: Mutex::new(HashMap::new()),
			resend_at: Mutex::new(HashMap::new()),
			reassigned: Mutex::new(HashMap::new()),
			former: Former::open(dir.join("former-providers")),
			being_sent: sending::BeingSent::default(),
			journal: Journal::new(dir.join("uploads"), spool),
			uploads: std::sync::Mutex::new(HashSet::new()),
			dir,
			metrics,
		};
		files.sweep_spool();
		shards::sweep(&files.dir.join(shards::DIR));
		files
	}

	/// A new directory for one operation's shards ([`shards`]).
	fn shard_dir(&self) -> Result<ShardDir, FilesError> {
		ShardDir::new(&self.dir.join(shards::DIR)).map_err(disk)
	}

	fn signer(&self) -> Result<&Arc<Signer>, FilesError> {
		self.signer.as_ref().ok_or_else(|| {
			FilesError::Setup(
				"this node has no Cairn account: insert an sr25519 key of type \"cair\" into its \
				 keystore (or start it with --cairn-key for a development key)"
					.into(),
			)
		})
	}

	fn record_path(&self, contract: ContractId) -> PathBuf {
		self.dir.join(format!("{contract}.file"))
	}

	/// Keeps a file's record (it holds the file's key: mode 0600), replacing it whole or not
	/// at all.
	fn save_record(&self, contract: ContractId, record: &FileRecord) -> std::io::Result<()> {
		std::fs::create_dir_all(&self.dir)?;
		crate::local_file::write_private(&self.record_path(contract), &record.encode())
			.map_err(std::io::Error::other)
	}

	/// Contract `id` at block `at`; that it does not exist is the caller's mistake.
	fn existing_contract(
		&self,
		at: Hash,
		id: ContractId,
	) -> Result<ContractOf<Runtime>, FilesError> {
		self.state.contract(at, id)?.ok_or_else(|| FilesError::invalid(format!("no contract {id}")))
	}

	/// Contract `id` at block `at`, which must be `signer`'s to change.
	fn own_contract(
		&self,
		signer: &Signer,
		at: Hash,
		id: ContractId,
	) -> Result<ContractOf<Runtime>, FilesError> {
		let contract = self.existing_contract(at, id)?;
		if contract.owner != signer.account() {
			return Err(FilesError::invalid(format!(
				"contract {id} belongs to {}, not to this node's account",
				cairn_chain::ss58(&contract.owner)
			)));
		}
		Ok(contract)
	}

	/// The record of the file under `contract`: the cached one, or else the manifest its
	/// contract carries on chain, opened with the account's secret (and then cached). `None`
	/// for contracts of other accounts, and of this one made without a manifest elsewhere.
	fn load_record(&self, contract: ContractId) -> Option<FileRecord> {
		let cached = std::fs::read(self.record_path(contract)).ok();
		if let Some(record) = cached.and_then(|bytes| FileRecord::decode_any(&bytes)) {
			return Some(record);
		}
		let record = self.record_on_chain(contract)?;
		if let Err(error) = self.save_record(contract, &record) {
			log::warn!(target: "cairn-client", "contract {contract}: cannot cache its manifest: {error}");
		}
		Some(record)
	}

	fn record_on_chain(&self, contract: ContractId) -> Option<FileRecord> {
		let (signer, secret) = (self.signer.as_ref()?, self.secret.as_ref()?);
		let at = self.state.at(None);
		// Only this account's contracts: a manifest of ours copied into another account's
		// contract opens too, and must not make that contract look like one of our files.
		if self.state.contract(at, contract).ok()??.owner != signer.account() {
			return None;
		}
		let sealed = self.state.manifest(at, contract).ok()??;
		let opened = secret.open(&signer.public_bytes(), &sealed).ok()?;
		FileRecord::decode_any(&opened)
	}

	/// The key that decrypts the file of `record`, if it is encrypted.
	fn file_key(&self, record: &FileRecord) -> Result<Option<EncryptionKey>, FilesError> {
		match &record.key {
			FileKey::None => Ok(None),
			FileKey::Stored(key) => Ok(Some(EncryptionKey::from_bytes(*key))),
			FileKey::Derived(salt) => Ok(Some(self.file_secret()?.file_key(salt))),
		}
	}

	fn file_secret(&self) -> Result<&FileSecret, FilesError> {
		self.secret.as_ref().ok_or_else(|| {
			FilesError::Setup("this node cannot derive its account's file secret".into())
		})
	}

	/// `record` sealed for the chain. A name too long to fit loses its start (paths keep their
	/// file name).
	fn seal_record(&self, signer: &Signer, record: &mut FileRecord) -> Result<Vec<u8>, FilesError> {
		let limit: u32 = <Runtime as pallet_market::Config>::MaxManifestBytes::get();
		let limit = limit as usize;
		let room = limit.saturating_sub(cairn_storage::encoding::sealed::SEALED_OVERHEAD);
		let excess = record.encoded_size().saturating_sub(room);
		if excess > 0 {
			// "…" is three bytes; a shorter name also has a shorter length prefix.
			let cut = excess + 3;
			let start =
				(cut..=record.name.len()).find(|at| record.name.is_char_boundary(*at)).ok_or_else(
					|| FilesError::Data("the file's manifest is too large for the chain".into()),
				)?;
			record.name = format!("…{}", &record.name[start..]);
		}
		let sealed = self.file_secret()?.seal(&signer.public_bytes(), &record.encode());
		if sealed.len() > limit {
			return Err(FilesError::Data("the file's manifest is too large for the chain".into()));
		}
		Ok(sealed)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_large_shard_is_given_time_before_it_is_sent_again() {
		assert_eq!(resend_after(0), RESEND_BLOCKS);
		assert_eq!(resend_after(4 << 20), RESEND_BLOCKS + 2);
		// The largest shard: about four minutes more at 1 MiB/s, well within the chain's
		// deadline for one shard sent alone (five minutes more than that).
		let largest = cairn_storage::commitment::MAX_SHARD_BYTES;
		assert_eq!(resend_after(largest), RESEND_BLOCKS + (largest >> 21) as BlockNumber);
		assert!(resend_after(largest) < 150 + (largest >> 21) as BlockNumber);
	}

	fn record(segment: Option<Segment>) -> FileRecord {
		FileRecord {
			manifest: vec![1, 2, 3],
			key: FileKey::Derived([4; SALT_BYTES]),
			name: "photos/cat.jpg".into(),
			renewal: RenewalPolicy { auto: true, term: 100 },
			segment,
		}
	}

	#[test]
	fn records_of_every_version_read() {
		let segment =
			Segment { file: [9; FILE_ID_BYTES], index: 2, count: 3, offset: 2048, total: 3000 };
		for now in [record(None), record(Some(segment))] {
			assert_eq!(FileRecord::decode_any(&now.encode()), Some(now));
		}
		// Before segments: the same fields without one.
		let whole = record(None);
		let before_segments =
			(whole.manifest.clone(), whole.key.clone(), whole.name.clone(), whole.renewal).encode();
		assert_eq!(FileRecord::decode_any(&before_segments), Some(whole.clone()));
		// Before renewal: the key was kept, if the file was encrypted.
		let before_renewal = (whole.manifest.clone(), Some([7u8; 32]), whole.name.clone()).encode();
		let read = FileRecord::decode_any(&before_renewal).expect("read");
		assert_eq!(read.key, FileKey::Stored([7; 32]));
		assert_eq!((read.renewal, read.segment), (RenewalPolicy::default(), None));
		assert_eq!(FileRecord::decode_any(b"garbage"), None);
	}
}
