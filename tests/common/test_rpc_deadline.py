"""Calls between services with a deadline: a slow peer is a 503 that names it and crosses RPC as itself,
a peer that is not running was never reached, and the peer's own problems arrive unchanged."""

import eventlet
import pytest
from nameko.exceptions import deserialize, serialize
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from oms_common.problems import EXPECTED, Conflict
from oms_common.rpc import ServiceNotReached, ServiceTimedOut, TimedRpcProxy


class SlowPeer:
    name = "slow_peer"

    @rpc(expected_exceptions=EXPECTED)
    def answer(self, seconds):
        eventlet.sleep(seconds)
        return "done"

    @rpc(expected_exceptions=EXPECTED)
    def refuse(self):
        raise Conflict("Already shipped.", {"status": ["Is shipped."]})


class Caller:
    name = "rpc_caller"
    peer = TimedRpcProxy("slow_peer", timeout_setting="ORDERS_RPC_TIMEOUT")
    absent = TimedRpcProxy("no_such_service", timeout_setting="ORDERS_RPC_TIMEOUT")

    @rpc(expected_exceptions=EXPECTED)
    def ask(self, seconds):
        return self.peer("answer", seconds)

    @rpc(expected_exceptions=EXPECTED)
    def ask_refusal(self):
        return self.peer("refuse")

    @rpc(expected_exceptions=EXPECTED)
    def ask_absent(self):
        return self.absent("answer", 0)


@pytest.fixture
def caller(runner_factory, service_config):
    config = {**service_config, "ORDERS_RPC_TIMEOUT": "0.3"}
    runner = runner_factory(config, SlowPeer, Caller)
    runner.start()
    with ClusterRpcProxy(config, timeout=10) as cluster:
        yield cluster.rpc_caller


def test_an_answer_within_the_deadline_comes_through(caller):
    assert caller.ask(0) == "done"


def test_a_peer_slower_than_the_configured_deadline_is_a_timed_out_503_for_the_callers_caller(caller):
    with pytest.raises(ServiceTimedOut) as raised:
        caller.ask(2)

    assert raised.value.status == 503
    assert raised.value.detail == "The slow_peer service did not answer within 0.3 s."


def test_a_peer_that_is_not_running_was_never_reached(caller):
    with pytest.raises(ServiceNotReached) as raised:
        caller.ask_absent()

    assert raised.value.detail == "The no_such_service service is not running."


def test_the_peers_own_problem_arrives_unchanged(caller):
    with pytest.raises(Conflict) as raised:
        caller.ask_refusal()

    assert raised.value.errors == {"status": ["Is shipped."]}


@pytest.mark.parametrize("problem_class", [ServiceTimedOut, ServiceNotReached])
def test_both_kinds_of_503_keep_their_kind_across_rpc(problem_class):
    received = deserialize(serialize(problem_class("The orders service is not running.")))

    assert type(received) is problem_class
    assert received.as_dict()["status"] == 503
