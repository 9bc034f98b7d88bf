"""Cross-cutting machinery shared by the OMS services, written once."""
