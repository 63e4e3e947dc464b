//! The client service: stores files on the market for this node's account, fetches them back and
//! repairs their lost shards.
//!
//! - **Upload:** the file is encrypted, coded into `k + m` shards and committed; the cheapest
//!   eligible providers are chosen, `create_contract` holds the escrow, and each shard goes to
//!   its provider over the shard network. The file's key derives from the account's file secret
//!   ([`FileSecret`], from the account's key) and a salt; its manifest (sizes, coding, salt,
//!   name) goes on chain with the contract, sealed under that secret, and a copy is cached under
//!   the node's base path (`files/<contract>.file`). Any node holding the account's key finds
//!   and decodes the file from the chain alone.
//!   Everything a caller can get wrong is checked before the contract is made.
//! - **Download:** any `k` shards, each checked against its on-chain BLAKE3 digest, fetched from
//!   the providers concurrently; a provider that fails or stalls is replaced by a spare.
//! - **Repair** ([`repair`]): on every block, for this account's contracts: a lost shard (or
//!   one not confirmed in time) is reassigned to another eligible provider, and a shard waiting
//!   for its data is fetched from the provider it was moved away from, or rebuilt from `k` others,
//!   and sent to its provider.
//! - **Renewal** ([`renewal`]): by hand, or on every block for files whose term is running out,
//!   a contract's end moves on, while the account can pay; the node says loudly when it cannot.

use std::{
	collections::{HashMap, HashSet},
	path::PathBuf,
	sync::Arc,
	time::Duration,
};

use cairn_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use cairn_storage::encoding::{
	decode_stream, encode_stream, CodingParams, Encryption, EncryptionKey, FileManifest,
	FileSecret, SALT_BYTES,
};
use codec::{Decode, DecodeAll, Encode};
use frame_support::{traits::Get, BoundedVec};
use futures::{stream::FuturesUnordered, StreamExt};
use libp2p::{Multiaddr, PeerId};
use pallet_market::{ContractId, ContractOf, ShardSpec, ShardStatus};
use sc_client_api::BlockchainEvents;
use serde::Deserialize;
use serde_json::{json, Value};
use sp_blockchain::HeaderBackend;
use substrate_prometheus_endpoint::{Counter, CounterVec, U64};
use tokio::sync::{mpsc, Mutex};

pub mod durability;
mod journal;
mod renewal;
mod repair;
mod sending;
mod sources;

use journal::Journal;
use sources::{Former, ShardSource};

pub use renewal::{AutoRenew, RenewParams};

use crate::{
	market_state::QuoteError,
	metrics::ClientMetrics,
	signer::{Signer, State},
	transfer::{fetch_shard, push_shard, Endpoint, OutgoingShard},
};
use cairn_net::Network;

/// Largest file `cairn_upload` takes inline (hex in the request) or `cairn_download` returns
/// inline: bulk data goes by path, as JSON-RPC messages are capped.
pub const MAX_INLINE_BYTES: u64 = 4 << 20;

/// Contract length when the caller names none: thirty days, renewed automatically (see
/// [`renewal`]) unless the caller turns that off.
pub const DEFAULT_DURATION: BlockNumber = 30 * cairn_runtime::time::DAYS;

/// Tries to send a shard during an upload before leaving it to the repair loop.
const PUSH_ATTEMPTS: u32 = 3;

/// Blocks after sending a shard before it is sent again, if its provider has not confirmed it.
const RESEND_BLOCKS: BlockNumber = 30;

/// Progress reports, as JSON objects with a `stage`.
pub type Progress = mpsc::UnboundedSender<Value>;

fn report(progress: Option<&Progress>, value: Value) {
	if let Some(progress) = progress {
		let _ = progress.send(value);
	}
}

/// Why a request failed: bad input (`invalid`), or something the market or network refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
	/// The caller's mistake (JSON-RPC "invalid params"), or not.
	pub invalid: bool,
	/// What happened, for people.
	pub message: String,
}

impl Failure {
	fn invalid(message: impl Into<String>) -> Self {
		Self { invalid: true, message: message.into() }
	}

	fn failed(message: impl Into<String>) -> Self {
		Self { invalid: false, message: message.into() }
	}
}

impl From<QuoteError> for Failure {
	fn from(error: QuoteError) -> Self {
		match error {
			QuoteError::Invalid(message) => Failure::invalid(message),
			error => Failure::failed(error.to_string()),
		}
	}
}

/// An upload's coding, its shards' size and the market's quote for them.
struct Planned {
	k: u8,
	m: u8,
	coding: CodingParams,
	shard_bytes: u64,
	quote: crate::market_state::Quote,
}

/// What `cairn_upload` takes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadParams {
	/// A file on the node's machine.
	pub path: Option<String>,
	/// Or the bytes themselves, `0x` hex (at most [`MAX_INLINE_BYTES`]).
	pub data: Option<String>,
	/// Data shards (default: the widest of [`durability::CODINGS`] the market has providers
	/// for; 4 when only `m` is given).
	pub k: Option<u8>,
	/// Parity shards (default: with `k`'s; 2 when only `k` is given).
	pub m: Option<u8>,
	/// Blocks to keep the file at a time (default thirty days).
	pub duration: Option<BlockNumber>,
	/// Renew the contract by `duration` whenever its end draws near, while the account can
	/// pay (default true).
	pub auto_renew: Option<bool>,
	/// Highest price per byte per block to pay (decimal string; default: the quote's).
	pub max_price: Option<String>,
	/// Encrypt before coding (default true).
	pub encrypt: Option<bool>,
}

/// What `cairn_download` takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadParams {
	/// The contract.
	pub contract: ContractId,
	/// Where to write the file; without it the bytes come back as hex (small files only).
	pub path: Option<String>,
}

/// Where an upload's bytes come from.
enum Source {
	/// A file on the node's machine, opened and checked.
	File(std::fs::File),
	/// Bytes given in the request.
	Inline(Vec<u8>),
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

/// What is known of a file: kept on chain, sealed, as the contract's manifest (see
/// [`FileSecret`]), and cached under the node's base path.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
struct FileRecord {
	manifest: Vec<u8>,
	key: FileKey,
	name: String,
	renewal: RenewalPolicy,
}

impl FileRecord {
	/// A record as kept, or as kept before renewal existed (then renewed by hand only).
	fn decode_any(bytes: &[u8]) -> Option<Self> {
		#[derive(Decode)]
		struct Before {
			manifest: Vec<u8>,
			key: Option<[u8; 32]>,
			name: String,
		}
		Self::decode_all(&mut &bytes[..]).ok().or_else(|| {
			let Before { manifest, key, name } = Before::decode_all(&mut &bytes[..]).ok()?;
			let key = key.map_or(FileKey::None, FileKey::Stored);
			Some(Self { manifest, key, name, renewal: RenewalPolicy::default() })
		})
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
	result: &Result<Value, Failure>,
) {
	match result {
		Ok(value) => {
			outcomes.with_label_values(&[success]).inc();
			bytes.inc_by(value["bytes"].as_u64().unwrap_or(0));
		}
		Err(_) => outcomes.with_label_values(&["failed"]).inc(),
	}
}

fn hex_bytes(text: &str) -> Result<Vec<u8>, Failure> {
	hex::decode(text.trim_start_matches("0x"))
		.map_err(|e| Failure::invalid(format!("data is not hex: {e}")))
}

/// A provider's shard-network endpoint from its on-chain record.
fn provider_address(state: &State, at: Hash, who: &AccountId) -> Result<Endpoint, String> {
	let info = state
		.provider(at, who)
		.map_err(|e| e.to_string())?
		.ok_or_else(|| format!("{} is not a registered provider", crate::rpc::market::ss58(who)))?;
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
		Self {
			state,
			signer,
			secret,
			network,
			auto_renew,
			renewals: Mutex::new(HashMap::new()),
			resend_at: Mutex::new(HashMap::new()),
			reassigned: Mutex::new(HashMap::new()),
			former: Former::default(),
			being_sent: sending::BeingSent::default(),
			journal: Journal::new(dir.join("uploads")),
			uploads: std::sync::Mutex::new(HashSet::new()),
			dir,
			metrics,
		}
	}

	fn signer(&self) -> Result<&Arc<Signer>, Failure> {
		self.signer.as_ref().ok_or_else(|| {
			Failure::failed(
				"this node has no Cairn account: insert an sr25519 key of type \"cair\" into its \
				 keystore (or start it with --cairn-key for a development key)",
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
	fn existing_contract(&self, at: Hash, id: ContractId) -> Result<ContractOf<Runtime>, Failure> {
		self.state
			.contract(at, id)
			.map_err(|e| Failure::failed(e.to_string()))?
			.ok_or_else(|| Failure::invalid(format!("no contract {id}")))
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
		let key = pallet_market::Manifests::<Runtime>::hashed_key_for(contract);
		let sealed: Vec<u8> = self.state.value(at, key).ok()??;
		let opened = secret.open(&signer.public_bytes(), &sealed).ok()?;
		FileRecord::decode_all(&mut &opened[..]).ok()
	}

	/// The key that decrypts the file of `record`, if it is encrypted.
	fn file_key(&self, record: &FileRecord) -> Result<Option<EncryptionKey>, Failure> {
		match &record.key {
			FileKey::None => Ok(None),
			FileKey::Stored(key) => Ok(Some(EncryptionKey::from_bytes(*key))),
			FileKey::Derived(salt) => Ok(Some(self.file_secret()?.file_key(salt))),
		}
	}

	fn file_secret(&self) -> Result<&FileSecret, Failure> {
		self.secret
			.as_ref()
			.ok_or_else(|| Failure::failed("this node cannot derive its account's file secret"))
	}

	/// `record` sealed for the chain. A name too long to fit loses its start (paths keep their
	/// file name).
	fn seal_record(&self, signer: &Signer, record: &mut FileRecord) -> Result<Vec<u8>, Failure> {
		let limit: u32 = <Runtime as pallet_market::Config>::MaxManifestBytes::get();
		let limit = limit as usize;
		let room = limit.saturating_sub(cairn_storage::encoding::sealed::SEALED_OVERHEAD);
		let excess = record.encoded_size().saturating_sub(room);
		if excess > 0 {
			// "…" is three bytes; a shorter name also has a shorter length prefix.
			let cut = excess + 3;
			let start = (cut..=record.name.len())
				.find(|at| record.name.is_char_boundary(*at))
				.ok_or_else(|| Failure::failed("the file's manifest is too large for the chain"))?;
			record.name = format!("…{}", &record.name[start..]);
		}
		let sealed = self.file_secret()?.seal(&signer.public_bytes(), &record.encode());
		if sealed.len() > limit {
			return Err(Failure::failed("the file's manifest is too large for the chain"));
		}
		Ok(sealed)
	}

	/// The first of `choices` (codings `(k, m)`) whose shards of a file of `size` bytes
	/// (`encoded` once encrypted) are within the shard limit and have enough eligible providers
	/// at `at`, asking at most `limit` if one is given, for an escrow and deposits `free` can
	/// hold; with its quote. Otherwise why the first is too large, or why the last fails.
	#[allow(clippy::too_many_arguments)]
	fn plan_coding(
		&self,
		at: Hash,
		name: &str,
		size: u64,
		encoded: u64,
		choices: &[(u8, u8)],
		duration: BlockNumber,
		limit: Option<Balance>,
		free: Balance,
	) -> Result<Planned, Failure> {
		let mut failure = Failure::failed("no coding to choose from");
		for (position, &(k, m)) in choices.iter().enumerate() {
			let coding = CodingParams::new(k.into(), m.into())
				.map_err(|e| Failure::invalid(format!("coding: {e}")))?;
			let stripes = encoded.div_ceil(coding.stripe_bytes() as u64);
			let shard_bytes = stripes.saturating_mul(coding.piece_bytes() as u64);
			if shard_bytes > cairn_primitives::tree::MAX_SHARD_BYTES {
				let too_large = Failure::invalid(format!(
					"{name} is too large: {size} bytes make shards of {shard_bytes} bytes, above \
					 the {}-byte limit (use a larger k)",
					cairn_primitives::tree::MAX_SHARD_BYTES
				));
				match position {
					0 => return Err(too_large),
					_ => continue,
				}
			}
			let shards = u32::from(k) + u32::from(m);
			let quote = match self.state.quote(at, shard_bytes, shards, duration, &[]) {
				Ok(quote) => quote,
				Err(error @ QuoteError::TooFewProviders { .. }) => {
					failure = error.into();
					continue;
				}
				Err(error) => return Err(error.into()),
			};
			if let Some(limit) = limit.filter(|limit| quote.max_price > *limit) {
				failure = Failure::failed(format!(
					"no {shards} eligible providers at or below {limit} per byte per block (the \
					 cheapest ask up to {})",
					quote.max_price
				));
				continue;
			}
			// The deposits, with the largest manifest (what a name adds is not known yet).
			let per_shard: Balance = <Runtime as pallet_market::Config>::ShardDeposit::get();
			let per_byte: Balance = <Runtime as pallet_market::Config>::ManifestByteDeposit::get();
			let manifest: u32 = <Runtime as pallet_market::Config>::MaxManifestBytes::get();
			let deposits: Balance = <Runtime as pallet_market::Config>::ContractDeposit::get()
				.saturating_add(per_shard.saturating_mul(shards.into()))
				.saturating_add(per_byte.saturating_mul(manifest.into()));
			let needed = quote.escrow.saturating_add(deposits);
			if free < needed {
				failure = Failure::failed(format!(
					"insufficient balance: a {k}+{m} contract holds {} of escrow and up to \
					 {deposits} of deposits, and the account has {free} free",
					quote.escrow
				));
				continue;
			}
			return Ok(Planned { k, m, coding, shard_bytes, quote });
		}
		Err(failure)
	}

	/// Stores a file on the market; returns the contract and what it holds.
	pub async fn upload(
		&self,
		params: UploadParams,
		progress: Option<Progress>,
	) -> Result<Value, Failure> {
		let result = self.store_file(params, progress).await;
		count(&self.metrics.uploads, "sent", &self.metrics.uploaded_bytes, &result);
		result
	}

	async fn store_file(
		&self,
		params: UploadParams,
		progress: Option<Progress>,
	) -> Result<Value, Failure> {
		let progress = progress.as_ref();
		let signer = self.signer()?.clone();
		signer.caught_up().map_err(Failure::failed)?;
		// A coding named in part takes 4 data and 2 parity shards for the part left out.
		let named = (params.k.is_some() || params.m.is_some())
			.then(|| (params.k.unwrap_or(4), params.m.unwrap_or(2)));
		let max_shards = <Runtime as pallet_market::Config>::MaxShards::get();
		if let Some((k, m)) = named {
			if k == 0 || u32::from(k) + u32::from(m) > max_shards {
				return Err(Failure::invalid(format!(
					"k must be at least 1 and k + m at most {max_shards} (k = {k}, m = {m})"
				)));
			}
		}
		let duration = params.duration.unwrap_or(DEFAULT_DURATION);
		let renewal = RenewalPolicy { auto: params.auto_renew.unwrap_or(true), term: duration };
		let encrypt = params.encrypt.unwrap_or(true);
		let (name, size, source) = match (&params.path, &params.data) {
			(Some(path), None) => {
				let (file, len) = crate::local_file::open_source(path)
					.map_err(|e| Failure::invalid(e.to_string()))?;
				(path.clone(), len, Source::File(file))
			}
			(None, Some(data)) => {
				if data.len() as u64 > 2 * MAX_INLINE_BYTES + 2 {
					return Err(Failure::invalid(format!(
						"inline data is limited to {MAX_INLINE_BYTES} bytes: give a path"
					)));
				}
				let bytes = hex_bytes(data)?;
				("inline data".to_string(), bytes.len() as u64, Source::Inline(bytes))
			}
			_ => return Err(Failure::invalid("give either `path` or `data`")),
		};
		if size == 0 {
			return Err(Failure::invalid(format!("{name} is empty")));
		}
		// Where the journal finds the bytes again after a crash.
		let origin = match (&params.path, &source) {
			(Some(path), Source::File(_)) => journal::Origin::Path(path.clone()),
			(_, Source::Inline(bytes)) => journal::Origin::Inline(bytes.clone()),
			(None, Source::File(_)) => unreachable!("a file source comes from a path"),
		};
		let encoded = cairn_storage::encoding::encoded_len(size, encrypt)
			.ok_or_else(|| Failure::invalid("file too large"))?;

		// The market's side, before any work: providers, price, balance. A coding the caller
		// did not name is the widest the market has providers for.
		let at = self.state.at(None);
		let choices = match &named {
			Some(coding) => std::slice::from_ref(coding),
			None => &durability::CODINGS[..],
		};
		let limit: Option<Balance> = match &params.max_price {
			Some(text) => Some(
				text.parse()
					.map_err(|_| Failure::invalid(format!("maxPrice {text:?} is not an amount")))?,
			),
			None => None,
		};
		let free = self
			.state
			.free_balance(at, &signer.account())
			.map_err(|e| Failure::failed(e.to_string()))?;
		let Planned { k, m, coding, shard_bytes, quote } =
			self.plan_coding(at, &name, size, encoded, choices, duration, limit, free)?;
		let shards = u32::from(k) + u32::from(m);
		let (nines, warning) = durability::report(k, m);
		if let Some(warning) = &warning {
			log::warn!(target: "cairn-client", "{warning}");
		}
		let max_price = limit.unwrap_or(quote.max_price);

		report(progress, json!({ "stage": "encoding", "bytes": size, "shards": shards }));
		let file_key = match encrypt {
			true => FileKey::Derived(FileSecret::new_salt()),
			false => FileKey::None,
		};
		let mut record = FileRecord { manifest: Vec::new(), key: file_key, name, renewal };
		let key = self.file_key(&record)?;
		let (manifest, outgoing, specs) = tokio::task::spawn_blocking(move || {
			let mut shard_data = vec![Vec::with_capacity(shard_bytes as usize); shards as usize];
			let encryption = match &key {
				Some(key) => Encryption::with_random_nonce(key),
				None => Encryption::Off,
			};
			let manifest = match source {
				Source::File(file) => encode_stream(
					coding,
					encryption,
					std::io::BufReader::new(file),
					&mut shard_data,
				),
				Source::Inline(bytes) => {
					encode_stream(coding, encryption, &bytes[..], &mut shard_data)
				}
			}
			.map_err(|e| Failure::failed(format!("encoding: {e}")))?;
			let specs = shard_data
				.iter()
				.map(|shard| {
					let (commitment, _) = cairn_storage::commitment::commit(shard)
						.map_err(|e| Failure::failed(format!("commitment: {e}")))?;
					Ok(ShardSpec {
						root: cairn_primitives::field::fr_to_le_bytes(&commitment.root),
						blake3: commitment.blake3,
						bytes: commitment.bytes,
					})
				})
				.collect::<Result<Vec<_>, Failure>>()?;
			let outgoing = shard_data
				.into_iter()
				.map(OutgoingShard::new)
				.collect::<Result<Vec<_>, _>>()
				.map_err(Failure::failed)?;
			Ok::<_, Failure>((manifest, outgoing, specs))
		})
		.await
		.map_err(|e| Failure::failed(e.to_string()))??;

		record.manifest = manifest.to_bytes().to_vec();
		let sealed = self.seal_record(&signer, &mut record)?;
		report(progress, json!({ "stage": "contract", "escrow": quote.escrow.to_string() }));
		let providers: Vec<AccountId> =
			quote.providers.iter().map(|(who, _)| who.clone()).collect();
		let call = RuntimeCall::Market(pallet_market::Call::create_contract {
			shards: BoundedVec::truncate_from(specs.clone()),
			k,
			m,
			providers: BoundedVec::truncate_from(providers.clone()),
			duration,
			max_price,
			manifest: BoundedVec::truncate_from(sealed),
		});
		// Signed and journaled before it is sent: from here on a crash leaves an upload the
		// node finishes when it runs again (see [`journal`]).
		let running = journal::Running::new(self);
		let upload_id = running.id().to_string();
		let mut entry = journal::Entry {
			origin,
			record: record.clone(),
			specs: specs.clone(),
			stage: journal::Stage::Signed { extrinsic: Vec::new() },
		};
		// The id comes from a finalized block: a best block's could name another contract of
		// another account after a reorganisation. If this fails, whether the contract was made
		// is for the journal's next check to find out.
		let included = signer
			.submit_kept_and_finalize(call, |extrinsic| {
				entry.stage = journal::Stage::Signed { extrinsic: extrinsic.to_vec() };
				self.journal.write(&upload_id, &entry)?;
				report(progress, json!({ "stage": "submitted" }));
				Ok(())
			})
			.await
			.map_err(Failure::failed)?;
		let (contract, end) = included
			.market_event("ContractCreated", |event| match event {
				pallet_market::Event::ContractCreated { contract, end, .. } => {
					Some((*contract, *end))
				}
				_ => None,
			})
			.map_err(Failure::failed)?;
		entry.stage = journal::Stage::Created { contract };
		let journaled = self.journal.write(&upload_id, &entry);
		journaled.map_err(|e| Failure::failed(format!("cannot keep the upload's journal: {e}")))?;
		self.save_record(contract, &record)
			.map_err(|e| Failure::failed(format!("cannot keep the file's manifest: {e}")))?;
		report(
			progress,
			json!({ "stage": "sending", "contract": contract, "total": shard_bytes * u64::from(shards) }),
		);

		// The repair loop leaves these shards alone while they are being sent (until this call
		// ends, or is dropped with its caller gone: the journal then finishes the upload).
		let now = self.state.client().info().best_number;
		let keys: Vec<(ContractId, u32)> = (0..shards).map(|index| (contract, index)).collect();
		let sending = self
			.being_sent
			.mark(keys.clone())
			.ok_or_else(|| Failure::failed(format!("contract {contract} is being sent already")))?;
		self.sent(keys.iter().copied().zip(providers.iter().cloned()), now).await;
		let at = self.state.at(None);
		let total = shard_bytes * u64::from(shards);
		let done = std::sync::atomic::AtomicU64::new(0);
		let on_sent = |bytes: u64| {
			let sent = done.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed) + bytes;
			report(
				progress,
				json!({ "stage": "sending", "contract": contract, "sent": sent, "total": total }),
			);
		};
		let pushes = providers.iter().zip(&outgoing).enumerate().map(|(index, (who, shard))| {
			let on_sent = &on_sent;
			async move {
				self.send_shard(at, contract, index as u32, who, shard, on_sent)
					.await
					.map_err(|error| format!("shard {index}: {error}"))
			}
		});
		let failures: Vec<String> =
			futures::future::join_all(pushes).await.into_iter().filter_map(Result::err).collect();
		let sent_at = self.state.client().info().best_number;
		self.sent(keys.iter().copied().zip(providers.iter().cloned()), sent_at).await;
		drop(sending);
		for failure in &failures {
			log::warn!(target: "cairn-client", "contract {contract}: {failure} (resent later)");
		}
		let result = json!({
			"contract": contract,
			"block": format!("{:?}", included.block),
			"bytes": size,
			"k": k,
			"m": m,
			"shardBytes": shard_bytes,
			"nines": (nines * 10.0).round() / 10.0,
			"warning": warning,
			"escrow": quote.escrow.to_string(),
			"end": end,
			"duration": duration,
			"autoRenew": renewal.auto,
			"providers": providers.iter().map(crate::rpc::market::ss58).collect::<Vec<_>>(),
			"sent": shards as usize - failures.len(),
			"failures": failures,
		});
		// A shard not sent is sent again from the source by the journal's next check.
		if failures.is_empty() {
			running.done();
		}
		report(progress, json!({ "stage": "sent", "contract": contract }));
		Ok(result)
	}

	/// Records `shards` as sent to their providers at block `now`: the repair loop sends one again
	/// [`RESEND_BLOCKS`] later if its provider has not confirmed it by then.
	async fn sent(
		&self,
		shards: impl IntoIterator<Item = ((ContractId, u32), AccountId)>,
		now: BlockNumber,
	) {
		let mut resend_at = self.resend_at.lock().await;
		for (key, who) in shards {
			resend_at.insert(key, (who, now + RESEND_BLOCKS));
		}
	}

	/// Sends shard `index` of `contract` to its provider `who` (as of block `at`), trying
	/// [`PUSH_ATTEMPTS`] times; `on_sent` hears of the bytes as they go.
	async fn send_shard(
		&self,
		at: Hash,
		contract: ContractId,
		index: u32,
		who: &AccountId,
		shard: &OutgoingShard,
		on_sent: &(dyn Fn(u64) + Send + Sync),
	) -> Result<(), String> {
		let signer = self.signer().map_err(|failure| failure.message)?;
		let to = provider_address(&self.state, at, who)?;
		let grant = signer.grant(contract, index, self.network.peer_id())?;
		let on_sent = |bytes: u64| {
			self.metrics.shard_bytes_sent.inc_by(bytes);
			on_sent(bytes)
		};
		let on_sent = &on_sent;
		let mut attempt = 1;
		loop {
			let pushed =
				push_shard(&self.network, &to, contract, index, shard, grant.clone(), on_sent)
					.await;
			match pushed {
				Ok(()) => return Ok(()),
				Err(error) if attempt < PUSH_ATTEMPTS => {
					log::debug!(target: "cairn-client", "shard {index}: {error}; again");
					tokio::time::sleep(Duration::from_secs(2 * attempt as u64)).await;
					attempt += 1;
				}
				Err(error) => return Err(error.into()),
			}
		}
	}

	/// Waits until every shard of `contract` is confirmed, reporting each, for at most `blocks`.
	pub async fn await_confirmed(
		&self,
		contract: ContractId,
		blocks: BlockNumber,
		progress: Option<&Progress>,
	) -> Result<(), Failure> {
		let mut imports = self.state.client().import_notification_stream();
		let start = self.state.client().info().best_number;
		let mut last = usize::MAX;
		loop {
			let at = self.state.at(None);
			let chain = self
				.state
				.contract(at, contract)
				.map_err(|e| Failure::failed(e.to_string()))?
				.ok_or_else(|| Failure::failed(format!("contract {contract} is gone")))?;
			let confirmed = chain.shards.iter().filter(|s| s.status == ShardStatus::Active).count();
			if confirmed != last {
				last = confirmed;
				report(
					progress,
					json!({
						"stage": "confirming",
						"contract": contract,
						"confirmed": confirmed,
						"shards": chain.shards.len(),
					}),
				);
			}
			if confirmed == chain.shards.len() {
				return Ok(());
			}
			if self.state.client().info().best_number > start + blocks {
				return Err(Failure::failed(format!(
					"{confirmed} of {} shards confirmed after {blocks} blocks",
					chain.shards.len()
				)));
			}
			if imports.next().await.is_none() {
				return Err(Failure::failed("the node is stopping"));
			}
		}
	}

	/// Fetches `k` shards of a contract and decodes the file.
	pub async fn download(
		&self,
		params: DownloadParams,
		progress: Option<Progress>,
	) -> Result<Value, Failure> {
		let result = self.fetch_file(params, progress).await;
		count(&self.metrics.downloads, "complete", &self.metrics.downloaded_bytes, &result);
		result
	}

	async fn fetch_file(
		&self,
		params: DownloadParams,
		progress: Option<Progress>,
	) -> Result<Value, Failure> {
		let progress = progress.as_ref();
		let id = params.contract;
		let at = self.state.at(None);
		let contract = self.existing_contract(at, id)?;
		let record = self.load_record(id).ok_or_else(|| {
			Failure::invalid(format!(
				"contract {id} has no manifest this node's account can open: files are decoded \
				 with the secret of the account that stored them"
			))
		})?;
		let manifest = FileManifest::from_bytes(&record.manifest)
			.map_err(|e| Failure::failed(format!("manifest: {e}")))?;
		if params.path.is_none() && manifest.plaintext_bytes > MAX_INLINE_BYTES {
			return Err(Failure::invalid(format!(
				"the file has {} bytes; inline downloads are limited to {MAX_INLINE_BYTES}: give a \
				 path",
				manifest.plaintext_bytes
			)));
		}
		let target = params
			.path
			.as_deref()
			.map(crate::local_file::Target::check)
			.transpose()
			.map_err(|e| Failure::invalid(e.to_string()))?;
		let k = usize::from(contract.k);
		let total = contract.shards.iter().take(k).map(|s| s.spec.bytes).sum::<u64>();
		report(
			progress,
			json!({ "stage": "fetching", "contract": id, "received": 0, "total": total }),
		);
		let shards = self.fetch_any(id, &contract, k, None, progress, total).await?;

		let key = self.file_key(&record)?;
		let plaintext = manifest.plaintext_bytes;
		report(progress, json!({ "stage": "decoding", "contract": id }));
		let data = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, Failure> {
			let mut readers: Vec<Option<&[u8]>> = shards.iter().map(|s| s.as_deref()).collect();
			match target {
				Some(target) => {
					let mut download =
						target.create().map_err(|e| Failure::invalid(e.to_string()))?;
					decode_stream(
						&manifest,
						key.as_ref(),
						&mut readers,
						std::io::BufWriter::new(download.file()),
					)
					.map_err(|e| Failure::failed(format!("decoding: {e}")))?
					.into_inner()
					.map_err(|e| Failure::failed(e.to_string()))?;
					download.finish().map_err(|e| Failure::failed(e.to_string()))?;
					Ok(None)
				}
				None => decode_stream(&manifest, key.as_ref(), &mut readers, Vec::new())
					.map(Some)
					.map_err(|e| Failure::failed(format!("decoding: {e}"))),
			}
		})
		.await
		.map_err(|e| Failure::failed(e.to_string()))??;
		report(progress, json!({ "stage": "done", "contract": id, "bytes": plaintext }));
		Ok(match data {
			Some(data) => {
				json!({ "contract": id, "bytes": plaintext, "data": format!("0x{}", hex::encode(data)) })
			}
			None => json!({ "contract": id, "bytes": plaintext, "path": params.path }),
		})
	}

	/// Any `k` shards of `contract` (other than `skip`), each checked; `None` where not fetched.
	/// Asked of their providers (confirmed ones first), then of those they were moved away from.
	async fn fetch_any(
		&self,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		k: usize,
		skip: Option<usize>,
		progress: Option<&Progress>,
		total: u64,
	) -> Result<Vec<Option<Vec<u8>>>, Failure> {
		self.signer()?;
		let at = self.state.at(None);
		let mut candidates =
			self.former.sources(id, contract).into_iter().filter(|s| Some(s.index) != skip);
		let received = std::sync::atomic::AtomicU64::new(0);
		let on_fetched = |bytes: u64| {
			let done = received.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed) + bytes;
			report(
				progress,
				json!({ "stage": "fetching", "contract": id, "received": done, "total": total }),
			);
		};
		let fetch = |source: ShardSource| {
			let on_fetched = &on_fetched;
			async move {
				let fetched = self.fetch_from(at, id, contract, &source, on_fetched).await;
				(source, fetched)
			}
		};
		let mut shards: Vec<Option<Vec<u8>>> = vec![None; contract.shards.len()];
		let mut running = FuturesUnordered::new();
		// One source per shard at first: a shard's former providers are its spares.
		let mut asked = HashSet::new();
		let (first, spares): (Vec<ShardSource>, Vec<ShardSource>) =
			candidates.by_ref().partition(|source| asked.insert(source.index));
		let mut candidates = first.into_iter().chain(spares);
		for source in candidates.by_ref().take(k) {
			running.push(fetch(source));
		}
		let mut have = 0;
		let mut errors = Vec::new();
		while let Some((source, result)) = running.next().await {
			let index = source.index;
			match result {
				Ok(data) if shards[index].is_none() => {
					shards[index] = Some(data);
					have += 1;
					if have == k {
						return Ok(shards);
					}
				}
				Ok(_) => {}
				Err(error) => {
					log::warn!(
						target: "cairn-client",
						"contract {id} shard {index} from {}: {error}; asking a spare",
						crate::rpc::market::ss58(&source.provider)
					);
					errors.push(format!("shard {index}: {error}"));
					if let Some(spare) = candidates.find(|spare| shards[spare.index].is_none()) {
						running.push(fetch(spare));
					}
				}
			}
		}
		Err(Failure::failed(format!(
			"only {have} of the {k} shards needed could be fetched ({})",
			errors.join("; ")
		)))
	}

	/// Shard `source.index` of `contract`, fetched from `source.provider` and checked against its
	/// digest.
	async fn fetch_from(
		&self,
		at: Hash,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		source: &ShardSource,
		on_fetched: &(dyn Fn(u64) + Send + Sync),
	) -> Result<Vec<u8>, String> {
		// Providers serve a shard's bytes only to the owner's grantees.
		let signer = self.signer().map_err(|failure| failure.message)?;
		let from = provider_address(&self.state, at, &source.provider)?;
		let index = source.index as u32;
		let grant = signer.grant(id, index, self.network.peer_id())?;
		let spec = &contract.shards[source.index].spec;
		Ok(fetch_shard(&self.network, &from, id, index, spec, grant, on_fetched).await?)
	}
}
