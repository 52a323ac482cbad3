// The shared resolutions, one per requested Service port: the first Get stream opens it,
// later ones attach to it, and the last one to leave closes it.
import { Resolution, type ResolutionDeps, type UpdateSink } from './resolution.ts';
import type { ServiceTarget } from './target.ts';

export class Resolver {
  readonly #deps: ResolutionDeps;
  readonly #open = new Map<string, Promise<Resolution>>();

  constructor(deps: ResolutionDeps) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#open.size;
  }

  /** Attaches `sink` to the target's resolution; returns the function that detaches it. Throws errors.ts classes. */
  async subscribe(target: ServiceTarget, sink: UpdateSink): Promise<() => void> {
    const key = `${target.namespace}/${target.name}:${target.port}`;
    let pending = this.#open.get(key);
    if (!pending) {
      pending = Resolution.open(this.#deps, target);
      this.#open.set(key, pending);
      pending.catch(() => {
        if (this.#open.get(key) === pending) this.#open.delete(key);
      });
    }
    const r = await pending;
    r.attach(sink);
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      r.detach(sink);
      if (r.sinkCount === 0 && this.#open.get(key) === pending) {
        this.#open.delete(key);
        r.close();
      }
    };
  }

  async close(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    for (const p of all) (await p.catch(() => undefined))?.close();
  }
}
