/**
 * The model a custom element's `render({ model, el })` gets: anywidget's model API over
 * the element's props. `get`/`set`/`on("change:x")`/`off`/`save_changes` behave as on a
 * notebook widget whose traits are the props; `save_changes()` sends the props to the
 * server (`updateElement`), and props the server sends fire `change:<name>`.
 */
type Json = Record<string, unknown>;
export type Listener = (...args: unknown[]) => void;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export class PropsModel {
  private readonly values: Json;
  private readonly listeners = new Map<string, Set<Listener>>();
  private dirty = false;

  constructor(initial: Json, private readonly save: (props: Json) => void) {
    this.values = initial;
  }

  get(name: string): unknown {
    return this.values[name];
  }

  set(name: string, value: unknown): void {
    if (same(this.values[name], value)) return;
    this.values[name] = value;
    this.dirty = true;
    this.emit(name, value);
  }

  /** Send the props to the server (anywidget's `save_changes`). */
  save_changes(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.save({ ...this.values });
  }

  /** New props: from the server (`fromCode` false), or `updateElement` (sent on). */
  replace(next: Json, fromCode: boolean): void {
    for (const key of Object.keys(this.values)) {
      if (!(key in next)) { delete this.values[key]; this.emit(key, undefined); }
    }
    for (const [key, value] of Object.entries(next)) {
      if (!same(this.values[key], value)) { this.values[key] = value; this.emit(key, value); }
    }
    if (fromCode) this.save({ ...this.values });
  }

  on(event: string, cb: Listener): void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(cb);
  }

  off(event?: string | null, cb?: Listener | null): void {
    if (!event) { this.listeners.clear(); return; }
    if (!cb) this.listeners.delete(event);
    else this.listeners.get(event)?.delete(cb);
  }

  /** Custom messages go to Python in a notebook widget; an element has `callAction`. */
  send(): void {
    console.warn("nbchat: model.send is not available to a custom element; use callAction({name, payload})");
  }

  private emit(name: string, value: unknown): void {
    for (const cb of this.listeners.get(`change:${name}`) ?? []) cb(value);
    for (const cb of this.listeners.get("change") ?? []) cb();
  }
}
