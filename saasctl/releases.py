"""Releases: a version of the application, i.e. an image per service, pinned, in a
reviewed file; and the units that run one.

A *unit* is what a release is rolled out to: the pool (the basic tier's pooled
services, in the shared workspace; its release is in ``pool.yaml``) and each
advanced or premium tenant (its own services; its release is in its spec).
Basic tenants have no services of their own: they run what the pool runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from saasctl.errors import ConflictError, UserError
from saasctl.files import atomic_write
from saasctl.project import Cell, Environment
from saasctl.specs import ReleaseSpec, TenantSpec, Tier, check_image

POOL = "pool"  # the pool's unit label (never a tenant id: reserved)


@dataclass(frozen=True)
class Unit:
    label: str  # a cell's pool ("pool", "pool@c2") or a tenant id
    release: str | None  # None: env.yaml's images (no release yet)
    tier: Tier | None = None  # None for a pool
    tags: tuple[tuple[str, str], ...] = ()
    cell: str | None = None  # its cell (None: the first)
    config: str | None = None  # its config version (None: no configuration delivered)

    @property
    def is_pool(self) -> bool:
        return self.tier is None

    def runs(self, what: str) -> str | None:
        """The version it runs of a release ("release") or of the configuration."""
        return self.release if what == "release" else self.config


def units(env: Environment, specs: list[TenantSpec] | None = None) -> list[Unit]:
    """Every cell's pool and every advanced or premium tenant, in a stable order."""
    specs = env.load_tenants() if specs is None else specs
    out = [_pool_unit(env, c) for c in env.cells()]
    out += [_tenant_unit(env, s) for s in sorted(specs, key=lambda s: s.id) if s.tier != Tier.BASIC]
    return out


def _pool_unit(env: Environment, cell: Cell) -> Unit:
    pool = env.load_pool(cell)
    return Unit(cell.pool_unit, pool.release, cell=cell.name, config=pool.config_version)


def _tenant_unit(env: Environment, spec: TenantSpec) -> Unit:
    return Unit(spec.id, spec.release, spec.tier, tuple(sorted(spec.tags.items())),
                env.cell_of(spec).name, spec.config_version)  # fmt: skip


def unit_of(env: Environment, label: str) -> Unit:
    """The unit a label names: a cell's pool or a tenant."""
    for cell in env.cells():
        if label == cell.pool_unit:
            return _pool_unit(env, cell)
    return _tenant_unit(env, env.load_tenant(label))


def running(env: Environment, specs: list[TenantSpec] | None = None) -> dict[str | None, list[str]]:
    """Release -> the units running it (None: env.yaml's images)."""
    out: dict[str | None, list[str]] = {}
    for unit in units(env, specs):
        out.setdefault(unit.release, []).append(unit.label)
    return out


def release_of(env: Environment, spec: TenantSpec) -> str | None:
    """What a tenant runs: its own release, or its cell's pool's for a basic tenant."""
    return env.load_pool(env.cell_of(spec)).release if spec.tier == Tier.BASIC else spec.release


def parse_images(pairs: list[str]) -> dict[str, str]:
    images: dict[str, str] = {}
    for pair in pairs:
        service, sep, image = pair.partition("=")
        if not sep or not service or not image:
            raise UserError(f"--image {pair!r}: expected SERVICE=IMAGE, e.g. web=repo/web:1.4.0")
        if service in images:
            raise UserError(f"--image: service {service!r} given twice")
        try:
            images[service] = check_image(image)
        except ValueError as exc:
            raise UserError(f"--image {service}: {exc}") from None
    return images


def create(
    env: Environment,
    version: str,
    images: dict[str, str],
    *,
    notes: str = "",
    upgradeable_from: list[str] | None = None,
) -> tuple[ReleaseSpec, bool]:
    """Write ``releases/<version>.yaml``; (the release, whether the file changed).

    Writing the same release again changes nothing. A release that a unit runs is
    immutable: changing it is an error naming the units.
    """
    path = env.release_file(version)
    try:
        release = ReleaseSpec(
            version=version, images=images, notes=notes, upgradeable_from=upgradeable_from
        )
    except ValueError as exc:  # pydantic: a value the flags let through
        raise UserError(f"release {version}: {' '.join(str(exc).split())}") from None
    env.check_release(release, f"release {version}")
    for previous in upgradeable_from or []:
        env.load_release(previous)  # must exist
    if path.is_file():
        existing = env.load_release(version)
        if existing == release:
            return existing, False
        users = running(env).get(version, [])
        if users:
            raise ConflictError(
                f"release {version!r} is immutable: {', '.join(users)} run(s) it",
                hint="create a new version instead",
            )
    atomic_write(path, release.to_yaml())
    return release, True


def listing(env: Environment) -> list[dict[str, Any]]:
    """Every release (env.yaml's images first, when a unit runs them) with its images
    and the units that run it."""
    by_release = running(env)
    current = env.current_release()
    versions: list[str | None] = [None] if None in by_release else []
    rows: list[dict[str, Any]] = []
    for version in versions + env.release_versions():
        release = env.load_release(version) if version else None
        rows.append(
            {
                "version": version,
                "images": release.images if release else env.images(None),
                "notes": release.notes if release else "the images in env.yaml",
                "upgradeable_from": release.upgradeable_from if release else None,
                "units": by_release.get(version, []),
                "current": version == current,
            }
        )
    return rows
