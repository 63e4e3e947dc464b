//! The file manifest: everything besides the shards that decoding needs.

use core::ops::Range;

use crate::encoding::crypt::{
	ciphertext_len, NoncePrefix, ENCRYPTION_CHUNK_BYTES, NONCE_PREFIX_BYTES, SEALED_CHUNK_BYTES,
};
use crate::encoding::erasure::CodingParams;
use crate::error::{Result, StorageError};

const MAGIC: &[u8; 8] = b"CAIRNMF1";
/// Length of [`FileManifest::to_bytes`]'s output.
pub const MANIFEST_BYTES: usize = 8 + 2 + 2 + 4 + 8 + 8 + 8 + 1 + NONCE_PREFIX_BYTES + 4;

/// How a file was encrypted (the key itself is never part of the manifest).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncryptionHeader {
	/// Per-file nonce prefix; each chunk's nonce is this prefix, the chunk counter and a last-chunk flag.
	pub nonce_prefix: NoncePrefix,
	/// Plaintext bytes per sealed chunk.
	pub chunk_bytes: u32,
}

/// Describes one encoded file: coding parameters, sizes and encryption header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileManifest {
	/// `k` and `m` and the stripe piece size.
	pub coding: CodingParams,
	/// Number of stripes; every shard holds one piece of each.
	pub stripe_count: u64,
	/// Length of the original file.
	pub plaintext_bytes: u64,
	/// Length of the byte stream that was striped (ciphertext when encrypted, else the plaintext).
	pub encoded_bytes: u64,
	/// Present when the file was encrypted.
	pub encryption: Option<EncryptionHeader>,
}

/// The stripes that hold some bytes of a file ([`FileManifest::span`]), and what they decode to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
	/// The stripes: every shard's bytes `stripes × piece bytes`.
	pub stripes: Range<u64>,
	/// The bytes of the encoded stream to decode from them.
	pub encoded: Range<u64>,
	/// The plaintext those decode to: whole sealed chunks when the file is encrypted, so that
	/// every byte is authenticated.
	pub plain: Range<u64>,
}

impl FileManifest {
	/// The stripes to read for the file's bytes `first..=last`.
	pub fn span(&self, first: u64, last: u64) -> Result<Span> {
		self.validate()?;
		if first > last || last >= self.plaintext_bytes {
			return Err(StorageError::OutsideFile { first, last, bytes: self.plaintext_bytes });
		}
		let (encoded, plain) = match self.encryption {
			Some(_) => {
				let (chunk, sealed) = (ENCRYPTION_CHUNK_BYTES as u64, SEALED_CHUNK_BYTES as u64);
				let chunks = first / chunk..last / chunk + 1;
				(
					chunks.start * sealed..(chunks.end * sealed).min(self.encoded_bytes),
					chunks.start * chunk..(chunks.end * chunk).min(self.plaintext_bytes),
				)
			}
			None => (first..last + 1, first..last + 1),
		};
		let stripe = self.coding.stripe_bytes() as u64;
		Ok(Span { stripes: encoded.start / stripe..encoded.end.div_ceil(stripe), encoded, plain })
	}

	/// Bytes of every shard of this file.
	pub fn shard_bytes(&self) -> Result<u64> {
		self.stripe_count
			.checked_mul(self.coding.piece_bytes() as u64)
			.ok_or(StorageError::InvalidManifest { reason: "shard size overflows" })
	}

	/// Checks that the sizes agree with each other.
	pub fn validate(&self) -> Result<()> {
		let invalid = |reason| Err(StorageError::InvalidManifest { reason });
		let expected_encoded = match &self.encryption {
			Some(header) => {
				if header.chunk_bytes as usize != ENCRYPTION_CHUNK_BYTES {
					return invalid("unsupported encryption chunk size");
				}
				ciphertext_len(self.plaintext_bytes)
					.ok_or(StorageError::InvalidManifest { reason: "ciphertext size overflows" })?
			}
			None => self.plaintext_bytes,
		};
		if expected_encoded != self.encoded_bytes {
			return invalid("encoded size does not match the plaintext size");
		}
		let stripe_bytes = self.coding.stripe_bytes() as u64;
		// At least one: an empty file is one stripe of zeros.
		let needed_stripes = self.encoded_bytes.div_ceil(stripe_bytes).max(1);
		if needed_stripes != self.stripe_count {
			return invalid("stripe count does not match the encoded size");
		}
		let shard_bytes = self.shard_bytes()?;
		let max = crate::commitment::MAX_SHARD_BYTES;
		if shard_bytes > max {
			return Err(StorageError::ShardTooLarge { bytes: shard_bytes, max });
		}
		Ok(())
	}

	/// Fixed-size little-endian encoding.
	pub fn to_bytes(&self) -> [u8; MANIFEST_BYTES] {
		let mut out = [0u8; MANIFEST_BYTES];
		let mut writer = FieldWriter { out: &mut out, at: 0 };
		writer.put(MAGIC);
		writer.put(&(self.coding.data_shards() as u16).to_le_bytes());
		writer.put(&(self.coding.parity_shards() as u16).to_le_bytes());
		writer.put(&(self.coding.piece_bytes() as u32).to_le_bytes());
		writer.put(&self.stripe_count.to_le_bytes());
		writer.put(&self.plaintext_bytes.to_le_bytes());
		writer.put(&self.encoded_bytes.to_le_bytes());
		match &self.encryption {
			Some(header) => {
				writer.put(&[1]);
				writer.put(&header.nonce_prefix);
				writer.put(&header.chunk_bytes.to_le_bytes());
			}
			None => writer.put(&[0; 1 + NONCE_PREFIX_BYTES + 4]),
		}
		out
	}

	/// Parses and validates [`FileManifest::to_bytes`]'s output.
	pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
		if bytes.len() != MANIFEST_BYTES {
			return Err(StorageError::InvalidManifest { reason: "wrong length" });
		}
		let mut reader = FieldReader { bytes, at: 0 };
		if reader.take::<8>() != *MAGIC {
			return Err(StorageError::InvalidManifest { reason: "wrong magic" });
		}
		let data_shards = u16::from_le_bytes(reader.take());
		let parity_shards = u16::from_le_bytes(reader.take());
		let piece_bytes = u32::from_le_bytes(reader.take());
		let coding = CodingParams::with_piece_bytes(
			data_shards.into(),
			parity_shards.into(),
			piece_bytes as usize,
		)?;
		let stripe_count = u64::from_le_bytes(reader.take());
		let plaintext_bytes = u64::from_le_bytes(reader.take());
		let encoded_bytes = u64::from_le_bytes(reader.take());
		let [flag] = reader.take::<1>();
		let nonce_prefix = reader.take::<NONCE_PREFIX_BYTES>();
		let chunk_bytes = u32::from_le_bytes(reader.take());
		let encryption = match flag {
			0 => None,
			1 => Some(EncryptionHeader { nonce_prefix, chunk_bytes }),
			_ => return Err(StorageError::InvalidManifest { reason: "bad encryption flag" }),
		};
		let manifest = Self { coding, stripe_count, plaintext_bytes, encoded_bytes, encryption };
		manifest.validate()?;
		Ok(manifest)
	}
}

struct FieldWriter<'a> {
	out: &'a mut [u8; MANIFEST_BYTES],
	at: usize,
}

impl FieldWriter<'_> {
	fn put(&mut self, field: &[u8]) {
		// The layout is fixed: MANIFEST_BYTES is the sum of the field lengths written above.
		self.out[self.at..self.at + field.len()].copy_from_slice(field);
		self.at += field.len();
	}
}

struct FieldReader<'a> {
	bytes: &'a [u8],
	at: usize,
}

impl FieldReader<'_> {
	fn take<const N: usize>(&mut self) -> [u8; N] {
		let mut field = [0u8; N];
		// The caller checked the total length, which is the sum of the fields read.
		field.copy_from_slice(&self.bytes[self.at..self.at + N]);
		self.at += N;
		field
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn sample(encrypted: bool) -> FileManifest {
		let coding = CodingParams::with_piece_bytes(4, 2, 1024).expect("valid coding");
		let plaintext_bytes = 10_000u64;
		let encoded_bytes = if encrypted { plaintext_bytes + 16 } else { plaintext_bytes };
		FileManifest {
			coding,
			stripe_count: encoded_bytes.div_ceil(4096),
			plaintext_bytes,
			encoded_bytes,
			encryption: encrypted.then_some(EncryptionHeader {
				nonce_prefix: [7; NONCE_PREFIX_BYTES],
				chunk_bytes: ENCRYPTION_CHUNK_BYTES as u32,
			}),
		}
	}

	#[test]
	fn round_trips() {
		for encrypted in [false, true] {
			let manifest = sample(encrypted);
			let parsed = FileManifest::from_bytes(&manifest.to_bytes()).expect("parses");
			assert_eq!(parsed, manifest);
		}
	}

	#[test]
	fn rejects_inconsistent_sizes_and_bad_bytes() {
		let mut manifest = sample(true);
		manifest.stripe_count += 1;
		assert!(matches!(manifest.validate(), Err(StorageError::InvalidManifest { .. })));
		let mut bytes = sample(false).to_bytes();
		bytes[0] ^= 1;
		assert!(matches!(
			FileManifest::from_bytes(&bytes),
			Err(StorageError::InvalidManifest { .. })
		));
		assert!(FileManifest::from_bytes(&bytes[1..]).is_err());
	}
}
