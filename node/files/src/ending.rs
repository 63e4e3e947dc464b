//! The account's files as listings show them (the segments of a file cut into several
//! together), and ending a file's contracts before their end, by their owner: `end_contract` settles the finished periods, returns the rest of the escrow to the
//! account, and every provider deletes its shard once the end is final.

use std::collections::HashMap;

use cairn_chain::signer::Signer;
use cairn_runtime::{time::MILLISECS_PER_BLOCK, Balance, BlockNumber, Hash, RuntimeCall};
use cairn_storage::encoding::FileManifest;
use pallet_market::ContractId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Files, FilesError, Segment, FILE_ID_BYTES};

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
	/// Its contract: its first segment's, when it has several.
	pub contract: ContractId,
	/// The contracts of its segments, in order: its contract alone when it has one.
	pub contracts: Vec<ContractId>,
	/// The name it was stored under.
	pub name: String,
	/// Its size.
	pub bytes: u64,
	/// When its contract started (Unix milliseconds), from the best block's time and the block
	/// time: the chain keeps no time of past blocks.
	pub stored_at_ms: u64,
	/// The block its contract ends at (the first to end, of its segments').
	pub end: BlockNumber,
}

/// One of this account's open contracts, or the contracts of one of its files.
enum Listed {
	/// A file whose every segment is there.
	File(StoredFile),
	/// Segments of a file whose other segments are gone: it cannot be read.
	Incomplete {
		/// What is there of it, as of a whole file.
		file: StoredFile,
		/// Of how many segments.
		count: u32,
	},
	/// A contract whose manifest the account's secret does not open.
	Unreadable { contract: ContractId, end: BlockNumber },
}

impl Listed {
	fn contracts(&self) -> &[ContractId] {
		match self {
			Listed::File(file) | Listed::Incomplete { file, .. } => &file.contracts,
			Listed::Unreadable { contract, .. } => std::slice::from_ref(contract),
		}
	}

	fn name(&self) -> Option<&str> {
		match self {
			Listed::File(file) | Listed::Incomplete { file, .. } => Some(&file.name),
			Listed::Unreadable { .. } => None,
		}
	}
}

/// The file a caller names, by a contract of it or by its name ([`Files::named_file`]).
pub(super) struct Named {
	/// Its contracts, in order: the named contract alone when this node reads no file of this
	/// account in it.
	pub contracts: Vec<ContractId>,
	/// Of how many segments, when some of its segments are gone.
	pub incomplete: Option<u32>,
}

impl Named {
	fn one(contract: ContractId) -> Self {
		Self { contracts: vec![contract], incomplete: None }
	}

	fn of(listed: Listed) -> Self {
		match listed {
			Listed::Incomplete { file, count } => {
				Self { contracts: file.contracts, incomplete: Some(count) }
			}
			listed => Self { contracts: listed.contracts().to_vec(), incomplete: None },
		}
	}

	/// Its contracts, when every segment is there: a file with a hole is not read.
	pub fn whole(self) -> Result<Vec<ContractId>, FilesError> {
		match self.incomplete {
			None => Ok(self.contracts),
			Some(count) => Err(FilesError::Data(format!(
				"contract {} holds a segment of a file of which {} of {count} segments are \
				 stored: it cannot be read",
				self.contracts[0],
				self.contracts.len()
			))),
		}
	}
}

/// What one contract holds: a whole file, or the segment its record names.
struct Piece {
	file: StoredFile,
	segment: Option<Segment>,
}

/// The files of `pieces` (oldest contract first): a whole file as it is, the segments of each
/// cut file together, in order, at the place of its oldest contract.
fn group(pieces: Vec<Result<Piece, (ContractId, BlockNumber)>>) -> Vec<Listed> {
	let mut listed: Vec<Listed> = Vec::new();
	// Each cut file's place in `listed`, and its segments.
	type Found = (usize, Vec<(Segment, StoredFile)>);
	let mut cut: HashMap<[u8; FILE_ID_BYTES], Found> = HashMap::new();
	for piece in pieces {
		match piece {
			Err((contract, end)) => listed.push(Listed::Unreadable { contract, end }),
			Ok(Piece { file, segment: None }) => listed.push(Listed::File(file)),
			Ok(Piece { file, segment: Some(segment) }) => {
				let at = listed.len();
				let (_, segments) = cut.entry(segment.file).or_insert_with(|| {
					// A place held for the file, filled below.
					listed.push(Listed::Unreadable { contract: file.contract, end: file.end });
					(at, Vec::new())
				});
				segments.push((segment, file));
			}
		}
	}
	for (_, (at, mut segments)) in cut {
		segments.sort_by_key(|(segment, file)| (segment.index, file.contract));
		let (first, first_file) = &segments[0];
		let count = first.count;
		let total = first.total;
		// Whole when segment i is the i-th of `count`, each once, starting where the one before
		// ended, and the last ends at the file's end.
		let whole = segments.len() == count as usize
			&& segments.iter().enumerate().all(|(index, (segment, _))| {
				segment.index as usize == index && segment.count == count && segment.total == total
			}) && segments
			.windows(2)
			.all(|pair| pair[0].0.offset + pair[0].1.bytes == pair[1].0.offset)
			&& segments.last().is_some_and(|(segment, file)| segment.offset + file.bytes == total)
			&& first.offset == 0;
		let file = StoredFile {
			contract: first_file.contract,
			contracts: segments.iter().map(|(_, file)| file.contract).collect(),
			name: first_file.name.clone(),
			bytes: total,
			stored_at_ms: first_file.stored_at_ms,
			end: segments.iter().map(|(_, file)| file.end).min().unwrap_or(first_file.end),
		};
		listed[at] = match whole {
			true => Listed::File(file),
			false => Listed::Incomplete { file, count },
		};
	}
	listed
}

impl Files {
	/// The file a caller names by a contract of it or by its name (the newest whole file of
	/// that name, else the newest incomplete one, which may only be removed).
	pub(super) fn named_file(
		&self,
		contract: Option<ContractId>,
		name: Option<&str>,
	) -> Result<Named, FilesError> {
		match (contract, name) {
			(Some(id), None) => {
				// A contract whose record names no segment holds its file alone.
				let Some(segment) = self.load_record(id).and_then(|record| record.segment) else {
					return Ok(Named::one(id));
				};
				let listed = self.listing()?.into_iter().find(|l| l.contracts().contains(&id));
				let alone = || Named { contracts: vec![id], incomplete: Some(segment.count) };
				Ok(listed.map_or_else(alone, Named::of))
			}
			(None, Some(name)) => {
				let mut named: Vec<Listed> =
					self.listing()?.into_iter().filter(|l| l.name() == Some(name)).collect();
				let whole = named.iter().rposition(|listed| matches!(listed, Listed::File(_)));
				let at = whole.or(named.len().checked_sub(1));
				at.map(|at| Named::of(named.swap_remove(at)))
					.ok_or_else(|| FilesError::NotFound(format!("no file named {name:?}")))
			}
			_ => Err(FilesError::invalid("give either `contract` or `name`")),
		}
	}

	/// This account's open contracts, grouped into files, oldest first.
	fn listing(&self) -> Result<Vec<Listed>, FilesError> {
		let me = self.signer()?.account();
		let at = self.state.at(None);
		let (now, time) = (self.state.number(at), self.state.timestamp(at)?);
		let mut own = self.state.contracts_of(at, Some(&me))?;
		own.sort_by_key(|(id, _)| *id);
		let pieces = own
			.into_iter()
			.map(|(id, contract)| {
				let record = self.load_record(id).ok_or((id, contract.end))?;
				let manifest =
					FileManifest::from_bytes(&record.manifest).map_err(|_| (id, contract.end))?;
				let blocks_ago = u64::from(now.saturating_sub(contract.start));
				let file = StoredFile {
					contract: id,
					contracts: vec![id],
					name: record.name,
					bytes: manifest.plaintext_bytes,
					stored_at_ms: time.saturating_sub(blocks_ago * MILLISECS_PER_BLOCK),
					end: contract.end,
				};
				Ok(Piece { file, segment: record.segment })
			})
			.collect();
		Ok(group(pieces))
	}

	/// This account's files that this node can read (the account's secret opens their
	/// manifests, and every segment is there), oldest contract first.
	pub fn stored_files(&self) -> Result<Vec<StoredFile>, FilesError> {
		Ok(self
			.listing()?
			.into_iter()
			.filter_map(|listed| match listed {
				Listed::File(file) => Some(file),
				_ => None,
			})
			.collect())
	}

	/// The files of this node's account (`cairn_files`): each of its open contracts, oldest
	/// first, with the name and size of its file when the account's secret opens its manifest
	/// (a `problem` otherwise); the segments of a file cut into several, together.
	pub async fn files(&self) -> Result<Value, FilesError> {
		let entry = |file: &StoredFile| {
			let mut entry = json!({
				"contract": file.contract,
				"name": file.name,
				"bytes": file.bytes,
				"end": file.end,
			});
			if file.contracts.len() > 1 {
				entry["contracts"] = json!(file.contracts);
			}
			entry
		};
		let files = self
			.listing()?
			.into_iter()
			.map(|listed| match listed {
				Listed::File(file) => entry(&file),
				Listed::Incomplete { file, count } => {
					let mut entry = entry(&file);
					entry["contracts"] = json!(file.contracts);
					entry["problem"] = format!(
						"{} of its {count} segments are stored: it cannot be read; remove it and \
						 upload it again",
						file.contracts.len()
					)
					.into();
					entry
				}
				Listed::Unreadable { contract, end } => json!({
					"contract": contract,
					"end": end,
					"problem": "no manifest this account's secret opens",
				}),
			})
			.collect();
		Ok(Value::Array(files))
	}

	/// Ends the contract of a file of this node's account now, or each of its segments'
	/// contracts; what they paid and what came back.
	pub async fn remove(&self, params: RemoveParams) -> Result<Value, FilesError> {
		let signer = self.signer()?.clone();
		signer.caught_up()?;
		let ids = self.named_file(params.contract, params.name.as_deref())?.contracts;
		let at = self.state.at(None);
		for id in &ids {
			self.own_contract(&signer, at, *id)?;
		}
		let (mut paid, mut refunded, mut block) = (0, 0, None);
		for id in &ids {
			let ended = self.end_contract(&signer, *id).await?;
			paid += ended.paid;
			refunded += ended.refunded;
			block = Some(ended.block);
		}
		let mut removed = json!({
			"contract": ids[0],
			"paid": paid.to_string(),
			"refunded": refunded.to_string(),
			"block": format!("{:?}", block.unwrap_or_default()),
		});
		if ids.len() > 1 {
			removed["contracts"] = json!(ids);
		}
		Ok(removed)
	}

	/// Ends contract `id` of `signer`'s now.
	pub(super) async fn end_contract(
		&self,
		signer: &Signer,
		id: ContractId,
	) -> Result<Ended, FilesError> {
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
		Ok(Ended { paid, refunded, block: included.block })
	}
}

/// What ending a contract paid its providers and returned to its owner, and in which block.
pub(super) struct Ended {
	paid: Balance,
	refunded: Balance,
	block: Hash,
}

#[cfg(test)]
mod tests {
	use super::*;

	/// Contract `contract` holding `bytes` of a file, and its segment of `file` if given:
	/// `(index, count, offset, total)`.
	fn piece(
		contract: ContractId,
		bytes: u64,
		file: Option<(u8, (u32, u32, u64, u64))>,
	) -> Result<Piece, (ContractId, BlockNumber)> {
		let segment = file.map(|(id, (index, count, offset, total))| Segment {
			file: [id; FILE_ID_BYTES],
			index,
			count,
			offset,
			total,
		});
		let file = StoredFile {
			contract,
			contracts: vec![contract],
			name: format!("file {contract}"),
			bytes,
			stored_at_ms: contract * 1000,
			end: 100 + contract as BlockNumber,
		};
		Ok(Piece { file, segment })
	}

	fn shown(listed: &[Listed]) -> Vec<(String, Vec<ContractId>, u64)> {
		listed
			.iter()
			.map(|listed| match listed {
				Listed::File(file) => ("whole".into(), file.contracts.clone(), file.bytes),
				Listed::Incomplete { file, count } => (
					format!("{} of {count}", file.contracts.len()),
					file.contracts.clone(),
					file.bytes,
				),
				Listed::Unreadable { contract, .. } => ("unreadable".into(), vec![*contract], 0),
			})
			.collect()
	}

	#[test]
	fn segments_list_as_one_file_at_their_first_contract() {
		let listed = group(vec![
			piece(1, 10, None),
			piece(2, 40, Some((7, (1, 3, 40, 90)))),
			Err((3, 50)),
			piece(4, 40, Some((7, (0, 3, 0, 90)))),
			piece(5, 10, Some((8, (0, 2, 0, 20)))),
			piece(6, 10, Some((7, (2, 3, 80, 90)))),
		]);
		assert_eq!(
			shown(&listed),
			vec![
				("whole".into(), vec![1], 10),
				("whole".into(), vec![4, 2, 6], 90),
				("unreadable".into(), vec![3], 0),
				("1 of 2".into(), vec![5], 20),
			]
		);
		let Listed::File(file) = &listed[1] else { panic!("a file") };
		// Known by its first segment's contract, ending when its first segment ends.
		assert_eq!((file.contract, file.end, file.name.as_str()), (4, 102, "file 4"));
	}

	#[test]
	fn segments_that_do_not_fit_together_are_not_a_file() {
		let cases = [
			// A segment twice.
			vec![piece(1, 5, Some((1, (0, 2, 0, 10)))), piece(2, 5, Some((1, (0, 2, 0, 10))))],
			// A gap between two segments.
			vec![piece(1, 4, Some((1, (0, 2, 0, 10)))), piece(2, 5, Some((1, (1, 2, 5, 10))))],
			// Short of the end.
			vec![piece(1, 5, Some((1, (0, 2, 0, 11)))), piece(2, 5, Some((1, (1, 2, 5, 11))))],
			// Counts that disagree.
			vec![piece(1, 5, Some((1, (0, 2, 0, 10)))), piece(2, 5, Some((1, (1, 3, 5, 10))))],
		];
		for (case, pieces) in cases.into_iter().enumerate() {
			let listed = group(pieces);
			assert!(matches!(listed[..], [Listed::Incomplete { .. }]), "case {case}");
		}
	}
}
