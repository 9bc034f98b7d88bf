"""The versions of the export format: the writer and the XSD of each, and which one a caller asked for.

Version 1 (``serialize``) is the default and never changes; version 2 (``serialize_v2``) adds VAT.
A download, a job and the schema route name theirs in ``schema_version`` (422 naming it otherwise).
"""

from oms_common.problems import load
from oms_contracts.exports import DEFAULT_SCHEMA_VERSION, SchemaQuerySchema

from . import serialize, serialize_v2

WRITERS = {1: serialize, 2: serialize_v2}
SCHEMA_FILES = {writer.SCHEMA_FILE_NAME: version for version, writer in WRITERS.items()}


def writer(version=DEFAULT_SCHEMA_VERSION):
    return WRITERS[int(version)]


def requested_version(value):
    """The version a caller named (``None``: the default), as a problem naming ``schema_version`` when invalid."""
    query = {} if value is None else {"schema_version": value}
    return load(SchemaQuerySchema(), query)["schema_version"]


def schema(version=DEFAULT_SCHEMA_VERSION):
    """The XSD of ``version`` as the RPC answers it."""
    chosen = writer(version)
    return {
        "schema_version": int(version),
        "file_name": chosen.SCHEMA_FILE_NAME,
        "namespace": chosen.NS,
        "content_type": "application/xml",
        "text": chosen.schema_text(),
    }
