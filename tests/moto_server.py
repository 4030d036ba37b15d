"""moto's server mode (a DynamoDB- and S3-compatible HTTP server) as a subprocess on a free
loopback port, for the tests that need a real AWS endpoint (tests/data: DynamoDB).

`start_moto(log)` returns once the port accepts connections (waiting on the process, never
a fixed sleep) and raises with moto's log when it dies or does not answer in time.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import boto3

from nbchat.data.dynamodb import table_definition
from nbchat.ids import new_id


class Credentials(TypedDict):
    """The keyword arguments of a client (or DynamoDBDataLayer) of the emulator."""

    aws_access_key_id: str
    aws_secret_access_key: str
    region_name: str


CREDENTIALS: Credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test",
                            "region_name": "us-east-1"}
STARTUP_SECONDS = 60.0


@dataclass
class MotoServer:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_moto(log: Path) -> MotoServer:
    port = free_port()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = MotoServer(port, process, log)
    waited = 0.0
    while waited < STARTUP_SECONDS:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server
        try:  # waits on the process's exit, not a sleep: returns at once if moto died
            process.wait(timeout=0.05)
            break
        except subprocess.TimeoutExpired:
            waited += 0.05
    server.stop()
    raise RuntimeError(f"moto did not start on port {port} (pip install 'moto[server]'):\n"
                       f"{log.read_text(errors='replace')[-2000:]}")


def boto3_client(server: MotoServer) -> Any:
    """A blocking boto3 DynamoDB client of the server (Chainlit's kind of client)."""
    return boto3.client("dynamodb", endpoint_url=server.url, **CREDENTIALS)


def fresh_table(server: MotoServer) -> str:
    """A new, empty table in Chainlit's layout (CreateTable with table_definition)."""
    name = f"nbchat-{new_id()}"
    client = boto3_client(server)
    client.create_table(**table_definition(name))
    client.close()
    return name
