"""Which workspaces a change touches (``--changed-since REF``) and shard selection.

A workspace is affected when, between REF and the working tree (untracked files
included), any of these changed:
- its own directory (a tenant's spec or rendered files; the shared workspace);
- the environment's ``env.yaml`` (every workspace of that environment);
- its template: ``templates/shared/*`` for the shared workspace,
  ``templates/tenant/<tier>.tf.j2`` for tenants of that tier, and templates whose
  name starts with ``_`` for every workspace that includes them;
- a file of a module in its module tree (the module it calls and, transitively,
  the modules those call; symlinked files count at both ends).
Changes to saasctl's own code select nothing: run the whole fleet for those.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from saasctl.context import Context, Workspace
from saasctl.errors import UserError
from saasctl.render import module_dir
from saasctl.specs import Tier

_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.{1,2}/[^"]+)"', re.M)


def changed_paths(root: Path, ref: str) -> set[str]:
    def git(*args: str) -> list[str]:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
        if proc.returncode != 0:
            line = (proc.stderr.strip().splitlines() or ["git failed"])[-1]
            raise UserError(f"--changed-since {ref}: {line}")
        return [p for p in proc.stdout.splitlines() if p]

    # The ref is the user's: after --end-of-options git never reads it as an option
    # (a ref of `--output=FILE` would otherwise write that file).
    tracked = set(git("diff", "--name-only", "--end-of-options", ref, "--"))
    # Untracked files through status: about 4x faster than `ls-files --others` on big trees.
    status = git("status", "--porcelain=v1", "-z", "--untracked-files=all")
    entries = status[0].split("\0") if status else []
    return tracked | {e[3:] for e in entries if e.startswith("?? ")}


def module_tree(module: Path) -> set[Path]:
    """The module's directory and, transitively, those of the local modules it calls."""
    seen: set[Path] = set()
    todo = [module.resolve()]
    while todo:
        current = todo.pop()
        if current in seen or not current.is_dir():
            continue
        seen.add(current)
        for tf in current.glob("*.tf"):
            for src in _SOURCE.findall(tf.read_text(encoding="utf-8")):
                todo.append((current / src).resolve())
    return seen


def _tree_files(root: Path, dirs: set[Path]) -> tuple[set[str], set[str]]:
    """Relative files (both ends of symlinks) and directory prefixes of a module tree."""
    files: set[str] = set()
    prefixes: set[str] = set()
    for d in dirs:
        prefixes.add(d.relative_to(root).as_posix() + "/")
        for f in d.iterdir():
            if f.is_file():  # d is resolved: d/name is the link itself for a symlink
                files.add((d.relative_to(root) / f.name).as_posix())
                files.add(f.resolve().relative_to(root).as_posix())
    return files, prefixes


def affected(
    ctx: Context,
    spaces: list[Workspace],
    changed: set[str],
    tiers: Mapping[str, Tier] | None = None,
) -> list[Workspace]:
    env = ctx.env
    root = env.project.root.resolve()
    env_prefix = env.dir.resolve().relative_to(root).as_posix() + "/"
    if f"{env_prefix}env.yaml" in changed:
        return spaces
    shared_templates = any(p.startswith("templates/_") for p in changed)
    trees: dict[str, tuple[set[str], set[str]]] = {}
    selected = []
    for ws in spaces:
        if ws.tenant_id is None:
            own = f"{env_prefix}shared/"
            kind, template_hit = (
                "shared-stack",
                any(p.startswith("templates/shared/") for p in changed),
            )
        else:
            own = f"{env_prefix}tenants/{ws.tenant_id}/"
            known = (tiers or {}).get(ws.tenant_id)
            tier = (known or env.load_tenant(ws.tenant_id).tier).value
            kind = f"tenant-{tier}"
            template_hit = any(
                p.startswith("templates/tenant/_") or p == f"templates/tenant/{tier}.tf.j2"
                for p in changed
            )
        if kind not in trees:
            trees[kind] = _tree_files(root, module_tree(module_dir(env, kind)))
        files, prefixes = trees[kind]
        module_hit = any(p in files or any(p.startswith(d) for d in prefixes) for p in changed)
        if (
            shared_templates
            or template_hit
            or module_hit
            or any(p.startswith(own) for p in changed)
        ):
            selected.append(ws)
    return selected


def candidate_tenants(ctx: Context, changed: set[str]) -> set[str] | None:
    """Tenants that can be affected, or None when a change may touch any of them.

    Only changes inside tenant directories narrow the set; templates, modules or
    the env file can touch any tenant (then every spec is needed for its tier).
    """
    env = ctx.env
    prefix = env.dir.resolve().relative_to(env.project.root.resolve()).as_posix() + "/"
    ids: set[str] = set()
    for path in changed:
        if path.startswith(("templates/", "terraform/modules/")) or path == f"{prefix}env.yaml":
            return None
        if path.startswith(f"{prefix}tenants/"):
            ids.add(path[len(prefix) + len("tenants/") :].split("/", 1)[0])
    return ids


def parse_shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise UserError(f"--shard {text!r}: expected i/N with 1 <= i <= N, e.g. 2/4")
    return int(match.group(1)), int(match.group(2))


def shard_of(label: str, total: int) -> int:
    """1-based shard of a workspace: stable across runs and machines; shared is in shard 1."""
    if label == "shared":
        return 1
    return int(hashlib.sha256(label.encode()).hexdigest(), 16) % total + 1


def matrix(total: int) -> dict[str, list[dict[str, str]]]:
    return {"include": [{"shard": f"{i}/{total}"} for i in range(1, total + 1)]}


def cache_paths(env_name: str) -> list[str]:
    """What a CI cache of init keeps, relative to the project root: terraform's
    .terraform directories (saasctl's init stamps live in them) and lock files, and
    saasctl's project cache (provider mirror, render manifest). Restored into a
    fresh clone at the same path, a workspace whose stamp still matches is not
    initialised again."""
    base = f"terraform/envs/{env_name}"
    return [f"{base}/**/.terraform", f"{base}/**/.terraform.lock.hcl", ".saasctl"]


def cache_key(ctx: Context) -> str:
    """Changes whenever what init produced could: the terraform binary, a module or
    template file, the backend settings, the providers offered (the CLI config
    names the mirror and its contents) and saasctl itself. A stale entry is never
    wrong, only slower: a workspace whose stamp differs is initialised again."""
    from saasctl import __version__, backend

    env, binary = ctx.env, ctx.binary
    digest = hashlib.sha256(f"saasctl {__version__}\0{binary.describe()}\0".encode())
    settings = backend.runtime_backend(env, binary.version, ctx.aws.endpoint)
    digest.update(backend.tfbackend_text(settings).encode())  # endpoint, locking
    digest.update(env.spec.backend.model_dump_json().encode())  # bucket, table (rendered)
    config = ctx.tf.cli_config
    if config is not None and config.is_file():
        digest.update(config.read_bytes())
    root = env.project.root
    for part in ("terraform/modules", "templates"):
        for path in sorted((root / part).rglob("*")):
            if path.is_file() and ".terraform" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()[:32]
