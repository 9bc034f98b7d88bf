"""The documents of several orders as one PDF: the stored documents one after the other, in the
order the references were given (each order's oldest first), optionally only some kinds; the
references without documents named; nothing at all is a NotFound."""

import base64
import io

import pypdf
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from documents import merge_rules
from documents.domain import Refused
from oms_common.problems import NotFound, ValidationFailed

from .test_invoices import download, place  # noqa: F401 - fixture

UNKNOWN = "990000000017"  # no order has this reference


@pytest.fixture
def rpc(service_config, running_suite):
    with ClusterRpcProxy(service_config, timeout=60) as cluster:
        yield cluster.documents


def _documents(admin, reference):
    return admin.get(f"/api/v1/orders/{reference}/documents").json()["items"]


def _pages(content):
    return pypdf.PdfReader(io.BytesIO(content)).pages


def _page_facts(content):
    """Each page's text and its content stream: what a copied page keeps byte for byte."""
    return [(page.extract_text(), page.get_contents().get_data()) for page in _pages(content)]


@pytest.fixture
def three_orders(admin, profile_set, place, wait_until):
    """Three invoiced orders; the second one cancelled, so it also has a credit note."""
    profile_set()
    first, second, third = (place(language=language)[0]["reference"] for language in ("de", "fr", "it"))
    assert admin.post(f"/api/v1/orders/{second}/cancel", json={"reason": "Kunde storniert"}).status_code == 200
    wait_until(lambda: len(_documents(admin, second)) == 2, timeout=30, message="the credit note")
    return first, second, third


def test_the_file_holds_the_stored_documents_in_the_order_asked_and_names_the_missing(admin, rpc, three_orders):
    first, second, third = three_orders
    answer = rpc.merged_documents([third, second, UNKNOWN, first])
    assert answer["missing"] == [UNKNOWN]
    expected = [
        (reference, document)
        for reference in (third, second, first)
        for document in _documents(admin, reference)  # oldest first: the invoice, then the credit note
    ]
    assert [document["kind"] for _, document in expected] == ["invoice", "invoice", "credit_note", "invoice"]
    assert answer["count"] == len(expected) == 4
    stored = [download(admin, reference, document["id"]) for reference, document in expected]
    merged = base64.b64decode(answer["content"])
    # every page is a stored page as it was issued: same text, same content stream, nothing re-rendered
    assert len(_pages(merged)) == sum(len(_pages(content)) for content in stored)
    assert _page_facts(merged) == [facts for content in stored for facts in _page_facts(content)]
    outline = [item.title for item in pypdf.PdfReader(io.BytesIO(merged)).outline]
    assert outline == [f"{reference} · {document['number']}" for reference, document in expected]
    # and the stored documents are untouched
    assert [download(admin, reference, document["id"]) for reference, document in expected] == stored


def test_only_the_kinds_asked_for_and_the_orders_without_them_are_missing(admin, rpc, three_orders):
    first, second, third = three_orders
    answer = rpc.merged_documents([first, second, third], ["credit_note"])
    [note] = [document for document in _documents(admin, second) if document["kind"] == "credit_note"]
    assert (answer["count"], answer["missing"]) == (1, [first, third])
    assert _page_facts(base64.b64decode(answer["content"])) == _page_facts(download(admin, second, note["id"]))


def test_a_reference_given_twice_comes_once_where_it_came_first(admin, rpc, three_orders):
    first, second, _third = three_orders
    answer = rpc.merged_documents([second, first, second], ["invoice"])
    invoices = [_documents(admin, reference)[0] for reference in (second, first)]
    assert (answer["count"], answer["missing"]) == (2, [])
    expected = [download(admin, reference, d["id"]) for reference, d in zip((second, first), invoices, strict=True)]
    assert _page_facts(base64.b64decode(answer["content"])) == [f for content in expected for f in _page_facts(content)]


def test_orders_without_any_document_are_not_found(admin, rpc, three_orders):
    first, _second, _third = three_orders
    with pytest.raises(NotFound) as nothing:
        rpc.merged_documents([UNKNOWN, "990000000025"])
    assert "references" in nothing.value.errors
    with pytest.raises(NotFound):
        rpc.merged_documents([first], ["reminder"])  # it has an invoice, but no reminder


@pytest.mark.parametrize(
    "references, kinds, field",
    [
        ([], None, "references"),
        ([str(n) for n in range(201)], None, "references"),
        (["x" * 41], None, "references.0"),
        (["1\n2"], None, "references.0"),
        ("123", None, "references"),
        (["1"], ["bill"], "kinds.0"),
        (["1"], [], "kinds"),
    ],
)
def test_bad_input_is_refused_naming_the_field(rpc, references, kinds, field):
    with pytest.raises(ValidationFailed) as refused:
        rpc.merged_documents(references, kinds)
    assert field in refused.value.errors


# ---------------------------------------------------------------- the rules, without broker or database


def _stored(document_id, reference, kind="invoice", size=1000):
    return merge_rules.StoredDocument(document_id, reference, kind, f"N-{document_id}", size)


def test_the_plan_keeps_the_order_asked_and_each_order_s_oldest_first():
    stored = [_stored(7, "B", "credit_note"), _stored(3, "A"), _stored(5, "B"), _stored(9, "C", "reminder")]
    chosen = merge_rules.plan(["B", "X", "A", "B"], stored)
    assert [d.id for d in chosen.documents] == [5, 7, 3] and chosen.missing == ["X"]
    only = merge_rules.plan(["A", "B", "C"], stored, ["credit_note", "reminder"])
    assert [d.id for d in only.documents] == [7, 9] and only.missing == ["A"]


def test_the_plan_refuses_nothing_at_all_and_a_file_too_large():
    with pytest.raises(merge_rules.NothingToMerge):
        merge_rules.plan(["A"], [_stored(1, "B")])
    with pytest.raises(merge_rules.NothingToMerge, match="of the kinds reminder"):
        merge_rules.plan(["A"], [_stored(1, "A")], ["reminder"])
    half = merge_rules.MAX_MERGED_BYTES // 2
    assert len(merge_rules.plan(["A", "B"], [_stored(1, "A", size=half), _stored(2, "B", size=half)]).documents) == 2
    with pytest.raises(Refused) as refused:
        merge_rules.plan(["A", "B"], [_stored(1, "A", size=half), _stored(2, "B", size=half + 1)])
    assert refused.value.field == "references"
