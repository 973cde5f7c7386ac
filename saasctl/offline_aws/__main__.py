"""Entry point the mirror's launcher runs: ``python -m saasctl.offline_aws SCHEMA_DIR``."""

import sys

from saasctl.offline_aws.server import main

main(sys.argv[1] if len(sys.argv) > 1 else "")
