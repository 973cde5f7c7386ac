"""The saasctl command line: one module per command group, joined here.

Commands are thin: they parse options, make one call into the library and
present its result. Options shared by several commands are declared once in
``common``. ``run`` is the boundary where every ``SaasctlError`` becomes one
line on stderr and its documented exit code.

The table of contents below sets the order ``saasctl --help`` lists them in.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
import threading
from typing import Annotated, NoReturn

import typer

from saasctl import __version__, console
from saasctl.cli import cell, ci, code, config, fleet, local, release, state, tenant
from saasctl.cli.common import EXIT_CODES
from saasctl.errors import ExitCode, SaasctlError

app = typer.Typer(
    name="saasctl",
    help="Control plane of a tiered multi-tenant SaaS on AWS ECS, driven by Terraform.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for name, fn in (
    ("bootstrap", state.bootstrap),
    ("render", fleet.render),
    ("plan", fleet.plan),
    ("apply", fleet.apply),
    ("drift", fleet.drift),
    ("fmt", code.fmt),
    ("validate", code.validate),
    ("emulator", local.emulator),
    ("unlock", state.unlock),
    ("unlock-state", state.unlock_state),
    ("audit", state.audit),
):
    app.command(name, epilog=EXIT_CODES)(fn)
app.add_typer(tenant.app, name="tenant")
app.add_typer(cell.app, name="cell")
app.add_typer(ci.app, name="ci")
app.add_typer(local.offline_app, name="offline")
app.add_typer(release.app, name="release")
app.add_typer(config.app, name="config")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"saasctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and results.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show terraform commands and output.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Shared options; NO_COLOR turns colour off."""
    console.configure(quiet=quiet, verbose=verbose)


# Typer >= 0.23 vendors click; find its UsageError through a public class.
_UsageError: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; every error becomes one line on stderr and a documented exit code."""
    try:
        result = app(args=argv, standalone_mode=False, prog_name="saasctl")
    except _UsageError as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "saasctl"
        message = exc.format_message().replace("Value error, ", "")  # type: ignore[attr-defined]
        console.ui().error(f"{' '.join(message.split())} (see `{where} -h`)")
        return int(ExitCode.INVALID)
    except typer.Abort:
        return int(ExitCode.INTERRUPTED)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except SaasctlError as exc:
        console.ui().error(exc.one_line())
        return int(exc.exit_code)
    except KeyboardInterrupt:
        console.ui().error("interrupted")
        return int(ExitCode.INTERRUPTED)
    return int(result) if isinstance(result, int) else 0


def main() -> NoReturn:
    code = run()
    if sys.getprofile() is not None:  # a profiler writes its report after main returns
        sys.exit(code)
    # Interpreter teardown (botocore's models: many thousands of objects) costs
    # ~0.1 s per command and does nothing for us: do what exit would do that
    # matters (threads joined, atexit handlers, streams flushed), then leave.
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to lose
            stream.flush()
    os._exit(code)
