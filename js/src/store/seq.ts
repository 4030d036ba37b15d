import type { ServerEvent } from "../protocol";

/**
 * Sequence tracking. Every server event carries a per-session `seq`. The tracker
 * decides, per event, whether to apply it:
 *
 * - `welcome` is connection metadata: always applied, and it sets the base only when
 *   the client has none yet (fresh view).
 * - `snapshot` is full state: always applied and resets the base to its seq.
 * - `seq` 0 is outside any session's numbering: the server's refusal of a `hello` before a
 *   session is attached (`unknown_session`, `worker_lost`): always applied, base unchanged.
 * - other events apply when `seq === last + 1`; `seq <= last` is a replayed duplicate
 *   and is skipped; `seq > last + 1` is a gap: the event is dropped and the caller must
 *   resync (send `hello` with `lastSeq`); events stay dropped until the server replays
 *   `last + 1` or sends a snapshot.
 */
export type SeqVerdict = "apply" | "duplicate" | "gap";

export class SeqTracker {
  last: number | null = null;
  /** True between detecting a gap and receiving the event that closes it. */
  resyncing = false;

  check(event: ServerEvent): SeqVerdict {
    if (event.type === "snapshot") {
      this.last = event.seq;
      this.resyncing = false;
      return "apply";
    }
    if (event.type === "welcome") {
      if (this.last === null) this.last = event.seq;
      return "apply";
    }
    if (event.seq === 0) return "apply";
    if (this.last === null || event.seq === this.last + 1) {
      this.last = event.seq;
      this.resyncing = false;
      return "apply";
    }
    if (event.seq <= this.last) return "duplicate";
    this.resyncing = true;
    return "gap";
  }

  reset(): void {
    this.last = null;
    this.resyncing = false;
  }
}

/** Split a batch into the events to apply and whether a resync is needed. */
export function filterBatch(
  tracker: SeqTracker,
  events: readonly ServerEvent[],
): { apply: ServerEvent[]; gap: boolean } {
  const apply: ServerEvent[] = [];
  let gap = false;
  for (const event of events) {
    const verdict = tracker.check(event);
    if (verdict === "apply") apply.push(event);
    else if (verdict === "gap") gap = true;
  }
  return { apply, gap };
}

/**
 * Where a welcome of a session other than `current` starts in `events` (-1: none; with no
 * current session, none either). The server sends one on a connection when the old
 * session is gone (`unknown_session`, `worker_lost`): what follows is numbered anew.
 */
export function newSessionAt(events: readonly ServerEvent[], current: string | undefined): number {
  if (!current) return -1;
  return events.findIndex((e) => e.type === "welcome" && e.sessionId !== current);
}
