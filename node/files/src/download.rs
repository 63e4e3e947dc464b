//! Download: any `k` shards, each checked against its on-chain BLAKE3 digest, fetched from the
//! providers concurrently; a provider that fails or stalls is replaced by a spare.

use std::{
	collections::HashSet,
	io::{BufWriter, Write},
};

use cairn_runtime::{Hash, Runtime};
use cairn_storage::encoding::{decode_stream, EncryptionKey, FileManifest};
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
	/// and the file's size.
	fn parts(&self, params: &DownloadParams) -> Result<(Vec<Part>, u64), FilesError> {
		let ids = self.named_contracts(params.contract, params.name.as_deref())?;
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
			let count = record.segment.map_or(1, |segment| segment.count);
			parts.push((Part { id, contract, manifest, key, offset }, count));
		}
		// Every segment, each where the one before ends: a file with a segment missing is not
		// read with a hole in it.
		let mut end = 0;
		for (part, count) in &parts {
			if part.offset != end || *count as usize != parts.len() {
				return Err(FilesError::Data(format!(
					"contract {} holds a segment of a file of which {} of {count} segments are \
					 stored: it cannot be read",
					part.id,
					parts.len()
				)));
			}
			end += part.manifest.plaintext_bytes;
		}
		if end != size {
			return Err(FilesError::Data(format!(
				"the segments of contract {} hold {end} bytes of a file of {size}",
				parts[0].0.id
			)));
		}
		Ok((parts.into_iter().map(|(part, _)| part).collect(), size))
	}

	/// The size of the file a caller names, as a download of it would find it.
	pub fn file_size(&self, params: &DownloadParams) -> Result<u64, FilesError> {
		Ok(self.parts(params)?.1)
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
		let shard_bytes = |part: &Part| {
			let k = usize::from(part.contract.k);
			part.contract.shards.iter().take(k).map(|s| s.spec.bytes).sum::<u64>()
		};
		let total: u64 = needed.iter().map(shard_bytes).sum();
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
		let mut before = 0;
		for part in needed {
			let k = usize::from(part.contract.k);
			let dir = self.shard_dir()?;
			let fetched = Fetched { before, total };
			let shards =
				self.fetch_any(part.id, &part.contract, k, None, progress, fetched, &dir).await?;
			before += shard_bytes(&part);
			report(progress, json!({ "stage": "decoding", "contract": part.id }));
			// The part's bytes within the range.
			let skip = first.saturating_sub(part.offset);
			let take = (last + 1).saturating_sub(part.offset.max(first));
			output = tokio::task::spawn_blocking(move || -> Result<_, FilesError> {
				let mut readers: Vec<_> =
					shards.iter().map(|shard| shard.as_ref().map(ShardFile::reader)).collect();
				let window = Window { inner: output, skip, take };
				let window = decode_stream(&part.manifest, part.key.as_ref(), &mut readers, window)
					.map_err(|e| FilesError::Data(format!("decoding: {e}")))?;
				Ok(window.inner)
			})
			.await??;
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
		let mut done = json!({ "contract": id, "bytes": length });
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

	/// Any `k` shards of `contract` (other than `skip`), each checked, in files of `dir`; `None`
	/// where not fetched. Asked of their providers (confirmed ones first), then of those they
	/// were moved away from.
	#[allow(clippy::too_many_arguments)]
	pub(super) async fn fetch_any(
		&self,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		k: usize,
		skip: Option<usize>,
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
			async move {
				let fetched = self.fetch_from(at, id, contract, &source, on_fetched, dir).await;
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

	/// Shard `source.index` of `contract`, fetched from `source.provider` into a file of `dir`
	/// and checked against its digest.
	pub(super) async fn fetch_from(
		&self,
		at: Hash,
		id: ContractId,
		contract: &ContractOf<Runtime>,
		source: &ShardSource,
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
		fetch_shard(&self.network, &from, id, index, spec, grant, on_fetched, &file).await?;
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
