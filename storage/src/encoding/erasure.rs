//! Striping and Reed–Solomon `k + m` coding over GF(2^8), streamed stripe by stripe.

use std::{
	io::{self, Read, Write},
	ops::Range,
};

use reed_solomon_erasure::galois_8::ReedSolomon;

use crate::commitment::MAX_SHARD_BYTES;
use crate::encoding::crypt::{
	chunk_count, ciphertext_len, Decryptor, EncryptingReader, EncryptionKey, NoncePrefix,
	ENCRYPTION_CHUNK_BYTES,
};
use crate::encoding::manifest::{EncryptionHeader, FileManifest, Span};
use crate::error::{Result, StorageError};

/// Most shards (data + parity) of one file: the order of GF(2^8).
pub const MAX_TOTAL_SHARDS: usize = 256;
/// Smallest stripe piece (bytes one shard receives per stripe).
pub const MIN_PIECE_BYTES: usize = 64;
/// Largest stripe piece; bounds the memory of a stripe to `(k + m) ×` this.
pub const MAX_PIECE_BYTES: usize = 16 << 20;
/// Default stripe piece: with k = 4 a stripe carries 1 MiB of data.
pub const DEFAULT_PIECE_BYTES: usize = 256 << 10;

/// `k` data shards, `m` parity shards and the piece size of a stripe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodingParams {
	data_shards: usize,
	parity_shards: usize,
	piece_bytes: usize,
}

impl CodingParams {
	/// `k + m` coding with the default piece size.
	pub fn new(data_shards: usize, parity_shards: usize) -> Result<Self> {
		Self::with_piece_bytes(data_shards, parity_shards, DEFAULT_PIECE_BYTES)
	}

	/// `k + m` coding with pieces of `piece_bytes` (even, within the bounds).
	pub fn with_piece_bytes(
		data_shards: usize,
		parity_shards: usize,
		piece_bytes: usize,
	) -> Result<Self> {
		let total = data_shards.checked_add(parity_shards);
		if data_shards == 0 || total.is_none_or(|total| total > MAX_TOTAL_SHARDS) {
			return Err(StorageError::CodingOutOfRange {
				data_shards,
				parity_shards,
				max_total: MAX_TOTAL_SHARDS,
			});
		}
		if !(MIN_PIECE_BYTES..=MAX_PIECE_BYTES).contains(&piece_bytes)
			|| !piece_bytes.is_multiple_of(2)
		{
			return Err(StorageError::PieceSizeOutOfRange {
				piece_bytes,
				min: MIN_PIECE_BYTES,
				max: MAX_PIECE_BYTES,
			});
		}
		Ok(Self { data_shards, parity_shards, piece_bytes })
	}

	/// `k`.
	pub fn data_shards(&self) -> usize {
		self.data_shards
	}
	/// `m`.
	pub fn parity_shards(&self) -> usize {
		self.parity_shards
	}
	/// `k + m` (at most [`MAX_TOTAL_SHARDS`], so it cannot overflow).
	pub fn total_shards(&self) -> usize {
		self.data_shards + self.parity_shards
	}
	/// Bytes each shard receives per stripe.
	pub fn piece_bytes(&self) -> usize {
		self.piece_bytes
	}
	/// Data bytes per stripe, `k × piece` (at most 256 × 16 MiB).
	pub fn stripe_bytes(&self) -> usize {
		self.data_shards * self.piece_bytes
	}
}

/// The Reed–Solomon codec for one [`CodingParams`]; `m = 0` is plain striping.
pub struct ErasureCodec {
	params: CodingParams,
	reed_solomon: Option<ReedSolomon>,
}

impl ErasureCodec {
	/// Builds the codec (the encoding matrix is computed once).
	pub fn new(params: CodingParams) -> Result<Self> {
		let reed_solomon = if params.parity_shards == 0 {
			None
		} else {
			Some(ReedSolomon::new(params.data_shards, params.parity_shards).map_err(|_| {
				StorageError::CodingOutOfRange {
					data_shards: params.data_shards,
					parity_shards: params.parity_shards,
					max_total: MAX_TOTAL_SHARDS,
				}
			})?)
		};
		Ok(Self { params, reed_solomon })
	}

	/// The parameters this codec was built for.
	pub fn params(&self) -> &CodingParams {
		&self.params
	}

	/// Computes the `m` parity pieces from the `k` data pieces (all `k + m` of equal length).
	pub fn encode(&self, pieces: &mut [&mut [u8]]) -> Result<()> {
		self.check_count(pieces.len())?;
		if let Some(codec) = &self.reed_solomon {
			codec.encode(&mut *pieces).map_err(|_| StorageError::WrongShardCount {
				expected: self.params.total_shards(),
				actual: pieces.len(),
			})?;
		}
		Ok(())
	}

	/// Restores the missing data pieces (`None`) from any `k` present pieces.
	pub fn reconstruct_data(&self, pieces: &mut [Option<Vec<u8>>]) -> Result<()> {
		self.check_count(pieces.len())?;
		let available = pieces.iter().filter(|piece| piece.is_some()).count();
		if available < self.params.data_shards {
			return Err(StorageError::NotEnoughShards {
				needed: self.params.data_shards,
				available,
			});
		}
		if let Some(codec) = &self.reed_solomon {
			codec.reconstruct_data(pieces).map_err(|_| StorageError::NotEnoughShards {
				needed: self.params.data_shards,
				available,
			})?;
		}
		Ok(())
	}

	fn check_count(&self, actual: usize) -> Result<()> {
		let expected = self.params.total_shards();
		if actual != expected {
			return Err(StorageError::WrongShardCount { expected, actual });
		}
		Ok(())
	}
}

/// Whether and how to encrypt a file before coding it.
pub enum Encryption<'a> {
	/// Store the plaintext (the opt-out).
	Off,
	/// Encrypt with `key` under a per-file nonce prefix.
	On { key: &'a EncryptionKey, nonce_prefix: NoncePrefix },
}

impl<'a> Encryption<'a> {
	/// Encryption with a fresh random nonce prefix: the default for every upload.
	pub fn with_random_nonce(key: &'a EncryptionKey) -> Self {
		Self::On { key, nonce_prefix: crate::encoding::crypt::random_nonce_prefix() }
	}
}

/// Reads until `buf` is full or the reader ends; returns the bytes read.
pub fn read_full<R: Read + ?Sized>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
	let mut filled = 0;
	while filled < buf.len() {
		match reader.read(&mut buf[filled..]) {
			Ok(0) => break,
			Ok(read) => filled += read,
			Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
			Err(error) => return Err(error),
		}
	}
	Ok(filled)
}

/// Encrypts (optionally), stripes and erasure-codes `input`, writing piece `i` of every stripe to
/// `shards[i]`. Holds one stripe in memory at a time.
pub fn encode_stream<R: Read, W: Write>(
	params: CodingParams,
	encryption: Encryption<'_>,
	input: R,
	shards: &mut [W],
) -> Result<FileManifest> {
	let codec = ErasureCodec::new(params)?;
	if shards.len() != params.total_shards() {
		return Err(StorageError::WrongShardCount {
			expected: params.total_shards(),
			actual: shards.len(),
		});
	}
	let mut counting = CountingReader { inner: input, count: 0 };
	let (mut source, header): (Box<dyn Read + '_>, _) = match encryption {
		Encryption::Off => (Box::new(&mut counting), None),
		Encryption::On { key, nonce_prefix } => (
			Box::new(EncryptingReader::new(&mut counting, key, nonce_prefix)),
			Some(EncryptionHeader { nonce_prefix, chunk_bytes: ENCRYPTION_CHUNK_BYTES as u32 }),
		),
	};
	let piece = params.piece_bytes();
	let mut stripe = vec![0u8; params.total_shards() * piece];
	let mut stripe_count = 0u64;
	let mut encoded_bytes = 0u64;
	loop {
		let data = &mut stripe[..params.stripe_bytes()];
		let read = read_full(&mut source, data)?;
		// An empty input still makes one stripe (of zeros): every shard holds a piece to
		// commit to and prove.
		if read == 0 && stripe_count > 0 {
			break;
		}
		data[read..].fill(0);
		encoded_bytes = encoded_bytes.saturating_add(read as u64);
		stripe_count = stripe_count.saturating_add(1);
		let shard_bytes = stripe_count.saturating_mul(piece as u64);
		if shard_bytes > MAX_SHARD_BYTES {
			return Err(StorageError::ShardTooLarge { bytes: shard_bytes, max: MAX_SHARD_BYTES });
		}
		let mut pieces: Vec<&mut [u8]> = stripe.chunks_mut(piece).collect();
		codec.encode(&mut pieces)?;
		for (writer, piece) in shards.iter_mut().zip(pieces) {
			writer.write_all(piece)?;
		}
		if read < params.stripe_bytes() {
			break;
		}
	}
	drop(source);
	for writer in shards.iter_mut() {
		writer.flush()?;
	}
	let manifest = FileManifest {
		coding: params,
		stripe_count,
		plaintext_bytes: counting.count,
		encoded_bytes,
		encryption: header,
	};
	manifest.validate()?;
	Ok(manifest)
}

/// Stripes read one after another, into piece buffers kept from one stripe to the next (a file
/// is thousands of stripes).
struct Stripes {
	/// The last stripe's pieces, by shard index.
	pieces: Vec<Option<Vec<u8>>>,
	/// Buffers of a piece's size, free.
	spare: Vec<Vec<u8>>,
}

impl Stripes {
	fn new() -> Self {
		Self { pieces: Vec::new(), spare: Vec::new() }
	}

	/// Stripe `stripe`'s pieces from the `chosen` shards, read from where their readers are, the
	/// data pieces reconstructed; by shard index.
	fn read<R: Read>(
		&mut self,
		codec: &ErasureCodec,
		shards: &mut [Option<R>],
		chosen: &[usize],
		stripe: u64,
		shard_bytes: u64,
	) -> Result<&mut [Option<Vec<u8>>]> {
		let params = codec.params();
		let piece = params.piece_bytes();
		self.spare.extend(self.pieces.iter_mut().filter_map(Option::take));
		self.pieces.resize(params.total_shards(), None);
		for &index in chosen {
			let mut buf = self.spare.pop().unwrap_or_default();
			buf.resize(piece, 0);
			let reader = shards[index].as_mut().ok_or(StorageError::NotEnoughShards {
				needed: params.data_shards(),
				available: chosen.len(),
			})?;
			let read = read_full(reader, &mut buf)?;
			if read < piece {
				let actual = stripe.saturating_mul(piece as u64).saturating_add(read as u64);
				return Err(StorageError::ShardLengthMismatch {
					shard: index,
					expected: shard_bytes,
					actual,
				});
			}
			self.pieces[index] = Some(buf);
		}
		codec.reconstruct_data(&mut self.pieces)?;
		Ok(&mut self.pieces)
	}
}

/// The codec of a file, and the first `k` of its shards present (`None` for a missing one).
fn chosen_shards<R>(
	manifest: &FileManifest,
	shards: &[Option<R>],
) -> Result<(ErasureCodec, Vec<usize>)> {
	manifest.validate()?;
	let params = manifest.coding;
	let codec = ErasureCodec::new(params)?;
	if shards.len() != params.total_shards() {
		return Err(StorageError::WrongShardCount {
			expected: params.total_shards(),
			actual: shards.len(),
		});
	}
	let chosen: Vec<usize> = shards
		.iter()
		.enumerate()
		.filter_map(|(index, shard)| shard.as_ref().map(|_| index))
		.take(params.data_shards())
		.collect();
	if chosen.len() < params.data_shards() {
		return Err(StorageError::NotEnoughShards {
			needed: params.data_shards(),
			available: chosen.len(),
		});
	}
	Ok((codec, chosen))
}

/// Where decoded bytes go: `output`, through a decryptor (`decrypting` makes it) when the file
/// is encrypted.
fn sink<W: Write>(
	manifest: &FileManifest,
	key: Option<&EncryptionKey>,
	output: W,
	decrypting: impl FnOnce(&EncryptionHeader, &EncryptionKey, W) -> Decryptor<W>,
) -> Result<StreamSink<W>> {
	match (manifest.encryption, key) {
		(None, _) => Ok(StreamSink::Plain(output)),
		(Some(header), Some(key)) => Ok(StreamSink::Decrypting(decrypting(&header, key, output))),
		(Some(_), None) => {
			Err(StorageError::InvalidManifest { reason: "file is encrypted, no key given" })
		}
	}
}

/// Decodes a file from any `k` of its shards (`None` for a missing one) into `output`, decrypting
/// with `key` when the manifest says the file is encrypted. Reads one stripe at a time and only
/// the first `k` shards present.
pub fn decode_stream<R: Read, W: Write>(
	manifest: &FileManifest,
	key: Option<&EncryptionKey>,
	shards: &mut [Option<R>],
	output: W,
) -> Result<W> {
	let (codec, chosen) = chosen_shards(manifest, shards)?;
	let mut sink = sink(manifest, key, output, |header, key, output| {
		Decryptor::new(output, key, header.nonce_prefix)
	})?;
	let shard_bytes = manifest.shard_bytes()?;
	let stripes = 0..manifest.stripe_count;
	decode_stripes(
		&codec,
		shards,
		&chosen,
		stripes,
		0..manifest.encoded_bytes,
		&mut sink,
		shard_bytes,
	)?;
	for &index in &chosen {
		if let Some(reader) = shards[index].as_mut() {
			let mut probe = [0u8; 1];
			if read_full(reader, &mut probe)? != 0 {
				return Err(StorageError::ShardLengthMismatch {
					shard: index,
					expected: shard_bytes,
					actual: shard_bytes.saturating_add(1),
				});
			}
		}
	}
	sink.finish()
}

/// Decodes the stripes of `span` ([`FileManifest::span`]) from any `k` of a file's shards, each
/// read from the span's first stripe on, into `output`: the span's plaintext, `span.plain`.
/// Decrypted chunk by chunk at their places in the file, so that a piece of another place or
/// another file fails authentication; an unencrypted span is not checked here.
pub fn decode_span<R: Read, W: Write>(
	manifest: &FileManifest,
	key: Option<&EncryptionKey>,
	shards: &mut [Option<R>],
	span: &Span,
	output: W,
) -> Result<W> {
	if *span != manifest.span(span.plain.start, span.plain.end.saturating_sub(1))? {
		return Err(StorageError::InvalidManifest { reason: "the span is not one of this file" });
	}
	let (codec, chosen) = chosen_shards(manifest, shards)?;
	let mut sink = sink(manifest, key, output, |header, key, output| {
		let chunk = ENCRYPTION_CHUNK_BYTES as u64;
		let final_chunk = chunk_count(manifest.plaintext_bytes) - 1;
		Decryptor::resume(output, key, header.nonce_prefix, span.plain.start / chunk, final_chunk)
	})?;
	let shard_bytes = manifest.shard_bytes()?;
	let (stripes, encoded) = (span.stripes.clone(), span.encoded.clone());
	decode_stripes(&codec, shards, &chosen, stripes, encoded, &mut sink, shard_bytes)?;
	sink.finish()
}

/// Reads `stripes` from the `chosen` shards and gives `sink` the bytes of the encoded stream
/// among them that lie in `encoded`.
fn decode_stripes<R: Read, W: Write>(
	codec: &ErasureCodec,
	shards: &mut [Option<R>],
	chosen: &[usize],
	stripes: Range<u64>,
	encoded: Range<u64>,
	sink: &mut StreamSink<W>,
	shard_bytes: u64,
) -> Result<()> {
	let params = codec.params();
	let piece = params.piece_bytes() as u64;
	let mut read = Stripes::new();
	for stripe in stripes {
		let pieces = read.read(codec, shards, chosen, stripe, shard_bytes)?;
		for (index, data) in pieces.iter().take(params.data_shards()).enumerate() {
			let data = data.as_deref().ok_or(StorageError::NotEnoughShards {
				needed: params.data_shards(),
				available: chosen.len(),
			})?;
			// Where this piece is in the encoded stream, and its bytes within `encoded`.
			let at = (stripe * params.data_shards() as u64 + index as u64) * piece;
			let from = encoded.start.clamp(at, at + piece);
			let to = encoded.end.clamp(at, at + piece);
			sink.push(&data[(from - at) as usize..(to - at) as usize])?;
		}
	}
	Ok(())
}

/// Rebuilds shard `target` of a file from any `k` of its other shards (`None` for a missing
/// one) into `output`: the repair of a lost shard. Reads one stripe at a time; the result is
/// byte for byte the shard [`encode_stream`] wrote.
pub fn rebuild_shard<R: Read, W: Write>(
	manifest: &FileManifest,
	shards: &mut [Option<R>],
	target: usize,
	mut output: W,
) -> Result<W> {
	manifest.validate()?;
	let params = manifest.coding;
	let codec = ErasureCodec::new(params)?;
	if shards.len() != params.total_shards() {
		return Err(StorageError::WrongShardCount {
			expected: params.total_shards(),
			actual: shards.len(),
		});
	}
	if target >= params.total_shards() {
		return Err(StorageError::WrongShardCount {
			expected: params.total_shards(),
			actual: target.saturating_add(1),
		});
	}
	let chosen: Vec<usize> = shards
		.iter()
		.enumerate()
		.filter(|(index, shard)| *index != target && shard.is_some())
		.map(|(index, _)| index)
		.take(params.data_shards())
		.collect();
	if chosen.len() < params.data_shards() {
		return Err(StorageError::NotEnoughShards {
			needed: params.data_shards(),
			available: chosen.len(),
		});
	}
	let piece = params.piece_bytes();
	let shard_bytes = manifest.shard_bytes()?;
	let mut read = Stripes::new();
	for stripe in 0..manifest.stripe_count {
		let pieces = read.read(&codec, shards, &chosen, stripe, shard_bytes)?;
		let mut full: Vec<Vec<u8>> = pieces
			.iter_mut()
			.map(|piece_bytes| piece_bytes.take().unwrap_or_else(|| vec![0u8; piece]))
			.collect();
		let mut refs: Vec<&mut [u8]> = full.iter_mut().map(|p| p.as_mut_slice()).collect();
		codec.encode(&mut refs)?;
		output.write_all(&full[target])?;
	}
	output.flush()?;
	Ok(output)
}

/// Length of the encoded stream for a plaintext of `plaintext_bytes` (sizing helper for callers).
pub fn encoded_len(plaintext_bytes: u64, encrypted: bool) -> Option<u64> {
	if encrypted {
		ciphertext_len(plaintext_bytes)
	} else {
		Some(plaintext_bytes)
	}
}

struct CountingReader<R> {
	inner: R,
	count: u64,
}

impl<R: Read> Read for CountingReader<R> {
	fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
		let read = self.inner.read(buf)?;
		self.count = self.count.saturating_add(read as u64);
		Ok(read)
	}
}

enum StreamSink<W> {
	Plain(W),
	Decrypting(Decryptor<W>),
}

impl<W: Write> StreamSink<W> {
	fn push(&mut self, bytes: &[u8]) -> Result<()> {
		match self {
			Self::Plain(writer) => writer.write_all(bytes)?,
			Self::Decrypting(decryptor) => decryptor.push(bytes)?,
		}
		Ok(())
	}

	fn finish(self) -> Result<W> {
		match self {
			Self::Plain(mut writer) => {
				writer.flush()?;
				Ok(writer)
			}
			Self::Decrypting(decryptor) => decryptor.finish(),
		}
	}
}
