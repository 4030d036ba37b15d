import { describe, expect, it } from "vitest";
import {
  CLIENT_EVENT_TYPES, PROTOCOL_VERSION, SERVER_EVENT_TYPES, isMessageStep,
} from "../src/protocol";
import { decodeServerFrame } from "../src/server_frames";
import { encodeBinary } from "../src/transports/websocket";
import * as act from "../src/store/actions";

describe("protocol", () => {
  it("has version 1 and complete event type lists", () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(SERVER_EVENT_TYPES).toHaveLength(29);
    expect(CLIENT_EVENT_TYPES).toHaveLength(22);
  });

  it("decodes JSON text, arrays and the comm envelope", () => {
    const ev = { type: "task_start", seq: 3 };
    expect(decodeServerFrame(JSON.stringify([ev]))).toEqual([ev]);
    expect(decodeServerFrame([ev])).toEqual([ev]);
    expect(decodeServerFrame({ events: [ev] })).toEqual([ev]);
  });

  it("drops unknown event types and events without seq", () => {
    const out = decodeServerFrame([{ type: "bogus", seq: 1 }, { type: "task_end" }, { type: "task_end", seq: 2 }, null]);
    expect(out).toEqual([{ type: "task_end", seq: 2 }]);
  });

  it("rejects a frame that is not a batch", () => {
    expect(() => decodeServerFrame({ type: "task_end", seq: 1 })).toThrow(/array/);
  });

  it("knows which steps are messages", () => {
    expect(isMessageStep({ type: "assistant_message" })).toBe(true);
    expect(isMessageStep({ type: "tool" })).toBe(false);
  });

  it("builds client events with only the fields that are set", () => {
    expect(act.hello()).toEqual({ type: "hello", protocolVersion: 1 });
    expect(act.hello({ lastSeq: 7 })).toEqual({ type: "hello", protocolVersion: 1, lastSeq: 7 });
    expect(act.userMessage("x")).toEqual({ type: "user_message", content: "x" });
    expect(act.userMessage("x", { fileIds: ["f"], command: "c" })).toEqual(
      { type: "user_message", content: "x", fileIds: ["f"], command: "c" });
    expect(act.feedback("s", 1)).toEqual({ type: "feedback", stepId: "s", value: 1 });
    expect(act.askResponse("a", { actionId: "x" })).toEqual({ type: "ask_response", askId: "a", actionId: "x" });
    expect(act.uploadStart("u", { name: "a.txt", type: "", size: 3 }))
      .toEqual({ type: "upload_start", uploadId: "u", name: "a.txt", mime: "application/octet-stream", size: 3 });
  });

  it("frames binary websocket messages as length + JSON + bytes", () => {
    const buf = encodeBinary(act.uploadChunk("u1"), [new Uint8Array([1, 2, 3]).buffer]);
    const view = new DataView(buf);
    const len = view.getUint32(0);
    const json = new TextDecoder().decode(new Uint8Array(buf, 4, len));
    expect(JSON.parse(json)).toEqual({ type: "upload_chunk", uploadId: "u1" });
    expect([...new Uint8Array(buf, 4 + len)]).toEqual([1, 2, 3]);
  });
});
