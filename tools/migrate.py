"""Applies every service's migrations (what `make run` does before starting the suite)."""

import os
import sys

from run import migrate  # tools/ is this script's own folder

if __name__ == "__main__":
    migrate(dict(os.environ))
    sys.exit(0)
