import { FrameScheduler } from "../src/frame";
import { ChatApp } from "../src/ui/app";
import type { ClientEvent, ServerEvent, StepDict } from "../src/protocol";
import type { Transport, TransportStatus } from "../src/transports/types";

export function step(id: string, over: Partial<StepDict> = {}): StepDict {
  return {
    id, name: "Assistant", type: "assistant_message", threadId: "t1", parentId: null, input: "",
    output: "", isError: false, createdAt: "2024-01-01T10:00:00Z", start: null, end: null,
    metadata: {}, tags: null, language: null, generation: null, showInput: false,
    defaultOpen: false, streaming: false, waitForAnswer: false, ...over,
  };
}

/** Numbers events from 1 like the server's emitter does. */
export function numbered(events: Record<string, unknown>[], from = 1): ServerEvent[] {
  return events.map((e, i) => ({ ...e, seq: from + i }) as unknown as ServerEvent);
}

export class FakeTransport implements Transport {
  status: TransportStatus = "open";
  sent: { event: ClientEvent; buffers?: ArrayBuffer[] }[] = [];
  private batch = new Set<(e: ServerEvent[]) => void>();
  private statusL = new Set<(s: TransportStatus) => void>();
  send(event: ClientEvent, buffers?: ArrayBuffer[]): void { this.sent.push({ event, buffers }); }
  onBatch(l: (e: ServerEvent[]) => void): () => void { this.batch.add(l); return () => this.batch.delete(l); }
  onStatus(l: (s: TransportStatus) => void): () => void { this.statusL.add(l); return () => this.statusL.delete(l); }
  close(): void { this.status = "closed"; }
  deliver(events: ServerEvent[]): void { for (const l of this.batch) l(events); }
  types(): string[] { return this.sent.map((s) => s.event.type); }
}

export const WELCOME = {
  type: "welcome", protocolVersion: 1, sessionId: "s1", threadId: "t1", user: null,
  config: { ui: { cot: "full" }, features: { spontaneous_file_upload: { enabled: true, max_files: 2 } } },
  chatProfiles: [], chatProfile: null, starters: [{ label: "Say hi", message: "hi" }], commands: [],
  starterCategories: [], modes: [],
  httpUploads: false,
};

/** A ChatApp on a FakeTransport, with frames run by `flush()`. */
export function mountApp() {
  const transport = new FakeTransport();
  const frames: (() => void)[] = [];
  const scheduler = new FrameScheduler((cb) => frames.push(cb));
  const el = document.createElement("div");
  document.body.append(el);
  const app = new ChatApp(el, { transport, resolveFile: async (k) => `/files/${k}` }, { scheduler });
  const flush = () => { while (frames.length) frames.shift()?.(); };
  return { app, transport, el, flush };
}
