//! The chain as the node's services see it: the storage market read through the runtime's
//! `MarketApi` and `ProvidersApi` ([`market_state`]), the open contracts an account takes part
//! in followed from events ([`involved`]), and the node's own account, which signs and submits
//! what the services send ([`signer`]).
//!
//! Nothing here decodes a pallet's storage: a runtime may lay out its storage as it likes behind
//! the same API versions.

pub mod full;
pub mod involved;
pub mod market_state;
pub mod metrics;
pub mod signer;

/// Contracts, shards and scratch directories for the services' unit tests.
#[doc(hidden)]
pub mod fixtures;

pub use full::{FullBackend, FullClient, FullPool, HostFunctions, RuntimeExecutor};

use cairn_runtime::{AccountId, SS58_PREFIX};
use sp_core::crypto::{Ss58AddressFormat, Ss58Codec};

/// An account as Cairn writes it: SS58 with Cairn's prefix.
pub fn ss58(account: &AccountId) -> String {
	account.to_ss58check_with_version(Ss58AddressFormat::custom(SS58_PREFIX))
}
