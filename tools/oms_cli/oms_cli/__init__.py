"""The OMS operator command line; see ``oms --help``."""
