"""A local fake of Stripe and PayPal for tests, demos and the webhook bench (see server.py)."""

from .server import FakePSP, parse_stripe_form, stripe_signature

__all__ = ["FakePSP", "parse_stripe_form", "stripe_signature"]
