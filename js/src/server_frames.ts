/** Server frames as they arrive on a transport, decoded into events (protocol.ts's types). */
import { SERVER_EVENT_TYPES, type ServerEvent } from "./protocol";

type Json = Record<string, unknown>;

const SERVER_TYPES: ReadonlySet<string> = new Set(SERVER_EVENT_TYPES);

/**
 * Decode one server frame (a batch). Accepts the JSON text, an array, or the comm
 * envelope `{events: [...]}`. Events of unknown type or without a numeric `seq` are
 * dropped (a newer server may send events this client does not know).
 */
export function decodeServerFrame(frame: unknown): ServerEvent[] {
  let value = frame;
  if (typeof value === "string") value = JSON.parse(value);
  if (value && typeof value === "object" && !Array.isArray(value) && "events" in value) {
    value = (value as { events: unknown }).events;
  }
  if (!Array.isArray(value)) throw new Error("nbchat: a server frame must be a JSON array of events");
  const out: ServerEvent[] = [];
  for (const ev of value) {
    if (
      ev && typeof ev === "object" && typeof (ev as Json).type === "string" &&
      SERVER_TYPES.has((ev as Json).type as string) && typeof (ev as Json).seq === "number"
    ) {
      out.push(ev as ServerEvent);
    }
  }
  return out;
}
