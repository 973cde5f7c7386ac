"""The one console: data goes to stdout, progress and messages to stderr."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table


class UI:
    def __init__(self, *, quiet: bool = False, verbose: bool = False):
        no_color = bool(os.environ.get("NO_COLOR"))
        self.out = Console(no_color=no_color, highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.verbose = verbose

    def info(self, message: str) -> None:
        if not self.quiet:
            self.err.print(message)

    def step(self, message: str) -> None:
        self.info(f"[bold cyan]>[/] {message}")

    def success(self, message: str) -> None:
        self.info(f"[bold green]ok[/] {message}")

    def warn(self, message: str) -> None:
        self.err.print(f"[bold yellow]warning:[/] {message}")

    def debug(self, message: str) -> None:
        if self.verbose:
            self.err.print(message, markup=False, style="dim")

    def error(self, message: str) -> None:
        self.err.print(f"[bold red]error:[/] {escape(message)}")

    def emit_json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        sys.stdout.flush()

    @contextmanager
    def status(self, message: str) -> Iterator[None]:
        if self.quiet or not self.err.is_terminal:
            self.step(message)
            yield
            return
        with self.err.status(message):
            yield

    def can_ask(self) -> bool:
        return sys.stdin.isatty()

    def confirm(self, question: str) -> bool:
        """Ask on the terminal; False when there is no terminal to ask."""
        if not self.can_ask():
            return False
        # "[y/N]" escaped: rich would take it for a style tag and print nothing
        self.err.print(f"[bold]{escape(question)}[/] \\[y/N] ", end="")
        try:
            answer = input()
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")


def table(*headers: str, title: str | None = None, show_header: bool = True) -> Table:
    """Every table of saasctl: a value too wide for its column folds onto the next
    line and is never cut short (ids, keys and ARNs are copied from logs)."""
    columns = [Column(h, overflow="fold") for h in headers] or [
        Column(overflow="fold"),
        Column(overflow="fold"),
    ]
    return Table(*columns, title=title, show_header=show_header)


_ui = UI()


def ui() -> UI:
    return _ui


def configure(*, quiet: bool, verbose: bool) -> UI:
    global _ui
    _ui = UI(quiet=quiet, verbose=verbose)
    return _ui
