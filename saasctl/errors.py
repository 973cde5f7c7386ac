"""One root for every error saasctl raises on purpose.

The CLI boundary turns a ``SaasctlError`` into one line on stderr and its
``exit_code``; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0  # success; for plans: no changes
    ERROR = 1  # terraform, AWS or other operational failure
    CHANGES = 2  # a plan has changes (plan commands, --plan-only)
    INVALID = 3  # bad input: id, spec, env file, unknown tenant, usage
    LOCKED = 4  # another operation holds the lock
    ABORTED = 5  # the operator declined (or could not be asked) to confirm
    INTERRUPTED = 130  # Ctrl-C


class SaasctlError(Exception):
    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        return f"{text} ({self.hint})" if self.hint else text


class UserError(SaasctlError):
    """Something the operator must fix: an id, a spec, an option."""

    exit_code = ExitCode.INVALID


class SpecError(UserError):
    """A tenant or environment file that does not parse or validate."""


class NotFoundError(UserError):
    """An unknown tenant or environment."""


class ConflictError(UserError):
    """The request contradicts what exists (e.g. onboarding an existing tenant)."""


class LockError(SaasctlError):
    exit_code = ExitCode.LOCKED


class AbortedError(SaasctlError):
    exit_code = ExitCode.ABORTED


class TerraformError(SaasctlError):
    """The terraform binary failed, is missing, or timed out."""


class BackendError(SaasctlError):
    """The state backend (S3/DynamoDB) is unreachable or misconfigured."""


class PolicyError(SaasctlError):
    """A plan breaks a policy gate (see saasctl/policy.py)."""
