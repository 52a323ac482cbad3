// What one Link status write costs the API server at a given N, measured apart from the
// controller: a copy of the Link under another name (no controller watches it) gets its
// status written by the controller's own LinkStatusWriter, holding N mirror entries, a
// few times over. The writer sends its whole mirror list (capped at 500 entries since
// 9464a20) on every flush, however few mirrors changed.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from '../kube/client.ts';
import { LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION } from '../model/link-types.ts';
import { createLogger } from '../log/logger.ts';
import { LinkStatusWriter } from '../mirror/link-status.ts';
import { cpuSeconds } from './proc-stats.ts';

export interface StatusWriteCost {
  /** Mirrors the writer was told about, and how many entries it wrote into the status. */
  entries: number;
  storedEntries: number;
  /** Size of the status as stored: about one patch body, since the writer sends it whole. */
  patchKb: number;
  writes: number;
  wallMsPerWrite: number;
  apiserverCpuMsPerWrite: number;
  /** The API server's answer when it refused the write (too large), if it did. */
  error?: string;
}

const PROBE_NAME = 'bench-status-probe';

export async function measureStatusWriteCost(
  kubeConfig: KubeConfig,
  namespace: string,
  link: { apiVersion: string; kind: string; spec: unknown },
  entries: number,
  apiserverPid: number,
  writes = 5,
): Promise<StatusWriteCost> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const ref = { group: LINK_GROUP, version: LINK_STORAGE_VERSION, namespace, plural: LINK_PLURAL };
  await custom.createNamespacedCustomObject({
    ...ref,
    body: { apiVersion: link.apiVersion, kind: link.kind, metadata: { name: PROBE_NAME, namespace }, spec: link.spec },
  });
  const warnings: string[] = [];
  const log = createLogger({ level: 'warn', write: (line) => warnings.push(line) });
  const writer = new LinkStatusWriter(kubeConfig, namespace, PROBE_NAME, log, 3_600_000);
  try {
    for (let i = 0; i < entries; i++) {
      const name = `svc-${String(i).padStart(5, '0')}`;
      writer.setMirror({ namespace: 'bench', name }, { namespace: 'bench', name: `${name}-cluster2` }, 'Mirrored', '');
    }
    await writer.flush();
    // What the writer actually stored (it may cap the list), read back.
    const stored = (await custom.getNamespacedCustomObject({ ...ref, name: PROBE_NAME })) as { status?: { mirrorServices?: unknown[] } };
    const body = JSON.stringify({ status: stored.status ?? {} });
    const cpu0 = cpuSeconds(apiserverPid);
    const t0 = performance.now();
    for (let k = 0; k < writes; k++) {
      // One mirror changes, as when one Service is unexported; the whole list is sent.
      writer.setMirror(
        { namespace: 'bench', name: 'svc-00000' },
        { namespace: 'bench', name: 'svc-00000-cluster2' },
        k % 2 ? 'Mirrored' : 'Error',
        `probe ${k}`,
      );
      await writer.flush();
    }
    const wall = performance.now() - t0;
    const cpu = cpuSeconds(apiserverPid) - cpu0;
    const failed = warnings.find((w) => w.includes('link status write failed'));
    const cost: StatusWriteCost = {
      entries,
      storedEntries: stored.status?.mirrorServices?.length ?? 0,
      patchKb: Math.round(body.length / 1024),
      writes,
      wallMsPerWrite: Math.round(wall / writes),
      apiserverCpuMsPerWrite: Math.round((cpu * 1000) / writes),
    };
    if (failed) cost.error = (JSON.parse(failed) as { reason?: string }).reason ?? failed;
    return cost;
  } finally {
    writer.stop();
    // A failed clean-up is reported, not thrown: a throw here would hide the measurement's own error.
    await custom.deleteNamespacedCustomObject({ ...ref, name: PROBE_NAME }).catch((err: unknown) => {
      if (!isNotFound(err)) process.stderr.write(`link status probe ${PROBE_NAME} was not deleted: ${String(err)}\n`);
    });
  }
}
