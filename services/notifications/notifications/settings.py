"""The service's settings, read from the nameko config (itself fed by OMS_* variables)."""

from dataclasses import dataclass

from oms_contracts.values import LANGUAGES

from . import domain

SECURITY_MODES = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 1025
    security: str = "none"
    user: str = ""
    password: str = ""
    timeout: float = 30.0
    verify_tls: bool = True
    keep_idle_seconds: float = 30.0  # an idle connection is kept this long for the next round (0: closed)


@dataclass(frozen=True)
class SenderSettings:
    poll_seconds: float = 1.0
    batch_size: int = 40
    lease_seconds: float = 300.0
    parallel: int = 4  # lanes of a batch sent at the same time, each over its own connection

    def lease_for(self, smtp_timeout):
        """Long enough that a live sender finishes its batch before another may take it over:
        the lanes run side by side, so the longest lane is what counts."""
        per_lane = -(-self.batch_size // max(1, self.parallel))
        return max(self.lease_seconds, per_lane * float(smtp_timeout) * 2 + 60)


def _text(value, default=""):
    if value is None or value is False:
        return default
    return str(value)


def _flag(value, default=False):
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _number(value, default, kind=float):
    if value is None or value == "":
        return default
    return kind(value)


def smtp_settings(config):
    smtp = config.get("SMTP") or {}
    security = _text(smtp.get("SECURITY"), "none").strip().lower() or "none"
    if security not in SECURITY_MODES:
        raise ValueError(f"OMS_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}, not {security!r}.")
    return SmtpSettings(
        host=_text(smtp.get("HOST"), "localhost") or "localhost",
        port=_number(smtp.get("PORT"), 465 if security == "ssl" else 1025, int),
        security=security,
        user=_text(smtp.get("USER")),
        password=_text(smtp.get("PASSWORD")),
        timeout=_number(smtp.get("TIMEOUT"), 30.0),
        verify_tls=_flag(smtp.get("VERIFY_TLS"), True),
        keep_idle_seconds=_number(smtp.get("KEEP_IDLE_SECONDS"), 30.0),
    )


def mail_settings(config):
    mail = config.get("MAIL") or {}
    triggers = mail.get("TRIGGERS")
    if triggers is False:  # YAML reads a bare "off" as false
        triggers = "none"
    fallback = _text(mail.get("FALLBACK_LANGUAGE"), "en").strip().lower() or "en"
    if fallback not in LANGUAGES:
        raise ValueError(f"OMS_MAIL_FALLBACK_LANGUAGE must be one of {', '.join(LANGUAGES)}.")
    return domain.MailSettings(
        sender=_text(mail.get("FROM"), "OMS Shop <shop@localhost>") or "OMS Shop <shop@localhost>",
        reply_to=_text(mail.get("REPLY_TO")),
        shop_name=_text(mail.get("SHOP_NAME"), "OMS Shop") or "OMS Shop",
        footer=_text(mail.get("FOOTER")).replace("\\n", "\n"),
        legal=_text(mail.get("LEGAL")).replace("\\n", "\n"),
        fallback_language=fallback,
        triggers=domain.parse_triggers(triggers),
        max_attempts=_number(mail.get("MAX_ATTEMPTS"), 8, int),
        retry_base_seconds=_number(mail.get("RETRY_BASE_SECONDS"), 30.0),
        retry_max_seconds=_number(mail.get("RETRY_MAX_SECONDS"), 3600.0),
        message_id_domain=_text(mail.get("MESSAGE_ID_DOMAIN")),
        attach_invoice=_flag(mail.get("ATTACH_INVOICE"), False),
        invoice_wait_seconds=_number(mail.get("INVOICE_WAIT_SECONDS"), 120.0),
    )


def sender_settings(config):
    mail = config.get("MAIL") or {}
    return SenderSettings(
        poll_seconds=_number(mail.get("POLL_SECONDS"), 1.0),
        batch_size=_number(mail.get("BATCH_SIZE"), 40, int),
        lease_seconds=_number(mail.get("SEND_LEASE_SECONDS"), 300.0),
        parallel=max(1, _number(mail.get("PARALLEL"), 4, int)),
    )


def strict_templates(config):
    return _flag((config.get("MAIL") or {}).get("STRICT_TEMPLATES"), False)
