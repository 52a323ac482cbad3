// Golden files for everything the CLI renders. Regenerate with UPDATE_GOLDEN=1 and review the diff by eye.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { installValuesFromFlags } from './command.ts';
import { renderInstall } from './install.ts';
import { renderLinkManifests } from './link-render.ts';
import type { Manifest } from './manifest.ts';
import { renderManifests } from './manifest.ts';
import { renderAllow } from './remote-access.ts';
import { gatewayLinkInput } from './test-fixtures.ts';
import { renderUnlink } from './unlink.ts';

function golden(name: string, actual: string): void {
  const path = new URL(`./testdata/${name}.golden`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  const expected = readFileSync(path, 'utf8');
  assert.equal(actual, expected, `${name}.golden differs; rerun with UPDATE_GOLDEN=1 if the change is intended`);
}

/** Every document must be something kubectl can apply: apiVersion, kind, metadata.name. */
function assertApplyable(yaml: string): void {
  const docs = parseAllDocuments(yaml);
  assert.ok(docs.length > 0);
  const seen = new Set<string>();
  for (const doc of docs) {
    assert.deepEqual(doc.errors, []);
    const o = doc.toJS() as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
    assert.equal(typeof o.apiVersion, 'string');
    assert.match(String(o.apiVersion), /^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
    assert.match(String(o.kind), /^[A-Z][A-Za-z]+$/);
    assert.equal(typeof o.metadata?.name, 'string');
    const key = `${String(o.apiVersion)}/${String(o.kind)}/${typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : ''}/${String(o.metadata?.name)}`;
    assert.equal(seen.has(key), false, `duplicate object ${key}`);
    seen.add(key);
  }
}

function check(name: string, objects: Manifest[]): void {
  const yaml = renderManifests(objects, 'yaml');
  assertApplyable(yaml);
  golden(name, yaml);
  const list = JSON.parse(renderManifests(objects, 'json')) as { kind: string; items: unknown[] };
  assert.equal(list.kind, 'List');
  assert.deepEqual(
    list.items,
    parseAllDocuments(yaml).map((d) => d.toJS() as unknown),
  );
}

const installFlags = { gateway: true, set: [], controllers: [], output: 'yaml' };

describe('golden manifests', () => {
  it('install (defaults)', () => {
    check('install_default', renderInstall(installValuesFromFlags(installFlags)));
  });

  it('install --control-plane (identity and destination for a cluster without Linkerd)', () => {
    const pki = (f: string) => fileURLToPath(new URL(`./testdata/pki/${f}`, import.meta.url));
    const values = installValuesFromFlags({
      ...installFlags,
      controlPlane: true,
      identityTrustAnchorsFile: pki('ca.crt'),
      identityIssuerCertificateFile: pki('issuer.crt'),
      identityIssuerKeyFile: pki('issuer.key'),
    });
    check('install_control_plane', renderInstall(values));
  });

  it('install --control-plane names each missing PKI file', () => {
    assert.throws(
      () =>
        installValuesFromFlags({
          ...installFlags,
          controlPlane: true,
          identityTrustAnchorsFile: fileURLToPath(new URL('./testdata/pki/ca.crt', import.meta.url)),
        }),
      /--control-plane needs --identity-issuer-certificate-file, --identity-issuer-key-file/,
    );
    assert.throws(() => installValuesFromFlags({ ...installFlags, identityIssuerKeyFile: 'x' }), /--identity-issuer-\*-file go with --control-plane/);
  });

  it('install --gateway=false', () => {
    check('install_no_gateway', renderInstall(installValuesFromFlags({ ...installFlags, gateway: false })));
  });

  it('install with managed controllers and overrides', () => {
    const values = installValuesFromFlags({
      ...installFlags,
      gatewayServiceType: 'NodePort',
      controllers: ['east'],
      image: 'example.com/multicluster:test',
      imagePullPolicy: 'Never',
      set: [
        'gateway.port=5143,gateway.nodePort=30143,gateway.probe.port=5191,gateway.probe.path=/health,gateway.probe.seconds=5',
        'identityTrustDomain=example.org',
        'enableNamespaceCreation=true',
        'controllers[0].link.ref.name=west',
        'controllers[0].enableHeadlessServices=true',
        'controllers[1].link.ref.name=flat',
        'controllers[1].gateway.enabled=false',
      ],
    });
    check('install_controllers', renderInstall(values));
  });

  it('allow', () => {
    check('allow', renderAllow({ serviceAccountName: 'remote-reader', namespace: 'linkerd-multicluster' }));
  });

  it('link (gateway mode)', () => {
    check('link_gateway', renderLinkManifests(gatewayLinkInput()));
  });

  it('link --gateway=false (pod-to-pod), controller managed elsewhere', () => {
    check('link_pod_to_pod', renderLinkManifests({ ...gatewayLinkInput(), gateway: undefined, controller: undefined }));
  });

  it('unlink', () => {
    check(
      'unlink',
      renderUnlink({
        clusterName: 'east',
        namespace: 'linkerd-multicluster',
        onlyController: false,
        mirrors: [
          { name: 'web-east', namespace: 'emojivoto' },
          { name: 'api-east', namespace: 'app' },
        ],
        clusterSecrets: [
          { name: 'cluster-credentials-east', namespace: 'linkerd' },
          { name: 'cluster-credentials-east', namespace: 'linkerd-multicluster' },
        ],
      }),
    );
  });

  it('unlink --only-controller', () => {
    check(
      'unlink_only_controller',
      renderUnlink({ clusterName: 'east', namespace: 'linkerd-multicluster', onlyController: true, mirrors: [], clusterSecrets: [] }),
    );
  });

  it('link output is identical between runs and embeds a one-cluster kubeconfig', () => {
    const a = renderManifests(renderLinkManifests(gatewayLinkInput()), 'yaml');
    const b = renderManifests(renderLinkManifests(gatewayLinkInput()), 'yaml');
    assert.equal(a, b);
    const secret = parseAllDocuments(a)[0]?.toJS() as { data: { kubeconfig: string } };
    const kubeconfig = parseYaml(Buffer.from(secret.data.kubeconfig, 'base64').toString('utf8')) as Record<string, unknown[]>;
    assert.equal(kubeconfig.clusters?.length, 1);
    assert.equal(kubeconfig.users?.length, 1);
    assert.deepEqual(kubeconfig.users?.[0], { name: 'linkerd-service-mirror-remote-access-default', user: { token: 'fixed-test-token' } });
  });
});
