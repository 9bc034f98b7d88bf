"""Every setting of the suite, once: its variable, where each service's config.yml puts it, its kind
and default. The services read them through ``oms_common.settings.setting``; a test checks each
config.yml and the README's settings tables against this table, so none can drift.
"""

from dataclasses import dataclass

from .setting_types import Kind, address, choice, delays, flag, seconds, secret, text, whole

ALL = ("gateway", "orders", "payments", "notifications", "exports", "documents")
BACKENDS = ALL[1:]


@dataclass(frozen=True)
class Setting:
    variable: str  # what an operator sets: OMS_…
    key: str | None  # where config.yml puts it ("MAIL.FROM" is MAIL: FROM:); None: read from the environment only
    kind: Kind
    default: str  # the text config.yml falls back to; "" means unset
    services: tuple[str, ...]
    nameko: bool = False  # read by nameko itself (listener address, worker pool), not by OMS code


def _s(
    variable: str, key: str | None, kind: Kind, default: str, services: str | tuple[str, ...], nameko: bool = False
) -> Setting:
    return Setting(variable, key, kind, default, services if isinstance(services, tuple) else (services,), nameko)


SETTINGS: tuple[Setting, ...] = (
    # shared
    _s("OMS_AMQP_URI", "AMQP_URI", text(), "amqp://guest:guest@localhost:5672/", ALL, nameko=True),
    _s("OMS_DATABASE_URL", "DATABASE_URL", secret(), "", ALL),
    _s("OMS_MAX_WORKERS", "max_workers", whole(1), "10", BACKENDS, nameko=True),
    _s("OMS_MAX_WORKERS", "max_workers", whole(1), "20", "gateway", nameko=True),
    _s("OMS_EVENT_RETRY_DELAYS", "EVENT_RETRY_DELAYS", delays(), "1,5,30,120,600", ALL),
    _s("OMS_OUTBOX_POLL_SECONDS", "OUTBOX_POLL_SECONDS", seconds(0.01), "1", ALL),
    _s("OMS_VAR_DIR", None, text(), "", ALL),
    _s("OMS_LOG_LEVEL", "LOGGING.root.level", choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", ALL, nameko=True),
    _s("OMS_METRICS_PORT", None, whole(0), "", ALL),
    _s("OMS_METRICS_HOST", None, text(), "127.0.0.1", ALL),
    _s("OMS_TRUSTED_PROXIES", "TRUSTED_PROXIES", text(), "", ALL),
    _s("OMS_HTTP_HEAD_SECONDS", "HTTP_HEAD_SECONDS", seconds(0.1), "10", ALL),
    _s("OMS_HTTP_BODY_SECONDS", "HTTP_BODY_SECONDS", seconds(0.1), "10", ALL),
    _s("OMS_HTTP_IDLE_SECONDS", "HTTP_IDLE_SECONDS", seconds(0.1), "30", ALL),
    _s("OMS_HTTP_MAX_CONNECTIONS", "HTTP_MAX_CONNECTIONS", whole(1), "1000", ALL),
    _s("OMS_HTTP_MAX_BODY_BYTES", "HTTP_MAX_BODY_BYTES", whole(1024), "26214400", ALL),
    _s("OMS_IMPORT_MAX_BYTES", "IMPORT_MAX_BYTES", whole(1024), "20971520", ("gateway", "exports")),
    _s("OMS_BANK_STATEMENT_MAX_BYTES", "BANK_STATEMENT_MAX_BYTES", whole(1024), "20971520", ("gateway", "payments")),
    _s("OMS_EXPORTS_INTERNAL_TOKEN", "EXPORTS_INTERNAL_TOKEN", secret(), "", ("gateway", "exports")),
    _s("OMS_SHOP_TIMEZONE", "SHOP_TIMEZONE", text(), "Europe/Zurich", ("gateway", "payments")),
    _s("OMS_SHOP_TIMEZONE", "TAX.TIMEZONE", text(), "Europe/Zurich", "orders"),
    _s("OMS_SHOP_TIMEZONE", "DOCUMENTS.TIMEZONE", text(), "Europe/Zurich", "documents"),
    # gateway
    _s("OMS_GATEWAY_ADDRESS", "WEB_SERVER_ADDRESS", address(), "127.0.0.1:8000", "gateway", nameko=True),
    _s("OMS_BOOTSTRAP_ADMIN_TOKEN", "BOOTSTRAP_ADMIN_TOKEN", secret(), "", "gateway"),
    _s("OMS_BOOTSTRAP_ADMIN_PASSWORD", "BOOTSTRAP_ADMIN_PASSWORD", secret(), "", "gateway"),
    _s("OMS_RPC_TIMEOUT_SECONDS", "RPC_TIMEOUT_SECONDS", seconds(0.1), "10", "gateway"),
    _s("OMS_DETAIL_PART_TIMEOUT_SECONDS", "DETAIL_PART_TIMEOUT_SECONDS", seconds(0.05), "1", "gateway"),
    _s("OMS_EXPORTS_HTTP_ADDRESS", "EXPORTS_HTTP_ADDRESS", address(), "127.0.0.1:8002", "gateway"),
    _s("OMS_SIGN_IN_THROTTLE_AFTER", "SIGN_IN_THROTTLE_AFTER", whole(1), "3", "gateway"),
    _s("OMS_SIGN_IN_THROTTLE_ADDRESS_AFTER", "SIGN_IN_THROTTLE_ADDRESS_AFTER", whole(1), "10", "gateway"),
    _s("OMS_SIGN_IN_DELAY_SECONDS", "SIGN_IN_DELAY_SECONDS", seconds(), "5", "gateway"),
    _s("OMS_SIGN_IN_DELAY_MAX_SECONDS", "SIGN_IN_DELAY_MAX_SECONDS", seconds(), "900", "gateway"),
    _s("OMS_SIGN_IN_FORGET_SECONDS", "SIGN_IN_FORGET_SECONDS", seconds(1), "3600", "gateway"),
    _s("OMS_LOCAL_OUTBOX_DIR", None, text(), "", "gateway"),
    # orders
    _s("OMS_PAYMENTS_RPC_TIMEOUT", "PAYMENTS_RPC_TIMEOUT", seconds(0.1), "30", "orders"),
    _s("OMS_OPEN_ORDER_TTL_SECONDS", "OPEN_ORDER_TTL_SECONDS", seconds(), "86400", "orders"),
    _s("OMS_OPEN_ORDER_SWEEP_SECONDS", "OPEN_ORDER_SWEEP_SECONDS", seconds(), "60", "orders"),
    _s("OMS_TAX_COUNTRY", "TAX.COUNTRY", choice("CH", "DE"), "CH", "orders"),
    _s("OMS_TAX_PRICES", "TAX.PRICES", choice("gross", "net"), "gross", "orders"),
    _s("OMS_CURSOR_SECRET", "CURSOR_SECRET", secret(), "", "orders"),
    _s("OMS_SEARCH_COUNT_LIMIT", "SEARCH_COUNT_LIMIT", whole(1), "1000", "orders"),
    # payments
    _s("OMS_WEBHOOK_ADDRESS", "WEB_SERVER_ADDRESS", address(), "127.0.0.1:8001", "payments", nameko=True),
    _s("OMS_STRIPE_API_KEY", "STRIPE_API_KEY", secret(), "", "payments"),
    _s("OMS_STRIPE_API_BASE", "STRIPE_API_BASE", text(), "", "payments"),
    _s("OMS_STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_SECRET", secret(), "", "payments"),
    _s("OMS_STRIPE_WEBHOOK_TOLERANCE", "STRIPE_WEBHOOK_TOLERANCE", whole(1), "300", "payments"),
    _s("OMS_PAYPAL_API_BASE", "PAYPAL_API_BASE", text(), "https://api-m.sandbox.paypal.com", "payments"),
    _s("OMS_PAYPAL_CLIENT_ID", "PAYPAL_CLIENT_ID", text(), "", "payments"),
    _s("OMS_PAYPAL_CLIENT_SECRET", "PAYPAL_CLIENT_SECRET", secret(), "", "payments"),
    _s("OMS_PAYPAL_WEBHOOK_ID", "PAYPAL_WEBHOOK_ID", text(), "", "payments"),
    _s("OMS_PSP_TIMEOUT_SECONDS", "PSP_TIMEOUT_SECONDS", seconds(0.1), "10", "payments"),
    _s("OMS_PSP_OPEN_ON_SUBMIT", "PSP_OPEN_ON_SUBMIT", flag(), "true", "payments"),
    _s("OMS_PSP_CAPTURE", "PSP_CAPTURE", choice("checkout", "on_ship"), "checkout", "payments"),
    _s("OMS_PSP_CAPTURE_STRIPE", "PSP_CAPTURE_STRIPE", choice("checkout", "on_ship"), "", "payments"),
    _s("OMS_PSP_CAPTURE_PAYPAL", "PSP_CAPTURE_PAYPAL", choice("checkout", "on_ship"), "", "payments"),
    _s("OMS_RECONCILE_INTERVAL_SECONDS", "RECONCILE_INTERVAL_SECONDS", seconds(), "60", "payments"),
    _s("OMS_RECONCILE_AFTER_SECONDS", "RECONCILE_AFTER_SECONDS", seconds(1), "900", "payments"),
    _s("OMS_RECONCILE_RECHECK_SECONDS", "RECONCILE_RECHECK_SECONDS", seconds(1), "300", "payments"),
    _s("OMS_RECONCILE_BATCH", "RECONCILE_BATCH", whole(1), "50", "payments"),
    _s("OMS_INBOX_POLL_SECONDS", "INBOX_POLL_SECONDS", seconds(0.01), "1", "payments"),
    _s("OMS_INBOX_BATCH", "INBOX_BATCH", whole(1), "100", "payments"),
    _s("OMS_INBOX_MAX_ATTEMPTS", "INBOX_MAX_ATTEMPTS", whole(1), "5", "payments"),
    _s("OMS_INBOX_RETRY_BASE_SECONDS", "INBOX_RETRY_BASE_SECONDS", seconds(), "1", "payments"),
    _s("OMS_INBOX_BUSY_PAUSE_SECONDS", "INBOX_BUSY_PAUSE_SECONDS", seconds(), "0.02", "payments"),
    _s("OMS_INBOX_SWEEP_SECONDS", "INBOX_SWEEP_SECONDS", seconds(), "10", "payments"),
    _s("OMS_BANK_STATEMENT_DIR", "BANK_STATEMENT_DIR", text(), "", "payments"),
    _s("OMS_BANK_STATEMENT_SCAN_SECONDS", "BANK_STATEMENT_SCAN_SECONDS", seconds(), "60", "payments"),
    _s("OMS_ORDERS_RPC_TIMEOUT", "ORDERS_RPC_TIMEOUT", seconds(0.1), "10", "payments"),
    _s("OMS_DUNNING_FEE_1", "DUNNING_FEE_1", text(), "0.00", "payments"),  # an amount: payments' domain checks it
    _s("OMS_DUNNING_FEE_2", "DUNNING_FEE_2", text(), "5.00", "payments"),
    _s("OMS_AUTO_DUNNING", "AUTO_DUNNING", flag(), "false", "payments"),
    _s("OMS_DUNNING_1_AFTER_DAYS", "DUNNING_1_AFTER_DAYS", whole(0), "10", "payments"),
    _s("OMS_DUNNING_2_AFTER_DAYS", "DUNNING_2_AFTER_DAYS", whole(0), "10", "payments"),
    _s("OMS_AUTO_DUNNING_SCAN_SECONDS", "AUTO_DUNNING_SCAN_SECONDS", seconds(), "3600", "payments"),
    # notifications
    _s("OMS_DOCUMENTS_RPC_TIMEOUT", "DOCUMENTS_RPC_TIMEOUT", seconds(0.1), "10", "notifications"),
    _s("OMS_SMTP_HOST", "SMTP.HOST", text(), "localhost", "notifications"),
    _s("OMS_SMTP_PORT", "SMTP.PORT", whole(1), "", "notifications"),
    _s("OMS_SMTP_SECURITY", "SMTP.SECURITY", choice("none", "starttls", "ssl"), "none", "notifications"),
    _s("OMS_SMTP_USER", "SMTP.USER", text(), "", "notifications"),
    _s("OMS_SMTP_PASSWORD", "SMTP.PASSWORD", secret(), "", "notifications"),
    _s("OMS_SMTP_TIMEOUT", "SMTP.TIMEOUT", seconds(0.1), "30", "notifications"),
    _s("OMS_SMTP_VERIFY_TLS", "SMTP.VERIFY_TLS", flag(), "true", "notifications"),
    _s("OMS_SMTP_KEEP_IDLE_SECONDS", "SMTP.KEEP_IDLE_SECONDS", seconds(), "30", "notifications"),
    _s("OMS_MAIL_FROM", "MAIL.FROM", text(), "OMS Shop <shop@localhost>", "notifications"),
    _s("OMS_MAIL_REPLY_TO", "MAIL.REPLY_TO", text(), "", "notifications"),
    _s("OMS_SHOP_NAME", "MAIL.SHOP_NAME", text(), "OMS Shop", "notifications"),
    _s("OMS_MAIL_FOOTER", "MAIL.FOOTER", text(), "", "notifications"),
    _s("OMS_MAIL_LEGAL", "MAIL.LEGAL", text(), "", "notifications"),
    _s("OMS_MAIL_FALLBACK_LANGUAGE", "MAIL.FALLBACK_LANGUAGE", choice("de", "fr", "it", "en"), "en", "notifications"),
    _s("OMS_MAIL_TRIGGERS", "MAIL.TRIGGERS", text(), "all", "notifications"),
    _s("OMS_MAIL_MESSAGE_ID_DOMAIN", "MAIL.MESSAGE_ID_DOMAIN", text(), "", "notifications"),
    _s("OMS_MAIL_MAX_ATTEMPTS", "MAIL.MAX_ATTEMPTS", whole(1), "8", "notifications"),
    _s("OMS_MAIL_RETRY_BASE_SECONDS", "MAIL.RETRY_BASE_SECONDS", seconds(), "30", "notifications"),
    _s("OMS_MAIL_RETRY_MAX_SECONDS", "MAIL.RETRY_MAX_SECONDS", seconds(), "3600", "notifications"),
    _s("OMS_MAIL_POLL_SECONDS", "MAIL.POLL_SECONDS", seconds(0.01), "1", "notifications"),
    _s("OMS_MAIL_BATCH_SIZE", "MAIL.BATCH_SIZE", whole(1), "40", "notifications"),
    _s("OMS_MAIL_PARALLEL", "MAIL.PARALLEL", whole(1), "4", "notifications"),
    _s("OMS_MAIL_SEND_LEASE_SECONDS", "MAIL.SEND_LEASE_SECONDS", seconds(1), "300", "notifications"),
    _s("OMS_MAIL_STRICT_TEMPLATES", "MAIL.STRICT_TEMPLATES", flag(), "false", "notifications"),
    _s("OMS_MAIL_ATTACH_INVOICE", "MAIL.ATTACH_INVOICE", flag(), "false", "notifications"),
    _s("OMS_MAIL_INVOICE_WAIT_SECONDS", "MAIL.INVOICE_WAIT_SECONDS", seconds(), "120", "notifications"),
    # exports
    _s("OMS_EXPORTS_HTTP_ADDRESS", "WEB_SERVER_ADDRESS", address(), "127.0.0.1:8002", "exports", nameko=True),
    _s("OMS_EXPORT_DIR", "EXPORT_DIR", text(), "", "exports"),
    _s("OMS_EXPORT_JOB_INTERVAL", "JOB_TIMER_SECONDS", seconds(), "10", "exports"),
    _s("OMS_EXPORT_CSV_DELIMITER", "CSV_DELIMITER", text(), ";", "exports"),
    _s("OMS_EXPORT_FETCH_SIZE", "EXPORT_FETCH_SIZE", whole(1), "2000", "exports"),
    _s("OMS_IMPORT_MAX_ORDERS", "IMPORT_MAX_ORDERS", whole(1), "10000", "exports"),
    _s("OMS_ORDERS_RPC_TIMEOUT", "ORDERS_RPC_TIMEOUT", seconds(0.1), "30", "exports"),
    # documents
    _s("OMS_DOCUMENTS_LOGO_MAX_BYTES", "DOCUMENTS.LOGO_MAX_BYTES", whole(1024), "262144", "documents"),
)

# a service outside the suite (a test's own) reads a key as the first service that has it does
BY_KEY: dict[str, Setting] = {}
for _setting in SETTINGS:
    BY_KEY.setdefault(_setting.key or _setting.variable, _setting)

BY_SERVICE_KEY: dict[tuple[str, str], Setting] = {
    (service, setting.key or setting.variable): setting for setting in SETTINGS for service in setting.services
}
