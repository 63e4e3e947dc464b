//! `cairn-node client …` and `cairn-node provider …`: command-line views of the storage market,
//! read from a running node over its JSON-RPC (`cairn_*` methods), and uploads and downloads
//! through the node's client API, with the node's token.

use std::fmt::Write as _;

use jsonrpsee::{
	core::client::ClientT,
	rpc_params,
	ws_client::{WsClient, WsClientBuilder},
};
use serde_json::Value;

use crate::cli::{ClientAction, ClientCmd, ProviderAction, ProviderCmd};

/// Planck per CAIRN.
const PLANCK_PER_CAIRN: u128 = 1_000_000_000_000;

/// Why a command failed, in words for its user.
pub type Error = String;

/// Runs a `client` subcommand.
pub fn run_client(cmd: &ClientCmd) -> Result<(), Error> {
	block_on(async {
		let text = match &cmd.action {
			ClientAction::Ls { owner } => {
				let rpc = connect(&cmd.rpc).await?;
				let contracts = request(&rpc, "cairn_contracts", rpc_params![owner]).await?;
				contract_list(&list(contracts, "cairn_contracts")?)
			}
			ClientAction::Put { file, k, m, duration, no_auto_renew, max_price, no_encrypt } => {
				let api = connect_api(cmd).await?;
				let path = absolute(file)?;
				let params = serde_json::json!({
					"path": path,
					"k": k,
					"m": m,
					"duration": duration,
					"autoRenew": !no_auto_renew,
					"maxPrice": max_price.map(|price| price.to_string()),
					"encrypt": !no_encrypt,
				});
				let done = follow(
					&api,
					"cairn_subscribeUpload",
					"cairn_unsubscribeUpload",
					params,
					upload_interrupted,
				)
				.await?;
				let mut text = format!(
					"contract {} stores {} in {} shards (k = {}, m = {}: {} nines a year); escrow \
					 {}\n{}\n",
					done["contract"],
					bytes(&done["bytes"]),
					done["providers"].as_array().map_or(0, Vec::len),
					done["k"],
					done["m"],
					done["nines"],
					cairn(&done["escrow"]),
					term_line(&done),
				);
				if let Some(warning) = done["warning"].as_str() {
					let _ = writeln!(text, "warning: {warning}");
				}
				text
			}
			ClientAction::Renew { contract, blocks, max_price } => {
				let api = connect_api(cmd).await?;
				let params = serde_json::json!({
					"contract": contract,
					"blocks": blocks,
					"maxPrice": max_price.map(|price| price.to_string()),
				});
				let done = request(&api, "cairn_renew", rpc_params![params]).await?;
				format!(
					"contract {contract} now ends at block {}; escrow {} more\n",
					number(&done["end"]),
					cairn(&done["escrow"])
				)
			}
			ClientAction::Get { contract, out } => {
				let api = connect_api(cmd).await?;
				let path = absolute(out)?;
				let params = serde_json::json!({ "contract": contract, "path": path });
				let done = follow(
					&api,
					"cairn_subscribeDownload",
					"cairn_unsubscribeDownload",
					params,
					download_interrupted,
				)
				.await?;
				format!("wrote {} to {}\n", bytes(&done["bytes"]), path)
			}
			ClientAction::Restore { dir } => {
				let api = connect_api(cmd).await?;
				std::fs::create_dir_all(dir)
					.map_err(|error| format!("{}: {error}", dir.display()))?;
				let files =
					list(request(&api, "cairn_files", rpc_params![]).await?, "cairn_files")?;
				let mut failed = Vec::new();
				for file in &files {
					let contract = &file["contract"];
					let Some(name) = file["name"].as_str() else {
						failed.push(format!("contract {contract}: {}", file["problem"]));
						continue;
					};
					let path = absolute(&dir.join(restored_name(contract, name)))?;
					let params = serde_json::json!({ "contract": contract, "path": path });
					match follow(
						&api,
						"cairn_subscribeDownload",
						"cairn_unsubscribeDownload",
						params,
						download_interrupted,
					)
					.await
					{
						Ok(done) => println!("wrote {} to {path}", bytes(&done["bytes"])),
						Err(error) => failed.push(format!("contract {contract}: {error}")),
					}
				}
				if !failed.is_empty() {
					return Err(format!(
						"{} of {} files not restored:\n{}",
						failed.len(),
						files.len(),
						failed.join("\n")
					));
				}
				format!("restored {} files into {}\n", files.len(), dir.display())
			}
			ClientAction::Status { contract } => {
				let rpc = connect(&cmd.rpc).await?;
				let found = request(&rpc, "cairn_contract", rpc_params![contract]).await?;
				if found.is_null() {
					return Err(format!("contract {contract} not found"));
				}
				// The renewal is the uploading node's business: shown when its API answers.
				let file = match connect_api(cmd).await {
					Ok(api) => request(&api, "cairn_file", rpc_params![contract]).await.ok(),
					Err(_) => None,
				};
				let mut text = contract_status(&found);
				if let Some(file) = file {
					text.push_str(&renewal_status(&file));
				}
				text
			}
		};
		print!("{text}");
		Ok(())
	})
}

/// Runs a `provider` subcommand.
pub fn run_provider(cmd: &ProviderCmd) -> Result<(), Error> {
	block_on(async {
		let rpc = connect(&cmd.rpc).await?;
		let ProviderAction::Status { account } = &cmd.action;
		let providers =
			list(request(&rpc, "cairn_providers", rpc_params![]).await?, "cairn_providers")?;
		let provider = providers
			.iter()
			.find(|provider| provider["account"].as_str() == Some(account.as_str()))
			.ok_or_else(|| format!("{account} is not a registered provider"))?;
		let earnings = match rpc
			.request::<Value, _>("cairn_providerEarnings", rpc_params![account.as_str()])
			.await
		{
			Ok(earnings) => Some(earnings),
			// A node from before the method still shows the record.
			Err(jsonrpsee::core::ClientError::Call(error))
				if error.code() == jsonrpsee::types::error::METHOD_NOT_FOUND_CODE =>
			{
				None
			}
			Err(error) => return Err(format!("cairn_providerEarnings: {error}")),
		};
		print!("{}", provider_status(provider, earnings.as_ref()));
		Ok(())
	})
}

/// Where `client restore` writes the file `name` of `contract`: the contract id, then the last
/// part of the name it was stored under (never a directory of it).
fn restored_name(contract: &Value, name: &str) -> String {
	let base = std::path::Path::new(name)
		.file_name()
		.and_then(|base| base.to_str())
		.filter(|base| !base.is_empty() && *base != "inline data")
		.unwrap_or("file");
	format!("{contract}-{base}")
}

/// `path` made absolute (the node resolves paths from its own working directory).
fn absolute(path: &std::path::Path) -> Result<String, Error> {
	let path = std::path::absolute(path).map_err(|error| format!("{}: {error}", path.display()))?;
	path.to_str().map(str::to_string).ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// Follows a progress subscription to its end, drawing a progress bar on standard error;
/// returns the last (`done`) update.
async fn follow(
	rpc: &WsClient,
	subscribe: &str,
	unsubscribe: &str,
	params: Value,
	interrupted: fn(&Value) -> String,
) -> Result<Value, Error> {
	use jsonrpsee::core::client::SubscriptionClientT;
	let mut updates = rpc
		.subscribe::<Value, _>(subscribe, rpc_params![params], unsubscribe)
		.await
		.map_err(|error| format!("{subscribe}: {error}"))?;
	let mut bar = Progress::default();
	let mut last = Value::Null;
	loop {
		let update = tokio::select! {
			update = updates.next() => update,
			_ = tokio::signal::ctrl_c() => {
				bar.finish();
				eprintln!("interrupted: {}", interrupted(&last));
				std::process::exit(130);
			}
		};
		let Some(update) = update else { break };
		let update = update.map_err(|error| format!("{subscribe}: {error}"))?;
		match update["stage"].as_str() {
			Some("done") => {
				bar.finish();
				return Ok(update);
			}
			Some("error") => {
				bar.finish();
				return Err(update["message"].as_str().unwrap_or("failed").to_string());
			}
			_ => bar.show(&update),
		}
		last = update;
	}
	bar.finish();
	Err(format!("{subscribe}: the node closed the subscription"))
}

/// What an upload interrupted after `last` (its last progress update) leaves: once its
/// contract is signed, the node's upload journal finishes it.
fn upload_interrupted(last: &Value) -> String {
	match (last["stage"].as_str(), last["contract"].as_u64()) {
		(Some("submitted"), _) => "the contract was sent: the node finishes the upload on its own \
			 (from its upload journal), or finds that the contract was not made and nothing was \
			 paid; `client ls` shows it"
			.into(),
		(_, Some(contract)) => format!(
			"the node finishes storing contract {contract} on its own (from its upload \
			 journal); `client status {contract}` shows it"
		),
		_ => "no contract was made and nothing was paid".into(),
	}
}

fn download_interrupted(_: &Value) -> String {
	"the download stopped".into()
}

/// A one-line progress display on standard error.
#[derive(Default)]
struct Progress {
	drawn: bool,
}

impl Progress {
	fn show(&mut self, update: &Value) {
		use std::io::Write;
		let line = progress_line(update);
		let mut stderr = std::io::stderr();
		let _ = write!(stderr, "\r\x1b[2K{line}");
		let _ = stderr.flush();
		self.drawn = true;
	}

	fn finish(&mut self) {
		if self.drawn {
			eprintln!();
			self.drawn = false;
		}
	}
}

/// `sending [#########           ]  45% 12.0 MiB / 24.0 MiB`, or the stage and its details.
fn progress_line(update: &Value) -> String {
	const WIDTH: u64 = 30;
	let stage = update["stage"].as_str().unwrap_or("working");
	let done = update["sent"].as_u64().or_else(|| update["received"].as_u64());
	match (done, update["total"].as_u64()) {
		(Some(done), Some(total)) if total > 0 => {
			let filled = (done.min(total) * WIDTH / total) as usize;
			format!(
				"{stage:<10} [{}{}] {:>3}% {} / {}",
				"#".repeat(filled),
				" ".repeat(WIDTH as usize - filled),
				done.min(total) * 100 / total,
				bytes(&Value::from(done)),
				bytes(&Value::from(total)),
			)
		}
		_ => match (update["confirmed"].as_u64(), update["shards"].as_u64()) {
			(Some(confirmed), Some(shards)) => {
				format!("{stage:<10} {confirmed} of {shards} shards confirmed on chain")
			}
			_ => stage.to_string(),
		},
	}
}

fn block_on<T>(work: impl std::future::Future<Output = Result<T, Error>>) -> Result<T, Error> {
	tokio::runtime::Builder::new_current_thread()
		.enable_all()
		.build()
		.map_err(|error| format!("cannot start the async runtime: {error}"))?
		.block_on(work)
}

async fn connect(url: &str) -> Result<WsClient, Error> {
	WsClientBuilder::default()
		.build(url)
		.await
		.map_err(|error| format!("cannot reach the node at {url}: {error}"))
}

async fn connect_api(cmd: &ClientCmd) -> Result<WsClient, Error> {
	let token = api_token(&cmd.api, cmd.token.as_deref(), cmd.token_file.as_deref())?;
	api_client(&cmd.api, &token, None).await
}

/// The client API's token for `url`: `token`, else `$CAIRN_API_TOKEN`, else the file
/// `token_file`, else the copy a node on this machine leaves for the API's port.
pub fn api_token(
	url: &str,
	token: Option<&str>,
	token_file: Option<&std::path::Path>,
) -> Result<String, Error> {
	if let Some(token) = token.map(str::to_string).or_else(|| std::env::var("CAIRN_API_TOKEN").ok())
	{
		return Ok(token.trim().to_string());
	}
	let path = match token_file {
		Some(path) => path.to_path_buf(),
		None => url_port(url)
			.and_then(crate::api::local_token_path)
			.ok_or_else(|| format!("no token for {url}: give --token or --token-file"))?,
	};
	let token = std::fs::read_to_string(&path).map_err(|error| {
		format!(
			"cannot read the client API token from {}: {error} (is a node serving its client API \
			 on {url}? else give --token or --token-file)",
			path.display()
		)
	})?;
	Ok(token.trim().to_string())
}

/// A client of the node's client API at `url`, showing `token`.
pub async fn api_client(
	url: &str,
	token: &str,
	request_timeout: Option<std::time::Duration>,
) -> Result<WsClient, Error> {
	let mut headers = jsonrpsee::ws_client::HeaderMap::new();
	let bearer = jsonrpsee::ws_client::HeaderValue::from_str(&format!("Bearer {token}"))
		.map_err(|_| "the token has characters a header cannot carry".to_string())?;
	headers.insert("authorization", bearer);
	let mut builder = WsClientBuilder::default().set_headers(headers);
	if let Some(timeout) = request_timeout {
		builder = builder.request_timeout(timeout);
	}
	builder.build(url).await.map_err(|error| {
		format!(
			"cannot use the client API at {url}: {error} (401: the token is not the node's; 403: \
			 the request looked like a web page's)"
		)
	})
}

/// The port of a `ws://host:port` or `http://host:port` URL.
fn url_port(url: &str) -> Option<u16> {
	let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
	let authority = rest.split('/').next()?;
	authority.rsplit_once(':')?.1.parse().ok()
}

async fn request(
	rpc: &WsClient,
	method: &str,
	params: jsonrpsee::core::params::ArrayParams,
) -> Result<Value, Error> {
	rpc.request(method, params).await.map_err(|error| format!("{method}: {error}"))
}

fn list(value: Value, method: &str) -> Result<Vec<Value>, Error> {
	match value {
		Value::Array(items) => Ok(items),
		other => Err(format!("{method}: expected a list, got {other}")),
	}
}

/// `1234500000000` planck → `1.2345 CAIRN`.
pub fn cairn(planck: &Value) -> String {
	let Some(planck) = planck.as_str().and_then(|text| text.parse::<u128>().ok()) else {
		return "?".into();
	};
	let whole = planck / PLANCK_PER_CAIRN;
	let fraction = planck % PLANCK_PER_CAIRN;
	if fraction == 0 {
		return format!("{whole} CAIRN");
	}
	let digits = format!("{fraction:012}");
	format!("{whole}.{} CAIRN", digits.trim_end_matches('0'))
}

/// Bytes in binary units: `3145728` → `3.0 MiB`.
pub fn bytes(count: &Value) -> String {
	let Some(count) = count.as_u64() else { return "?".into() };
	const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
	let mut value = count as f64;
	let mut unit = 0;
	while value >= 1024.0 && unit + 1 < UNITS.len() {
		value /= 1024.0;
		unit += 1;
	}
	if unit == 0 {
		format!("{count} B")
	} else {
		format!("{value:.1} {}", UNITS[unit])
	}
}

fn number(value: &Value) -> String {
	value.as_u64().map(|n| n.to_string()).unwrap_or_else(|| "-".into())
}

fn text(value: &Value) -> &str {
	value.as_str().unwrap_or("?")
}

fn proofs(contract: &Value) -> u64 {
	contract["shards"]
		.as_array()
		.map(|shards| shards.iter().filter_map(|shard| shard["proofs"].as_u64()).sum())
		.unwrap_or(0)
}

fn contract_list(contracts: &[Value]) -> String {
	if contracts.is_empty() {
		return "no contracts\n".into();
	}
	let mut out = format!(
		"{:>6}  {:<48}  {:>10}  {:>5}  {:>9}  {:>6}  {:>20}  {:>20}\n",
		"id", "owner", "size", "k+m", "ends at", "proofs", "escrow left", "paid"
	);
	for contract in contracts {
		let _ = writeln!(
			out,
			"{:>6}  {:<48}  {:>10}  {:>5}  {:>9}  {:>6}  {:>20}  {:>20}",
			number(&contract["id"]),
			text(&contract["owner"]),
			bytes(&contract["bytes"]),
			format!("{}+{}", number(&contract["k"]), number(&contract["m"])),
			number(&contract["end"]),
			proofs(contract),
			cairn(&contract["escrow"]),
			cairn(&contract["paid"]),
		);
	}
	out
}

/// How long an upload keeps its file, and whether it is renewed.
fn term_line(upload: &Value) -> String {
	let days = upload["duration"].as_u64().unwrap_or_default() as f64
		/ f64::from(cairn_runtime::time::DAYS);
	let renewal = if upload["autoRenew"] == true {
		"renewed automatically while this node runs and its account can pay"
	} else {
		"not renewed automatically: `client renew` keeps it longer"
	};
	format!("kept until block {} ({days:.1} days), {renewal}", number(&upload["end"]))
}

/// The uploading node's view of a file's renewal (`cairn_file`), as status lines.
fn renewal_status(file: &Value) -> String {
	let mut out = String::new();
	if file["autoRenew"] == true {
		let _ = writeln!(
			out,
			"renewal      automatic, by {} blocks from block {} ({}% of the term left)",
			number(&file["term"]),
			number(&file["renewAt"]),
			number(&file["renewBelowPercent"]),
		);
	} else {
		let _ = writeln!(out, "renewal      by hand (`client renew`)");
	}
	if let Some(problem) = file["problem"].as_str() {
		let left = file["end"].as_u64().unwrap_or_default();
		let now = file["now"].as_u64().unwrap_or_default();
		let _ = writeln!(
			out,
			"             FAILING: {problem}; the contract ends in {} blocks",
			left.saturating_sub(now)
		);
	}
	out
}

fn contract_status(contract: &Value) -> String {
	let mut out = String::new();
	let _ = writeln!(out, "contract     {}", number(&contract["id"]));
	let _ = writeln!(out, "owner        {}", text(&contract["owner"]));
	let _ = writeln!(
		out,
		"coding       {} data + {} parity shards, {}",
		number(&contract["k"]),
		number(&contract["m"]),
		bytes(&contract["bytes"])
	);
	let _ = writeln!(
		out,
		"blocks       {} to {}",
		number(&contract["start"]),
		number(&contract["end"])
	);
	let _ = writeln!(out, "escrow left  {}", cairn(&contract["escrow"]));
	let _ = writeln!(out, "paid         {}", cairn(&contract["paid"]));
	let _ = writeln!(
		out,
		"\n{:>5}  {:<48}  {:<8}  {:>10}  {:>6}  {:>11}  {:>6}",
		"shard", "provider", "status", "size", "proofs", "last proven", "faults"
	);
	for shard in contract["shards"].as_array().map(Vec::as_slice).unwrap_or_default() {
		let mut status = text(&shard["status"]).to_string();
		if shard["repair"].as_bool() == Some(true) {
			status.push_str(" (repair)");
		}
		let _ = writeln!(
			out,
			"{:>5}  {:<48}  {:<8}  {:>10}  {:>6}  {:>11}  {:>6}",
			number(&shard["index"]),
			text(&shard["provider"]),
			status,
			bytes(&shard["bytes"]),
			number(&shard["proofs"]),
			number(&shard["lastProven"]),
			number(&shard["consecutiveFaults"]),
		);
	}
	out
}

fn provider_status(provider: &Value, earnings: Option<&Value>) -> String {
	let mut out = String::new();
	let _ = writeln!(out, "provider     {}", text(&provider["account"]));
	let mut status = text(&provider["status"]).to_string();
	if let Some(unlock_at) = provider["unlockAt"].as_u64() {
		let _ = write!(status, " (withdrawable from block {unlock_at})");
	}
	let _ = writeln!(out, "status       {status}");
	let _ = writeln!(out, "stake        {}", cairn(&provider["stake"]));
	let _ = writeln!(
		out,
		"capacity     {} ({} used by {} shards)",
		bytes(&provider["capacity"]),
		bytes(&provider["used"]),
		number(&provider["shards"])
	);
	let _ = writeln!(
		out,
		"price        {} planck per byte per block",
		text(&provider["pricePerByteBlock"])
	);
	let free = provider["capacity"].as_u64().zip(provider["used"].as_u64());
	let _ = writeln!(
		out,
		"headroom     {} of capacity free",
		bytes(&free.map_or(Value::Null, |(capacity, used)| capacity.saturating_sub(used).into()))
	);
	let _ = writeln!(out, "faults       {}", number(&provider["faults"]));
	match earnings {
		Some(earnings) => out.push_str(&earnings_lines(earnings)),
		None => {
			let _ =
				writeln!(out, "earnings     not shown: this node has no cairn_providerEarnings");
		}
	}
	let _ = writeln!(out, "peer id      {}", text(&provider["peerId"]));
	for address in provider["multiaddrs"].as_array().map(Vec::as_slice).unwrap_or_default() {
		let _ = writeln!(out, "address      {}", text(address));
	}
	out
}

/// The lines of `provider status` from `cairn_providerEarnings`: what the provider earns, what
/// it was paid, and the proofs it owes with their deadlines.
fn earnings_lines(earnings: &Value) -> String {
	let mut out = String::new();
	let _ = writeln!(
		out,
		"earnings     {} a period of {} blocks, from {} active shards ({} pending)",
		cairn(&earnings["perPeriod"]),
		number(&earnings["periodLength"]),
		number(&earnings["activeShards"]),
		number(&earnings["pendingShards"])
	);
	let _ = writeln!(
		out,
		"earned       {} so far from open contracts, less what slashes gave back",
		cairn(&earnings["earned"])
	);
	if let Some(period) = earnings["period"].as_u64() {
		let _ = write!(
			out,
			"proofs due   {} for period {period} by block {}",
			number(&earnings["due"]),
			number(&earnings["dueBy"])
		);
		if let Some(late) = earnings["latePeriod"].as_u64() {
			let _ = write!(
				out,
				"; {} for period {late} (in its grace) by block {}",
				number(&earnings["late"]),
				number(&earnings["lateBy"])
			);
		}
		out.push('\n');
	}
	out
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	#[test]
	fn provider_status_shows_earnings_and_the_proofs_due() {
		let provider = json!({
			"account": "5Provider", "status": "active", "stake": "1000000000000000",
			"capacity": 1u64 << 30, "used": 1u64 << 20, "shards": 1, "pricePerByteBlock": "1",
			"faults": 0, "peerId": "12D3Koo", "multiaddrs": ["/ip4/127.0.0.1/tcp/1"],
		});
		let earnings = json!({
			"perPeriod": "20000000", "periodLength": 20, "activeShards": 1, "pendingShards": 0,
			"earned": "40000000", "period": 7, "due": 1, "dueBy": 180, "late": 1,
			"latePeriod": 6, "lateBy": 160,
		});
		let text = provider_status(&provider, Some(&earnings));
		assert!(text.contains("from 1 active shards (0 pending)"), "{text}");
		assert!(
			text.contains("proofs due   1 for period 7 by block 180; 1 for period 6 (in its grace) by block 160"),
			"{text}"
		);
		// The first period has no period in its grace.
		let first = json!({ "period": 0, "due": 2, "dueBy": 40, "latePeriod": null });
		assert!(earnings_lines(&first).contains("2 for period 0 by block 40\n"));
		// A node without the method still shows the record.
		let text = provider_status(&provider, None);
		assert!(text.contains("stake") && text.contains("not shown"), "{text}");
	}

	#[test]
	fn a_restored_file_is_named_after_its_contract_and_base_name_only() {
		let id = json!(7);
		assert_eq!(restored_name(&id, "/home/ada/photos/cat.jpg"), "7-cat.jpg");
		assert_eq!(restored_name(&id, "…/photos/cat.jpg"), "7-cat.jpg");
		assert_eq!(restored_name(&id, "../../etc/passwd"), "7-passwd");
		assert_eq!(restored_name(&id, ".."), "7-file");
		assert_eq!(restored_name(&id, "/"), "7-file");
		assert_eq!(restored_name(&id, "inline data"), "7-file");
	}

	#[test]
	fn the_api_port_comes_from_its_url() {
		assert_eq!(url_port("ws://127.0.0.1:9966"), Some(9966));
		assert_eq!(url_port("ws://[::1]:9966/"), Some(9966));
		assert_eq!(url_port("http://node.example:80/x"), Some(80));
		assert_eq!(url_port("ws://127.0.0.1"), None);
	}

	#[test]
	fn progress_reads_as_a_bar_or_a_stage() {
		let line =
			progress_line(&serde_json::json!({ "stage": "sending", "sent": 512, "total": 1024 }));
		assert!(line.starts_with("sending    [###############               ]  50% "), "{line}");
		let line = progress_line(
			&serde_json::json!({ "stage": "confirming", "confirmed": 4, "shards": 6 }),
		);
		assert_eq!(line, "confirming 4 of 6 shards confirmed on chain");
		assert_eq!(progress_line(&serde_json::json!({ "stage": "encoding" })), "encoding");
	}

	#[test]
	fn amounts_and_sizes_read_like_a_wallet() {
		assert_eq!(cairn(&json!("1000000000000000")), "1000 CAIRN");
		assert_eq!(cairn(&json!("3145728")), "0.000003145728 CAIRN");
		assert_eq!(cairn(&json!("1500000000000")), "1.5 CAIRN");
		assert_eq!(cairn(&json!(12)), "?");
		assert_eq!(bytes(&json!(1000)), "1000 B");
		assert_eq!(bytes(&json!(3u64 << 20)), "3.0 MiB");
		assert_eq!(bytes(&json!(1u64 << 40)), "1.0 TiB");
	}

	#[test]
	fn a_contract_prints_one_line_per_shard() {
		let contract = json!({
			"id": 4, "owner": "owner", "k": 2, "m": 1, "start": 3, "end": 303,
			"escrow": "1000", "paid": "0", "bytes": 3072,
			"shards": [
				{ "index": 0, "provider": "a", "status": "active", "bytes": 1024, "proofs": 2,
				  "lastProven": 5, "consecutiveFaults": 0, "repair": false },
				{ "index": 1, "provider": "b", "status": "lost", "bytes": 1024, "proofs": 0,
				  "lastProven": null, "consecutiveFaults": 3, "repair": false },
				{ "index": 2, "provider": "c", "status": "pending", "bytes": 1024, "proofs": 0,
				  "lastProven": null, "consecutiveFaults": 0, "repair": true },
			],
		});
		let text = contract_status(&contract);
		assert!(text.contains("2 data + 1 parity shards, 3.0 KiB"), "{text}");
		assert!(text.lines().any(|line| line.contains(" a ") && line.contains("active")));
		assert!(text.contains("pending (repair)"));
		let list = contract_list(&[contract]);
		assert_eq!(list.lines().count(), 2);
		assert!(list.lines().nth(1).unwrap().contains("2+1"));
	}
	#[test]
	fn renewal_says_when_it_fails_and_how_long_is_left() {
		let file = json!({
			"autoRenew": true, "term": 1200, "renewAt": 4000, "renewBelowPercent": 25,
			"end": 4300, "now": 4100, "problem": "insufficient balance: …",
		});
		let text = renewal_status(&file);
		assert!(text.contains("automatic, by 1200 blocks from block 4000 (25% of the term left)"));
		assert!(text.contains("FAILING: insufficient balance: …; the contract ends in 200 blocks"));
		let by_hand = renewal_status(&json!({ "autoRenew": false, "problem": null }));
		assert_eq!(by_hand, "renewal      by hand (`client renew`)\n");
		let upload = json!({ "end": 1_296_001, "duration": 1_296_000, "autoRenew": true });
		assert_eq!(
			term_line(&upload),
			"kept until block 1296001 (30.0 days), renewed automatically while this node runs and \
			 its account can pay"
		);
	}
}
