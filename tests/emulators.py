"""The local stand-ins for cloud services, each a subprocess on a free loopback port: the
one place that starts them (tests/conftest.py's session fixtures, tests/data's DynamoDB
tables, tests/storage's buckets and benchmarks/ all use it; no pytest here).

* moto's server mode (PyPI): DynamoDB and S3 in one process (`moto()`; `s3()` also makes
  the bucket BUCKET);
* Azurite's Blob service (npm, installed in tests/storage/azurite by `make test` / `npm ci
  --prefix tests/storage/azurite`): `azure_blob()`, with the container BUCKET;
* gcp-storage-emulator (PyPI), in memory: `gcs()`, with the bucket BUCKET.

`Emulators(folder)` starts each on first use, ready when its port answers (waiting on the
process, never a fixed sleep), and `close()` stops them all. A start that fails raises
EmulatorError with what is missing or the emulator's own log.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import boto3

from nbchat.data import BlobStorage, LocalStorage
from nbchat.data.dynamodb import table_definition
from nbchat.data.storage_clients.azure_blob import AzureBlobStorageClient
from nbchat.data.storage_clients.gcs import GCSStorageClient
from nbchat.data.storage_clients.s3 import S3StorageClient
from nbchat.ids import new_id

HERE = Path(__file__).parent
AZURITE = HERE / "storage" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")
BUCKET = "nbchat-test"


class AwsKeys(TypedDict):
    aws_access_key_id: str
    aws_secret_access_key: str
    region_name: str


# moto accepts any keys; these are what every client of it here is given.
CREDENTIALS = AwsKeys(aws_access_key_id="test", aws_secret_access_key="test",
                      region_name="us-east-1")
S3_KEYS = CREDENTIALS
STARTUP_SECONDS = 60.0
PROVIDERS = ["local", "s3", "azure_blob", "gcs"]  # what the storage suite is parametrized over


class EmulatorError(RuntimeError):
    """An emulator could not start; the message says why."""


@dataclass
class Emulator:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_apart(setup: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a set-up coroutine on a loop of its own (a session fixture may be first asked
    for from inside a test's running loop, where asyncio.run is refused)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, setup()).result()


def _stop(emulator: Emulator) -> None:
    emulator.process.terminate()
    try:
        emulator.process.wait(timeout=5)
    except subprocess.TimeoutExpired:  # gcp-storage-emulator may ignore SIGTERM
        emulator.process.kill()
        emulator.process.wait()


def azure_client(emulator: Emulator) -> AzureBlobStorageClient:
    return AzureBlobStorageClient(BUCKET, AZURITE_ACCOUNT, AZURITE_KEY,
                                  account_url=f"{emulator.url}/{AZURITE_ACCOUNT}")


class Emulators:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: dict[str, Emulator] = {}
        self._made: set[str] = set()  # moto's S3 bucket, once made

    def _start(self, name: str, argv: list[str], port: int) -> Emulator:
        log = self.folder / f"{name}.log"
        self.folder.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        emulator = Emulator(name, port, process, log)
        waited = 0.0
        while waited < STARTUP_SECONDS:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    self.started[name] = emulator
                    return emulator
            try:  # waits on the process's exit, not a sleep: it returns early if it died
                process.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                waited += 0.05
        _stop(emulator)
        raise EmulatorError(f"{name} did not start on port {port}:\n"
                            f"{log.read_text(errors='replace')[-2000:]}")

    def moto(self) -> Emulator:
        """moto in server mode: DynamoDB and S3 on one port (pip install 'moto[server]')."""
        if "moto" in self.started:
            return self.started["moto"]
        port = free_port()
        return self._start("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                    "-p", str(port)], port)

    def s3(self) -> Emulator:
        """moto's S3, with the bucket BUCKET."""
        if BUCKET in self._made:
            return self.started["moto"]
        emulator = self.moto()

        async def make_bucket() -> None:
            client = S3StorageClient(BUCKET, endpoint_url=emulator.url, **S3_KEYS)
            await (await client.client()).create_bucket(Bucket=BUCKET)
            await client.close()

        run_apart(make_bucket)
        self._made.add(BUCKET)
        return emulator

    def azure_blob(self) -> Emulator:
        """Azurite's Blob service, with the container BUCKET."""
        if "azurite" in self.started:
            return self.started["azurite"]
        if shutil.which("node") is None:
            raise EmulatorError("Azurite needs node on PATH")
        if not AZURITE.exists():
            raise EmulatorError(f"Azurite is not installed at {AZURITE}: run `npm ci --prefix "
                                f"{HERE / 'storage' / 'azurite'}` (make test does)")
        port = free_port()
        emulator = self._start("azurite", [
            str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
            "--location", str(self.folder / "azurite-data"), "--skipApiVersionCheck",
            "--loose", "--silent"], port)

        async def make_container() -> None:
            client = azure_client(emulator)
            await (await client.container()).create_container()
            await client.close()

        run_apart(make_container)
        return emulator

    def gcs(self) -> Emulator:
        """gcp-storage-emulator in memory, with the bucket BUCKET; sets STORAGE_EMULATOR_HOST
        (read by GCSStorageClient), which close() removes."""
        if "gcs" not in self.started:
            port = free_port()
            exe = Path(sys.executable).with_name("gcp-storage-emulator")
            self._start("gcs", [str(exe), "start", "--host", "127.0.0.1", "--port", str(port),
                                "--in-memory", "--default-bucket", BUCKET, "-q"], port)
        emulator = self.started["gcs"]
        os.environ["STORAGE_EMULATOR_HOST"] = emulator.url
        return emulator

    def gcs_client(self) -> GCSStorageClient:
        self.gcs()
        return GCSStorageClient(BUCKET)

    def close(self) -> None:
        if "gcs" in self.started:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        for emulator in self.started.values():
            _stop(emulator)
        self.started.clear()
        self._made.clear()


async def list_names(store: BlobStorage) -> list[str]:
    """What the bucket (or folder) really holds under the store's prefix, by the store's SDK."""
    if isinstance(store, LocalStorage):
        return sorted(p.name for p in store.root.iterdir()) if store.root.exists() else []
    if isinstance(store, S3StorageClient):
        res = await (await store.client()).list_objects_v2(Bucket=BUCKET, Prefix=store.prefix)
        return sorted(o["Key"][len(store.prefix):] for o in res.get("Contents", []))
    if isinstance(store, AzureBlobStorageClient):
        container = await store.container()
        return sorted([n[len(store.prefix):] async for n in
                       container.list_blob_names(name_starts_with=store.prefix)])
    assert isinstance(store, GCSStorageClient)
    res = await (await store.storage()).list_objects(BUCKET, params={"prefix": store.prefix})
    return sorted(o["name"][len(store.prefix):] for o in res.get("items", []))


def boto3_client(moto: Emulator) -> Any:
    """A blocking boto3 DynamoDB client of moto (Chainlit's kind of client)."""
    return boto3.client("dynamodb", endpoint_url=moto.url, **CREDENTIALS)


def fresh_table(moto: Emulator) -> str:
    """A new, empty DynamoDB table in Chainlit's layout (CreateTable with table_definition)."""
    name = f"nbchat-{new_id()}"
    client = boto3_client(moto)
    client.create_table(**table_definition(name))
    client.close()
    return name
