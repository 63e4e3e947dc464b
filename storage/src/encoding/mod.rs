//! File → shards and back: chunked XChaCha20-Poly1305 encryption, striping and Reed–Solomon coding.
//!
//! The pipeline streams: [`encode_stream`] reads the file one stripe (`k ×` piece bytes) at a time
//! and appends piece `i` of every stripe to shard `i`; [`decode_stream`] does the reverse from any
//! `k` shards. Neither holds a whole file or shard in memory.

pub mod crypt;
pub mod erasure;
pub mod manifest;
pub mod sealed;

pub use crypt::{random_nonce_prefix, EncryptionKey, NoncePrefix, ENCRYPTION_CHUNK_BYTES};
pub use erasure::{
	decode_span, decode_stream, encode_stream, encoded_len, read_full, rebuild_shard, CodingParams,
	Encryption, ErasureCodec, DEFAULT_PIECE_BYTES, MAX_TOTAL_SHARDS,
};
pub use manifest::{EncryptionHeader, FileManifest, Span};
pub use sealed::{FileSecret, OpenError, SALT_BYTES};
