"""Customers: the list, the picker the order detail asks while staff type, the detail with the
customer's orders, and merging a duplicate into another customer."""

import json
import re
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from oms_common.problems import Problem
from oms_contracts.customers import customer_number

from . import order_list
from .page import Page, link, secure_headers, shown_refusal

PICK_LIMIT = 8


def customers(page: Page) -> Response:
    page.require("read")
    query = {key: page.request.args[key] for key in ("q", "page", "page_size") if page.request.args.get(key)}
    result = page.calls("orders", "list_customers", query)
    return page.render(
        "customers.html", result=result, query=query, link=lambda **changes: link("/admin/customers", query, changes)
    )


def customer_pick(page: Page) -> Response:
    """Customers matching what staff type (name, e-mail, number), with their order counts, as JSON."""
    page.require("read")
    q = page.request.args.get("q", "").strip()[:100]
    items = []
    if len(q) >= 2:
        found = page.calls("orders", "list_customers", {"q": q, "page_size": PICK_LIMIT})["items"]
        for item in found:
            counted = page.calls("orders", "get_customer", item["id"])
            items.append(
                {
                    "id": item["id"],
                    "customer_number": item["customer_number"],
                    "name": f"{item['first_name']} {item['last_name']}".strip(),
                    "email": item["email"],
                    "order_count": counted.get("order_count", 0),
                    "label": page.t("{count} orders", count=counted.get("order_count", 0)),
                }
            )
    return secure_headers(Response(json.dumps({"items": items}), mimetype="application/json"))


def customer(page: Page, customer_id: int, error: Problem | None = None, status: int = 200) -> Response:
    page.require("read")
    query = order_list.list_query(page.request.args)
    detail = page.calls("orders", "get_customer", customer_id)
    history = page.calls("orders", "customer_orders", customer_id, query)
    merged = page.request.args.get("merged")
    done_text = (
        page.t("Customer {merged} merged into {number}.", merged=merged, number=detail["customer_number"])
        if merged and re.fullmatch(r"C\d{1,12}", merged)
        else None
    )
    return page.render(
        "customer.html",
        status=status,
        customer=detail,
        result=history,
        error=error,
        done_text=done_text,
        link=lambda **changes: link(f"/admin/customers/{customer_id}", query, changes),
    )


def merge(page: Page, customer_id: int) -> Response:
    page.require("orders.customer")
    into = page.request.form.get("into", "")
    try:
        # the id or the customer number as the UI shows it (C000009); orders reads both
        merged = page.calls(
            "orders", "merge_customers", customer_id, {"into": int(into) if into.isdigit() else into}, page.actor
        )
    except Problem as problem:
        return customer(page, customer_id, error=shown_refusal(problem), status=problem.status)
    number = customer_number(merged["customer_id"])
    return redirect(f"/admin/customers/{merged['into']}?" + urlencode({"merged": number}), code=303)
