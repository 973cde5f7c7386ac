"""Typed environment and tenant specs, loaded from YAML with file:line errors."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from saasctl.errors import SpecError, UserError
from saasctl.ids import validate_env_name, validate_tenant_id


class Tier(str, Enum):
    BASIC = "basic"  # pool: shared cluster, shared services
    ADVANCED = "advanced"  # dedicated services on the shared advanced cluster
    PREMIUM = "premium"  # dedicated cluster (silo)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierDefaults(_Strict):
    cpu: int = Field(256, ge=256, le=16384)
    memory: int = Field(512, ge=512, le=122880)
    desired_count: int = Field(1, ge=0, le=100)
    min_capacity: int = Field(1, ge=0, le=100)
    max_capacity: int = Field(2, ge=1, le=1000)
    waf_rate_limit: int = Field(1000, ge=100, le=2_000_000_000)
    # How a release reaches the tier's services (ECS): ROLLING, or ECS native
    # BLUE_GREEN, CANARY, LINEAR with a bake time. The pool (basic) always rolls.
    deployment_strategy: Literal["ROLLING", "BLUE_GREEN", "CANARY", "LINEAR"] = "ROLLING"
    deployment_bake_minutes: int = Field(0, ge=0, le=1440)

    @model_validator(mode="after")
    def _capacity_order(self) -> TierDefaults:
        if not self.min_capacity <= self.desired_count <= self.max_capacity:
            raise ValueError("needs min_capacity <= desired_count <= max_capacity")
        return self


VERSION_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$"
_DIGEST = re.compile(r"^[^\s@:/][^\s@]*@sha256:[0-9a-f]{64}$")
_TAGGED = re.compile(r"^[^\s@:/][^\s@]*/?[^\s@:/]+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def check_image(image: str) -> str:
    """An image pinned by tag or digest: a release must say exactly what runs."""
    if _DIGEST.match(image):
        return image
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or not _TAGGED.match(image):
        raise ValueError(f"image {image!r} is not pinned: give a tag (repo:1.2.3) or a digest")
    if last.rsplit(":", 1)[1] == "latest":
        raise ValueError(f"image {image!r} uses :latest, which moves; pin a version or a digest")
    return image


def parse_duration(text: str) -> float:
    """Seconds of '90', '30s', '10m' or '1h'."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if not m:
        raise ValueError(f"{text!r} is not a duration like 30s, 10m or 1h")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


class Service(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9]{0,9}$")
    # The image before any release (projects from before releases); a unit with a
    # release takes its images from the release file instead.
    image: str = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)
    path: str = Field("/*", pattern=r"^/[A-Za-z0-9_\-./*]*$")
    health_check_path: str = Field("/", pattern=r"^/[A-Za-z0-9_\-./]*$")


class Backend(_Strict):
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    lock_table: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    archive_prefix: str = Field("archive", pattern=r"^[a-z0-9-]{1,32}$")


class ListenerPriorities(_Strict):
    first: int = Field(100, ge=1, le=50000)
    last: int = Field(49999, ge=1, le=50000)
    block: int = Field(10, ge=1, le=1000)

    @model_validator(mode="after")
    def _order(self) -> ListenerPriorities:
        if self.last - self.first + 1 < self.block:
            raise ValueError("the range from first to last must hold at least one block")
        return self


class Network(_Strict):
    vpc_cidr: str = Field(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")
    azs: list[str] = Field(min_length=2, max_length=3)
    single_nat_gateway: bool = False


class Wave(_Strict):
    """One wave of a rollout: which units, how many at a time, how long to watch them."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    tenants: list[str] = Field(default_factory=list)  # these tenant ids
    tags: dict[str, str] = Field(default_factory=dict)  # tenants carrying all these tags
    tiers: list[Tier] = Field(default_factory=list)  # every tenant of these tiers
    pool: bool = False  # the pooled services of the basic tier (the shared workspace)
    parallelism: int = Field(1, ge=1, le=100)
    bake: str = "0s"  # how long every unit must stay healthy after its apply
    error_budget: int = Field(0, ge=0)  # failed units allowed before the rollout halts

    @field_validator("bake")
    @classmethod
    def _bake(cls, v: str) -> str:
        parse_duration(v)
        return v

    @property
    def bake_seconds(self) -> float:
        return parse_duration(self.bake)

    @model_validator(mode="after")
    def _selects(self) -> Wave:
        if not (self.tenants or self.tags or self.tiers or self.pool):
            raise ValueError(
                f"wave {self.name!r} selects nothing: give tenants, tags, tiers or pool"
            )
        if Tier.BASIC in self.tiers:
            raise ValueError(
                "tiers: basic tenants run on the pool; select the pool with `pool: true`"
            )
        return self


class Rollout(_Strict):
    waves: list[Wave] = Field(min_length=1)
    # how long a unit's ECS deployment may take to complete before it counts as failed
    deployment_timeout: str = "10m"

    @field_validator("deployment_timeout")
    @classmethod
    def _timeout(cls, v: str) -> str:
        parse_duration(v)
        return v

    @model_validator(mode="after")
    def _unique(self) -> Rollout:
        names = [w.name for w in self.waves]
        if len(set(names)) != len(names):
            raise ValueError("waves: names must be unique")
        return self


class EnvSpec(_Strict):
    name: str
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    account_id: str = Field(pattern=r"^\d{12}$")
    domain: str = Field(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
    emulator: bool = False
    endpoint: str | None = Field(None, pattern=r"^https?://[A-Za-z0-9.\-]+(:\d+)?/?$")
    modules: Literal["auto", "real", "standin"] = "auto"
    certificate_arn: str = Field(pattern=r"^arn:aws[a-z-]*:acm:")
    allowed_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"])
    backend: Backend
    network: Network
    listener_priorities: ListenerPriorities = ListenerPriorities()
    tags: dict[str, str] = Field(default_factory=dict)
    tiers: dict[Tier, TierDefaults]
    services: list[Service] = Field(min_length=1)
    rollout: Rollout | None = None  # waves of `saasctl release rollout` (default: by tier)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        validate_env_name(v)
        return v

    @model_validator(mode="after")
    def _complete(self) -> EnvSpec:
        missing = [t.value for t in Tier if t not in self.tiers]
        if missing:
            raise ValueError(f"tiers: defaults missing for {', '.join(missing)}")
        if self.tiers[Tier.BASIC].deployment_strategy != "ROLLING":
            raise ValueError(
                "tiers.basic.deployment_strategy: the pool rolls (each basic tenant's host "
                "rule forwards to its target group); use ROLLING"
            )
        names = [s.name for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError("services: names must be unique")
        if self.emulator and not self.endpoint:
            raise ValueError("endpoint: required when emulator is true")
        return self


class TenantOverrides(_Strict):
    cpu: int | None = Field(None, ge=256, le=16384)
    memory: int | None = Field(None, ge=512, le=122880)
    desired_count: int | None = Field(None, ge=0, le=100)
    max_capacity: int | None = Field(None, ge=1, le=1000)


class TenantSpec(_Strict):
    id: str
    tier: Tier
    listener_priority: int = Field(ge=1, le=50000)
    # The release the tenant's own services run (advanced, premium); basic tenants
    # run on the pool, whose release is in pool.yaml. None: env.yaml's images.
    release: str | None = Field(None, pattern=VERSION_PATTERN)
    tags: dict[str, str] = Field(default_factory=dict)
    overrides: TenantOverrides = TenantOverrides()

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        try:
            validate_tenant_id(v)
        except UserError as exc:  # pydantic reports ValueError with the field's path
            raise ValueError(exc.one_line()) from None
        return v

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_defaults=True)
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


class ReleaseSpec(_Strict):
    """terraform/envs/<env>/releases/<version>.yaml: what a version runs, reviewed in PRs."""

    version: str = Field(pattern=VERSION_PATTERN)
    images: dict[str, str] = Field(min_length=1)  # service name -> pinned image
    notes: str = ""
    upgradeable_from: list[str] | None = None  # None: from any release

    @field_validator("images")
    @classmethod
    def _pinned(cls, v: dict[str, str]) -> dict[str, str]:
        for image in v.values():
            check_image(image)
        return v

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_defaults=True)
        return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


class PoolSpec(_Strict):
    """terraform/envs/<env>/pool.yaml: the release of the pooled services (basic tier)."""

    release: str | None = Field(None, pattern=VERSION_PATTERN)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


def _key_line(text: str, path: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``path`` (best effort)."""
    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part) or key.value == part:
                    line, node = key.start_mark.line + 1, value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def parse_yaml(path: Path, display: str | None = None) -> tuple[Any, str]:
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError(f"{shown}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{shown}: cannot read: {exc}") from exc
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(f"{shown}{where}: malformed YAML: {problem}") from exc
    if not isinstance(data, dict):
        raise SpecError(f"{shown}: expected a mapping at the top level")
    return data, text


def _format_validation(shown: str, text: str, exc: ValidationError) -> SpecError:
    err = exc.errors(include_url=False)[0]
    loc = tuple(err["loc"])
    line = _key_line(text, loc)
    where = f":{line}" if line else ""
    field = ".".join(str(p) for p in loc) or "(top level)"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    extra = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return SpecError(f"{shown}{where}: {field}: {msg}{extra}")


def load_model(model: type[_Strict], path: Path, display: str | None = None) -> Any:
    data, text = parse_yaml(path, display)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _format_validation(display or str(path), text, exc) from None
