"""Gateway routes of the payments service (api.md)."""
