"""An entrypoint declared with use_case_rpc is the written-out one: same RPC, same signature."""

from types import SimpleNamespace

import pytest
from nameko.exceptions import IncorrectSignature
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR, Entrypoint
from nameko.rpc import Rpc

from oms_common.problems import EXPECTED
from oms_common.use_case_rpc import use_case_rpc


def update_job(source, job_id, data, actor=None):
    """Changes a job."""
    return {"source": source, "job_id": job_id, "data": data, "actor": actor}


class Service:
    name = "probe"
    db = "the database"
    update_job = use_case_rpc(update_job)


def check_signature(*args, **kwargs):
    """What nameko asks of a call before a worker runs it."""
    probe = SimpleNamespace(container=SimpleNamespace(service_cls=Service), method_name="update_job")
    Entrypoint.check_signature(probe, args, kwargs)


def test_it_is_an_rpc_entrypoint_answering_the_expected_problems():
    [entrypoint] = getattr(Service.update_job, ENTRYPOINT_EXTENSIONS_ATTR)
    assert isinstance(entrypoint, Rpc) and entrypoint.expected_exceptions == EXPECTED
    assert (Service.update_job.__name__, Service.update_job.__doc__) == ("update_job", "Changes a job.")


def test_the_use_case_gets_the_database_and_the_arguments_as_sent():
    assert Service().update_job(7, {"hour": 3}) == {
        "source": "the database",
        "job_id": 7,
        "data": {"hour": 3},
        "actor": None,
    }
    assert Service().update_job(7, data={}, actor={"name": "bea"})["actor"] == {"name": "bea"}


@pytest.mark.parametrize(
    "args,kwargs",
    [((7, {}), {}), ((7, {}, None), {}), ((7,), {"data": {}, "actor": None}), ((), {"job_id": 7, "data": {}})],
)
def test_a_call_that_fits_the_use_cases_parameters_is_accepted(args, kwargs):
    check_signature(*args, **kwargs)


@pytest.mark.parametrize("args,kwargs", [((7,), {}), ((7, {}, None, 1), {}), ((7, {}), {"source": "x"})])
def test_a_call_that_does_not_fit_them_is_refused_before_a_worker_runs(args, kwargs):
    with pytest.raises(IncorrectSignature):
        check_signature(*args, **kwargs)
