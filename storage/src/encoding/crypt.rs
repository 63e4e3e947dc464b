//! Chunked XChaCha20-Poly1305 encryption that streams.
//!
//! The plaintext is cut into chunks of [`ENCRYPTION_CHUNK_BYTES`]; chunk `i` is sealed under the
//! nonce `prefix ‖ i (u32, big-endian) ‖ last`, where `last` is 1 only for the final chunk (the
//! STREAM construction). Reordering, dropping or appending chunks, or cutting the stream after a
//! chunk, makes authentication fail.

use std::io::{self, Read, Write};

use chacha20poly1305::aead::{AeadCore, AeadInPlace, KeyInit, OsRng};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::error::{Result, StorageError};

/// Plaintext bytes per sealed chunk.
pub const ENCRYPTION_CHUNK_BYTES: usize = 1 << 20;
/// Authentication tag bytes appended to every chunk.
pub const TAG_BYTES: usize = 16;
/// Bytes of the per-file nonce prefix (24-byte XChaCha nonce minus counter and flag).
pub const NONCE_PREFIX_BYTES: usize = 19;
/// Ciphertext bytes per sealed chunk.
pub const SEALED_CHUNK_BYTES: usize = ENCRYPTION_CHUNK_BYTES + TAG_BYTES;

/// Per-file nonce prefix.
pub type NoncePrefix = [u8; NONCE_PREFIX_BYTES];

/// A 256-bit file encryption key, supplied by the caller.
#[derive(Clone)]
pub struct EncryptionKey([u8; 32]);

impl EncryptionKey {
	/// Wraps raw key bytes.
	pub fn from_bytes(bytes: [u8; 32]) -> Self {
		Self(bytes)
	}

	#[cfg(test)]
	pub(crate) fn bytes(&self) -> &[u8; 32] {
		&self.0
	}

	fn cipher(&self) -> XChaCha20Poly1305 {
		XChaCha20Poly1305::new(Key::from_slice(&self.0))
	}
}

impl core::fmt::Debug for EncryptionKey {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		f.write_str("EncryptionKey(..)")
	}
}

/// A fresh random nonce prefix from the operating system's generator.
pub fn random_nonce_prefix() -> NoncePrefix {
	let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
	let mut prefix = [0u8; NONCE_PREFIX_BYTES];
	prefix.copy_from_slice(&nonce[..NONCE_PREFIX_BYTES]);
	prefix
}

/// Sealed chunks of `plaintext_bytes` of plaintext (an empty file is one empty chunk).
pub fn chunk_count(plaintext_bytes: u64) -> u64 {
	plaintext_bytes.div_ceil(ENCRYPTION_CHUNK_BYTES as u64).max(1)
}

/// Ciphertext length for `plaintext_bytes` of plaintext.
pub fn ciphertext_len(plaintext_bytes: u64) -> Option<u64> {
	plaintext_bytes.checked_add(chunk_count(plaintext_bytes).checked_mul(TAG_BYTES as u64)?)
}

fn chunk_nonce(prefix: &NoncePrefix, counter: u64, last: bool) -> Result<XNonce> {
	let counter =
		u32::try_from(counter).map_err(|_| StorageError::Decryption { chunk: counter })?;
	let mut nonce = [0u8; 24];
	nonce[..NONCE_PREFIX_BYTES].copy_from_slice(prefix);
	nonce[NONCE_PREFIX_BYTES..23].copy_from_slice(&counter.to_be_bytes());
	nonce[23] = u8::from(last);
	Ok(*XNonce::from_slice(&nonce))
}

/// A [`Read`] adapter that yields the ciphertext of the wrapped plaintext reader.
pub struct EncryptingReader<R> {
	inner: R,
	cipher: XChaCha20Poly1305,
	prefix: NoncePrefix,
	counter: u64,
	/// Plaintext read ahead: up to one chunk plus one byte, to know whether a chunk is the last.
	plain: Vec<u8>,
	sealed: Vec<u8>,
	sealed_at: usize,
	finished: bool,
}

impl<R: Read> EncryptingReader<R> {
	/// Encrypts `inner` with `key` under `prefix`.
	pub fn new(inner: R, key: &EncryptionKey, prefix: NoncePrefix) -> Self {
		Self {
			inner,
			cipher: key.cipher(),
			prefix,
			counter: 0,
			plain: Vec::with_capacity(ENCRYPTION_CHUNK_BYTES + 1),
			sealed: Vec::with_capacity(SEALED_CHUNK_BYTES),
			sealed_at: 0,
			finished: false,
		}
	}

	fn seal_next(&mut self) -> io::Result<()> {
		let mut eof = false;
		while self.plain.len() <= ENCRYPTION_CHUNK_BYTES {
			let start = self.plain.len();
			self.plain.resize(ENCRYPTION_CHUNK_BYTES + 1, 0);
			match self.inner.read(&mut self.plain[start..]) {
				Ok(0) => {
					self.plain.truncate(start);
					eof = true;
					break;
				}
				Ok(read) => self.plain.truncate(start + read),
				Err(error) if error.kind() == io::ErrorKind::Interrupted => {
					self.plain.truncate(start)
				}
				Err(error) => {
					self.plain.truncate(start);
					return Err(error);
				}
			}
		}
		let chunk_len = self.plain.len().min(ENCRYPTION_CHUNK_BYTES);
		let nonce = chunk_nonce(&self.prefix, self.counter, eof)
			.map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error))?;
		// Sealed in place, in the buffer of the chunk before.
		self.sealed.clear();
		self.sealed.extend_from_slice(&self.plain[..chunk_len]);
		self.cipher
			.encrypt_in_place(&nonce, b"", &mut self.sealed)
			.map_err(|_| io::Error::other("encryption failed"))?;
		self.sealed_at = 0;
		self.plain.drain(..chunk_len);
		self.counter = self.counter.saturating_add(1);
		self.finished = eof;
		Ok(())
	}
}

impl<R: Read> Read for EncryptingReader<R> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		if self.sealed_at == self.sealed.len() {
			if self.finished {
				return Ok(0);
			}
			self.seal_next()?;
		}
		let available = &self.sealed[self.sealed_at..];
		let count = available.len().min(buf.len());
		buf[..count].copy_from_slice(&available[..count]);
		self.sealed_at += count;
		Ok(count)
	}
}

/// Receives ciphertext in pieces of any size and writes the authenticated plaintext to `inner`.
///
/// Call [`Decryptor::finish`] at the end: only the final chunk carries the last-chunk flag, so a
/// truncated stream fails there.
pub struct Decryptor<W> {
	inner: W,
	cipher: XChaCha20Poly1305,
	prefix: NoncePrefix,
	counter: u64,
	/// The stream's final chunk, when the ciphertext fed is only part of the stream; `None`: the
	/// chunk open at [`Decryptor::finish`] is the final one.
	final_chunk: Option<u64>,
	sealed: Vec<u8>,
}

impl<W: Write> Decryptor<W> {
	/// Decrypts with `key` under `prefix` into `inner`.
	pub fn new(inner: W, key: &EncryptionKey, prefix: NoncePrefix) -> Self {
		Self {
			inner,
			cipher: key.cipher(),
			prefix,
			counter: 0,
			final_chunk: None,
			sealed: Vec::with_capacity(SEALED_CHUNK_BYTES),
		}
	}

	/// Decrypts part of a stream: whole sealed chunks from chunk `first` on, of a stream whose
	/// final chunk is `final_chunk`. Every chunk is authenticated at its place in the stream,
	/// so that a chunk of another place, or of another stream, fails.
	pub fn resume(
		inner: W,
		key: &EncryptionKey,
		prefix: NoncePrefix,
		first: u64,
		final_chunk: u64,
	) -> Self {
		Self { counter: first, final_chunk: Some(final_chunk), ..Self::new(inner, key, prefix) }
	}

	/// Feeds ciphertext.
	pub fn push(&mut self, mut ciphertext: &[u8]) -> Result<()> {
		while !ciphertext.is_empty() {
			// A full chunk is opened only once more bytes follow: only then is it known not to be last.
			if self.sealed.len() == SEALED_CHUNK_BYTES {
				self.open_buffered(false)?;
			}
			let room = SEALED_CHUNK_BYTES - self.sealed.len();
			let take = room.min(ciphertext.len());
			self.sealed.extend_from_slice(&ciphertext[..take]);
			ciphertext = &ciphertext[take..];
		}
		Ok(())
	}

	/// Opens the last chunk fed (the final one, unless [`Decryptor::resume`] said otherwise) and
	/// returns the inner writer.
	pub fn finish(mut self) -> Result<W> {
		if self.sealed.len() < TAG_BYTES {
			return Err(StorageError::Truncated { chunk: self.counter });
		}
		let last = self.final_chunk.is_none_or(|last| last == self.counter);
		self.open_buffered(last)?;
		self.inner.flush()?;
		Ok(self.inner)
	}

	fn open_buffered(&mut self, last: bool) -> Result<()> {
		let chunk = self.counter;
		let nonce = chunk_nonce(&self.prefix, chunk, last)?;
		// Opened in place: the buffer holds the plaintext after.
		self.cipher
			.decrypt_in_place(&nonce, b"", &mut self.sealed)
			.map_err(|_| StorageError::Decryption { chunk })?;
		self.inner.write_all(&self.sealed)?;
		self.sealed.clear();
		self.counter = chunk.saturating_add(1);
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn encrypt(plain: &[u8], key: &EncryptionKey, prefix: NoncePrefix) -> Vec<u8> {
		let mut sealed = Vec::new();
		EncryptingReader::new(plain, key, prefix).read_to_end(&mut sealed).expect("encrypts");
		sealed
	}

	fn decrypt(sealed: &[u8], key: &EncryptionKey, prefix: NoncePrefix) -> Result<Vec<u8>> {
		let mut decryptor = Decryptor::new(Vec::new(), key, prefix);
		for piece in sealed.chunks(70_001) {
			decryptor.push(piece)?;
		}
		decryptor.finish()
	}

	#[test]
	fn round_trips_across_chunk_boundaries() {
		let key = EncryptionKey::from_bytes([3; 32]);
		let prefix = random_nonce_prefix();
		for len in [
			0,
			1,
			ENCRYPTION_CHUNK_BYTES - 1,
			ENCRYPTION_CHUNK_BYTES,
			2 * ENCRYPTION_CHUNK_BYTES + 5,
		] {
			let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
			let sealed = encrypt(&plain, &key, prefix);
			assert_eq!(sealed.len() as u64, ciphertext_len(len as u64).expect("small"));
			assert_eq!(decrypt(&sealed, &key, prefix).expect("decrypts"), plain);
		}
	}

	/// The format files are stored in: chunk `i` is XChaCha20-Poly1305's sealing of its
	/// plaintext under its STREAM nonce, so that files stored before any change here still open.
	#[test]
	fn each_chunk_is_sealed_under_its_stream_nonce() {
		use chacha20poly1305::aead::Aead;
		let key = EncryptionKey::from_bytes([7; 32]);
		let prefix = [11; NONCE_PREFIX_BYTES];
		let plain: Vec<u8> = (0..2 * ENCRYPTION_CHUNK_BYTES + 3).map(|i| (i % 253) as u8).collect();
		let sealed = encrypt(&plain, &key, prefix);
		let cipher = key.cipher();
		let chunks: Vec<&[u8]> = plain.chunks(ENCRYPTION_CHUNK_BYTES).collect();
		let mut expected = Vec::new();
		for (i, chunk) in chunks.iter().enumerate() {
			let nonce = chunk_nonce(&prefix, i as u64, i + 1 == chunks.len()).unwrap();
			expected.extend(cipher.encrypt(&nonce, *chunk).unwrap());
		}
		assert!(sealed == expected);
	}

	#[test]
	fn detects_truncation_tampering_and_wrong_key() {
		let key = EncryptionKey::from_bytes([3; 32]);
		let prefix = [9; NONCE_PREFIX_BYTES];
		let plain = vec![5u8; 2 * ENCRYPTION_CHUNK_BYTES + 10];
		let sealed = encrypt(&plain, &key, prefix);
		// Cut after the first two whole chunks: every remaining chunk is valid but none is flagged last.
		let cut = &sealed[..2 * SEALED_CHUNK_BYTES];
		assert!(matches!(decrypt(cut, &key, prefix), Err(StorageError::Decryption { chunk: 1 })));
		let mut flipped = sealed.clone();
		flipped[10] ^= 1;
		assert!(matches!(
			decrypt(&flipped, &key, prefix),
			Err(StorageError::Decryption { chunk: 0 })
		));
		let other = EncryptionKey::from_bytes([4; 32]);
		assert!(decrypt(&sealed, &other, prefix).is_err());
		assert!(matches!(decrypt(&sealed[..5], &key, prefix), Err(StorageError::Truncated { .. })));
	}
}
