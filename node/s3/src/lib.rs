//! The S3-compatible gateway (`--s3-addr`): the account's files as buckets and objects, for
//! `aws s3`, boto3, rclone, restic and the other tools that speak S3.
//!
//! - An object `KEY` in bucket `BUCKET` is the file stored under the name `BUCKET/KEY`, so
//!   `client ls`, `client get BUCKET/KEY` and the client API see the same files, and a node
//!   restored from the account's secret finds them by the names in their sealed manifests.
//! - A bucket exists while it holds an object, or once it is made (`CreateBucket`); an empty
//!   bucket is kept in this node's `s3/buckets.json` only.
//! - `PutObject` and `CompleteMultipartUpload` answer once every shard is confirmed on chain, and
//!   then end the contracts of any older object of the same key (an overwrite, as S3's). Parts of
//!   a multipart upload wait on disk (`s3/multipart/`) until it is completed or aborted, and are
//!   removed after [`multipart::ABANDONED_AFTER`] untouched.
//! - `GetObject` honours one range; `ListObjectsV2` (and V1) take a prefix, a delimiter and
//!   pages.
//!
//! Requests are signed (SigV4, checked by s3s) with the access key [`ACCESS_KEY`] and the secret
//! the node keeps in `s3.secret` in its data folder (mode 0600, made at the first start, kept
//! across restarts so clients stay configured). Unsigned requests and requests from web pages
//! (an `Origin` or `Sec-Fetch-*` header) are refused, as the client API refuses them.

mod buckets;
mod gateway;
mod multipart;

use std::{io, net::SocketAddr, path::Path, sync::Arc, time::Duration};

use hyper::{body::Incoming, service::service_fn, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};
use s3s::{auth::SimpleAuth, service::S3ServiceBuilder, Body};

pub use gateway::Gateway;

/// The access key id clients sign with.
pub const ACCESS_KEY: &str = "cairn";

/// The secret's file in the node's data folder.
pub const SECRET_FILE: &str = "s3.secret";

/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 64;

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest body of a request whose signature covers the body's hash: s3s reads such a body
/// whole into memory to check it, before it knows whether the signer has the secret. Bodies of
/// `UNSIGNED-PAYLOAD` and `STREAMING-*` requests are streamed and may be as large as a file.
pub const MAX_HASHED_BODY: u64 = 16 << 20;

/// Such bodies held at once (so at most 64 MiB of memory, whoever sends them).
const HASHED_BODIES: usize = 4;

/// The secret in `path`, made (40 random hex digits, mode 0600) if there is none.
pub fn secret(path: &Path) -> io::Result<String> {
	match std::fs::read_to_string(path) {
		Ok(secret) if !secret.trim().is_empty() => return Ok(secret.trim().to_string()),
		Ok(_) => {}
		Err(error) if error.kind() == io::ErrorKind::NotFound => {}
		Err(error) => return Err(error),
	}
	let secret = random_hex(20);
	cairn_files::local_file::write_private(path, secret.as_bytes()).map_err(io::Error::other)?;
	Ok(secret)
}

/// `bytes` random bytes as hex: secrets, upload ids and part tags.
fn random_hex(bytes: usize) -> String {
	let mut random = vec![0u8; bytes];
	ChaCha20Rng::from_entropy().fill_bytes(&mut random);
	hex::encode(random)
}

/// Whether a browser sent the request: it carries `Origin` or `Sec-Fetch-*`, which no S3 tool
/// sends.
fn from_a_browser(headers: &hyper::HeaderMap) -> bool {
	headers.contains_key(hyper::header::ORIGIN)
		|| headers.keys().any(|name| name.as_str().starts_with("sec-fetch-"))
}

/// Whether s3s would read the body of a request with `headers` whole into memory: unless the
/// request says its body is unsigned or signed chunk by chunk, its body's hash is part of its
/// signature. Returns the body's declared length, or an error if it has none or passes
/// [`MAX_HASHED_BODY`].
fn hashed_body(headers: &hyper::HeaderMap) -> Result<Option<u64>, String> {
	let payload = headers.get("x-amz-content-sha256").and_then(|value| value.to_str().ok());
	if payload.is_some_and(|p| p == "UNSIGNED-PAYLOAD" || p.starts_with("STREAMING-")) {
		return Ok(None);
	}
	let length = headers
		.get(hyper::header::CONTENT_LENGTH)
		.and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
	match length {
		Some(length) if length <= MAX_HASHED_BODY => Ok(Some(length)),
		Some(length) => Err(format!(
			"a body of {length} bytes whose hash is signed: such bodies are read into memory to \
			 check the signature, so they are refused beyond {MAX_HASHED_BODY} bytes; upload in \
			 parts (S3 tools do beyond 8 MiB), or sign the request with UNSIGNED-PAYLOAD over TLS"
		)),
		None if headers.contains_key(hyper::header::TRANSFER_ENCODING) => {
			Err("a chunked body whose hash is signed: send its Content-Length, or sign it as \
			 STREAMING-AWS4-HMAC-SHA256-PAYLOAD or UNSIGNED-PAYLOAD"
				.into())
		}
		None => Ok(None),
	}
}

/// The gateway listening on `address`; [`S3Server::run`] serves it.
pub struct S3Server {
	listener: tokio::net::TcpListener,
	service: s3s::service::SharedS3Service,
}

impl S3Server {
	/// Binds `address` for the files of `files`, with its state under `dir` and the secret in
	/// `secret_file` (made if missing).
	pub async fn bind(
		address: SocketAddr,
		dir: &Path,
		secret_file: &Path,
		files: Arc<cairn_files::Files>,
	) -> io::Result<Self> {
		let secret = secret(secret_file).map_err(|e| {
			io::Error::new(e.kind(), format!("the S3 secret {}: {e}", secret_file.display()))
		})?;
		let gateway = Gateway::open(dir, files)?;
		let mut builder = S3ServiceBuilder::new(gateway);
		builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, secret));
		let listener = tokio::net::TcpListener::bind(address).await?;
		Ok(Self { listener, service: builder.build().into_shared() })
	}

	/// Where it listens.
	pub fn local_addr(&self) -> io::Result<SocketAddr> {
		self.listener.local_addr()
	}

	/// Serves connections until the task is dropped.
	pub async fn run(self) {
		let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
		let hashed = Arc::new(tokio::sync::Semaphore::new(HASHED_BODIES));
		let mut connections = tokio::task::JoinSet::new();
		loop {
			let Ok(slot) = slots.clone().acquire_owned().await else { return };
			let (stream, peer) = match self.listener.accept().await {
				Ok(accepted) => accepted,
				Err(error) => {
					log::debug!(target: "cairn-s3", "accept: {error}");
					continue;
				}
			};
			while connections.try_join_next().is_some() {}
			let (service, hashed) = (self.service.clone(), hashed.clone());
			connections.spawn(async move {
				let serve = service_fn(move |request: Request<Incoming>| {
					let (service, hashed) = (service.clone(), hashed.clone());
					async move {
						if from_a_browser(request.headers()) {
							return Ok(refused(
								StatusCode::FORBIDDEN,
								"AccessDenied",
								"the Cairn S3 gateway does not serve web pages: requests with an \
								 Origin header are refused",
							));
						}
						let _held = match hashed_body(request.headers()) {
							Err(message) => {
								return Ok(refused(
									StatusCode::BAD_REQUEST,
									"EntityTooLarge",
									&message,
								))
							}
							Ok(Some(length)) if length > 0 => {
								Some(hashed.acquire_owned().await.expect("never closed"))
							}
							Ok(_) => None,
						};
						hyper::service::Service::call(&service, request).await
					}
				});
				let connection = hyper::server::conn::http1::Builder::new()
					.timer(TokioTimer::new())
					.header_read_timeout(HEADER_TIMEOUT)
					.serve_connection(TokioIo::new(stream), serve);
				if let Err(error) = connection.await {
					log::debug!(target: "cairn-s3", "{peer}: {error}");
				}
				drop(slot);
			});
		}
	}
}

/// An S3 error answer made here, before s3s sees the request.
fn refused(status: StatusCode, code: &str, message: &str) -> Response<Body> {
	let xml = format!(
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}\
		 </Message></Error>"
	);
	Response::builder()
		.status(status)
		.header(hyper::header::CONTENT_TYPE, "application/xml")
		// The body was not read: the connection cannot carry another request.
		.header(hyper::header::CONNECTION, "close")
		.body(Body::from(xml))
		.expect("a status and static headers make a valid response")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_secret_is_made_once_and_kept_for_the_owner() {
		use std::os::unix::fs::PermissionsExt;
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join(SECRET_FILE);
		let made = secret(&path).unwrap();
		assert_eq!(made.len(), 40);
		assert_eq!(secret(&path).unwrap(), made);
		assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
	}

	#[test]
	fn only_small_bodies_are_read_whole_to_check_their_signature() {
		let headers = |pairs: &[(&'static str, &str)]| -> hyper::HeaderMap {
			pairs
				.iter()
				.map(|(name, value)| {
					(hyper::header::HeaderName::from_static(name), value.parse().unwrap())
				})
				.collect()
		};
		let hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
		let large = (MAX_HASHED_BODY + 1).to_string();
		assert_eq!(hashed_body(&headers(&[])), Ok(None));
		assert_eq!(
			hashed_body(&headers(&[("x-amz-content-sha256", hash), ("content-length", "100")])),
			Ok(Some(100))
		);
		assert!(hashed_body(&headers(&[
			("x-amz-content-sha256", hash),
			("content-length", &large)
		]))
		.is_err());
		assert!(hashed_body(&headers(&[("content-length", &large)])).is_err());
		assert!(hashed_body(&headers(&[
			("x-amz-content-sha256", hash),
			("transfer-encoding", "chunked")
		]))
		.is_err());
		for streamed in [
			"UNSIGNED-PAYLOAD",
			"STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
			"STREAMING-UNSIGNED-PAYLOAD-TRAILER",
		] {
			let pairs = [("x-amz-content-sha256", streamed), ("content-length", large.as_str())];
			assert_eq!(hashed_body(&headers(&pairs)), Ok(None), "{streamed}");
		}
	}

	#[test]
	fn browsers_are_told_apart() {
		let mut headers = hyper::HeaderMap::new();
		assert!(!from_a_browser(&headers));
		headers.insert("sec-fetch-mode", "cors".parse().unwrap());
		assert!(from_a_browser(&headers));
		let mut headers = hyper::HeaderMap::new();
		headers.insert("origin", "https://example.com".parse().unwrap());
		assert!(from_a_browser(&headers));
	}
}
