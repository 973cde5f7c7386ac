"""AWS quotas the offline provider enforces as AWS does, with AWS's error codes, so
plain terraform through `saasctl offline env` is refused where AWS would refuse.

- A web ACL's rate-based rules (10) and capacity units (5,000): counted in the
  resource itself (``saasctl.quotas``), on every create and update.
- Rules per load balancer (100) and unique target groups per load balancer (100):
  these span workspaces, so they are kept in the emulator itself (objects in a
  bucket of the provider's account) and enforced only when an emulator endpoint
  is configured; in state-only mode each workspace is a world of its own.
  A rule claims one of the load balancer's numbered slots with a create-only
  put, so concurrent applies (several terraform processes) never exceed it.

Limits are AWS's defaults, raised by the increases the environment recorded
(``SAASCTL_OFFLINE_AWS_QUOTAS``, JSON, set by saasctl): the emulated account was
granted what env.yaml says, and never less than AWS's default.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from saasctl.offline_aws.backed.client import error_code
from saasctl.quotas import BY_KEY, acl_counts

QUOTAS_ENV = "SAASCTL_OFFLINE_AWS_QUOTAS"
LEDGER_BUCKET = "saasctl-offline-aws-limits"


class LimitExceeded(Exception):
    """AWS refuses the call: ``code`` is its error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def limit(key: str) -> int:
    default = BY_KEY[key].default or 0
    try:
        granted = json.loads(os.environ.get(QUOTAS_ENV) or "{}").get(key)
    except ValueError:
        granted = None
    return max(default, granted) if isinstance(granted, int) else default


def check_web_acl(values: dict[str, Any]) -> None:
    rate, wcu = acl_counts(values)
    if rate > limit("waf_rate_rules"):
        raise LimitExceeded(
            "WAFLimitsExceededException",
            f"AWS WAF couldn't perform the operation because you exceeded your resource limit: "
            f"{rate} rate-based rules in web ACL {values.get('name')}, at most "
            f"{limit('waf_rate_rules')}",
        )
    if wcu > limit("waf_wcu"):
        raise LimitExceeded(
            "WAFLimitsExceededException",
            f"AWS WAF couldn't perform the operation because you exceeded your resource limit: "
            f"web ACL {values.get('name')} needs {wcu} WCUs, at most {limit('waf_wcu')}",
        )


def _balancer(listener_arn: Any) -> str | None:
    """The load balancer of a listener ARN: ...:listener/app/NAME/LB-ID/LISTENER-ID."""
    if not isinstance(listener_arn, str) or ":listener/" not in listener_arn:
        return None
    parts = listener_arn.split(":listener/", 1)[1].split("/")
    return "/".join(parts[:3]) if len(parts) >= 3 else None


def _target_groups(values: dict[str, Any]) -> set[str]:
    found: set[str] = set()
    for action in values.get("action") or []:
        if not isinstance(action, dict):
            continue
        if isinstance(action.get("target_group_arn"), str):
            found.add(action["target_group_arn"])
        for forward in action.get("forward") or []:
            for group in (forward or {}).get("target_group") or []:
                if isinstance((group or {}).get("arn"), str):
                    found.add(group["arn"])
    return found


class Ledger:
    """Rules and target groups per load balancer, kept in the emulator's S3."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def _bucket(self) -> None:
        try:
            self.s3.head_bucket(Bucket=LEDGER_BUCKET)
        except Exception:  # absent: make it (another process may, at the same moment)
            try:
                self.s3.create_bucket(Bucket=LEDGER_BUCKET)
            except Exception as exc:
                if error_code(exc) != "BucketAlreadyOwnedByYou":
                    raise

    def _keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        args = {"Bucket": LEDGER_BUCKET, "Prefix": prefix}
        while True:
            page = self.s3.list_objects_v2(**args)
            keys += [o["Key"] for o in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return keys
            args["ContinuationToken"] = page["NextContinuationToken"]

    def _claim(self, key: str, body: str) -> bool:
        try:
            self.s3.put_object(Bucket=LEDGER_BUCKET, Key=key, Body=body.encode(), IfNoneMatch="*")
            return True
        except Exception as exc:
            if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False  # the slot is another rule's
            raise

    def add_rule(self, values: dict[str, Any]) -> None:
        """Claim a rule slot of the rule's load balancer, then record the target
        groups it forwards to; refused (nothing kept) past either quota."""
        lb = _balancer(values.get("listener_arn"))
        arn = values.get("arn")
        if lb is None or not isinstance(arn, str):
            return
        self._bucket()
        rule, base, most = _id(arn), f"lb/{lb}/", limit("alb_rules")
        # Probe from a slot of the rule's own: free slots are found at once until
        # the balancer is nearly full.
        first = int(rule[:8], 16) % most
        for step in range(most):
            slot = (first + step) % most
            if self._claim(f"{base}rule-slots/{slot:05d}", rule):
                break
        else:
            raise LimitExceeded(
                "TooManyRules",
                f"You've reached the limit on the number of rules per load balancer ({most}) "
                f"on {lb}",
            )
        groups = sorted(_id(g) for g in _target_groups(values))
        record = json.dumps({"slot": slot, "target_groups": groups})
        self.s3.put_object(Bucket=LEDGER_BUCKET, Key=f"{base}rules/{rule}", Body=record.encode())
        for group in groups:  # one marker per use: a group counts while any rule uses it
            self.s3.put_object(Bucket=LEDGER_BUCKET, Key=f"{base}groups/{group}/{rule}", Body=b"")
        used = {key.split("/")[-2] for key in self._keys(f"{base}groups/")}
        if len(used) > limit("alb_target_groups"):
            self.remove_rule(values)
            raise LimitExceeded(
                "TooManyUniqueTargetGroupsPerLoadBalancer",
                f"You've reached the limit on the number of unique target groups per load "
                f"balancer across all listeners ({limit('alb_target_groups')}) on {lb}",
            )

    def remove_rule(self, values: dict[str, Any]) -> None:
        lb = _balancer(values.get("listener_arn"))
        arn = values.get("arn")
        if lb is None or not isinstance(arn, str):
            return
        base, rule = f"lb/{lb}/", _id(arn)
        try:
            body = self.s3.get_object(Bucket=LEDGER_BUCKET, Key=f"{base}rules/{rule}")["Body"]
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NoSuchBucket"):
                return  # never recorded (created before the ledger, or state-only)
            raise
        record = json.loads(body.read())
        for group in record.get("target_groups") or []:
            self.s3.delete_object(Bucket=LEDGER_BUCKET, Key=f"{base}groups/{group}/{rule}")
        self.s3.delete_object(Bucket=LEDGER_BUCKET, Key=f"{base}rules/{rule}")
        if isinstance(record.get("slot"), int):
            key = f"{base}rule-slots/{record['slot']:05d}"
            self.s3.delete_object(Bucket=LEDGER_BUCKET, Key=key)


def _id(arn: str) -> str:
    return hashlib.sha256(arn.encode()).hexdigest()[:16]
