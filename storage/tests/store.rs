//! The RocksDB shard store: round trips, proofs, accounting, errors and corruption.

use std::path::Path;

use cairn_primitives::{challenge, tree};
use cairn_storage::commitment::pieces::verify_piece;
use cairn_storage::commitment::{commit, TreeBuilder};
use cairn_storage::store::{
	RocksShardStore, ShardId, ShardReader, ShardStore, StoreConfig, CHUNK_BYTES, PIECE_BYTES,
};
use cairn_storage::StorageError;
use proptest::prelude::*;

fn sample(len: usize, seed: u64) -> Vec<u8> {
	let mut bytes = vec![0u8; len];
	let mut hasher = blake3::Hasher::new();
	hasher.update(&seed.to_le_bytes());
	hasher.finalize_xof().fill(&mut bytes);
	bytes
}

fn open(path: &Path, capacity_bytes: u64) -> RocksShardStore {
	RocksShardStore::open(path, StoreConfig { capacity_bytes }).expect("opens").0
}

/// Flips one bit of the stored chunk value holding `offset`, with the store closed.
fn flip_stored_byte(path: &Path, id: ShardId, offset: usize) {
	let db = rocksdb::DB::open_default(path).expect("opens raw");
	let mut key = vec![b'c'];
	key.extend_from_slice(&id.contract.to_be_bytes());
	key.extend_from_slice(&id.index.to_be_bytes());
	key.extend_from_slice(&((offset / CHUNK_BYTES) as u32).to_be_bytes());
	let mut value = db.get(&key).expect("reads").expect("chunk exists");
	value[offset % CHUNK_BYTES] ^= 0x10;
	db.put(&key, value).expect("writes");
}

#[test]
fn put_read_list_delete_and_reopen() {
	let dir = tempfile::tempdir().expect("tempdir");
	let shards: Vec<(ShardId, Vec<u8>)> = [0usize, 1, 62, CHUNK_BYTES, CHUNK_BYTES + 1, 700_001]
		.iter()
		.enumerate()
		.map(|(index, len)| (ShardId::new(9, index as u32), sample(*len, index as u64)))
		.collect();
	let total: u64 = shards.iter().map(|(_, bytes)| bytes.len() as u64).sum();
	{
		let store = open(dir.path(), 10 << 20);
		for (id, bytes) in &shards {
			let expected = commit(bytes).expect("commits").0;
			let stored = store
				.put(*id, bytes.len() as u64, &mut &bytes[..], Some(&expected.root))
				.expect("stores");
			assert_eq!(stored, expected);
		}
		assert_eq!(store.usage().used, total);
	}
	let (store, report) =
		RocksShardStore::open(dir.path(), StoreConfig { capacity_bytes: 10 << 20 })
			.expect("reopens");
	assert!(report.removed_pending.is_empty());
	assert_eq!(report.committed, shards.len() as u64);
	assert_eq!(store.usage().used, total);
	for (id, bytes) in &shards {
		let mut whole = Vec::new();
		std::io::copy(&mut ShardReader::new(&store, *id).expect("exists"), &mut whole)
			.expect("reads");
		assert_eq!(&whole, bytes);
		if bytes.len() > 10 {
			let (offset, len) = (bytes.len() / 3, bytes.len() / 2);
			let range = store.read_range(*id, offset as u64, len as u64).expect("reads range");
			assert_eq!(range, bytes[offset..offset + len]);
		}
	}
	let listed = store.list(None, 100).expect("lists");
	assert_eq!(
		listed.iter().map(|shard| shard.id).collect::<Vec<_>>(),
		shards.iter().map(|(id, _)| *id).collect::<Vec<_>>()
	);
	let page = store.list(Some(shards[1].0), 2).expect("lists");
	assert_eq!(
		page.iter().map(|shard| shard.id).collect::<Vec<_>>(),
		vec![shards[2].0, shards[3].0]
	);
	let (gone, gone_bytes) = &shards[5];
	store.delete(*gone).expect("deletes");
	assert!(
		matches!(store.read_range(*gone, 0, 1), Err(StorageError::UnknownShard(id)) if id == *gone)
	);
	assert!(matches!(store.delete(*gone), Err(StorageError::UnknownShard(_))));
	assert_eq!(store.usage().used, total - gone_bytes.len() as u64);
	// The id is free again after a delete.
	store.put(*gone, 5, &mut &[1u8; 5][..], None).expect("stores again");
}

#[test]
fn bad_puts_are_refused_and_leave_nothing() {
	let dir = tempfile::tempdir().expect("tempdir");
	let store = open(dir.path(), 1000);
	let id = ShardId::new(1, 0);
	let data = sample(600, 1);
	assert!(matches!(
		store.put(id, 600, &mut &data[..400], None),
		Err(StorageError::LengthMismatch { declared: 600, delivered: 400, .. })
	));
	assert!(matches!(
		store.put(id, 500, &mut &data[..], None),
		Err(StorageError::LengthMismatch { declared: 500, .. })
	));
	let wrong_root = commit(&data[..599]).expect("commits").0.root;
	assert!(matches!(
		store.put(id, 600, &mut &data[..], Some(&wrong_root)),
		Err(StorageError::RootMismatch { .. })
	));
	assert_eq!(store.usage().used, 0);
	assert!(matches!(store.commitment(id), Err(StorageError::UnknownShard(_))));
	store.put(id, 600, &mut &data[..], None).expect("stores");
	assert!(matches!(
		store.put(id, 600, &mut &data[..], None),
		Err(StorageError::AlreadyStored(_))
	));
	assert!(matches!(
		store.put(ShardId::new(1, 1), 401, &mut &data[..401], None),
		Err(StorageError::CapacityExceeded { requested: 401, used: 600, capacity: 1000 })
	));
	store.put(ShardId::new(1, 1), 400, &mut &data[..400], None).expect("fits exactly");
	assert!(matches!(store.read_range(id, 590, 11), Err(StorageError::InvalidRange { .. })));
	assert!(matches!(store.read_range(id, u64::MAX, 2), Err(StorageError::InvalidRange { .. })));
	assert!(matches!(
		store.read_range(ShardId::new(2, 0), 0, 1),
		Err(StorageError::UnknownShard(_))
	));
	assert!(matches!(
		store.challenge_proofs(ShardId::new(2, 0), &[0]),
		Err(StorageError::UnknownShard(_))
	));
	assert!(matches!(
		store.put(ShardId::new(3, 0), u64::MAX, &mut &data[..], None),
		Err(StorageError::ShardTooLarge { .. })
	));
}

#[test]
fn stored_proofs_verify_for_challenges_real_leaves_and_padding() {
	let dir = tempfile::tempdir().expect("tempdir");
	let store = open(dir.path(), 1 << 30);
	// 200 whole kept subtrees and a partial one: the proofs read across chunk boundaries.
	let len = 200 * 64 * tree::LEAF_BYTES + 1000;
	let bytes = sample(len, 5);
	let id = ShardId::new(4, 2);
	let commitment = store.put(id, len as u64, &mut &bytes[..], None).expect("stores");
	let leaves = tree::leaf_count(len as u64);
	let mut indices = challenge::challenge_indices(&[3; 32], 4, 2, 7, 32, leaves);
	indices.extend([0, 1, leaves - 2, leaves - 1, leaves, leaves + 100, (1 << 22) - 1]);
	let proofs = store.challenge_proofs(id, &indices).expect("proves");
	for (index, proof) in indices.iter().zip(&proofs) {
		assert!(tree::verify(&commitment.root, proof), "index {index}");
		let start = (*index as usize * tree::LEAF_BYTES).min(len);
		let end = (start + tree::LEAF_BYTES).min(len);
		assert_eq!(&proof.leaf[..end - start], &bytes[start..end]);
	}
}

/// A shard whose tree was built as its bytes arrived is stored as a put would store it, the tree
/// kept as given; bytes other than the tree's (same length) are refused and leave nothing.
#[test]
fn a_shard_with_its_tree_built_already_is_stored_as_a_put_stores_it() {
	let dir = tempfile::tempdir().expect("tempdir");
	let store = open(dir.path(), 1 << 30);
	let len = 50 * 64 * tree::LEAF_BYTES + 777;
	let bytes = sample(len, 8);
	let mut builder = TreeBuilder::new();
	for piece in bytes.chunks(100_000) {
		builder.update(piece).expect("fits");
	}
	let (built, upper) = builder.finish();

	let (other, id) = (ShardId::new(8, 0), ShardId::new(8, 1));
	let mut tampered = bytes.clone();
	tampered[len / 2] ^= 1;
	assert!(matches!(
		store.put_built(id, &mut &tampered[..], built, upper.clone()),
		Err(StorageError::NotTheTreesBytes { .. })
	));
	assert!(matches!(
		store.put_built(id, &mut &bytes[..len - 1], built, upper.clone()),
		Err(StorageError::LengthMismatch { .. })
	));
	assert_eq!(store.usage().used, 0);
	assert!(matches!(store.commitment(id), Err(StorageError::UnknownShard(_))));

	assert_eq!(store.put_built(id, &mut &bytes[..], built, upper).expect("stores"), built);
	let put = store.put(other, len as u64, &mut &bytes[..], None).expect("stores");
	assert_eq!(put, built);
	assert_eq!(store.read_range(id, 0, len as u64).expect("reads"), bytes);
	let leaves = tree::leaf_count(len as u64);
	let indices = challenge::challenge_indices(&[4; 32], 8, 1, 3, 32, leaves);
	let proofs = store.challenge_proofs(id, &indices).expect("proves");
	assert_eq!(proofs, store.challenge_proofs(other, &indices).expect("proves"));
	assert!(proofs.iter().all(|proof| tree::verify(&built.root, proof)));
	assert_eq!(store.pieces(id, 0..2).expect("pieces"), store.pieces(other, 0..2).expect("pieces"));
}

#[test]
fn corrupt_chunk_is_reported_on_read_and_on_prove() {
	let dir = tempfile::tempdir().expect("tempdir");
	let id = ShardId::new(6, 1);
	let bytes = sample(3 * CHUNK_BYTES + 50, 6);
	{
		let store = open(dir.path(), 1 << 30);
		store.put(id, bytes.len() as u64, &mut &bytes[..], None).expect("stores");
	}
	let offset = 2 * CHUNK_BYTES + 7;
	flip_stored_byte(dir.path(), id, offset);
	let store = open(dir.path(), 1 << 30);
	assert!(matches!(
		store.read_range(id, 0, bytes.len() as u64),
		Err(StorageError::Corrupt { chunk: 2, .. })
	));
	assert_eq!(
		store.read_range(id, 0, 2 * CHUNK_BYTES as u64).expect("untouched chunks read"),
		bytes[..2 * CHUNK_BYTES]
	);
	let leaf = (offset / tree::LEAF_BYTES) as u64;
	assert!(matches!(
		store.challenge_proofs(id, &[leaf]),
		Err(StorageError::Corrupt { chunk: 2, .. })
	));
}

/// The raw key of a shard's record with `tag`.
fn raw_key(tag: u8, id: ShardId) -> Vec<u8> {
	let mut key = vec![tag];
	key.extend_from_slice(&id.contract.to_be_bytes());
	key.extend_from_slice(&id.index.to_be_bytes());
	key
}

/// Every piece comes with a path that checks against the shard's digest alone: from the values
/// kept with the shard, and, for a shard stored before they were kept, from values worked out
/// once from its bytes and kept from then on. A piece past the end is refused, and a deleted
/// shard leaves no values behind.
#[test]
fn pieces_come_with_paths_to_the_digest() {
	let dir = tempfile::tempdir().expect("tempdir");
	let sizes = [1usize, PIECE_BYTES as usize, 30 * PIECE_BYTES as usize + 4097];
	let shards: Vec<(ShardId, Vec<u8>)> = sizes
		.iter()
		.enumerate()
		.map(|(index, len)| (ShardId::new(12, index as u32), sample(*len, 40 + index as u64)))
		.collect();
	let check = |store: &RocksShardStore| {
		for (id, bytes) in &shards {
			let digest = *blake3::hash(bytes).as_bytes();
			let total = bytes.len() as u64;
			let pieces = total.div_ceil(PIECE_BYTES);
			for run in [0..pieces, 0..1, pieces - 1..pieces, pieces / 2..pieces / 2 + 3] {
				let run = run.start..run.end.min(pieces);
				let got = store.pieces(*id, run.clone()).expect("pieces");
				assert_eq!(got.len() as u64, run.end - run.start);
				for (index, (data, path)) in run.zip(got) {
					let offset = index * PIECE_BYTES;
					let end = (offset + PIECE_BYTES).min(total);
					assert_eq!(data, bytes[offset as usize..end as usize]);
					verify_piece(&digest, total, PIECE_BYTES, offset, &data, &path)
						.unwrap_or_else(|e| panic!("piece {index} of shard {id}: {e}"));
				}
			}
			for refused in [pieces..pieces + 1, 1..1, 0..pieces + 1] {
				let refused = store.pieces(*id, refused);
				assert!(matches!(refused, Err(StorageError::InvalidRange { .. })));
			}
		}
	};
	{
		let store = open(dir.path(), 1 << 30);
		for (id, bytes) in &shards {
			store.put(*id, bytes.len() as u64, &mut &bytes[..], None).expect("stores");
		}
		check(&store);
	}
	{
		// As a store of an older version left them: no values.
		let db = rocksdb::DB::open_default(dir.path()).expect("opens raw");
		for (id, _) in &shards {
			db.delete(raw_key(b'p', *id)).expect("deletes");
		}
	}
	let store = open(dir.path(), 1 << 30);
	check(&store);
	check(&store);
	let (gone, _) = &shards[2];
	store.delete(*gone).expect("deletes");
	assert!(matches!(store.pieces(*gone, 0..1), Err(StorageError::UnknownShard(_))));
	drop(store);
	let db = rocksdb::DB::open_default(dir.path()).expect("opens raw");
	assert!(db.get(raw_key(b'p', *gone)).expect("reads").is_none(), "values left behind");
	assert!(db.get(raw_key(b'p', shards[0].0)).expect("reads").is_some(), "values kept");
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(12))]

	#[test]
	fn any_flipped_stored_byte_is_caught_by_its_chunk_checksum(len in 1usize..200_000, pick in any::<prop::sample::Index>()) {
		let dir = tempfile::tempdir().expect("tempdir");
		let id = ShardId::new(8, 0);
		let bytes = sample(len, len as u64);
		{
			let store = open(dir.path(), 1 << 30);
			store.put(id, len as u64, &mut &bytes[..], None)?;
		}
		let offset = pick.index(len);
		flip_stored_byte(dir.path(), id, offset);
		let store = open(dir.path(), 1 << 30);
		let expected_chunk = (offset / CHUNK_BYTES) as u64;
		let caught = matches!(store.read_range(id, 0, len as u64), Err(StorageError::Corrupt { chunk, .. }) if chunk == expected_chunk);
		prop_assert!(caught);
	}
}
