//! The S3 operations, over the client service's files.

use std::{
	collections::BTreeMap,
	io,
	path::Path,
	sync::Arc,
	time::{Duration, UNIX_EPOCH},
};

use pallet_market::ContractId;
use s3s::{
	dto::{self, StreamingBlob, Timestamp},
	s3_error, S3Error, S3ErrorCode, S3Request, S3Response, S3Result, S3,
};

use cairn_files::{
	check_name, largest_upload, spool::read_range, DownloadParams, Files, FilesError, RemoveParams,
	SpoolError, StoredFile, UploadParams,
};

use crate::{
	buckets::Buckets,
	multipart::{MultipartError, Uploads},
};

/// Most keys a listing returns at once, as S3's.
const MAX_KEYS: usize = 1000;

/// The S3 service over one node's files.
pub struct Gateway {
	files: Arc<Files>,
	buckets: Buckets,
	uploads: Uploads,
}

/// The name of object `key` in `bucket`.
fn object_name(bucket: &str, key: &str) -> S3Result<String> {
	let name = format!("{bucket}/{key}");
	if key.is_empty() {
		return Err(s3_error!(InvalidArgument, "an object's key is not empty"));
	}
	check_name(&name).map_err(|error| {
		let code = if name.len() > cairn_files::MAX_NAME_BYTES {
			S3ErrorCode::KeyTooLongError
		} else {
			S3ErrorCode::InvalidArgument
		};
		S3Error::with_message(code, format!("bucket and key: {error}"))
	})?;
	Ok(name)
}

/// Whether `name` follows S3's rules for bucket names: 3 to 63 lowercase letters, digits, dots
/// and hyphens, a letter or digit at each end, no two dots together, and not an IPv4 address.
fn valid_bucket(name: &str) -> bool {
	let alnum = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
	(3..=63).contains(&name.len())
		&& name
			.bytes()
			.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
		&& alnum(name.bytes().next())
		&& alnum(name.bytes().last())
		&& !name.contains("..")
		&& name.parse::<std::net::Ipv4Addr>().is_err()
}

/// The S3 error for a failure of the client service.
fn files_error(error: FilesError) -> S3Error {
	let code = match &error {
		FilesError::NotFound(_) => S3ErrorCode::NoSuchKey,
		error if error.is_invalid() => S3ErrorCode::InvalidArgument,
		error if error.is_transient() => S3ErrorCode::ServiceUnavailable,
		_ => S3ErrorCode::InternalError,
	};
	S3Error::with_message(code, error.to_string())
}

fn spool_error(error: SpoolError) -> S3Error {
	match error {
		SpoolError::TooLarge { .. } => {
			S3Error::with_message(S3ErrorCode::EntityTooLarge, error.to_string())
		}
		SpoolError::Cut { .. } => {
			S3Error::with_message(S3ErrorCode::IncompleteBody, error.to_string())
		}
		SpoolError::Files(error) => files_error(error),
	}
}

fn multipart_error(error: MultipartError) -> S3Error {
	let code = match &error {
		MultipartError::NoSuchUpload(_) | MultipartError::OtherObject(_) => {
			S3ErrorCode::NoSuchUpload
		}
		MultipartError::Parts(message) if message.contains("ascending") => {
			S3ErrorCode::InvalidPartOrder
		}
		MultipartError::Parts(_) => S3ErrorCode::InvalidPart,
		MultipartError::TooLarge(_) => S3ErrorCode::EntityTooLarge,
		MultipartError::PartNumber(_) => S3ErrorCode::InvalidArgument,
		MultipartError::TooMany | MultipartError::Completing(_) => S3ErrorCode::InvalidRequest,
		MultipartError::Io(_) => S3ErrorCode::InternalError,
	};
	S3Error::with_message(code, error.to_string())
}

fn internal(what: &str, error: io::Error) -> S3Error {
	S3Error::with_message(S3ErrorCode::InternalError, format!("{what}: {error}"))
}

/// An object's etag: its contract, which a new upload of the same key changes.
fn etag(contract: ContractId) -> String {
	format!("\"cairn-{contract}\"")
}

fn timestamp(unix_ms: u64) -> Timestamp {
	Timestamp::from(UNIX_EPOCH + Duration::from_millis(unix_ms))
}

/// The S3 form of a listing's `StoredFile` under `key`.
fn object(key: String, file: &StoredFile) -> dto::Object {
	dto::Object {
		key: Some(key),
		size: Some(file.bytes as i64),
		e_tag: Some(etag(file.contract)),
		last_modified: Some(timestamp(file.stored_at_ms)),
		..Default::default()
	}
}

/// The objects of `bucket` among `files`, by key (the newest contract of each name).
fn objects(bucket: &str, files: Vec<StoredFile>) -> BTreeMap<String, StoredFile> {
	let prefix = format!("{bucket}/");
	files
		.into_iter()
		.filter_map(|file| Some((file.name.strip_prefix(&prefix)?.to_string(), file)))
		.collect()
}

/// The contracts of the files among `files` named `name`, oldest first.
fn contracts_named(name: &str, files: &[StoredFile]) -> Vec<ContractId> {
	files.iter().filter(|file| file.name == name).map(|file| file.contract).collect()
}

/// The newest file among `files` named `name`.
fn newest(name: &str, files: Vec<StoredFile>) -> S3Result<StoredFile> {
	files
		.into_iter()
		.rfind(|file| file.name == name)
		.ok_or_else(|| s3_error!(NoSuchKey, "no object {name:?}"))
}

/// One page of a listing of `objects` (by key, each key once): those after `after` that begin
/// with `prefix`, with the keys that go on past a `delimiter` after the prefix rolled up into
/// common prefixes. Returns the objects, the common prefixes, and where the next page starts
/// if there is one.
fn list_page<'a, T>(
	objects: &'a BTreeMap<String, T>,
	prefix: &str,
	delimiter: Option<&str>,
	after: Option<&str>,
	max_keys: usize,
) -> (Vec<(&'a String, &'a T)>, Vec<String>, Option<String>) {
	let (mut found, mut prefixes) = (Vec::new(), Vec::<String>::new());
	let start = std::ops::Bound::Excluded(after.unwrap_or_default().to_string());
	let mut range = objects
		.range::<String, _>((start, std::ops::Bound::Unbounded))
		.filter(|(key, _)| key.starts_with(prefix))
		// A page that ended on a common prefix goes on after every key under it.
		.filter(|(key, _)| {
			let under = |after: &str| {
				delimiter.is_some_and(|d| !d.is_empty() && after.ends_with(d))
					&& key.starts_with(after)
			};
			!after.is_some_and(under)
		})
		.peekable();
	let mut last = None;
	while let Some((key, value)) = range.next() {
		if found.len() + prefixes.len() == max_keys {
			return (found, prefixes, last);
		}
		let rolled = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
			key[prefix.len()..].find(d).map(|at| key[..prefix.len() + at + d.len()].to_string())
		});
		match rolled {
			Some(common) => {
				// Skip the rest under it.
				while range.peek().is_some_and(|(next, _)| next.starts_with(&common)) {
					range.next();
				}
				last = Some(common.clone());
				prefixes.push(common);
			}
			None => {
				last = Some(key.clone());
				found.push((key, value));
			}
		}
	}
	(found, prefixes, None)
}

impl Gateway {
	/// The gateway over `files`, its state under `dir`.
	pub fn open(dir: &Path, files: Arc<Files>) -> io::Result<Self> {
		use std::os::unix::fs::DirBuilderExt;
		std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
		Ok(Self {
			files,
			buckets: Buckets::open(&dir.join("buckets.json"))?,
			uploads: Uploads::open(&dir.join("multipart"))?,
		})
	}

	/// This account's files: each call reads them once, and what it answers is derived from
	/// that one reading.
	fn stored_files(&self) -> S3Result<Vec<StoredFile>> {
		self.files.stored_files().map_err(files_error)
	}

	/// The buckets: those made here, and those `files`' names carry; when each was made.
	fn all_buckets(&self, files: &[StoredFile]) -> BTreeMap<String, u64> {
		let mut buckets = self.buckets.all();
		for file in files {
			// Only names whose first part could be a bucket's (not `/home/…`, which a
			// `client put` of a path makes).
			if let Some((bucket, _)) = file.name.split_once('/').filter(|(b, _)| valid_bucket(b)) {
				let made = buckets.entry(bucket.to_string()).or_insert(file.stored_at_ms);
				*made = (*made).min(file.stored_at_ms);
			}
		}
		buckets
	}

	/// This account's files, once `bucket` is known to exist.
	fn bucket(&self, bucket: &str) -> S3Result<Vec<StoredFile>> {
		let files = self.stored_files()?;
		if self.all_buckets(&files).contains_key(bucket) {
			Ok(files)
		} else {
			Err(s3_error!(NoSuchBucket, "no bucket {bucket:?}"))
		}
	}

	/// The name of object `key` in `bucket`, which must exist, and this account's files.
	fn object_in(&self, bucket: &str, key: &str) -> S3Result<(String, Vec<StoredFile>)> {
		let name = object_name(bucket, key)?;
		Ok((name, self.bucket(bucket)?))
	}

	/// Stores `spooled` under `name`, then ends the contracts of the `older` files of that name.
	async fn store(
		&self,
		spooled: cairn_files::spool::Spooled,
		name: String,
		older: Vec<ContractId>,
	) -> S3Result<ContractId> {
		let params = UploadParams { name: Some(name.clone()), ..Default::default() };
		let stored = self.files.store_spooled(spooled, params).await.map_err(files_error)?;
		if let Err(error) = self.end(older).await {
			log::warn!(target: "cairn-s3", "{name:?}: its replaced content's contract not ended: {error}");
		}
		Ok(stored["contract"].as_u64().unwrap_or_default())
	}

	/// Ends `contracts` now.
	async fn end(&self, contracts: Vec<ContractId>) -> S3Result<()> {
		for contract in contracts {
			let which = RemoveParams { contract: Some(contract), name: None };
			self.files.remove(which).await.map_err(files_error)?;
		}
		Ok(())
	}
}

#[async_trait::async_trait]
impl S3 for Gateway {
	async fn create_bucket(
		&self,
		req: S3Request<dto::CreateBucketInput>,
	) -> S3Result<S3Response<dto::CreateBucketOutput>> {
		let bucket = req.input.bucket;
		if !valid_bucket(&bucket) {
			return Err(s3_error!(
				InvalidBucketName,
				"{bucket:?}: a bucket's name has 3 to 63 lowercase letters, digits, dots and \
				 hyphens, and begins and ends with a letter or digit"
			));
		}
		if self.all_buckets(&self.stored_files()?).contains_key(&bucket) {
			return Err(s3_error!(BucketAlreadyOwnedByYou, "bucket {bucket:?} exists"));
		}
		self.buckets.make(&bucket).map_err(|e| internal("recording the bucket", e))?;
		let output = dto::CreateBucketOutput { location: Some(format!("/{bucket}")) };
		Ok(S3Response::new(output))
	}

	async fn delete_bucket(
		&self,
		req: S3Request<dto::DeleteBucketInput>,
	) -> S3Result<S3Response<dto::DeleteBucketOutput>> {
		let bucket = req.input.bucket;
		let files = self.bucket(&bucket)?;
		if !objects(&bucket, files).is_empty() {
			return Err(s3_error!(BucketNotEmpty, "bucket {bucket:?} holds objects"));
		}
		self.buckets.forget(&bucket).map_err(|e| internal("forgetting the bucket", e))?;
		Ok(S3Response::new(dto::DeleteBucketOutput {}))
	}

	async fn head_bucket(
		&self,
		req: S3Request<dto::HeadBucketInput>,
	) -> S3Result<S3Response<dto::HeadBucketOutput>> {
		self.bucket(&req.input.bucket)?;
		Ok(S3Response::new(dto::HeadBucketOutput::default()))
	}

	async fn list_buckets(
		&self,
		_req: S3Request<dto::ListBucketsInput>,
	) -> S3Result<S3Response<dto::ListBucketsOutput>> {
		let buckets = self
			.all_buckets(&self.stored_files()?)
			.into_iter()
			.map(|(name, made)| dto::Bucket {
				name: Some(name),
				creation_date: Some(timestamp(made)),
				..Default::default()
			})
			.collect();
		Ok(S3Response::new(dto::ListBucketsOutput { buckets: Some(buckets), ..Default::default() }))
	}

	async fn put_object(
		&self,
		req: S3Request<dto::PutObjectInput>,
	) -> S3Result<S3Response<dto::PutObjectOutput>> {
		let input = req.input;
		let (name, _) = self.object_in(&input.bucket, &input.key)?;
		let limit = largest_upload();
		if let Some(declared) = input.content_length.filter(|length| *length as u64 > limit) {
			return Err(spool_error(SpoolError::TooLarge { received: declared as u64, limit }));
		}
		let body = input.body.ok_or_else(|| s3_error!(IncompleteBody, "no body"))?;
		let (spooled, size) = self.files.spool_stream(body, limit).await.map_err(spool_error)?;
		// Those stored by now, the body in.
		let older = contracts_named(&name, &self.stored_files()?);
		let contract = self.store(spooled, name, older).await?;
		let output = dto::PutObjectOutput {
			e_tag: Some(etag(contract)),
			size: Some(size as i64),
			..Default::default()
		};
		Ok(S3Response::new(output))
	}

	async fn get_object(
		&self,
		req: S3Request<dto::GetObjectInput>,
	) -> S3Result<S3Response<dto::GetObjectOutput>> {
		let input = req.input;
		let (name, files) = self.object_in(&input.bucket, &input.key)?;
		let file = newest(&name, files)?;
		let range = input.range.map(|range| range.check(file.bytes)).transpose()?;
		// A range is fetched alone: of a file cut into segments, only the segments that hold it.
		let which = DownloadParams {
			contract: Some(file.contract),
			range: range.as_ref().filter(|r| r.end > r.start).map(|r| [r.start, r.end - 1]),
			..Default::default()
		};
		let (decoded, _) = self.files.download_spooled(which).await.map_err(files_error)?;
		let (first, end) = range.as_ref().map_or((0, file.bytes), |r| (r.start, r.end));
		let body =
			read_range(decoded, 0, end - first).map_err(|e| internal("reading the download", e))?;
		let output = dto::GetObjectOutput {
			body: Some(StreamingBlob::wrap(body)),
			content_length: Some((end - first) as i64),
			content_range: range.map(|r| format!("bytes {}-{}/{}", r.start, r.end - 1, file.bytes)),
			accept_ranges: Some("bytes".into()),
			e_tag: Some(etag(file.contract)),
			last_modified: Some(timestamp(file.stored_at_ms)),
			..Default::default()
		};
		Ok(S3Response::new(output))
	}

	async fn head_object(
		&self,
		req: S3Request<dto::HeadObjectInput>,
	) -> S3Result<S3Response<dto::HeadObjectOutput>> {
		let input = req.input;
		let (name, files) = self.object_in(&input.bucket, &input.key)?;
		let file = newest(&name, files)?;
		let output = dto::HeadObjectOutput {
			content_length: Some(file.bytes as i64),
			accept_ranges: Some("bytes".into()),
			e_tag: Some(etag(file.contract)),
			last_modified: Some(timestamp(file.stored_at_ms)),
			..Default::default()
		};
		Ok(S3Response::new(output))
	}

	async fn delete_object(
		&self,
		req: S3Request<dto::DeleteObjectInput>,
	) -> S3Result<S3Response<dto::DeleteObjectOutput>> {
		let input = req.input;
		let (name, files) = self.object_in(&input.bucket, &input.key)?;
		// Every contract of the name; none is no error, as S3's.
		self.end(contracts_named(&name, &files)).await?;
		Ok(S3Response::new(dto::DeleteObjectOutput::default()))
	}

	async fn list_objects(
		&self,
		req: S3Request<dto::ListObjectsInput>,
	) -> S3Result<S3Response<dto::ListObjectsOutput>> {
		// Version 1 is version 2 with the marker for a start and the last key for the next.
		let v2 = self.list_objects_v2(req.map_input(Into::into)).await?;
		Ok(v2.map_output(|v2| dto::ListObjectsOutput {
			next_marker: v2
				.next_continuation_token
				.and_then(|token| String::from_utf8(hex::decode(token).ok()?).ok()),
			contents: v2.contents,
			common_prefixes: v2.common_prefixes,
			delimiter: v2.delimiter,
			is_truncated: v2.is_truncated,
			marker: v2.start_after,
			max_keys: v2.max_keys,
			name: v2.name,
			prefix: v2.prefix,
			..Default::default()
		}))
	}

	async fn list_objects_v2(
		&self,
		req: S3Request<dto::ListObjectsV2Input>,
	) -> S3Result<S3Response<dto::ListObjectsV2Output>> {
		let input = req.input;
		let objects = objects(&input.bucket, self.bucket(&input.bucket)?);
		let max_keys = match input.max_keys {
			Some(keys) if keys < 0 => return Err(s3_error!(InvalidArgument, "max-keys {keys}")),
			Some(keys) => (keys as usize).min(MAX_KEYS),
			None => MAX_KEYS,
		};
		let after = match &input.continuation_token {
			Some(token) => Some(
				hex::decode(token)
					.ok()
					.and_then(|bytes| String::from_utf8(bytes).ok())
					.ok_or_else(|| {
						s3_error!(InvalidArgument, "not a continuation token: {token:?}")
					})?,
			),
			None => input.start_after.clone(),
		};
		let prefix = input.prefix.clone().unwrap_or_default();
		let (found, prefixes, next) =
			list_page(&objects, &prefix, input.delimiter.as_deref(), after.as_deref(), max_keys);
		let output = dto::ListObjectsV2Output {
			name: Some(input.bucket),
			prefix: input.prefix,
			delimiter: input.delimiter,
			max_keys: Some(max_keys as i32),
			key_count: Some((found.len() + prefixes.len()) as i32),
			is_truncated: Some(next.is_some()),
			continuation_token: input.continuation_token,
			next_continuation_token: next.map(hex::encode),
			start_after: input.start_after,
			contents: Some(
				found.into_iter().map(|(key, file)| object(key.clone(), file)).collect(),
			),
			common_prefixes: Some(
				prefixes
					.into_iter()
					.map(|prefix| dto::CommonPrefix { prefix: Some(prefix) })
					.collect(),
			),
			..Default::default()
		};
		Ok(S3Response::new(output))
	}

	async fn create_multipart_upload(
		&self,
		req: S3Request<dto::CreateMultipartUploadInput>,
	) -> S3Result<S3Response<dto::CreateMultipartUploadOutput>> {
		let input = req.input;
		let (name, _) = self.object_in(&input.bucket, &input.key)?;
		let id = self.uploads.create(&name).map_err(multipart_error)?;
		let output = dto::CreateMultipartUploadOutput {
			bucket: Some(input.bucket),
			key: Some(input.key),
			upload_id: Some(id),
			..Default::default()
		};
		Ok(S3Response::new(output))
	}

	async fn upload_part(
		&self,
		req: S3Request<dto::UploadPartInput>,
	) -> S3Result<S3Response<dto::UploadPartOutput>> {
		let input = req.input;
		let name = object_name(&input.bucket, &input.key)?;
		let (path, room) = self
			.uploads
			.new_part(&input.upload_id, &name, input.part_number, largest_upload())
			.map_err(multipart_error)?;
		if let Some(declared) = input.content_length.filter(|length| *length as u64 > room) {
			return Err(spool_error(SpoolError::TooLarge {
				received: declared as u64,
				limit: room,
			}));
		}
		let body = input.body.ok_or_else(|| s3_error!(IncompleteBody, "no body"))?;
		let file = std::fs::OpenOptions::new()
			.write(true)
			.create_new(true)
			.open(&path)
			.map_err(|e| internal("writing the part", e))?;
		let written = cairn_files::spool::write_stream(file, body, room).await;
		if let Err(error) = written {
			let _ = std::fs::remove_file(&path);
			return Err(spool_error(error));
		}
		let etag = self.uploads.keep_part(&path, input.part_number).map_err(multipart_error)?;
		let output =
			dto::UploadPartOutput { e_tag: Some(format!("\"{etag}\"")), ..Default::default() };
		Ok(S3Response::new(output))
	}

	async fn complete_multipart_upload(
		&self,
		req: S3Request<dto::CompleteMultipartUploadInput>,
	) -> S3Result<S3Response<dto::CompleteMultipartUploadOutput>> {
		let input = req.input;
		let name = object_name(&input.bucket, &input.key)?;
		let listed: Vec<(i32, String)> = input
			.multipart_upload
			.and_then(|upload| upload.parts)
			.unwrap_or_default()
			.into_iter()
			.map(|part| (part.part_number.unwrap_or(0), part.e_tag.unwrap_or_default()))
			.collect();
		let id = input.upload_id;
		let parts = self
			.uploads
			.begin_completion(&id, &name, &listed, largest_upload())
			.map_err(multipart_error)?;
		let stored = async {
			let (spooled, file) = self.files.spool().map_err(files_error)?;
			let mut joined = tokio::fs::File::from_std(file);
			for part in &parts {
				let mut source = tokio::fs::File::open(&part.path)
					.await
					.map_err(|e| internal("reading a part", e))?;
				tokio::io::copy(&mut source, &mut joined)
					.await
					.map_err(|e| internal("joining the parts", e))?;
			}
			joined.sync_all().await.map_err(|e| internal("joining the parts", e))?;
			drop(joined);
			let older = contracts_named(&name, &self.stored_files()?);
			self.store(spooled, name, older).await
		}
		.await;
		self.uploads.finish(&id, stored.is_ok());
		let output = dto::CompleteMultipartUploadOutput {
			bucket: Some(input.bucket),
			key: Some(input.key),
			e_tag: Some(etag(stored?)),
			..Default::default()
		};
		Ok(S3Response::new(output))
	}

	async fn abort_multipart_upload(
		&self,
		req: S3Request<dto::AbortMultipartUploadInput>,
	) -> S3Result<S3Response<dto::AbortMultipartUploadOutput>> {
		let input = req.input;
		let name = object_name(&input.bucket, &input.key)?;
		self.uploads.abort(&input.upload_id, &name).map_err(multipart_error)?;
		Ok(S3Response::new(dto::AbortMultipartUploadOutput::default()))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn keys(names: &[&str]) -> BTreeMap<String, ()> {
		names.iter().map(|name| (name.to_string(), ())).collect()
	}

	#[test]
	fn listings_page_and_roll_up_common_prefixes() {
		let objects = keys(&["a.txt", "docs/1", "docs/2", "docs/sub/3", "photos/x.jpg", "z"]);
		let page = |prefix, delimiter, after, max| {
			let (found, prefixes, next) = list_page(&objects, prefix, delimiter, after, max);
			(found.into_iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(), prefixes, next)
		};
		assert_eq!(page("", None, None, 1000).0.len(), 6);
		assert_eq!(
			page("", Some("/"), None, 1000),
			(vec!["a.txt", "z"], vec!["docs/".to_string(), "photos/".to_string()], None)
		);
		assert_eq!(
			page("docs/", Some("/"), None, 1000),
			(vec!["docs/1", "docs/2"], vec!["docs/sub/".to_string()], None)
		);
		// Pages of two: objects and prefixes count alike, and a page never repeats one.
		let first = page("", Some("/"), None, 2);
		assert_eq!(first, (vec!["a.txt"], vec!["docs/".to_string()], Some("docs/".to_string())));
		let second = page("", Some("/"), first.2.as_deref(), 2);
		assert_eq!(second, (vec!["z"], vec!["photos/".to_string()], None));
		let first = page("docs/", None, None, 2);
		assert_eq!(first, (vec!["docs/1", "docs/2"], vec![], Some("docs/2".to_string())));
		assert_eq!(page("docs/", None, first.2.as_deref(), 2), (vec!["docs/sub/3"], vec![], None));
		assert_eq!(page("nothing/", Some("/"), None, 1000), (vec![], vec![], None));
		assert_eq!(page("", None, None, 0), (vec![], vec![], None));
	}

	#[test]
	fn bucket_names_follow_s3s_rules() {
		for good in ["abc", "backups", "my.photos-2026", &"a".repeat(63)] {
			assert!(valid_bucket(good), "{good}");
		}
		for bad in
			["ab", "Backups", "a_b", "-ab", "ab-", "a..b", "192.168.1.1", "", &"a".repeat(64)]
		{
			assert!(!valid_bucket(bad), "{bad}");
		}
	}

	#[test]
	fn names_are_bucket_and_key() {
		assert_eq!(object_name("photos", "2026/cat.jpg").unwrap(), "photos/2026/cat.jpg");
		let code = |bucket: &str, key: &str| object_name(bucket, key).unwrap_err().code().clone();
		assert_eq!(code("b", ""), S3ErrorCode::InvalidArgument);
		assert_eq!(code("b", "a\nb"), S3ErrorCode::InvalidArgument);
		assert_eq!(
			code("b", &"k".repeat(cairn_files::MAX_NAME_BYTES)),
			S3ErrorCode::KeyTooLongError
		);
	}

	#[test]
	fn failures_map_to_s3_codes() {
		let code = |error: FilesError| files_error(error).code().clone();
		assert_eq!(code(FilesError::NotFound("x".into())), S3ErrorCode::NoSuchKey);
		assert_eq!(code(FilesError::invalid("k")), S3ErrorCode::InvalidArgument);
		assert_eq!(code(FilesError::Network("2 of 3".into())), S3ErrorCode::ServiceUnavailable);
		assert_eq!(code(FilesError::Data("bad".into())), S3ErrorCode::InternalError);
		let too_large = spool_error(SpoolError::TooLarge { received: 9, limit: 8 });
		assert_eq!(too_large.code(), &S3ErrorCode::EntityTooLarge);
		let order = multipart_error(MultipartError::Parts("in ascending order".into()));
		assert_eq!(order.code(), &S3ErrorCode::InvalidPartOrder);
		let unknown = multipart_error(MultipartError::NoSuchUpload("x".into()));
		assert_eq!(unknown.code(), &S3ErrorCode::NoSuchUpload);
	}
}
