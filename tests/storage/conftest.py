"""Real local object stores for the storage-client suite, each a subprocess on a free port.

moto's server mode (S3, from PyPI), Azurite (Azure Blob, from the npm registry, installed in
tests/storage/azurite by `make test` / `npm ci --prefix tests/storage/azurite`) and
gcp-storage-emulator (GCS, from PyPI), started by emulators.py once per session, ready when
their port answers; one that cannot start fails the tests that need it, saying what is
missing. `storage` gives each test a fresh client over one of them (or LocalStorage) with
its own prefix (emulators.list_names lists what is really in the bucket under it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from nbchat.data import BlobStorage, LocalStorage
from nbchat.data.storage_clients import ObjectStorageClient
from nbchat.data.storage_clients.azure_blob import AzureBlobStorageClient
from nbchat.data.storage_clients.gcs import GCSStorageClient
from nbchat.data.storage_clients.s3 import S3StorageClient
from nbchat.ids import new_id
from storage.emulators import (
    BUCKET,
    PROVIDERS,
    S3_KEYS,
    Emulator,
    EmulatorError,
    Emulators,
    azure_client,
)


@pytest.fixture(scope="session")
def emulators(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulators]:
    started = Emulators(tmp_path_factory.mktemp("emulators"))
    yield started
    started.close()


def _started(start: Callable[[], Emulator]) -> Emulator:
    try:
        return start()
    except EmulatorError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def moto_server(emulators: Emulators) -> Emulator:
    """moto's S3 in server mode, with the bucket BUCKET."""
    return _started(emulators.s3)


@pytest.fixture(scope="session")
def azurite(emulators: Emulators) -> Emulator:
    """Azurite's Blob service, with the container BUCKET."""
    return _started(emulators.azure_blob)


@pytest.fixture(scope="session")
def gcs_emulator(emulators: Emulators) -> Emulator:
    """gcp-storage-emulator in memory, with the bucket BUCKET; STORAGE_EMULATOR_HOST set."""
    return _started(emulators.gcs)





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
