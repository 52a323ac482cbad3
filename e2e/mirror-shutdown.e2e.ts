// Shutdown is bounded: on SIGTERM while the local API server is unreachable, the controller
// gives its final Link status write and the lease release --shutdown-timeout, says what it
// could not write, and exits (it used to retry the status write every 2 s forever). And a
// SIGTERM that lands right after the Link's deletion (`unlink | kubectl delete -f -` deletes the
// Link and the controller back to back) still runs the Link's finalizer, whether or not the
// deletion event reached the controller first.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readIfExists } from '../kube/client.ts';
import { waitFor } from '../dev/managed-process.ts';
import { apply } from './fixtures/kubectl.ts';
import { linkedPair, MC_NS, type LinkedPair, type MirrorProcess } from './fixtures/linked-pair.ts';

const LINK = { group: 'multicluster.linkerd.io', version: 'v1alpha3', namespace: MC_NS, plural: 'links', name: 'cluster2' };

const WAIT = { timeoutMs: 30_000, intervalMs: 100 };
let env: LinkedPair;
let mirror: MirrorProcess;

async function exportService(name: string): Promise<void> {
  await env.core2.createNamespacedService({
    namespace: 'web',
    body: { metadata: { name, labels: { 'mirror.linkerd.io/exported': 'true' } }, spec: { ports: [{ name: 'http', port: 80 }] } },
  });
}

describe('service mirror shutdown', { concurrency: false }, () => {
  before(async () => {
    env = await linkedPair();
    for (const core of [env.core1, env.core2]) await core.createNamespace({ body: { metadata: { name: 'web' } } });
    mirror = await env.startMirror('mirror-a', ['--shutdown-timeout', '3s']);
  });
  after(async () => {
    await env?.stop();
  });

  test('SIGTERM right after the Link is deleted: the finalizer still removes the mirrors and releases the Link', async () => {
    await exportService('doomed');
    await waitFor('the mirror', () => readIfExists(() => env.core1.readNamespacedService({ name: 'doomed-cluster2', namespace: 'web' })), WAIT);
    await waitFor(
      'the finalizer on the Link',
      async () => {
        const link = (await env.custom1.getNamespacedCustomObject(LINK)) as { metadata?: { finalizers?: string[] } };
        return link.metadata?.finalizers?.includes('multicluster.linkerd.io/mirrors') ? true : undefined;
      },
      WAIT,
    );
    await env.custom1.deleteNamespacedCustomObject(LINK);
    process.kill(mirror.proc.pid, 'SIGTERM');
    await waitFor('the controller to exit', () => Promise.resolve(mirror.proc.running ? undefined : true), {
      ...WAIT,
      onTimeout: () => mirror.proc.lastLog(40),
    });
    assert.equal(await readIfExists(() => env.custom1.getNamespacedCustomObject(LINK)), undefined, 'the Link is gone, not stuck on its finalizer');
    assert.equal(
      await readIfExists(() => env.core1.readNamespacedService({ name: 'doomed-cluster2', namespace: 'web' })),
      undefined,
      'its mirror is removed',
    );
    // The next test needs a Link and a leading controller again.
    await apply(env.pair, env.pair.cluster1, env.linkYaml);
    mirror = await env.startMirror('mirror-b', ['--shutdown-timeout', '3s']);
  });

  test('SIGTERM with the local API server down: the process exits, logging what it could not write', async () => {
    await exportService('before-stop');
    await waitFor('the mirror', () => readIfExists(() => env.core1.readNamespacedService({ name: 'before-stop-cluster2', namespace: 'web' })), WAIT);
    await waitFor(
      'the controller to be ready',
      async () => ((await fetch(`http://127.0.0.1:${mirror.metricsPort}/ready`)).ok ? true : undefined),
      WAIT,
    );
    await env.pair.cluster1.controlPlane.killApiServer();
    // cluster2 going away too is a Link condition to write (RemoteReachable=False) that cannot be written.
    await env.pair.cluster2.controlPlane.killApiServer();
    await waitFor(
      'a status write that failed',
      async () => ((await mirror.proc.lastLog(2000)).includes('link status write failed') ? true : undefined),
      WAIT,
    );
    process.kill(mirror.proc.pid, 'SIGTERM');
    await waitFor('the controller to exit', () => Promise.resolve(mirror.proc.running ? undefined : true), {
      ...WAIT,
      onTimeout: () => mirror.proc.lastLog(40),
    });
    const log = await mirror.proc.lastLog(400);
    assert.match(log, /"msg":"shutting down"/);
    assert.match(log, /"unwritten":"link status/, 'it says what it could not write');
    assert.match(log, /lease not released/);
    assert.match(log, /"msg":"stopped"/);
  });
});
