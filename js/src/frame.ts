/** One paint per animation frame: views schedule themselves, the frame flushes them all. */
export interface Flushable {
  flush(): void;
}

type RequestFrame = (cb: () => void) => unknown;

const defaultRequest: RequestFrame =
  typeof requestAnimationFrame === "function"
    ? (cb) => requestAnimationFrame(() => cb())
    : (cb) => setTimeout(cb, 16);

export class FrameScheduler {
  private tasks = new Set<Flushable>();
  private afterHooks = new Set<() => void>();
  private requested = false;

  constructor(private readonly request: RequestFrame = defaultRequest) {}

  schedule(task: Flushable): void {
    this.tasks.add(task);
    this.ensure();
  }

  /** Run `fn` once after the next frame's flushes (e.g. keep the list scrolled down). */
  afterFrame(fn: () => void): void {
    this.afterHooks.add(fn);
    this.ensure();
  }

  /** Flush everything now (tests, and the final render of a finished stream). */
  flushNow(): void {
    this.requested = false;
    // Tasks may schedule again while flushing (throttled views); those wait a frame.
    const tasks = [...this.tasks];
    this.tasks.clear();
    for (const task of tasks) {
      try {
        task.flush();
      } catch (err) {
        console.error("nbchat: render failed", err);
      }
    }
    const hooks = [...this.afterHooks];
    this.afterHooks.clear();
    for (const hook of hooks) hook();
  }

  private ensure(): void {
    if (this.requested) return;
    this.requested = true;
    this.request(() => this.flushNow());
  }
}
