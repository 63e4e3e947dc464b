//! How the commands show what the node says: amounts, sizes, contracts and providers as text
//! for people.

use std::fmt::Write as _;

use serde_json::Value;

use super::PLANCK_PER_CAIRN;

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

pub(super) fn number(value: &Value) -> String {
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

pub(super) fn contract_list(contracts: &[Value]) -> String {
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

/// This account's files (`cairn_files`), by name.
pub(super) fn file_list(files: &[Value]) -> String {
	if files.is_empty() {
		return "no files\n".into();
	}
	let mut out = format!("{:>8}  {:>10}  {:>9}  name\n", "contract", "size", "ends at");
	for file in files {
		let mut name = match &file["name"] {
			Value::String(name) => name.escape_debug().to_string(),
			_ => format!("({})", text(&file["problem"])),
		};
		if let Some(contracts) = file["contracts"].as_array() {
			let _ = write!(name, " ({} segments", contracts.len());
			if let (Value::String(_), Some(problem)) = (&file["name"], file["problem"].as_str()) {
				let _ = write!(name, ": {problem}");
			}
			name.push(')');
		}
		let _ = writeln!(
			out,
			"{:>8}  {:>10}  {:>9}  {name}",
			number(&file["contract"]),
			bytes(&file["bytes"]),
			number(&file["end"]),
		);
	}
	out
}

/// The contracts a file's answer names: `contract 7`, or `contracts 7, 8, 9` for a file cut
/// into segments.
pub(super) fn contracts_of(done: &Value) -> String {
	match done["contracts"].as_array() {
		Some(contracts) => format!(
			"contracts {}",
			contracts.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
		),
		None => format!("contract {}", done["contract"]),
	}
}

/// A quote (`cairn_quoteUpload`) as lines: the coding, the shards, the price and what the
/// contract would hold.
pub(super) fn quote_lines(quote: &Value) -> String {
	let days = quote["duration"].as_u64().unwrap_or_default() as f64
		/ f64::from(cairn_runtime::time::DAYS);
	let shards = quote["k"].as_u64().unwrap_or_default() + quote["m"].as_u64().unwrap_or_default();
	let what = match quote["segments"].as_u64() {
		Some(segments) if segments > 1 => format!(
			"{} in {segments} segments of {}, one contract each,",
			bytes(&quote["bytes"]),
			bytes(&quote["segmentBytes"])
		),
		_ => bytes(&quote["bytes"]),
	};
	let mut out = format!(
		"{what} in {shards} shards of {} (k = {}, m = {}: {} nines a year), kept {} blocks \
		 ({days:.1} days)\nescrow {}, deposits up to {} (returned when the contract ends): {} in \
		 all\nprice at most {} planck per byte per block\n",
		bytes(&quote["shardBytes"]),
		quote["k"],
		quote["m"],
		quote["nines"],
		number(&quote["duration"]),
		cairn(&quote["escrow"]),
		cairn(&quote["deposits"]),
		cairn(&quote["total"]),
		text(&quote["maxPrice"]),
	);
	if let Some(warning) = quote["warning"].as_str() {
		let _ = writeln!(out, "warning: {warning}");
	}
	out
}

/// How long an upload keeps its file, and whether it is renewed.
pub(super) fn term_line(upload: &Value) -> String {
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
pub(super) fn renewal_status(file: &Value) -> String {
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

pub(super) fn contract_status(contract: &Value) -> String {
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

pub(super) fn provider_status(provider: &Value, earnings: Option<&Value>) -> String {
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
