// The gateway's third identity source against the real identity service: a ServiceAccount
// token (TokenRequest, audience identity.l5d.io) and a CSR sent to `multicluster identity`,
// which checks the token with a real TokenReview; the gateway serves with the certificate it
// got, renews it at 70% of its lifetime and hot-swaps it into the listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { ClusterPair } from '../dev/cluster-pair.ts';
import { freePort } from '../dev/control-plane.ts';
import { ManagedProcess, waitFor } from '../dev/managed-process.ts';
import { BIN } from '../e2e/fixtures/cli.ts';
import { rawTls } from '../e2e/fixtures/linkerd-client.ts';
import { createMeshPki, GATEWAY_ID } from '../e2e/fixtures/real-gateway.ts';

test('a gateway certified by the identity service serves with that identity and renews it', async () => {
  const pair = await ClusterPair.start({ progress: (m) => process.stderr.write(`  harness: ${m}\n`) });
  const procs: ManagedProcess[] = [];
  try {
    const pki = await createMeshPki();
    const core = pair.cluster2.kubeConfig.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'linkerd-multicluster' } } });
    await core.createNamespacedServiceAccount({ namespace: 'linkerd-multicluster', body: { metadata: { name: 'linkerd-gateway' } } });
    const token = await core.createNamespacedServiceAccountToken({
      name: 'linkerd-gateway',
      namespace: 'linkerd-multicluster',
      body: { spec: { audiences: ['identity.l5d.io'], expirationSeconds: 3600 } },
    });
    const tokenFile = join(pki.dir, 'token');
    await writeFile(tokenFile, token.status?.token ?? '');

    const [idPort, idAdmin, gwPort, gwAdmin] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const kube = ['--kubeconfig', pair.kubeconfigPath, '--context', pair.cluster2.context];
    const start = async (name: string, args: string[]): Promise<ManagedProcess> => {
      const p = await ManagedProcess.start({ name, command: process.execPath, args: [BIN, ...args], stateDir: pair.stateDir });
      procs.push(p);
      return p;
    };
    await start('identity', [
      'identity',
      '--issuer-cert',
      pki.issuerCertFile,
      '--issuer-key',
      pki.issuerKeyFile,
      '--trust-anchors',
      pki.trustAnchorsFile,
      '--listen',
      `127.0.0.1:${idPort}`,
      '--admin-listen',
      `127.0.0.1:${idAdmin}`,
      // Short leaves, so that the gateway's renewal (70%, at least 10 s) happens during the test.
      '--issuance-lifetime',
      '15s',
      '--clock-skew-allowance',
      '0s',
      ...kube,
    ]);
    const gateway = await start('gateway', [
      'gateway',
      '--identity-addr',
      `127.0.0.1:${idPort}`,
      '--identity-token-file',
      tokenFile,
      '--identity',
      GATEWAY_ID,
      '--trust-anchors',
      pki.trustAnchorsFile,
      '--listen',
      `127.0.0.1:${gwPort}`,
      '--admin-listen',
      `127.0.0.1:${gwAdmin}`,
      ...kube,
    ]);
    await waitFor(
      'the gateway to be ready',
      async () => ((await fetch(`http://127.0.0.1:${gwAdmin}/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
      {
        timeoutMs: 30_000,
        onTimeout: () => gateway.lastLog(30),
      },
    );

    const client = await pki.credentials('web.demo.serviceaccount.identity.linkerd.cluster.local');
    const serverCert = async (): Promise<{ san: string; validTo: number; issuer: string }> => {
      const s = await rawTls(
        { host: '127.0.0.1', port: gwPort },
        { creds: client, ca: pki.trustAnchorsPem, alpn: ['transport.l5d.io/v1'], servername: GATEWAY_ID },
      );
      const peer = s.getPeerCertificate();
      const authorized = s.authorized;
      s.destroy();
      assert.ok(authorized, 'the gateway certificate chains to the trust anchors');
      return { san: peer.subjectaltname ?? '', validTo: Date.parse(peer.valid_to), issuer: String(peer.issuer.CN ?? '') };
    };
    const first = await serverCert();
    assert.equal(first.san, `DNS:${GATEWAY_ID}`);
    assert.equal(first.issuer, pki.issuer.bundle.cert.subjectName.getField('CN')[0]);

    const renewed = await waitFor(
      'a renewed certificate on new connections',
      async () => {
        const c = await serverCert();
        return c.validTo > first.validTo ? c : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, onTimeout: () => gateway.lastLog(30) },
    );
    assert.equal(renewed.san, `DNS:${GATEWAY_ID}`);
    const issued = await (await fetch(`http://127.0.0.1:${idAdmin}/metrics`)).text();
    assert.match(issued, /identity_certificates_issued_total(\{[^}]*\})? ([2-9]|\d\d+)/);
  } finally {
    for (const p of procs) await p.stop();
    await pair.stop();
  }
});
