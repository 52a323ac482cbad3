// The identity service on a real dev cluster: `multicluster identity` runs as a pod process at a
// pod IP, authenticates real projected ServiceAccount tokens with TokenReviews on the real API
// server, and is called over real TLS 1.3 by the shared Certify client. Certificates are checked
// by openssl, an independent X.509 implementation.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { AuthenticationV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ClusterPair } from '../dev/cluster-pair.ts';
import { waitFor } from '../dev/managed-process.ts';
import type { RunningPod } from '../dev/pod-runner.ts';
import { BIN, cli } from '../e2e/fixtures/cli.ts';
import { certify, CertifyError } from '../identity/certify-client.ts';
import { IDENTITY_TOKEN_AUDIENCE, identityServiceName } from '../identity/certify-protocol.ts';
import { createCsr } from '../identity/csr-signing.ts';
import { createIdentityIssuer } from '../identity/issuer.ts';
import { assertOpensslVerifies, openssl } from '../identity/openssl-test-util.ts';
import { createTrustAnchor } from '../identity/trust-anchor.ts';
import { type CertBundle, x509 } from '../identity/x509.ts';

const NS = 'emojivoto';
const WEB = `web.${NS}.serviceaccount.identity.linkerd.cluster.local`;
const SERVER_NAME = identityServiceName('linkerd', 'cluster.local');
const HOUR_S = 3600;

let pair: ClusterPair;
let pod: RunningPod;
let core: CoreV1Api;
let dir: string;
let anchor: CertBundle;
let issuer: CertBundle;
const issued: string[] = [];

async function token(sa: string, audiences = [IDENTITY_TOKEN_AUDIENCE]): Promise<string> {
  const tr = await core.createNamespacedServiceAccountToken({ name: sa, namespace: NS, body: { spec: { audiences, expirationSeconds: 600 } } });
  assert.ok(tr.status?.token);
  return tr.status.token;
}

function call(opts: { identity?: string; token: string; csrDer: Uint8Array; serverName?: string }) {
  return certify({
    addr: `${pod.ip}:8080`,
    serverName: opts.serverName ?? SERVER_NAME,
    trustAnchorsPem: anchor.certPem,
    identity: opts.identity ?? WEB,
    token: opts.token,
    csrDer: opts.csrDer,
  });
}

async function refused(p: Promise<unknown>, code: status, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CertifyError, String(e));
    assert.equal(status[e.code], status[code], e.details);
    assert.match(e.details, message);
    return true;
  });
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://${pod.ip}:9990/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}

/** The API server learns of deletions through its informers: wait until its own TokenReview rejects `t`. */
async function apiServerRejects(t: string): Promise<void> {
  const authn = pair.cluster1.kubeConfig.makeApiClient(AuthenticationV1Api);
  await waitFor(
    'the API server to stop accepting the token',
    async () => {
      const review = await authn.createTokenReview({ body: { spec: { token: t, audiences: [IDENTITY_TOKEN_AUDIENCE] } } });
      return review.status?.authenticated === true ? undefined : true;
    },
    { timeoutMs: 30_000 },
  );
}

async function writeIssuer(bundle: { certPem: string; keyPem: string }): Promise<void> {
  // As a Secret volume does: new files swapped in by rename, never written in place.
  await writeFile(join(dir, 'issuer.crt.tmp'), bundle.certPem);
  await writeFile(join(dir, 'issuer.key.tmp'), bundle.keyPem);
  await rename(join(dir, 'issuer.crt.tmp'), join(dir, 'issuer.crt'));
  await rename(join(dir, 'issuer.key.tmp'), join(dir, 'issuer.key'));
}

/** Issues for `web` and checks the chain with openssl; returns the leaf. */
async function issueAndVerify(expectedIssuer: CertBundle, withToken?: string): Promise<x509.X509Certificate> {
  const { csrDer } = await createCsr(WEB);
  const res = await call({ token: withToken ?? (await token('web')), csrDer });
  const leaf = new x509.X509Certificate(res.leafDer);
  const name = `leaf-${issued.length}.crt`;
  issued.push(name);
  await writeFile(join(dir, name), leaf.toString('pem') + '\n');
  await writeFile(join(dir, `${name}.issuer`), res.intermediatesDer.map((d) => new x509.X509Certificate(d).toString('pem') + '\n').join(''));
  assertOpensslVerifies(dir, 'ca.crt', `${name}.issuer`, name, ['-purpose', 'sslserver']);
  assertOpensslVerifies(dir, 'ca.crt', `${name}.issuer`, name, ['-purpose', 'sslclient']);
  assert.equal(Buffer.from(res.intermediatesDer[0] ?? []).equals(Buffer.from(expectedIssuer.cert.rawData)), true, 'issued by the expected issuer');
  assert.equal(res.validUntil.getTime(), leaf.notAfter.getTime());
  return leaf;
}

/** What a TLS client sees of the serving chain: protocol, SANs, and the fingerprint of the issuer that signed it. */
function served(): Promise<{ protocol: string | null; san: string | undefined; issuerFp: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: pod.ip, port: 8080, servername: SERVER_NAME, ca: anchor.certPem, ALPNProtocols: ['h2'] }, () => {
      const cert = s.getPeerCertificate(true);
      resolve({ protocol: s.getProtocol(), san: cert.subjectaltname, issuerFp: cert.issuerCertificate.fingerprint256 });
      s.end();
    });
    s.once('error', reject);
  });
}

const fingerprint = (b: CertBundle): string => new X509Certificate(b.certPem).fingerprint256;

function issuerFlags(certFile = 'issuer.crt', keyFile = 'issuer.key'): string[] {
  return ['--issuer-cert', join(dir, certFile), '--issuer-key', join(dir, keyFile), '--trust-anchors', join(dir, 'ca.crt')];
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'identity-e2e-'));
  anchor = await createTrustAnchor();
  issuer = await createIdentityIssuer(anchor);
  await writeFile(join(dir, 'ca.crt'), anchor.certPem);
  await writeIssuer(issuer);
  await cli(['--help']); // build the CLI bundle now, not inside the pod's readiness wait
  pair = await ClusterPair.start({ progress: (m) => process.stderr.write(`  harness: ${m}\n`) });
  const c1 = pair.cluster1;
  core = c1.kubeConfig.makeApiClient(CoreV1Api);
  for (const ns of ['linkerd', NS]) await core.createNamespace({ body: { metadata: { name: ns } } });
  for (const sa of ['web', 'voting', 'doomed']) await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: sa } } });
  await core.createNamespacedServiceAccount({ namespace: 'linkerd', body: { metadata: { name: 'linkerd-identity' } } });
  pod = await c1.pods.start({
    namespace: 'linkerd',
    name: 'linkerd-identity-0',
    serviceAccountName: 'linkerd-identity',
    labels: { 'linkerd.io/control-plane-component': 'identity' },
    command: [
      process.execPath,
      BIN,
      'identity',
      ...['--kubeconfig', pair.kubeconfigPath, '--context', c1.context],
      ...issuerFlags(),
      ...['--issuance-lifetime', '1h', '--clock-skew-allowance', '20s', '--log-level', 'debug'],
    ],
    ports: [
      { name: 'grpc', containerPort: 8080 },
      { name: 'admin-http', containerPort: 9990 },
    ],
    readinessPort: 8080,
  });
});

after(async () => {
  if (pod !== undefined) process.stderr.write(`  identity log tail:\n${await pod.process.lastLog(15)}\n`);
  await pair?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('serves TLS 1.3 with its own identity certificate, and is ready', async () => {
  assert.equal((await fetch(`http://${pod.ip}:9990/ready`)).status, 200);
  const peer = await served();
  assert.deepEqual([peer.protocol, peer.san], ['TLSv1.3', `DNS:${SERVER_NAME}`]);
  assert.equal(peer.issuerFp, fingerprint(issuer));
  // A client expecting another name refuses the server, though the chain is trusted.
  const { csrDer } = await createCsr(WEB);
  await refused(
    call({ token: 'x', csrDer, serverName: 'identity.other.serviceaccount.identity.other.cluster.local' }),
    status.UNAVAILABLE,
    /not "identity\.other/,
  );
});

test('a valid token and CSR get a leaf that chains to the anchor, named only by the identity', async () => {
  const before = Date.now();
  const leaf = await issueAndVerify(issuer);
  const name = issued[0] ?? '';
  const text = openssl(['x509', '-in', name, '-noout', '-ext', 'subjectAltName,extendedKeyUsage'], dir).stdout;
  assert.match(text, new RegExp(`X509v3 Subject Alternative Name: ?\\n\\s+DNS:${WEB.replaceAll('.', '\\.')}\\n`));
  assert.doesNotMatch(text, /DNS:.*,|IP Address|URI:|email:/);
  assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  const lifetime = (leaf.notAfter.getTime() - leaf.notBefore.getTime()) / 1000;
  assert.ok(lifetime >= HOUR_S + 39 && lifetime <= HOUR_S + 41, `1h lifetime plus 20s skew on both sides, got ${lifetime}s`);
  assert.ok(leaf.notBefore.getTime() <= before, 'backdated by the skew allowance');
});

test('a token of another ServiceAccount is FailedPrecondition', async () => {
  const { csrDer } = await createCsr(WEB);
  await refused(
    call({ token: await token('voting'), csrDer }),
    status.FAILED_PRECONDITION,
    /^token is for voting\.emojivoto\.serviceaccount\.identity\.linkerd\.cluster\.local \(system:serviceaccount:emojivoto:voting\), CSR asks for web\./,
  );
});

test('CSR problems are InvalidArgument: a mismatched SAN, a P-384 key, garbage', async () => {
  const web = await token('web');
  const { csrDer: other } = await createCsr(`voting.${NS}.serviceaccount.identity.linkerd.cluster.local`);
  await refused(call({ token: web, csrDer: other }), status.INVALID_ARGUMENT, /DNS SAN "voting\.emojivoto.*" does not match/);
  const p384 = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
  const foreign = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [WEB] }],
    keys: p384,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-384' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: WEB }])],
  });
  await refused(call({ token: web, csrDer: new Uint8Array(foreign.rawData) }), status.INVALID_ARGUMENT, /P-384|P-256/);
  await refused(call({ token: web, csrDer: new Uint8Array([0x30, 0x03, 1, 2, 3]) }), status.INVALID_ARGUMENT, /not a DER-encoded PKCS#10/);
  await refused(
    call({ token: web, csrDer: (await createCsr(WEB)).csrDer, identity: 'web.emojivoto.serviceaccount.identity.linkerd.other.org' }),
    status.INVALID_ARGUMENT,
    /trust domain "other\.org"/,
  );
  await refused(call({ token: '', csrDer: (await createCsr(WEB)).csrDer }), status.INVALID_ARGUMENT, /no token/);
});

test('garbage, wrong-audience and deleted-ServiceAccount tokens are FailedPrecondition with the API server error', async () => {
  const { csrDer } = await createCsr(WEB);
  await refused(call({ token: 'not.a.jwt', csrDer }), status.FAILED_PRECONDITION, /rejected the token: .*invalid bearer token/);
  // A token for the API server (its default audience) must not be accepted here.
  const apiToken = await token('web', ['https://kubernetes.default.svc.cluster.local']);
  await refused(call({ token: apiToken, csrDer }), status.FAILED_PRECONDITION, /rejected the token: .*audience/i);
  // A token minted for a ServiceAccount that was then deleted is no longer valid.
  const { csrDer: doomedCsr } = await createCsr(`doomed.${NS}.serviceaccount.identity.linkerd.cluster.local`);
  const doomed = await token('doomed');
  await core.deleteNamespacedServiceAccount({ name: 'doomed', namespace: NS });
  await apiServerRejects(doomed);
  await refused(
    call({ token: doomed, csrDer: doomedCsr, identity: `doomed.${NS}.serviceaccount.identity.linkerd.cluster.local` }),
    status.FAILED_PRECONDITION,
    /rejected the token: .*(doomed|deleted|not found|invalidated)/i,
  );
});

test('a token bound to a deleted object (invalidated before it expires) is FailedPrecondition', async () => {
  // TokenRequest tokens live at least 10 minutes; deleting the object a token is bound to ends it early, as pod deletion does.
  const secret = await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'web-binding' } } });
  const tr = await core.createNamespacedServiceAccountToken({
    name: 'web',
    namespace: NS,
    body: {
      spec: {
        audiences: [IDENTITY_TOKEN_AUDIENCE],
        expirationSeconds: 600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: 'web-binding', uid: secret.metadata?.uid },
      },
    },
  });
  const bound = tr.status?.token ?? '';
  const { csrDer } = await createCsr(WEB);
  await issueAndVerify(issuer, bound);
  await core.deleteNamespacedSecret({ name: 'web-binding', namespace: NS });
  await apiServerRejects(bound);
  await refused(call({ token: bound, csrDer }), status.FAILED_PRECONDITION, /rejected the token: .*(not found|invalidated)/i);
});

test('metrics count issued certificates and refusals by reason', async () => {
  assert.equal(await metric('identity_certificates_issued_total'), issued.length);
  assert.equal(await metric('identity_certify_refusals_total{reason="identity_mismatch"}'), 1);
  assert.equal(await metric('identity_certify_refusals_total{reason="invalid_csr"}'), 3);
  assert.equal(await metric('identity_certify_refusals_total{reason="invalid_identity"}'), 1);
  assert.equal(await metric('identity_certify_refusals_total{reason="missing_field"}'), 1);
  assert.equal(await metric('identity_certify_refusals_total{reason="not_authenticated"}'), 4);
  assert.equal(await metric('identity_issuer_expiry_timestamp_seconds'), issuer.cert.notAfter.getTime() / 1000);
});

test('issuer rotation: bad files are refused and the old issuer kept; good ones are picked up', async () => {
  const next = await createIdentityIssuer(anchor);
  // The new certificate with the old key: refused, still signing with the old issuer.
  await writeIssuer({ certPem: next.certPem, keyPem: issuer.keyPem });
  await waitFor(
    'the mismatched issuer files to be refused',
    async () => ((await metric('identity_issuer_reloads_total{result="rejected"}')) >= 1 ? true : undefined),
    { timeoutMs: 20_000 },
  );
  await issueAndVerify(issuer);
  assert.match(await pod.process.lastLog(50), /refused the changed issuer files.*does not match the certificate/);

  await writeIssuer(next);
  await waitFor(
    'the new issuer to be applied',
    async () => ((await metric('identity_issuer_reloads_total{result="applied"}')) >= 1 ? true : undefined),
    { timeoutMs: 20_000 },
  );
  await issueAndVerify(next);
  assert.equal(await metric('identity_issuer_expiry_timestamp_seconds'), next.cert.notAfter.getTime() / 1000);
  // The serving certificate is re-issued from the new issuer too.
  await waitFor('the serving certificate from the new issuer', async () => ((await served()).issuerFp === fingerprint(next) ? true : undefined), {
    timeoutMs: 10_000,
  });
});

test('a TokenReview the API server refuses (no RBAC for tokenreviews) is Unavailable', async () => {
  await core.createNamespacedServiceAccount({ namespace: 'linkerd', body: { metadata: { name: 'powerless' } } });
  const tr = await core.createNamespacedServiceAccountToken({
    name: 'powerless',
    namespace: 'linkerd',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = pair.cluster1.kubeConfig.getCurrentCluster();
  assert.ok(cluster);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c1', server: cluster.server, caData: cluster.caData, skipTLSVerify: false }],
    users: [{ name: 'powerless', token: tr.status?.token }],
    contexts: [{ name: 'powerless', cluster: 'c1', user: 'powerless' }],
    currentContext: 'powerless',
  });
  await writeFile(join(dir, 'powerless.kubeconfig'), kc.exportConfig(), { mode: 0o600 });
  const weak = await pair.cluster1.pods.start({
    namespace: 'linkerd',
    name: 'linkerd-identity-powerless',
    serviceAccountName: 'powerless',
    command: [process.execPath, BIN, 'identity', '--kubeconfig', join(dir, 'powerless.kubeconfig'), ...issuerFlags()],
    readinessPort: 8080,
  });
  try {
    await refused(
      certify({
        addr: `${weak.ip}:8080`,
        serverName: SERVER_NAME,
        trustAnchorsPem: anchor.certPem,
        identity: WEB,
        token: await token('web'),
        csrDer: (await createCsr(WEB)).csrDer,
      }),
      status.UNAVAILABLE,
      /TokenReview API failed \(.*forbidden.*HTTP 403\).*system:auth-delegator/,
    );
  } finally {
    await weak.delete();
  }
});

test('SIGTERM shuts down cleanly (exit 0)', async () => {
  await pod.process.stop(10_000);
  assert.equal(pod.process.exitCode, 0);
  assert.match(await pod.process.lastLog(5), /"msg":"shutting down".*"signal":"SIGTERM"/);
});

test('an issuer that does not chain to the trust anchors is a usage error at start', async () => {
  const stranger = await createIdentityIssuer(await createTrustAnchor({ commonName: 'stranger' }));
  await writeFile(join(dir, 'stranger.crt'), stranger.certPem);
  await writeFile(join(dir, 'stranger.key'), stranger.keyPem);
  await assert.rejects(
    cli([
      'identity',
      '--kubeconfig',
      pair.kubeconfigPath,
      '--listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      ...issuerFlags('stranger.crt', 'stranger.key'),
    ]),
    (e: unknown) => {
      assert.match(String(e), /exit 2/);
      assert.match(String(e), /does not chain to any of the 1 trust anchor/);
      return true;
    },
  );
});
