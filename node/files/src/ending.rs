//! The account's files as listings show them, and ending a file's contract before its end, by
//! its owner: `end_contract` settles the finished periods, returns the rest of the escrow to the
//! account, and every provider deletes its shard once the end is final.

use cairn_runtime::{time::MILLISECS_PER_BLOCK, BlockNumber, RuntimeCall};
use cairn_storage::encoding::FileManifest;
use pallet_market::ContractId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Files, FilesError};

/// What `cairn_remove` takes: the contract, or the name its file was stored under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoveParams {
	/// The contract.
	pub contract: Option<ContractId>,
	/// Or the file's name: its newest open contract of this account.
	pub name: Option<String>,
}

/// A file of this account that this node can read, as listings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
	/// Its contract.
	pub contract: ContractId,
	/// The name it was stored under.
	pub name: String,
	/// Its size.
	pub bytes: u64,
	/// When its contract started (Unix milliseconds), from the best block's time and the block
	/// time: the chain keeps no time of past blocks.
	pub stored_at_ms: u64,
	/// The block its contract ends at.
	pub end: BlockNumber,
}

impl Files {
	/// The contract a caller names by id or by its file's name.
	pub(super) fn named(
		&self,
		contract: Option<ContractId>,
		name: Option<&str>,
	) -> Result<ContractId, FilesError> {
		match (contract, name) {
			(Some(contract), None) => Ok(contract),
			(None, Some(name)) => Ok(self.stored_file(name)?.contract),
			_ => Err(FilesError::invalid("give either `contract` or `name`")),
		}
	}

	/// This account's open contracts, oldest first: each contract, its end, and its file when
	/// the account's secret opens its manifest.
	fn own_files(&self) -> Result<Vec<(ContractId, BlockNumber, Option<StoredFile>)>, FilesError> {
		let me = self.signer()?.account();
		let at = self.state.at(None);
		let (now, time) = (self.state.number(at), self.state.timestamp(at)?);
		let mut own: Vec<_> = self
			.state
			.contracts_of(at, Some(&me))?
			.into_iter()
			.map(|(id, contract)| {
				let file = self.load_record(id).and_then(|record| {
					let manifest = FileManifest::from_bytes(&record.manifest).ok()?;
					let blocks_ago = u64::from(now.saturating_sub(contract.start));
					Some(StoredFile {
						contract: id,
						name: record.name,
						bytes: manifest.plaintext_bytes,
						stored_at_ms: time.saturating_sub(blocks_ago * MILLISECS_PER_BLOCK),
						end: contract.end,
					})
				});
				(id, contract.end, file)
			})
			.collect();
		own.sort_by_key(|(id, ..)| *id);
		Ok(own)
	}

	/// This account's open contracts whose file this node can read (the account's secret opens
	/// its manifest), oldest contract first.
	pub fn stored_files(&self) -> Result<Vec<StoredFile>, FilesError> {
		Ok(self.own_files()?.into_iter().filter_map(|(.., file)| file).collect())
	}

	/// The files of this node's account (`cairn_files`): each of its open contracts, oldest
	/// first, with the name and size of its file when the account's secret opens its manifest
	/// (a `problem` otherwise).
	pub async fn files(&self) -> Result<Value, FilesError> {
		let files = self
			.own_files()?
			.into_iter()
			.map(|(id, end, file)| match file {
				Some(file) => json!({
					"contract": id,
					"name": file.name,
					"bytes": file.bytes,
					"end": end,
				}),
				None => json!({
					"contract": id,
					"end": end,
					"problem": "no manifest this account's secret opens",
				}),
			})
			.collect();
		Ok(Value::Array(files))
	}

	/// The newest of this account's open contracts whose file is named `name`.
	pub fn stored_file(&self, name: &str) -> Result<StoredFile, FilesError> {
		self.stored_files()?
			.into_iter()
			.rfind(|file| file.name == name)
			.ok_or_else(|| FilesError::NotFound(format!("no file named {name:?}")))
	}

	/// Ends a contract of this node's account now; what it paid and what came back.
	pub async fn remove(&self, params: RemoveParams) -> Result<Value, FilesError> {
		let signer = self.signer()?.clone();
		signer.caught_up()?;
		let id = self.named(params.contract, params.name.as_deref())?;
		self.own_contract(&signer, self.state.at(None), id)?;
		let call = RuntimeCall::Market(pallet_market::Call::end_contract { contract: id });
		let included = signer.submit_and_watch(call).await?;
		let (paid, refunded) = included.market_event("ContractEnded", |event| match event {
			pallet_market::Event::ContractEnded { contract, paid, refunded, .. }
				if *contract == id =>
			{
				Some((*paid, *refunded))
			}
			_ => None,
		})?;
		Ok(json!({
			"contract": id,
			"paid": paid.to_string(),
			"refunded": refunded.to_string(),
			"block": format!("{:?}", included.block),
		}))
	}
}
