import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidLinkError, linkGatewayAddresses, linkGatewayPort, linkProbe, parseLink } from './link-parse.ts';
import { fullLink } from '../link/test-fixtures.ts';

function withSpec(patch: Record<string, unknown>): Record<string, unknown> {
  const link = fullLink();
  link.spec = { ...(link.spec as Record<string, unknown>), ...patch };
  return link;
}

function problemsOf(obj: unknown): string[] {
  try {
    parseLink(obj);
  } catch (err) {
    assert.ok(err instanceof InvalidLinkError);
    return [...err.problems];
  }
  assert.fail('expected InvalidLinkError');
}

describe('parseLink', () => {
  it('accepts a full v1alpha3 Link unchanged', () => {
    const link = parseLink(fullLink());
    assert.deepEqual(JSON.parse(JSON.stringify(link)), fullLink());
  });

  it('accepts older versions and applies probe defaults', () => {
    const link = parseLink({
      apiVersion: 'multicluster.linkerd.io/v1alpha1',
      kind: 'Link',
      metadata: { name: 'old' },
      spec: { targetClusterName: 'old', clusterCredentialsSecret: 'c', probeSpec: { path: '/ready', port: '4191', period: '3' } },
    });
    assert.equal(link.spec.probeSpec?.timeout, '30s');
    assert.equal(link.spec.probeSpec?.failureThreshold, '3');
    assert.deepEqual(linkProbe(link), { path: '/ready', port: 4191, periodMs: 3000, timeoutMs: 30_000, failureThreshold: 3 });
  });

  it('keeps a nil selector nil (pod-to-pod links)', () => {
    const link = withSpec({ selector: undefined, gatewayAddress: undefined, probeSpec: undefined });
    const parsed = parseLink(link);
    assert.equal(parsed.spec.selector, undefined);
    assert.equal(linkProbe(parsed), undefined);
    assert.deepEqual(linkGatewayAddresses(parsed), []);
  });

  it('exposes gateway addresses and port', () => {
    const link = parseLink(fullLink());
    assert.deepEqual(linkGatewayAddresses(link), ['10.0.0.1', 'gw.example.com']);
    assert.equal(linkGatewayPort(link), 4143);
  });

  it('reports an invalid selector with its path', () => {
    const problems = problemsOf(withSpec({ selector: { matchExpressions: [{ key: 'a', operator: 'Equals' }] } }));
    assert.deepEqual(problems, ['spec.selector: matchExpressions[0]: operator must be one of In, NotIn, Exists, DoesNotExist']);
  });

  it('reports bad probe durations, ports and thresholds together', () => {
    const problems = problemsOf(withSpec({ probeSpec: { path: 'ready', port: '99999', period: 'soon', timeout: '-1s', failureThreshold: '0' } }));
    assert.deepEqual(problems, [
      'spec.probeSpec.port "99999" must be a port number (1-65535)',
      'spec.probeSpec.period "soon" is not a duration (e.g. "3s")',
      'spec.probeSpec.timeout "-1s" is not a positive duration (e.g. "30s")',
      'spec.probeSpec.failureThreshold "0" must be a positive integer',
      'spec.probeSpec.path "ready" must start with "/"',
    ]);
  });

  it('reports wrong kinds, versions, types and missing fields', () => {
    const problems = problemsOf({
      apiVersion: 'multicluster.linkerd.io/v9',
      kind: 'Lnk',
      metadata: { name: 'x' },
      spec: { gatewayPort: 4143, excludedLabels: 'a' },
    });
    assert.deepEqual(problems, [
      'apiVersion must be one of multicluster.linkerd.io/v1alpha1, multicluster.linkerd.io/v1alpha2, multicluster.linkerd.io/v1alpha3, got "multicluster.linkerd.io/v9"',
      'kind must be Link, got "Lnk"',
      'spec.gatewayPort must be a string',
      'spec.targetClusterName is required',
      'spec.clusterCredentialsSecret is required',
      'spec.excludedLabels must be a list of non-empty strings',
    ]);
  });

  it('rejects a target cluster name that is not a DNS label', () => {
    assert.match(problemsOf(withSpec({ targetClusterName: 'East_1' })).join(), /must be a DNS-1123 label/);
  });

  it('names the Link in the message', () => {
    assert.throws(
      () => parseLink(withSpec({ gatewayPort: 'x' })),
      /^InvalidLinkError: invalid Link linkerd-multicluster\/east: spec.gatewayPort "x"/,
    );
  });

  it('rejects non-objects', () => {
    assert.throws(() => parseLink('nope'), InvalidLinkError);
    assert.throws(() => parseLink(null), InvalidLinkError);
  });

  it('reports malformed status entries', () => {
    const link = fullLink();
    link.status = { mirrorServices: [{ controllerName: 'x' }] };
    assert.deepEqual(problemsOf(link), ['status.mirrorServices[0] needs controllerName and remoteRef']);
  });
});
