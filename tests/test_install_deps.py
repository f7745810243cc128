"""`make install` hands pip's package sources to uv (scripts/install_deps.py)."""
import importlib.util
from pathlib import Path

_SCRIPT = Path(__file__).parents[1] / "scripts" / "install_deps.py"
_spec = importlib.util.spec_from_file_location("install_deps", _SCRIPT)
install_deps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install_deps)

LISTING = """:env:.cert='/etc/ssl/certs/ca.crt'
:env:.default-timeout='180'
:env:.find-links='/opt/wheels'
:env:.index-url='https://mirror.example/simple'
global.constraint='/etc/xdg/pip/constraints.txt'
global.extra-index-url='file:///opt/pypi/simple file:///opt/pypi-more/simple'
global.find-links='/opt/wheels /opt/more'
global.index-url='https://pypi.org/simple'
"""


def test_pip_sources_become_uv_flags_and_a_variable_wins_over_a_file():
    settings = install_deps.pip_settings(LISTING)
    assert settings == {"cert": ["/etc/ssl/certs/ca.crt"], "find-links": ["/opt/wheels", "/opt/more"],
                        "index-url": ["https://mirror.example/simple"], "constraint": ["/etc/xdg/pip/constraints.txt"],
                        "extra-index-url": ["file:///opt/pypi/simple", "file:///opt/pypi-more/simple"]}
    cmd = install_deps.uv_command(settings)
    pairs = list(zip(cmd, cmd[1:]))
    assert ("--find-links", "/opt/more") in pairs and ("--index-url", "https://mirror.example/simple") in pairs
    assert ("--extra-index-url", "file:///opt/pypi-more/simple") in pairs
    assert ("--constraint", "/etc/xdg/pip/constraints.txt") in pairs
    assert ("--index-strategy", "unsafe-best-match") in pairs and cmd[-2:] == ["-e", ".[dev]"]
    assert "--compile-bytecode" in cmd  # as pip does (PYTHONDONTWRITEBYTECODE=1: no .pyc otherwise)
    assert "--cert" not in cmd and "180" not in cmd  # uv takes the certificate from SSL_CERT_FILE


def test_no_pip_configuration_gives_plain_uv():
    assert install_deps.pip_settings("") == {}
    assert not any(a.startswith("--find") or a.startswith("--extra") for a in install_deps.uv_command({}))
