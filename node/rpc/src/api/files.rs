//! `cairn_upload`, `cairn_quoteUpload`, `cairn_download` and their progress subscriptions,
//! `cairn_renew`, `cairn_remove`, `cairn_file` and `cairn_files`: the client service over JSON-RPC. They read and write local
//! files and sign with the node's key, so they are served
//! only on the client API, to holders of its token (see the [parent module](super)).

use std::sync::Arc;

use jsonrpsee::{
	core::{async_trait, RpcResult, SubscriptionResult},
	proc_macros::rpc,
	types::{error::ErrorObjectOwned, ErrorObject},
	PendingSubscriptionSink, SubscriptionMessage,
};
use serde_json::{json, Value};
use tokio::sync::mpsc;

pub use cairn_files::MAX_INLINE_BYTES;
use cairn_files::{
	DownloadParams, Files, FilesError, QuoteParams, RemoveParams, RenewParams, UploadParams,
};

/// The client service's RPC.
#[rpc(server, namespace = "cairn")]
pub trait FilesApi {
	/// Stores a file (`path` on the node's machine, or `data` as hex) with `k` data and `m`
	/// parity shards for `duration` blocks; returns the contract id once every shard is sent.
	#[method(name = "upload")]
	async fn upload(&self, params: UploadParams) -> RpcResult<Value>;

	/// As `cairn_upload`, reporting each stage (`encoding`, `contract`, `sending` with bytes,
	/// `sent`, `confirming` with the shards confirmed) until every shard is confirmed (`done`)
	/// or it fails (`error`).
	#[subscription(
		name = "subscribeUpload" => "uploadProgress",
		unsubscribe = "unsubscribeUpload",
		item = Value
	)]
	async fn subscribe_upload(&self, params: UploadParams) -> SubscriptionResult;

	/// What `cairn_upload` of a file of `bytes` bytes with these parameters would cost this
	/// node's account now, decided as the upload decides it (coding, shards, the cheapest
	/// eligible providers' price, escrow, deposits); nothing is paid or signed.
	#[method(name = "quoteUpload")]
	async fn quote_upload(&self, params: QuoteParams) -> RpcResult<Value>;

	/// Fetches a file back, to `path` or (small files) as hex `data`.
	#[method(name = "download")]
	async fn download(&self, params: DownloadParams) -> RpcResult<Value>;

	/// As `cairn_download`, reporting `fetching` (bytes), `decoding`, then `done` or `error`.
	#[subscription(
		name = "subscribeDownload" => "downloadProgress",
		unsubscribe = "unsubscribeDownload",
		item = Value
	)]
	async fn subscribe_download(&self, params: DownloadParams) -> SubscriptionResult;

	/// Keeps a contract of this node's account `blocks` longer (default: its file's term),
	/// holding the escrow for them; returns the new `end` and the `escrow` added.
	#[method(name = "renew")]
	async fn renew(&self, params: RenewParams) -> RpcResult<Value>;

	/// Ends a contract of this node's account now (`contract`, or the `name` of its file):
	/// finished periods are settled, the rest of the escrow comes back (`refunded`, with `paid`
	/// to providers over its life), and the providers delete the shards once the end is final.
	#[method(name = "remove")]
	async fn remove(&self, params: RemoveParams) -> RpcResult<Value>;

	/// What this node knows of the file it stored under `contract`: name, size, end, term and
	/// its automatic renewal (`autoRenew`, `renewAt`, and the `problem` of the last attempt).
	#[method(name = "file")]
	async fn file(&self, contract: pallet_market::ContractId) -> RpcResult<Value>;

	/// Every open contract of this node's account, with its file's `name` and `bytes` when the
	/// account's secret opens the manifest on chain (so on any machine holding that secret).
	#[method(name = "files")]
	async fn files(&self) -> RpcResult<Value>;
}

/// Serves [`FilesApiServer`].
pub struct FilesRpc {
	files: Arc<Files>,
}

impl FilesRpc {
	/// Serves `files`.
	pub fn new(files: Arc<Files>) -> Self {
		Self { files }
	}
}

/// The client service's error as JSON-RPC's: "invalid params" for the caller's mistakes, 3 for
/// the rest, with `transient` in its data when asking again later may succeed.
fn error(failure: FilesError) -> ErrorObjectOwned {
	let code = if failure.is_invalid() { jsonrpsee::types::error::INVALID_PARAMS_CODE } else { 3 };
	ErrorObject::owned(
		code,
		failure.to_string(),
		Some(json!({ "transient": failure.is_transient() })),
	)
}

/// Runs `work` while forwarding its progress to the subscription, then its outcome.
async fn stream<F>(
	pending: PendingSubscriptionSink,
	work: impl FnOnce(mpsc::UnboundedSender<Value>) -> F,
) where
	F: std::future::Future<Output = Result<Value, FilesError>>,
{
	let Ok(sink) = pending.accept().await else { return };
	let (progress, mut updates) = mpsc::unbounded_channel();
	let work = work(progress);
	tokio::pin!(work);
	let outcome = loop {
		tokio::select! {
			outcome = &mut work => break outcome,
			Some(update) = updates.recv() => {
				if let Ok(message) = SubscriptionMessage::from_json(&update) {
					if sink.send(message).await.is_err() {
						return;
					}
				}
			},
		}
	};
	while let Ok(update) = updates.try_recv() {
		if let Ok(message) = SubscriptionMessage::from_json(&update) {
			let _ = sink.send(message).await;
		}
	}
	let last = match outcome {
		Ok(mut value) => {
			value["stage"] = json!("done");
			value
		}
		Err(failure) => {
			json!({
				"stage": "error",
				"message": failure.to_string(),
				"invalid": failure.is_invalid(),
				"transient": failure.is_transient(),
			})
		}
	};
	if let Ok(message) = SubscriptionMessage::from_json(&last) {
		let _ = sink.send(message).await;
	}
}

#[async_trait]
impl FilesApiServer for FilesRpc {
	async fn upload(&self, params: UploadParams) -> RpcResult<Value> {
		self.files.upload(params, None).await.map_err(error)
	}

	async fn quote_upload(&self, params: QuoteParams) -> RpcResult<Value> {
		self.files.quote(params).await.map_err(error)
	}

	async fn subscribe_upload(
		&self,
		pending: PendingSubscriptionSink,
		params: UploadParams,
	) -> SubscriptionResult {
		let files = self.files.clone();
		stream(pending, |progress| async move {
			let result = files.upload(params, Some(progress.clone())).await?;
			files.await_confirmed(&result, Some(&progress)).await?;
			Ok(result)
		})
		.await;
		Ok(())
	}

	async fn renew(&self, params: RenewParams) -> RpcResult<Value> {
		self.files.renew(params).await.map_err(error)
	}

	async fn remove(&self, params: RemoveParams) -> RpcResult<Value> {
		self.files.remove(params).await.map_err(error)
	}

	async fn file(&self, contract: pallet_market::ContractId) -> RpcResult<Value> {
		self.files.file(contract).await.map_err(error)
	}

	async fn files(&self) -> RpcResult<Value> {
		self.files.files().await.map_err(error)
	}

	async fn download(&self, params: DownloadParams) -> RpcResult<Value> {
		self.files.download(params, None).await.map_err(error)
	}

	async fn subscribe_download(
		&self,
		pending: PendingSubscriptionSink,
		params: DownloadParams,
	) -> SubscriptionResult {
		let files = self.files.clone();
		stream(pending, |progress| async move { files.download(params, Some(progress)).await })
			.await;
		Ok(())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use proptest::prelude::*;

	proptest! {
		#![proptest_config(ProptestConfig::with_cases(2_000))]
		// Untrusted parameters never panic their parsers: any text is parameters or an error.
		#[test]
		fn any_text_is_parameters_or_an_error(text in any::<String>()) {
			let _ = serde_json::from_str::<UploadParams>(&text);
			let _ = serde_json::from_str::<DownloadParams>(&text);
			let _ = serde_json::from_str::<RenewParams>(&text);
			let _ = serde_json::from_str::<RemoveParams>(&text);
			let _ = cairn_files::local_file::Target::check(&text);
		}

		#[test]
		fn near_miss_objects_are_parameters_or_an_error(
			key in "(path|data|name|k|m|duration|autoRenew|maxPrice|encrypt|contract|blocks|[a-z]{0,6})",
			value in "(null|true|-?[0-9]{1,40}|\"[^\"]{0,30}\"|\\[\\]|\\{\\}|0\\.5)",
		) {
			let text = format!("{{\"{key}\": {value}}}");
			let _ = serde_json::from_str::<UploadParams>(&text);
			let _ = serde_json::from_str::<DownloadParams>(&text);
			let _ = serde_json::from_str::<RenewParams>(&text);
			let _ = serde_json::from_str::<RemoveParams>(&text);
		}
	}
}
