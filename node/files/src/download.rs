//! Download: any `k` shards, each checked against its on-chain BLAKE3 digest, fetched from the
//! providers concurrently; a provider that fails or stalls is replaced by a spare.

use std::collections::HashSet;

use cairn_runtime::{Hash, Runtime};
use cairn_storage::encoding::{decode_stream, FileManifest};
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

/// What `cairn_download` takes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DownloadParams {
	/// The contract.
	pub contract: Option<ContractId>,
	/// Or the name the file was stored under: the newest open contract of this account with
	/// that name.
	pub name: Option<String>,
	/// Where to write the file; without it the bytes come back as hex (small files only).
	pub path: Option<String>,
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

	async fn fetch_file(
		&self,
		params: DownloadParams,
		progress: Option<Progress>,
	) -> Result<Value, FilesError> {
		let progress = progress.as_ref();
		let id = self.named(params.contract, params.name.as_deref())?;
		let at = self.state.at(None);
		let contract = self.existing_contract(at, id)?;
		let record = self.load_record(id).ok_or_else(|| {
			FilesError::invalid(format!(
				"contract {id} has no manifest this node's account can open: files are decoded \
				 with the secret of the account that stored them"
			))
		})?;
		let manifest = FileManifest::from_bytes(&record.manifest)
			.map_err(|e| FilesError::Data(format!("manifest: {e}")))?;
		if params.path.is_none() && manifest.plaintext_bytes > MAX_INLINE_BYTES {
			return Err(FilesError::invalid(format!(
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
			.map_err(|e| FilesError::invalid(e.to_string()))?;
		let k = usize::from(contract.k);
		let total = contract.shards.iter().take(k).map(|s| s.spec.bytes).sum::<u64>();
		report(
			progress,
			json!({ "stage": "fetching", "contract": id, "received": 0, "total": total }),
		);
		let dir = self.shard_dir()?;
		let shards = self.fetch_any(id, &contract, k, None, progress, total, &dir).await?;

		let key = self.file_key(&record)?;
		let plaintext = manifest.plaintext_bytes;
		report(progress, json!({ "stage": "decoding", "contract": id }));
		let data = tokio::task::spawn_blocking(move || -> Result<Option<Vec<u8>>, FilesError> {
			let mut readers: Vec<_> =
				shards.iter().map(|shard| shard.as_ref().map(ShardFile::reader)).collect();
			match target {
				Some(target) => {
					let mut download =
						target.create().map_err(|e| FilesError::invalid(e.to_string()))?;
					decode_stream(
						&manifest,
						key.as_ref(),
						&mut readers,
						std::io::BufWriter::new(download.file()),
					)
					.map_err(|e| FilesError::Data(format!("decoding: {e}")))?
					.into_inner()
					.map_err(|e| FilesError::local("writing the download", e.into_error()))?;
					download.finish().map_err(|e| {
						FilesError::local("finishing the download", std::io::Error::other(e))
					})?;
					Ok(None)
				}
				None => decode_stream(&manifest, key.as_ref(), &mut readers, Vec::new())
					.map(Some)
					.map_err(|e| FilesError::Data(format!("decoding: {e}"))),
			}
		})
		.await??;
		report(progress, json!({ "stage": "done", "contract": id, "bytes": plaintext }));
		Ok(match data {
			Some(data) => {
				json!({ "contract": id, "bytes": plaintext, "data": format!("0x{}", hex::encode(data)) })
			}
			None => json!({ "contract": id, "bytes": plaintext, "path": params.path }),
		})
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
		total: u64,
		dir: &ShardDir,
	) -> Result<Vec<Option<ShardFile>>, FilesError> {
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
		let file = dir.create().map_err(|e| format!("this node's disk: {e}"))?;
		fetch_shard(&self.network, &from, id, index, spec, grant, on_fetched, &file).await?;
		Ok(file)
	}
}
