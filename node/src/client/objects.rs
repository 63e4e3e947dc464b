//! The client API's HTTP side, for `put` from standard input or another machine and `get` to
//! standard output or another machine: `PUT /files/<name>`, `GET /files/<name>` and
//! `GET /contracts/<id>` (see the node's `cairn_rpc::api`), with the node's token. Bodies
//! stream both ways: nothing holds a whole file in memory.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{progress::Progress, Error};

/// Bytes read from the source at a time.
const CHUNK_BYTES: usize = 256 * 1024;

/// What is kept as it is in a name's path: unreserved characters and `/`.
const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
	.remove(b'/')
	.remove(b'-')
	.remove(b'_')
	.remove(b'.')
	.remove(b'~');

type Body = http_body_util::combinators::UnsyncBoxBody<Bytes, std::io::Error>;

/// A node's client API over HTTP.
pub struct Api {
	/// `host:port`.
	authority: String,
	bearer: String,
}

/// Which file a download asks for.
pub enum Which<'a> {
	Contract(u64),
	Name(&'a str),
}

impl Which<'_> {
	/// A contract id, or else a name.
	pub fn parse(text: &str) -> Which<'_> {
		match text.parse() {
			Ok(contract) => Which::Contract(contract),
			Err(_) => Which::Name(text),
		}
	}

	/// As the client API's methods take it: `{"contract": …}` or `{"name": …}`.
	pub fn params(&self) -> serde_json::Value {
		match self {
			Which::Contract(id) => serde_json::json!({ "contract": id }),
			Which::Name(name) => serde_json::json!({ "name": name }),
		}
	}
}

impl Api {
	/// The API at `url` (`ws://` or `http://`, as `--api` takes it), with `token`.
	pub fn new(url: &str, token: &str) -> Result<Self, Error> {
		let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
		if !matches!(scheme, "ws" | "http") {
			return Err(format!(
				"{url}: the client API is served as plain HTTP (ws:// or http://); reach a remote \
				 node through a tunnel (ssh -L) or a TLS proxy in front of it"
			));
		}
		let authority = rest.split('/').next().unwrap_or_default();
		if authority.is_empty() {
			return Err(format!("{url}: no host"));
		}
		Ok(Self { authority: authority.to_string(), bearer: format!("Bearer {token}") })
	}

	async fn send(
		&self,
		request: http::request::Builder,
		body: Body,
	) -> Result<http::Response<hyper::body::Incoming>, Error> {
		let unreachable = |error: &dyn std::fmt::Display| {
			format!("cannot reach the client API at {}: {error}", self.authority)
		};
		let stream =
			tokio::net::TcpStream::connect(&self.authority).await.map_err(|e| unreachable(&e))?;
		let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
			.await
			.map_err(|e| unreachable(&e))?;
		tokio::spawn(connection);
		let request = request
			.header(http::header::HOST, &self.authority)
			.header(http::header::AUTHORIZATION, &self.bearer)
			.body(body)
			.map_err(|e| format!("the request: {e}"))?;
		sender.send_request(request).await.map_err(|e| unreachable(&e))
	}

	/// Stores what `source` holds (`size` bytes, if known) under `name`, with the upload's
	/// `params` (as `cairn_upload` takes them); what the node answers.
	pub async fn put(
		&self,
		name: &str,
		params: &Value,
		source: impl AsyncRead + Send + Unpin + 'static,
		size: Option<u64>,
	) -> Result<Value, Error> {
		let mut query = form_urlencoded::Serializer::new(String::new());
		for (key, value) in params.as_object().into_iter().flatten() {
			match value {
				Value::Null => {}
				Value::String(text) => {
					query.append_pair(key, text);
				}
				other => {
					query.append_pair(key, &other.to_string());
				}
			}
		}
		let path = format!(
			"/files/{}?{}",
			percent_encoding::utf8_percent_encode(name, PATH),
			query.finish()
		);
		let progress = std::sync::Arc::new(std::sync::Mutex::new(Progress::new()));
		let shown = progress.clone();
		let chunks = futures::stream::try_unfold((source, 0u64), move |(mut source, sent)| {
			let shown = shown.clone();
			async move {
				let mut chunk = vec![0u8; CHUNK_BYTES];
				let read = source.read(&mut chunk).await?;
				if read == 0 {
					return Ok(None);
				}
				chunk.truncate(read);
				let sent = sent + read as u64;
				if let Ok(mut shown) = shown.lock() {
					shown.show(&json!({ "stage": "sending", "sent": sent, "total": size }));
				}
				Ok(Some((http_body::Frame::data(Bytes::from(chunk)), (source, sent))))
			}
		});
		let mut request = http::Request::put(path);
		if let Some(size) = size {
			request = request.header(http::header::CONTENT_LENGTH, size);
		}
		let body = BodyExt::boxed_unsync(http_body_util::StreamBody::new(chunks));
		let response = self.send(request, body).await;
		if let Ok(mut shown) = progress.lock() {
			shown.show(&json!({ "stage": "storing" }));
		}
		let response = response?;
		let status = response.status();
		let answer = response
			.into_body()
			.collect()
			.await
			.map_err(|e| format!("the node's answer: {e}"))?
			.to_bytes();
		if let Ok(mut shown) = progress.lock() {
			shown.finish();
		}
		let answer: Value = serde_json::from_slice(&answer)
			.map_err(|_| format!("{status}: {}", String::from_utf8_lossy(&answer).trim()))?;
		if !status.is_success() {
			return Err(failure(status, &answer));
		}
		Ok(answer)
	}

	/// Writes the file `which` names into `out`; its contract and size.
	pub async fn get(
		&self,
		which: Which<'_>,
		out: &mut (impl AsyncWrite + Unpin),
	) -> Result<(u64, u64), Error> {
		let path = match which {
			Which::Contract(id) => format!("/contracts/{id}"),
			Which::Name(name) => {
				format!("/files/{}", percent_encoding::utf8_percent_encode(name, PATH))
			}
		};
		let empty = http_body_util::Empty::new()
			.map_err(|never: std::convert::Infallible| -> std::io::Error { match never {} });
		let empty = BodyExt::boxed_unsync(empty);
		let response = self.send(http::Request::get(path), empty).await?;
		let status = response.status();
		if !status.is_success() {
			let answer = response.into_body().collect().await.map(|b| b.to_bytes());
			let answer = answer.map_err(|e| format!("{status}: {e}"))?;
			let answer: Value = serde_json::from_slice(&answer)
				.map_err(|_| format!("{status}: {}", String::from_utf8_lossy(&answer).trim()))?;
			return Err(failure(status, &answer));
		}
		let header = |name: &str| {
			response.headers().get(name).and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
		};
		let (contract, total) =
			(header("x-cairn-contract").unwrap_or_default(), header("content-length"));
		let mut shown = Progress::new();
		let mut body = response.into_body();
		let mut received = 0u64;
		while let Some(frame) = body.frame().await {
			let frame =
				frame.map_err(|e| format!("the download stopped after {received} bytes: {e}"))?;
			let Ok(data) = frame.into_data() else { continue };
			out.write_all(&data).await.map_err(|e| format!("writing the download: {e}"))?;
			received += data.len() as u64;
			shown.show(&json!({ "stage": "receiving", "received": received, "total": total }));
		}
		shown.finish();
		if total.is_some_and(|total| total != received) {
			return Err(format!("the download stopped after {received} of {total:?} bytes"));
		}
		out.flush().await.map_err(|e| format!("writing the download: {e}"))?;
		Ok((contract, received))
	}
}

/// The node's error answer, in words.
fn failure(status: http::StatusCode, answer: &Value) -> Error {
	let message = answer["error"].as_str().map_or_else(|| answer.to_string(), str::to_string);
	match status {
		http::StatusCode::UNAUTHORIZED => format!("{message} (401: the token is not the node's)"),
		_ => format!("{message} ({status})"),
	}
}

/// Whether the API at `url` is served by a node on this machine, so that paths mean the same to
/// it: a loopback address whose port a node here keeps its token copy for (a tunnel's local end
/// to a remote node has none).
pub fn on_this_machine(url: &str) -> bool {
	is_local(url)
		&& super::url_port(url)
			.and_then(cairn_rpc::api::local_token_path)
			.is_some_and(|path| path.exists())
}

/// Whether `url`'s host is a loopback address.
fn is_local(url: &str) -> bool {
	let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
	let authority = rest.split('/').next().unwrap_or_default();
	let host = match authority.strip_prefix('[') {
		Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
		None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
	};
	matches!(host, "127.0.0.1" | "localhost" | "::1")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_loopback_apis_are_local() {
		assert!(is_local("ws://127.0.0.1:9966"));
		assert!(is_local("ws://localhost:9966/"));
		assert!(is_local("http://[::1]:9966"));
		assert!(!is_local("ws://192.168.1.5:9966"));
		assert!(!is_local("http://node.example:9966"));
		assert!(!is_local("ws://127.0.0.1.example:9966"));
	}

	#[test]
	fn names_keep_their_slashes_in_the_path() {
		let encoded = percent_encoding::utf8_percent_encode("photos/2026/cat one?.jpg", PATH);
		assert_eq!(encoded.to_string(), "photos/2026/cat%20one%3F.jpg");
	}

	#[test]
	fn only_plain_http_is_spoken() {
		assert!(Api::new("ws://127.0.0.1:9966", "t").is_ok());
		assert!(Api::new("https://node.example", "t").err().is_some_and(|e| e.contains("tunnel")));
		assert!(Api::new("ws://", "t").is_err());
	}
}
