//! Files as HTTP resources on the client API, for clients on other machines and for streams
//! (`cairn-node client put -`, `client get NAME -`):
//!
//! - `PUT /files/<name>?k=&m=&duration=&maxPrice=&encrypt=&autoRenew=` stores the request's
//!   body (with a length or chunked) under `name`, as `cairn_upload` does, and answers with what
//!   `cairn_upload` returns once every shard is confirmed on chain (as `client put` does).
//! - `GET /files/<name>` returns the newest file of this account with that name, and
//!   `GET /contracts/<id>` the file of a contract; both honour one `Range` (`bytes=a-b`, `a-`,
//!   `-n`).
//! - `DELETE /files/<name>` and `DELETE /contracts/<id>` end the contract, as `cairn_remove`
//!   does, and answer with what it returns.
//!
//! `<name>` is percent-encoded UTF-8 (a `/` in it may stay as it is). Both sit behind the same
//! guard as the methods: the node's token, and no browser.
//!
//! A body goes to a spooled file as it arrives ([`cairn_files::spool`]), so the node's memory
//! stays flat whatever its size; a body larger than any contract holds is refused as soon as it
//! says so or crosses that size, and a request cut short leaves nothing behind. A download is
//! decoded into a spooled file, then sent from it. Errors are JSON, `{"error", "transient"}`:
//! 400 for the caller's mistakes, 404 for an unknown name, 405 for another method, 413 for a
//! body too large, 416 for a range outside the file, 503 when asking again later may succeed,
//! and 500 otherwise.

use std::{
	sync::Arc,
	task::{Context, Poll},
};

use bytes::Bytes;
use futures::{future::BoxFuture, FutureExt, TryStreamExt};
use http::{header, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use jsonrpsee::server::{HttpBody, HttpRequest, HttpResponse};
use pallet_market::ContractId;
use serde_json::{json, Value};

use cairn_files::{
	check_name, largest_upload, spool::read_range, DownloadParams, Files, FilesError, RemoveParams,
	SpoolError, UploadParams,
};

use super::BoxError;

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
	/// `PUT /files/<name>`, with its query.
	Put { name: String, query: String },
	/// `GET /files/<name>` or `GET /contracts/<id>`.
	Get(DownloadParams),
	/// `DELETE /files/<name>` or `DELETE /contracts/<id>`.
	Delete(RemoveParams),
}

impl Route {
	/// The route of a request for `path` and `query`: `None` for the JSON-RPC side's (any path
	/// outside `/files/` and `/contracts/`).
	fn of(method: &Method, path: &str, query: Option<&str>) -> Option<Result<Self, Failure>> {
		let (resource, rest) = if let Some(rest) = path.strip_prefix("/files/") {
			("files", rest)
		} else if let Some(rest) = path.strip_prefix("/contracts/") {
			("contracts", rest)
		} else {
			return None;
		};
		let contract = || {
			rest.parse::<ContractId>().map_err(|_| {
				Failure::new(StatusCode::BAD_REQUEST, format!("{rest:?} is not a contract id"))
			})
		};
		let route = match (resource, method) {
			("files", &Method::PUT) => decode_name(rest)
				.map(|name| Route::Put { name, query: query.unwrap_or_default().to_string() }),
			("files", &Method::GET) => decode_name(rest)
				.map(|name| Route::Get(DownloadParams { name: Some(name), ..Default::default() })),
			("files", &Method::DELETE) => decode_name(rest)
				.map(|name| Route::Delete(RemoveParams { contract: None, name: Some(name) })),
			("contracts", &Method::GET) => contract()
				.map(|id| Route::Get(DownloadParams { contract: Some(id), ..Default::default() })),
			("contracts", &Method::DELETE) => {
				contract().map(|id| Route::Delete(RemoveParams { contract: Some(id), name: None }))
			}
			("files", _) => Err(Failure::new(
				StatusCode::METHOD_NOT_ALLOWED,
				format!("/files/ takes PUT, GET and DELETE, not {method}"),
			)),
			_ => Err(Failure::new(
				StatusCode::METHOD_NOT_ALLOWED,
				format!("/contracts/ takes GET and DELETE, not {method}"),
			)),
		};
		Some(route)
	}
}

/// A name from its percent-encoded form in a path, checked as uploads check names.
fn decode_name(encoded: &str) -> Result<String, Failure> {
	let name = percent_encoding::percent_decode_str(encoded).decode_utf8().map_err(|_| {
		Failure::new(StatusCode::BAD_REQUEST, "the name is not percent-encoded UTF-8")
	})?;
	check_name(&name)?;
	Ok(name.into_owned())
}

/// An upload's parameters from a query
/// (`k=4&m=2&duration=…&maxPrice=…&encrypt=…&autoRenew=…&segmentBytes=…`).
fn upload_params(query: &str) -> Result<UploadParams, Failure> {
	let bad = |message: String| Failure::new(StatusCode::BAD_REQUEST, message);
	let mut params = serde_json::Map::new();
	for (key, value) in form_urlencoded::parse(query.as_bytes()) {
		let parsed = match &*key {
			"k" | "m" | "duration" | "segmentBytes" => value
				.parse::<u64>()
				.map(Value::from)
				.map_err(|_| bad(format!("{key}={value:?} is not a whole number")))?,
			"encrypt" | "autoRenew" => value
				.parse::<bool>()
				.map(Value::from)
				.map_err(|_| bad(format!("{key}={value:?} is neither true nor false")))?,
			"maxPrice" => Value::from(value.to_string()),
			_ => {
				return Err(bad(format!(
					"unknown parameter {key:?}: an upload takes k, m, duration, maxPrice, encrypt, \
					 autoRenew and segmentBytes"
				)))
			}
		};
		if params.insert(key.to_string(), parsed).is_some() {
			return Err(bad(format!("{key} is given twice")));
		}
	}
	serde_json::from_value(Value::Object(params)).map_err(|e| bad(format!("parameters: {e}")))
}

/// The byte range a `Range` header asks of a file of `size` bytes: first and last, inclusive.
fn byte_range(header: &str, size: u64) -> Result<(u64, u64), Failure> {
	let malformed = || {
		Failure::new(
			StatusCode::BAD_REQUEST,
			format!("Range {header:?}: one range is served, as bytes=FIRST-LAST, FIRST- or -COUNT"),
		)
	};
	let spec = header.trim().strip_prefix("bytes=").ok_or_else(malformed)?;
	let (first, last) = spec.split_once('-').ok_or_else(malformed)?;
	let number = |text: &str| text.trim().parse::<u64>().map_err(|_| malformed());
	let (first, last) = match (first.trim().is_empty(), last.trim().is_empty()) {
		// The last `count` bytes.
		(true, false) => {
			let count = number(last)?;
			(size.saturating_sub(count), size.checked_sub(1).filter(|_| count > 0))
		}
		(false, true) => (number(first)?, size.checked_sub(1)),
		(false, false) => {
			let (first, last) = (number(first)?, number(last)?);
			if last < first {
				return Err(malformed());
			}
			(first, Some(last.min(size.saturating_sub(1))))
		}
		(true, true) => return Err(malformed()),
	};
	match last {
		Some(last) if first <= last && first < size => Ok((first, last)),
		_ => Err(Failure {
			status: StatusCode::RANGE_NOT_SATISFIABLE,
			message: format!("Range {header:?} is outside the file's {size} bytes"),
			transient: false,
			content_range: Some(format!("bytes */{size}")),
		}),
	}
}

/// Why a request failed, as its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Failure {
	status: StatusCode,
	message: String,
	transient: bool,
	/// `Content-Range` of a 416.
	content_range: Option<String>,
}

impl Failure {
	fn new(status: StatusCode, message: impl Into<String>) -> Self {
		Self { status, message: message.into(), transient: false, content_range: None }
	}

	fn response(self) -> HttpResponse {
		let body = json!({ "error": self.message, "transient": self.transient });
		let mut response = json_response(self.status, &body);
		if let Some(range) = self.content_range.and_then(|r| HeaderValue::from_str(&r).ok()) {
			response.headers_mut().insert(header::CONTENT_RANGE, range);
		}
		response
	}
}

impl From<FilesError> for Failure {
	fn from(error: FilesError) -> Self {
		let status = match &error {
			FilesError::NotFound(_) => StatusCode::NOT_FOUND,
			error if error.is_invalid() => StatusCode::BAD_REQUEST,
			error if error.is_transient() => StatusCode::SERVICE_UNAVAILABLE,
			_ => StatusCode::INTERNAL_SERVER_ERROR,
		};
		Self { transient: error.is_transient(), ..Self::new(status, error.to_string()) }
	}
}

fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
	http::Response::builder()
		.status(status)
		.header(header::CONTENT_TYPE, "application/json")
		.body(HttpBody::from(format!("{body}\n")))
		.expect("a status and a static header make a valid response")
}

fn local(what: &'static str) -> impl Fn(std::io::Error) -> Failure {
	move |error| FilesError::local(what, error).into()
}

/// `PUT /files/<name>`: the body, spooled, stored under `name`.
async fn put<B>(
	files: Arc<Files>,
	name: String,
	query: &str,
	request: HttpRequest<B>,
) -> Result<HttpResponse, Failure>
where
	B: http_body::Body<Data = Bytes> + Send + 'static,
	B::Error: Into<BoxError> + Send,
{
	let mut params = upload_params(query)?;
	let limit = largest_upload();
	let declared = request
		.headers()
		.get(header::CONTENT_LENGTH)
		.and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
	let spooled = match declared.filter(|declared| *declared > limit) {
		Some(received) => Err(SpoolError::TooLarge { received, limit }),
		None => {
			let body = request.into_body().into_data_stream().map_err(|e| -> BoxError { e.into() });
			files.spool_stream(body, limit).await.map(|(spooled, _)| spooled)
		}
	};
	let spooled = spooled.map_err(|error| match error {
		SpoolError::TooLarge { .. } => {
			Failure::new(StatusCode::PAYLOAD_TOO_LARGE, error.to_string())
		}
		SpoolError::Cut { .. } => Failure::new(StatusCode::BAD_REQUEST, error.to_string()),
		SpoolError::Files(error) => error.into(),
	})?;
	params.name = Some(name);
	let stored = files.store_spooled(spooled, params).await?;
	Ok(json_response(StatusCode::OK, &stored))
}

/// `GET /files/<name>` and `GET /contracts/<id>`: the file (or the range asked for).
async fn get(
	files: Arc<Files>,
	which: DownloadParams,
	range: Option<String>,
) -> Result<HttpResponse, Failure> {
	// A range is fetched alone: of a file cut into segments, only the segments that hold it;
	// the file is found once, and its size is the one the range was checked against.
	let (which, range) = match range {
		Some(range) => {
			let (mut which, size) = files.resolve(&which)?;
			let (first, last) = byte_range(&range, size)?;
			which.range = Some([first, last]);
			(which, Some((first, last, size)))
		}
		None => (which, None),
	};
	let (file, done) = files.download_spooled(which).await?;
	let length = file.metadata().map_err(local("reading the download"))?.len();
	let status = match range {
		Some(_) => StatusCode::PARTIAL_CONTENT,
		None => StatusCode::OK,
	};
	let chunks = read_range(file, 0, length).map_err(local("reading the download"))?;
	let mut response = http::Response::builder()
		.status(status)
		.header(header::CONTENT_TYPE, "application/octet-stream")
		.header(header::CONTENT_LENGTH, length)
		.header(header::ACCEPT_RANGES, "bytes")
		.header("x-cairn-contract", done["contract"].to_string());
	if let Some((first, last, size)) = range {
		response = response.header(header::CONTENT_RANGE, format!("bytes {first}-{last}/{size}"));
	}
	let body = http_body_util::StreamBody::new(
		chunks.map_ok(http_body::Frame::data).map_err(BoxError::from),
	);
	Ok(response.body(HttpBody::new(body)).expect("valid status and headers"))
}

async fn serve<B>(files: Arc<Files>, route: Route, request: HttpRequest<B>) -> HttpResponse
where
	B: http_body::Body<Data = Bytes> + Send + 'static,
	B::Error: Into<BoxError> + Send,
{
	let range = request
		.headers()
		.get(header::RANGE)
		.map(|range| String::from_utf8_lossy(range.as_bytes()).into_owned());
	let answer = match route {
		Route::Put { name, query } => put(files, name, &query, request).await,
		Route::Get(which) => get(files, which, range).await,
		Route::Delete(which) => files
			.remove(which)
			.await
			.map(|ended| json_response(StatusCode::OK, &ended))
			.map_err(Into::into),
	};
	answer.unwrap_or_else(|failure| {
		log::debug!(target: "cairn-api", "{}: {}", failure.status, failure.message);
		failure.response()
	})
}

/// The HTTP layer that serves `/files/` and `/contracts/` and passes the rest on.
#[derive(Clone)]
pub(super) struct ObjectsLayer(pub Arc<Files>);

impl<S> tower::Layer<S> for ObjectsLayer {
	type Service = Objects<S>;

	fn layer(&self, inner: S) -> Objects<S> {
		Objects { inner, files: self.0.clone() }
	}
}

#[derive(Clone)]
pub(super) struct Objects<S> {
	inner: S,
	files: Arc<Files>,
}

impl<S, B> tower::Service<HttpRequest<B>> for Objects<S>
where
	S: tower::Service<HttpRequest<B>, Response = HttpResponse>,
	S::Error: Into<BoxError> + 'static,
	S::Future: Send + 'static,
	B: http_body::Body<Data = Bytes> + Send + 'static,
	B::Error: Into<BoxError> + Send,
{
	type Response = HttpResponse;
	type Error = BoxError;
	type Future = BoxFuture<'static, Result<HttpResponse, BoxError>>;

	fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
		self.inner.poll_ready(cx).map_err(Into::into)
	}

	fn call(&mut self, request: HttpRequest<B>) -> Self::Future {
		let uri = request.uri().clone();
		match Route::of(request.method(), uri.path(), uri.query()) {
			None => self.inner.call(request).map(|result| result.map_err(Into::into)).boxed(),
			Some(Err(failure)) => futures::future::ready(Ok(failure.response())).boxed(),
			Some(Ok(route)) => {
				let files = self.files.clone();
				async move { Ok(serve(files, route, request).await) }.boxed()
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn routes_are_read_from_method_and_path() {
		let route =
			|method: Method, path: &str, query: Option<&str>| Route::of(&method, path, query);
		assert_eq!(route(Method::POST, "/", None), None);
		assert_eq!(route(Method::GET, "/health", None), None);
		assert_eq!(
			route(Method::PUT, "/files/photos/2026/cat%20one.jpg", Some("k=4")),
			Some(Ok(Route::Put { name: "photos/2026/cat one.jpg".into(), query: "k=4".into() }))
		);
		assert_eq!(
			route(Method::GET, "/files/caf%C3%A9", None),
			Some(Ok(Route::Get(DownloadParams {
				name: Some("café".into()),
				..Default::default()
			})))
		);
		assert_eq!(
			route(Method::GET, "/contracts/42", None),
			Some(Ok(Route::Get(DownloadParams { contract: Some(42), ..Default::default() })))
		);
		let status = |method, path| route(method, path, None).unwrap().unwrap_err().status;
		assert_eq!(status(Method::GET, "/contracts/seven"), StatusCode::BAD_REQUEST);
		assert_eq!(status(Method::GET, "/contracts/-1"), StatusCode::BAD_REQUEST);
		assert_eq!(status(Method::POST, "/files/a"), StatusCode::METHOD_NOT_ALLOWED);
		assert_eq!(status(Method::PUT, "/contracts/1"), StatusCode::METHOD_NOT_ALLOWED);
		assert_eq!(status(Method::DELETE, "/contracts/x"), StatusCode::BAD_REQUEST);
		let deleted = route(Method::DELETE, "/files/a/b", None).unwrap().unwrap();
		assert!(
			matches!(deleted, Route::Delete(RemoveParams { contract: None, name: Some(n) }) if n == "a/b")
		);
		// Empty, not UTF-8, control characters, too long.
		assert_eq!(status(Method::GET, "/files/"), StatusCode::BAD_REQUEST);
		assert_eq!(status(Method::GET, "/files/%FF"), StatusCode::BAD_REQUEST);
		assert_eq!(status(Method::PUT, "/files/a%0Ab"), StatusCode::BAD_REQUEST);
		let long = format!("/files/{}", "a".repeat(cairn_files::MAX_NAME_BYTES + 1));
		assert_eq!(status(Method::PUT, &long), StatusCode::BAD_REQUEST);
	}

	#[test]
	fn an_upload_takes_its_parameters_from_the_query() {
		let params = upload_params("k=4&m=2&duration=600&maxPrice=7&encrypt=false&autoRenew=true")
			.expect("parameters");
		assert_eq!((params.k, params.m, params.duration), (Some(4), Some(2), Some(600)));
		assert_eq!(params.max_price.as_deref(), Some("7"));
		assert_eq!((params.encrypt, params.auto_renew), (Some(false), Some(true)));
		assert!(upload_params("").is_ok());
		for bad in ["k=four", "k=300", "encrypt=yes", "path=/etc/passwd", "data=0x00", "k=1&k=2"] {
			let failure = upload_params(bad).expect_err(bad);
			assert_eq!(failure.status, StatusCode::BAD_REQUEST, "{bad}");
		}
	}

	#[test]
	fn one_range_is_served_and_others_are_refused() {
		assert_eq!(byte_range("bytes=0-99", 1000), Ok((0, 99)));
		assert_eq!(byte_range("bytes=900-", 1000), Ok((900, 999)));
		assert_eq!(byte_range("bytes=-100", 1000), Ok((900, 999)));
		assert_eq!(byte_range("bytes=-5000", 1000), Ok((0, 999)));
		assert_eq!(byte_range("bytes=990-5000", 1000), Ok((990, 999)));
		for (header, status) in [
			("bytes=1000-", StatusCode::RANGE_NOT_SATISFIABLE),
			("bytes=-0", StatusCode::RANGE_NOT_SATISFIABLE),
			("bytes=0-0", StatusCode::RANGE_NOT_SATISFIABLE),
			("bytes=5-1", StatusCode::BAD_REQUEST),
			("bytes=0-1,5-9", StatusCode::BAD_REQUEST),
			("items=0-1", StatusCode::BAD_REQUEST),
			("bytes=-", StatusCode::BAD_REQUEST),
			("bytes=a-b", StatusCode::BAD_REQUEST),
		] {
			let size = if header == "bytes=0-0" { 0 } else { 1000 };
			let failure = byte_range(header, size).expect_err(header);
			assert_eq!(failure.status, status, "{header}");
		}
		let outside = byte_range("bytes=2000-", 1000).expect_err("outside");
		assert_eq!(outside.content_range.as_deref(), Some("bytes */1000"));
	}

	#[test]
	fn errors_of_the_client_service_map_to_statuses() {
		let status = |error: FilesError| Failure::from(error).status;
		assert_eq!(
			status(FilesError::NotFound("no file named \"a\"".into())),
			StatusCode::NOT_FOUND
		);
		assert_eq!(status(FilesError::invalid("k must be at least 1")), StatusCode::BAD_REQUEST);
		assert_eq!(status(FilesError::Network("2 of 3".into())), StatusCode::SERVICE_UNAVAILABLE);
		assert_eq!(status(FilesError::Data("bad".into())), StatusCode::INTERNAL_SERVER_ERROR);
		assert!(Failure::from(FilesError::Busy("sending".into())).transient);
	}
}
