from oms_common.migrations import run_env
from exports.models import metadata

run_env(metadata, "exports")
