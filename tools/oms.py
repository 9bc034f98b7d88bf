"""`python tools/oms.py ...` — the OMS operator CLI without installing it (same as the `oms` command)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "oms_cli"))

from oms_cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
