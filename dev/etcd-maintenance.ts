// Compacting and defragmenting a dev cluster's etcd through its JSON gateway, so a
// benchmark phase starts from the same store state as the one before it (history left by an
// earlier phase otherwise slows every later range and watch).

export interface EtcdCompaction {
  revision: number;
  dbSizeBeforeMb: number;
  dbSizeAfterMb: number;
}

export class EtcdMaintenanceError extends Error {
  override readonly name = 'EtcdMaintenanceError';
}

interface StatusResponse {
  header?: { revision?: string };
  dbSize?: string;
}

export async function compactEtcd(clientUrl: string): Promise<EtcdCompaction> {
  const before = await call<StatusResponse>(clientUrl, '/v3/maintenance/status', {});
  const revision = Number(before.header?.revision ?? NaN);
  if (!Number.isInteger(revision)) throw new EtcdMaintenanceError(`etcd at ${clientUrl} reported no revision: ${JSON.stringify(before)}`);
  try {
    await call(clientUrl, '/v3/kv/compaction', { revision: String(revision), physical: true });
  } catch (err) {
    // kube-apiserver compacts on its own every 5 minutes; a revision it already compacted is fine.
    if (!(err instanceof EtcdMaintenanceError && err.message.includes('compacted'))) throw err;
  }
  await call(clientUrl, '/v3/maintenance/defragment', {});
  const after = await call<StatusResponse>(clientUrl, '/v3/maintenance/status', {});
  return { revision, dbSizeBeforeMb: mb(before.dbSize), dbSizeAfterMb: mb(after.dbSize) };
}

async function call<T = unknown>(clientUrl: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(new URL(path, clientUrl), { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  if (!res.ok) throw new EtcdMaintenanceError(`etcd ${path} at ${clientUrl}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

function mb(bytes: string | undefined): number {
  return Math.round((Number(bytes ?? 0) / 2 ** 20) * 10) / 10;
}
