"""A local S3-compatible server for tests: moto's server mode (PyPI `moto`), from its own pinned environment
(.venv-standins/moto, made by scripts/setup from scripts/standins/moto.txt), on 127.0.0.1.

It answers the S3 REST API as S3 does (path-style buckets, objects, conditional writes), which is all the
Terraform s3 backend uses; moto does not check request signatures, so any key pair is accepted.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
MOTO_SERVER = ROOT / ".venv-standins" / "moto" / "bin" / "moto_server"
OWNER = {"Authorization": "AWS4-HMAC-SHA256 Credential=tests/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, "
                          "Signature=0"}


@dataclass
class S3Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def create_bucket(self, name: str) -> None:
        httpx.put(f"http://{self.endpoint}/{name}", timeout=10).raise_for_status()

    def get(self, bucket: str, key: str) -> httpx.Response:
        """An object, read as its owner (moto takes a request with credentials as authenticated, unsigned)."""
        return httpx.get(f"http://{self.endpoint}/{bucket}/{key}", headers=OWNER, timeout=10)

    def put(self, bucket: str, key: str, body: bytes) -> None:
        httpx.put(f"http://{self.endpoint}/{bucket}/{key}", content=body, headers=OWNER, timeout=10).raise_for_status()

    def keys(self, bucket: str) -> list[str]:
        listing = httpx.get(f"http://{self.endpoint}/{bucket}?list-type=2", timeout=10).text
        return [part.split("</Key>")[0] for part in listing.split("<Key>")[1:]]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start() -> S3Server:
    """Start moto's server on a free port; RuntimeError with the reason when it cannot run here."""
    if not MOTO_SERVER.exists():
        raise RuntimeError(f"{MOTO_SERVER.relative_to(ROOT)} is missing: run scripts/setup")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    process = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return S3Server(process, port)
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("moto_server did not listen on 127.0.0.1")
