import sys
from pathlib import Path

# the service package, also when it is not installed (alembic runs from a checkout)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oms_common.migrations import run_env  # noqa: E402
from documents.models import metadata  # noqa: E402

run_env(metadata, "documents")
