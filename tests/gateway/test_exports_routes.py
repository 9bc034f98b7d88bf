"""Exports through the gateway: streamed downloads valid against the served XSD, import, jobs, roles."""

import pytest
from lxml import etree

from exports.service import ExportsService
from tests.gateway.orders_data import order_body
from tests.support.smtp import wait_for
from tests.support.suite import free_port


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
