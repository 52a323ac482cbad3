// @peculiar/x509 resolves its algorithms through tsyringe, which refuses to load unless a
// reflect-metadata implementation is installed on `Reflect`. It only ever reads metadata
// that was never written (no emitted decorator metadata), so this minimal store suffices.
// Import it before @peculiar/x509; a real `reflect-metadata` package, if loaded, wins.

type MetadataKey = unknown;
type Target = object;

const store = new WeakMap<Target, Map<PropertyKey | undefined, Map<MetadataKey, unknown>>>();

function table(target: Target, prop: PropertyKey | undefined, create: boolean): Map<MetadataKey, unknown> | undefined {
  let byProp = store.get(target);
  if (byProp === undefined) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let entries = byProp.get(prop);
  if (entries === undefined && create) {
    entries = new Map();
    byProp.set(prop, entries);
  }
  return entries;
}

function getOwnMetadata(key: MetadataKey, target: Target, prop?: PropertyKey): unknown {
  return table(target, prop, false)?.get(key);
}

function getMetadata(key: MetadataKey, target: Target, prop?: PropertyKey): unknown {
  for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
    const entries = table(t, prop, false);
    if (entries?.has(key) === true) return entries.get(key);
  }
  return undefined;
}

function defineMetadata(key: MetadataKey, value: unknown, target: Target, prop?: PropertyKey): void {
  table(target, prop, true)?.set(key, value);
}

function metadata(key: MetadataKey, value: unknown) {
  return (target: Target, prop?: PropertyKey): void => defineMetadata(key, value, target, prop);
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect['getMetadata'] !== 'function') {
  Object.assign(reflect, { getMetadata, getOwnMetadata, defineMetadata, metadata });
}
