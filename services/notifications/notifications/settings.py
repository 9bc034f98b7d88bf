"""The service's settings, read from the nameko config (itself fed by OMS_* variables)."""

from dataclasses import dataclass

from oms_common.settings import section, setting

from . import domain


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


def _reader(config):
    def read(key):
        return setting(config, key, "notifications")

    return read


def smtp_settings(config):
    smtp = section(config, "SMTP", "notifications")  # every SMTP.* setting, one field each
    smtp["host"] = smtp["host"] or "localhost"
    smtp["port"] = smtp["port"] or (465 if smtp["security"] == "ssl" else 1025)
    return SmtpSettings(**smtp)


def mail_settings(config):
    read = _reader(config)
    triggers = read("MAIL.TRIGGERS")
    if triggers.lower() in ("false", "off", "no"):  # what YAML makes of a bare "off" in a config file
        triggers = "none"
    return domain.MailSettings(
        sender=read("MAIL.FROM") or "OMS Shop <shop@localhost>",
        reply_to=read("MAIL.REPLY_TO"),
        shop_name=read("MAIL.SHOP_NAME") or "OMS Shop",
        footer=read("MAIL.FOOTER").replace("\\n", "\n"),
        legal=read("MAIL.LEGAL").replace("\\n", "\n"),
        fallback_language=read("MAIL.FALLBACK_LANGUAGE"),
        triggers=domain.parse_triggers(triggers),
        max_attempts=read("MAIL.MAX_ATTEMPTS"),
        retry_base_seconds=read("MAIL.RETRY_BASE_SECONDS"),
        retry_max_seconds=read("MAIL.RETRY_MAX_SECONDS"),
        message_id_domain=read("MAIL.MESSAGE_ID_DOMAIN"),
        attach_invoice=read("MAIL.ATTACH_INVOICE"),
        invoice_wait_seconds=read("MAIL.INVOICE_WAIT_SECONDS"),
    )


def sender_settings(config):
    read = _reader(config)
    return SenderSettings(
        poll_seconds=read("MAIL.POLL_SECONDS"),
        batch_size=read("MAIL.BATCH_SIZE"),
        lease_seconds=read("MAIL.SEND_LEASE_SECONDS"),
        parallel=read("MAIL.PARALLEL"),
    )


def strict_templates(config):
    return _reader(config)("MAIL.STRICT_TEMPLATES")
