//! Upload: the file is checked, encrypted, coded and committed, the cheapest eligible providers
//! are chosen, `create_contract` holds the escrow, and each shard goes to its provider.

use std::{io::Read, sync::Arc, time::Duration};

use cairn_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use cairn_storage::encoding::{encoded_len, CodingParams, Encryption, FileSecret};
use frame_support::{traits::Get, BoundedVec};
use futures::StreamExt;
use pallet_market::{ContractId, ShardSpec, ShardStatus};
use sc_client_api::BlockchainEvents;
use serde::Deserialize;
use serde_json::{json, Value};
use sp_blockchain::HeaderBackend;

use super::{
	count, disk, durability, hex_bytes, journal, provider_address, report, resend_after, FileKey,
	FileRecord, Files, FilesError, Progress, RenewalPolicy, Segment, DEFAULT_DURATION,
	MAX_INLINE_BYTES, MAX_NAME_BYTES, PUSH_ATTEMPTS,
};
use crate::{
	shards::{code_into, CodingError, Reader},
	transfer::{push_shard, OutgoingShard},
};
use cairn_chain::{market_state::QuoteError, signer::Signer};

/// An upload's coding, how the file is cut, its shards' size and the market's quote for them.
struct Planned {
	k: u8,
	m: u8,
	coding: CodingParams,
	cut: Cut,
	/// A full segment's shards' size.
	shard_bytes: u64,
	/// The market's quote for a full segment.
	quote: cairn_chain::market_state::Quote,
	/// The escrow of all segments.
	escrow: Balance,
	/// The deposits the contracts hold at most (with the largest manifest).
	deposits: Balance,
	/// Blocks the contract runs.
	duration: BlockNumber,
	/// The highest price per byte per block the contract accepts.
	max_price: Balance,
}

/// What `cairn_quoteUpload` takes: the upload's parameters, with the file's size in place of
/// the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuoteParams {
	/// The file's size in bytes.
	pub bytes: u64,
	/// As [`UploadParams::k`].
	pub k: Option<u8>,
	/// As [`UploadParams::m`].
	pub m: Option<u8>,
	/// As [`UploadParams::duration`].
	pub duration: Option<BlockNumber>,
	/// As [`UploadParams::max_price`].
	pub max_price: Option<String>,
	/// As [`UploadParams::encrypt`].
	pub encrypt: Option<bool>,
	/// As [`UploadParams::segment_bytes`].
	pub segment_bytes: Option<u64>,
}

/// What `cairn_upload` takes.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadParams {
	/// A file on the node's machine.
	pub path: Option<String>,
	/// Or the bytes themselves, `0x` hex (at most [`MAX_INLINE_BYTES`]).
	pub data: Option<String>,
	/// The name the file is kept under (see [`check_name`]; default: the path, or
	/// "inline data").
	pub name: Option<String>,
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
	/// The most bytes of the file one contract holds: a larger file is cut into segments of
	/// this size (default, and at most: what the coding's largest shards hold; at least
	/// [`MIN_SEGMENT_BYTES`]).
	pub segment_bytes: Option<u64>,
}

/// Where an upload's bytes come from.
enum Source {
	/// A file on the node's machine, opened and checked.
	File(Arc<std::fs::File>),
	/// Bytes given in the request.
	Inline(Vec<u8>),
}

impl Source {
	/// `len` bytes from `offset` on.
	fn part(&self, offset: u64, len: u64) -> Box<dyn Read + Send> {
		match self {
			Source::File(file) => Box::new(std::io::BufReader::with_capacity(
				SOURCE_BUFFER_BYTES,
				Reader::at(file.clone(), offset).take(len),
			)),
			Source::Inline(bytes) => {
				Box::new(std::io::Cursor::new(bytes[offset as usize..][..len as usize].to_vec()))
			}
		}
	}
}

/// Bytes of the source read at a time.
const SOURCE_BUFFER_BYTES: usize = 1 << 20;

/// What one contract of an upload stores: the whole file, or one segment.
#[derive(Clone, Copy)]
struct Part<'a> {
	name: &'a str,
	source: &'a Source,
	origin: &'a journal::Origin,
	k: u8,
	m: u8,
	encrypt: bool,
	renewal: RenewalPolicy,
	/// The highest price per byte per block the caller accepts, if it named one.
	limit: Option<Balance>,
	/// Where the part starts in the file, and its size.
	range: (u64, u64),
	segment: Option<Segment>,
}

/// What storing one part of a file made: its contract, and how the sending went.
struct Stored {
	contract: ContractId,
	/// The block the contract was made in.
	block: Hash,
	shard_bytes: u64,
	escrow: Balance,
	end: BlockNumber,
	providers: Vec<AccountId>,
	/// Shards sent, and why the others were not (they are sent again later).
	sent: usize,
	failures: Vec<String>,
}

/// The smallest segment a caller may ask for.
pub const MIN_SEGMENT_BYTES: u64 = 256 << 10;

/// The most segments a file is cut into.
pub const MAX_SEGMENTS: u64 = 10_000;

/// How a file is cut into segments: all of `segment_bytes` but the last, which holds the rest.
/// A file that one contract holds is one segment; an empty file too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Cut {
	/// The file's size.
	pub size: u64,
	/// A segment's size.
	pub segment_bytes: u64,
	/// How many segments.
	pub count: u64,
}

impl Cut {
	/// `size` bytes in segments of at most `capacity` (at least 1).
	fn new(size: u64, capacity: u64) -> Self {
		let segment_bytes = size.min(capacity.max(1));
		let count = size.div_ceil(segment_bytes.max(1)).max(1);
		Self { size, segment_bytes, count }
	}

	/// Where segment `index` starts, and its size.
	pub fn segment(&self, index: u64) -> (u64, u64) {
		let offset = index * self.segment_bytes;
		(offset, self.segment_bytes.min(self.size - offset))
	}
}

/// A shard's size for `encoded` bytes coded as `coding`. An empty file is one stripe (see
/// `encode_stream`).
fn shards_of(coding: CodingParams, encoded: u64) -> u64 {
	let stripes = encoded.div_ceil(coding.stripe_bytes() as u64).max(1);
	stripes.saturating_mul(coding.piece_bytes() as u64)
}

/// The most bytes of a file one contract holds when coded as `coding`: its shards are then at
/// most [`MAX_SHARD_BYTES`](cairn_primitives::tree::MAX_SHARD_BYTES).
pub(super) fn segment_capacity(coding: CodingParams, encrypt: bool) -> u64 {
	let stripes = cairn_primitives::tree::MAX_SHARD_BYTES / coding.piece_bytes() as u64;
	let encoded = stripes * coding.stripe_bytes() as u64;
	let fits = |size: u64| encoded_len(size, encrypt).is_some_and(|len| len <= encoded);
	// The encoded size grows with the file's: the largest size that fits.
	let (mut low, mut high) = (0, encoded);
	while low < high {
		let middle = low + (high - low).div_ceil(2);
		if fits(middle) {
			low = middle;
		} else {
			high = middle - 1;
		}
	}
	low
}

/// A name a caller gives a file: 1 to [`MAX_NAME_BYTES`] bytes of UTF-8 without control
/// characters. Names are the caller's own (`photos/2026/cat.jpg`, `bucket/key`): the node never
/// makes a path of one.
pub fn check_name(name: &str) -> Result<&str, FilesError> {
	if name.is_empty() || name.len() > MAX_NAME_BYTES {
		return Err(FilesError::invalid(format!(
			"a name has 1 to {MAX_NAME_BYTES} bytes, not {}",
			name.len()
		)));
	}
	if name.chars().any(char::is_control) {
		return Err(FilesError::invalid(format!("the name {name:?} has control characters")));
	}
	Ok(name)
}

/// Largest file an upload may take: 5 TiB, S3's largest object. (The plan refuses a file cut
/// into more than [`MAX_SEGMENTS`] segments: this bounds what a caller may send before that.)
pub fn largest_upload() -> u64 {
	5 << 40
}

/// The yearly durability, in nines, of a file of `segments` segments coded `k + m` (it is lost
/// when any segment is), rounded to a tenth; and a warning if it is low.
fn file_durability(k: u8, m: u8, segments: u64) -> (f64, Option<String>) {
	let (nines, warning) = durability::report(k, m);
	let nines = nines - (segments.max(1) as f64).log10();
	((nines * 10.0).round() / 10.0, warning)
}

impl Files {
	/// The first of `choices` (codings `(k, m)`) that has enough eligible providers at `at` for
	/// a file of `size` bytes (`encrypt`ed or not) cut into segments of at most `segment_limit`
	/// bytes, asking at most `limit` if one is given, for an escrow and deposits `free` can
	/// hold; with its quote. Otherwise why the first fails, or why the last does.
	#[allow(clippy::too_many_arguments)]
	fn plan_coding(
		&self,
		at: Hash,
		name: &str,
		size: u64,
		encrypt: bool,
		segment_limit: Option<u64>,
		choices: &[(u8, u8)],
		duration: BlockNumber,
		limit: Option<Balance>,
		free: Balance,
	) -> Result<Planned, FilesError> {
		let mut failure = FilesError::Market("no coding to choose from".into());
		for (position, &(k, m)) in choices.iter().enumerate() {
			let coding = CodingParams::new(k.into(), m.into())
				.map_err(|e| FilesError::invalid(format!("coding: {e}")))?;
			let capacity = segment_capacity(coding, encrypt);
			let cut = Cut::new(size, segment_limit.map_or(capacity, |l| l.min(capacity)));
			if cut.count > MAX_SEGMENTS {
				let too_large = FilesError::invalid(format!(
					"{name} is too large: {size} bytes make {} segments of {} bytes, above the 					 limit of {MAX_SEGMENTS} (use larger segments, or a larger k)",
					cut.count, cut.segment_bytes
				));
				match position {
					0 => return Err(too_large),
					_ => continue,
				}
			}
			let encoded = |bytes| {
				encoded_len(bytes, encrypt).ok_or_else(|| FilesError::invalid("file too large"))
			};
			let shard_bytes = shards_of(coding, encoded(cut.segment_bytes)?);
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
				failure = FilesError::Market(format!(
					"no {shards} eligible providers at or below {limit} per byte per block (the \
					 cheapest ask up to {})",
					quote.max_price
				));
				continue;
			}
			// The last segment, when shorter, costs less.
			let (_, last) = cut.segment(cut.count - 1);
			let last_escrow = match last == cut.segment_bytes {
				true => quote.escrow,
				false => {
					let last_shards = shards_of(coding, encoded(last)?);
					self.state.quote(at, last_shards, shards, duration, &[])?.escrow
				}
			};
			let escrow = quote.escrow.saturating_mul(Balance::from(cut.count - 1));
			let escrow = escrow.saturating_add(last_escrow);
			// The deposits, with the largest manifest (what a name adds is not known yet).
			let per_shard: Balance = <Runtime as pallet_market::Config>::ShardDeposit::get();
			let per_byte: Balance = <Runtime as pallet_market::Config>::ManifestByteDeposit::get();
			let manifest: u32 = <Runtime as pallet_market::Config>::MaxManifestBytes::get();
			let deposits: Balance = <Runtime as pallet_market::Config>::ContractDeposit::get()
				.saturating_add(per_shard.saturating_mul(shards.into()))
				.saturating_add(per_byte.saturating_mul(manifest.into()))
				.saturating_mul(Balance::from(cut.count));
			let needed = escrow.saturating_add(deposits);
			if free < needed {
				let contracts = match cut.count {
					1 => format!("a {k}+{m} contract holds"),
					count => format!("{count} {k}+{m} contracts (one per segment) hold"),
				};
				failure = FilesError::Market(format!(
					"insufficient balance: {contracts} {escrow} of escrow and up to {deposits} of \
					 deposits, and the account has {free} free"
				));
				continue;
			}
			let max_price = limit.unwrap_or(quote.max_price);
			return Ok(Planned {
				k,
				m,
				coding,
				cut,
				shard_bytes,
				quote,
				escrow,
				deposits,
				duration,
				max_price,
			});
		}
		Err(failure)
	}

	/// What uploading a file named `name` with `params` would take, before any work: the
	/// coding, the segments and their shards, the market's quote for the cheapest eligible
	/// providers, the deposits, and that the account can pay. The upload and its quote both
	/// decide here.
	fn plan_upload(
		&self,
		signer: &Signer,
		name: &str,
		params: &QuoteParams,
	) -> Result<Planned, FilesError> {
		let QuoteParams { bytes: size, k, m, duration, ref max_price, encrypt, segment_bytes } =
			*params;
		// A coding named in part takes 4 data and 2 parity shards for the part left out.
		let named = (k.is_some() || m.is_some()).then(|| (k.unwrap_or(4), m.unwrap_or(2)));
		let max_shards = <Runtime as pallet_market::Config>::MaxShards::get();
		if let Some((k, m)) = named {
			if k == 0 || u32::from(k) + u32::from(m) > max_shards {
				return Err(FilesError::invalid(format!(
					"k must be at least 1 and k + m at most {max_shards} (k = {k}, m = {m})"
				)));
			}
		}
		if let Some(bytes) = segment_bytes.filter(|bytes| *bytes < MIN_SEGMENT_BYTES) {
			return Err(FilesError::invalid(format!(
				"segmentBytes is {bytes}: a segment has at least {MIN_SEGMENT_BYTES} bytes"
			)));
		}
		// A coding the caller did not name is the widest the market has providers for.
		let at = self.state.at(None);
		let choices = match &named {
			Some(coding) => std::slice::from_ref(coding),
			None => &durability::CODINGS[..],
		};
		let limit = super::max_price(max_price.as_deref())?;
		let free = self.state.free_balance(at, &signer.account())?;
		let duration = duration.unwrap_or(DEFAULT_DURATION);
		let encrypt = encrypt.unwrap_or(true);
		self.plan_coding(at, name, size, encrypt, segment_bytes, choices, duration, limit, free)
	}

	/// What uploading a file of `params.bytes` bytes would cost this node's account now, decided
	/// as `cairn_upload` decides it; nothing is paid or signed.
	pub async fn quote(&self, params: QuoteParams) -> Result<Value, FilesError> {
		let signer = self.signer()?.clone();
		signer.caught_up()?;
		let Planned { k, m, cut, shard_bytes, escrow, deposits, duration, max_price, .. } =
			self.plan_upload(&signer, "the file", &params)?;
		let (nines, warning) = file_durability(k, m, cut.count);
		Ok(json!({
			"bytes": params.bytes,
			"k": k,
			"m": m,
			"segments": cut.count,
			"segmentBytes": cut.segment_bytes,
			"shardBytes": shard_bytes,
			"nines": nines,
			"warning": warning,
			"duration": duration,
			"maxPrice": max_price.to_string(),
			"escrow": escrow.to_string(),
			"deposits": deposits.to_string(),
			"total": escrow.saturating_add(deposits).to_string(),
		}))
	}

	/// Stores a file on the market; returns the contract and what it holds.
	pub async fn upload(
		&self,
		params: UploadParams,
		progress: Option<Progress>,
	) -> Result<Value, FilesError> {
		let result = self.store_file(params, progress).await;
		count(&self.metrics.uploads, "sent", &self.metrics.uploaded_bytes, &result);
		result
	}

	async fn store_file(
		&self,
		params: UploadParams,
		progress: Option<Progress>,
	) -> Result<Value, FilesError> {
		let signer = self.signer()?.clone();
		signer.caught_up()?;
		let encrypt = params.encrypt.unwrap_or(true);
		let (name, size, source) = match (&params.path, &params.data) {
			(Some(path), None) => {
				let (file, len) = crate::local_file::open_source(path)
					.map_err(|e| FilesError::invalid(e.to_string()))?;
				(path.clone(), len, Source::File(Arc::new(file)))
			}
			(None, Some(data)) => {
				if data.len() as u64 > 2 * MAX_INLINE_BYTES + 2 {
					return Err(FilesError::invalid(format!(
						"inline data is limited to {MAX_INLINE_BYTES} bytes: give a path"
					)));
				}
				let bytes = hex_bytes(data)?;
				("inline data".to_string(), bytes.len() as u64, Source::Inline(bytes))
			}
			_ => return Err(FilesError::invalid("give either `path` or `data`")),
		};
		let name = match &params.name {
			Some(given) => check_name(given)?.to_string(),
			None => name,
		};
		// Where the journal finds the bytes again after a crash.
		let origin = match (&params.path, &source) {
			(Some(path), Source::File(_)) => journal::Origin::Path(path.clone()),
			(_, Source::Inline(bytes)) => journal::Origin::Inline(bytes.clone()),
			(None, Source::File(_)) => unreachable!("a file source comes from a path"),
		};
		// The market's side, before any work: providers, price, balance.
		let plan = QuoteParams {
			bytes: size,
			k: params.k,
			m: params.m,
			duration: params.duration,
			max_price: params.max_price.clone(),
			encrypt: Some(encrypt),
			segment_bytes: params.segment_bytes,
		};
		let Planned { k, m, cut, duration, .. } = self.plan_upload(&signer, &name, &plan)?;
		let (nines, warning) = file_durability(k, m, cut.count);
		if let Some(warning) = &warning {
			log::warn!(target: "cairn-client", "{warning}");
		}
		let part = Part {
			name: &name,
			source: &source,
			origin: &origin,
			k,
			m,
			encrypt,
			renewal: RenewalPolicy { auto: params.auto_renew.unwrap_or(true), term: duration },
			limit: super::max_price(params.max_price.as_deref())?,
			range: (0, size),
			segment: None,
		};
		// One contract per segment, made and sent one after the other.
		let file = super::random_id();
		let mut stored: Vec<Stored> = Vec::with_capacity(cut.count as usize);
		for index in 0..cut.count {
			let (offset, bytes) = cut.segment(index);
			let segment = (cut.count > 1).then_some(Segment {
				file,
				index: index as u32,
				count: cut.count as u32,
				offset,
				total: size,
			});
			let part = Part { range: (offset, bytes), segment, ..part };
			match self.store_segment(&signer, part, progress.as_ref()).await {
				Ok(segment) => stored.push(segment),
				Err(error) => {
					// Nothing is left half-made: the segments stored so far are ended.
					for contract in stored.iter().map(|segment| segment.contract) {
						if let Err(ended) = self.end_contract(&signer, contract).await {
							log::warn!(
								target: "cairn-client",
								"{name}: segment {index} failed; ending contract {contract} of an \
								 earlier segment failed too: {ended}"
							);
						}
					}
					if !stored.is_empty() {
						log::warn!(
							target: "cairn-client",
							"{name}: segment {index} of {}: {error}; the segments stored before \
							 it were ended",
							cut.count
						);
					}
					return Err(error);
				}
			}
		}
		let (first, last) = (&stored[0], &stored[stored.len() - 1]);
		let failures: Vec<String> = stored
			.iter()
			.enumerate()
			.flat_map(|(index, segment)| {
				segment.failures.iter().map(move |failure| match cut.count {
					1 => failure.clone(),
					_ => format!("segment {index}: {failure}"),
				})
			})
			.collect();
		let mut done = json!({
			"contract": first.contract,
			"block": format!("{:?}", last.block),
			"bytes": size,
			"k": k,
			"m": m,
			"shardBytes": first.shard_bytes,
			"nines": nines,
			"warning": warning,
			"escrow": stored.iter().map(|segment| segment.escrow).sum::<Balance>().to_string(),
			"end": stored.iter().map(|segment| segment.end).min(),
			"duration": duration,
			"autoRenew": part.renewal.auto,
			"providers": first.providers.iter().map(cairn_chain::ss58).collect::<Vec<_>>(),
			"sent": stored.iter().map(|segment| segment.sent).sum::<usize>(),
			"failures": failures,
		});
		if cut.count > 1 {
			done["contracts"] = stored.iter().map(|segment| segment.contract).collect();
			done["segments"] = cut.count.into();
			done["segmentBytes"] = cut.segment_bytes.into();
		}
		Ok(done)
	}

	/// Stores `part` of a file (all of it, or one segment) under a contract of its own: codes it
	/// into shards, makes the contract, and sends each shard to its provider.
	async fn store_segment(
		&self,
		signer: &Arc<Signer>,
		part: Part<'_>,
		progress: Option<&Progress>,
	) -> Result<Stored, FilesError> {
		let Part { name, source, origin, k, m, encrypt, renewal, limit, range, segment } = part;
		let (offset, size) = range;
		let report = |mut value: Value| {
			if let Some(segment) = segment {
				value["segment"] = segment.index.into();
				value["segments"] = segment.count.into();
			}
			report(progress, value)
		};
		// This contract's own plan, as the market stands after the segments before it.
		let at = self.state.at(None);
		let free = self.state.free_balance(at, &signer.account())?;
		let Planned { coding, shard_bytes, quote, duration, max_price, .. } =
			self.plan_coding(at, name, size, encrypt, None, &[(k, m)], renewal.term, limit, free)?;
		let shards = u32::from(k) + u32::from(m);
		report(json!({ "stage": "encoding", "bytes": size, "shards": shards }));
		let file_key = match encrypt {
			true => FileKey::Derived(FileSecret::new_salt()),
			false => FileKey::None,
		};
		let mut record =
			FileRecord { manifest: Vec::new(), key: file_key, name: name.into(), renewal, segment };
		let key = self.file_key(&record)?;
		// The shards are coded into files and hashed as they are written (commitment, digest,
		// piece paths), then sent from there: the upload holds a stripe and a few pieces in
		// memory.
		let dir = self.shard_dir()?;
		let files = dir.create_all(shards as usize).map_err(disk)?;
		let part = source.part(offset, size);
		let (manifest, outgoing, specs) = tokio::task::spawn_blocking(move || {
			let encryption = match &key {
				Some(key) => Encryption::with_random_nonce(key),
				None => Encryption::Off,
			};
			let (manifest, read) =
				code_into(coding, encryption, part, &files, true).map_err(|e| match e {
					CodingError::Encoding(e) => FilesError::Data(format!("encoding: {e}")),
					CodingError::Disk(e) => disk(e),
				})?;
			let mut specs = Vec::with_capacity(files.len());
			let mut outgoing = Vec::with_capacity(files.len());
			for (file, mut read) in files.into_iter().zip(read) {
				let commitment = read.commitment.take().expect("asked for");
				specs.push(ShardSpec {
					root: cairn_primitives::field::fr_to_le_bytes(&commitment.root),
					blake3: commitment.blake3,
					bytes: commitment.bytes,
				});
				outgoing.push(OutgoingShard::new(file, read));
			}
			Ok::<_, FilesError>((manifest, outgoing, specs))
		})
		.await??;
		// A source that shrank or grew while it was read would make a record that disagrees
		// with the file's other segments: nothing is paid for it.
		if manifest.plaintext_bytes != size {
			return Err(FilesError::invalid(format!(
				"{name} changed while it was read: {} bytes where {size} were expected",
				manifest.plaintext_bytes
			)));
		}
		debug_assert!(specs.iter().all(|spec| spec.bytes == shard_bytes));

		record.manifest = manifest.to_bytes().to_vec();
		let sealed = self.seal_record(signer, &mut record)?;
		report(json!({ "stage": "contract", "escrow": quote.escrow.to_string() }));
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
			origin: origin.clone(),
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
				report(json!({ "stage": "submitted" }));
				Ok(())
			})
			.await?;
		let (contract, end) = included.market_event("ContractCreated", |event| match event {
			pallet_market::Event::ContractCreated { contract, end, .. } => Some((*contract, *end)),
			_ => None,
		})?;
		entry.stage = journal::Stage::Created { contract };
		let journaled = self.journal.write(&upload_id, &entry);
		journaled.map_err(|e| FilesError::local("keeping the upload's journal", e))?;
		self.save_record(contract, &record)
			.map_err(|e| FilesError::local("keeping the file's manifest", e))?;
		report(
			json!({ "stage": "sending", "contract": contract, "total": shard_bytes * u64::from(shards) }),
		);

		// The repair loop leaves these shards alone while they are being sent (until this call
		// ends, or is dropped with its caller gone: the journal then finishes the upload).
		let now = self.state.client().info().best_number;
		let keys: Vec<(ContractId, u32)> = (0..shards).map(|index| (contract, index)).collect();
		let sending = self.being_sent.mark(keys.clone()).ok_or_else(|| {
			FilesError::Busy(format!("contract {contract} is being sent already"))
		})?;
		self.sent(keys.iter().copied().zip(providers.iter().cloned()), shard_bytes, now).await;
		let at = self.state.at(None);
		let total = shard_bytes * u64::from(shards);
		let done = std::sync::atomic::AtomicU64::new(0);
		let on_sent = |bytes: u64| {
			let sent = done.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed) + bytes;
			report(
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
		let sent = keys.iter().copied().zip(providers.iter().cloned());
		self.sent(sent, shard_bytes, sent_at).await;
		drop(sending);
		for failure in &failures {
			log::warn!(target: "cairn-client", "contract {contract}: {failure} (resent later)");
		}
		let stored = Stored {
			contract,
			block: included.block,
			shard_bytes,
			escrow: quote.escrow,
			end,
			sent: shards as usize - failures.len(),
			providers,
			failures,
		};
		// A shard not sent is sent again from the source by the journal's next check.
		if stored.failures.is_empty() {
			running.done();
		}
		report(json!({ "stage": "sent", "contract": contract }));
		Ok(stored)
	}

	/// Records `shards` of `bytes` each as sent to their providers at block `now`: the repair
	/// loop sends one again ([`resend_after`]) if its provider has not confirmed it by then.
	pub(super) async fn sent(
		&self,
		shards: impl IntoIterator<Item = ((ContractId, u32), AccountId)>,
		bytes: u64,
		now: BlockNumber,
	) {
		let mut resend_at = self.resend_at.lock().await;
		for (key, who) in shards {
			resend_at.insert(key, (who, now.saturating_add(resend_after(bytes))));
		}
	}

	/// Sends shard `index` of `contract` to its provider `who` (as of block `at`), trying
	/// [`PUSH_ATTEMPTS`] times; `on_sent` hears of the bytes as they go.
	pub(super) async fn send_shard(
		&self,
		at: Hash,
		contract: ContractId,
		index: u32,
		who: &AccountId,
		shard: &OutgoingShard,
		on_sent: &(dyn Fn(u64) + Send + Sync),
	) -> Result<(), String> {
		let signer = self.signer().map_err(|failure| failure.to_string())?;
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

	/// Waits until every shard of the file an upload returned (`stored`) is confirmed, in each
	/// of its contracts, reporting each: as long as the chain still lets one be confirmed, that
	/// is until the last pending shard's deadline (which grows with the bytes its buyer sends).
	pub async fn await_confirmed(
		&self,
		stored: &Value,
		progress: Option<&Progress>,
	) -> Result<(), FilesError> {
		let contracts: Vec<ContractId> = match stored["contracts"].as_array() {
			Some(contracts) => contracts.iter().filter_map(Value::as_u64).collect(),
			None => stored["contract"].as_u64().into_iter().collect(),
		};
		let Some(&first) = contracts.first() else {
			return Err(FilesError::Data(format!("the upload returned no contract: {stored}")));
		};
		let mut imports = self.state.client().import_notification_stream();
		let mut last = usize::MAX;
		loop {
			let at = self.state.at(None);
			let now = self.state.number(at);
			let (mut confirmed, mut shards, mut open) = (0, 0, 0);
			for &contract in &contracts {
				let chain = self
					.state
					.contract(at, contract)?
					.ok_or_else(|| FilesError::Refused(format!("contract {contract} is gone")))?;
				for shard in &chain.shards {
					match shard.status {
						ShardStatus::Active => confirmed += 1,
						ShardStatus::Pending { deadline } if now <= deadline => open += 1,
						_ => {}
					}
				}
				shards += chain.shards.len();
			}
			if confirmed != last {
				last = confirmed;
				report(
					progress,
					json!({
						"stage": "confirming",
						"contract": first,
						"confirmed": confirmed,
						"shards": shards,
					}),
				);
			}
			if confirmed == shards {
				return Ok(());
			}
			if open == 0 {
				return Err(FilesError::Network(format!(
					"{confirmed} of {shards} shards confirmed by block {now}: the others' \
					 confirmation deadlines have passed"
				)));
			}
			if imports.next().await.is_none() {
				return Err(FilesError::Busy("the node is stopping".into()));
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use cairn_storage::encoding::{manifest::MANIFEST_BYTES, sealed::SEALED_OVERHEAD, SALT_BYTES};
	use codec::Encode;

	#[test]
	fn the_longest_name_fits_the_sealed_manifest_whole() {
		let record = FileRecord {
			manifest: vec![0xff; MANIFEST_BYTES],
			key: FileKey::Derived([0xff; SALT_BYTES]),
			name: "é".repeat(MAX_NAME_BYTES / 2),
			renewal: RenewalPolicy { auto: true, term: BlockNumber::MAX },
			segment: Some(Segment {
				file: [0xff; crate::FILE_ID_BYTES],
				index: u32::MAX,
				count: u32::MAX,
				offset: u64::MAX,
				total: u64::MAX,
			}),
		};
		assert_eq!(check_name(&record.name).ok(), Some(record.name.as_str()));
		let limit: u32 = <Runtime as pallet_market::Config>::MaxManifestBytes::get();
		assert!(record.encoded_size() + SEALED_OVERHEAD <= limit as usize);
	}

	#[test]
	fn a_file_is_cut_into_segments_that_cover_it_once() {
		for (size, capacity, count) in
			[(0, 10, 1), (1, 10, 1), (10, 10, 1), (11, 10, 2), (25, 10, 3), (30, 10, 3)]
		{
			let cut = Cut::new(size, capacity);
			assert_eq!(cut.count, count, "{size} in {capacity}");
			let mut next = 0;
			for index in 0..cut.count {
				let (offset, len) = cut.segment(index);
				assert_eq!(offset, next);
				assert!(len <= capacity && (len > 0 || size == 0));
				next += len;
			}
			assert_eq!(next, size);
		}
	}

	#[test]
	fn a_segment_fills_the_largest_shards_and_no_more() {
		let max = cairn_primitives::tree::MAX_SHARD_BYTES;
		for (k, m) in [(1, 1), (4, 2), (10, 6)] {
			let coding = CodingParams::new(k, m).expect("a coding");
			for encrypt in [false, true] {
				let capacity = segment_capacity(coding, encrypt);
				let shard = |size| shards_of(coding, encoded_len(size, encrypt).unwrap());
				assert!(shard(capacity) <= max, "{k}+{m} {encrypt}");
				assert!(shard(capacity + 1) > max, "{k}+{m} {encrypt}");
				// At 4 + 2, about a gigabyte.
				assert!(capacity > (k as u64) * max * 99 / 100, "{k}+{m} {encrypt}: {capacity}");
			}
		}
	}

	#[test]
	fn names_are_text_of_a_bounded_length() {
		for good in ["a", "photos/2026/cat.jpg", "bucket/key with spaces", "ünïcode/名前"] {
			assert_eq!(check_name(good).ok(), Some(good));
		}
		let long = "a".repeat(MAX_NAME_BYTES + 1);
		for bad in ["", "line\nbreak", "nul\0", "tab\t", "escape\u{1b}[2J", long.as_str()] {
			let error = check_name(bad).expect_err(bad);
			assert!(error.is_invalid(), "{bad:?}: {error}");
		}
	}
}
