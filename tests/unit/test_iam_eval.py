"""The test policy evaluator against cases whose answers AWS documents, then the
tenant-scoped policy of ecs-service as the module writes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.iam_eval import allowed

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/pool-orders"


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# The DynamoDB fine-grained access example of the IAM user guide.
LEADING_KEYS = {
    "Effect": "Allow",
    "Action": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem"],
    "Resource": TABLE,
    "Condition": {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["${aws:PrincipalTag/tenant}"]}
    },
}


@pytest.mark.parametrize(
    ("statements", "action", "context", "expected"),
    [
        # implicit deny: nothing allows it
        ([], "dynamodb:GetItem", {}, False),
        # wildcard actions, case-insensitive
        ([{"Effect": "Allow", "Action": "DynamoDB:Get*", "Resource": "*"}],
         "dynamodb:GetItem", {}, True),
        # explicit deny wins over an allow
        ([{"Effect": "Allow", "Action": "*", "Resource": "*"},
          {"Effect": "Deny", "Action": "dynamodb:*", "Resource": TABLE}],
         "dynamodb:GetItem", {}, False),
        # the policy variable is the principal's tag
        ([LEADING_KEYS], "dynamodb:GetItem",
         {"aws:principaltag/tenant": ["acme"], "dynamodb:leadingkeys": ["acme"]}, True),
        ([LEADING_KEYS], "dynamodb:GetItem",
         {"aws:principaltag/tenant": ["acme"], "dynamodb:leadingkeys": ["globex"]}, False),
        # ForAllValues holds on a request without the key: why a Null check is needed
        ([LEADING_KEYS], "dynamodb:Query", {"aws:principaltag/tenant": ["acme"]}, True),
        ([{**LEADING_KEYS, "Condition": {**LEADING_KEYS["Condition"],
                                          "Null": {"dynamodb:LeadingKeys": "false"}}}],
         "dynamodb:Query", {"aws:principaltag/tenant": ["acme"]}, False),
        # a missing policy variable matches nothing
        ([LEADING_KEYS], "dynamodb:GetItem", {"dynamodb:leadingkeys": ["acme"]}, False),
        # ForAnyValue is false on a missing key; StringLike globs
        ([{"Effect": "Allow", "Action": "sts:TagSession", "Resource": "*",
           "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["ten*"]}}}],
         "sts:TagSession", {}, False),
        ([{"Effect": "Allow", "Action": "sts:TagSession", "Resource": "*",
           "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["ten*"]}}}],
         "sts:TagSession", {"aws:tagkeys": ["tenant"]}, True),
    ],
)  # fmt: skip
def test_known_cases(
    statements: list[dict[str, Any]], action: str, context: dict[str, list[str]], expected: bool
) -> None:
    assert allowed([_policy(*statements)], action, TABLE, context) is expected


def test_unknown_operators_are_refused() -> None:
    when = {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}
    stmt = {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": when}
    with pytest.raises(NotImplementedError):
        allowed([_policy(stmt)], "s3:GetObject", "arn:aws:s3:::b/k", {})


@pytest.mark.parametrize(
    "stmt",
    [
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"},  # no caller
    ],
)
def test_what_it_does_not_evaluate_raises(stmt: dict[str, Any]) -> None:
    with pytest.raises(NotImplementedError):
        allowed([_policy(stmt)], "s3:GetObject", "arn:aws:s3:::b/k", {})


ROLE = "arn:aws:iam::123456789012:role/pool-tenant"
TASK = {"AWS": "arn:aws:iam::123456789012:role/pool-task"}
COGNITO = {"Federated": "cognito-identity.amazonaws.com"}
# The trust of a role Cognito identity pools hand out (the Cognito developer guide).
VERIFIED = {
    "Effect": "Allow",
    "Principal": {"Federated": "cognito-identity.amazonaws.com"},
    "Action": ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
    "Condition": {
        "StringEquals": {"cognito-identity.amazonaws.com:aud": "us-east-1:pool-1"},
        "ForAnyValue:StringLike": {"cognito-identity.amazonaws.com:amr": "authenticated"},
    },
}
SIGNED_IN = {
    "cognito-identity.amazonaws.com:aud": ["us-east-1:pool-1"],
    "cognito-identity.amazonaws.com:amr": ["authenticated", "cognito-idp"],
}


@pytest.mark.parametrize(
    ("statements", "caller", "action", "context", "expected"),
    [
        # a role trusting another by ARN: that role, not another
        ([{"Effect": "Allow", "Principal": TASK, "Action": "sts:AssumeRole"}],
         TASK, "sts:AssumeRole", {}, True),
        ([{"Effect": "Allow", "Principal": TASK, "Action": "sts:AssumeRole"}],
         {"AWS": "arn:aws:iam::123456789012:role/other"}, "sts:AssumeRole", {}, False),
        # an account's root stands for every principal of that account, and no other's
        ([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
           "Action": "sts:AssumeRole"}], TASK, "sts:AssumeRole", {}, True),
        ([{"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"}],
         {"AWS": "arn:aws:iam::444455556666:role/pool-task"}, "sts:AssumeRole", {}, False),
        # "*" trusts every caller
        ([{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}],
         TASK, "sts:AssumeRole", {}, True),
        # a federated trust: the identity pool's signed-in users only
        ([VERIFIED], COGNITO, "sts:AssumeRoleWithWebIdentity", SIGNED_IN, True),
        ([VERIFIED], COGNITO, "sts:AssumeRoleWithWebIdentity",
         {**SIGNED_IN, "cognito-identity.amazonaws.com:aud": ["us-east-1:pool-2"]}, False),
        ([VERIFIED], COGNITO, "sts:AssumeRoleWithWebIdentity",
         {**SIGNED_IN, "cognito-identity.amazonaws.com:amr": ["unauthenticated"]}, False),
        # and nobody else, whatever the request carries
        ([VERIFIED], TASK, "sts:AssumeRole", SIGNED_IN, False),
        ([VERIFIED], TASK, "sts:TagSession", SIGNED_IN, False),
    ],
)  # fmt: skip
def test_trust_policies_for_a_caller(
    statements: list[dict[str, Any]], caller: dict[str, str], action: str,
    context: dict[str, list[str]], expected: bool,
) -> None:  # fmt: skip
    assert allowed([_policy(*statements)], action, ROLE, context, principal=caller) is expected
