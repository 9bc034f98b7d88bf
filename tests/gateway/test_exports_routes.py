"""Exports through the gateway: streamed downloads valid against the served XSD (versions 1 and 2), import,
jobs, roles, the job form of the staff UI."""

import re
import uuid

import pytest
from lxml import etree

from exports.service import ExportsService
from gateway import users
from gateway.models import infrastructure
from tests.conftest import sql_source
from tests.gateway.orders_data import order_body
from tests.support.smtp import wait_for
from tests.support.suite import free_port
from tests.support.ui import sign_in


@pytest.fixture
def exports_running(runner_factory, service_config, gateway_config, tmp_path):
    config = {
        **service_config,
        "WEB_SERVER_ADDRESS": gateway_config["EXPORTS_HTTP_ADDRESS"],
        "EXPORTS_INTERNAL_TOKEN": gateway_config["EXPORTS_INTERNAL_TOKEN"],
        "EXPORT_DIR": str(tmp_path / "exports"),
        "JOB_TIMER_SECONDS": 0.5,
    }
    runner = runner_factory(config, ExportsService)
    runner.start()
    return runner


@pytest.fixture
def gateway_config(service_config):
    from tests.gateway.conftest import ADMIN_TOKEN

    return {
        **service_config,
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{free_port()}",
        "BOOTSTRAP_ADMIN_TOKEN": ADMIN_TOKEN,
        "RPC_TIMEOUT_SECONDS": 10,
        "EXPORTS_HTTP_ADDRESS": f"127.0.0.1:{free_port()}",
        "EXPORTS_INTERNAL_TOKEN": "gateway-tests-internal-token",
    }


def exported_references(admin, **params):
    response = admin.get("/api/v1/exports/orders.xml", params=params, stream=True)
    assert response.status_code == 200, response.text
    document = etree.fromstring(response.content)
    return document, {element.get("reference") for element in document.iter("{*}order")}


def test_filtered_xml_export_streams_through_the_gateway_and_validates(admin, exports_running):
    body = order_body()
    body["customer"]["last_name"] = 'Müller <&> "Ltd" 東京'
    created = admin.post("/api/v1/orders", json=body).json()
    cancelled = admin.post("/api/v1/orders", json=order_body()).json()
    admin.post(f"/api/v1/orders/{cancelled['reference']}/cancel", json={})
    schema = admin.get("/api/v1/exports/schema.xsd")
    assert schema.status_code == 200 and schema.headers["Content-Type"].startswith("application/xml")
    xsd = etree.XMLSchema(etree.fromstring(schema.content))

    def exported():
        # the export copy follows the orders events: wait until it has seen both changes
        document, references = exported_references(admin, status="new")
        settled = created["reference"] in references and cancelled["reference"] not in references
        return (document, references) if settled else None

    document, references = wait_for(exported, timeout=20, interval=0.3, message="the filtered export")
    xsd.assertValid(document)
    _, everything = exported_references(admin)
    assert {created["reference"], cancelled["reference"]} <= everything
    csv = admin.get("/api/v1/exports/orders.csv", params={"q": created["reference"]})
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    assert 'Müller <&> ""Ltd"" 東京' in csv.content.decode("utf-8-sig")


def test_bad_export_filters_are_a_problem_not_a_broken_file(admin, exports_running):
    runs_before = admin.get("/api/v1/exports/runs").json()["items"]
    response = admin.get("/api/v1/exports/orders.xml", params={"status": "teleported"})
    assert response.status_code == 422
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "status" in str(response.json().get("errors", response.json()))
    assert admin.get("/api/v1/exports/runs").json()["items"] == runs_before  # no export recorded


def test_exports_follow_the_roles(admin, client_for, exports_running):
    orders_before = admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"]
    assert client_for("agent").get("/api/v1/exports/orders.xml").status_code == 403
    assert client_for("readonly").get("/api/v1/exports/customers.csv").status_code == 403
    assert client_for("accountant").get("/api/v1/exports/customers.csv").status_code == 200
    assert client_for("accountant").post("/api/v1/imports/orders", data=b"<x/>").status_code == 403
    assert admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"] == orders_before


def test_jobs_are_managed_over_the_api(admin, client_for, exports_running):
    job = {
        "name": "nightly ERP",
        "cron": "0 2 * * *",
        "kind": "orders",
        "format": "xml",
        "target": "erp",
        "incremental": True,
    }
    created = admin.post("/api/v1/exports/jobs", json=job)
    assert created.status_code == 201, created.text
    job_id = created.json()["id"]
    assert job_id in [item["id"] for item in admin.get("/api/v1/exports/jobs").json()["items"]]
    jobs_before = admin.get("/api/v1/exports/jobs").json()["items"]
    bad = admin.post("/api/v1/exports/jobs", json={**job, "name": "nightly ERP, bad cron", "cron": "every night"})
    assert bad.status_code == 422 and "cron" in bad.json()["errors"]
    assert (
        client_for("agent").post("/api/v1/exports/jobs", json={**job, "name": "nightly ERP, agent"}).status_code == 403
    )
    assert admin.get("/api/v1/exports/jobs").json()["items"] == jobs_before
    assert admin.post(f"/api/v1/exports/jobs/{job_id}/run").status_code == 202
    runs = wait_for(
        lambda: [
            run
            for run in admin.get("/api/v1/exports/runs", params={"job_id": job_id}).json()["items"]
            if run["status"] == "succeeded"
        ],
        timeout=20,
        interval=0.3,
        message="the job's run",
    )
    assert runs[0]["file"]
    assert admin.request("DELETE", f"/api/v1/exports/jobs/{job_id}").status_code == 200


def test_import_of_a_hostile_document_is_rejected_with_nothing_written(admin, exports_running):
    before = admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"]
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<orders xmlns="https://oms.example/ns/export/1">&x;</orders>'
    )
    response = admin.post("/api/v1/imports/orders", data=hostile, headers={"Content-Type": "application/xml"})
    assert response.status_code in (400, 422), response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert admin.get("/api/v1/orders", params={"page_size": 1}).json()["total"] == before


TWO_RATES = [
    {"article_number": "T-1", "name": "Teekanne", "quantity": 2, "unit_price": "54.05"},
    {"article_number": "B-1", "name": "Grüntee", "quantity": 1, "unit_price": "10.26", "tax_rate": "2.6"},
]
V2_NS = "https://oms.example/ns/export/2"


def served_schema(admin, **params):
    response = admin.get("/api/v1/exports/schema.xsd", params=params)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/xml")
    return etree.XMLSchema(etree.fromstring(response.content))


def test_export_v2_carries_the_rates_and_breakdown_the_order_shows_and_v1_stays_without(admin, exports_running):
    created = admin.post("/api/v1/orders", json=order_body(lines=TWO_RATES, shipping_cost="8.00"))
    assert created.status_code == 201, created.text
    reference = created.json()["reference"]
    detail = admin.get(f"/api/v1/orders/{reference}").json()
    assert len(detail["tax_breakdown"]) == 2

    def exported():
        response = admin.get("/api/v1/exports/orders.xml", params={"q": reference, "schema_version": "2"})
        assert response.status_code == 200, response.text
        return response if reference.encode() in response.content else None

    document = etree.fromstring(wait_for(exported, timeout=20, interval=0.3, message="the v2 export").content)
    served_schema(admin, schema_version=2).assertValid(document)
    ns = {"o": V2_NS}
    [order] = document.findall("o:order", ns)
    lines = order.findall("o:lines/o:line", ns)
    assert [line.findtext("o:tax_rate", namespaces=ns) for line in lines] == [
        line["tax_rate"] for line in detail["lines"]
    ]
    assert [line.findtext("o:tax_rate", namespaces=ns) for line in lines] == ["8.10", "2.60"]
    rows = [
        {field: row.findtext(f"o:{field}", namespaces=ns) for field in ("rate", "net", "tax", "gross")}
        for row in order.findall("o:tax_breakdown/o:row", ns)
    ]
    assert rows == detail["tax_breakdown"]
    assert order.find("o:tax_breakdown", ns).get("prices_include_tax") == "true"

    _, references = exported_references(admin, q=reference)
    v1 = admin.get("/api/v1/exports/orders.xml", params={"q": reference}).content
    served_schema(admin).assertValid(etree.fromstring(v1))
    assert references == {reference} and b"tax" not in v1 and b"/export/1" in v1
    csv = admin.get("/api/v1/exports/orders.csv", params={"q": reference, "schema_version": 2})
    header, first = csv.content.decode("utf-8-sig").splitlines()[:2]
    assert header.endswith(";line_tax_rate;prices_include_tax;tax_country;tax_breakdown")
    assert first.endswith(";8.10;true;CH;" + "|".join(":".join(row.values()) for row in detail["tax_breakdown"]))


def test_an_invalid_schema_version_is_a_422_problem_naming_it(admin, exports_running):
    for path in ("orders.xml", "orders.csv", "schema.xsd"):
        response = admin.get(f"/api/v1/exports/{path}", params={"schema_version": "5"})
        assert response.status_code == 422, (path, response.text)
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert list(response.json()["errors"]) == ["schema_version"]
    job = {"name": "bad version", "cron": "0 2 * * *", "kind": "orders", "format": "xml", "target": "erp"}
    refused = admin.post("/api/v1/exports/jobs", json={**job, "schema_version": 5})
    assert refused.status_code == 422 and list(refused.json()["errors"]) == ["schema_version"]
    assert "bad version" not in [item["name"] for item in admin.get("/api/v1/exports/jobs").json()["items"]]
    spec = admin.get("/api/openapi.json").json()
    parameters = spec["paths"]["/api/v1/exports/schema.xsd"]["get"]["parameters"]
    assert "schema_version" in str(parameters)


def test_a_job_with_schema_version_2_writes_a_v2_file(admin, exports_running, tmp_path):
    created = admin.post("/api/v1/orders", json=order_body(lines=TWO_RATES)).json()
    wait_for(lambda: exported_references(admin, q=created["reference"])[1], timeout=20, interval=0.3, message="copy")
    job = {"name": "erp v2", "cron": "0 2 * * *", "kind": "orders", "format": "xml", "target": "erp2"}
    plain = admin.post("/api/v1/exports/jobs", json={**job, "name": "erp v1", "target": "erp1"}).json()
    assert plain["schema_version"] == 1
    made = admin.post("/api/v1/exports/jobs", json={**job, "schema_version": 2, "filters": {"q": created["reference"]}})
    assert made.status_code == 201 and made.json()["schema_version"] == 2, made.text
    assert admin.get(f"/api/v1/exports/jobs/{made.json()['id']}").json()["schema_version"] == 2
    assert admin.post(f"/api/v1/exports/jobs/{made.json()['id']}/run").status_code == 202
    [run] = wait_for(
        lambda: [
            run
            for run in admin.get("/api/v1/exports/runs", params={"job_id": made.json()["id"]}).json()["items"]
            if run["status"] == "succeeded"
        ],
        timeout=20,
        interval=0.3,
        message="the v2 job's run",
    )
    document = etree.parse(str(tmp_path / "exports" / run["file"])).getroot()
    served_schema(admin, schema_version=2).assertValid(document)
    rates = document.findall(f"{{{V2_NS}}}order/{{{V2_NS}}}lines/{{{V2_NS}}}line/{{{V2_NS}}}tax_rate")
    assert [rate.text for rate in rates] == ["8.10", "2.60"]


def test_the_staff_ui_job_form_sets_the_schema_version(admin, base_url, database_url, exports_running):
    username, password = f"ui-exports-{uuid.uuid4().hex[:8]}", "a long enough password 42"
    users.create_user(sql_source(database_url, "gateway", infrastructure), username, "accountant", password)
    browser, answer = sign_in(base_url, username, password)
    assert answer.status_code == 303, answer.text
    page = browser.get(f"{base_url}/admin/exports")
    assert page.status_code == 200 and 'name="schema_version"' in page.text
    assert 'href="/admin/exports/download/orders.xml?schema_version=2"' in page.text
    form = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1),
        "name": f"ui v2 {username}",
        "cron": "0 3 * * *",
        "kind": "orders",
        "format": "csv",
        "target": "erp-ui",
        "schema_version": "2",
    }
    posted = browser.post(
        f"{base_url}/admin/exports/jobs", data=form, headers={"Origin": base_url}, allow_redirects=False
    )
    assert posted.status_code == 303, posted.text
    [job] = [item for item in admin.get("/api/v1/exports/jobs").json()["items"] if item["name"] == form["name"]]
    assert job["schema_version"] == 2 and job["format"] == "csv"
    refused = browser.post(
        f"{base_url}/admin/exports/jobs",
        data={**form, "name": form["name"] + " bad", "schema_version": "7"},
        headers={"Origin": base_url},
    )
    assert refused.status_code == 422 and "Use 1 or 2" in refused.text
    assert form["name"] + " bad" not in [item["name"] for item in admin.get("/api/v1/exports/jobs").json()["items"]]
