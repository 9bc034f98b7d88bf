"""The fault suite is collected only when asked (OMS_FAULT_SUITE=1): by `make test` in its
simulation mode and by `make test-faults` with real restarts, each in a pytest run of its own."""

import os

collect_ignore_glob = [] if os.environ.get("OMS_FAULT_SUITE") == "1" else ["test_*.py"]
