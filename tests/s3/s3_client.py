#!/usr/bin/env python3
"""Drives Cairn's S3 gateway with boto3, as an S3 user would; the network test runs it.

    s3_client.py ENDPOINT SECRET put BUCKET KEY FILE   bucket, multipart upload, reads, errors
    s3_client.py ENDPOINT SECRET delete BUCKET KEY     delete the object, then the bucket

Prints one JSON line of what it saw; exits non-zero, saying why, on anything unexpected.
"""
import hashlib
import http.client
import json
import sys
import urllib.parse

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MIB = 1 << 20


def client(endpoint, secret):
    config = Config(
        # An upload answers once every shard is confirmed on chain: minutes for a large one.
        read_timeout=900,
        connect_timeout=10,
        retries={"max_attempts": 1},
        s3={"addressing_style": "path"},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="cairn",
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=config,
    )


def error_of(call):
    """The S3 error code `call` fails with, and its HTTP status."""
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError(f"{call} succeeded")


def expect_error(call, code, status):
    seen = error_of(call)
    assert seen[0] == code and seen[1] == status, f"expected {code} ({status}), got {seen}"
    return seen[0]


def put(s3, endpoint, bucket, key, path):
    data = open(path, "rb").read()
    s3.create_bucket(Bucket=bucket)
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]], "the bucket is listed"
    s3.head_bucket(Bucket=bucket)
    errors = [expect_error(lambda: s3.create_bucket(Bucket=bucket), "BucketAlreadyOwnedByYou", 409)]

    # 8 MiB parts: the 64 MiB object goes up as 8 parts.
    transfer = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB)
    s3.upload_file(path, bucket, key, Config=transfer)

    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(data), head
    folder = key.rsplit("/", 1)[0] + "/"
    top = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in top.get("CommonPrefixes", [])] == [key.split("/")[0] + "/"], top
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=folder)
    assert [(o["Key"], o["Size"]) for o in listed["Contents"]] == [(key, len(data))], listed
    assert listed["KeyCount"] == 1 and not listed["IsTruncated"], listed

    ranged = s3.get_object(Bucket=bucket, Key=key, Range="bytes=1000000-1999999")
    assert ranged["ResponseMetadata"]["HTTPStatusCode"] == 206, ranged["ResponseMetadata"]
    assert ranged["Body"].read() == data[1000000:2000000], "the range's bytes"
    assert ranged["ContentRange"] == f"bytes 1000000-1999999/{len(data)}", ranged["ContentRange"]
    whole = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert hashlib.sha256(whole).digest() == hashlib.sha256(data).digest(), "the whole object"

    # Bad input: S3 error codes, and no object made of it.
    errors.append(expect_error(lambda: s3.get_object(Bucket=bucket, Key="none"), "NoSuchKey", 404))
    errors.append(expect_error(lambda: s3.head_object(Bucket="no-such-bucket", Key=key), "404", 404))
    errors.append(expect_error(lambda: s3.get_object(Bucket="no-such-bucket", Key=key), "NoSuchBucket", 404))
    errors.append(
        expect_error(lambda: s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={len(data)}-"), "InvalidRange", 416)
    )
    errors.append(expect_error(lambda: s3.create_bucket(Bucket="Not_A_Bucket"), "InvalidBucketName", 400))
    long_key = "k" * 600
    errors.append(expect_error(lambda: s3.put_object(Bucket=bucket, Key=long_key, Body=b"x"), "KeyTooLongError", 400))
    errors.append(expect_error(lambda: s3.put_object(Bucket=bucket, Key="a\x01b", Body=b"x"), "InvalidArgument", 400))
    wrong = client(endpoint, "0" * 40)
    errors.append(expect_error(lambda: wrong.list_objects_v2(Bucket=bucket), "SignatureDoesNotMatch", 403))
    upload = s3.create_multipart_upload(Bucket=bucket, Key="half/made")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="half/made", UploadId=upload, PartNumber=1, Body=b"x" * 1000)
    parts = {"Parts": [{"PartNumber": 1, "ETag": '"not-' + part["ETag"].strip('"') + '"'}]}
    errors.append(
        expect_error(
            lambda: s3.complete_multipart_upload(Bucket=bucket, Key="half/made", UploadId=upload, MultipartUpload=parts),
            "InvalidPart",
            # A completion's answer begins at once (200, then spaces while the object is stored,
            # as S3's), so its error comes in the body, which botocore reports as a 500.
            500,
        )
    )
    s3.abort_multipart_upload(Bucket=bucket, Key="half/made", UploadId=upload)
    errors.append(
        expect_error(lambda: s3.upload_part(Bucket=bucket, Key="half/made", UploadId=upload, PartNumber=2, Body=b"y"), "NoSuchUpload", 404)
    )
    errors.append(expect_error(lambda: s3.delete_bucket(Bucket=bucket), "BucketNotEmpty", 409))
    errors += strangers(endpoint, bucket)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [key], f"only the object is in the bucket: {keys}"
    return {"etag": head["ETag"], "bytes": len(data), "errors": errors}


def raw(endpoint, method, path, headers):
    """The status and body of a request sent by hand: its headers only, whatever they declare."""
    host, port = urllib.parse.urlsplit(endpoint).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest(method, path, skip_accept_encoding=True)
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, body


def strangers(endpoint, bucket):
    """What someone without the secret gets: nothing read, nothing held in memory."""
    seen = []
    status, body = raw(endpoint, "GET", f"/{bucket}", {})
    assert status == 403 and "AccessDenied" in body, (status, body)
    seen.append("AccessDenied")
    status, body = raw(endpoint, "GET", f"/{bucket}", {"Origin": "https://example.com"})
    assert status == 403 and "web pages" in body, (status, body)
    seen.append("a web page")
    # A gigabyte whose hash a bogus signature covers: refused before a byte of it is read.
    forged = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=cairn/20261206/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + "0" * 64,
        "x-amz-date": "20261206T000000Z",
        "x-amz-content-sha256": hashlib.sha256(b"").hexdigest(),
        "Content-Length": str(1 << 30),
    }
    status, body = raw(endpoint, "PUT", f"/{bucket}/big", forged)
    assert status == 400 and "EntityTooLarge" in body, (status, body)
    seen.append("EntityTooLarge")
    return seen


def delete(s3, bucket, key):
    s3.delete_object(Bucket=bucket, Key=key)
    expect_error(lambda: s3.head_object(Bucket=bucket, Key=key), "404", 404)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0, "the bucket is empty"
    s3.delete_bucket(Bucket=bucket)
    expect_error(lambda: s3.head_bucket(Bucket=bucket), "404", 404)
    return {"deleted": key}


def main():
    endpoint, secret, action, bucket, key = sys.argv[1:6]
    s3 = client(endpoint, secret)
    if action == "put":
        seen = put(s3, endpoint, bucket, key, sys.argv[6])
    elif action == "delete":
        seen = delete(s3, bucket, key)
    else:
        raise SystemExit(f"unknown action {action!r}")
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
