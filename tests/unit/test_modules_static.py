"""Real AWS modules, verified offline: parse, fmt, schema conformance, interfaces."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import pytest

from saasctl import provider_schema
from saasctl.conformance import check_file, check_tree
from saasctl.terraform import find_binary

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "terraform" / "modules"
REAL = sorted(p.name for p in MODULES.iterdir() if p.is_dir() and p.name != "standins")


@pytest.fixture(scope="session")
def schema() -> dict[str, Any]:
    try:
        return provider_schema.load(REPO / ".saasctl" / "schema")
    except provider_schema.SchemaUnavailable as exc:
        pytest.fail(f"the AWS provider schema is needed: {exc}")


def test_expected_modules_exist() -> None:
    assert {
        "vpc",
        "vpc-endpoints",
        "alb",
        "waf",
        "ecs-cluster",
        "ecs-service",
        "shared-stack",
        "tenant-basic",
        "tenant-advanced",
        "tenant-premium",
    } <= set(REAL)


def test_every_tf_file_parses() -> None:
    files = [p for p in (REPO / "terraform").rglob("*.tf") if ".terraform" not in p.parts]
    assert len(files) > 40
    for path in files:
        with path.open() as fh:
            hcl2.load(fh)


def test_no_type_constraint_needs_a_newer_terraform_than_1_0() -> None:
    """The modules run on terraform >= 1.0 (versions.tf): optional() object
    attributes need 1.3 ("Invalid type specification" on 1.0)."""
    found = [f"{p.relative_to(REPO)}:{n}" for p in (REPO / "terraform").rglob("*.tf")
             if ".terraform" not in p.parts
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if re.search(r"\boptional\(", line) and not line.lstrip().startswith("#")]  # fmt: skip
    assert found == []


def test_terraform_fmt_clean() -> None:
    proc = subprocess.run(
        [find_binary().path, "fmt", "-check", "-recursive", str(REPO / "terraform")],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("module", REAL)
def test_module_conforms_to_the_provider_schema(module: str, schema: dict[str, Any]) -> None:
    assert check_tree(MODULES / module, schema) == []


def test_examples_conform(schema: dict[str, Any]) -> None:
    assert check_tree(REPO / "terraform" / "examples", schema) == []


def test_module_layout_and_variables() -> None:
    for module in REAL:
        d = MODULES / module
        for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (d / name).is_file(), f"{module} lacks {name}"
        with (d / "variables.tf").open() as fh:
            for block in hcl2.load(fh).get("variable", []):
                for name, body in block.items():
                    assert "type" in body and "description" in body, f"{module}: var {name}"
        with (d / "outputs.tf").open() as fh:
            for block in hcl2.load(fh).get("output", []):
                for name, body in block.items():
                    assert "description" in body, f"{module}: output {name}"


def test_schema_facts() -> None:
    s = provider_schema.load(REPO / ".saasctl" / "schema")["provider_schemas"][
        provider_schema.PROVIDER
    ]
    tg = s["resource_schemas"]["aws_lb_target_group"]["block"]
    assert tg["block_types"]["health_check"]["nesting_mode"] == "list"
    assert tg["block_types"]["health_check"]["max_items"] == 1
    sg = s["resource_schemas"]["aws_security_group"]["block"]
    ingress = sg["attributes"]["ingress"]  # a set of objects, not a block
    assert ingress["type"][0] == "set" and ingress["type"][1][0] == "object"
    assert ingress["type"][1][1]["from_port"] == "number"
    assert ingress["optional"] and ingress["computed"]
    assert tg["attributes"]["arn"] == {"type": "string", "computed": True}
    assert tg["attributes"]["load_balancer_arns"]["type"] == ["set", "string"]
    assert tg["block_types"]["health_check"]["block"]["attributes"]["path"]["computed"]
    assert sg["block_types"]["timeouts"]["nesting_mode"] == "single"
    assert "region" in s["provider"]["block"]["attributes"]
    listener = s["resource_schemas"]["aws_lb_listener"]["block"]
    assert listener["attributes"]["load_balancer_arn"]["required"] is True
    assert listener["block_types"]["default_action"]["min_items"] == 1
    rule = s["resource_schemas"]["aws_wafv2_web_acl"]["block"]["block_types"]["rule"]["block"]
    assert "rate_based_statement" in rule["block_types"]["statement"]["block"]["block_types"]


BROKEN = {
    "unknown argument": (
        'resource "aws_lb_target_group" "x" {\n  name = "a"\n  colour = "red"\n}\n',
        "unknown argument or block 'colour'",
    ),
    "misspelled block": (
        'resource "aws_lb_target_group" "x" {\n  health_chek {\n    path = "/"\n  }\n}\n',
        "unknown argument or block 'health_chek'",
    ),
    "unknown nested argument": (
        'resource "aws_lb_target_group" "x" {\n  health_check {\n    paht = "/"\n  }\n}\n',
        "aws_lb_target_group.x.health_check: unknown argument or block 'paht'",
    ),
    "missing required argument": (
        'resource "aws_lb_listener" "x" {\n  default_action {\n    type = "forward"\n  }\n}\n',
        "missing required argument 'load_balancer_arn'",
    ),
    "missing required block": (
        'resource "aws_lb_listener" "x" {\n  load_balancer_arn = "a"\n}\n',
        "missing required block 'default_action'",
    ),
    "unknown dynamic block": (
        'resource "aws_security_group" "x" {\n  dynamic "ingres" {\n    for_each = []\n'
        "    content {}\n  }\n}\n",
        "unknown block 'ingres' (in a dynamic block)",
    ),
    "argument inside dynamic content": (
        'resource "aws_security_group" "x" {\n  dynamic "ingress" {\n    for_each = []\n'
        "    content {\n      from_prot = 1\n    }\n  }\n}\n",
        "aws_security_group.x.ingress: unknown argument or block 'from_prot'",
    ),
    "unknown resource type": ('resource "aws_lb_targetgroup" "x" {}\n', "unknown resource type"),
    "argument written as a block": (
        'resource "aws_lb_target_group" "x" {\n  name {\n  }\n}\n',
        "'name' is an argument, not a block",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_checker_catches_mistakes(case: str, tmp_path: Path, schema: dict[str, Any]) -> None:
    text, expected = BROKEN[case]
    path = tmp_path / "main.tf"
    path.write_text(text)
    problems = check_file(path, schema)
    assert any(expected in p for p in problems), problems


def test_checker_accepts_correct_code(tmp_path: Path, schema: dict[str, Any]) -> None:
    path = tmp_path / "main.tf"
    path.write_text(
        'resource "aws_lb_target_group" "x" {\n  count = 1\n  name = "a"\n'
        '  health_check {\n    path = "/"\n  }\n'
        "  lifecycle {\n    create_before_destroy = true\n  }\n}\n"
    )
    assert check_file(path, schema) == []


def test_module_readmes_are_current() -> None:
    from saasctl import moddoc

    assert moddoc.main(["--check"]) == 0, "run `python -m saasctl.moddoc` (make docs)"


def test_moddoc_detects_a_stale_readme(tmp_path: Path) -> None:
    from saasctl import moddoc

    module = tmp_path / "m"
    module.mkdir()
    (module / "variables.tf").write_text(
        'variable "a" {\n  description = "A."\n  type = string\n}\n'
    )
    fresh = moddoc.updated("# m\n", module)
    assert "| `a` | A. | `string` | n/a | yes |" in fresh
    (module / "variables.tf").write_text(
        'variable "b" {\n  description = "B."\n  type = number\n}\n'
    )
    assert moddoc.updated(fresh, module) != fresh


def test_every_module_has_an_example() -> None:
    examples = REPO / "terraform" / "examples"
    for module in REAL:
        text = (examples / module / "main.tf").read_text()
        assert f'"../../modules/{module}"' in text


def _blocks(kind: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    found = []
    for path in sorted(MODULES.rglob("*.tf")):
        if "standins" in path.parts:
            continue
        with path.open() as fh:
            doc = hcl2.load(fh)
        for entry in doc.get(kind, []):
            for rtype, instances in entry.items():
                if isinstance(instances, dict) and kind == "resource":
                    for name, body in instances.items():
                        found.append((path.parent.name, rtype.strip('"'), name.strip('"'), body))
                else:
                    found.append((path.parent.name, "", rtype.strip('"'), instances))
    return found


def test_open_ingress_only_on_the_alb_http_ports() -> None:
    open_defaults = {
        (module, name)
        for module, _, name, body in _blocks("variable")
        if "0.0.0.0/0" in str(body.get("default"))
    }
    assert open_defaults <= {("alb", "allowed_cidrs")}
    for module, rtype, name, body in _blocks("resource"):
        if rtype == "aws_vpc_security_group_ingress_rule":
            cidr = str(body.get("cidr_ipv4", ""))
            assert "0.0.0.0/0" not in cidr, f"{module}: {name}"
            if "allowed_cidrs" in cidr:
                assert (module, body["from_port"], body["to_port"]) in {
                    ("alb", 80, 80),
                    ("alb", 443, 443),
                }
        if rtype == "aws_security_group":
            assert "ingress" not in body and "egress" not in body, "use the separate rule resources"


SECRET_NAME = re.compile(r"password|passwd|secret|token|private_key|api_key|access_key", re.I)
# AWS access key ids, PEM keys, and 40-character base64 strings (AWS secret keys).
SECRET_VALUE = re.compile(
    r"AKIA[0-9A-Z]{16}|-----BEGIN|(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"
)


def _secret_defaults() -> tuple[int, list[str]]:
    """(variables with a default, those whose default is or looks like a secret)."""
    checked, found = 0, []
    for module, _, name, body in _blocks("variable"):
        if body.get("default") in (None, {}, [], '""'):
            continue  # no value: nothing to leak
        checked += 1
        default = json.dumps(body["default"])
        sensitive = str(body.get("sensitive")).lower() == "true"
        # A number or bool under a secret's name is a policy (password_minimum_length).
        text = not isinstance(body["default"], (bool, int, float))
        if sensitive or (text and SECRET_NAME.search(name)) or SECRET_VALUE.search(default):
            found.append(f"{module}: {name}")
    return checked, found


def test_no_secret_defaults() -> None:
    checked, found = _secret_defaults()
    assert checked >= 20, "the scan must see the modules' defaults"
    assert found == []


def test_secret_default_scan_catches_planted_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    copy = tmp_path / "modules"
    shutil.copytree(MODULES, copy, symlinks=True)
    with (copy / "alb" / "variables.tf").open("a") as fh:
        fh.write(
            'variable "db_password" {\n  type    = string\n  default = "hunter2"\n}\n'
            'variable "bootstrap" {\n  type    = string\n  default = "AKIAIOSFODNN7EXAMPLE"\n}\n'
            'variable "hidden" {\n  type      = string\n  sensitive = true\n  default   = "x"\n}\n'
        )
    monkeypatch.setattr(sys.modules[__name__], "MODULES", copy)
    _, found = _secret_defaults()
    assert found == ["alb: db_password", "alb: bootstrap", "alb: hidden"]


def test_every_scanner_suppression_has_a_reason() -> None:
    import re

    count = 0
    for path in sorted(MODULES.rglob("*.tf")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if "checkov:skip=" in line:
                count += 1
                assert re.search(r"checkov:skip=CKV2?_AWS_\d+:\S.{10,}", line), f"{path}:{i + 1}"
            if "trivy:ignore:" in line:
                count += 1
                assert lines[i - 1].lstrip().startswith("#") and len(lines[i - 1]) > 20, (
                    f"{path}:{i + 1}: say why on the line above"
                )
    assert count >= 10


# Actions that AWS only grants on "*" (no resource-level permissions).
STAR_ONLY = {
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "ecr:GetAuthorizationToken",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
}


def _key_policies(rtypes: tuple[str, ...] = ("aws_kms_key",)) -> set[tuple[str, str]]:
    """(module, document) of the policy documents that are the ``policy`` of a
    resource of ``rtypes`` (KMS key policies by default)."""
    found = set()
    for module, rtype, _, body in _blocks("resource"):
        if rtype in rtypes:
            for ref in re.findall(r"data\.aws_iam_policy_document\.(\w+)",
                                  str(body.get("policy", ""))):  # fmt: skip
                found.add((module, ref))
    return found


def _statements(
    *, key_policies: bool = False, rtypes: tuple[str, ...] = ("aws_kms_key",)
) -> list[tuple[str, dict[str, Any]]]:
    """Statements of identity policies; of KMS key policies (where "*" names the key
    itself) with ``key_policies``, or of other resources' policies with ``rtypes``.
    VPC endpoint policies (a perimeter: who and what, not a grant) are never
    identity policies."""
    keys = _key_policies(rtypes)
    perimeter = _key_policies(("aws_vpc_endpoint",))
    found = []
    for module, _, name, body in _blocks("data"):
        if name != "aws_iam_policy_document":
            continue
        for doc_name, doc in body.items() if isinstance(body, dict) else []:
            document = (module, doc_name.strip('"'))
            if (document in keys) != key_policies or (not key_policies and document in perimeter):
                continue
            for stmt in doc.get("statement", []):
                found.append((module, stmt))
            for dyn in doc.get("dynamic", []):
                for spec in dyn.values():
                    if isinstance(spec, dict):
                        for content in spec.get("content", []):
                            found.append((module, content))
    return found


def test_iam_policies_are_least_privilege() -> None:
    statements = _statements()
    assert len(statements) >= 8
    for module, stmt in statements:
        if '"Deny"' in str(stmt.get("effect", "")):
            continue  # denies may be broad (e.g. the TLS-only bucket policy)
        actions = [str(a).strip('"') for a in stmt.get("actions", [])]
        resources = [str(r).strip('"') for r in stmt.get("resources", [])]
        for action in actions:
            assert action != "*" and not action.endswith(":*"), (
                f"{module}: wildcard action {action}"
            )
        if "*" in resources:
            assert set(actions) <= STAR_ONLY, f"{module}: resources '*' for {actions}"


def test_key_policies_name_their_actions() -> None:
    """In a key policy "*" is the key itself, but the actions are still named."""
    statements = _statements(key_policies=True)
    assert {m for m, _ in statements} >= {"tenant-data"}
    for module, stmt in statements:
        for action in (str(a).strip('"') for a in stmt.get("actions", [])):
            assert action.startswith("kms:") and action != "kms:*", f"{module}: {action}"
        assert [str(r).strip('"') for r in stmt.get("resources", [])] == ["*"]
        assert stmt.get("principals"), f"{module}: a key policy statement names its principal"


def test_every_endpoint_policy_is_a_perimeter_of_the_account() -> None:
    """Every VPC endpoint policy statement serves this account's principals only
    (a fixed condition), this account's resources where it says so (a gateway's:
    where data can be written elsewhere), and names its service's actions, never
    "*". The applied policies are evaluated in test_module_plans.py."""
    statements = _statements(key_policies=True, rtypes=("aws_vpc_endpoint",))
    assert {m for m, _ in statements} == {"vpc-endpoints"}
    for _, stmt in statements:
        fixed = [str(c.get("variable")).strip('"') for c in stmt.get("condition", [])]
        assert fixed == ["aws:PrincipalAccount"], stmt
        optional = [str(c.get("variable")).strip('"')
                    for d in stmt.get("dynamic", []) for spec in d.values()
                    for c in spec.get("content", [])]  # fmt: skip
        assert optional == ["aws:ResourceAccount"], stmt
    text = (REPO / "terraform/modules/vpc-endpoints/main.tf").read_text()
    granted = re.findall(r"actions = \[(.*?)\], resources", text.split("perimeters =")[1])
    assert granted and all(a.strip().strip('"').endswith(":*") and a.strip() != '"*"'
                           for a in granted if "s3:GetObject" not in a), granted  # fmt: skip
    assert "own_resources = true" in text.split('"gateway/${s}"')[1].split("s !=")[0]


def test_star_resources_are_exactly_the_documented_exceptions() -> None:
    """What is granted on "*" is the STAR_ONLY list, each named in docs/security.md."""
    on_star = set()
    for _, stmt in _statements():
        if '"Deny"' not in str(stmt.get("effect", "")) and "*" in [
            str(r).strip('"') for r in stmt.get("resources", [])
        ]:
            on_star |= {str(a).strip('"') for a in stmt.get("actions", [])}
    assert on_star == STAR_ONLY
    documented = (REPO / "docs" / "security.md").read_text()
    assert all(f"`{action}`" in documented for action in STAR_ONLY)


def test_iam_scan_catches_wildcards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    copy = tmp_path / "modules"
    shutil.copytree(MODULES, copy, symlinks=True)
    main = copy / "ecs-service" / "main.tf"
    main.write_text(
        main.read_text().replace('"logs:CreateLogStream", "logs:PutLogEvents"', '"logs:*"')
    )
    monkeypatch.setattr(sys.modules[__name__], "MODULES", copy)
    with pytest.raises(AssertionError, match="wildcard action logs:\\*"):
        test_iam_policies_are_least_privilege()


def test_validation_messages_suit_terraform_1_0() -> None:
    """Terraform before 1.2 refuses a validation message that is not a sentence: it
    must start with an uppercase letter and end with a period or question mark."""
    checked = 0
    for module, _, name, body in _blocks("variable"):
        for rule in body.get("validation", []):
            message = json.loads(str(rule["error_message"]))
            checked += 1
            assert re.match(r"[A-Z]", message) and message.endswith((".", "?")), (
                f"{module}: variable {name}: {message!r}"
            )
    assert checked >= 20


def _policy_documents() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in sorted(MODULES.rglob("*.tf")):
        if "standins" in path.parts:
            continue
        with path.open() as fh:
            doc = hcl2.load(fh)
        for entry in doc.get("data", []):
            for name, body in (entry.get('"aws_iam_policy_document"') or {}).items():
                found.append((path.parent.name, name.strip('"'), body))
    return found


def _unquote(value: object) -> str:
    return str(value).strip('"')


def test_every_service_trust_names_the_account() -> None:
    """A role an AWS service assumes (ECS tasks, ECS, VPC flow logs) trusts that
    service for this account only (aws:SourceAccount): the confused deputy."""
    trusts = 0
    for module, name, body in _policy_documents():
        for st in body.get("statement", []):
            services = [
                _unquote(i)
                for p in st.get("principals", [])
                if _unquote(p.get("type")) == "Service"
                for i in p.get("identifiers", [])
            ]
            actions = {_unquote(a) for a in st.get("actions", [])}
            if not services or "sts:AssumeRole" not in actions:
                continue  # not a trust policy (a bucket policy's log delivery, say)
            trusts += 1
            conditions = {_unquote(c.get("variable")) for c in st.get("condition", [])}
            assert conditions & {"aws:SourceAccount", "aws:SourceArn"}, f"{module}: {name}"
    assert trusts >= 3  # ecs-tasks, ecs and vpc-flow-logs


def test_user_pools_verify_a_new_email_before_it_counts() -> None:
    pools = [b for _, rtype, _, b in _blocks("resource") if rtype == "aws_cognito_user_pool"]
    assert pools
    for pool in pools:
        [settings] = pool.get("user_attribute_update_settings") or [{}]
        wanted = settings.get("attributes_require_verification_before_update")
        assert [_unquote(a) for a in wanted or []] == ["email"], pool.get("name")


def test_the_https_listener_defaults_to_the_strongest_recommended_tls_policy() -> None:
    from saasctl.policy import _tls_rank

    [default] = [
        _unquote(b.get("default")) for module, _, name, b in _blocks("variable")
        if (module, name) == ("alb", "ssl_policy")
    ]  # fmt: skip
    # TLS 1.2 minimum with TLS 1.3, post-quantum key exchange, restricted ciphers:
    # what AWS recommends; TLS 1.3-only (TLS13-1-3) would refuse TLS 1.2 clients.
    assert _tls_rank(default) == (12, 1, 1), default
