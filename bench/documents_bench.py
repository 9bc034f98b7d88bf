"""Invoice PDFs: documents rendered per second and peak RSS, beside the renderer's blank page.

    python bench/documents_bench.py                 # 10,000 invoices (with QR-bill), 10,000 blank pages
    python bench/documents_bench.py --count 1000

In-process and single-threaded: what one documents worker can render. The invoice is the full
one the service issues (profile with logo, two VAT rates, QR-bill); the baseline is fpdf2 writing
one empty A4 page, measured in the same run.
"""

import argparse
import base64
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.samples import invoice_address, line, png_bytes, shop_profile  # noqa: E402


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sample_profile():
    from documents.profile import _checked

    data = shop_profile(
        contact={"email": "shop@teehaus.example", "phone": "", "website": ""},
        logo={"data": base64.b64encode(png_bytes(200, 80)).decode()},
        iban=None,
        footer={"de": "Zahlbar innert 30 Tagen.", "fr": "", "it": "", "en": ""},
    )
    profile, logo = _checked(data, 1 << 20)
    return {**profile, "logo_bytes": logo}


def sample_order(index):
    reference = str(100000 + index)
    return {
        "reference": reference,
        "invoice_number": f"RE-{reference}",
        "language": "de",
        "payment_method": "invoice",
        "currency": "CHF",
        "total": "126.36",
        "shipping_cost": "8.00",
        "shipping_tax_rate": "8.10",
        "prices_include_tax": True,
        "submitted_at": "2026-12-02T10:00:00+00:00",
        "billing_address": invoice_address(),
        "lines": [
            line(1, "T-100", "Teekanne", 2, "54.05", "108.10", tax_rate="8.10"),
            line(2, "B-200", "Grüntee", 3, "3.42", "10.26", tax_rate="2.60"),
        ],
        "tax_breakdown": [
            {"rate": "8.10", "net": "107.40", "tax": "8.70", "gross": "116.10"},
            {"rate": "2.60", "net": "10.00", "tax": "0.26", "gross": "10.26"},
        ],
    }


def measure(label, count, render):
    started = time.perf_counter()
    size = 0
    for index in range(count):
        size += len(render(index))
    seconds = time.perf_counter() - started
    return {
        "what": label,
        "count": count,
        "per_second": count / seconds,
        "avg_kb": size / count / 1024,
        "peak_rss_mb": peak_rss_mb(),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10000)
    args = parser.parse_args()
    from documents import issuing, rendering

    profile = sample_profile()
    issued_at = datetime.now(timezone.utc)
    rows = [measure("blank page (baseline)", args.count, lambda i: rendering.render_blank())]
    rows.append(
        measure(
            "invoice with QR-bill",
            args.count,
            lambda i: issuing.render_invoice(sample_order(i), profile, issued_at, "Europe/Zurich")[0],
        )
    )
    print(f"{'what':<26}{'count':>8}{'docs/s':>10}{'avg KB':>9}{'peak RSS MB':>13}")
    for row in rows:
        print(
            f"{row['what']:<26}{row['count']:>8}{row['per_second']:>10.1f}{row['avg_kb']:>9.1f}"
            f"{row['peak_rss_mb']:>13.1f}"
        )
    print(f"invoice / blank page: {rows[1]['per_second'] / rows[0]['per_second']:.3f}")


if __name__ == "__main__":
    main()
