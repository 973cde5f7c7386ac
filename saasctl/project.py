"""Where things live: the project root, its environments and their tenants."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saasctl.errors import NotFoundError, SpecError, UserError
from saasctl.ids import validate_env_name, validate_tenant_id
from saasctl.specs import (
    VERSION_PATTERN,
    CellSpec,
    CellsSpec,
    ConfigSpec,
    EnvSpec,
    Network,
    PoolSpec,
    ReleaseSpec,
    TenantSpec,
    load_model,
)

ENV_FILE = "env.yaml"
CELLS_FILE = "cells.yaml"  # the environment's cells (`saasctl cell add` writes it)
FIRST_CELL = "main"  # the first cell's name when cells.yaml does not name it
POOL_FILE = "pool.yaml"  # the pooled services' release
RELEASES = "releases"  # <env>/releases/<version>.yaml
CONFIGS = "configs"  # <env>/configs/<version>.yaml
SHARED = "shared"  # the shared workspace's name (a reserved tenant id)
TENANT_FILE = "tenant.yaml"


def find_root(start: Path | None = None) -> Path:
    """The directory holding ``terraform/envs``: $SAASCTL_ROOT, else upwards from cwd."""
    explicit = os.environ.get("SAASCTL_ROOT")
    if explicit:
        root = Path(explicit).resolve()
        if not (root / "terraform" / "envs").is_dir():
            raise UserError(f"SAASCTL_ROOT={explicit} has no terraform/envs directory")
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "terraform" / "envs").is_dir() and (candidate / "templates").is_dir():
            return candidate
    raise UserError(
        "not inside a saasctl project (no terraform/envs and templates/ found upwards)",
        hint="cd into the repository or set SAASCTL_ROOT",
    )


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order: 1.10.0 after 1.9.2, numbers before words at the same place."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[._+-]", version)
    )


def check_priorities(specs: list[TenantSpec]) -> None:
    """Listener priorities are unique per load balancer, i.e. per cell."""
    seen: dict[tuple[str | None, int], str] = {}
    for spec in specs:
        other = seen.setdefault((spec.cell, spec.listener_priority), spec.id)
        if other != spec.id:
            raise SpecError(
                f"tenants {other!r} and {spec.id!r} share listener_priority "
                f"{spec.listener_priority}",
                hint="give one of them a free block; `saasctl tenant list` shows those in use",
            )


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def modules(self) -> Path:
        return self.root / "terraform" / "modules"

    @property
    def envs(self) -> Path:
        return self.root / "terraform" / "envs"

    @property
    def cache(self) -> Path:
        """Machine-local working files (provider mirror, CLI config); never committed."""
        return self.root / ".saasctl"

    def env_names(self) -> list[str]:
        return sorted(p.parent.name for p in self.envs.glob(f"*/{ENV_FILE}"))

    def load_env(self, name: str) -> Environment:
        validate_env_name(name)
        path = self.envs / name / ENV_FILE
        if not path.is_file():
            known = ", ".join(self.env_names()) or "none"
            raise NotFoundError(f"environment {name!r} not found (known: {known})")
        spec: EnvSpec = load_model(EnvSpec, path, self.display(path))
        if spec.name != name:
            raise SpecError(
                f"{self.display(path)}: name: {spec.name!r} does not match its directory {name!r}"
            )
        return Environment(project=self, spec=spec)

    def display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class Cell:
    """One cell of an environment: its shared workspace and where it keeps things.
    The first cell is the environment's original shared stack and keeps its paths,
    state key, lock and claims (so an environment from before cells is its first
    cell as it was); the others live under ``cells/<name>/``."""

    env: Environment
    spec: CellSpec
    first: bool

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        """The cell's shared workspace in reports, locks and commands."""
        return SHARED if self.first else f"{SHARED}@{self.name}"

    @property
    def pool_unit(self) -> str:
        """The cell's pooled services as a release unit."""
        return "pool" if self.first else f"pool@{self.name}"

    @property
    def dir(self) -> Path:
        return self.env.dir / SHARED if self.first else self.env.dir / "cells" / self.name

    @property
    def _prefix(self) -> str:
        return f"{self.env.name}/{SHARED}" if self.first else f"{self.env.name}/cells/{self.name}"

    @property
    def state_key(self) -> str:
        return f"{self._prefix}/terraform.tfstate"

    @property
    def lock_key(self) -> str:
        return f"{self._prefix}/saasctl.lock"

    @property
    def priority_claims_prefix(self) -> str:
        return f"{self.env.name}/priorities/" if self.first else f"{self._prefix}/priorities/"

    @property
    def usage_key(self) -> str:
        """The cell's usage ledger: what each of its workspaces consumes of each quota."""
        return f"{self.env.name}/cells/{self.name}/usage.json"

    @property
    def pool_file(self) -> Path:
        return self.env.dir / POOL_FILE if self.first else self.dir / POOL_FILE

    @property
    def network(self) -> Network:
        return self.spec.network or self.env.spec.network

    def describe(self) -> str:
        return f"cell {self.name} (account {self.spec.account_id}, {self.spec.region})"


@dataclass(frozen=True)
class Environment:
    project: Project
    spec: EnvSpec
    _tenants: dict[str, TenantSpec] = field(default_factory=dict, compare=False)
    _cells: list[Cell] = field(default_factory=list, compare=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dir(self) -> Path:
        return self.project.envs / self.name

    @property
    def shared_dir(self) -> Path:
        """The first cell's shared workspace (the environment's original one)."""
        return self.first_cell.dir

    # --- cells ------------------------------------------------------------------

    @property
    def cells_file(self) -> Path:
        return self.dir / CELLS_FILE

    def cells(self) -> list[Cell]:
        """The environment's cells, the first first. Without cells.yaml: one cell,
        ``main``, in env.yaml's account and Region."""
        if not self._cells:
            if self.cells_file.is_file():
                shown = self.project.display(self.cells_file)
                specs: CellsSpec = load_model(CellsSpec, self.cells_file, shown)
                cells = specs.cells
            else:
                s = self.spec
                cells = [CellSpec(name=FIRST_CELL, account_id=s.account_id, region=s.region)]
            first = cells[0]
            if first.network is None and first.region != self.spec.region:
                raise SpecError(
                    f"{self.project.display(self.cells_file)}: cells: {first.name}: network "
                    f"is required in a Region other than env.yaml's ({self.spec.region})"
                )
            self._cells.extend(Cell(self, c, i == 0) for i, c in enumerate(cells))
        return list(self._cells)

    @property
    def first_cell(self) -> Cell:
        return self.cells()[0]

    def cell(self, name: str | None) -> Cell:
        """A cell by name (None: the first)."""
        if name is None:
            return self.first_cell
        for cell in self.cells():
            if cell.name == name:
                return cell
        known = ", ".join(c.name for c in self.cells())
        raise NotFoundError(
            f"cell {name!r} not found in environment {self.name!r} (known: {known})",
            hint="see `saasctl cell list`; `saasctl cell add` creates one",
        )

    def cell_by_label(self, label: str) -> Cell | None:
        """The cell whose shared workspace is ``label`` ('shared', 'shared@c2')."""
        return next((c for c in self.cells() if c.label == label), None)

    def cell_of(self, spec: TenantSpec) -> Cell:
        return self.cell(spec.cell)

    def tenants_of(self, cell: Cell, specs: list[TenantSpec] | None = None) -> list[TenantSpec]:
        specs = self.load_tenants() if specs is None else specs
        return [s for s in specs if self.cell_of(s).name == cell.name]

    @property
    def tenants_dir(self) -> Path:
        return self.dir / "tenants"

    def tenant_dir(self, tenant_id: str) -> Path:
        return self.tenants_dir / validate_tenant_id(tenant_id)

    def tenant_file(self, tenant_id: str) -> Path:
        return self.tenant_dir(tenant_id) / TENANT_FILE

    def has_tenant(self, tenant_id: str) -> bool:
        return self.tenant_file(tenant_id).is_file()

    def load_tenant(self, tenant_id: str) -> TenantSpec:
        path = self.tenant_file(tenant_id)
        if not path.is_file():
            raise NotFoundError(
                f"tenant {tenant_id!r} not found in environment {self.name!r}",
                hint="see `saasctl tenant list`",
            )
        spec: TenantSpec = load_model(TenantSpec, path, self.project.display(path))
        try:  # its own values mean something for env.yaml's settings
            self.spec.config.check_values(spec.config, "config")
        except ValueError as exc:
            raise SpecError(f"{self.project.display(path)}: {exc}") from None
        if spec.id != tenant_id:
            raise SpecError(
                f"{self.project.display(path)}: id: {spec.id!r} does not match its "
                f"directory {tenant_id!r}"
            )
        return spec

    def tenant_ids(self) -> list[str]:
        """Tenants with a spec on disk. Dot-directories are saasctl's own: an
        offboard renames the tenant's directory to one before removing it."""
        if not self.tenants_dir.is_dir():
            return []
        found = (p.parent.name for p in self.tenants_dir.glob(f"*/{TENANT_FILE}"))
        return sorted(name for name in found if not name.startswith("."))

    def load_present_tenant(self, tenant_id: str) -> TenantSpec | None:
        """A listed tenant's spec, or None if a concurrent offboard removed it
        since the listing (an error in a spec that is still there is raised)."""
        try:
            return self.load_tenant(tenant_id)
        except (NotFoundError, SpecError):
            if self.has_tenant(tenant_id):
                raise
            return None

    def load_tenants(self) -> list[TenantSpec]:
        """All tenant specs; duplicate listener priorities are an error."""
        specs = [s for t in self.tenant_ids() if (s := self.load_present_tenant(t)) is not None]
        check_priorities(specs)
        return specs

    # --- releases -----------------------------------------------------------

    @property
    def releases_dir(self) -> Path:
        return self.dir / RELEASES

    def release_file(self, version: str) -> Path:
        return self._version_file(RELEASES, "release version", version)

    def release_versions(self) -> list[str]:
        """Every release of the environment, oldest version first (natural order)."""
        return self._versions(RELEASES)

    def load_release(self, version: str) -> ReleaseSpec:
        path = self.release_file(version)
        release: ReleaseSpec = self._load_version(
            path, RELEASES, "release", ReleaseSpec,
            f"create it: `saasctl release create {version} --image SERVICE=IMAGE ...`",
        )  # fmt: skip
        self.check_release(release, self.project.display(path))
        return release

    def check_release(self, release: ReleaseSpec, where: str) -> None:
        """A release names an image for exactly the environment's services."""
        services = {svc.name for svc in self.spec.services}
        unknown = sorted(set(release.images) - services)
        if unknown:
            raise SpecError(
                f"{where}: images: unknown service {unknown[0]!r} "
                f"(services: {', '.join(sorted(services))})"
            )
        missing = sorted(services - set(release.images))
        if missing:
            raise SpecError(f"{where}: images: no image for service {missing[0]!r}")

    def images(self, release: str | None) -> dict[str, str]:
        """Service -> image of a release; None: the images in env.yaml (no release yet)."""
        if release is None:
            return {svc.name: svc.image for svc in self.spec.services}
        return dict(self.load_release(release).images)

    @property
    def pool_file(self) -> Path:
        return self.first_cell.pool_file

    def load_pool(self, cell: Cell | None = None) -> PoolSpec:
        """The release of a cell's pooled services (default: the first cell's)."""
        path = (cell or self.first_cell).pool_file
        if not path.is_file():
            return PoolSpec()
        pool: PoolSpec = load_model(PoolSpec, path, self.project.display(path))
        return pool

    def current_release(self) -> str | None:
        """What new tenants get: the release the first cell's pool runs (None:
        env.yaml's images)."""
        return self.load_pool().release

    # --- config versions ------------------------------------------------------

    def config_file(self, version: str) -> Path:
        return self._version_file(CONFIGS, "config version", version)

    def config_versions(self) -> list[str]:
        """Every config version of the environment, oldest first (natural order)."""
        return self._versions(CONFIGS)

    def load_config(self, version: str) -> ConfigSpec:
        config: ConfigSpec = self._load_version(
            self.config_file(version), CONFIGS, "config version", ConfigSpec,
            f"create it: `saasctl config create {version}`",
        )  # fmt: skip
        return config

    # Releases and config versions: one reviewed file per version in a folder.

    def _version_file(self, folder: str, what: str, version: str) -> Path:
        if not re.fullmatch(VERSION_PATTERN.strip("^$"), version):
            raise UserError(
                f"invalid {what} {version!r}: letters, digits and . _ + - "
                "(at most 64, starting with a letter or digit)"
            )
        return self.dir / folder / f"{version}.yaml"

    def _versions(self, folder: str) -> list[str]:
        where = self.dir / folder
        found = [p.stem for p in where.glob("*.yaml")] if where.is_dir() else []
        return sorted(found, key=version_key)

    def _load_version(self, path: Path, folder: str, what: str, model: type[Any], hint: str) -> Any:
        version = path.stem
        if not path.is_file():
            known = ", ".join(self._versions(folder)) or "none"
            raise NotFoundError(
                f"{what} {version!r} not found in environment {self.name!r} (known: {known})",
                hint=hint,
            )
        loaded = load_model(model, path, self.project.display(path))
        if loaded.version != version:
            raise SpecError(
                f"{self.project.display(path)}: version: {loaded.version!r} does not match "
                f"its file name {version!r}"
            )
        return loaded

    def current_config(self) -> str | None:
        """The config version new tenants get: the first cell's pool's."""
        return self.load_pool().config_version

    # State keys: <env>/shared/terraform.tfstate (the first cell; the others'
    # <env>/cells/<name>/terraform.tfstate) and <env>/tenants/<id>/terraform.tfstate
    @property
    def shared_state_key(self) -> str:
        return self.first_cell.state_key

    def tenant_state_key(self, tenant_id: str) -> str:
        return f"{self.name}/tenants/{validate_tenant_id(tenant_id)}/terraform.tfstate"

    def lock_key(self, workspace: str) -> str:
        """saasctl's operation lock of a cell's shared workspace ('shared',
        'shared@c2') or of a tenant, beside its state."""
        cell = self.cell_by_label(workspace)
        if cell is not None:
            return cell.lock_key
        if workspace.startswith(f"{SHARED}@"):
            return self.cell(workspace.partition("@")[2]).lock_key  # unknown: one line
        return f"{self.name}/tenants/{validate_tenant_id(workspace)}/saasctl.lock"

    def restore_marker_key(self, tenant_id: str) -> str:
        """Which data export the next onboard of a restored tenant brings back."""
        return f"{self.name}/tenants/{validate_tenant_id(tenant_id)}/saasctl-restore.json"

    def archive_prefix(self, tenant_id: str) -> str:
        return f"{self.spec.backend.archive_prefix}/{self.name}/tenants/{tenant_id}/"
