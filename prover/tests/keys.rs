//! Key files: round trips, determinism, and typed errors for every kind of bad file.

mod common;

use cairn_prover::{
	keys::{self, KeyKind, HEADER_BYTES, KEY_FORMAT_VERSION},
	prover::dev_setup,
	verifier::VerifierKey,
	Error,
};
use common::{keys as test_keys, TEST_CHALLENGES};

#[test]
fn keys_round_trip_through_files() {
	let keys = test_keys();
	let dir = tempfile::tempdir().expect("temporary directory");
	keys::write_key_files(dir.path(), keys.proving_key(), TEST_CHALLENGES).expect("writes");
	let (proving, challenges) =
		keys::read_proving_key(&dir.path().join(keys::PROVING_KEY_FILE), Some(TEST_CHALLENGES))
			.expect("reads");
	assert_eq!(challenges, TEST_CHALLENGES);
	assert_eq!(&proving, keys.proving_key());
	let (verifying, _) =
		keys::read_verifying_key(&dir.path().join(keys::VERIFYING_KEY_FILE), None).expect("reads");
	assert_eq!(&verifying, keys.verifying_key());
	let bytes = std::fs::read(dir.path().join(keys::VERIFYING_KEY_FILE)).expect("reads");
	let verifier = VerifierKey::from_bytes(&bytes).expect("decodes");
	assert_eq!(verifier.challenges(), TEST_CHALLENGES);
	assert_eq!(verifier.hash(), keys::verifying_key_hash(keys.verifying_key()));
}

#[test]
fn dev_setup_is_reproducible() {
	let again = dev_setup(TEST_CHALLENGES).expect("setup");
	assert_eq!(again.verifying_key(), test_keys().verifying_key());
	assert_eq!(again.proving_key(), test_keys().proving_key());
}

#[test]
fn embedded_development_key_is_the_dev_setup() {
	let keys = dev_setup(cairn_prover::DEFAULT_CHALLENGES).expect("setup");
	let expected =
		keys::verifying_key_to_bytes(keys.verifying_key(), cairn_prover::DEFAULT_CHALLENGES)
			.expect("encodes");
	assert!(
		keys::DEV_VERIFYING_KEY == expected.as_slice(),
		"prover/keys/verifying.key is stale: regenerate it with `keygen --out prover/keys`"
	);
	let verifier = VerifierKey::from_bytes(keys::DEV_VERIFYING_KEY).expect("decodes");
	assert_eq!(verifier.challenges(), cairn_prover::DEFAULT_CHALLENGES);
}

#[test]
fn bad_key_files_are_typed_errors() {
	let keys = test_keys();
	let file =
		keys::verifying_key_to_bytes(keys.verifying_key(), TEST_CHALLENGES).expect("encodes");
	let decode = |bytes: &[u8]| keys::verifying_key_from_bytes(bytes, Some(TEST_CHALLENGES));

	for cut in [0, 5, HEADER_BYTES - 1, HEADER_BYTES, file.len() - 1] {
		assert!(matches!(decode(&file[..cut]), Err(Error::KeyTruncated { .. })), "cut at {cut}");
	}
	let mut corrupt = file.clone();
	corrupt[HEADER_BYTES + 40] ^= 1;
	assert!(matches!(decode(&corrupt), Err(Error::KeyHash { .. })));

	let mut magic = file.clone();
	magic[0] = b'X';
	assert!(matches!(decode(&magic), Err(Error::KeyMagic { .. })));

	let mut version = file.clone();
	version[8..10].copy_from_slice(&(KEY_FORMAT_VERSION + 1).to_le_bytes());
	assert!(matches!(decode(&version), Err(Error::KeyVersion { .. })));

	assert!(matches!(
		keys::proving_key_from_bytes(&file, None),
		Err(Error::KeyKind { expected: "proving", found: "verifying" })
	));
	assert!(matches!(
		keys::verifying_key_from_bytes(&file, Some(TEST_CHALLENGES + 1)),
		Err(Error::KeyParameters { found_challenges: TEST_CHALLENGES, .. })
	));

	// A well-formed file around a payload that is not a key (hash recomputed to match).
	let garbage = keys::encode(KeyKind::Verifying, TEST_CHALLENGES, &[7u8; 300]).expect("encodes");
	assert!(matches!(decode(&garbage), Err(Error::KeyEncoding { what: "verifying key" })));

	// A valid key with trailing bytes is refused too.
	let mut payload = file[HEADER_BYTES..].to_vec();
	payload.push(0);
	let trailing = keys::encode(KeyKind::Verifying, TEST_CHALLENGES, &payload).expect("encodes");
	assert!(matches!(decode(&trailing), Err(Error::KeyEncoding { .. })));

	// A verifying key labelled for another challenge count has the wrong number of inputs.
	let relabelled = keys::encode(KeyKind::Verifying, 40, &file[HEADER_BYTES..]).expect("encodes");
	assert!(matches!(VerifierKey::from_bytes(&relabelled), Err(Error::InputCount { .. })));

	let dir = tempfile::tempdir().expect("temporary directory");
	let missing = keys::read_proving_key(&dir.path().join("absent.key"), None);
	assert!(matches!(missing, Err(Error::Io { .. })));
}
