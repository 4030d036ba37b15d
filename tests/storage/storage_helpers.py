"""Where a served app of the storage tests keeps its blobs: a fresh prefix in one of the
emulators (tests/storage/conftest.py starts them)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest

from nbchat.ids import new_id
from storage.emulators import AZURITE_ACCOUNT, AZURITE_KEY, BUCKET, S3_KEYS, Emulator


def storage_url(provider: str, request: pytest.FixtureRequest) -> str:
    """The nbchat.yaml `data.storage_url` of a fresh prefix in the provider's emulator."""
    prefix = f"served-{new_id()}"
    if provider == "s3":
        moto: Emulator = request.getfixturevalue("moto_server")
        return f"s3://{BUCKET}?" + urlencode({"endpoint_url": moto.url, **S3_KEYS,
                                              "prefix": prefix})
    if provider == "azure_blob":
        azurite: Emulator = request.getfixturevalue("azurite")
        return f"azure-blob://{BUCKET}?" + urlencode({
            "storage_account": AZURITE_ACCOUNT, "storage_key": AZURITE_KEY,
            "account_url": f"{azurite.url}/{AZURITE_ACCOUNT}", "prefix": prefix})
    request.getfixturevalue("gcs_emulator")
    return f"gs://{BUCKET}?prefix={quote(prefix)}"
