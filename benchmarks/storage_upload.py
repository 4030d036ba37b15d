"""Served uploads into each blob storage: the app folder vs S3, Azure Blob and GCS buckets.

    .venv/bin/python benchmarks/storage_upload.py              # 8 and 64 MB, 5 rounds
    .venv/bin/python benchmarks/storage_upload.py --mb 256 --rounds 3

One server process per storage (`make_data_layer(None, dir, storage_url)`, the REST API of
`nbchat serve`, SingleUserIdentity, uvloop when installed) and the emulators of
tests/emulators.py (moto's S3 server, Azurite, gcp-storage-emulator) as their own processes.
This process is the client: per round it uploads the same file to every storage in turn
(POST /threads/{t}/files, multipart, time to the 201) and reads it back through the file
route (GET, time to the last byte), so load drifts hit all storages alike; right after
each bucket's round, the vendor SDK nbchat's client is built on uploads the same bytes
from memory to the same emulator in one call (aiobotocore put_object, azure-storage-blob
upload_blob, gcloud-aio-storage upload): nbchat / raw SDK is nbchat's own overhead (the
HTTP upload into nbchat, its parsing and streaming), apart from the emulator's speed.
`azure_blob/1` is Azure with one block in the air at a time (before `concurrency`).
Prints medians,
the overhead against the folder (the issue's budget: < 10% on the upload) and the load
average before and after, and the nbchat server's own CPU time per upload and read (its
share, apart from the emulator's). The emulators run on the same cores as the server, so a bucket's
number includes the emulator's own work: an upper bound for the client side.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from emulators import (  # noqa: E402 (the emulator launcher of tests/)
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    BUCKET,
    S3_KEYS,
    Emulators,
    free_port,
)

SERVER = '''
import asyncio, sys
from pathlib import Path
import tornado.httpserver, tornado.web
from nbchat.data import blob_storage, make_data_layer
from nbchat.server import Services, SingleUserIdentity, UploadLimits, make_handlers
from nbchat.server.serve import run

async def main():
    folder, url, port = Path(sys.argv[1]), sys.argv[2] or None, int(sys.argv[3])
    layer = make_data_layer(None, folder, url)
    storage = blob_storage(layer, folder)
    if len(sys.argv) > 4:  # parts in the air at once (ObjectStorageClient.concurrency)
        storage.concurrency = int(sys.argv[4])
    services = Services(layer, storage, SingleUserIdentity("local"),
                        UploadLimits(accept=("*/*",), max_files=1, max_size=2 * 1024 ** 3))
    app = tornado.web.Application(make_handlers("/", services))
    server = tornado.httpserver.HTTPServer(app, max_body_size=2 * 1024 ** 3)
    server.listen(port, "127.0.0.1")
    # The thread the uploads go to, the local user's (the file route answers its owner).
    from nbchat.ids import new_id
    from nbchat.types import User
    user = await layer.create_user(User(identifier="local"))
    thread_id = new_id()
    await layer.update_thread(thread_id, name="uploads", user_id=user.id)
    await layer.flush()
    print("ready", thread_id, flush=True)
    await asyncio.Event().wait()

run(main)
'''
BOUNDARY = "nbchatBenchBoundary"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def storage_urls(emulators: Emulators) -> dict[str, str]:
    s3, azure = emulators.s3(), emulators.azure_blob()
    emulators.gcs()  # STORAGE_EMULATOR_HOST, inherited by the server processes
    return {
        "folder": "",
        "s3": f"s3://{BUCKET}?" + urlencode({"endpoint_url": s3.url, **S3_KEYS}),
        "azure_blob": f"azure-blob://{BUCKET}?" + urlencode({
            "storage_account": AZURITE_ACCOUNT, "storage_key": AZURITE_KEY,
            "account_url": f"{azure.url}/{AZURITE_ACCOUNT}"}),
        "gcs": f"gs://{BUCKET}",
    }


# Variants of a storage with another `concurrency`: (name, storage, parts in the air).
VARIANTS = [("azure_blob/1", "azure_blob", 1)]


async def round_trip(port: int, thread_id: str, body: bytes,
                     size: int) -> tuple[float, float]:
    import json

    import tornado.httpclient


    client = tornado.httpclient.AsyncHTTPClient(force_instance=True,
                                                max_body_size=2 * 1024 ** 3)
    base = f"http://127.0.0.1:{port}/nbchat/api"
    try:
        began = time.perf_counter()
        r = await client.fetch(f"{base}/threads/{thread_id}/files", method="POST", body=body,
                               headers={"Content-Type":
                                        f"multipart/form-data; boundary={BOUNDARY}"},
                               request_timeout=600)
        uploaded = time.perf_counter() - began
        assert r.code == 201, r.body
        url = json.loads(r.body)["files"][0]["url"]
        began = time.perf_counter()
        got = await client.fetch(f"http://127.0.0.1:{port}{url}", request_timeout=600)
        read = time.perf_counter() - began
        assert len(got.body) == size, "the file route gave back other bytes"
        return uploaded, read
    finally:
        client.close()


async def raw_sdk_upload(name: str, emulators: Emulators, data: bytes) -> float:
    """Seconds for the vendor's SDK (the one nbchat's client uses) to store `data` in the
    same emulator with one upload call from memory: the floor nbchat's upload is held to."""
    from nbchat.ids import new_id

    key = f"raw/{new_id()}"
    if name == "s3":
        from aiobotocore.session import get_session

        async with get_session().create_client("s3", endpoint_url=emulators.s3().url,
                                               **S3_KEYS) as s3:
            began = time.perf_counter()
            await s3.put_object(Bucket=BUCKET, Key=key, Body=data)
            took = time.perf_counter() - began
            await s3.delete_object(Bucket=BUCKET, Key=key)
            return took
    if name == "azure_blob":
        from azure.storage.blob.aio import BlobServiceClient

        async with BlobServiceClient(
                f"{emulators.azure_blob().url}/{AZURITE_ACCOUNT}",
                credential={"account_name": AZURITE_ACCOUNT,
                            "account_key": AZURITE_KEY}) as service:
            blob = service.get_blob_client(BUCKET, key)
            began = time.perf_counter()
            await blob.upload_blob(data, overwrite=True)
            took = time.perf_counter() - began
            await blob.delete_blob()
            return took
    assert name == "gcs"
    from gcloud.aio.storage import Storage

    async with Storage(api_root=emulators.gcs().url) as storage:
        began = time.perf_counter()
        await storage.upload(BUCKET, key, data, content_type="application/octet-stream",
                             timeout=600)
        took = time.perf_counter() - began
        await storage.delete(BUCKET, key)
        return took


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nbchat-storage-bench-"))
    emulators = Emulators(work / "emulators")
    servers: dict[str, tuple[int, asyncio.subprocess.Process]] = {}
    threads: dict[str, str] = {}
    try:
        urls = storage_urls(emulators)
        runs: list[tuple[str, str, list[str]]] = [(n, u, []) for n, u in urls.items()]
        runs += [(name, urls[of], [str(n)]) for name, of, n in VARIANTS]
        for name, url, extra in runs:
            port = free_port()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", SERVER, str(work / name.replace("/", "-")), url,
                str(port), *extra, stdout=asyncio.subprocess.PIPE)
            assert proc.stdout is not None
            ready, thread_id = (await asyncio.wait_for(proc.stdout.readline(), 60)).split()
            assert ready == b"ready"
            servers[name] = (port, proc)
            threads[name] = thread_id.decode()
        print(f"storage upload: load average {os.getloadavg()[0]:.2f} "
              f"{os.getloadavg()[1]:.2f} (1, 5 min) at start")
        for mb in args.mb:
            data = os.urandom(mb * 1024 * 1024)
            body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
                    f"filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    ).encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
            ups: dict[str, list[float]] = {n: [] for n in servers}
            reads: dict[str, list[float]] = {n: [] for n in servers}
            cpus: dict[str, list[float]] = {n: [] for n in servers}
            raws: dict[str, list[float]] = {n: [] for n in servers if n in urls and n != "folder"}
            for _ in range(args.rounds):
                for name, (port, proc) in servers.items():  # alternating, same order
                    cpu = cpu_seconds(proc.pid)
                    up, read = await round_trip(port, threads[name], body, len(data))
                    cpus[name].append(cpu_seconds(proc.pid) - cpu)
                    ups[name].append(up)
                    reads[name].append(read)
                    if name in raws:  # the SDK alone, right after nbchat, same emulator
                        raws[name].append(await raw_sdk_upload(name, emulators, data))
            base = statistics.median(ups["folder"])
            for name in servers:
                up, read = statistics.median(ups[name]), statistics.median(reads[name])
                print(f"  {mb:4d} MB  {name:10s}  upload median {up * 1000:7.0f} ms "
                      f"({mb / up:5.0f} MB/s, {100 * (up / base - 1):+5.1f}% vs folder)  "
                      f"read median {read * 1000:7.0f} ms ({mb / read:5.0f} MB/s)  "
                      f"server CPU {statistics.median(cpus[name]) * 1000:6.0f} ms")
                if name in raws:
                    raw = statistics.median(raws[name])
                    print(f"  {'':7s}  {'raw SDK':10s}  upload median {raw * 1000:7.0f} ms "
                          f"({mb / raw:5.0f} MB/s)  nbchat / raw SDK {up / raw:5.2f}x")
        print(f"load average {os.getloadavg()[0]:.2f} at end")
    finally:
        for _port, proc in servers.values():
            proc.terminate()
            await proc.wait()
        emulators.close()


if __name__ == "__main__":
    asyncio.run(main())
