"""The one settings table: the typed reader, the start-up check, and that every config.yml, the
README and every reader in the code agree with it."""

import re
from pathlib import Path

import pytest
from nameko.containers import ServiceContainer

from oms_common.providers import Settings
from oms_common.setting_table import BY_SERVICE_KEY, SETTINGS
from oms_common.settings import REPO_ROOT, SettingsError, check_settings, setting

CONFIG_FILES = {
    "gateway": REPO_ROOT / "gateway" / "config.yml",
    **{
        name: REPO_ROOT / "services" / name / "config.yml"
        for name in ("orders", "payments", "notifications", "exports", "documents")
    },
}
SOURCE_DIRS = [REPO_ROOT / "common", REPO_ROOT / "gateway", REPO_ROOT / "services"]


def _yaml_settings(path: Path) -> dict[str, tuple[str, str]]:
    """{dotted key: (variable, default)} of every ``${OMS_…:default}`` in a config.yml."""
    found, stack = {}, []
    for line in path.read_text().splitlines():
        match = re.match(r"(\s*)([A-Za-z_]+):\s*(.*)", line)
        if not match or line.lstrip().startswith("#"):
            continue
        indent, key, value = len(match.group(1)), match.group(2), match.group(3)
        stack = [(depth, name) for depth, name in stack if depth < indent]
        variable = re.search(r"\$\{(OMS_[A-Z0-9_]+):(.*)\}", value)
        if variable:
            found[".".join([name for _, name in stack] + [key])] = (variable.group(1), variable.group(2))
        elif not value:
            stack.append((indent, key))
    return found


def _readme_rows() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index("## Settings") : text.index("## Documents")]
    return [line for line in section.splitlines() if line.startswith("| `OMS_")]


def test_a_setting_is_read_typed_from_the_config_else_the_environment_else_its_default():
    assert setting({"INBOX_BATCH": "7"}, "INBOX_BATCH", "payments", environ={}) == 7
    assert setting({}, "INBOX_BATCH", "payments", environ={"OMS_INBOX_BATCH": "9"}) == 9
    assert setting({}, "INBOX_BATCH", "payments", environ={}) == 100
    assert setting({"SMTP": {"TIMEOUT": "2.5"}}, "SMTP.TIMEOUT", "notifications", environ={}) == 2.5
    assert setting({"PSP_OPEN_ON_SUBMIT": False}, "PSP_OPEN_ON_SUBMIT", "payments", environ={}) is False
    assert setting({"PSP_OPEN_ON_SUBMIT": "yes"}, "PSP_OPEN_ON_SUBMIT", "payments", environ={}) is True
    assert setting({"TAX": {"COUNTRY": "de"}}, "TAX.COUNTRY", "orders", environ={}) == "DE"
    assert setting({"EVENT_RETRY_DELAYS": [0.5, 2]}, "EVENT_RETRY_DELAYS", "orders", environ={}) == (0.5, 2.0)
    # an unset text is empty, any other unset setting None; one variable, per-service defaults
    assert setting({}, "CURSOR_SECRET", "orders", environ={}) == ""
    assert setting({}, "PSP_CAPTURE_STRIPE", "payments", environ={}) is None
    assert setting({}, "ORDERS_RPC_TIMEOUT", "payments", environ={}) == 10
    assert setting({}, "ORDERS_RPC_TIMEOUT", "exports", environ={}) == 30


@pytest.mark.parametrize(
    ("config", "key", "service", "message"),
    [
        ({"INBOX_BATCH": "many"}, "INBOX_BATCH", "payments", "OMS_INBOX_BATCH is a whole number; it is 'many'."),
        ({"INBOX_BATCH": "0"}, "INBOX_BATCH", "payments", "OMS_INBOX_BATCH is at least 1; it is '0'."),
        ({"PSP_OPEN_ON_SUBMIT": "maybe"}, "PSP_OPEN_ON_SUBMIT", "payments", "OMS_PSP_OPEN_ON_SUBMIT is true or false"),
        ({"PSP_CAPTURE": "later"}, "PSP_CAPTURE", "payments", "OMS_PSP_CAPTURE is one of checkout, on_ship"),
        ({"RPC_TIMEOUT_SECONDS": "-1"}, "RPC_TIMEOUT_SECONDS", "gateway", "OMS_RPC_TIMEOUT_SECONDS is at least 0.1"),
        ({"EVENT_RETRY_DELAYS": "1,x"}, "EVENT_RETRY_DELAYS", "orders", "OMS_EVENT_RETRY_DELAYS is a comma list"),
        ({"EXPORTS_HTTP_ADDRESS": "8002"}, "EXPORTS_HTTP_ADDRESS", "gateway", "OMS_EXPORTS_HTTP_ADDRESS is host:port"),
    ],
)
def test_a_value_its_kind_refuses_is_named_with_its_variable(config, key, service, message):
    with pytest.raises(SettingsError) as refused:
        setting(config, key, service, environ={})

    assert str(refused.value).startswith(message)


def test_a_key_the_table_does_not_know_is_a_mistake_in_the_code():
    with pytest.raises(KeyError, match="NO_SUCH_SETTING is not a setting of orders"):
        setting({}, "NO_SUCH_SETTING", "orders")


def test_the_start_check_reads_every_setting_of_the_service_and_stops_at_a_wrong_one():
    check_settings({}, "payments", environ={})  # the defaults are all valid
    with pytest.raises(SettingsError, match="OMS_RECONCILE_BATCH"):
        check_settings({}, "payments", environ={"OMS_RECONCILE_BATCH": "fifty"})
    # another service's setting is not this one's business
    check_settings({}, "orders", environ={"OMS_RECONCILE_BATCH": "fifty"})


class _SettingsOnly:
    name = "documents"
    settings = Settings()


def test_a_service_with_a_wrong_setting_does_not_start():
    container = ServiceContainer(_SettingsOnly, {"DOCUMENTS": {"LOGO_MAX_BYTES": "big"}})
    with pytest.raises(SettingsError, match="OMS_DOCUMENTS_LOGO_MAX_BYTES is a whole number"):
        container.start()
    container.kill()


@pytest.mark.parametrize("service", sorted(CONFIG_FILES))
def test_every_variable_a_config_file_reads_is_in_the_table_with_the_same_default(service):
    for key, (variable, default) in _yaml_settings(CONFIG_FILES[service]).items():
        entry = BY_SERVICE_KEY.get((service, key))
        assert entry is not None, f"{service}/config.yml reads {variable} as {key}, which settings.toml lacks"
        assert (entry.variable, entry.default) == (variable, default), f"{service}: {key}"


def test_every_setting_nameko_reads_itself_is_in_the_config_files_of_its_services():
    for entry in SETTINGS:
        if entry.nameko and entry.key and "." not in entry.key:
            for service in entry.services:
                assert entry.key in _yaml_settings(CONFIG_FILES[service]), f"{entry.variable} in {service}"


def test_every_setting_is_documented_in_the_readme_with_its_default():
    rows = _readme_rows()
    for entry in SETTINGS:
        documented = [row for row in rows if f"`{entry.variable}`" in row.split(" | ")[0]]
        assert documented, f"README.md's settings tables lack {entry.variable}"
        if entry.default:
            assert any(entry.default in row for row in documented), f"{entry.variable}: default {entry.default}"


# section(config, "SMTP", "service"): every SMTP.* setting of the table
SECTION = re.compile(r'section\([^,()]+, "([A-Z_]+)", "\w+"\)')


def test_every_setting_the_code_reads_is_in_the_table():
    readers = [
        r'setting\([^,()]+(?:\([^)]*\))?, "([A-Z_.]+)", "(\w+)"',  # setting(config, "KEY", "service")
        r'configured_timer\("([A-Z_]+)"\)',
        r'timeout_setting="([A-Z_]+)"',
        r'self\.settings\("([A-Z_.]+)"\)',
        r'read\("([A-Z_.]+)"\)',
    ]
    keys = {entry.key for entry in SETTINGS} | {entry.variable for entry in SETTINGS}
    read = set()
    for directory in SOURCE_DIRS:
        for path in directory.rglob("*.py"):
            text = path.read_text()
            for pattern in readers:
                read.update(match.group(1) for match in re.finditer(pattern, text))
    assert read, "the patterns find the readers"
    assert read <= keys, f"read but not in settings.toml: {sorted(read - keys)}"
    sections = {
        match for path in SOURCE_DIRS for file in path.rglob("*.py") for match in SECTION.findall(file.read_text())
    }
    assert sections, "the pattern finds the section readers"
    assert all(any(key.startswith(prefix + ".") for key in keys if key) for prefix in sections), sections
