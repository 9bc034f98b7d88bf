"""Gateway routes of the notifications service (api.md)."""
