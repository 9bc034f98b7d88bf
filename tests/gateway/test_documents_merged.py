"""POST /api/v1/documents/merged: the stored documents of several orders as one PDF download, the
references without documents in X-OMS-Missing, 404 when none has any, 422 naming the field, for
the roles with exports.read; a POST that changes nothing, so no Idempotency-Key is kept."""

import io
import uuid

import pypdf
import pytest
from sqlalchemy import select

from gateway.models import IdempotentRequest
from gateway.models import infrastructure as gateway_infrastructure
from tests.conftest import sql_source
from tests.documents.conftest import gateway_config, profile_set, running_suite  # noqa: F401 - fixtures
from tests.documents.test_invoices import download, place  # noqa: F401 - fixture

PATH = "/api/v1/documents/merged"
UNKNOWN = "990000000033"
PROBLEM = "application/problem+json"


def _documents(admin, reference):
    return admin.get(f"/api/v1/orders/{reference}/documents").json()["items"]


def _page_texts(content):
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages]


@pytest.fixture
def two_orders(profile_set, place):
    profile_set()
    return [place(language=language)[0]["reference"] for language in ("de", "en")]


def test_the_orders_documents_download_as_one_pdf_and_the_missing_are_named(admin, client_for, two_orders):
    first, second = two_orders
    answer = client_for("accountant").post(PATH, json={"references": [second, UNKNOWN, first, second]})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="documents-2.pdf"'
    assert answer.headers["X-OMS-Missing"] == UNKNOWN
    stored = [download(admin, reference, _documents(admin, reference)[0]["id"]) for reference in (second, first)]
    assert _page_texts(answer.content) == [text for content in stored for text in _page_texts(content)]
    assert answer.content.startswith(b"%PDF-")


def test_x_oms_missing_is_absent_when_every_order_has_documents_and_encodes_what_a_list_cannot_hold(admin, two_orders):
    first, second = two_orders
    every = admin.post(PATH, json={"references": [first, second], "kinds": ["invoice"]})
    assert every.status_code == 200 and "X-OMS-Missing" not in every.headers
    odd = admin.post(PATH, json={"references": [first, "A,B", "Zürich 1"]})
    assert odd.status_code == 200
    assert odd.headers["X-OMS-Missing"] == "A%2CB,Z%C3%BCrich%201"


def test_none_with_documents_is_a_404_problem(admin, two_orders):
    first, _second = two_orders
    for body in ({"references": [UNKNOWN]}, {"references": [first], "kinds": ["credit_note", "reminder"]}):
        answer = admin.post(PATH, json=body)
        assert answer.status_code == 404, answer.text
        assert answer.headers["Content-Type"].startswith(PROBLEM)
        assert "references" in answer.json()["errors"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "references"),
        ({"references": []}, "references"),
        ({"references": [str(n) for n in range(201)]}, "references"),
        ({"references": ["x" * 41]}, "references.0"),
        ({"references": [42]}, "references.0"),
        ({"references": ["1"], "kinds": ["bill"]}, "kinds.0"),
        ({"references": ["1"], "kinds": "invoice"}, "kinds"),
        ({"references": ["1"], "format": "zip"}, "format"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field(admin, body, field):
    answer = admin.post(PATH, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"].startswith(PROBLEM)
    assert field in answer.json()["errors"]


def test_a_body_that_is_no_json_object_is_a_400(admin):
    answer = admin.post(PATH, data=b"[1, 2]", headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and "body" in answer.json()["errors"]


def test_only_roles_with_exports_read_may_download(client_for, anonymous, two_orders):
    body = {"references": two_orders}
    for role in ("agent", "readonly"):
        refused = client_for(role).post(PATH, json=body)
        assert refused.status_code == 403, role
        assert refused.headers["Content-Type"].startswith(PROBLEM) and "exports.read" in refused.json()["detail"]
    assert anonymous.post(PATH, json=body).status_code == 401
    assert client_for("accountant").post(PATH, json=body).status_code == 200


def test_a_post_that_changes_nothing_keeps_no_idempotency_key(admin, database_url, two_orders):
    key = f"merged-{uuid.uuid4().hex}"
    answers = [admin.post(PATH, json={"references": two_orders}, headers={"Idempotency-Key": key}) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert all("Idempotency-Replayed" not in answer.headers for answer in answers)
    source = sql_source(database_url, "gateway", gateway_infrastructure)
    with source.read_session() as session:
        kept = session.execute(select(IdempotentRequest.key).where(IdempotentRequest.key == key)).all()
    source.engine.dispose()
    assert kept == []
    # another body under the same key is no conflict either: nothing was kept to compare it with
    other = admin.post(PATH, json={"references": two_orders[:1]}, headers={"Idempotency-Key": key})
    assert other.status_code == 200


def test_the_openapi_document_describes_the_download(anonymous):
    operation = anonymous.get("/api/openapi.json").json()["paths"][PATH]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/MergedDocuments"}
    success = operation["responses"]["200"]
    assert success["content"] == {"application/pdf": {"schema": {"type": "string"}}}
    assert "X-OMS-Missing" in success["headers"]
    assert {"403", "404", "422"} <= set(operation["responses"])
    assert "Idempotency-Key" not in [parameter["name"] for parameter in operation["parameters"]]
