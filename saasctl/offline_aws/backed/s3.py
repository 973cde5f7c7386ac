"""S3 buckets in the emulator."""

from __future__ import annotations

from typing import Any

from saasctl.offline_aws.backed import Handler, State, keep_ids, register, tags_list
from saasctl.offline_aws.backed.client import error_code


def bucket_create(api: Any, s: State) -> State:
    args: dict[str, Any] = {"Bucket": s["bucket"]}
    region = api.meta.region_name
    if region != "us-east-1":
        args["CreateBucketConfiguration"] = {"LocationConstraint": region}
    api.create_bucket(**args)
    tags = tags_list(s.get("tags_all") or s.get("tags"), "Key", "Value")
    if tags:
        api.put_bucket_tagging(Bucket=s["bucket"], Tagging={"TagSet": tags})
    return {"id": s["bucket"], "arn": f"arn:aws:s3:::{s['bucket']}", "bucket_region": region}


def bucket_read(api: Any, s: State) -> State | None:
    try:
        api.head_bucket(Bucket=s["bucket"])
    except Exception as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return None
        raise
    return {}


def bucket_delete(api: Any, s: State) -> None:
    if s.get("force_destroy"):
        for page in api.get_paginator("list_object_versions").paginate(Bucket=s["bucket"]):
            items = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                     for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]  # fmt: skip
            if items:
                api.delete_objects(Bucket=s["bucket"], Delete={"Objects": items})
    api.delete_bucket(Bucket=s["bucket"])


register("aws_s3_bucket", Handler("s3", "s3", bucket_create, bucket_read, keep_ids,
                                  bucket_delete))  # fmt: skip
