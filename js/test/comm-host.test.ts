import { describe, expect, it } from "vitest";
import type { FileRequest, HostRequest } from "../src/host_messages";
import { type CommModel, CommTransport } from "../src/transports/comm";

/** anywidget's model as the comm transport sees it: what the view sends, and a way to answer. */
function model() {
  const sent: HostRequest[] = [];
  let handler: ((msg: unknown, buffers: DataView[]) => void) | null = null;
  const m: CommModel = {
    send: (content) => { sent.push(content as HostRequest); },
    on: (_name, cb) => { handler = cb; },
    off: () => { handler = null; },
    get: () => undefined,
  };
  return { m, sent, answer: (msg: unknown, buffers: DataView[] = []) => handler?.(msg, buffers) };
}

describe("the widget's host messages over the comm", () => {
  it("a file_request is answered by the file_response with its requestId, bytes in buffer 0", async () => {
    const { m, sent, answer } = model();
    const transport = new CommTransport(m);
    const first = transport.fetchFile("key-1");
    const second = transport.fetchFile("key-2");
    const [a, b] = sent as FileRequest[];
    expect(a).toMatchObject({ host: "file_request", objectKey: "key-1" });
    expect(b?.requestId).not.toBe(a?.requestId);
    answer({ host: "file_response", requestId: b!.requestId, error: "no such file in this chat" });
    await expect(second).rejects.toThrow("no such file in this chat");
    answer({ host: "file_response", requestId: "someone-else", mime: "text/plain" }); // not ours: ignored
    const bytes = new TextEncoder().encode("abc");
    answer({ host: "file_response", requestId: a!.requestId, mime: "text/plain" }, [new DataView(bytes.buffer)]);
    const blob = await first;
    expect(blob.type).toBe("text/plain");
    expect(blob.size).toBe(3); // (jsdom's Blob has no text())
  });

  it("a reset goes out as the protocol's reset, and closing rejects what waits", async () => {
    const { m, sent } = model();
    const transport = new CommTransport(m);
    transport.sendHost({ host: "reset", resumeThreadId: "t1" });
    expect(sent[0]).toEqual({ host: "reset", resumeThreadId: "t1" });
    const waiting = transport.fetchAsset("plotly.js");
    transport.close();
    await expect(waiting).rejects.toThrow("view closed");
  });
});
