//! The client API: the methods that read and write the node's local files and sign with its key
//! (`cairn_upload`, `cairn_download` and their progress subscriptions), served apart from the
//! chain's JSON-RPC on their own address (`--api-addr`, `127.0.0.1:9966` by default).
//!
//! They are for the node's own user only, as bitcoind's cookie file and Jupyter's token arrange
//! it: at every start the node writes a fresh random [`ApiToken`] to `api.token` in its data
//! folder (`<base path>/chains/<chain>/cairn/`; and, for clients on the same machine, to
//! [`local_token_path`] of the API's port), both mode 0600, and every request must carry it as `Authorization: Bearer <token>`. Requests from web
//! pages are refused whatever the token: browsers mark them with `Origin` (or `Sec-Fetch-*`)
//! headers, which no command-line client sends, so a page the user visits can neither read nor
//! write the user's files through the node, and neither `--rpc-cors` nor a rebinding of DNS
//! changes that.
//!
//! Behind the same guard, the API serves files as HTTP resources ([`objects`]):
//! `PUT /files/<name>` stores a streamed body under a name, `GET /files/<name>` and
//! `GET /contracts/<id>` return a file (with `Range`), so that clients on other machines and
//! streams need no path on the node's machine.

pub mod files;
mod objects;

use std::{
	future::Future,
	io,
	net::SocketAddr,
	os::unix::fs::DirBuilderExt,
	path::{Path, PathBuf},
	pin::Pin,
	sync::Arc,
	task::{Context, Poll},
};

use futures::FutureExt;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse, ServerHandle};
use rand_chacha::{
	rand_core::{RngCore, SeedableRng},
	ChaCha20Rng,
};

/// Where the API listens unless told otherwise.
pub const DEFAULT_API_ADDR: &str = "127.0.0.1:9966";

/// Name of the token file in the node's base path.
pub const TOKEN_FILE: &str = "api.token";

/// Connections served at once.
const MAX_CONNECTIONS: u32 = 32;

/// Largest request body: an inline upload of [`files::MAX_INLINE_BYTES`] as hex, and framing.
const MAX_REQUEST_BYTES: u32 = 2 * files::MAX_INLINE_BYTES as u32 + 64 * 1024;

/// Largest response body: an inline download as hex, and framing.
const MAX_RESPONSE_BYTES: u32 = MAX_REQUEST_BYTES;

/// The secret a client shows to use the API: 32 random bytes, as 64 hex digits.
#[derive(Clone)]
pub struct ApiToken(Arc<str>);

impl ApiToken {
	/// A fresh random token.
	pub fn generate() -> Self {
		let mut bytes = [0u8; 32];
		ChaCha20Rng::from_entropy().fill_bytes(&mut bytes);
		Self(hex::encode(bytes).into())
	}

	/// The token as clients send it.
	pub fn as_str(&self) -> &str {
		&self.0
	}

	/// Whether `presented` is this token, in time independent of where they differ.
	fn matches(&self, presented: &[u8]) -> bool {
		let expected = self.0.as_bytes();
		expected.len() == presented.len()
			&& expected.iter().zip(presented).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
	}

	/// Writes the token to `path` (mode 0600, its folder 0700 if made here), replacing what was
	/// there without ever leaving a partly written or world-readable file.
	pub fn write_to(&self, path: &Path) -> io::Result<()> {
		if let Some(dir) = path.parent() {
			std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
		}
		cairn_files::local_file::write_private(path, self.as_str().as_bytes())
			.map_err(io::Error::other)
	}
}

/// Where a node whose API listens on `port` leaves a copy of its token for clients of the same
/// user on the same machine: `$XDG_RUNTIME_DIR/cairn-node/api-<port>.token`, or under
/// `~/.local/share/cairn-node/` where there is no runtime directory.
pub fn local_token_path(port: u16) -> Option<PathBuf> {
	let dir = match std::env::var_os("XDG_RUNTIME_DIR").filter(|dir| !dir.is_empty()) {
		Some(runtime) => PathBuf::from(runtime).join("cairn-node"),
		None => PathBuf::from(std::env::var_os("HOME")?).join(".local/share/cairn-node/run"),
	};
	Some(dir.join(format!("api-{port}.token")))
}

/// Why the guard turned a request away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
	/// A browser sent it (it carries `Origin` or `Sec-Fetch-*`).
	Browser,
	/// No token, or not ours.
	Token,
}

impl Refusal {
	fn response(self) -> HttpResponse {
		let (status, message) = match self {
			Refusal::Browser => (
				http::StatusCode::FORBIDDEN,
				"the Cairn client API does not serve web pages: requests with an Origin header \
				 are refused\n",
			),
			Refusal::Token => (
				http::StatusCode::UNAUTHORIZED,
				"the Cairn client API needs the node's token: send `Authorization: Bearer <token>` \
				 with the token from api.token in the node's data folder\n",
			),
		};
		http::Response::builder()
			.status(status)
			.header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
			.header(http::header::WWW_AUTHENTICATE, "Bearer")
			.body(HttpBody::from(message))
			.expect("a static status and headers make a valid response")
	}
}

/// Decides whether a request with these headers may reach the methods.
fn admit(headers: &http::HeaderMap, token: &ApiToken) -> Result<(), Refusal> {
	let from_browser = headers.contains_key(http::header::ORIGIN)
		|| headers.keys().any(|name| name.as_str().starts_with("sec-fetch-"));
	if from_browser {
		return Err(Refusal::Browser);
	}
	let presented = headers
		.get(http::header::AUTHORIZATION)
		.and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))
		.ok_or(Refusal::Token)?;
	if token.matches(presented) {
		Ok(())
	} else {
		Err(Refusal::Token)
	}
}

/// The HTTP layer that admits only the token's holders, and no browser.
#[derive(Clone)]
struct GuardLayer(ApiToken);

impl<S> tower::Layer<S> for GuardLayer {
	type Service = Guard<S>;

	fn layer(&self, inner: S) -> Guard<S> {
		Guard { inner, token: self.0.clone() }
	}
}

#[derive(Clone)]
struct Guard<S> {
	inner: S,
	token: ApiToken,
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl<S, B> tower::Service<HttpRequest<B>> for Guard<S>
where
	S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
	S::Error: Into<BoxError> + 'static,
	S::Future: Send + 'static,
{
	type Response = HttpResponse;
	type Error = BoxError;
	type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send + 'static>>;

	fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
		self.inner.poll_ready(cx).map_err(Into::into)
	}

	fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
		match admit(request.headers(), &self.token) {
			Ok(()) => self.inner.call(request).map(|result| result.map_err(Into::into)).boxed(),
			Err(refusal) => {
				log::debug!(target: "cairn-api", "refused a request: {refusal:?}");
				futures::future::ready(Ok(refusal.response())).boxed()
			}
		}
	}
}

/// The running API server; stops when dropped.
pub struct ApiServer {
	handle: ServerHandle,
	address: SocketAddr,
	token_files: Vec<PathBuf>,
}

impl ApiServer {
	/// Where it listens.
	pub fn local_addr(&self) -> SocketAddr {
		self.address
	}
}

impl Drop for ApiServer {
	fn drop(&mut self) {
		let _ = self.handle.stop();
		for path in &self.token_files {
			let _ = std::fs::remove_file(path);
		}
	}
}

/// Serves the client service's methods on `address`, admitting only holders of a fresh token,
/// which is written to `token_file` and (for a loopback address) to [`local_token_path`].
pub async fn start(
	address: SocketAddr,
	token_file: &Path,
	files: Arc<cairn_files::Files>,
) -> io::Result<ApiServer> {
	use files::FilesApiServer;
	let token = ApiToken::generate();
	let middleware = tower::ServiceBuilder::new()
		.layer(GuardLayer(token.clone()))
		.layer(objects::ObjectsLayer(files.clone()));
	let server = jsonrpsee::server::Server::builder()
		.max_connections(MAX_CONNECTIONS)
		.max_request_body_size(MAX_REQUEST_BYTES)
		.max_response_body_size(MAX_RESPONSE_BYTES)
		.set_http_middleware(middleware)
		.build(address)
		.await?;
	let address = server.local_addr()?;
	let mut token_files = vec![token_file.to_path_buf()];
	if address.ip().is_loopback() {
		token_files.extend(local_token_path(address.port()));
	}
	for path in &token_files {
		token.write_to(path).map_err(|e| {
			io::Error::new(
				e.kind(),
				format!("cannot write the API token to {}: {e}", path.display()),
			)
		})?;
	}
	let handle = server.start(files::FilesRpc::new(files).into_rpc());
	Ok(ApiServer { handle, address, token_files })
}

#[cfg(test)]
mod tests {
	use super::*;

	fn headers(pairs: &[(&'static str, &str)]) -> http::HeaderMap {
		pairs
			.iter()
			.map(|(name, value)| {
				(http::HeaderName::from_static(name), http::HeaderValue::from_str(value).unwrap())
			})
			.collect()
	}

	#[test]
	fn only_the_token_without_a_browser_is_admitted() {
		let token = ApiToken::generate();
		let bearer = format!("Bearer {}", token.as_str());
		assert_eq!(admit(&headers(&[("authorization", &bearer)]), &token), Ok(()));
		assert_eq!(admit(&headers(&[]), &token), Err(Refusal::Token));
		let wrong = format!("Bearer {}", ApiToken::generate().as_str());
		assert_eq!(admit(&headers(&[("authorization", &wrong)]), &token), Err(Refusal::Token));
		let short = format!("Bearer {}", &token.as_str()[..63]);
		assert_eq!(admit(&headers(&[("authorization", &short)]), &token), Err(Refusal::Token));
		assert_eq!(
			admit(&headers(&[("authorization", token.as_str())]), &token),
			Err(Refusal::Token)
		);
		// A page that somehow knew the token is still refused.
		for browser in [("origin", "https://example.com"), ("sec-fetch-site", "cross-site")] {
			assert_eq!(
				admit(&headers(&[("authorization", &bearer), browser]), &token),
				Err(Refusal::Browser)
			);
		}
	}

	#[test]
	fn tokens_are_fresh_and_written_for_the_owner_only() {
		use std::os::unix::fs::PermissionsExt;
		let (a, b) = (ApiToken::generate(), ApiToken::generate());
		assert_ne!(a.as_str(), b.as_str());
		assert_eq!(a.as_str().len(), 64);
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("run/api.token");
		a.write_to(&path).unwrap();
		b.write_to(&path).unwrap();
		assert_eq!(std::fs::read_to_string(&path).unwrap(), b.as_str());
		let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
		assert_eq!(mode(&path), 0o600);
		assert_eq!(mode(path.parent().unwrap()), 0o700);
	}
}
