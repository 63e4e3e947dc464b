//! Ending a file's contract before its end, by its owner: `end_contract` settles the finished
//! periods, returns the rest of the escrow to the account, and every provider deletes its shard
//! once the end is final.

use cairn_runtime::RuntimeCall;
use pallet_market::ContractId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Files, FilesError};

/// What `cairn_remove` takes: the contract, or the name its file was stored under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoveParams {
	/// The contract.
	pub contract: Option<ContractId>,
	/// Or the file's name: its newest open contract of this account.
	pub name: Option<String>,
}

impl Files {
	/// The contract a caller names by id or by its file's name.
	pub(super) fn named(
		&self,
		contract: Option<ContractId>,
		name: Option<&str>,
	) -> Result<ContractId, FilesError> {
		match (contract, name) {
			(Some(contract), None) => Ok(contract),
			(None, Some(name)) => self.find(name),
			_ => Err(FilesError::invalid("give either `contract` or `name`")),
		}
	}

	/// The newest open contract of this account whose file is named `name`.
	fn find(&self, name: &str) -> Result<ContractId, FilesError> {
		let me = self.signer()?.account();
		let at = self.state.at(None);
		self.state
			.contracts_of(at, Some(&me))?
			.into_iter()
			.map(|(id, _)| id)
			.filter(|id| self.load_record(*id).is_some_and(|record| record.name == name))
			.max()
			.ok_or_else(|| FilesError::NotFound(format!("no file named {name:?}")))
	}

	/// Ends a contract of this node's account now; what it paid and what came back.
	pub async fn remove(&self, params: RemoveParams) -> Result<Value, FilesError> {
		let signer = self.signer()?.clone();
		signer.caught_up()?;
		let id = self.named(params.contract, params.name.as_deref())?;
		self.own_contract(&signer, self.state.at(None), id)?;
		let call = RuntimeCall::Market(pallet_market::Call::end_contract { contract: id });
		let included = signer.submit_and_watch(call).await?;
		let (paid, refunded) = included.market_event("ContractEnded", |event| match event {
			pallet_market::Event::ContractEnded { contract, paid, refunded, .. }
				if *contract == id =>
			{
				Some((*paid, *refunded))
			}
			_ => None,
		})?;
		Ok(json!({
			"contract": id,
			"paid": paid.to_string(),
			"refunded": refunded.to_string(),
			"block": format!("{:?}", included.block),
		}))
	}
}
