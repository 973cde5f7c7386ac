"""The offline AWS provider's parts without terraform: wire format, cty msgpack
values (unknowns, refined unknowns, dynamic values), plan/apply walks, fakes."""

from __future__ import annotations

import json

import msgpack
import pytest

from saasctl import provider_schema
from saasctl.offline_aws import fakes, schema_wire, values, wire
from saasctl.offline_aws.server import Provider
from saasctl.offline_aws.values import UNKNOWN
from tests.conftest import REPO

TG_BLOCK = {
    "attributes": {
        "arn": {"type": "string", "computed": True},
        "id": {"type": "string", "optional": True, "computed": True},
        "name": {"type": "string", "optional": True},
        "port": {"type": "number", "optional": True},
        "tags": {"type": ["map", "string"], "optional": True},
        "tags_all": {"type": ["map", "string"], "optional": True, "computed": True},
    },
    "block_types": {
        "health_check": {
            "nesting_mode": "list",
            "max_items": 1,
            "block": {
                "attributes": {
                    "path": {"type": "string", "optional": True, "computed": True},
                    "interval": {"type": "number", "optional": True},
                },
                "block_types": {},
            },
        }
    },
}


def test_wire_round_trip() -> None:
    inner = wire.text(1, "aws_vpc") + wire.varint(2, 300) + wire.message(3, b"")
    outer = wire.message(5, inner) + wire.varint(6, 1)
    fields = wire.decode(outer)
    assert wire.first_int(fields, 6) == 1
    nested = wire.decode(wire.first_bytes(fields, 5))
    assert wire.string(nested, 1) == "aws_vpc"
    assert wire.first_int(nested, 2) == 300
    assert wire.first_bytes(nested, 3) == b""  # empty messages are still written
    assert wire.varint(7, 0) == b"" and wire.text(7, "") == b""  # proto3 defaults are not


def test_unknowns_plain_and_refined() -> None:
    plain = msgpack.packb({"a": msgpack.ExtType(0, b"\x00")})
    refined = msgpack.packb({"a": msgpack.ExtType(12, msgpack.packb({1: True}))})
    assert values.unpack(plain) == {"a": UNKNOWN}
    assert values.unpack(refined) == {"a": UNKNOWN}  # terraform >= 1.6 refines unknowns
    assert values.pack(UNKNOWN) == b"\xd4\x00\x00"  # cty's unknown: fixext1, type 0
    assert values.unpack(b"") is None


def test_dynamic_values_pass_through() -> None:
    block = {
        "attributes": {},
        "block_types": {"rule": {"nesting_mode": "list", "block": TG_BLOCK}},
    }
    wrapped = [b'["tuple",[]]', []]
    assert values.is_dynamic(wrapped) and not values.is_dynamic([{"a": 1}, {"b": 2}])
    out = values.conform(block, {"rule": wrapped})
    assert out == {"rule": wrapped}
    values.mark_unknown(block, out)  # must not look inside
    assert out == {"rule": wrapped}


def test_create_plan_marks_nested_computed_unknown() -> None:
    proposed = {"name": "tg", "port": 80, "health_check": [{"interval": 5}]}
    planned = values.conform(TG_BLOCK, proposed)
    assert (
        planned is not None
        and planned["arn"] is None
        and planned["health_check"][0]["path"] is None
    )
    values.mark_unknown(TG_BLOCK, planned)
    assert planned["arn"] is UNKNOWN and planned["id"] is UNKNOWN
    assert planned["health_check"][0]["path"] is UNKNOWN
    assert planned["health_check"][0]["interval"] == 5
    assert planned["name"] == "tg"  # set values are never touched


def test_apply_fills_realistic_stable_values() -> None:
    planned = {"name": "tg", "port": 80, "arn": UNKNOWN, "id": UNKNOWN, "tags": {"a": "b"},
               "tags_all": UNKNOWN, "health_check": [{"path": UNKNOWN, "interval": 5}]}  # fmt: skip
    filler = fakes.Filler("aws_lb_target_group", planned, "eu-west-1", "111122223333")
    values.fill_unknown(TG_BLOCK, planned, filler)
    assert not values.has_unknown(planned)
    assert planned["arn"].startswith(
        "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tg/"
    )
    assert planned["id"] == planned["arn"]
    assert planned["tags_all"] == {"a": "b"}
    assert planned["health_check"][0]["path"] == ""
    vpc = fakes.Filler("aws_vpc", {"cidr_block": "10.0.0.0/16"}, "eu-west-1", "111122223333")
    assert vpc.ident().startswith("vpc-") and len(vpc.ident()) == 21
    assert (
        vpc.ident()
        == fakes.Filler("aws_vpc", {"cidr_block": "10.0.0.0/16"}, "eu-west-1", "1").ident()
    )
    assert vpc.arn() == f"arn:aws:ec2:eu-west-1:111122223333:vpc/{vpc.ident()}"
    assert vpc.string("availability_zone", False) == "eu-west-1a"


def test_replacement_follows_the_force_new_list() -> None:
    prior = {"name": "a", "port": 80, "tags": {}}
    assert fakes.requires_replace("aws_lb_target_group", prior, {**prior, "port": 81}) == ["port"]
    assert fakes.requires_replace("aws_lb_target_group", prior, {**prior, "tags": {"x": "y"}}) == []
    assert fakes.requires_replace("aws_lb_target_group", prior, {**prior, "name": UNKNOWN}) == [
        "name"
    ]


def test_policy_document_json() -> None:
    config = {"statement": [{"effect": None, "actions": ["s3:PutObject", "s3:GetObject"],
              "resources": ["arn:aws:s3:::b/*"],
              "principals": [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}],
              "condition": [{"test": "StringEquals", "variable": "aws:SourceAccount",
                             "values": ["111122223333"]}]}]}  # fmt: skip
    doc = json.loads(fakes.read_data("aws_iam_policy_document", config, "us-east-1", "1")["json"])
    [st] = doc["Statement"]
    assert doc["Version"] == "2012-10-17" and st["Effect"] == "Allow"
    assert st["Action"] == ["s3:GetObject", "s3:PutObject"]
    assert st["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert st["Condition"] == {"StringEquals": {"aws:SourceAccount": "111122223333"}}


@pytest.fixture(scope="module")
def aws_schema() -> dict:  # type: ignore[type-arg]
    try:
        full = provider_schema.load(REPO / ".saasctl" / "schema")
    except provider_schema.SchemaUnavailable as exc:
        pytest.skip(str(exc))
    return full["provider_schemas"][provider_schema.PROVIDER]  # type: ignore[no-any-return]


def test_schema_reply_encodes_the_json_schema(aws_schema: dict, tmp_path) -> None:  # type: ignore[type-arg, no-untyped-def]
    small = {
        "provider": aws_schema["provider"],
        "resource_schemas": {
            "aws_lb_target_group": aws_schema["resource_schemas"]["aws_lb_target_group"]
        },
        "data_source_schemas": {},
    }
    reply = wire.decode(schema_wire.encode(small))
    [entry] = [wire.decode(e) for e in reply[2] if isinstance(e, bytes)]
    assert wire.string(entry, 1) == "aws_lb_target_group"
    block = wire.decode(wire.first_bytes(wire.decode(wire.first_bytes(entry, 2)), 2))
    attrs = {
        wire.string(a, 1): a for a in (wire.decode(x) for x in block[2] if isinstance(x, bytes))
    }
    assert json.loads(wire.first_bytes(attrs["load_balancer_arns"], 2)) == ["set", "string"]
    assert wire.first_int(attrs["arn"], 6) == 1 and wire.first_int(attrs["arn"], 5) == 0
    nested = {
        wire.string(b, 1): b for b in (wire.decode(x) for x in block[3] if isinstance(x, bytes))
    }
    hc = nested["health_check"]
    assert wire.first_int(hc, 3) == 2 and wire.first_int(hc, 5) == 1  # LIST, max_items 1
    schema_wire.write(small, tmp_path / "s")
    provider = Provider(tmp_path / "s")
    assert provider.GetProviderSchema(b"") == schema_wire.encode(small)
    assert "health_check" in provider.block("resource", "aws_lb_target_group")["block_types"]
    with pytest.raises(KeyError):
        provider.block("resource", "aws_nope")
