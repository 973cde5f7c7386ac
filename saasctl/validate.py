"""`saasctl validate`: terraform validate of every module, example and rendered
workspace, with no network and no AWS.

hashicorp/aws comes from the real provider mirror when one is configured,
otherwise from saasctl's offline provider (validate never configures a
provider, so nothing is planned or created). Each target gets its own
TF_DATA_DIR under the cache, so the rendered workspaces' own `.terraform`
(backend, init stamp) is left as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from saasctl import backend
from saasctl.errors import TerraformError
from saasctl.project import Project
from saasctl.terraform import Terraform, find_binary


@dataclass
class Outcome:
    target: str
    ok: bool
    errors: list[str] = field(default_factory=list)
    warnings: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def targets(project: Project, envs: list[str]) -> list[Path]:
    """Modules (stand-ins too), examples, and the given environments' rendered workspaces."""
    found = sorted({p.parent for p in project.modules.rglob("*.tf") if ".terraform" not in p.parts})
    examples = project.root / "terraform" / "examples"
    found += sorted({p.parent for p in examples.glob("*/*.tf")})
    for name in envs:
        env_dir = project.envs / name
        found += sorted(p.parent for p in env_dir.glob("shared/main.tf"))
        tenants = env_dir.glob("tenants/*/main.tf")  # not the dot-directories being removed
        found += sorted(p.parent for p in tenants if not p.parent.name.startswith("."))
    return found


def _diagnostic(d: dict[str, Any], shown: str) -> str:
    where = shown
    rng = d.get("range") or {}
    if rng.get("filename"):
        where = f"{shown}/{rng['filename']}:{rng.get('start', {}).get('line', '?')}"
    detail = " ".join(str(d.get("detail", "")).split())
    return f"{where}: {d.get('summary', '')}" + (f": {detail}" if detail else "")


def validate_all(
    project: Project,
    envs: list[str],
    *,
    parallelism: int,
    progress: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    offline = not backend.aws_provider_available()
    cli_config, _ = backend.prepare_providers(project.cache, offline_aws=offline)
    env = backend.offline_aws_env(project.cache) if offline else {}
    tf = Terraform(find_binary(), cli_config=cli_config, env=env)
    data_root = project.cache / "validate"

    def one(path: Path) -> Outcome:
        shown = project.display(path)
        key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
        extra = {"TF_DATA_DIR": str(data_root / key)}
        try:
            tf.run(path, ["init", "-backend=false", "-input=false", "-no-color"], env=extra)
            result = tf.run(path, ["validate", "-json", "-no-color"], ok_codes=(0, 1), env=extra)
            report = json.loads(result.stdout)
        except (TerraformError, json.JSONDecodeError) as exc:
            message = exc.one_line() if isinstance(exc, TerraformError) else str(exc)
            outcome = Outcome(shown, False, [message])
        else:
            diags = report.get("diagnostics", [])
            errors = [_diagnostic(d, shown) for d in diags if d.get("severity") == "error"]
            warnings = sum(1 for d in diags if d.get("severity") == "warning")
            outcome = Outcome(shown, bool(report.get("valid")) and not errors, errors, warnings)
        if progress:
            progress(outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return list(pool.map(one, targets(project, envs)))
