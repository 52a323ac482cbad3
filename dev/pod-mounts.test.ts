import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotRunnableError } from './container-spec.ts';
import { mountScript, shellQuote, type VolumeMountPlan } from './pod-mounts.ts';

const hostPaths = new Set(['/', '/tmp', '/etc', '/var', '/var/run', '/run']);
const exists = (p: string) => hostPaths.has(p);
const script = (mounts: VolumeMountPlan[]) => mountScript({ mounts, scratch: '/state/pod/main.mnt', hostname: 'web-1', exists });
const vol = (target: string, source: string, writable = false): VolumeMountPlan => ({ target, source, readOnly: !writable, writable });

describe('pod mount script', () => {
  it('binds every source before any mount can hide it, then mounts parents before children', () => {
    const s = script([vol('/tmp/cache', '/state/v/cache'), vol('/tmp', '/state/v/tmp', true)]).split('\n');
    const lastSourceBind = s.findLastIndex((l) => l.startsWith('mount --bind '));
    const firstTarget = s.findIndex((l) => l.startsWith('mount --no-canonicalize'));
    assert.ok(lastSourceBind < firstTarget);
    assert.ok(s.indexOf("mount --no-canonicalize --bind v0 '/tmp'") < s.indexOf("mount --no-canonicalize --bind v1 '/tmp/cache'"));
    assert.ok(s.includes("mount -o remount,bind,ro '/tmp/cache'"));
    assert.ok(!s.includes("mount -o remount,bind,ro '/tmp'"), 'an emptyDir stays writable');
    assert.equal(s.at(-1), 'exec "$@"');
  });

  it('overlays the nearest existing ancestor of a missing mount path, once', () => {
    const s = script([vol('/var/run/secrets/kubernetes.io/serviceaccount', '/state/v/sa'), vol('/var/run/secrets/tokens', '/state/v/tok')]);
    const overlays = s.split('\n').filter((l) => l.includes('-t overlay'));
    assert.deepEqual(overlays, ["mount -t overlay overlay -o lowerdir='/var/run',upperdir=o0,workdir=w0 '/var/run'"]);
  });

  it('refuses paths it cannot create without touching the host', () => {
    assert.throws(() => script([vol('/nonexistent/x', '/s')]), NotRunnableError);
    assert.throws(() => script([vol('/etc/conf', '/a'), vol('/etc/conf/deeper', '/b')]), /inside the read-only volume/);
    assert.throws(() => script([vol('relative', '/a')]), /not absolute/);
  });

  it('binds a checkout hidden by a volume back at its own path, after the volumes', () => {
    const keep = (keepVisible: string[]) =>
      mountScript({ mounts: [vol('/tmp', '/state/v/tmp', true)], scratch: '/state/pod/main.mnt', hostname: 'web-1', exists, keepVisible }).split(
        '\n',
      );
    const s = keep(['/tmp/ci', '/work/main']);
    assert.ok(s.includes("mount --bind '/tmp/ci' k0"), 'the checkout is bound into scratch before /tmp is covered');
    const back = s.indexOf("mount --bind k0 '/tmp/ci'");
    assert.ok(back > s.indexOf("mount --no-canonicalize --bind v0 '/tmp'"), 'and bound back on top of the emptyDir');
    assert.ok(!s.some((l) => l.includes('/work/main')), 'a checkout no volume covers is left alone');
  });

  it('quotes for the shell', () => {
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
  });
});
