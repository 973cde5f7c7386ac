"""Typed environment and tenant specs, loaded from YAML with file:line errors."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from saasctl.errors import SpecError, UserError
from saasctl.ids import validate_env_name, validate_tenant_id
from saasctl.quotas import BY_KEY, Scope, check_overrides


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
    # Identity: a group in the environment's shared user pool, or a pool of the
    # tenant's own. None: shared for basic, dedicated otherwise (AWS's reference).
    identity: Literal["shared", "dedicated"] | None = None

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
    # DynamoDB tables the service keeps tenant data in (keyed by tenantId): pooled
    # in the shared stack for basic tenants, a tenant's own for the other tiers.
    tables: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("tables")
    @classmethod
    def _tables(cls, v: list[str]) -> list[str]:
        for name in v:
            if not re.fullmatch(r"[a-z][a-z0-9-]{0,20}", name):
                raise ValueError(
                    f"table {name!r}: 1-21 lowercase letters, digits or hyphens, from a letter"
                )
        if len(set(v)) != len(v):
            raise ValueError("tables: names must be unique")
        return v


class Backend(_Strict):
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    lock_table: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    archive_prefix: str = Field("archive", pattern=r"^[a-z0-9-]{1,32}$")
    # Tenant exports (offboarding, data moves) expire after this many days.
    exports_retention_days: int = Field(365, ge=1, le=3650)


class ListenerPriorities(_Strict):
    first: int = Field(100, ge=1, le=50000)
    last: int = Field(49999, ge=1, le=50000)
    block: int = Field(10, ge=1, le=1000)

    @model_validator(mode="after")
    def _order(self) -> ListenerPriorities:
        if self.last - self.first + 1 < self.block:
            raise ValueError("the range from first to last must hold at least one block")
        return self


def _network(text: str, what: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A network written exactly (host bits zero), by the standard library's rules."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an IPv4 or IPv6 network") from None
    if "/" not in text:
        raise ValueError(f"{what} {text!r} has no prefix length: write {net}")
    if str(net) != text:  # host bits set, or not the canonical spelling
        raise ValueError(f"{what} {text!r} is not the network it names: write {net}")
    return net


class Network(_Strict):
    # The VPC module splits it into 16 subnets (4 new bits) and uses numbers 0-2 and
    # 8-10: /16 to /20, and an address range AWS accepts for a VPC.
    vpc_cidr: str
    azs: list[str] = Field(min_length=2, max_length=3)
    single_nat_gateway: bool = False

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        net = _network(v, "vpc_cidr")
        if net.version != 4 or not 16 <= net.prefixlen <= 20:
            raise ValueError(f"vpc_cidr {v!r}: needs an IPv4 network from /16 to /20")
        if net.is_loopback or net.is_link_local or net.is_multicast or net.is_reserved:
            raise ValueError(f"vpc_cidr {v!r} is not an address range a VPC can use")
        return v

    @field_validator("azs")
    @classmethod
    def _azs(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("azs: each availability zone once")
        return v


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"timezone: {name!r} is not an IANA timezone like Europe/Berlin or UTC"
        ) from None


Policy = Literal["strict", "skip", "ignore"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


class Window(_Strict):
    """A maintenance window: starts at a wall-clock time of the tenant's timezone on
    these days, and lasts ``duration`` of real time (a DST change does not stretch it)."""

    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    start: str  # HH:MM, 24-hour
    duration: str  # 30m, 4h... at most a week

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("days: each day once")
        return sorted(v, key=DAYS.index)

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        if not _CLOCK_TIME.match(v):
            raise ValueError(f"start: {v!r} is not a time like 02:00 (HH:MM, 24-hour)")
        return v

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: str) -> str:
        seconds = parse_duration(v)
        if not 60 <= seconds <= 7 * 86400:
            raise ValueError(f"duration: {v!r} must be between 1m and a week (168h)")
        return v

    @property
    def seconds(self) -> float:
        return parse_duration(self.duration)

    def describe(self) -> str:
        return f"{','.join(self.days)} {self.start} {self.duration}"


class Maintenance(_Strict):
    """When a tenant accepts releases: its windows (none: any time), and a pin."""

    windows: list[Window] = Field(default_factory=list)
    timezone: str = "UTC"  # an IANA name, e.g. Europe/Berlin
    # No rollout moves the tenant to another release while the pin holds.
    pinned_release: str | None = Field(None, pattern=VERSION_PATTERN)
    pinned_until: datetime | None = None  # None: until unpinned

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        zone(v)
        return v

    @field_validator("pinned_until")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.utcoffset() is None:
            raise ValueError("pinned_until: give a timezone, e.g. 2027-01-31T00:00:00Z")
        return v

    @model_validator(mode="after")
    def _pin(self) -> Maintenance:
        if self.pinned_until is not None and self.pinned_release is None:
            raise ValueError("pinned_until: without pinned_release there is nothing pinned")
        return self


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
    # A unit outside its maintenance window: wait for it (strict), leave the unit
    # for a later rollout (skip), or go ahead (ignore). None: the run's, or skip.
    maintenance: Policy | None = None

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


CONFIG_KEY = r"^[a-z][a-z0-9_]{0,62}$"
ConfigValue = bool | int | str
# A config document must fit a standard SSM parameter (4 KB) with room for its version.
CONFIG_DOCUMENT_BYTES = 4096


class ConfigKey(_Strict):
    """One setting of the tenants' configuration (a flag is a bool setting): its
    type, its default and what values mean something."""

    type: Literal["bool", "int", "string"]
    default: ConfigValue
    description: str = Field("", max_length=200)
    min: int | None = None  # int: the smallest value
    max: int | None = None  # int: the largest value
    choices: list[str] | None = None  # string: the values allowed
    max_length: int = Field(256, ge=1, le=2048)  # string: the longest value

    @model_validator(mode="after")
    def _consistent(self) -> ConfigKey:
        if (self.min is not None or self.max is not None) and self.type != "int":
            raise ValueError("min/max: only for int settings")
        if self.choices is not None and self.type != "string":
            raise ValueError("choices: only for string settings")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min: must not exceed max")
        self.check(self.default, "default")
        return self

    def check(self, value: Any, where: str) -> ConfigValue:
        """The value if it means something for this setting (ValueError otherwise)."""
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{where}: {value!r} is not true or false")
            return value
        if self.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where}: {value!r} is not a whole number")
            if self.min is not None and value < self.min:
                raise ValueError(f"{where}: {value} is below the minimum {self.min}")
            if self.max is not None and value > self.max:
                raise ValueError(f"{where}: {value} is above the maximum {self.max}")
            return value
        if not isinstance(value, str):
            raise ValueError(f"{where}: {value!r} is not text (quote it)")
        if len(value) > self.max_length:
            raise ValueError(f"{where}: longer than {self.max_length} characters")
        if any(ord(c) < 32 for c in value):
            raise ValueError(f"{where}: control characters are not allowed")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{where}: {value!r} is not one of {', '.join(self.choices)}")
        return value


class ConfigSchema(_Strict):
    """env.yaml `config:`: the settings, their defaults, and each tier's defaults."""

    keys: dict[str, ConfigKey] = Field(default_factory=dict)
    tiers: dict[Tier, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known(self) -> ConfigSchema:
        for name in self.keys:
            if not re.match(CONFIG_KEY, name):
                raise ValueError(
                    f"keys: {name!r}: lower-case letters, digits and _, starting with a letter"
                )
        for tier, values in self.tiers.items():
            self.check_values(values, f"tiers.{tier.value}")
        return self

    def check_values(self, values: dict[str, Any], where: str) -> None:
        for name, value in values.items():
            key = self.keys.get(name)
            if key is None:
                known = ", ".join(sorted(self.keys)) or "none"
                raise ValueError(f"{where}: unknown setting {name!r} (settings: {known})")
            key.check(value, f"{where}.{name}")


def _checked_quotas(values: dict[str, int], where: str) -> dict[str, int]:
    try:
        return check_overrides(values, where)
    except UserError as exc:  # pydantic reports ValueError with the field's path
        raise ValueError(exc.message) from None


CELL_NAME = r"^[a-z][a-z0-9]{0,7}$"
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")


class CellSpec(_Strict):
    """A cell: a complete copy of the shared stack (VPC, ALB and WAF, pool and
    advanced clusters, pooled tables, shared user pool) in one account and Region,
    holding a bounded number of tenants."""

    name: str = Field(pattern=CELL_NAME)
    account_id: str = Field(pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    # The role terraform and saasctl assume for the cell's resources (another
    # account's cell); None: the credentials saasctl runs with.
    role_arn: str | None = None
    network: Network | None = None  # None: env.yaml's network (first cell only)
    # Quota values this cell's account (and the cell's own ALB and web ACL) was
    # granted, over env.yaml's `quotas:`.
    quotas: dict[str, int] = Field(default_factory=dict)

    @field_validator("quotas")
    @classmethod
    def _quotas(cls, v: dict[str, int]) -> dict[str, int]:
        return _checked_quotas(v, "quotas")

    @model_validator(mode="after")
    def _role(self) -> CellSpec:
        if self.role_arn is not None:
            match = _ROLE_ARN.match(self.role_arn)
            if not match:
                raise ValueError(f"role_arn {self.role_arn!r} is not an IAM role ARN")
            if match.group(1) != self.account_id:
                raise ValueError(
                    f"role_arn {self.role_arn!r} is a role of account {match.group(1)}, "
                    f"not of the cell's account {self.account_id}"
                )
        if self.network is not None:
            wrong = [az for az in self.network.azs
                     if not re.fullmatch(re.escape(self.region) + r"[a-z]", az)]  # fmt: skip
            if wrong:
                raise ValueError(f"network.azs: {', '.join(wrong)} not a zone of {self.region}")
        return self


class CellsSpec(_Strict):
    """terraform/envs/<env>/cells.yaml (written by `saasctl cell add`). The first
    cell is the environment's original shared stack: it keeps its paths, state
    key and resource names."""

    cells: list[CellSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _cells(self) -> CellsSpec:
        names = [c.name for c in self.cells]
        if len(set(names)) != len(names):
            raise ValueError("cells: names must be unique")
        for cell in self.cells[1:]:
            if cell.network is None:
                raise ValueError(f"cells: {cell.name}: network is required (its own VPC)")
        # An account-wide quota is one value per account, whichever cell records it.
        seen: dict[tuple[str, str], int] = {}
        for cell in self.cells:
            for key, value in cell.quotas.items():
                if BY_KEY[key].scope not in (Scope.ACCOUNT, Scope.REGION):
                    continue
                region = "" if BY_KEY[key].scope == Scope.ACCOUNT else cell.region
                other = seen.setdefault((f"{cell.account_id}/{region}", key), value)
                if other != value:
                    raise ValueError(
                        f"cells: quota {key} of account {cell.account_id} is recorded as both "
                        f"{other} and {value}: one account has one value"
                    )
        return self

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json", exclude_defaults=True)
        return (
            "# The environment's cells, written by `saasctl cell add`: review it like a\n"
            "# tenant spec. The first cell is the environment's original shared stack.\n"
            + dump_yaml(data)
        )


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
    # WAF requests per 5 minutes per client IP over a cell's web ACL, whatever the
    # host (None: the highest tier limit).
    waf_ip_rate_limit: int | None = Field(None, ge=100, le=2_000_000_000)
    # AWS quota values this environment's accounts were granted (or lower caps):
    # quota key -> value; see saasctl/quotas.py for the keys and their defaults.
    quotas: dict[str, int] = Field(default_factory=dict)
    # The tenants' settings and flags, with tier defaults; delivered only by a
    # config version's rollout (`saasctl config create`, `config rollout`).
    config: ConfigSchema = ConfigSchema()

    @field_validator("quotas")
    @classmethod
    def _quotas(cls, v: dict[str, int]) -> dict[str, int]:
        return _checked_quotas(v, "quotas")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        validate_env_name(v)
        return v

    @field_validator("allowed_cidrs")
    @classmethod
    def _allowed(cls, v: list[str]) -> list[str]:
        nets = [_network(c, "allowed_cidrs:") for c in v]
        if not nets:
            raise ValueError("allowed_cidrs: give at least one network (0.0.0.0/0 for anyone)")
        if len(set(nets)) != len(nets):
            raise ValueError("allowed_cidrs: each network once")
        return v

    @field_validator("backend")
    @classmethod
    def _bucket(cls, v: Backend) -> Backend:
        # S3's naming rules beyond the characters (the S3 user guide, "bucket naming rules")
        name = v.bucket
        try:
            ipaddress.IPv4Address(name)
        except ipaddress.AddressValueError:
            pass
        else:
            raise ValueError(
                f"backend.bucket {name!r}: S3 refuses names formatted as an IP address"
            )
        if ".." in name or ".-" in name or "-." in name:
            raise ValueError(f"backend.bucket {name!r}: no '..', '.-' or '-.' in a bucket name")
        if name.startswith(("xn--", "sthree-")) or name.endswith(("-s3alias", "--ol-s3")):
            raise ValueError(f"backend.bucket {name!r}: a prefix or suffix S3 reserves")
        return v

    @model_validator(mode="after")
    def _complete(self) -> EnvSpec:
        wrong = [az for az in self.network.azs
                 if not re.fullmatch(re.escape(self.region) + r"[a-z]", az)]  # fmt: skip
        if wrong:
            raise ValueError(
                f"network.azs: {', '.join(wrong)} not a zone of {self.region} (like {self.region}a)"
            )
        missing = [t.value for t in Tier if t not in self.tiers]
        if missing:
            raise ValueError(f"tiers: defaults missing for {', '.join(missing)}")
        if self.tiers[Tier.BASIC].deployment_strategy != "ROLLING":
            raise ValueError(
                "tiers.basic.deployment_strategy: the pool rolls (each basic tenant's host "
                "rule forwards to its target group); use ROLLING"
            )
        if self.tiers[Tier.BASIC].identity == "dedicated" and self.tables():
            raise ValueError(
                "tiers.basic.identity: basic tenants' items are pooled, and a pooled "
                "service's tenant comes from the shared user pool's verified tokens; use shared"
            )
        names = [s.name for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError("services: names must be unique")
        if self.emulator and not self.endpoint:
            raise ValueError("endpoint: required when emulator is true")
        return self

    def identity(self, tier: Tier) -> str:
        """'shared' or 'dedicated': where the tier's tenants' users live."""
        chosen = self.tiers[tier].identity
        return chosen or ("shared" if tier == Tier.BASIC else "dedicated")

    def tables(self) -> list[str]:
        """Every table a service keeps tenant data in, sorted."""
        return sorted({t for svc in self.services for t in svc.tables})


# An address Cognito and mail servers take: dot-atom local part, a domain of
# DNS labels with a top-level domain of letters (RFC 5322 without quoted forms).
EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


class TenantOverrides(_Strict):
    cpu: int | None = Field(None, ge=256, le=16384)
    memory: int | None = Field(None, ge=512, le=122880)
    desired_count: int | None = Field(None, ge=0, le=100)
    max_capacity: int | None = Field(None, ge=1, le=1000)


class Suspension(_Strict):
    """A suspended tenant: blocked at the edge, its users disabled, its own services
    at zero. What the suspension changed is recorded, so a resume restores it."""

    reason: str = Field("", max_length=200)
    since: str  # UTC, ISO 8601
    # "resuming" while a resume is under way (rendered as not suspended): a re-run
    # of either command continues from the record.
    state: Literal["suspended", "resuming"] = "suspended"
    desired: dict[str, int] = Field(default_factory=dict)  # service -> desired count before
    disabled_before: list[str] = Field(default_factory=list)  # users already disabled then
    # A quiet data window saasctl opened itself for an offboard or a tier move (its
    # users stay enabled); it ends with the move, or when the move fails or is
    # declined before its apply.
    quiet: bool = False

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        if any(ord(c) < 32 for c in v):
            raise ValueError("the reason is one line of text, without control characters")
        return v


class TenantSpec(_Strict):
    id: str
    tier: Tier
    listener_priority: int = Field(ge=1, le=50000)
    # The release the tenant's own services run (advanced, premium); basic tenants
    # run on the pool, whose release is in pool.yaml. None: env.yaml's images.
    release: str | None = Field(None, pattern=VERSION_PATTERN)
    tags: dict[str, str] = Field(default_factory=dict)
    overrides: TenantOverrides = TenantOverrides()
    # The tenant's first administrator, created in its user pool (or its group in
    # the shared pool) at onboarding.
    admin_email: str | None = Field(None, max_length=254)
    # Set while an offboard is under way: the verified export of the tenant's
    # data. Deletion protection is off from then on, and a re-run resumes.
    offboarding: str | None = None
    # Set while a tier move carries the tenant's data from the pool to its own
    # tables and user pool: the export taken before the move. A re-run resumes.
    data_move: str | None = None
    # Off only while a move out of its own tables and user pool destroys them
    # (their data copied to the pool first); offboarding turns it off as well.
    deletion_protection: bool = True
    # The cell the tenant was placed into at onboarding (None: the first cell).
    cell: str | None = Field(None, pattern=CELL_NAME)
    # Set by `tenant suspend`, removed by `tenant resume`.
    suspension: Suspension | None = None
    # Why its services did not serve after its last onboard or move (None: they did,
    # or nobody waited); cleared by the next run that sees them serve.
    unhealthy: str | None = Field(None, max_length=1000)
    # When rollouts may move its own services (advanced, premium), and a pin.
    maintenance: Maintenance | None = None
    # Its own values of env.yaml's settings (checked against them on load); they
    # reach its services with the next config version rolled out.
    config: dict[str, Any] = Field(default_factory=dict)
    # The config version its own services run (advanced, premium; basic tenants
    # get the pool's, in pool.yaml). None: no configuration delivered yet.
    config_version: str | None = Field(None, pattern=VERSION_PATTERN)

    @property
    def suspended(self) -> bool:
        """Rendered as suspended: blocked at the edge, its services sized to zero."""
        return self.suspension is not None and self.suspension.state == "suspended"

    @model_validator(mode="after")
    def _maintained(self) -> TenantSpec:
        if self.maintenance is not None and self.tier is Tier.BASIC:
            raise ValueError(
                "maintenance: a basic tenant runs on the pool's services, which follow "
                "the pool's release; windows and pins are for advanced and premium tenants"
            )
        return self

    @field_validator("admin_email")
    @classmethod
    def _email(cls, v: str | None) -> str | None:
        if v is not None and not EMAIL.fullmatch(v):
            raise ValueError(f"{v!r} is not an email address like admin@example.com")
        return v

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
        return dump_yaml(data)


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
        return dump_yaml(data)


class PoolSpec(_Strict):
    """terraform/envs/<env>/pool.yaml: the release of the pooled services (basic tier)
    and the config version they deliver to the cell's basic tenants."""

    release: str | None = Field(None, pattern=VERSION_PATTERN)
    config_version: str | None = Field(None, pattern=VERSION_PATTERN)

    def to_yaml(self) -> str:
        return dump_yaml(self.model_dump(mode="json", exclude_none=True) or {"release": None})


class ConfigSpec(_Strict):
    """terraform/envs/<env>/configs/<version>.yaml: the tenants' configuration as
    it was when the version was created (settings, tier defaults, each tenant's
    values). Immutable: a change is a new version, rolled out in waves."""

    version: str = Field(pattern=VERSION_PATTERN)
    notes: str = ""
    created: str = ""
    schema_: ConfigSchema = Field(alias="schema")
    tenants: dict[str, dict[str, Any]] = Field(default_factory=dict)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _values(self) -> ConfigSpec:
        for tenant, values in self.tenants.items():
            self.schema_.check_values(values, f"tenants.{tenant}")
        return self

    def to_yaml(self) -> str:
        return dump_yaml(self.model_dump(mode="json", by_alias=True, exclude_defaults=True))


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


# Plain scalars that YAML 1.1 (PyYAML, yq v3, Ruby) and YAML 1.2 (the core schema:
# Go's yaml.v3, ruamel) read differently, or that a reviewer misreads, are refused:
# ``no`` is false or text, ``010`` is 8 or 10, ``1:30`` is 90 or text, ``08`` text
# or 8. Only decimal numbers and true/false are taken plain.
_PLAIN_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_CORE_12 = (
    ("null", re.compile(r"null|Null|NULL|~|")),
    ("bool", re.compile(r"true|True|TRUE|false|False|FALSE")),
    ("int", re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")),
    ("float", re.compile(
        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    )),
)  # fmt: skip
_READ_AS = {"null": "empty", "bool": "a boolean", "int": "a number", "float": "a number"}


def _unambiguous(node: Any, shown: str) -> None:
    """Refuse duplicate keys and plain scalars whose meaning depends on the YAML
    version, with the file and line."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in n.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise SpecError(
                            f"{shown}:{key.start_mark.line + 1}: key {key.value!r} appears "
                            "twice (YAML would keep only the last)"
                        )
                    seen.add(key.value)
                stack += [key, value]
        elif isinstance(n, yaml.SequenceNode):
            stack += n.value
        elif isinstance(n, yaml.ScalarNode) and not n.style:  # plain (libyaml: "")
            _plain(n, f"{shown}:{n.start_mark.line + 1}")


def _plain(n: Any, where: str) -> None:
    v = n.value
    old = n.tag.rsplit(":", 1)[-1]  # as YAML 1.1 reads it
    new = next((tag for tag, rx in _CORE_12 if rx.fullmatch(v)), "str")
    if old != new:
        raise SpecError(
            f"{where}: {v!r} is read as {_READ_AS.get(old, 'text')} by some YAML readers and "
            f"as {_READ_AS.get(new, 'text')} by others: quote it, or write it plainly"
        )
    if old == "int" and not _PLAIN_INT.fullmatch(v):
        raise SpecError(
            f"{where}: {v!r} is not a plain decimal number (YAML reads leading zeros, 0x, "
            "underscores and colons specially): write the decimal number, or quote it"
        )


class _Dumper(yaml.SafeDumper):
    """Quotes every string that a YAML reader could take for something else."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    new = next((tag for tag, rx in _CORE_12 if rx.fullmatch(value)), "str")
    if new != "str":
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML that saasctl's reader takes back exactly (see :func:`_unambiguous`)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


def parse_yaml(path: Path, display: str | None = None) -> tuple[Any, str]:
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError(f"{shown}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{shown}: cannot read: {exc}") from exc
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _unambiguous(node, shown)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SpecError(f"{shown}{where}: malformed YAML: {problem}") from exc
    finally:
        loader.dispose()
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
