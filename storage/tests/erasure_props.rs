//! Property tests of the encoding pipeline: any `k` of `k + m` shards give the file back (or any
//! span of it from its stripes alone), and a flipped byte is caught.

use cairn_storage::commitment::{commit, verify_digest};
use cairn_storage::encoding::{
	decode_span, decode_stream, encode_stream, rebuild_shard, CodingParams, Encryption,
	EncryptionKey, FileManifest, Span, ENCRYPTION_CHUNK_BYTES,
};
use cairn_storage::StorageError;
use proptest::prelude::*;

/// Every subset of `size` indices out of `0..total`, as bit masks.
fn subsets(total: usize, size: usize) -> Vec<Vec<bool>> {
	(0u32..(1 << total))
		.filter(|mask| mask.count_ones() as usize == size)
		.map(|mask| (0..total).map(|index| mask & (1 << index) != 0).collect())
		.collect()
}

fn decode_with(
	manifest: &FileManifest,
	key: Option<&EncryptionKey>,
	shards: &[Vec<u8>],
	keep: &[bool],
) -> Result<Vec<u8>, StorageError> {
	let mut readers: Vec<Option<&[u8]>> =
		shards.iter().zip(keep).map(|(shard, keep)| keep.then_some(&shard[..])).collect();
	decode_stream(manifest, key, &mut readers, Vec::new())
}

fn coding() -> impl Strategy<Value = (usize, usize, usize)> {
	(1usize..=5, 0usize..=3, 32usize..=2048).prop_map(|(k, m, half_piece)| (k, m, half_piece * 2))
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(24))]

	#[test]
	fn every_k_subset_decodes_to_the_file(
		file in proptest::collection::vec(any::<u8>(), 0..40_000),
		(k, m, piece) in coding(),
		encrypt in any::<bool>(),
		key_bytes in any::<[u8; 32]>(),
	) {
		let params = CodingParams::with_piece_bytes(k, m, piece)?;
		let key = EncryptionKey::from_bytes(key_bytes);
		let encryption = if encrypt { Encryption::with_random_nonce(&key) } else { Encryption::Off };
		let mut shards = vec![Vec::new(); k + m];
		let manifest = encode_stream(params, encryption, &file[..], &mut shards)?;
		prop_assert_eq!(manifest.plaintext_bytes, file.len() as u64);
		let shard_bytes = manifest.shard_bytes()?;
		prop_assert!(shards.iter().all(|shard| shard.len() as u64 == shard_bytes));
		let parsed = FileManifest::from_bytes(&manifest.to_bytes())?;
		for keep in subsets(k + m, k) {
			let decoded = decode_with(&parsed, Some(&key), &shards, &keep)?;
			prop_assert_eq!(&decoded, &file);
		}
		// One shard fewer than k is refused with a typed error.
		let mut too_few = vec![true; k + m];
		too_few.iter_mut().take(m + 1).for_each(|keep| *keep = false);
		let refused = matches!(
			decode_with(&parsed, Some(&key), &shards, &too_few),
			Err(StorageError::NotEnoughShards { .. })
		);
		prop_assert!(refused);
	}

	#[test]
	fn a_flipped_byte_is_detected(
		file in proptest::collection::vec(any::<u8>(), 1..40_000),
		(k, m, piece) in coding(),
		shard_pick in any::<prop::sample::Index>(),
		byte_pick in any::<prop::sample::Index>(),
		bit in 0u8..8,
	) {
		let key = EncryptionKey::from_bytes([7; 32]);
		let params = CodingParams::with_piece_bytes(k, m, piece)?;
		let mut shards = vec![Vec::new(); k + m];
		let manifest = encode_stream(params, Encryption::with_random_nonce(&key), &file[..], &mut shards)?;
		let digests: Vec<[u8; 32]> = shards.iter().map(|shard| blake3::hash(shard).into()).collect();
		let roots: Vec<_> = shards.iter().map(|shard| commit(shard).map(|(c, _)| c.root)).collect::<Result<_, _>>()?;
		let victim = shard_pick.index(k + m);
		let position = byte_pick.index(shards[victim].len());
		shards[victim][position] ^= 1 << bit;
		let digest_caught = matches!(
			verify_digest(victim, &shards[victim], &digests[victim]),
			Err(StorageError::DigestMismatch { shard }) if shard == victim
		);
		prop_assert!(digest_caught);
		prop_assert_ne!(commit(&shards[victim])?.0.root, roots[victim]);
		// Decoding from the k shards that include the flipped one fails authentication (or, when the
		// byte is stripe padding, still yields the exact file).
		let mut keep = vec![false; k + m];
		keep[victim] = true;
		keep.iter_mut().enumerate().filter(|(index, _)| *index != victim).take(k - 1).for_each(|(_, keep)| *keep = true);
		match decode_with(&manifest, Some(&key), &shards, &keep) {
			Ok(decoded) => prop_assert_eq!(decoded, file),
			Err(error) => prop_assert!(matches!(error, StorageError::Decryption { .. }), "{error}"),
		}
	}
}

#[test]
fn bad_parameters_and_shard_counts_are_typed_errors() {
	assert!(matches!(
		CodingParams::new(0, 2),
		Err(StorageError::CodingOutOfRange { data_shards: 0, .. })
	));
	assert!(matches!(
		CodingParams::new(200, 57),
		Err(StorageError::CodingOutOfRange { parity_shards: 57, .. })
	));
	assert!(CodingParams::new(200, 56).is_ok());
	assert!(matches!(
		CodingParams::with_piece_bytes(4, 2, 63),
		Err(StorageError::PieceSizeOutOfRange { .. })
	));
	assert!(matches!(
		CodingParams::with_piece_bytes(4, 2, 100_001 * 2 * 100),
		Err(StorageError::PieceSizeOutOfRange { .. })
	));
	let params = CodingParams::with_piece_bytes(2, 1, 64).expect("valid");
	let mut too_few_outputs = vec![Vec::new(); 2];
	assert!(matches!(
		encode_stream(params, Encryption::Off, &[1u8; 100][..], &mut too_few_outputs),
		Err(StorageError::WrongShardCount { expected: 3, actual: 2 })
	));
	let mut shards = vec![Vec::new(); 3];
	let manifest =
		encode_stream(params, Encryption::Off, &[1u8; 1000][..], &mut shards).expect("encodes");
	let mut wrong_count: Vec<Option<&[u8]>> = vec![Some(&shards[0][..]), Some(&shards[1][..])];
	assert!(matches!(
		decode_stream(&manifest, None, &mut wrong_count, Vec::new()),
		Err(StorageError::WrongShardCount { expected: 3, actual: 2 })
	));
	let short = &shards[1][..shards[1].len() - 1];
	let mut truncated: Vec<Option<&[u8]>> = vec![Some(&shards[0][..]), Some(short), None];
	assert!(matches!(
		decode_stream(&manifest, None, &mut truncated, Vec::new()),
		Err(StorageError::ShardLengthMismatch { shard: 1, .. })
	));
	let long = [&shards[0][..], &[0u8][..]].concat();
	let mut overlong: Vec<Option<&[u8]>> = vec![Some(&long[..]), Some(&shards[1][..]), None];
	assert!(matches!(
		decode_stream(&manifest, None, &mut overlong, Vec::new()),
		Err(StorageError::ShardLengthMismatch { shard: 0, .. })
	));
}

#[test]
fn encrypted_file_needs_its_key() {
	let key = EncryptionKey::from_bytes([1; 32]);
	let params = CodingParams::with_piece_bytes(2, 1, 1024).expect("valid");
	let mut shards = vec![Vec::new(); 3];
	let file = vec![9u8; 5000];
	let manifest =
		encode_stream(params, Encryption::with_random_nonce(&key), &file[..], &mut shards)
			.expect("encodes");
	assert!(shards[0].windows(16).all(|window| window != [9u8; 16]), "data shards hold ciphertext");
	let mut readers: Vec<Option<&[u8]>> = shards.iter().map(|shard| Some(&shard[..])).collect();
	assert!(matches!(
		decode_stream(&manifest, None, &mut readers, Vec::new()),
		Err(StorageError::InvalidManifest { .. })
	));
	let wrong = EncryptionKey::from_bytes([2; 32]);
	let mut readers: Vec<Option<&[u8]>> = shards.iter().map(|shard| Some(&shard[..])).collect();
	assert!(matches!(
		decode_stream(&manifest, Some(&wrong), &mut readers, Vec::new()),
		Err(StorageError::Decryption { chunk: 0 })
	));
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(16))]

	#[test]
	fn any_lost_shard_is_rebuilt_byte_for_byte_from_k_others(
		file in proptest::collection::vec(any::<u8>(), 1..40_000),
		(k, m, piece) in coding(),
		lost_seed in any::<usize>(),
	) {
		prop_assume!(m > 0);
		let params = CodingParams::with_piece_bytes(k, m, piece)?;
		let key = EncryptionKey::from_bytes([3; 32]);
		let mut shards = vec![Vec::new(); k + m];
		let manifest = encode_stream(params, Encryption::with_random_nonce(&key), &file[..], &mut shards)?;
		let lost = lost_seed % (k + m);
		for keep in subsets(k + m, k).into_iter().filter(|keep| !keep[lost]) {
			let mut readers: Vec<Option<&[u8]>> =
				shards.iter().zip(&keep).map(|(shard, keep)| keep.then_some(&shard[..])).collect();
			let rebuilt = rebuild_shard(&manifest, &mut readers, lost, Vec::new())?;
			prop_assert_eq!(&rebuilt, &shards[lost]);
		}
		// Fewer than k others: a typed error, not a guess.
		let mut readers: Vec<Option<&[u8]>> = vec![None; k + m];
		for index in (0..k + m).filter(|index| *index != lost).take(k - 1) {
			readers[index] = Some(&shards[index][..]);
		}
		let refused = matches!(
			rebuild_shard(&manifest, &mut readers, lost, Vec::new()),
			Err(StorageError::NotEnoughShards { .. })
		);
		prop_assert!(refused);
	}
}

#[test]
fn an_empty_file_is_one_stripe_and_decodes_to_nothing() {
	let key = EncryptionKey::from_bytes([3; 32]);
	for encryption in [Encryption::Off, Encryption::with_random_nonce(&key)] {
		let params = CodingParams::with_piece_bytes(4, 2, 64).expect("a coding");
		let mut shards = vec![Vec::new(); 6];
		let manifest = encode_stream(params, encryption, &[][..], &mut shards).expect("coded");
		assert_eq!((manifest.plaintext_bytes, manifest.stripe_count), (0, 1));
		assert!(shards.iter().all(|shard| shard.len() == 64), "every shard holds one piece");
		let parsed = FileManifest::from_bytes(&manifest.to_bytes()).expect("a valid manifest");
		let keep = [false, true, false, true, true, true];
		assert_eq!(decode_with(&parsed, Some(&key), &shards, &keep).expect("decoded"), b"");
	}
}

/// `len` bytes that no shift of themselves repeats (a BLAKE3 stream of `seed`).
fn random_bytes(len: u64, seed: u64) -> Vec<u8> {
	let mut bytes = vec![0u8; len as usize];
	blake3::Hasher::new().update(&seed.to_le_bytes()).finalize_xof().fill(&mut bytes);
	bytes
}

/// Each shard's bytes of `span`, one shard (`missing`) left out.
fn span_readers<'a>(
	shards: &'a [Vec<u8>],
	span: &Span,
	piece: usize,
	missing: Option<usize>,
) -> Vec<Option<&'a [u8]>> {
	let (from, to) = (span.stripes.start as usize * piece, span.stripes.end as usize * piece);
	shards
		.iter()
		.enumerate()
		.map(|(index, shard)| (Some(index) != missing).then_some(&shard[from..to]))
		.collect()
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(32))]

	#[test]
	fn a_span_decodes_from_its_stripes_alone(
		len in 1u64..3_300_000,
		(k, m, piece) in coding(),
		encrypt in any::<bool>(),
		seed in any::<u64>(),
		ends in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
		missing in any::<prop::sample::Index>(),
	) {
		let file = random_bytes(len, seed);
		let key = EncryptionKey::from_bytes([5; 32]);
		let params = CodingParams::with_piece_bytes(k, m, piece)?;
		let encryption = if encrypt { Encryption::with_random_nonce(&key) } else { Encryption::Off };
		let mut shards = vec![Vec::new(); k + m];
		let manifest = encode_stream(params, encryption, &file[..], &mut shards)?;
		let (a, b) = (ends.0.index(file.len()) as u64, ends.1.index(file.len()) as u64);
		let span = manifest.span(a.min(b), a.max(b))?;
		prop_assert!(span.plain.start <= a.min(b) && a.max(b) < span.plain.end);
		if encrypt {
			prop_assert_eq!(span.plain.start % ENCRYPTION_CHUNK_BYTES as u64, 0);
		}
		let missing = (m > 0).then(|| missing.index(k + m));
		let mut readers = span_readers(&shards, &span, piece, missing);
		let plain = decode_span(&manifest, Some(&key), &mut readers, &span, Vec::new())?;
		prop_assert_eq!(&plain[..], &file[span.plain.start as usize..span.plain.end as usize]);
	}
}

#[test]
fn a_span_is_authenticated_at_its_place() {
	let key = EncryptionKey::from_bytes([6; 32]);
	let params = CodingParams::with_piece_bytes(4, 2, 4096).expect("valid");
	let chunk = ENCRYPTION_CHUNK_BYTES as u64;
	// Three chunks and a bit: spans ending before the final chunk, and on it.
	let file = random_bytes(3 * chunk + 1000, 1);
	let mut shards = vec![Vec::new(); 6];
	let manifest =
		encode_stream(params, Encryption::with_random_nonce(&key), &file[..], &mut shards)
			.expect("encodes");
	let decode = |shards: &[Vec<u8>], span: &Span| {
		let mut readers = span_readers(shards, span, 4096, None);
		decode_span(&manifest, Some(&key), &mut readers, span, Vec::new())
	};
	for (first, last) in
		[(0, 0), (chunk - 1, chunk), (chunk, 2 * chunk - 1), (3 * chunk, 3 * chunk)]
	{
		let span = manifest.span(first, last).expect("within the file");
		let plain = decode(&shards, &span).expect("decodes");
		assert_eq!(plain, &file[span.plain.start as usize..span.plain.end as usize]);
	}
	// A flipped byte of the span's data fails authentication.
	let span = manifest.span(chunk + 5, chunk + 5).expect("within the file");
	let mut flipped = shards.clone();
	flipped[1][span.stripes.start as usize * 4096 + 7] ^= 1;
	assert!(matches!(decode(&flipped, &span), Err(StorageError::Decryption { chunk: 1 })));
	// The right bytes at another place (every shard's stripes of the chunk before) fail too.
	let before = manifest.span(5, 5).expect("within the file");
	let moved: Vec<Vec<u8>> = shards
		.iter()
		.map(|shard| {
			let mut shard = shard.clone();
			let (to, from) =
				(span.stripes.start as usize * 4096, before.stripes.start as usize * 4096);
			let len = (before.stripes.end - before.stripes.start) as usize * 4096;
			shard.copy_within(from..from + len, to);
			shard
		})
		.collect();
	assert!(decode(&moved, &span).is_err());
	// Outside the file, or a span of another file, is refused.
	assert!(matches!(
		manifest.span(10, 3 * chunk + 1000),
		Err(StorageError::OutsideFile { bytes, .. }) if bytes == 3 * chunk + 1000
	));
	assert!(matches!(manifest.span(10, 9), Err(StorageError::OutsideFile { .. })));
	let mut foreign = manifest.span(0, 0).expect("within the file");
	foreign.plain.end += 1;
	assert!(decode(&shards, &foreign).is_err());
}
