import { describe, expect, it } from "vitest";
import type { ServerEvent } from "../src/protocol";
import { reduce, reduceAll } from "../src/store/reducer";
import { SeqTracker, filterBatch } from "../src/store/seq";
import { initialState, anyTaskRunning } from "../src/store/state";
import { numbered, step } from "./fixtures";
import running from "./running-cases.json";

const ev = (e: Record<string, unknown>, seq = 1) => ({ ...e, seq }) as unknown as ServerEvent;

describe("reducer", () => {
  it("upserts steps keeping first-seen order", () => {
    const s = reduceAll(initialState(), numbered([
      { type: "step", step: step("a") }, { type: "step", step: step("b") },
      { type: "step", step: step("a", { output: "x" }) },
    ]));
    expect(s.order).toEqual(["a", "b"]);
    expect(s.steps.a?.output).toBe("x");
  });

  it("appends token deltas and replaces when asked", () => {
    let s = reduce(initialState(), ev({ type: "step", step: step("a", { output: "He" }) }));
    s = reduce(s, ev({ type: "token", id: "a", delta: "llo" }));
    expect(s.steps.a?.output).toBe("Hello");
    s = reduce(s, ev({ type: "token", id: "a", delta: "Bye", replace: true }));
    expect(s.steps.a?.output).toBe("Bye");
  });

  it("ignores tokens for unknown steps and does not mutate its input", () => {
    const s0 = reduce(initialState(), ev({ type: "step", step: step("a") }));
    const frozen = JSON.stringify(s0);
    const s1 = reduce(s0, ev({ type: "token", id: "zzz", delta: "x" }));
    expect(s1).toBe(s0);
    reduce(s0, ev({ type: "token", id: "a", delta: "x" }));
    expect(JSON.stringify(s0)).toBe(frozen);
  });

  it("deletes a step with its nested steps and their elements", () => {
    const el = { id: "e1", threadId: "t1", type: "text", name: "n", display: "inline", forId: "c",
      mime: null, size: null, language: null, url: null, objectKey: null, content: "hi" };
    const s = reduceAll(initialState(), numbered([
      { type: "step", step: step("m") },
      { type: "step", step: step("p", { type: "run", parentId: "m" }) },
      { type: "step", step: step("c", { type: "tool", parentId: "p" }) },
      { type: "step", step: step("other") },
      { type: "element", element: el },
      { type: "step_delete", id: "m" },
    ]));
    expect(Object.keys(s.steps)).toEqual(["other"]);
    expect(s.order).toEqual(["other"]);
    expect(s.elements).toEqual({});
  });

  it("replaces everything on snapshot but keeps the welcome", () => {
    let s = reduceAll(initialState(), numbered([
      { type: "welcome", protocolVersion: 1, sessionId: "s", threadId: "t", user: null, config: {},
        chatProfiles: [], chatProfile: null, starters: [], commands: [] },
      { type: "step", step: step("old") },
      { type: "task_start" },
    ]));
    s = reduce(s, ev({ type: "snapshot", steps: [step("n1"), step("n2")], elements: [], actions: [],
      ask: null, settings: null, running: false }, 9));
    expect(s.order).toEqual(["n1", "n2"]);
    expect(anyTaskRunning(s)).toBe(false);
    expect(s.welcome?.sessionId).toBe("s");
  });

  it("tracks asks, tasks, feedback, uploads, actions and notices", () => {
    const action = { id: "x", name: "go", forId: null, payload: {}, label: "Go", tooltip: "", icon: null };
    let s = reduceAll(initialState(), numbered([
      { type: "step", step: step("a") },
      { type: "ask", askId: "q", kind: "action", stepId: "a", timeout: 60, spec: { actions: [action] } },
      { type: "task_start" },
      { type: "feedback", stepId: "a", feedback: { forId: "a", value: 1 } },
      { type: "upload_done", uploadId: "u", fileId: "f" },
      { type: "action", action },
      { type: "notice", level: "info", message: "hi" },
    ]));
    expect(s.ask?.askId).toBe("q");
    expect(anyTaskRunning(s)).toBe(true);
    expect(s.steps.a?.feedback?.value).toBe(1);
    expect(s.uploads).toEqual({ u: "f" });
    expect(Object.keys(s.actions)).toEqual(["x"]);
    expect(s.notices).toHaveLength(1);
    s = reduceAll(s, numbered([{ type: "ask_cancel", askId: "other" }], 20));
    expect(s.ask?.askId).toBe("q");
    s = reduceAll(s, numbered([{ type: "ask_cancel", askId: "q" }, { type: "task_end" }, { type: "action_delete", id: "x" }], 21));
    expect(s.ask).toBeNull();
    expect(anyTaskRunning(s)).toBe(false);
    expect(s.actions).toEqual({});
  });
});

describe("running tasks", () => {
  // The same cases are replayed through state.py by tests/protocol/test_state_parity.py.
  it.each(running.cases)("$name", ({ events, running: expected }) => {
    let s = initialState();
    const seen = numbered(events).map((event) => anyTaskRunning(s = reduce(s, event)));
    expect(seen).toEqual(expected);
  });
});

describe("seq tracking", () => {
  it("applies consecutive events, skips duplicates and flags gaps", () => {
    const t = new SeqTracker();
    const first = filterBatch(t, numbered([{ type: "task_start" }, { type: "task_end" }]));
    expect(first.apply).toHaveLength(2);
    expect(t.last).toBe(2);
    const dup = filterBatch(t, numbered([{ type: "task_start" }], 2));
    expect(dup).toEqual({ apply: [], gap: false });
    const gap = filterBatch(t, numbered([{ type: "task_start" }], 5));
    expect(gap).toEqual({ apply: [], gap: true });
    expect(t.resyncing).toBe(true);
    const replay = filterBatch(t, numbered([{ type: "task_start" }, { type: "task_end" }, { type: "task_start" }], 3));
    expect(replay.apply).toHaveLength(3);
    expect(t.last).toBe(5);
    expect(t.resyncing).toBe(false);
  });

  it("applies an unnumbered refusal (seq 0) without moving the base", () => {
    const t = new SeqTracker();
    filterBatch(t, numbered([{ type: "task_start" }, { type: "task_end" }]));
    const refusal = filterBatch(t, numbered([{ type: "error", code: "worker_lost" }], 0));
    expect(refusal).toEqual({ apply: [expect.objectContaining({ code: "worker_lost" })], gap: false });
    expect(t.last).toBe(2);
  });

  it("a snapshot resets the base; a welcome sets it only on a fresh view", () => {
    const t = new SeqTracker();
    filterBatch(t, numbered([{ type: "welcome" }], 4));
    expect(t.last).toBe(4);
    filterBatch(t, numbered([{ type: "welcome" }], 9));
    expect(t.last).toBe(4);
    filterBatch(t, numbered([{ type: "snapshot" }], 40));
    expect(t.last).toBe(40);
  });
});
