"""The exports service's settings, read once from the nameko config (itself from the environment)."""

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

from oms_common.settings import REPO_ROOT, SettingsError, setting, var_dir

DEFAULT_DELIMITER = ";"


@dataclass(frozen=True)
class ExportSettings:
    export_dir: Path
    csv_delimiter: str = DEFAULT_DELIMITER
    fetch_size: int = 2000
    import_max_bytes: int = 20 * 1024 * 1024
    import_max_orders: int = 10000
    internal_token: str = ""
    replica: str = ""

    @classmethod
    def from_config(cls, config):
        def read(key):
            return setting(config, key, "exports")

        configured = read("EXPORT_DIR")
        if configured:
            export_dir = Path(configured)
            if not export_dir.is_absolute():
                export_dir = REPO_ROOT / export_dir
        else:
            export_dir = var_dir() / "exports"
        delimiter = read("CSV_DELIMITER")
        if delimiter == "\\t" or delimiter.lower() == "tab":
            delimiter = "\t"
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise SettingsError(
                f"OMS_EXPORT_CSV_DELIMITER must be one character other than a quote or line break, not {delimiter!r}"
            )
        return cls(
            export_dir=export_dir,
            csv_delimiter=delimiter,
            fetch_size=read("EXPORT_FETCH_SIZE"),
            import_max_bytes=read("IMPORT_MAX_BYTES"),
            import_max_orders=read("IMPORT_MAX_ORDERS"),
            internal_token=read("EXPORTS_INTERNAL_TOKEN"),
            replica=f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}",
        )
