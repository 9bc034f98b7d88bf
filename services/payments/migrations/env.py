from oms_common.migrations import run_env
from payments.models import metadata

run_env(metadata, "payments")
