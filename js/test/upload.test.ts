// @vitest-environment node
// (Node's File has arrayBuffer(); jsdom's does not.)
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api";
import type { ClientEvent } from "../src/protocol";
import { Uploader } from "../src/ui/upload";
import { settle } from "./http";

interface Sent { event: ClientEvent; buffers?: ArrayBuffer[] }

function setup(put: ((ticket: string, file: File) => Promise<void>) | null, serverHttp = true) {
  const sent: Sent[] = [];
  const uploader = new Uploader((event, buffers) => sent.push({ event, buffers }));
  uploader.setServerHttp(serverHttp);
  uploader.setHttp(put);
  const last = (type: string) => [...sent].reverse().find((s) => s.event.type === type)?.event as
    (ClientEvent & { uploadId: string }) | undefined;
  return { uploader, sent, last, types: () => sent.map((s) => s.event.type) };
}

const file = (size = 10) => new File([new Uint8Array(size)], "data.bin", { type: "application/octet-stream" });

describe("Uploader over HTTP", () => {
  it("asks for a ticket, PUTs the bytes there, then ends the upload", async () => {
    const puts: string[] = [];
    const { uploader, last, types } = setup(async (ticket) => { puts.push(ticket); });
    const result = uploader.upload(file());
    await settle();
    const start = last("upload_start");
    expect(start).toMatchObject({ via: "http", size: 10, name: "data.bin" });
    uploader.ticket(start!.uploadId, "T".repeat(32));
    await settle();
    expect(puts).toEqual(["T".repeat(32)]);
    expect(types()).toEqual(["upload_start", "upload_end"]);
    uploader.done(start!.uploadId, "file-1");
    await expect(result).resolves.toBe("file-1");
    expect(uploader.pending).toBe(0);
  });

  it("falls back to events for good when the PUT answers 404 (a kernel the server cannot see)", async () => {
    let calls = 0;
    const { uploader, sent, last, types } = setup(async () => {
      calls += 1;
      throw new ApiError(404, "unknown_ticket", "no such upload ticket");
    });
    const result = uploader.upload(file(300 * 1024));
    await settle();
    uploader.ticket(last("upload_start")!.uploadId, "x".repeat(32));
    await settle(10);
    expect(types().slice(0, 3)).toEqual(["upload_start", "upload_cancel", "upload_start"]);
    const second = last("upload_start")!;
    expect(second).not.toHaveProperty("via");
    expect(sent.filter((s) => s.event.type === "upload_chunk").map((s) => s.buffers?.[0]?.byteLength))
      .toEqual([256 * 1024, 44 * 1024]);
    uploader.done(second.uploadId, "file-2");
    await expect(result).resolves.toBe("file-2");
    expect(uploader.viaHttp).toBe(false);
    void uploader.upload(file());
    await settle();
    expect(last("upload_start")).not.toHaveProperty("via");
    expect(calls).toBe(1);
  });

  it("reports a refused PUT (413) and cancels the upload, without a second try", async () => {
    const { uploader, last, types } = setup(async () => {
      throw new ApiError(413, "payload_too_large", "the file is larger than declared or allowed (10 bytes)");
    });
    const result = uploader.upload(file());
    await settle();
    uploader.ticket(last("upload_start")!.uploadId, "y".repeat(32));
    await expect(result).rejects.toThrow("larger than declared or allowed");
    expect(types()).toEqual(["upload_start", "upload_cancel"]);
    expect(last("upload_cancel")!.uploadId).toBe(last("upload_start")!.uploadId);
    expect(uploader.pending).toBe(0);
    expect(uploader.viaHttp).toBe(true);
  });

  it("fails when the server refuses the upload before giving a ticket", async () => {
    const { uploader } = setup(async () => undefined);
    const result = uploader.upload(file());
    await settle();
    uploader.failAll("'data.bin': type application/octet-stream is not accepted");
    await expect(result).rejects.toThrow("is not accepted");
    expect(uploader.pending).toBe(0);
  });

  it("sends events when the server does not take HTTP uploads", async () => {
    const { uploader, last, types } = setup(async () => undefined, false);
    void uploader.upload(file());
    await settle();
    expect(last("upload_start")).not.toHaveProperty("via");
    expect(types()).toEqual(["upload_start", "upload_chunk", "upload_end"]);
  });
});
