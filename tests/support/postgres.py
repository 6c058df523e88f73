"""A throwaway PostgreSQL server for tests: initdb + pg_ctl on 127.0.0.1, password auth over TCP.

The binaries come from the system (`apt-get install postgresql`, which scripts/setup does when it can);
as root the server runs as the `postgres` user (initdb refuses root). Tests skip with the reason when
PostgreSQL cannot be started here.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (PATH first, then Debian's /usr/lib/postgresql/<v>/bin)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    port: int
    user: str
    password: str
    database: str
    data: Path
    bin: Path
    run_as: str | None

    def resource(self) -> dict[str, Any]:
        """The server as a value of Windmill's `postgresql` resource type."""
        return {"host": "127.0.0.1", "port": self.port, "user": self.user, "password": self.password,
                "dbname": self.database, "sslmode": "disable"}

    def stop(self) -> None:
        subprocess.run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                       user=self.run_as, capture_output=True, check=False)
        shutil.rmtree(self.data.parent, ignore_errors=True)

    def psql(self, sql: str) -> str:
        """Run SQL as the superuser over the socket (psql from the same folder)."""
        proc = subprocess.run([str(self.bin / "psql"), "-h", str(self.data.parent), "-p", str(self.port), "-U", self.user,
                               "-d", self.database, "-At", "-c", sql], user=self.run_as, capture_output=True, text=True,
                              check=True)
        return proc.stdout


def start() -> Postgres:
    """Start a fresh server; RuntimeError with the reason when it cannot run here."""
    folder = binaries()
    if folder is None:
        raise RuntimeError("PostgreSQL is not installed (initdb/pg_ctl not found): apt-get install postgresql")
    run_as = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="fractal-pg-"))
    if run_as:
        shutil.chown(base, run_as)
    password = secrets.token_urlsafe(16)
    (base / "pw").write_text(password)
    if run_as:
        shutil.chown(base / "pw", run_as)
    pg = Postgres(_free_port(), "fractal", password, "postgres", base / "data", folder, run_as)
    steps = [
        [str(folder / "initdb"), "-D", str(pg.data), "-U", pg.user, f"--pwfile={base / 'pw'}", "-A", "scram-sha-256",
         "--auth-local=trust", "-E", "UTF8", "--no-sync"],
        [str(folder / "pg_ctl"), "-D", str(pg.data), "-l", str(base / "log"), "-w", "-t", "30", "start", "-o",
         f"-p {pg.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"],
    ]
    for argv in steps:
        proc = subprocess.run(argv, user=run_as, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            log = (base / "log").read_text() if (base / "log").exists() else ""
            shutil.rmtree(base, ignore_errors=True)
            raise RuntimeError(f"{Path(argv[0]).name} failed: {(proc.stderr or proc.stdout)[-500:]} {log[-500:]}")
    (base / "pw").unlink()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", pg.port)) == 0:
                return pg
        time.sleep(0.05)
    pg.stop()
    raise RuntimeError("PostgreSQL did not listen on 127.0.0.1")
