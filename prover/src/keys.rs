//! Key files: a fixed header (magic, format version, kind, circuit parameters, payload length and
//! BLAKE2b-256 of the payload) followed by the compressed key.
//!
//! Loading checks every header field before decoding, then decodes with curve and subgroup
//! checks; a truncated, corrupted or mismatched file is a typed error, never a panic.
//!
//! | bytes | field |
//! |---|---|
//! | 8 | magic `CAIRNKEY` |
//! | 2 | format version, little-endian |
//! | 1 | kind: 1 proving, 2 verifying |
//! | 2 | challenges per proof, little-endian |
//! | 1 | tree depth |
//! | 8 | payload length, little-endian |
//! | 32 | BLAKE2b-256 of the payload |

use alloc::{string::String, vec::Vec};

use ark_groth16::VerifyingKey;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use cairn_primitives::tree;
use sp_crypto_hashing::blake2_256;

use crate::{Curve, Error, MAX_CHALLENGES};

/// The verifying key of the deterministic development setup with
/// [`DEFAULT_CHALLENGES`](crate::DEFAULT_CHALLENGES) challenges, as `keygen` writes it: what the
/// development and local chains verify proofs against. A test regenerates it and compares.
pub const DEV_VERIFYING_KEY: &[u8] = include_bytes!("../keys/verifying.key");

/// First bytes of every key file.
pub const KEY_MAGIC: [u8; 8] = *b"CAIRNKEY";
/// Format version this build writes and reads. Version 3 keys prove the Poseidon2 tree of
/// 124-byte leaves; a version 2 key (62-byte leaves hashed at width 3) or 1 (circom's Poseidon) is
/// refused rather than left to make proofs no chain accepts.
pub const KEY_FORMAT_VERSION: u16 = 3;
/// Bytes before the payload.
pub const HEADER_BYTES: usize = 8 + 2 + 1 + 2 + 1 + 8 + 32;

/// Which key a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
	/// A Groth16 proving key (includes the verifying key).
	Proving,
	/// A Groth16 verifying key.
	Verifying,
}

impl KeyKind {
	fn code(self) -> u8 {
		match self {
			KeyKind::Proving => 1,
			KeyKind::Verifying => 2,
		}
	}

	fn name(code: u8) -> &'static str {
		match code {
			1 => "proving",
			2 => "verifying",
			_ => "unknown",
		}
	}
}

/// A parsed key file: the circuit's challenge count and the checked payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFile<'a> {
	/// Challenges per proof of the key's circuit.
	pub challenges: usize,
	/// The compressed key, its hash already checked.
	pub payload: &'a [u8],
}

/// Lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
	const DIGITS: &[u8; 16] = b"0123456789abcdef";
	bytes
		.iter()
		.flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0x0f)]])
		.map(char::from)
		.collect()
}

/// Wraps a compressed key in the header.
pub fn encode(kind: KeyKind, challenges: usize, payload: &[u8]) -> Result<Vec<u8>, Error> {
	let challenges_field = u16::try_from(challenges)
		.ok()
		.filter(|c| usize::from(*c) <= MAX_CHALLENGES && *c > 0)
		.ok_or(Error::ChallengeCount { count: challenges, max: MAX_CHALLENGES })?;
	let mut out = Vec::with_capacity(HEADER_BYTES + payload.len());
	out.extend_from_slice(&KEY_MAGIC);
	out.extend_from_slice(&KEY_FORMAT_VERSION.to_le_bytes());
	out.push(kind.code());
	out.extend_from_slice(&challenges_field.to_le_bytes());
	out.push(tree::DEPTH as u8);
	out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
	out.extend_from_slice(&blake2_256(payload));
	out.extend_from_slice(payload);
	Ok(out)
}

fn take(bytes: &[u8], at: usize, len: usize) -> Result<&[u8], Error> {
	bytes.get(at..at.saturating_add(len)).ok_or(Error::KeyTruncated {
		needed: at.saturating_add(len) as u64,
		available: bytes.len() as u64,
	})
}

fn array<const N: usize>(bytes: &[u8], at: usize) -> Result<[u8; N], Error> {
	let mut out = [0u8; N];
	out.copy_from_slice(take(bytes, at, N)?);
	Ok(out)
}

/// Checks the header of a key file of `kind` (and, when given, its challenge count).
pub fn decode(
	bytes: &[u8],
	kind: KeyKind,
	expected_challenges: Option<usize>,
) -> Result<KeyFile<'_>, Error> {
	let magic: [u8; 8] = array(bytes, 0)?;
	if magic != KEY_MAGIC {
		return Err(Error::KeyMagic { found: magic });
	}
	let version = u16::from_le_bytes(array(bytes, 8)?);
	if version != KEY_FORMAT_VERSION {
		return Err(Error::KeyVersion { found: version, supported: KEY_FORMAT_VERSION });
	}
	let [kind_code] = array::<1>(bytes, 10)?;
	if kind_code != kind.code() {
		return Err(Error::KeyKind {
			expected: KeyKind::name(kind.code()),
			found: KeyKind::name(kind_code),
		});
	}
	let challenges = usize::from(u16::from_le_bytes(array(bytes, 11)?));
	let [depth] = array::<1>(bytes, 13)?;
	let expected = expected_challenges.unwrap_or(challenges);
	if challenges != expected || u32::from(depth) != tree::DEPTH {
		return Err(Error::KeyParameters {
			expected_challenges: expected,
			found_challenges: challenges,
			expected_depth: tree::DEPTH,
			found_depth: u32::from(depth),
		});
	}
	if challenges == 0 || challenges > MAX_CHALLENGES {
		return Err(Error::ChallengeCount { count: challenges, max: MAX_CHALLENGES });
	}
	let length = u64::from_le_bytes(array(bytes, 14)?);
	let hash: [u8; 32] = array(bytes, 22)?;
	let available = bytes.len().saturating_sub(HEADER_BYTES) as u64;
	if length != available {
		return Err(Error::KeyTruncated {
			needed: length.saturating_add(HEADER_BYTES as u64),
			available: bytes.len() as u64,
		});
	}
	let payload = &bytes[HEADER_BYTES..];
	let actual = blake2_256(payload);
	if actual != hash {
		return Err(Error::KeyHash { expected: to_hex(&hash), actual: to_hex(&actual) });
	}
	Ok(KeyFile { challenges, payload })
}

/// Decodes a compressed value, with curve and subgroup checks, refusing trailing bytes.
pub(crate) fn decode_payload<T: CanonicalDeserialize>(
	payload: &[u8],
	what: &'static str,
) -> Result<T, Error> {
	decode_payload_with(payload, what, Validate::Yes)
}

/// As [`decode_payload`], with or without the curve and subgroup checks.
pub(crate) fn decode_payload_with<T: CanonicalDeserialize>(
	payload: &[u8],
	what: &'static str,
	validate: Validate,
) -> Result<T, Error> {
	let mut reader = payload;
	let value = T::deserialize_with_mode(&mut reader, Compress::Yes, validate)
		.map_err(|_| Error::KeyEncoding { what })?;
	if !reader.is_empty() {
		return Err(Error::KeyEncoding { what });
	}
	Ok(value)
}

pub(crate) fn compressed<T: CanonicalSerialize>(value: &T) -> Vec<u8> {
	let mut out = Vec::with_capacity(value.compressed_size());
	value
		.serialize_compressed(&mut out)
		.expect("serializing into a Vec cannot fail: it grows as needed");
	out
}

/// A verifying key file.
pub fn verifying_key_to_bytes(
	key: &VerifyingKey<Curve>,
	challenges: usize,
) -> Result<Vec<u8>, Error> {
	encode(KeyKind::Verifying, challenges, &compressed(key))
}

/// The identity of a verifying key: BLAKE2b-256 of its compressed encoding (the payload of its
/// file), as printed by `keygen` and compared by operators.
pub fn verifying_key_hash(key: &VerifyingKey<Curve>) -> [u8; 32] {
	blake2_256(&compressed(key))
}

/// Reads a verifying key file; returns the key and its challenge count.
pub fn verifying_key_from_bytes(
	bytes: &[u8],
	expected_challenges: Option<usize>,
) -> Result<(VerifyingKey<Curve>, usize), Error> {
	let file = decode(bytes, KeyKind::Verifying, expected_challenges)?;
	let key = decode_payload(file.payload, "verifying key")?;
	Ok((key, file.challenges))
}

#[cfg(feature = "std")]
mod files;
#[cfg(feature = "std")]
pub use files::*;
