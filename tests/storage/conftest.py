"""Real local object stores for the storage-client suite, each a subprocess on a free port.

moto's server mode (S3, from PyPI), Azurite (Azure Blob, from the npm registry, installed in
tests/storage/azurite by `make test` / `npm ci --prefix tests/storage/azurite`) and
gcp-storage-emulator (GCS, from PyPI). Each starts once per session and is ready when its
port answers; one that cannot start fails the tests that need it, saying what is missing.
`storage` gives each test a fresh client over one of them (or LocalStorage) with its own
prefix, and `list_names` lists what is really in the bucket under that prefix.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from e2e.harness import free_port
from nbchat.data import BlobStorage, LocalStorage
from nbchat.data.storage_clients import ObjectStorageClient
from nbchat.data.storage_clients.azure_blob import AzureBlobStorageClient
from nbchat.data.storage_clients.gcs import GCSStorageClient
from nbchat.data.storage_clients.s3 import S3StorageClient
from nbchat.ids import new_id

HERE = Path(__file__).parent
AZURITE = HERE / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")
BUCKET = "nbchat-test"
S3_KEYS = {"aws_access_key_id": "test", "aws_secret_access_key": "test",
           "region_name": "us-east-1"}
STARTUP_SECONDS = 60.0


@dataclass
class Emulator:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def run_apart(setup: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run a set-up coroutine on a loop of its own (a session fixture may be first asked
    for from inside a test's running loop, where asyncio.run is refused)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, setup()).result()


Starter = Callable[[str, list[str], int], Emulator]


def _wait_for_port(emulator: Emulator) -> None:
    """Until the port accepts a connection; fail at once with the log if the process ends."""
    deadline = STARTUP_SECONDS
    waited = 0.0
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", emulator.port)) == 0:
                return
        try:  # waiting on the process's exit, not a sleep: it returns early if it died
            emulator.process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            waited += 0.05
            if waited > deadline:
                break
            continue
        break
    emulator.process.kill()
    emulator.process.wait()
    pytest.fail(f"{emulator.name} did not start on port {emulator.port}:\n"
                f"{emulator.log.read_text(errors='replace')[-2000:]}", pytrace=False)


@pytest.fixture(scope="session")
def start_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Starter]:
    started: list[Emulator] = []

    def start(name: str, argv: list[str], port: int) -> Emulator:
        log = tmp_path_factory.mktemp(name) / "log.txt"
        with log.open("wb") as out:
            process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        emulator = Emulator(name, port, process, log)
        started.append(emulator)
        _wait_for_port(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.process.terminate()
        try:
            emulator.process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # gcp-storage-emulator may ignore SIGTERM
            emulator.process.kill()
            emulator.process.wait()


@pytest.fixture(scope="session")
def moto_server(start_emulator: Starter) -> Emulator:
    """moto's S3 in server mode, with the bucket BUCKET."""
    port = free_port()
    emulator: Emulator = start_emulator(
        "moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port)

    async def make_bucket() -> None:
        client = S3StorageClient(BUCKET, endpoint_url=emulator.url, **S3_KEYS)
        await (await client.client()).create_bucket(Bucket=BUCKET)
        await client.close()

    run_apart(make_bucket)
    return emulator


@pytest.fixture(scope="session")
def azurite(start_emulator: Starter, tmp_path_factory: pytest.TempPathFactory) -> Emulator:
    """Azurite's Blob service, with the container BUCKET."""
    if not AZURITE.exists():
        pytest.fail(f"Azurite is not installed at {AZURITE}: run `npm ci --prefix "
                    f"{HERE / 'azurite'}` (make test does)", pytrace=False)
    if shutil.which("node") is None:
        pytest.fail("Azurite needs node on PATH", pytrace=False)
    port = free_port()
    emulator: Emulator = start_emulator(
        "azurite", [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                    "--location", str(tmp_path_factory.mktemp("azurite-data")),
                    "--skipApiVersionCheck", "--loose", "--silent"],
        port)

    async def make_container() -> None:
        client = azure_client(emulator)
        await (await client.container()).create_container()
        await client.close()

    run_apart(make_container)
    return emulator


def azure_client(emulator: Emulator) -> AzureBlobStorageClient:
    return AzureBlobStorageClient(BUCKET, AZURITE_ACCOUNT, AZURITE_KEY,
                                  account_url=f"{emulator.url}/{AZURITE_ACCOUNT}")


@pytest.fixture(scope="session")
def gcs_emulator(start_emulator: Starter) -> Iterator[Emulator]:
    """gcp-storage-emulator in memory, with the bucket BUCKET; STORAGE_EMULATOR_HOST set."""
    port = free_port()
    exe = Path(sys.executable).with_name("gcp-storage-emulator")
    emulator: Emulator = start_emulator(
        "gcp-storage-emulator", [str(exe), "start", "--host", "127.0.0.1", "--port", str(port),
                                 "--in-memory", "--default-bucket", BUCKET, "-q"], port)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
        yield emulator


PROVIDERS = ["local", "s3", "azure_blob", "gcs"]


def make_storage(provider: str, request: pytest.FixtureRequest, tmp_path: Path) -> BlobStorage:
    """A fresh client over the provider's emulator, under a prefix of its own."""
    prefix = f"t-{new_id()}/"
    client: S3StorageClient | AzureBlobStorageClient | GCSStorageClient
    if provider == "local":
        return LocalStorage(tmp_path / "files")
    if provider == "s3":
        moto: Emulator = request.getfixturevalue("moto_server")
        client = S3StorageClient(BUCKET, endpoint_url=moto.url, **S3_KEYS)
    elif provider == "azure_blob":
        client = azure_client(request.getfixturevalue("azurite"))
    else:
        request.getfixturevalue("gcs_emulator")
        client = GCSStorageClient(BUCKET)
    client.prefix = prefix
    return client


@pytest.fixture(params=PROVIDERS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStorage]:
    store = make_storage(request.param, request, tmp_path)
    yield store
    await store.close()


@pytest.fixture(params=PROVIDERS[1:])
async def bucket(request: pytest.FixtureRequest,
                 tmp_path: Path) -> AsyncIterator[ObjectStorageClient]:
    """A fresh client over each emulator (Chainlit's interface: no LocalStorage)."""
    store = make_storage(request.param, request, tmp_path)
    assert isinstance(store, ObjectStorageClient)
    yield store
    await store.close()


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
