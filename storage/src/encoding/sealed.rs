//! One secret per account for all its files: file keys and sealed manifests.
//!
//! A [`FileSecret`] is 32 bytes that never leave the machine and can be derived again from
//! what the user wrote down (the node derives it from its account key, so the account's
//! mnemonic restores it). From it:
//!
//! - each file's encryption key is `BLAKE3-derive_key("cairn file key v1", secret ‖ salt)`,
//!   with a random 16-byte salt per file, so no file key is ever stored;
//! - a file's manifest (sizes, coding, the salt, its name) is **sealed** for the chain with
//!   XChaCha20-Poly1305 under `derive_key("cairn manifest key v1", secret)`, a random nonce, and
//!   the owner's account as associated data: `version (1) ‖ nonce (24) ‖ ciphertext ‖ tag (16)`.
//!   A manifest copied into another account's contract does not open there.

use chacha20poly1305::{
	aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
	Key, XChaCha20Poly1305, XNonce,
};

use super::EncryptionKey;

/// The first byte of every sealed manifest.
pub const SEALED_VERSION: u8 = 1;
/// Bytes a sealed manifest adds to its plaintext: version, nonce and tag.
pub const SEALED_OVERHEAD: usize = 1 + 24 + 16;
/// Bytes of a file's salt.
pub const SALT_BYTES: usize = 16;

const FILE_KEY_CONTEXT: &str = "cairn file key v1";
const MANIFEST_KEY_CONTEXT: &str = "cairn manifest key v1";

/// Why a sealed manifest does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
	/// Too short, or of a version this code does not know.
	#[error("not a sealed manifest of a known version")]
	Malformed,
	/// Sealed under another secret, for another owner, or altered.
	#[error("the manifest does not open with this account's secret")]
	WrongSecret,
}

/// An account's file secret.
#[derive(Clone)]
pub struct FileSecret([u8; 32]);

impl core::fmt::Debug for FileSecret {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str("FileSecret(..)")
	}
}

impl FileSecret {
	/// Wraps secret bytes (uniformly random, or the output of a key-derivation function).
	pub fn from_bytes(bytes: [u8; 32]) -> Self {
		Self(bytes)
	}

	/// A fresh random salt for a new file.
	pub fn new_salt() -> [u8; SALT_BYTES] {
		let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
		let mut salt = [0u8; SALT_BYTES];
		salt.copy_from_slice(&nonce[..SALT_BYTES]);
		salt
	}

	/// The encryption key of the file with `salt`.
	pub fn file_key(&self, salt: &[u8; SALT_BYTES]) -> EncryptionKey {
		let mut material = [0u8; 32 + SALT_BYTES];
		material[..32].copy_from_slice(&self.0);
		material[32..].copy_from_slice(salt);
		EncryptionKey::from_bytes(blake3::derive_key(FILE_KEY_CONTEXT, &material))
	}

	fn manifest_cipher(&self) -> XChaCha20Poly1305 {
		let key = blake3::derive_key(MANIFEST_KEY_CONTEXT, &self.0);
		XChaCha20Poly1305::new(Key::from_slice(&key))
	}

	/// Seals `plaintext` for `owner` (the account's bytes).
	pub fn seal(&self, owner: &[u8], plaintext: &[u8]) -> Vec<u8> {
		let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
		let sealed = self
			.manifest_cipher()
			.encrypt(&nonce, Payload { msg: plaintext, aad: owner })
			.expect("XChaCha20-Poly1305 seals any message shorter than 256 GiB");
		let mut out = Vec::with_capacity(SEALED_OVERHEAD + plaintext.len());
		out.push(SEALED_VERSION);
		out.extend_from_slice(&nonce);
		out.extend_from_slice(&sealed);
		out
	}

	/// Opens what [`Self::seal`] sealed for `owner`.
	pub fn open(&self, owner: &[u8], sealed: &[u8]) -> Result<Vec<u8>, OpenError> {
		if sealed.len() < SEALED_OVERHEAD || sealed[0] != SEALED_VERSION {
			return Err(OpenError::Malformed);
		}
		let nonce = XNonce::from_slice(&sealed[1..25]);
		self.manifest_cipher()
			.decrypt(nonce, Payload { msg: &sealed[25..], aad: owner })
			.map_err(|_| OpenError::WrongSecret)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const ALICE: &[u8] = b"alice's account id";

	#[test]
	fn a_sealed_manifest_opens_with_its_secret_and_owner_only() {
		let secret = FileSecret::from_bytes([1; 32]);
		let sealed = secret.seal(ALICE, b"manifest");
		assert_eq!(sealed.len(), SEALED_OVERHEAD + 8);
		assert_eq!(secret.open(ALICE, &sealed).unwrap(), b"manifest");
		// Sealing twice gives different bytes (a fresh nonce), both open.
		let again = secret.seal(ALICE, b"manifest");
		assert_ne!(sealed, again);
		assert_eq!(secret.open(ALICE, &again).unwrap(), b"manifest");
		// Another secret, another owner, a flipped bit, a cut, another version: refused.
		let other = FileSecret::from_bytes([2; 32]);
		assert_eq!(other.open(ALICE, &sealed), Err(OpenError::WrongSecret));
		assert_eq!(secret.open(b"mallory", &sealed), Err(OpenError::WrongSecret));
		for at in [1, 24, 25, sealed.len() - 1] {
			let mut flipped = sealed.clone();
			flipped[at] ^= 1;
			assert_eq!(secret.open(ALICE, &flipped), Err(OpenError::WrongSecret), "bit at {at}");
		}
		assert_eq!(secret.open(ALICE, &sealed[..sealed.len() - 1]), Err(OpenError::WrongSecret));
		assert_eq!(secret.open(ALICE, &sealed[..SEALED_OVERHEAD - 1]), Err(OpenError::Malformed));
		let mut versioned = sealed.clone();
		versioned[0] = 2;
		assert_eq!(secret.open(ALICE, &versioned), Err(OpenError::Malformed));
	}

	#[test]
	fn file_keys_follow_secret_and_salt() {
		let secret = FileSecret::from_bytes([1; 32]);
		let key = |secret: &FileSecret, salt: [u8; SALT_BYTES]| *secret.file_key(&salt).bytes();
		assert_eq!(key(&secret, [3; 16]), key(&FileSecret::from_bytes([1; 32]), [3; 16]));
		assert_ne!(key(&secret, [3; 16]), key(&secret, [4; 16]));
		assert_ne!(key(&secret, [3; 16]), key(&FileSecret::from_bytes([2; 32]), [3; 16]));
		assert_ne!(FileSecret::new_salt(), FileSecret::new_salt());
	}
}
