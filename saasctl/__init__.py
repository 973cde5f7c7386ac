"""saasctl: the control plane of a tiered multi-tenant SaaS on AWS ECS."""

__version__ = "0.1.0"
