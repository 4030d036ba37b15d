/** What every transport shares: its status and the listeners of batches and status. */
import type { ClientEvent, ServerEvent } from "../protocol";
import type { Transport, TransportStatus } from "./types";

export abstract class TransportBase implements Transport {
  private readonly batchListeners = new Set<(events: ServerEvent[]) => void>();
  private readonly statusListeners = new Set<(s: TransportStatus) => void>();

  protected constructor(public status: TransportStatus) {}

  abstract send(event: ClientEvent, buffers?: ArrayBuffer[]): void;
  abstract close(): void;

  onBatch(listener: (events: ServerEvent[]) => void): () => void {
    this.batchListeners.add(listener);
    return () => this.batchListeners.delete(listener);
  }

  onStatus(listener: (s: TransportStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  protected setStatus(status: TransportStatus): void {
    this.status = status;
    for (const l of this.statusListeners) l(status);
  }

  protected deliver(events: ServerEvent[]): void {
    for (const l of this.batchListeners) l(events);
  }
}
