"""Mail over a real TLS server with a login: STARTTLS and implicit TLS, certificate checks on
and off, and a wrong password that fails visibly instead of losing the mail."""

import subprocess
import sys
from types import SimpleNamespace

import pytest

from notifications import delivery, settings, smtp
from notifications.rendering import Renderer
from tests.support.smtp import SmtpSink

from .test_notifications_delivery import queue, rows_of

USER, PASSWORD = "shop-mailer", "s3cret-Passw0rd"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A throw-away self-signed certificate for 127.0.0.1, made by openssl for this module."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return SimpleNamespace(cert=cert, key=key)


class TlsSink(SmtpSink):
    """The aiosmtpd sink in TLS mode (STARTTLS or implicit TLS), requiring SMTP AUTH."""

    def __init__(self, outdir, mode, certificate):
        super().__init__(outdir)
        self.mode, self.certificate = mode, certificate

    def start(self):
        script = SmtpSink.__init__.__globals__["SINK_SCRIPT"].with_name("smtp_tls_sink.py")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(self.port),
                str(self.outdir),
                self.mode,
                str(self.certificate.cert),
                str(self.certificate.key),
                USER,
                PASSWORD,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        assert line.strip() == "READY", f"TLS SMTP sink did not start: {line!r}"


@pytest.fixture(params=["starttls", "ssl"])
def tls_sink(request, tmp_path, certificate):
    sink = TlsSink(tmp_path / "tls-smtp", request.param, certificate)
    sink.outdir.mkdir()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_api(mail_config):
    return SimpleNamespace(
        settings=settings.mail_settings(mail_config), renderer=Renderer(strict=True), wake=lambda: None
    )


def transport_for(sink, verify_tls=True, password=PASSWORD, user=USER):
    return smtp.SmtpTransport(
        settings.SmtpSettings(
            host="127.0.0.1",
            port=sink.port,
            security=sink.mode,
            user=user,
            password=password,
            timeout=10,
            verify_tls=verify_tls,
        )
    )


def send_one(notifications_db, mail_api, transport):
    """Queues one mail and runs one round of the sender; the mail's row after that round.

    The database is shared with the other tests of this module, so every check looks at this
    mail's own row and at what reached the server for its recipient only."""
    order = queue(notifications_db, mail_api)
    delivery.deliver_due(notifications_db, transport, mail_api.settings, batch_size=100)
    (row,) = rows_of(notifications_db, order["reference"])
    return row


def received_for(sink, row):
    return [(m, e) for m, e in sink.messages() if e["rcpt_tos"] == [row.recipient]]


def test_trusted_certificate_and_login_deliver(notifications_db, mail_api, tls_sink, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert))  # the operator trusts the server's CA
    row = send_one(notifications_db, mail_api, transport_for(tls_sink, verify_tls=True))
    assert (row.status, row.last_error) == ("sent", None)
    ((message, _envelope),) = received_for(tls_sink, row)
    assert message["Message-ID"] == row.message_id


def test_unverified_certificate_delivers_only_with_verification_off(notifications_db, mail_api, tls_sink):
    row = send_one(notifications_db, mail_api, transport_for(tls_sink, verify_tls=True))
    assert (row.status, row.attempts) == ("queued", 1)  # kept for a retry once the server is trusted
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert received_for(tls_sink, row) == []

    other = send_one(notifications_db, mail_api, transport_for(tls_sink, verify_tls=False))
    assert other.status == "sent"
    assert len(received_for(tls_sink, other)) == 1


def test_wrong_password_fails_visibly_and_keeps_the_mail(notifications_db, mail_api, tls_sink):
    row = send_one(notifications_db, mail_api, transport_for(tls_sink, verify_tls=False, password="wrong"))
    assert (row.status, row.attempts) == ("queued", 1)  # retried once the password is fixed
    assert row.last_error.startswith("SMTPAuthenticationError") and "535" in row.last_error
    assert received_for(tls_sink, row) == []


def test_server_that_wants_a_login_refuses_a_sender_without_one(notifications_db, mail_api, tls_sink):
    row = send_one(notifications_db, mail_api, transport_for(tls_sink, verify_tls=False, user="", password=""))
    assert row.status == "failed"  # listed by failed_mails, queued again with retry_mail
    assert "530" in row.last_error
    assert received_for(tls_sink, row) == []
