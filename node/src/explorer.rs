//! Cairn's own block explorer: a static page built into the binary and served over plain HTTP.
//! The page itself talks to the node's WebSocket JSON-RPC (`cairn_*` and the standard methods);
//! this server only hands out the page, its script and style, and `config.json` telling the page
//! where that RPC server listens.

use std::{io, net::SocketAddr, time::Duration};

use tokio::{
	io::{AsyncReadExt, AsyncWriteExt},
	net::{TcpListener, TcpStream},
};

const INDEX: &str = include_str!("../explorer/index.html");
const SCRIPT: &str = include_str!("../explorer/explorer.js");
const STYLE: &str = include_str!("../explorer/explorer.css");

/// Largest request head accepted.
const MAX_REQUEST: usize = 16 * 1024;
/// Time a client has to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound explorer server.
pub struct Explorer {
	listener: TcpListener,
	config: String,
}

impl Explorer {
	/// Binds `address`; the page will connect to the RPC server at `rpc_url`.
	pub fn bind(address: SocketAddr, rpc_url: &str) -> io::Result<Self> {
		let listener = std::net::TcpListener::bind(address)?;
		listener.set_nonblocking(true)?;
		let config = serde_json::json!({ "rpc": rpc_url }).to_string();
		Ok(Self { listener: TcpListener::from_std(listener)?, config })
	}

	/// Where it listens.
	pub fn local_addr(&self) -> io::Result<SocketAddr> {
		self.listener.local_addr()
	}

	/// Serves until the task is dropped.
	pub async fn serve(self) {
		loop {
			match self.listener.accept().await {
				Ok((stream, _)) => {
					let config = self.config.clone();
					tokio::spawn(async move {
						if let Err(error) = respond(stream, &config).await {
							log::debug!(target: "explorer", "request failed: {error}");
						}
					});
				}
				Err(error) => {
					log::warn!(target: "explorer", "accept failed: {error}");
					tokio::time::sleep(Duration::from_millis(100)).await;
				}
			}
		}
	}
}

/// Reads the request head (up to the blank line).
async fn read_head(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
	let mut head = Vec::with_capacity(1024);
	let mut chunk = [0u8; 1024];
	while !head.windows(4).any(|window| window == b"\r\n\r\n") {
		if head.len() > MAX_REQUEST {
			return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too large"));
		}
		let read = stream.read(&mut chunk).await?;
		if read == 0 {
			break;
		}
		head.extend_from_slice(&chunk[..read]);
	}
	Ok(head)
}

/// Status line, content type and body for a request line.
fn route<'a>(request_line: &str, config: &'a str) -> (&'static str, &'static str, &'a str) {
	let mut parts = request_line.split_whitespace();
	let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
		return ("400 Bad Request", "text/plain; charset=utf-8", "bad request\n");
	};
	if method != "GET" && method != "HEAD" {
		return ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET and HEAD\n");
	}
	match target.split(['?', '#']).next().unwrap_or_default() {
		"/" | "/index.html" => ("200 OK", "text/html; charset=utf-8", INDEX),
		"/explorer.js" => ("200 OK", "text/javascript; charset=utf-8", SCRIPT),
		"/explorer.css" => ("200 OK", "text/css; charset=utf-8", STYLE),
		"/config.json" => ("200 OK", "application/json", config),
		_ => ("404 Not Found", "text/plain; charset=utf-8", "not found\n"),
	}
}

async fn respond(mut stream: TcpStream, config: &str) -> io::Result<()> {
	let head = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream))
		.await
		.map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "request not received in time"))??;
	let head = String::from_utf8_lossy(&head);
	let request_line = head.lines().next().unwrap_or_default();
	let (status, content_type, body) = route(request_line, config);
	let mut response = format!(
		"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
		 Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
		body.len()
	)
	.into_bytes();
	if !request_line.starts_with("HEAD ") {
		response.extend_from_slice(body.as_bytes());
	}
	stream.write_all(&response).await?;
	stream.shutdown().await
}

#[cfg(test)]
mod tests {
	use super::*;

	async fn get(address: SocketAddr, request: &str) -> String {
		let mut stream = TcpStream::connect(address).await.expect("connects");
		stream.write_all(request.as_bytes()).await.expect("sends");
		let mut response = String::new();
		stream.read_to_string(&mut response).await.expect("reads");
		response
	}

	#[tokio::test]
	async fn serves_the_page_its_assets_and_the_rpc_address() {
		let explorer =
			Explorer::bind("127.0.0.1:0".parse().unwrap(), "ws://127.0.0.1:9944").expect("binds");
		let address = explorer.local_addr().unwrap();
		let server = tokio::spawn(explorer.serve());

		let page = get(address, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
		assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
		assert!(page.contains("text/html") && page.contains("explorer.js"));
		let script = get(address, "GET /explorer.js HTTP/1.1\r\n\r\n").await;
		assert!(script.contains("text/javascript") && script.ends_with(SCRIPT));
		let config = get(address, "GET /config.json?x=1 HTTP/1.1\r\n\r\n").await;
		assert!(config.ends_with(r#"{"rpc":"ws://127.0.0.1:9944"}"#), "{config}");
		let head = get(address, "HEAD /explorer.css HTTP/1.1\r\n\r\n").await;
		assert!(head.starts_with("HTTP/1.1 200 OK") && head.ends_with("\r\n\r\n"));
		let missing = get(address, "GET /../../etc/passwd HTTP/1.1\r\n\r\n").await;
		assert!(missing.starts_with("HTTP/1.1 404 Not Found"));
		let post = get(address, "POST / HTTP/1.1\r\n\r\n").await;
		assert!(post.starts_with("HTTP/1.1 405"));
		server.abort();
	}
}
