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
	shards::{ShardDir, ShardFile},
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
	/// into `window`; the window back, with what went wrong if they could not be fetched or
	/// decoded.
	async fn decode_part<W: Write + Send + 'static>(
		&self,
		part: &Part,
		span: Option<&Span>,
		mut window: Window<W>,
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
		let shards = match self
			.fetch_any(part.id, &part.contract, k, None, bytes, progress, fetched, &dir)
			.await
		{
			Ok(shards) => shards,
			Err(error) => return Ok((window, Err(error))),
		};
		report(progress, json!({ "stage": "decoding", "contract": part.id }));
		let (manifest, key, span) = (part.manifest, part.key.clone(), span.cloned());
		Ok(tokio::task::spawn_blocking(move || {
			let mut readers: Vec<_> =
				shards.iter().map(|shard| shard.as_ref().map(ShardFile::reader)).collect();
			let decoded = match &span {
				Some(span) => {
					decode_span(&manifest, key.as_ref(), &mut readers, span, &mut window).map(drop)
				}
				None => decode_stream(&manifest, key.as_ref(), &mut readers, &mut window).map(drop),
			};
			drop((readers, shards, dir));
			(window, decoded.map_err(|e| FilesError::Data(format!("decoding: {e}"))))
		})
		.await?)
	}

	/// Any `k` shards of `contract` (other than `skip`), or their `bytes`, in files of `dir`;
	/// `None` where not fetched. A whole shard is checked against its digest. Asked of their
	/// providers (confirmed ones first), then of those they were moved away from.
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
		self.signer()?;
		let at = self.state.at(None);
		let mut candidates =
			self.former.sources(id, contract).into_iter().filter(|s| Some(s.index) != skip);
		let received = std::sync::atomic::AtomicU64::new(fetched.before);
		let total = fetched.total;
		let on_fetched = |bytes: u64| {
			let done = received.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed) + bytes;
			report(
				progress,
				json!({ "stage": "fetching", "contract": id, "received": done, "total": total }),
			);
		};
		let fetch = |source: ShardSource| {
			let on_fetched = &on_fetched;
			let bytes = bytes.clone();
			async move {
				let fetched =
					self.fetch_from(at, id, contract, &source, bytes, on_fetched, dir).await;
				(source, fetched)
			}
		};
		let mut shards: Vec<Option<ShardFile>> = vec![None; contract.shards.len()];
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
						cairn_chain::ss58(&source.provider)
					);
					errors.push(format!("shard {index}: {error}"));
					if let Some(spare) = candidates.find(|spare| shards[spare.index].is_none()) {
						running.push(fetch(spare));
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
	/// a file of `dir`; a whole shard checked against its digest.
	#[allow(clippy::too_many_arguments)]
	pub(super) async fn fetch_from(
		&self,
		at: Hash,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		source: &ShardSource,
		bytes: Option<Range<u64>>,
		on_fetched: &(dyn Fn(u64) + Send + Sync),
		dir: &ShardDir,
	) -> Result<ShardFile, String> {
		// Providers serve a shard's bytes only to the owner's grantees.
		let signer = self.signer().map_err(|failure| failure.to_string())?;
		let from = provider_address(&self.state, at, &source.provider)?;
		let index = source.index as u32;
		let grant = signer.grant(id, index, self.network.peer_id())?;
		let spec = &contract.shards[source.index].spec;
		let file = dir.create().map_err(super::disk_text)?;
		fetch_shard(&self.network, &from, id, index, spec, bytes, grant, on_fetched, &file).await?;
		Ok(file)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

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
