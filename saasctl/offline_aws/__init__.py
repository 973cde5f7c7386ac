"""An offline stand-in for the ``hashicorp/aws`` Terraform provider.

Terraform launches it through a filesystem mirror that saasctl prepares, so
``validate``, ``plan`` and ``apply`` of the real modules run with no AWS access.
It serves the real provider's schema (see :mod:`saasctl.provider_schema`) and
keeps every resource only in Terraform state: **no AWS resource is created**.
It refuses to start unless saasctl marked the environment offline (an
environment with ``emulator: true``).

What it checks is what Terraform checks with a schema: argument names, types,
required arguments, blocks and their nesting, references, count/for_each
expansion and the shape of a plan. It does not know the real provider's value
validation, defaults or API behaviour.
"""

from __future__ import annotations

OFFLINE_ENV = "SAASCTL_OFFLINE_AWS"  # must be "1" for the provider to start
ACCOUNT_ENV = "SAASCTL_OFFLINE_AWS_ACCOUNT"
