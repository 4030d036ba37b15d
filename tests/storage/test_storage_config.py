"""data.storage_url → the right client (or a ConfigError that says what to write), and the
Data Lake client as far as it can be tested here: Azurite has no Data Lake (dfs) endpoint,
so its uploads and reads are not run against a server; its URLs and construction are."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbchat.config import load
from nbchat.data import LocalStorage, make_storage
from nbchat.data.storage_clients import storage_from_url
from nbchat.data.storage_clients.azure import AzureStorageClient
from nbchat.data.storage_clients.azure_blob import AzureBlobStorageClient
from nbchat.data.storage_clients.gcs import GCSStorageClient
from nbchat.data.storage_clients.s3 import S3StorageClient
from nbchat.errors import ConfigError


def test_each_scheme_makes_its_client() -> None:
    s3 = storage_from_url("s3://b?endpoint_url=http://127.0.0.1:9&region_name=eu-west-1"
                          "&prefix=/app/")
    assert isinstance(s3, S3StorageClient)
    assert (s3.bucket, s3.prefix) == ("b", "app/")
    assert s3.client_kwargs == {"endpoint_url": "http://127.0.0.1:9", "region_name": "eu-west-1"}
    assert isinstance(storage_from_url("gs://b?project_id=p"), GCSStorageClient)
    blob = storage_from_url("azure-blob://c?storage_account=acct&storage_key=k%2B%3D")
    assert isinstance(blob, AzureBlobStorageClient)
    assert (blob.storage_key, blob.account_url) == ("k+=", "https://acct.blob.core.windows.net")
    lake = storage_from_url("abfs://fs?account_url=https://acct.dfs.core.windows.net"
                            "&credential=key")
    assert isinstance(lake, AzureStorageClient)
    assert (lake.container, lake.credential) == ("fs", "key")


@pytest.mark.parametrize(("url", "says"), [
    ("ftp://x", "write s3://bucket"),
    ("s3://", "write s3://bucket"),
    ("s3://b?bogus=1", "bogus"),
    ("azure-blob://c?storage_account=a", "AZURE_STORAGE_KEY"),
    ("abfs://fs", "account_url"),
])
def test_bad_urls_say_what_to_write(url: str, says: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_STORAGE_KEY", raising=False)
    with pytest.raises(ConfigError, match=says):
        storage_from_url(url)


def test_config_key_and_env_alias_reach_make_storage(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_storage(load(tmp_path).data.storage_url, tmp_path), LocalStorage)
    (tmp_path / "nbchat.yaml").write_text("data:\n  storage_url: s3://from-yaml\n")
    made = make_storage(load(tmp_path).data.storage_url, tmp_path)
    assert isinstance(made, S3StorageClient)
    assert made.bucket == "from-yaml"
    monkeypatch.setenv("NBCHAT_STORAGE_URL", "gs://from-env")
    made = make_storage(load(tmp_path).data.storage_url, tmp_path)
    assert isinstance(made, GCSStorageClient)
    assert made.bucket_name == "from-env"


async def test_datalake_read_url_carries_the_sas_token() -> None:
    lake = AzureStorageClient("https://acct.dfs.core.windows.net", "fs", "a2V5",
                              sas_token="?sv=1&sig=x")
    url = await lake.get_read_url("u/e/report.pdf")
    assert url == "https://acct.dfs.core.windows.net/fs/u/e/report.pdf?sv=1&sig=x"
    await lake.close()
