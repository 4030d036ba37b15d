/** A ChatApp on a FakeTransport with a manual frame scheduler (flush runs pending frames). */
import { FrameScheduler } from "../src/frame";
import { ChatApp } from "../src/ui/app";
import { FakeTransport } from "./fixtures";

export function setupApp(resolveFile: (key: string) => Promise<string> = async (k) => `/files/${k}`) {
  const transport = new FakeTransport();
  const frames: (() => void)[] = [];
  const scheduler = new FrameScheduler((cb) => frames.push(cb));
  const el = document.createElement("div");
  document.body.append(el);
  const app = new ChatApp(el, { transport, resolveFile }, { scheduler });
  const flush = () => { while (frames.length) frames.shift()?.(); };
  return { app, transport, el, flush };
}
