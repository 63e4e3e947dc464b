//! Registration: the account's record on chain kept up to date (addresses, the capacity
//! offered, the stake that capacity requires).

use cairn_runtime::{AccountId, Balance, BlockNumber, Hash, Runtime, RuntimeCall};
use frame_support::{traits::Get, BoundedVec};
use pallet_providers::ProviderStatus;

use super::{capacity, OurShard, Provider, ProviderError, Sent};
use cairn_chain::metrics::in_cairn;

impl Provider {
	/// Registers `me`, or brings its record up to date: addresses, the stake its capacity
	/// requires, and (once the prover's `limit` is known, with our shards) the capacity offered.
	pub(super) async fn register(
		&self,
		at: Hash,
		now: BlockNumber,
		me: &AccountId,
		limit: Option<(capacity::Limit, &[OurShard])>,
	) -> Result<(), ProviderError> {
		let record = self.state.provider(at, me)?;
		let required = pallet_providers::Pallet::<Runtime>::required_stake(
			record.as_ref().map_or(self.config.capacity, |info| info.capacity),
		);
		self.metrics.stake_required.set(in_cairn(required));
		self.metrics.stake.set(record.as_ref().map_or(0.0, |info| in_cairn(info.stake)));
		let addresses = self.network.announced_addresses();
		if addresses.is_empty() {
			return Ok(());
		}
		let peer_id: BoundedVec<u8, _> =
			BoundedVec::truncate_from(self.network.peer_id().to_bytes());
		let multiaddrs: BoundedVec<BoundedVec<u8, _>, _> = BoundedVec::truncate_from(
			addresses.iter().map(|a| BoundedVec::truncate_from(a.to_vec())).collect::<Vec<_>>(),
		);
		let call = match record {
			None => {
				let stake =
					pallet_providers::Pallet::<Runtime>::required_stake(self.config.capacity);
				RuntimeCall::Providers(pallet_providers::Call::register_provider {
					stake,
					capacity: self.config.capacity,
					price_per_byte_block: self.config.price,
					peer_id,
					multiaddrs,
				})
			}
			Some(info) if info.peer_id != peer_id || info.multiaddrs != multiaddrs => {
				RuntimeCall::Providers(pallet_providers::Call::update_provider {
					capacity: None,
					price_per_byte_block: None,
					peer_id: Some(peer_id),
					multiaddrs: Some(multiaddrs),
				})
			}
			Some(info) if info.stake < required && info.status == ProviderStatus::Active => {
				if self.config.restake && self.may_send(Sent::Restake, now).await {
					self.restake(at, me, required - info.stake).await?;
				}
				return Ok(());
			}
			Some(info) if info.status == ProviderStatus::Active => {
				if let Some((limit, mine)) = limit {
					self.offer(now, &info, limit, mine).await?;
				}
				return Ok(());
			}
			Some(_) => return Ok(()),
		};
		if self.may_send(Sent::Registration, now).await {
			log::info!(target: "cairn-provider", "registering {} on the market", cairn_chain::ss58(me));
			self.signer.submit(call).await?;
		}
		Ok(())
	}

	/// Sets the capacity offered on chain to what the prover's `limit` leaves room for, when
	/// the chain's figure is too far from it ([`capacity::update`]); a rise only as far as the
	/// stake covers.
	pub(super) async fn offer(
		&self,
		now: BlockNumber,
		info: &pallet_providers::ProviderInfoOf<Runtime>,
		limit: capacity::Limit,
		mine: &[OurShard],
	) -> Result<(), ProviderError> {
		let held = mine.iter().filter(|(_, status)| status.holds_capacity()).count();
		let target = capacity::offered(self.config.capacity, limit.shards(), held, info.used);
		let Some(capacity) = capacity::update(info.capacity, target) else { return Ok(()) };
		let required = pallet_providers::Pallet::<Runtime>::required_stake(capacity);
		if capacity > info.capacity && info.stake < required {
			return Ok(());
		}
		if !self.may_send(Sent::Capacity, now).await {
			return Ok(());
		}
		log::info!(
			target: "cairn-provider",
			"offering {capacity} bytes on the market (was {}): room for {} more shards, of the {} \
			 the prover keeps",
			info.capacity,
			u64::from(limit.shards()).saturating_sub(held as u64),
			limit.shards()
		);
		let call = RuntimeCall::Providers(pallet_providers::Call::update_provider {
			capacity: Some(capacity),
			price_per_byte_block: None,
			peer_id: None,
			multiaddrs: None,
		});
		Ok(self.signer.submit(call).await?)
	}

	/// Holds `deficit` more of the free balance as stake, so that the provider takes new shards
	/// again; says so when the free balance cannot cover it.
	pub(super) async fn restake(
		&self,
		at: Hash,
		me: &AccountId,
		deficit: Balance,
	) -> Result<(), ProviderError> {
		let free = self.state.free_balance(at, me)?;
		let keep = <Runtime as pallet_balances::Config>::ExistentialDeposit::get();
		if free < deficit.saturating_add(keep) {
			log::warn!(
				target: "cairn-provider",
				"the stake is {} CAIRN short of what the offered capacity requires, and the free \
				 balance ({} CAIRN) cannot cover it: no new shards are taken until it is topped up \
				 or the capacity lowered",
				in_cairn(deficit),
				in_cairn(free)
			);
			return Ok(());
		}
		log::info!(
			target: "cairn-provider",
			"restoring the stake: {} CAIRN more, so that the offered capacity is covered again",
			in_cairn(deficit)
		);
		let call = RuntimeCall::Providers(pallet_providers::Call::add_stake { amount: deficit });
		Ok(self.signer.submit(call).await?)
	}
}
