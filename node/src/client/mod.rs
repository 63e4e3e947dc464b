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

use crate::cli::{ClientAction, ClientCmd, Output, ProviderAction, ProviderCmd};

mod format;
mod objects;
mod progress;

use progress::Progress;

pub use format::{bytes, cairn};
use format::{
	contract_list, contract_status, contracts_of, file_list, number, provider_status, quote_lines,
	renewal_status, term_line,
};

/// Planck per CAIRN.
const PLANCK_PER_CAIRN: u128 = 1_000_000_000_000;

/// Why a command failed, in words for its user.
pub type Error = String;

/// Runs a `client` subcommand.
pub fn run_client(cmd: &ClientCmd) -> Result<(), Error> {
	block_on(async {
		let text = match &cmd.action {
			ClientAction::Ls { prefix, owner, all, output } => {
				let listed = if *all || owner.is_some() {
					let rpc = connect(&cmd.rpc).await?;
					let contracts = request(&rpc, "cairn_contracts", rpc_params![owner]).await?;
					list(contracts, "cairn_contracts")?
				} else {
					let api = connect_api(cmd).await?;
					let prefix = prefix.as_deref().unwrap_or_default();
					list(request(&api, "cairn_files", rpc_params![]).await?, "cairn_files")?
						.into_iter()
						.filter(|file| file["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
						.collect()
				};
				match output {
					Output::Json => format!("{:#}\n", Value::Array(listed)),
					Output::Text if *all || owner.is_some() => contract_list(&listed),
					Output::Text => file_list(&listed),
				}
			}
			ClientAction::Put { file, name, options, no_auto_renew } => {
				let mut params = options.params();
				params["autoRenew"] = (!no_auto_renew).into();
				let stdin = file.as_os_str() == "-";
				let done = if stdin || !objects::on_this_machine(&cmd.api) {
					let name = match name {
						Some(name) => name.clone(),
						None if stdin => {
							return Err("give --name for a file from standard input".into())
						}
						None => absolute(file)?,
					};
					let api = objects::Api::new(&cmd.api, &api_token_of(cmd)?)?;
					if stdin {
						api.put(&name, &params, tokio::io::stdin(), None).await?
					} else {
						let source = tokio::fs::File::open(file)
							.await
							.map_err(|error| format!("{}: {error}", file.display()))?;
						let size = source.metadata().await.ok().map(|m| m.len());
						api.put(&name, &params, source, size).await?
					}
				} else {
					let api = connect_api(cmd).await?;
					params["path"] = absolute(file)?.into();
					params["name"] = name.clone().into();
					follow(
						&api,
						"cairn_subscribeUpload",
						"cairn_unsubscribeUpload",
						params,
						upload_interrupted,
					)
					.await?
				};
				let stores = match done["contracts"].as_array() {
					Some(contracts) => format!(
						"{} store {} in {} segments, each",
						contracts_of(&done),
						bytes(&done["bytes"]),
						contracts.len()
					),
					None => format!("{} stores {}", contracts_of(&done), bytes(&done["bytes"])),
				};
				let mut text = format!(
					"{stores} in {} shards (k = {}, m = {}: {} nines a year); escrow {}\n{}\n",
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
			ClientAction::Quote { file, options, output } => {
				let size = std::fs::metadata(file)
					.ok()
					.filter(std::fs::Metadata::is_file)
					.ok_or_else(|| format!("{} is not a readable file", file.display()))?
					.len();
				let api = connect_api(cmd).await?;
				let mut params = options.params();
				params["bytes"] = size.into();
				let quote = request(&api, "cairn_quoteUpload", rpc_params![params]).await?;
				match output {
					Output::Json => format!("{quote:#}\n"),
					Output::Text => quote_lines(&quote),
				}
			}
			ClientAction::Renew { file, blocks, max_price } => {
				let api = connect_api(cmd).await?;
				let mut params = objects::Which::parse(file).params();
				params["blocks"] = serde_json::json!(blocks);
				params["maxPrice"] = serde_json::json!(max_price.map(|price| price.to_string()));
				let done = request(&api, "cairn_renew", rpc_params![params]).await?;
				format!(
					"{} now {} at block {}; escrow {} more\n",
					contracts_of(&done),
					if done["contracts"].is_array() { "end" } else { "ends" },
					number(&done["end"]),
					cairn(&done["escrow"])
				)
			}
			ClientAction::Get { file, out } => {
				let which = objects::Which::parse(file);
				if out.as_os_str() == "-" {
					let api = objects::Api::new(&cmd.api, &api_token_of(cmd)?)?;
					let (contract, size) = api.get(which, &mut tokio::io::stdout()).await?;
					eprintln!("wrote {} of contract {contract}", bytes(&size.into()));
					String::new()
				} else if !objects::on_this_machine(&cmd.api) {
					let api = objects::Api::new(&cmd.api, &api_token_of(cmd)?)?;
					let (contract, size) = get_into(&api, which, out).await?;
					format!(
						"wrote {} of contract {contract} to {}\n",
						bytes(&size.into()),
						out.display()
					)
				} else {
					let api = connect_api(cmd).await?;
					let path = absolute(out)?;
					let params = match which {
						objects::Which::Contract(id) => {
							serde_json::json!({ "contract": id, "path": path })
						}
						objects::Which::Name(name) => {
							serde_json::json!({ "name": name, "path": path })
						}
					};
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
			}
			ClientAction::Rm { file } => {
				let api = connect_api(cmd).await?;
				let params = objects::Which::parse(file).params();
				let done = request(&api, "cairn_remove", rpc_params![params]).await?;
				format!(
					"ended {}: {} back to the account, {} paid to its providers\n",
					contracts_of(&done),
					cairn(&done["refunded"]),
					cairn(&done["paid"])
				)
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
	let mut bar = Progress::new();
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
	let interrupted = upload_interrupted_segment(last);
	match (last["segment"].as_u64(), last["segments"].as_u64()) {
		(Some(segment), Some(segments)) if segment + 1 < segments => format!(
			"{interrupted}; the file's segments after segment {segment} (of {segments}) were not \
			 stored: `client ls` shows the file as incomplete, and `client rm` ends what is there"
		),
		_ => interrupted,
	}
}

/// What an upload interrupted after `last` leaves of the contract it was making.
fn upload_interrupted_segment(last: &Value) -> String {
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
	api_client(&cmd.api, &api_token_of(cmd)?, None).await
}

fn api_token_of(cmd: &ClientCmd) -> Result<String, Error> {
	api_token(&cmd.api, cmd.token.as_deref(), cmd.token_file.as_deref())
}

/// Downloads `which` over HTTP into `out`: written beside it and renamed over it once whole.
async fn get_into(
	api: &objects::Api,
	which: objects::Which<'_>,
	out: &std::path::Path,
) -> Result<(u64, u64), Error> {
	let mut partial = out.as_os_str().to_owned();
	partial.push(".part");
	let partial = std::path::PathBuf::from(partial);
	let file = tokio::fs::File::create(&partial)
		.await
		.map_err(|error| format!("{}: {error}", partial.display()))?;
	let mut writer = tokio::io::BufWriter::new(file);
	let got = api.get(which, &mut writer).await;
	let got = match got {
		Ok(got) => got,
		Err(error) => {
			let _ = tokio::fs::remove_file(&partial).await;
			return Err(error);
		}
	};
	tokio::fs::rename(&partial, out)
		.await
		.map_err(|error| format!("{}: {error}", out.display()))?;
	Ok(got)
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
			.and_then(cairn_rpc::api::local_token_path)
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

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	#[test]
	fn a_quote_reads_as_what_the_contract_would_hold() {
		let quote = json!({
			"bytes": 3_000_000, "k": 10, "m": 6, "shardBytes": 300_000, "nines": 9.5,
			"warning": null, "duration": 432_000, "maxPrice": "7",
			"escrow": "2500000000000", "deposits": "400000000000", "total": "2900000000000",
		});
		let text = quote_lines(&quote);
		assert!(text.contains("in 16 shards of"), "{text}");
		assert!(text.contains("k = 10, m = 6: 9.5 nines"), "{text}");
		assert!(text.contains("price at most 7 planck"), "{text}");
		assert!(!text.contains("warning"), "{text}");
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
}
