"""Version 1 of the export format never changes: its XSD and its output for the same orders stay byte for
byte what they were (the files in golden/ were written by the v1 writer before version 2 existed), also
for orders whose events carry VAT rates and a breakdown."""

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from exports import serialize

from .conftest import order_doc, taxed_order_doc

GOLDEN = Path(__file__).resolve().parent / "golden"
V1_XSD_SHA256 = "8f65144bfa046ea984b1582e1da2550c1c6f5347fe29e1149a7813ca5b3f5f26"
CREATED = datetime(2025, 3, 1, 9, 30, tzinfo=timezone.utc)


def golden_orders():
    return [taxed_order_doc("G-1", created_at=CREATED), order_doc("G-2", created_at=CREATED)]


def test_the_v1_schema_file_is_unchanged():
    assert hashlib.sha256(serialize.SCHEMA_PATH.read_bytes()).hexdigest() == V1_XSD_SHA256


def test_v1_xml_of_the_same_orders_is_byte_for_byte_what_it_was():
    body = b"".join(
        serialize.xml_chunks("orders", iter(golden_orders()), "2025-03-01T10:00:00+00:00", watermark=42, since_seq=7)
    )
    assert body == (GOLDEN / "orders-v1.xml").read_bytes()
    assert b"tax" not in body


def test_v1_csv_of_the_same_orders_is_byte_for_byte_what_it_was():
    body = b"".join(serialize.csv_chunks("orders", iter(golden_orders()), delimiter=";"))
    assert body == (GOLDEN / "orders-v1.csv").read_bytes()
