"""Gateway routes of the exports service (api.md)."""
