"""The language the OMS services and the gateway share, written once.

Value lists (``values``), the actor every call carries (``actors``), how customers are named
(``customers``) and each service's RPC request and answer schemas (``exports``, ``documents``, …):
a producer, a consumer and the gateway import the same names instead of keeping copies that
drift apart. Only marshmallow and ``oms_common``'s field helpers are used here; rules that need
a service's own code stay in that service, on top of these shapes.
"""
