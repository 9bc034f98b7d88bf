"""What each provider needs from the operator: its settings, its capture mode, how long it holds
an authorisation. Plain Python, read once at start and by the configuration answer."""

from collections.abc import Mapping

# The settings a provider needs, by their environment names (what an operator sets).
PROVIDER_SETTINGS = {
    "manual": (),
    "stripe": ("OMS_STRIPE_API_KEY",),
    "paypal": ("OMS_PAYPAL_API_BASE", "OMS_PAYPAL_CLIENT_ID", "OMS_PAYPAL_CLIENT_SECRET"),
}
PROVIDER_NAMES = {"manual": "manual bookkeeping", "stripe": "Stripe", "paypal": "PayPal"}
# When a PSP payment's money is taken: at checkout (the PSP captures as the buyer pays) or
# when the order ships (authorised at checkout, captured by the ship). An authorisation
# lapses at the PSP: Stripe's after 7 days, PayPal's after 29 (unless the PSP names the time).
CAPTURE_MODES = ("checkout", "on_ship")
AUTHORIZATION_VALID_DAYS = {"stripe": 7, "paypal": 29}


def not_configured_reason(provider: str, missing: list[str]) -> str:
    """Why a provider's operations cannot run: it lacks these settings."""
    return f"{PROVIDER_NAMES[provider]} is not configured (set {', '.join(missing) or 'its settings'})."


def capture_mode(value: object, field: str = "OMS_PSP_CAPTURE") -> str:
    """A configured capture mode (``checkout`` when empty); anything else is refused at start."""
    mode = str(value or "").strip().lower() or "checkout"
    if mode not in CAPTURE_MODES:
        raise ValueError(f"{field} must be one of {', '.join(CAPTURE_MODES)}, not {value!r}.")
    return mode


def capture_modes(default: object, overrides: Mapping[str, object]) -> dict[str, str]:
    """{provider: mode}: ``overrides`` (provider → value or empty) win over ``default``."""
    base = capture_mode(default)
    return {
        provider: capture_mode(overrides.get(provider), f"OMS_PSP_CAPTURE_{provider.upper()}")
        if overrides.get(provider)
        else base
        for provider in ("stripe", "paypal")
    }
