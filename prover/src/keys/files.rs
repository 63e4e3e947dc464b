//! Proving keys and key files on disk.

use std::{fs, path::Path};

use ark_groth16::ProvingKey;

use super::{compressed, decode, encode, verifying_key_to_bytes, KeyKind};
use crate::{Curve, Error};

fn io_error(path: &Path, source: std::io::Error) -> Error {
	Error::Io { path: path.display().to_string(), source }
}

/// A proving key file.
pub fn proving_key_to_bytes(key: &ProvingKey<Curve>, challenges: usize) -> Result<Vec<u8>, Error> {
	encode(KeyKind::Proving, challenges, &compressed(key))
}

/// Reads a proving key file; returns the key and its challenge count.
///
/// The payload's hash is checked, but not every point's subgroup: a proving key only shapes the
/// proofs its owner makes, and a wrong one yields proofs the chain's verifying key rejects. The
/// checks would make loading a provider's key take minutes on a small machine.
pub fn proving_key_from_bytes(
	bytes: &[u8],
	expected_challenges: Option<usize>,
) -> Result<(ProvingKey<Curve>, usize), Error> {
	let file = decode(bytes, KeyKind::Proving, expected_challenges)?;
	let key = super::decode_payload_with(file.payload, "proving key", ark_serialize::Validate::No)?;
	Ok((key, file.challenges))
}

/// File name of the proving key inside a key directory.
pub const PROVING_KEY_FILE: &str = "proving.key";
/// File name of the verifying key inside a key directory.
pub const VERIFYING_KEY_FILE: &str = "verifying.key";

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
	let temporary = path.with_extension("partial");
	fs::write(&temporary, bytes).map_err(|e| io_error(&temporary, e))?;
	fs::rename(&temporary, path).map_err(|e| io_error(path, e))
}

/// Writes `proving.key` and `verifying.key` into `dir` (created if missing).
pub fn write_key_files(
	dir: &Path,
	key: &ProvingKey<Curve>,
	challenges: usize,
) -> Result<(), Error> {
	fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
	write_atomically(&dir.join(PROVING_KEY_FILE), &proving_key_to_bytes(key, challenges)?)?;
	write_atomically(&dir.join(VERIFYING_KEY_FILE), &verifying_key_to_bytes(&key.vk, challenges)?)
}

/// Reads a proving key file from disk.
pub fn read_proving_key(
	path: &Path,
	expected_challenges: Option<usize>,
) -> Result<(ProvingKey<Curve>, usize), Error> {
	let bytes = fs::read(path).map_err(|e| io_error(path, e))?;
	proving_key_from_bytes(&bytes, expected_challenges)
}

/// Reads a verifying key file from disk.
pub fn read_verifying_key(
	path: &Path,
	expected_challenges: Option<usize>,
) -> Result<(ark_groth16::VerifyingKey<Curve>, usize), Error> {
	let bytes = fs::read(path).map_err(|e| io_error(path, e))?;
	super::verifying_key_from_bytes(&bytes, expected_challenges)
}
