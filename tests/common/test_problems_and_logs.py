"""Problems that cross RPC intact, field paths of validation errors, and JSON logs."""

import json
import logging

import pytest
from marshmallow import Schema, fields
from nameko.exceptions import deserialize, serialize

from oms_common.logs import JsonFormatter, set_correlation_id
from oms_common.problems import Conflict, NotFound, ValidationFailed, load


class Line(Schema):
    quantity = fields.Integer(required=True, strict=True)


class Body(Schema):
    lines = fields.List(fields.Nested(Line), required=True)
    country = fields.String(required=True)


@pytest.mark.parametrize("problem_class,status", [(Conflict, 409), (NotFound, 404), (ValidationFailed, 422)])
def test_problem_survives_rpc_serialisation_with_its_field_errors(problem_class, status):
    problem = problem_class("Start too low.", {"invoice_number_start": ["Must be above 41."]})

    received = deserialize(serialize(problem))

    assert type(received) is problem_class
    assert received.detail == "Start too low."
    assert received.errors == {"invoice_number_start": ["Must be above 41."]}
    assert received.as_dict() == {
        "type": f"https://oms.example/problems/{received.slug}",
        "title": problem_class.title,
        "status": status,
        "detail": "Start too low.",
        "errors": {"invoice_number_start": ["Must be above 41."]},
    }


def test_load_names_nested_and_unknown_fields():
    with pytest.raises(ValidationFailed) as failed:
        load(Body(), {"lines": [{"quantity": 1}, {"quantity": "x"}], "planet": "Mars"})

    assert set(failed.value.errors) == {"lines.1.quantity", "country", "planet"}
    assert failed.value.detail == "Invalid input: country, lines.1.quantity, planet"


def test_load_refuses_a_body_that_is_not_an_object():
    with pytest.raises(ValidationFailed) as failed:
        load(Body(), ["lines"])
    assert "_schema" in failed.value.errors


def test_json_log_lines_carry_the_correlation_id():
    record = logging.LogRecord("orders", logging.WARNING, __file__, 1, "order %s shipped", ("100001",), None)
    set_correlation_id("corr-123")
    try:
        entry = json.loads(JsonFormatter().format(record))
    finally:
        set_correlation_id(None)

    assert (entry["level"], entry["message"], entry["correlation_id"]) == (
        "WARNING",
        "order 100001 shipped",
        "corr-123",
    )
    assert "correlation_id" not in json.loads(JsonFormatter().format(record))
