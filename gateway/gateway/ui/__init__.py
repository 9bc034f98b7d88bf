"""The admin web UI: server-rendered pages over the same service calls as the API."""
