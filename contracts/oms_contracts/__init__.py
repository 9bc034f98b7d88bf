"""The language the OMS services and the gateway share, written once.

Plain Python with no dependency: a producer, a consumer and the gateway import the same
names instead of keeping copies that drift apart.
"""
