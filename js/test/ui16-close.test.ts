/** The WebSocket transport's close codes: 4401 (signed out) ends reconnecting and the app
 * says so; 1007/1009 keep reconnecting and their reason is shown. A scripted WebSocket
 * stands in for the browser's (jsdom has no server to talk to). */
import { describe, expect, it, vi } from "vitest";
import { FrameScheduler } from "../src/frame";
import { WebSocketTransport } from "../src/transports/websocket";
import { ChatApp } from "../src/ui/app";

class ScriptedSocket {
  static made: ScriptedSocket[] = [];
  binaryType = "blob";
  onopen: (() => void) | null = null;
  onmessage: ((m: MessageEvent) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: (() => void) | null = null;
  sent: unknown[] = [];
  constructor(readonly url: string) { ScriptedSocket.made.push(this); }
  send(frame: unknown): void { this.sent.push(frame); }
  close(): void { /* the test closes with a code instead */ }
  serverClose(code: number, reason: string): void { this.onclose?.({ code, reason } as CloseEvent); }
}

function setup(onSignedOut?: () => void) {
  ScriptedSocket.made = [];
  vi.useFakeTimers();
  const transport = new WebSocketTransport({ url: "ws://x/ws", minDelayMs: 10,
    WebSocketImpl: ScriptedSocket as unknown as typeof WebSocket });
  const el = document.createElement("div");
  document.body.append(el);
  const app = new ChatApp(el, { transport, resolveFile: async (k) => k },
    { scheduler: new FrameScheduler((cb) => cb()), onSignedOut });
  ScriptedSocket.made[0]!.onopen?.();
  return { transport, el, app };
}

describe("close codes", () => {
  it("4401 stops reconnecting and hands over to the page's login", () => {
    const signedOut = vi.fn();
    const { transport } = setup(signedOut);
    ScriptedSocket.made[0]!.serverClose(4401, "signed out");
    expect(transport.status).toBe("closed");
    expect(transport.lastClose).toEqual({ code: 4401, reason: "signed out" });
    expect(signedOut).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(60_000);
    expect(ScriptedSocket.made).toHaveLength(1); // never tried again
    vi.useRealTimers();
  });

  it("4401 without a page login says so in the chat", () => {
    const { el } = setup();
    ScriptedSocket.made[0]!.serverClose(4401, "signed out");
    expect(el.querySelector(".nbc-notice-error")?.textContent).toBe("You were signed out.");
    vi.useRealTimers();
  });

  it("1009 shows its reason and reconnects", () => {
    const { el, transport } = setup();
    ScriptedSocket.made[0]!.serverClose(1009, "message too big");
    expect(el.querySelector(".nbc-notice-error")?.textContent).toBe("The connection was closed: message too big");
    expect(transport.status).toBe("connecting");
    vi.advanceTimersByTime(1000);
    expect(ScriptedSocket.made).toHaveLength(2);
    ScriptedSocket.made[1]!.onopen?.();
    expect(transport.lastClose).toBeNull();
    vi.useRealTimers();
  });

  it("a plain drop (1006) reconnects without a notice", () => {
    const { el } = setup();
    ScriptedSocket.made[0]!.serverClose(1006, "");
    expect(el.querySelector(".nbc-notice-error")).toBeNull();
    vi.advanceTimersByTime(1000);
    expect(ScriptedSocket.made).toHaveLength(2);
    vi.useRealTimers();
  });
});
