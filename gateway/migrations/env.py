from gateway.models import metadata
from oms_common.migrations import run_env

run_env(metadata, "gateway")
