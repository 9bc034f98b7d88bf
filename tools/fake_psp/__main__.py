"""Runs the fake PSP: ``PYTHONPATH=tools python -m fake_psp --port 12111``.

Point OMS at it with OMS_STRIPE_API_BASE=http://127.0.0.1:12111, OMS_STRIPE_API_KEY=sk_test_fake,
OMS_STRIPE_WEBHOOK_SECRET=whsec_fake, OMS_PAYPAL_API_BASE=http://127.0.0.1:12111,
OMS_PAYPAL_CLIENT_ID=fake-client, OMS_PAYPAL_CLIENT_SECRET=fake-secret, OMS_PAYPAL_WEBHOOK_ID=WH-FAKE.
``POST /_fake/stripe/payment_intents/{id}/succeed?deliver=1`` then pays an intent and sends the
signed webhook to --stripe-webhook-url.
"""

import argparse
import time

from .server import FakePSP


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--stripe-webhook-url", default="http://127.0.0.1:8001/webhooks/stripe")
    parser.add_argument("--paypal-webhook-url", default="http://127.0.0.1:8001/webhooks/paypal")
    parser.add_argument("--stripe-api-key", default="sk_test_fake")
    parser.add_argument("--stripe-webhook-secret", default="whsec_fake")
    args = parser.parse_args()
    psp = FakePSP(
        stripe_api_key=args.stripe_api_key,
        stripe_webhook_secret=args.stripe_webhook_secret,
        stripe_webhook_url=args.stripe_webhook_url,
        paypal_webhook_url=args.paypal_webhook_url,
    )
    print(f"fake PSP at {psp.start(args.host, args.port)}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        psp.stop()


if __name__ == "__main__":
    main()
