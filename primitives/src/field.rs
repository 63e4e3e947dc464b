//! Checked conversions between little-endian bytes and BN254 scalar field elements.
//!
//! Public inputs of a proof are built with these: a value at or above the modulus is refused,
//! never silently reduced, so two byte strings never name the same field element.

use alloc::string::String;

use ark_ff::{BigInteger, PrimeField};

use crate::{Error, Fr};

/// Bytes of a serialized field element.
pub const FIELD_BYTES: usize = 32;

/// Reads 32 little-endian bytes as a field element, refusing values `>= p`.
pub fn fr_from_le_bytes(bytes: &[u8; FIELD_BYTES]) -> Result<Fr, Error> {
	let mut limbs = [0u64; 4];
	for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
		let mut word = [0u8; 8];
		word.copy_from_slice(chunk);
		*limb = u64::from_le_bytes(word);
	}
	Fr::from_bigint(ark_ff::BigInt::new(limbs))
		.ok_or_else(|| Error::NotInField { value_le_hex: hex_le(bytes) })
}

/// The canonical 32 little-endian bytes of a field element.
pub fn fr_to_le_bytes(value: &Fr) -> [u8; FIELD_BYTES] {
	let mut out = [0u8; FIELD_BYTES];
	out.copy_from_slice(&value.into_bigint().to_bytes_le());
	out
}

/// Reads up to 31 little-endian bytes as a field element; always `< 2^248 < p`.
pub fn fr_from_le_chunk(chunk: &[u8]) -> Option<Fr> {
	if chunk.len() > FIELD_BYTES - 1 {
		return None;
	}
	let mut bytes = [0u8; FIELD_BYTES];
	bytes[..chunk.len()].copy_from_slice(chunk);
	fr_from_le_bytes(&bytes).ok()
}

fn hex_le(bytes: &[u8]) -> String {
	const DIGITS: &[u8; 16] = b"0123456789abcdef";
	let mut out = String::with_capacity(bytes.len() * 2);
	for byte in bytes {
		out.push(char::from(DIGITS[usize::from(byte >> 4)]));
		out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
	}
	out
}

#[cfg(test)]
mod tests {
	use super::*;
	use ark_ff::{Field, One, Zero};

	#[test]
	fn round_trips_and_refuses_the_modulus() {
		let value = Fr::from(123_456_789u64).pow([99u64]);
		assert_eq!(fr_from_le_bytes(&fr_to_le_bytes(&value)), Ok(value));
		let minus_one = -Fr::one();
		let mut modulus = fr_to_le_bytes(&minus_one);
		modulus[0] += 1; // p - 1 ends in a byte below 0xff, so p is p - 1 with its low byte + 1
		assert!(matches!(fr_from_le_bytes(&modulus), Err(Error::NotInField { .. })));
		assert_eq!(fr_from_le_bytes(&[0u8; 32]), Ok(Fr::zero()));
		assert!(fr_from_le_bytes(&[0xff; 32]).is_err());
	}

	#[test]
	fn chunks_are_little_endian_and_bounded() {
		assert_eq!(fr_from_le_chunk(&[1, 1]), Some(Fr::from(257u64)));
		assert_eq!(fr_from_le_chunk(&[0xff; 31]).map(|f| fr_to_le_bytes(&f)[30]), Some(0xff));
		assert_eq!(fr_from_le_chunk(&[0u8; 32]), None);
	}
}
