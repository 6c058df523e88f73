"""The local server's job settings: the default time limit of a job and the hosts a callback may reach.

    FRACTAL_JOB_TIMEOUT_S   (serve --job-timeout)    default time limit of a job, seconds (3600)
    FRACTAL_CALLBACK_HOSTS  (serve --callback-host)  hosts a callback_url may name: host, host:port or
                                                     *.domain, comma-separated; none by default

A job's limit is Windmill's `timeout`: the script's (`timeout` in its `.script.yaml`), else the
server's default; a request's `timeout` only lowers it.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from f.fractal.model.errors import InvalidInput

DEFAULT_TIMEOUT_S = 3600.0


def seconds(value: Any, name: str) -> float:
    """A time limit in seconds: a finite number above 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"{name} must be a number of seconds above 0, got {str(value)[:40]!r}", hint="e.g. 600",
                           data={"argument": name})
    return number


@dataclass(frozen=True)
class Limits:
    """The server's job settings: the default time limit and the hosts a callback may reach (none by default)."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    callback_hosts: tuple[str, ...] = ()

    @classmethod
    def read(cls, environ: Mapping[str, str], timeout_s: Any = None, callback_hosts: list[str] | None = None) -> Limits:
        """From the arguments, else from $FRACTAL_JOB_TIMEOUT_S and $FRACTAL_CALLBACK_HOSTS."""
        timeout = timeout_s or environ.get("FRACTAL_JOB_TIMEOUT_S") or DEFAULT_TIMEOUT_S
        hosts = callback_hosts if callback_hosts is not None else environ.get("FRACTAL_CALLBACK_HOSTS", "").split(",")
        limits = cls(seconds(timeout, "job timeout"), tuple(h.strip().lower() for h in hosts if h.strip()))
        for host in limits.callback_hosts:
            if not _host_rule(host)[0]:
                raise InvalidInput(f"bad callback host {host[:60]!r}", hint="host, host:port or *.domain, e.g. hooks.example.com")
        return limits

    def time_limit(self, script_timeout: float | None, requested: Any = None) -> float:
        """The request's limit, at most the script's (else the server's default)."""
        bound = script_timeout or self.timeout_s
        return bound if requested in (None, "") else min(seconds(requested, "timeout"), bound)

    def check_callback(self, url: str) -> None:
        """Refuse a callback URL that is not http(s) on an allowed host."""
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            parts, port = urllib.parse.urlsplit(""), 0
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"bad callback_url {url[:80]!r}", hint="give an http:// or https:// URL",
                               data={"argument": "callback_url"})
        for host, allowed_port in map(_host_rule, self.callback_hosts):
            matches = parts.hostname == host or (host.startswith("*.") and parts.hostname.endswith(host[1:]))
            if matches and allowed_port in (None, port):
                return
        raise InvalidInput(f"callback_url: {parts.hostname}:{port} is not an allowed callback host",
                           hint="the server's operator allows hosts with FRACTAL_CALLBACK_HOSTS=host[:port],… "
                                "(or serve --callback-host); none is allowed by default",
                           data={"argument": "callback_url"})


def _host_rule(pattern: str) -> tuple[str, int | None]:
    """(host, port or None) of an allowed-host pattern; ('', None) when it is not one."""
    try:
        rule = urllib.parse.urlsplit(f"//{pattern}")
        return rule.hostname or "", rule.port
    except ValueError:
        return "", None
