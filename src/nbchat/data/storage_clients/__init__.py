"""Element and upload bytes in a bucket: Chainlit's storage clients, usable by every layer.

    from nbchat.data.storage_clients.s3 import S3StorageClient
    storage = S3StorageClient("my-bucket", endpoint_url="http://127.0.0.1:9000")
    layer = SQLiteDataLayer("app.db", storage)       # or any layer's storage_provider=

Or from nbchat.yaml (`data.storage_url`, env NBCHAT_STORAGE_URL), see `storage_from_url`.
Each client is Chainlit's `BaseStorageClient` and nbchat's `BlobStorage`; the SDK of a
provider is imported on first use, and installed by its extra (nbchat[s3], [azure], [gcs]).
"""

from __future__ import annotations

import importlib.util
import os
from urllib.parse import parse_qsl, urlsplit

from nbchat.data.storage_clients.base import (
    BaseStorageClient,
    ObjectAlreadyExistsError,
    ObjectStorageClient,
)
from nbchat.errors import ConfigError

__all__ = ["BaseStorageClient", "ObjectAlreadyExistsError", "ObjectStorageClient",
           "storage_from_url"]

# scheme → (module that needs to be importable, the extra that installs it)
_NEEDS = {"s3": ("aiobotocore", "s3"), "gs": ("gcloud.aio.storage", "gcs"),
          "azure-blob": ("azure.storage.blob", "azure"),
          "abfs": ("azure.storage.filedatalake", "azure")}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def storage_from_url(url: str) -> ObjectStorageClient:
    """The storage client a `data.storage_url` names.

    - `s3://bucket?endpoint_url=…&region_name=…` (other keys go to the S3 client;
      credentials from the usual AWS_* variables or `aws_access_key_id`/`aws_secret_access_key`)
    - `gs://bucket?project_id=…` (credentials: GOOGLE_APPLICATION_CREDENTIALS, or
      STORAGE_EMULATOR_HOST for an emulator)
    - `azure-blob://container?storage_account=…&account_url=…` (key: `storage_key` or
      AZURE_STORAGE_KEY; account: or AZURE_STORAGE_ACCOUNT)
    - `abfs://filesystem?account_url=https://<account>.dfs.core.windows.net` (Data Lake;
      key: AZURE_STORAGE_KEY)

    Every scheme takes `prefix=` (put nbchat's blobs under a folder of the bucket).
    """
    parts = urlsplit(url.strip())
    scheme, name = parts.scheme, parts.netloc
    if scheme not in _NEEDS or not name:
        raise ConfigError(f"data.storage_url={url!r}: write s3://bucket, gs://bucket, "
                          "azure-blob://container or abfs://filesystem (docs/persistence.md)")
    module, extra = _NEEDS[scheme]
    if not _installed(module):
        raise ConfigError(f"data.storage_url={url!r} needs {module}: pip install 'nbchat[{extra}]'")
    query = dict(parse_qsl(parts.query))
    prefix = query.pop("prefix", "").strip("/")
    client: ObjectStorageClient
    try:
        if scheme == "s3":
            from nbchat.data.storage_clients.s3 import S3StorageClient

            client = S3StorageClient(name, **query)
        elif scheme == "gs":
            from nbchat.data.storage_clients.gcs import GCSStorageClient

            client = GCSStorageClient(name, **query)
        elif scheme == "azure-blob":
            from nbchat.data.storage_clients.azure_blob import AzureBlobStorageClient

            account = query.pop("storage_account", os.environ.get("AZURE_STORAGE_ACCOUNT", ""))
            key = query.pop("storage_key", os.environ.get("AZURE_STORAGE_KEY", ""))
            if not account or not key:
                raise ConfigError(f"data.storage_url={url!r}: give storage_account= and the "
                                  "key (AZURE_STORAGE_KEY)")
            client = AzureBlobStorageClient(name, account, key, **query)
        else:
            from nbchat.data.storage_clients.azure import AzureStorageClient

            account_url = query.pop("account_url", "")
            if not account_url:
                raise ConfigError(f"data.storage_url={url!r}: give account_url=")
            client = AzureStorageClient(account_url, name, query.pop(
                "credential", os.environ.get("AZURE_STORAGE_KEY")), **query)
    except TypeError as exc:  # an unknown query key
        raise ConfigError(f"data.storage_url={url!r}: {exc}") from None
    client.prefix = f"{prefix}/" if prefix else ""
    return client
