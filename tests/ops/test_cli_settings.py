"""`oms settings`: what this environment gives every setting, and which ones a service would refuse
at start, before anything is started (no broker or database needed)."""

import json
import os
import subprocess
import sys

from tests.support.suite import REPO

OMS = [sys.executable, str(REPO / "tools" / "oms.py")]


def settings(*args, **env):
    environ = {key: value for key, value in os.environ.items() if not key.startswith("OMS_")} | env
    return subprocess.run([*OMS, *args], capture_output=True, text=True, env=environ, timeout=60, cwd=str(REPO))


def test_every_setting_of_a_service_is_shown_with_its_value_and_where_it_came_from():
    result = settings("--json", "settings", "--service", "payments", OMS_INBOX_BATCH="25", OMS_STRIPE_API_KEY="sk_x")

    assert result.returncode == 0, result.stderr
    rows = {row["variable"]: row for row in json.loads(result.stdout)}
    assert rows["OMS_INBOX_BATCH"]["value"] == "25"
    assert rows["OMS_INBOX_BATCH"]["from"] == "environment"
    assert rows["OMS_RECONCILE_BATCH"]["value"] == "50" and rows["OMS_RECONCILE_BATCH"]["from"] == "default"
    assert rows["OMS_STRIPE_API_KEY"]["value"] == "(set)"  # a secret is never printed
    assert "OMS_SMTP_HOST" not in rows  # a notifications setting


def test_a_value_a_service_would_refuse_is_named_and_the_exit_code_says_so():
    result = settings("settings", OMS_MAIL_BATCH_SIZE="lots", OMS_PSP_CAPTURE="later")

    assert result.returncode == 1
    assert "OMS_MAIL_BATCH_SIZE is a whole number; it is 'lots'." in result.stdout
    assert "OMS_PSP_CAPTURE is one of checkout, on_ship; it is 'later'." in result.stdout
    assert "2 setting(s) would stop a service at start" in result.stderr
