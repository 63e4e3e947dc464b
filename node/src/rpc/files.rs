//! `cairn_upload`, `cairn_download` and their progress subscriptions: the client service over
//! JSON-RPC. They read local files and sign with the node's key, so they are unsafe methods:
//! served on a local RPC interface, or with `--rpc-methods unsafe`, as Substrate does.

use std::sync::Arc;

use jsonrpsee::{
	core::{async_trait, RpcResult, SubscriptionResult},
	proc_macros::rpc,
	types::{error::ErrorObjectOwned, ErrorObject},
	Extensions, PendingSubscriptionSink, SubscriptionMessage,
};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::files::{DownloadParams, Failure, Files, UploadParams};

/// Blocks an upload subscription waits for its shards' confirmations.
const CONFIRM_BLOCKS: u32 = 150;

/// The client service's RPC.
#[rpc(server, namespace = "cairn")]
pub trait FilesApi {
	/// Stores a file (`path` on the node's machine, or `data` as hex) with `k` data and `m`
	/// parity shards for `duration` blocks; returns the contract id once every shard is sent.
	#[method(name = "upload", with_extensions)]
	async fn upload(&self, params: UploadParams) -> RpcResult<Value>;

	/// As `cairn_upload`, reporting each stage (`encoding`, `contract`, `sending` with bytes,
	/// `sent`, `confirming` with the shards confirmed) until every shard is confirmed (`done`)
	/// or it fails (`error`).
	#[subscription(
		name = "subscribeUpload" => "uploadProgress",
		unsubscribe = "unsubscribeUpload",
		item = Value,
		with_extensions
	)]
	async fn subscribe_upload(&self, params: UploadParams) -> SubscriptionResult;

	/// Fetches a file back, to `path` or (small files) as hex `data`.
	#[method(name = "download", with_extensions)]
	async fn download(&self, params: DownloadParams) -> RpcResult<Value>;

	/// As `cairn_download`, reporting `fetching` (bytes), `decoding`, then `done` or `error`.
	#[subscription(
		name = "subscribeDownload" => "downloadProgress",
		unsubscribe = "unsubscribeDownload",
		item = Value,
		with_extensions
	)]
	async fn subscribe_download(&self, params: DownloadParams) -> SubscriptionResult;
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

fn error(failure: Failure) -> ErrorObjectOwned {
	let code = if failure.invalid { jsonrpsee::types::error::INVALID_PARAMS_CODE } else { 3 };
	ErrorObject::owned(code, failure.message, None::<()>)
}

fn check_safe(ext: &Extensions) -> Result<(), ErrorObjectOwned> {
	sc_rpc_api::check_if_safe(ext).map_err(|e| {
		ErrorObject::owned(
			jsonrpsee::types::error::METHOD_NOT_FOUND_CODE,
			format!("{e}: cairn_upload and cairn_download read local files and keys"),
			None::<()>,
		)
	})
}

/// Runs `work` while forwarding its progress to the subscription, then its outcome.
async fn stream<F>(
	pending: PendingSubscriptionSink,
	work: impl FnOnce(mpsc::UnboundedSender<Value>) -> F,
) where
	F: std::future::Future<Output = Result<Value, Failure>>,
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
			json!({ "stage": "error", "message": failure.message, "invalid": failure.invalid })
		}
	};
	if let Ok(message) = SubscriptionMessage::from_json(&last) {
		let _ = sink.send(message).await;
	}
}

#[async_trait]
impl FilesApiServer for FilesRpc {
	async fn upload(&self, ext: &Extensions, params: UploadParams) -> RpcResult<Value> {
		check_safe(ext)?;
		self.files.upload(params, None).await.map_err(error)
	}

	async fn subscribe_upload(
		&self,
		pending: PendingSubscriptionSink,
		ext: &Extensions,
		params: UploadParams,
	) -> SubscriptionResult {
		if let Err(denied) = check_safe(ext) {
			pending.reject(denied).await;
			return Ok(());
		}
		let files = self.files.clone();
		stream(pending, |progress| async move {
			let result = files.upload(params, Some(progress.clone())).await?;
			let contract = result["contract"].as_u64().unwrap_or_default();
			files.await_confirmed(contract, CONFIRM_BLOCKS, Some(&progress)).await?;
			Ok(result)
		})
		.await;
		Ok(())
	}

	async fn download(&self, ext: &Extensions, params: DownloadParams) -> RpcResult<Value> {
		check_safe(ext)?;
		self.files.download(params, None).await.map_err(error)
	}

	async fn subscribe_download(
		&self,
		pending: PendingSubscriptionSink,
		ext: &Extensions,
		params: DownloadParams,
	) -> SubscriptionResult {
		if let Err(denied) = check_safe(ext) {
			pending.reject(denied).await;
			return Ok(());
		}
		let files = self.files.clone();
		stream(pending, |progress| async move { files.download(params, Some(progress)).await })
			.await;
		Ok(())
	}
}
