//! What can go wrong in the provider service, and whether trying again can help.

use cairn_storage::StorageError;

use cairn_chain::{market_state::Unreadable, signer::SignerError};

/// Why the provider service could not do a piece of its work.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
	/// The chain's state could not be read.
	#[error("reading the chain: {0}")]
	Chain(#[from] Unreadable),
	/// The shard store failed.
	#[error("the shard store: {0}")]
	Store(#[from] StorageError),
	/// A transaction could not be built, sent or got into a block.
	#[error(transparent)]
	Signer(#[from] SignerError),
	/// The proving key could not be loaded, does not match the chain's, or cannot prove.
	#[error("the prover: {0}")]
	Prover(String),
	/// The provider must not run as it is set up (its store is empty while the chain lists
	/// shards kept here); the operator must act.
	#[error("{0}")]
	Refused(String),
	/// What the service needs (a directory, threads, the shard network) could not be set up.
	#[error("{0}")]
	Setup(String),
	/// A task on the blocking pool was cancelled or panicked.
	#[error("a background task failed: {0}")]
	Task(#[from] tokio::task::JoinError),
}

impl ProviderError {
	/// Whether the same work may succeed on a later block: the chain or the store could not be
	/// read this time, or a transaction did not get into a block. Damaged data, a refusal to
	/// run, a prover that cannot prove and a failed set-up need the operator.
	pub fn is_transient(&self) -> bool {
		match self {
			Self::Chain(_) => true,
			Self::Store(error) => !error.is_damage(),
			Self::Signer(error) => error.is_transient(),
			Self::Prover(_) | Self::Refused(_) | Self::Setup(_) | Self::Task(_) => false,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn an_unreadable_chain_or_disk_is_transient_damage_and_refusals_are_not() {
		assert!(ProviderError::from(Unreadable("state pruned".into())).is_transient());
		let io = StorageError::Io(std::io::Error::other("disk busy"));
		assert!(ProviderError::from(io).is_transient());
		assert!(!ProviderError::from(StorageError::UnknownShard(
			cairn_storage::store::ShardId::new(1, 0)
		))
		.is_transient());
		let unpaid = SignerError::Refused { reason: "cannot pay".into(), unpaid: true };
		assert!(ProviderError::from(unpaid).is_transient());
		assert!(!ProviderError::from(SignerError::Failed("StakeTooLow".into())).is_transient());
		assert!(!ProviderError::Refused("empty store".into()).is_transient());
	}
}
