"""deploy/ parses (the systemd unit as systemd reads it, the proxy config with nginx's own parser) and says what
the README's deployment guide says: replicas on 127.0.0.1 only, the app started as `make run` starts it, the
state URL from the secrets file, the proxy replacing the trusted identity header and forwarding the websocket."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import crossplane
import pytest

from catalog.state.location import ENV

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
README = (REPO / "README.md").read_text()



def _unit() -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(DEPLOY / "meshwork@.service")
    return unit


def _directives(block: list[dict], name: str) -> list[list[str]]:
    """Every `name` directive's arguments, anywhere below `block`."""
    found = []
    for directive in block:
        if directive["directive"] == name:
            found.append(directive["args"])
        found += _directives(directive.get("block", []), name)
    return found


def test_the_systemd_unit_starts_one_replica_per_port_on_loopback_with_the_secrets_file():
    unit = _unit()
    assert set(unit.sections()) == {"Unit", "Service", "Install"}
    command = unit["Service"]["ExecStart"].split()
    assert command[1].endswith("app/serve.py")  # as `make run` starts it
    assert command[command.index("--server.port") + 1] == "%i"
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert "--mesh" in command
    env_file = unit["Service"]["EnvironmentFile"]
    assert env_file == "/etc/meshwork/meshwork.env" and env_file in README
    assert "meshwork@8501 meshwork@8502" in README
    example = (DEPLOY / "meshwork.env.example").read_text()
    assert re.search(rf"^{ENV}=postgresql://", example, re.M)


def test_the_nginx_config_parses_and_balances_the_replicas_of_the_unit():
    parsed = crossplane.parse(str(DEPLOY / "nginx.conf"), single=True, check_ctx=False, check_args=True)
    assert parsed["status"] == "ok", parsed["errors"]
    config = parsed["config"][0]["parsed"]
    upstream, = [d for d in config if d["directive"] == "upstream"]
    servers = [args[0] for args in _directives(upstream["block"], "server")]
    assert servers == ["127.0.0.1:8501", "127.0.0.1:8502"]
    assert _directives(upstream["block"], "ip_hash") == [[]]
    headers = {args[0]: args[1] for args in _directives(config, "proxy_set_header")}
    assert headers["Upgrade"] == "$http_upgrade" and headers["Connection"] == "$connection_upgrade"
    assert headers["X-Forwarded-Email"] == "$email"  # always set by the proxy, never the browser's own
    assert _directives(config, "auth_request") == [["/oauth2/auth"]]
    assert "trusted_header: X-Forwarded-Email" in README and "mode: enforced" in README
