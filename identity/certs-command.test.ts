// End to end: the real `multicluster` binary, its files checked by openssl.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { createIdentityIssuer } from './issuer.ts';
import { assertOpensslVerifies, openssl } from './openssl-test-util.ts';
import { createSelfSignedCa } from './x509.ts';

const BIN = fileURLToPath(new URL('../bin/multicluster.js', import.meta.url));
const DAY = 24 * 3600_000;
const ID = 'web.emojivoto.serviceaccount.identity.linkerd.cluster.local';

const root = mkdtempSync(join(tmpdir(), 'certs-command-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'certs', ...args], (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(...args: string[]): Promise<string> {
  const r = await cli(...args);
  assert.equal(r.code, 0, `certs ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Runs a command that must fail with a usage error matching `why`, leaving `out` without new files. */
async function refused(out: string, why: RegExp, ...args: string[]): Promise<void> {
  const before = existsSync(out) ? readdirSync(out).sort() : [];
  const r = await cli(...args, '--out', out);
  assert.equal(r.code, 2, `expected exit 2 for certs ${args.join(' ')}; got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, /^Error: /);
  assert.match(r.stderr, why);
  const afterFiles = existsSync(out) ? readdirSync(out).sort() : [];
  assert.deepEqual(afterFiles, before, 'no partial files');
}

test('anchor, issuer and leaf chain verifies with openssl', async () => {
  const out = join(root, 'pki', 'nested');
  const anchorOut = await ok('anchor', '--out', out);
  assert.match(anchorOut, /wrote .*ca\.crt\n.*wrote .*ca\.key\ntrust anchor: CN=root\.linkerd\.cluster\.local/);
  await ok('issuer', '--ca-cert', join(out, 'ca.crt'), '--ca-key', join(out, 'ca.key'), '--lifetime', '4380h', '--out', out);
  await ok(
    'leaf',
    '--ca-cert',
    join(out, 'issuer.crt'),
    '--ca-key',
    join(out, 'issuer.key'),
    '--service-account',
    'web',
    '--namespace',
    'emojivoto',
    '--lifetime',
    '90m',
    '--clock-skew',
    '0s',
    '--out',
    out,
  );
  assert.deepEqual(readdirSync(out).sort(), ['ca.crt', 'ca.key', 'issuer.crt', 'issuer.key', 'tls.crt', 'tls.key']);
  for (const key of ['ca.key', 'issuer.key', 'tls.key']) {
    assert.equal(statSync(join(out, key)).mode & 0o777, 0o600, key);
    assert.match(readFileSync(join(out, key), 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/);
  }
  assertOpensslVerifies(out, 'ca.crt', 'issuer.crt', 'tls.crt');

  const issuerText = openssl(['x509', '-in', join(out, 'issuer.crt'), '-noout', '-subject', '-ext', 'basicConstraints,subjectAltName']).stdout;
  assert.match(issuerText, /subject=CN ?= ?identity\.linkerd\.cluster\.local/);
  assert.match(issuerText, /CA:TRUE, pathlen:0/);
  assert.match(issuerText, /DNS:identity\.linkerd\.cluster\.local/);
  const leafText = openssl(['x509', '-in', join(out, 'tls.crt'), '-noout', '-subject', '-startdate', '-enddate', '-ext', 'subjectAltName']).stdout;
  assert.match(leafText, new RegExp(`subject=CN ?= ?${ID.replaceAll('.', '\\.')}`));
  assert.match(leafText, new RegExp(`^ *DNS:${ID.replaceAll('.', '\\.')}$`, 'm'));
  const start = Date.parse(/notBefore=(.*)/.exec(leafText)?.[1] ?? '');
  const end = Date.parse(/notAfter=(.*)/.exec(leafText)?.[1] ?? '');
  assert.equal(end - start, 90 * 60_000);

  // Issuing again into the same directory does not clobber the existing files...
  await refused(
    out,
    /refusing to overwrite .*tls\.crt.*--force/,
    'leaf',
    '--ca-cert',
    join(out, 'issuer.crt'),
    '--ca-key',
    join(out, 'issuer.key'),
    '--identity',
    ID,
  );
  // ...unless asked to.
  await ok('leaf', '--ca-cert', join(out, 'issuer.crt'), '--ca-key', join(out, 'issuer.key'), '--identity', ID, '--out', out, '--force');
  assertOpensslVerifies(out, 'ca.crt', 'issuer.crt', 'tls.crt');
});

test('bad input is refused with a clear message, exit 2 and no files', async () => {
  const pki = join(root, 'inputs');
  await ok('anchor', '--out', pki, '--common-name', 'root.test');
  await ok('issuer', '--ca-cert', join(pki, 'ca.crt'), '--ca-key', join(pki, 'ca.key'), '--out', pki);
  await ok('leaf', '--ca-cert', join(pki, 'issuer.crt'), '--ca-key', join(pki, 'issuer.key'), '--identity', ID, '--out', pki);
  writeFileSync(join(pki, 'garbage.pem'), 'this is not PEM\n');

  // An expired issuer under a (also expired) anchor.
  const oldAnchor = await createSelfSignedCa({ commonName: 'old', notBefore: new Date(Date.now() - 10 * DAY), lifetimeMs: 5 * DAY });
  const oldIssuer = await createIdentityIssuer(oldAnchor, { now: new Date(Date.now() - 9 * DAY), lifetimeMs: DAY });
  writeFileSync(join(pki, 'old-issuer.crt'), oldIssuer.certPem);
  writeFileSync(join(pki, 'old-issuer.key'), oldIssuer.keyPem);

  const out = join(root, 'refused');
  const leafFrom = (crt: string, key: string, ...rest: string[]) => ['leaf', '--ca-cert', join(pki, crt), '--ca-key', join(pki, key), ...rest];

  await refused(out, /invalid identity "Web\.emojivoto.*uppercase/, ...leafFrom('issuer.crt', 'issuer.key', '--identity', ID.replace('web', 'Web')));
  await refused(
    out,
    /invalid service account "web_1": it is not a DNS-1123 label/,
    ...leafFrom('issuer.crt', 'issuer.key', '--service-account', 'web_1', '--namespace', 'ns'),
  );
  await refused(out, /missing workload: pass --service-account and --namespace/, ...leafFrom('issuer.crt', 'issuer.key', '--service-account', 'web'));
  await refused(out, /"CN=web\.emojivoto.*" is not a CA/, ...leafFrom('tls.crt', 'tls.key', '--identity', ID));
  await refused(
    out,
    /"CN=identity\.linkerd\.cluster\.local" has pathlen 0, so it may only sign end-entity certificates/,
    'issuer',
    '--ca-cert',
    join(pki, 'issuer.crt'),
    '--ca-key',
    join(pki, 'issuer.key'),
  );
  await refused(
    out,
    /identity issuer certificate "CN=identity\.linkerd\.cluster\.local" expired at/,
    ...leafFrom('old-issuer.crt', 'old-issuer.key', '--identity', ID),
  );
  await refused(
    out,
    /private key does not match the certificate "CN=identity\.linkerd\.cluster\.local"/,
    ...leafFrom('issuer.crt', 'ca.key', '--identity', ID),
  );
  await refused(out, /no PEM "CERTIFICATE" block found/, ...leafFrom('garbage.pem', 'issuer.key', '--identity', ID));
  await refused(out, /private key is not a readable, unencrypted PEM key/, ...leafFrom('issuer.crt', 'garbage.pem', '--identity', ID));
  await refused(out, /cannot read --ca-cert file ".*missing\.crt" \(ENOENT\)/, ...leafFrom('missing.crt', 'issuer.key', '--identity', ID));
  await refused(out, /--lifetime: invalid duration "1d"/, ...leafFrom('issuer.crt', 'issuer.key', '--identity', ID, '--lifetime', '1d'));
  await refused(out, /--lifetime must be greater than zero/, 'anchor', '--lifetime', '0s');
  await refused(
    out,
    /invalid trust domain "cluster\.local\."/,
    'issuer',
    '--ca-cert',
    join(pki, 'ca.crt'),
    '--ca-key',
    join(pki, 'ca.key'),
    '--trust-domain',
    'cluster.local.',
  );
  assert.equal(existsSync(out), false, 'failed commands create no output directory');
});
