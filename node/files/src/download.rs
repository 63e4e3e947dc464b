//! Download: any `k` shards, each checked against its on-chain BLAKE3 digest, fetched from the
//! providers concurrently; a provider that fails or stalls is replaced by a spare.

use std::{
	collections::HashSet,
	io::{BufWriter, Write},
	ops::Range,
};

use cairn_runtime::{Hash, Runtime};
use cairn_storage::encoding::{decode_span, decode_stream, EncryptionKey, FileManifest, Span};
use futures::{stream::FuturesUnordered, StreamExt};
use pallet_market::{ContractId, ContractOf};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
	count, provider_address, report, sources::ShardSource, Files, FilesError, Progress,
	MAX_INLINE_BYTES,
};
use crate::{
	shards::{Filling, ShardDir, ShardFile},
	transfer::fetch_shard,
};

/// A download's progress in fetching: shard bytes fetched for the parts before this one, of
/// `total`.
#[derive(Clone, Copy)]
pub(super) struct Fetched {
	pub before: u64,
	pub total: u64,
}

/// What `cairn_download` takes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadParams {
	/// The contract (of a file cut into segments: any of its segments').
	pub contract: Option<ContractId>,
	/// Or the name the file was stored under: the newest open contract of this account with
	/// that name.
	pub name: Option<String>,
	/// Where to write the file; without it the bytes come back as hex (small files only).
	pub path: Option<String>,
	/// Only these bytes of the file, the first and the last: of a file cut into segments, only
	/// the segments that hold them are fetched.
	pub range: Option<[u64; 2]>,
}

/// One contract of a file to download: the contract, its record's manifest and its key.
struct Part {
	id: ContractId,
	contract: ContractOf<Runtime>,
	manifest: FileManifest,
	key: Option<EncryptionKey>,
	/// Where it starts in the file.
	offset: u64,
}

impl Part {
	/// The stripes that hold the part's bytes `skip..skip + take`, when they are fewer than
	/// all of its stripes: their bytes of each shard come in pieces that check against the
	/// shard's digest, and an encrypted part's sealed chunks authenticate them at their place
	/// too. (Bytes past the part's end belong to the next part.)
	fn span(&self, skip: u64, take: u64) -> Option<Span> {
		let end = skip.saturating_add(take).min(self.manifest.plaintext_bytes);
		if skip >= end {
			return None;
		}
		let span = self.manifest.span(skip, end - 1).ok()?;
		(span.stripes.end - span.stripes.start < self.manifest.stripe_count).then_some(span)
	}

	/// The bytes of each of its shards that hold `span` (all of them without one).
	fn shard_bytes(&self, span: Option<&Span>) -> Range<u64> {
		let piece = self.manifest.coding.piece_bytes() as u64;
		let stripes = span.map_or(0..self.manifest.stripe_count, |span| span.stripes.clone());
		stripes.start * piece..stripes.end * piece
	}

	/// What fetching `span` of it (all of it without one) takes: the bytes of `k` shards, in
	/// whole pieces.
	fn fetch_bytes(&self, span: Option<&Span>) -> u64 {
		let bytes = self.shard_bytes(span);
		let total = self.shard_bytes(None).end;
		u64::from(self.contract.k) * crate::transfer::moved_bytes(&bytes, total)
	}
}

/// Where a download goes: a file, or memory.
enum Output {
	File(crate::local_file::Download),
	Memory(Vec<u8>),
}

impl Write for Output {
	fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
		match self {
			Output::File(download) => download.file().write(data),
			Output::Memory(bytes) => bytes.write(data),
		}
	}

	fn flush(&mut self) -> std::io::Result<()> {
		match self {
			Output::File(download) => download.file().flush(),
			Output::Memory(_) => Ok(()),
		}
	}
}

/// Writes the bytes from `skip` on, at most `take` of them, of what is written to it; drops
/// the rest.
struct Window<W> {
	inner: W,
	skip: u64,
	take: u64,
}

impl<W: Write> Write for Window<W> {
	fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
		let skipped = self.skip.min(data.len() as u64) as usize;
		self.skip -= skipped as u64;
		let kept = &data[skipped..];
		let kept = &kept[..self.take.min(kept.len() as u64) as usize];
		self.inner.write_all(kept)?;
		self.take -= kept.len() as u64;
		Ok(data.len())
	}

	fn flush(&mut self) -> std::io::Result<()> {
		self.inner.flush()
	}
}

impl Files {
	/// Fetches `k` shards of a contract and decodes the file.
	pub async fn download(
		&self,
		params: DownloadParams,
		progress: Option<Progress>,
	) -> Result<Value, FilesError> {
		let result = self.fetch_file(params, progress).await;
		count(&self.metrics.downloads, "complete", &self.metrics.downloaded_bytes, &result);
		result
	}

	/// The contracts of the file a caller names, in order, each with its manifest and key;
	/// and the file's size. A file with a segment missing is refused ([`Named::whole`]).
	fn parts(&self, params: &DownloadParams) -> Result<(Vec<Part>, u64), FilesError> {
		let ids = self.named_file(params.contract, params.name.as_deref())?.whole()?;
		let at = self.state.at(None);
		let mut parts = Vec::with_capacity(ids.len());
		let mut size = 0;
		for id in ids {
			let contract = self.existing_contract(at, id)?;
			let record = self.load_record(id).ok_or_else(|| {
				FilesError::invalid(format!(
					"contract {id} has no manifest this node's account can open: files are \
					 decoded with the secret of the account that stored them"
				))
			})?;
			let manifest = FileManifest::from_bytes(&record.manifest)
				.map_err(|e| FilesError::Data(format!("manifest: {e}")))?;
			let key = self.file_key(&record)?;
			let offset = record.segment.map_or(0, |segment| segment.offset);
			size = record.segment.map_or(manifest.plaintext_bytes, |segment| segment.total);
			parts.push(Part { id, contract, manifest, key, offset });
		}
		Ok((parts, size))
	}

	/// The file a caller names, as a download of it would find it: `params` pinned to its
	/// first contract (so that a later download reads this file, not a newer one stored
	/// under the same name meanwhile), and its size.
	pub fn resolve(&self, params: &DownloadParams) -> Result<(DownloadParams, u64), FilesError> {
		let (parts, size) = self.parts(params)?;
		let pinned = DownloadParams { contract: Some(parts[0].id), name: None, ..params.clone() };
		Ok((pinned, size))
	}

	async fn fetch_file(
		&self,
		params: DownloadParams,
		progress: Option<Progress>,
	) -> Result<Value, FilesError> {
		let progress = progress.as_ref();
		let (parts, size) = self.parts(&params)?;
		let id = parts[0].id;
		let (first, last) = match params.range {
			Some([first, last]) if first <= last && last < size => (first, last),
			Some([first, last]) => {
				return Err(FilesError::invalid(format!(
					"the range {first}-{last} is not within the file's {size} bytes"
				)))
			}
			None => (0, size.saturating_sub(1)),
		};
		let length = if size == 0 { 0 } else { last - first + 1 };
		if params.path.is_none() && length > MAX_INLINE_BYTES {
			return Err(FilesError::invalid(format!(
				"the file has {length} bytes; inline downloads are limited to \
				 {MAX_INLINE_BYTES}: give a path"
			)));
		}
		let target = params
			.path
			.as_deref()
			.map(crate::local_file::Target::check)
			.transpose()
			.map_err(|e| FilesError::invalid(e.to_string()))?;
		// Only the segments that hold the bytes asked for (an empty file's one segment).
		let needed: Vec<Part> = parts
			.into_iter()
			.filter(|part| {
				let end = part.offset + part.manifest.plaintext_bytes;
				length == 0 || (part.offset <= last && end > first)
			})
			.collect();
		// Each part's bytes within the range.
		let window = |part: &Part| {
			let skip = first.saturating_sub(part.offset);
			(skip, (last + 1).saturating_sub(part.offset.max(first)))
		};
		let total = needed
			.iter()
			.map(|part| {
				let (skip, take) = window(part);
				part.fetch_bytes(part.span(skip, take).as_ref())
			})
			.sum();
		report(
			progress,
			json!({ "stage": "fetching", "contract": id, "received": 0, "total": total }),
		);
		let output = match target {
			Some(target) => {
				Output::File(target.create().map_err(|e| FilesError::invalid(e.to_string()))?)
			}
			None => Output::Memory(Vec::new()),
		};
		let mut output = BufWriter::new(output);
		let mut fetched = Fetched { before: 0, total };
		for part in needed {
			let (skip, take) = window(&part);
			output = self.read_part(&part, skip, take, output, progress, &mut fetched).await?;
		}
		let output = output
			.into_inner()
			.map_err(|e| FilesError::local("writing the download", e.into_error()))?;
		let data = match output {
			Output::File(download) => {
				download.finish().map_err(|e| {
					FilesError::local("finishing the download", std::io::Error::other(e))
				})?;
				None
			}
			Output::Memory(data) => Some(data),
		};
		report(progress, json!({ "stage": "done", "contract": id, "bytes": length }));
		// `fetched`: the shard bytes asked of providers.
		let mut done = json!({ "contract": id, "bytes": length, "fetched": fetched.before });
		if params.range.is_some() {
			done["range"] = json!([first, last]);
			done["size"] = size.into();
		}
		match data {
			Some(data) => done["data"] = format!("0x{}", hex::encode(data)).into(),
			None => done["path"] = params.path.into(),
		}
		Ok(done)
	}

	/// Writes the part's bytes `skip..skip + take` to `output`: decoded from the stripes that
	/// hold them when those are fewer than all ([`Part::span`]); else, or when those do not
	/// decode, from whole shards, each checked against its digest.
	async fn read_part<W: Write + Send + 'static>(
		&self,
		part: &Part,
		skip: u64,
		take: u64,
		output: W,
		progress: Option<&Progress>,
		fetched: &mut Fetched,
	) -> Result<W, FilesError> {
		let mut window = Window { inner: output, skip, take };
		if let Some(span) = part.span(skip, take) {
			// The span decodes from the start of its first chunk.
			window.skip -= span.plain.start;
			let (back, decoded) =
				self.decode_part(part, Some(&span), window, progress, *fetched).await?;
			fetched.before += part.fetch_bytes(Some(&span));
			let Err(error) = decoded else {
				return Ok(back.inner);
			};
			log::warn!(
				target: "cairn-client",
				"contract {}: the stripes of bytes {skip}+{take} did not decode ({error}); \
				 fetching whole shards",
				part.id
			);
			fetched.total += part.fetch_bytes(None);
			// The bytes written were authenticated: on from the first one not written.
			window = Window { inner: back.inner, skip: skip + take - back.take, take: back.take };
		}
		let (back, decoded) = self.decode_part(part, None, window, progress, *fetched).await?;
		decoded?;
		fetched.before += part.fetch_bytes(None);
		Ok(back.inner)
	}

	/// Fetches `k` shards' bytes of `span` of a part (whole shards without one) and decodes them
	/// into `window` as they arrive ([`decode_following`]); the window back, with what went
	/// wrong if they could not be fetched or decoded.
	async fn decode_part<W: Write + Send + 'static>(
		&self,
		part: &Part,
		span: Option<&Span>,
		window: Window<W>,
		progress: Option<&Progress>,
		fetched: Fetched,
	) -> Result<(Window<W>, Result<(), FilesError>), FilesError> {
		let k = usize::from(part.contract.k);
		let bytes = span.is_some().then(|| part.shard_bytes(span));
		// The directory lives until the decoding ends: its files are removed with it.
		let dir = match self.shard_dir() {
			Ok(dir) => dir,
			Err(error) => return Ok((window, Err(error))),
		};
		let fetch = match self.begin_fetch(part.id, &part.contract, k, None, &dir) {
			Ok(fetch) => fetch,
			Err(error) => return Ok((window, Err(error))),
		};
		let mut first = vec![None; part.contract.shards.len()];
		for (source, filling) in &fetch.first {
			first[source.index] = Some(filling.clone());
		}
		let shards = async {
			let shards = self
				.fetch_begun(fetch, part.id, &part.contract, bytes, progress, fetched, &dir)
				.await;
			if shards.is_ok() {
				report(progress, json!({ "stage": "decoding", "contract": part.id }));
			}
			shards
		};
		let decoding =
			Decoding { manifest: part.manifest, key: part.key.clone(), span: span.cloned() };
		decode_following(decoding, first, shards, window).await
	}

	/// Begins a fetch of any `k` shards of `contract` (other than `skip`), into files of `dir`:
	/// asks one source per shard first (confirmed providers first), the others are spares.
	pub(super) fn begin_fetch(
		&self,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		k: usize,
		skip: Option<usize>,
		dir: &ShardDir,
	) -> Result<ShardFetch, FilesError> {
		self.signer()?;
		let candidates =
			self.former.sources(id, contract).into_iter().filter(|s| Some(s.index) != skip);
		// One source per shard at first: a shard's former providers are its spares.
		let mut asked = HashSet::new();
		let (mut first, spares): (Vec<ShardSource>, Vec<ShardSource>) =
			candidates.partition(|source| asked.insert(source.index));
		let spares = first.split_off(k.min(first.len())).into_iter().chain(spares).collect();
		let first = first
			.into_iter()
			.map(|source| Ok((source, Filling::new(dir.create().map_err(super::disk)?))))
			.collect::<Result<Vec<_>, FilesError>>()?;
		let unfinished = Unfinished(first.iter().map(|(_, filling)| filling.clone()).collect());
		Ok(ShardFetch { k, first, spares, unfinished })
	}

	/// Any `k` shards of `contract`, or their `bytes`, in files of `dir`; `None` where not
	/// fetched. Asked of their providers (confirmed ones first), then of those they were moved
	/// away from. Each file is a [`Filling`], failed if its fetch does not end well.
	#[allow(clippy::too_many_arguments)]
	pub(super) async fn fetch_any(
		&self,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		k: usize,
		skip: Option<usize>,
		bytes: Option<Range<u64>>,
		progress: Option<&Progress>,
		fetched: Fetched,
		dir: &ShardDir,
	) -> Result<Vec<Option<ShardFile>>, FilesError> {
		let fetch = self.begin_fetch(id, contract, k, skip, dir)?;
		self.fetch_begun(fetch, id, contract, bytes, progress, fetched, dir).await
	}

	/// Carries a fetch [`begin_fetch`](Self::begin_fetch) began on to its `k` shards; a spare
	/// is asked in place of each source that fails. Every shard file it fills ends done or
	/// failed, whatever happens to the fetch (dropped included).
	#[allow(clippy::too_many_arguments)]
	async fn fetch_begun(
		&self,
		fetch: ShardFetch,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		bytes: Option<Range<u64>>,
		progress: Option<&Progress>,
		fetched: Fetched,
		dir: &ShardDir,
	) -> Result<Vec<Option<ShardFile>>, FilesError> {
		let ShardFetch { k, first, spares, mut unfinished } = fetch;
		let at = self.state.at(None);
		let received = std::sync::atomic::AtomicU64::new(fetched.before);
		let total = fetched.total;
		let on_fetched = |bytes: u64| {
			let done = received.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed) + bytes;
			report(
				progress,
				json!({ "stage": "fetching", "contract": id, "received": done, "total": total }),
			);
		};
		let fetch = |source: ShardSource, filling: Filling| {
			let on_fetched = &on_fetched;
			let bytes = bytes.clone();
			async move {
				let fetched =
					self.fetch_from(at, id, contract, &source, bytes, on_fetched, &filling).await;
				if fetched.is_err() {
					filling.fail();
				}
				(source, filling, fetched)
			}
		};
		let mut shards: Vec<Option<ShardFile>> = vec![None; contract.shards.len()];
		let mut running: FuturesUnordered<_> =
			first.into_iter().map(|(source, filling)| fetch(source, filling)).collect();
		let mut spares = spares.into_iter();
		let mut have = 0;
		let mut errors = Vec::new();
		while let Some((source, filling, result)) = running.next().await {
			let index = source.index;
			match result {
				Ok(()) if shards[index].is_none() => {
					shards[index] = Some(filling.file().clone());
					have += 1;
					if have == k {
						return Ok(shards);
					}
				}
				Ok(()) => {}
				Err(error) => {
					log::warn!(
						target: "cairn-client",
						"contract {id} shard {index} from {}: {error}; asking a spare",
						cairn_chain::ss58(&source.provider)
					);
					errors.push(format!("shard {index}: {error}"));
					if let Some(spare) = spares.find(|spare| shards[spare.index].is_none()) {
						let filling = Filling::new(dir.create().map_err(super::disk)?);
						unfinished.0.push(filling.clone());
						running.push(fetch(spare, filling));
					}
				}
			}
		}
		Err(FilesError::Network(format!(
			"only {have} of the {k} shards needed could be fetched ({})",
			errors.join("; ")
		)))
	}

	/// Shard `source.index` of `contract` (or its `bytes`), fetched from `source.provider` into
	/// `into`, piece by piece, each checked against the shard's digest.
	#[allow(clippy::too_many_arguments)]
	pub(super) async fn fetch_from(
		&self,
		at: Hash,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		source: &ShardSource,
		bytes: Option<Range<u64>>,
		on_fetched: &(dyn Fn(u64) + Send + Sync),
		into: &Filling,
	) -> Result<(), String> {
		// Providers serve a shard's bytes only to the owner's grantees.
		let signer = self.signer().map_err(|failure| failure.to_string())?;
		let from = provider_address(&self.state, at, &source.provider)?;
		let index = source.index as u32;
		let grant = signer.grant(id, index, self.network.peer_id())?;
		let spec = &contract.shards[source.index].spec;
		fetch_shard(&self.network, &from, id, index, spec, bytes, grant, on_fetched, into).await?;
		Ok(())
	}
}

/// A fetch of any `k` shards of a contract, begun ([`Files::begin_fetch`]).
pub(super) struct ShardFetch {
	k: usize,
	/// The sources asked first, one per shard, each with the file it fills.
	first: Vec<(ShardSource, Filling)>,
	/// The sources asked in place of those that fail, in order.
	spares: Vec<ShardSource>,
	/// Every file filled so far.
	unfinished: Unfinished,
}

/// Shard files a fetch fills: those not done when it is dropped (the fetch ended, or was itself
/// dropped) fail, so that nothing follows them for ever.
struct Unfinished(Vec<Filling>);

impl Drop for Unfinished {
	fn drop(&mut self) {
		for filling in &self.0 {
			filling.fail();
		}
	}
}

/// How a part decodes: its manifest and key, and the span of it wanted (all of it without one).
#[derive(Clone)]
struct Decoding {
	manifest: FileManifest,
	key: Option<EncryptionKey>,
	span: Option<Span>,
}

impl Decoding {
	/// Decodes from `readers` (by shard index) into `window` (blocking); the window back, with
	/// what went wrong.
	fn run<R: std::io::Read, W: Write>(
		&self,
		mut readers: Vec<Option<R>>,
		mut window: Window<W>,
	) -> (Window<W>, Result<(), FilesError>) {
		let (manifest, key) = (&self.manifest, self.key.as_ref());
		let decoded = match &self.span {
			Some(span) => decode_span(manifest, key, &mut readers, span, &mut window).map(drop),
			None => decode_stream(manifest, key, &mut readers, &mut window).map(drop),
		};
		(window, decoded.map_err(|e| FilesError::Data(format!("decoding: {e}"))))
	}
}

/// Decodes into `window` while `fetch` fills the shards: the decoding follows the `first`
/// shards asked for (by index), reading only bytes already checked against their digests. If one
/// of them fails and the fetch ends with another in its place, the decoding has stopped where
/// that shard's bytes ran out, and runs again over the shards fetched, writing on from the
/// first byte it had not written. The window back, with what went wrong.
///
/// `fetch` must end every filling of `first` (done or failed) when it ends, or the decoding
/// waits for ever.
async fn decode_following<W: Write + Send + 'static>(
	decoding: Decoding,
	first: Vec<Option<Filling>>,
	fetch: impl std::future::Future<Output = Result<Vec<Option<ShardFile>>, FilesError>>,
	window: Window<W>,
) -> Result<(Window<W>, Result<(), FilesError>), FilesError> {
	let (skip, take) = (window.skip, window.take);
	let following = {
		let (decoding, followers) = (decoding.clone(), first.iter());
		let followers = followers.map(|filling| filling.as_ref().map(Filling::follower)).collect();
		tokio::task::spawn_blocking(move || decoding.run(followers, window))
	};
	let shards = fetch.await;
	// Every shard's fetch has ended by now, well or not: the decoding does not wait for ever.
	let (window, decoded) = following.await?;
	let shards = match shards {
		Ok(shards) => shards,
		Err(error) => return Ok((window, Err(error))),
	};
	let replaced = first.iter().flatten().any(|filling| !filling.is_whole());
	if decoded.is_ok() || !replaced {
		return Ok((window, decoded));
	}
	let written = take - window.take;
	let window = Window { inner: window.inner, skip: skip + written, take: window.take };
	Ok(tokio::task::spawn_blocking(move || {
		let readers = shards.iter().map(|shard| shard.as_ref().map(ShardFile::reader)).collect();
		decoding.run(readers, window)
	})
	.await?)
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A part decodes while its shards fill. When one of the shards asked for first fails
	/// half-way and another takes its place, the decoding runs again over the shards fetched and
	/// writes on from the first byte it had not written: the bytes come out whole, each once.
	#[tokio::test]
	async fn decoding_follows_the_fetch_and_resumes_past_a_failed_shard() {
		use cairn_storage::encoding::{encode_stream, CodingParams, Encryption};

		let root = tempfile::tempdir().expect("a directory");
		let dir = ShardDir::new(&root.path().join("shards")).expect("a shard directory");
		let key = EncryptionKey::from_bytes([5; 32]);
		let mut data = vec![0u8; 3 * 1024 * 1024 + 123];
		blake3::Hasher::new().update(b"file").finalize_xof().fill(&mut data);
		let coding = CodingParams::new(4, 2).expect("a coding");
		let mut coded = vec![Vec::new(); 6];
		let manifest =
			encode_stream(coding, Encryption::with_random_nonce(&key), &data[..], &mut coded)
				.expect("coded");
		let len = data.len() as u64;
		for (skip, take) in [(0, len), (1_000, 2_000_000)] {
			for fails in [false, true] {
				let first: Vec<Option<Filling>> = (0..6)
					.map(|index| (index < 4).then(|| Filling::new(dir.create().expect("a file"))))
					.collect();
				let fetch = {
					let (first, coded, dir) = (first.clone(), coded.clone(), &dir);
					async move {
						let mut shards: Vec<Option<ShardFile>> =
							first.iter().map(|f| f.as_ref().map(|f| f.file().clone())).collect();
						let shard_bytes = coded[0].len();
						// In turns, a piece of each at a time; shard 1 stops half-way.
						for at in (0..shard_bytes).step_by(100_000) {
							let end = (at + 100_000).min(shard_bytes);
							for (index, filling) in first.iter().enumerate() {
								let Some(filling) = filling else { continue };
								if fails && index == 1 && at >= shard_bytes / 2 {
									continue;
								}
								let piece = &coded[index][at..end];
								filling.file().write_all_at(piece, at as u64).expect("written");
								filling.filled(end as u64);
							}
							tokio::task::yield_now().await;
						}
						if fails {
							first[1].as_ref().expect("asked").fail();
							let spare = Filling::new(dir.create().expect("a file"));
							spare.file().write_all_at(&coded[4], 0).expect("written");
							shards[1] = None;
							shards[4] = Some(spare.file().clone());
						}
						for filling in first.iter().flatten() {
							filling.done();
						}
						Ok(shards)
					}
				};
				let decoding = Decoding { manifest, key: Some(key.clone()), span: None };
				let window = Window { inner: Vec::new(), skip, take };
				let (window, decoded) =
					decode_following(decoding, first, fetch, window).await.expect("no panic");
				decoded.unwrap_or_else(|e| panic!("skip {skip} take {take} fails {fails}: {e}"));
				let wanted = &data[skip as usize..(skip + take).min(len) as usize];
				assert!(window.inner == wanted, "skip {skip} take {take} fails {fails}");
				assert_eq!(window.take, take - wanted.len() as u64);
			}
		}
	}

	#[test]
	fn a_window_keeps_only_its_bytes_however_they_are_written() {
		let data: Vec<u8> = (0..100).collect();
		for (skip, take) in [(0, 100), (0, 1000), (10, 20), (99, 5), (100, 5), (0, 0), (30, 70)] {
			for chunk in [1, 7, 64, 100] {
				let mut window = Window { inner: Vec::new(), skip, take };
				for part in data.chunks(chunk) {
					window.write_all(part).expect("written");
				}
				let start = (skip as usize).min(100);
				let end = (start + take as usize).min(100);
				assert_eq!(window.inner, &data[start..end], "skip {skip} take {take} by {chunk}");
			}
		}
	}
}
