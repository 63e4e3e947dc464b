//! What can go wrong in the client service, and whether asking again can help.

use cairn_chain::{
	market_state::{QuoteError, Unreadable},
	signer::SignerError,
};

/// Why a request of the client service (upload, download, renewal, a file's record) failed.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
	/// The caller's input is wrong (JSON-RPC "invalid params"): the same request fails again.
	#[error("{0}")]
	Invalid(String),
	/// No file of this account has the name the caller gave.
	#[error("{0}")]
	NotFound(String),
	/// The market cannot take the request as it stands: too few providers with room, a price
	/// above the caller's limit, funds short of the escrow.
	#[error("{0}")]
	Market(String),
	/// The chain's state could not be read.
	#[error("reading the chain: {0}")]
	Chain(#[from] Unreadable),
	/// The node's account could not sign or send a transaction, or it failed in its block.
	#[error(transparent)]
	Signer(#[from] SignerError),
	/// Shards could not be sent to or fetched from enough providers.
	#[error("{0}")]
	Network(String),
	/// The file's data or records are not what they should be: a shard or manifest that does
	/// not decode, a contract that is not this account's file, a secret this node cannot derive.
	#[error("{0}")]
	Data(String),
	/// This node's own files: the upload journal, the records cache, a file being read or
	/// written.
	#[error("{what}: {source}")]
	Local {
		/// What was being read or written.
		what: String,
		/// Why it could not be.
		source: std::io::Error,
	},
	/// The chain's state forbids it for good: the contract ended or is gone.
	#[error("{0}")]
	Refused(String),
	/// The node is not set up for it: no Cairn account key, no file secret.
	#[error("{0}")]
	Setup(String),
	/// The node is busy with the same work already, or stopping.
	#[error("{0}")]
	Busy(String),
	/// A task on the blocking pool was cancelled or panicked.
	#[error("a background task failed: {0}")]
	Task(#[from] tokio::task::JoinError),
}

impl FilesError {
	/// The caller's mistake ([`FilesError::Invalid`]).
	pub fn invalid(message: impl Into<String>) -> Self {
		Self::Invalid(message.into())
	}

	/// Whether the caller's input was wrong (JSON-RPC "invalid params"), a name included.
	pub fn is_invalid(&self) -> bool {
		matches!(self, Self::Invalid(_) | Self::NotFound(_))
	}

	/// Whether the same request may succeed later unchanged: the chain could not be read, a
	/// transaction did not get into a block, providers did not answer, the market had no room,
	/// the node was busy. Wrong input, bad data, a failed transaction and a local file that
	/// cannot be written need someone to act first.
	pub fn is_transient(&self) -> bool {
		match self {
			Self::Chain(_) | Self::Network(_) | Self::Market(_) | Self::Busy(_) => true,
			Self::Signer(error) => error.is_transient(),
			Self::Invalid(_)
			| Self::NotFound(_)
			| Self::Refused(_)
			| Self::Setup(_)
			| Self::Data(_)
			| Self::Local { .. }
			| Self::Task(_) => false,
		}
	}

	/// A failure of this node's own files while doing `what`.
	pub fn local(what: impl Into<String>, source: std::io::Error) -> Self {
		Self::Local { what: what.into(), source }
	}
}

impl From<QuoteError> for FilesError {
	fn from(error: QuoteError) -> Self {
		match error {
			QuoteError::Invalid(message) => Self::Invalid(message),
			QuoteError::Unreadable(error) => Self::Chain(error),
			error => Self::Market(error.to_string()),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn wrong_input_and_bad_data_are_final_and_a_busy_market_is_not() {
		assert!(FilesError::invalid("k must be at least 1").is_invalid());
		assert!(!FilesError::invalid("k must be at least 1").is_transient());
		assert!(!FilesError::Data("the manifest does not open".into()).is_transient());
		let short = QuoteError::TooFewProviders { eligible: 2, needed: 3, shard_bytes: 1 << 20 };
		let short = FilesError::from(short);
		assert!(short.is_transient() && !short.is_invalid(), "{short}");
		assert!(FilesError::from(QuoteError::Invalid("0 shards".into())).is_invalid());
		assert!(FilesError::from(Unreadable("state pruned".into())).is_transient());
		assert!(FilesError::Network("2 of 3 shards sent".into()).is_transient());
		let unpaid = SignerError::Refused { reason: "cannot pay".into(), unpaid: true };
		assert!(FilesError::from(unpaid).is_transient());
		assert!(!FilesError::from(SignerError::Failed("InsufficientEscrow".into())).is_transient());
		let disk = FilesError::local("the upload journal", std::io::Error::other("disk full"));
		assert!(!disk.is_transient() && disk.to_string().contains("the upload journal: disk full"));
	}
}
