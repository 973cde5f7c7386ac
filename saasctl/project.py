"""Where things live: the project root, its environments and their tenants."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from saasctl.errors import NotFoundError, SpecError, UserError
from saasctl.ids import validate_env_name, validate_tenant_id
from saasctl.specs import VERSION_PATTERN, EnvSpec, PoolSpec, ReleaseSpec, TenantSpec, load_model

ENV_FILE = "env.yaml"
POOL_FILE = "pool.yaml"  # the pooled services' release
RELEASES = "releases"  # <env>/releases/<version>.yaml
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
    seen: dict[int, str] = {}
    for spec in specs:
        other = seen.setdefault(spec.listener_priority, spec.id)
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
class Environment:
    project: Project
    spec: EnvSpec
    _tenants: dict[str, TenantSpec] = field(default_factory=dict, compare=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def dir(self) -> Path:
        return self.project.envs / self.name

    @property
    def shared_dir(self) -> Path:
        return self.dir / "shared"

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
        if not re.fullmatch(VERSION_PATTERN.strip("^$"), version):
            raise UserError(
                f"invalid release version {version!r}: letters, digits and . _ + - "
                "(at most 64, starting with a letter or digit)"
            )
        return self.releases_dir / f"{version}.yaml"

    def release_versions(self) -> list[str]:
        """Every release of the environment, oldest version first (natural order)."""
        found = (
            [p.stem for p in self.releases_dir.glob("*.yaml")] if self.releases_dir.is_dir() else []
        )
        return sorted(found, key=version_key)

    def load_release(self, version: str) -> ReleaseSpec:
        path = self.release_file(version)
        if not path.is_file():
            known = ", ".join(self.release_versions()) or "none"
            raise NotFoundError(
                f"release {version!r} not found in environment {self.name!r} (known: {known})",
                hint=f"create it: `saasctl release create {version} --image SERVICE=IMAGE ...`",
            )
        release: ReleaseSpec = load_model(ReleaseSpec, path, self.project.display(path))
        if release.version != version:
            raise SpecError(
                f"{self.project.display(path)}: version: {release.version!r} does not match "
                f"its file name {version!r}"
            )
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
        return self.dir / POOL_FILE

    def load_pool(self) -> PoolSpec:
        if not self.pool_file.is_file():
            return PoolSpec()
        pool: PoolSpec = load_model(PoolSpec, self.pool_file, self.project.display(self.pool_file))
        return pool

    def current_release(self) -> str | None:
        """What new tenants get: the release the pool runs (None: env.yaml's images)."""
        return self.load_pool().release

    # State keys: <env>/shared/terraform.tfstate and <env>/tenants/<id>/terraform.tfstate
    @property
    def shared_state_key(self) -> str:
        return f"{self.name}/shared/terraform.tfstate"

    def tenant_state_key(self, tenant_id: str) -> str:
        return f"{self.name}/tenants/{validate_tenant_id(tenant_id)}/terraform.tfstate"

    def lock_key(self, workspace: str) -> str:
        """saasctl's operation lock of 'shared' or of a tenant, beside its state."""
        if workspace == SHARED:
            return f"{self.name}/shared/saasctl.lock"
        return f"{self.name}/tenants/{validate_tenant_id(workspace)}/saasctl.lock"

    def priority_claims_prefix(self) -> str:
        return f"{self.name}/priorities/"

    def restore_marker_key(self, tenant_id: str) -> str:
        """Which data export the next onboard of a restored tenant brings back."""
        return f"{self.name}/tenants/{validate_tenant_id(tenant_id)}/saasctl-restore.json"

    def archive_prefix(self, tenant_id: str) -> str:
        return f"{self.spec.backend.archive_prefix}/{self.name}/tenants/{tenant_id}/"
