import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_IMAGE } from '../link/version.ts';
import {
  ContainerConfigError,
  NotRunnableError,
  containerArgv,
  expandVars,
  isProjectImage,
  resolveEnv,
  unrunnableReason,
  type DataLookup,
} from './container-spec.ts';

const pod = (containers: V1Container[]): V1Pod => ({
  metadata: { name: 'web-1', namespace: 'apps', uid: 'u-1', labels: { app: 'web' } },
  spec: { containers, serviceAccountName: 'web', nodeName: 'cluster1-node' },
  status: { podIP: '10.23.1.2' },
});

const data: DataLookup = {
  secret: (_ns, name) => Promise.resolve(name === 's' ? { token: 'secret-value' } : undefined),
  configMap: (_ns, name) => Promise.resolve(name === 'c' ? { mode: 'fast', other: 'x' } : undefined),
};

describe('container spec', () => {
  it('recognises the project image under any tag or digest, and nothing else', () => {
    assert.equal(isProjectImage(DEFAULT_IMAGE), true);
    assert.equal(isProjectImage('ghcr.io/linkerd-multicluster-ts/multicluster:dev'), true);
    assert.equal(isProjectImage('ghcr.io/linkerd-multicluster-ts/multicluster@sha256:abc'), true);
    assert.equal(isProjectImage('ghcr.io/linkerd-multicluster-ts/multicluster-other:1'), false);
    assert.equal(isProjectImage('nginx:1.27'), false);
    assert.equal(isProjectImage('nginx:1.27', ['nginx:1.27']), true);
  });

  it('maps args and an entrypoint command to multicluster arguments, expanding $(VAR)', () => {
    const env = { POD_NAME: 'web-1' };
    assert.deepEqual(containerArgv({ name: 'a', args: ['mirror', '--identity', '$(POD_NAME)'] }, env), ['mirror', '--identity', 'web-1']);
    assert.deepEqual(containerArgv({ name: 'a', command: ['/usr/local/bin/multicluster', 'gateway'], args: ['--x'] }, env), ['gateway', '--x']);
    assert.throws(() => containerArgv({ name: 'a', command: ['sh', '-c', 'x'] }, env), NotRunnableError);
  });

  it('expands $(VAR) as Kubernetes does', () => {
    assert.equal(expandVars('a-$(X)-$$(X)-$(MISSING)', { X: '1' }), 'a-1-$(X)-$(MISSING)');
  });

  it('says why a pod cannot run', () => {
    assert.match(unrunnableReason(pod([{ name: 'web', image: 'nginx:1.27' }])) ?? '', /container "web" uses image "nginx:1\.27"/);
    assert.match(unrunnableReason(pod([{ name: 'a', image: DEFAULT_IMAGE, command: ['bash'] }])) ?? '', /runs "bash"/);
    assert.equal(unrunnableReason(pod([{ name: 'a', image: DEFAULT_IMAGE, args: ['mirror'] }])), undefined);
  });

  it('resolves env from values, fields, Secrets and ConfigMaps in order', async () => {
    const c: V1Container = {
      name: 'a',
      image: DEFAULT_IMAGE,
      envFrom: [{ configMapRef: { name: 'c' }, prefix: 'CM_' }],
      env: [
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'SA', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'c', key: 'mode' } } },
        { name: 'OPT', valueFrom: { secretKeyRef: { name: 'missing', key: 'k', optional: true } } },
        { name: 'GREETING', value: 'hi $(NAME)' },
      ],
    };
    const env = await resolveEnv(pod([c]), c, data, { BASE: 'b' });
    assert.deepEqual(env, {
      BASE: 'b',
      CM_mode: 'fast',
      CM_other: 'x',
      NAME: 'web-1',
      IP: '10.23.1.2',
      APP: 'web',
      SA: 'web',
      TOKEN: 'secret-value',
      MODE: 'fast',
      GREETING: 'hi web-1',
    });
  });

  it('reports a missing key as a retryable config error', async () => {
    const c: V1Container = { name: 'a', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'nope' } } }] };
    await assert.rejects(resolveEnv(pod([c]), c, data, {}), ContainerConfigError);
  });
});
