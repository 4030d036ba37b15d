"""data.storage_url → the right client (or a ConfigError that says what to write), the
Data Lake client as far as it can be tested here (Azurite has no Data Lake (dfs) endpoint,
so its uploads and reads are not run against a server; its URLs and construction are),
and the documented bucket example, run as written against moto."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from emulators import CREDENTIALS, Emulator
from nbchat.config import load
from nbchat.data import LocalStorage, make_storage
from nbchat.data.storage_clients import storage_from_url
from nbchat.data.storage_clients.azure import AzureStorageClient
from nbchat.data.storage_clients.azure_blob import AzureBlobStorageClient
from nbchat.data.storage_clients.gcs import GCSStorageClient
from nbchat.data.storage_clients.s3 import S3StorageClient
from nbchat.errors import ConfigError
from nbchat.ids import new_id


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


def test_the_documented_s3_example_runs_as_written(moto_server: Emulator,
                                                   tmp_path: Path) -> None:
    """docs/persistence.md's runnable bucket example, against moto instead of port 5000."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "persistence.md").read_text()
    section = doc.split("## Element bytes in a bucket", 1)[1].split("\n## ", 1)[0]
    code = section.split("A runnable example", 1)[1].split("```python\n", 1)[1]
    code = code.split("```", 1)[0].replace("http://127.0.0.1:5000", moto_server.url)
    # The session's moto is shared: the example's bucket gets a name of its own.
    bucket = f"demo-{new_id()[:8]}"
    code = code.replace('"demo"', f'"{bucket}"')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "b'hello bucket'"
    assert "'object_key': 'u1/e1/a.txt'" in lines[1]
    s3 = boto3.client("s3", endpoint_url=moto_server.url, **CREDENTIALS)
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    s3.close()
    assert "u1/e1/a.txt" in [o["Key"] for o in listed]  # really in the bucket
