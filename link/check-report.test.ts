import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCheckJson, formatCheckTable, type CheckResult } from './check-report.ts';
import { formatGatewaysJson, formatGatewaysTable, formatLatency, type GatewayRow } from './gateways.ts';

const RESULTS: CheckResult[] = [
  { id: 'link-crd', description: 'Link CRD exists and serves v1alpha3', status: 'ok' },
  { id: 'controller', description: 'a service-mirror controller runs', link: 'east', status: 'ok', detail: 'held by mirror-a' },
  {
    id: 'trust-anchors',
    description: 'clusters share a trust anchor',
    link: 'east',
    status: 'fail',
    message: 'no anchor\nin common',
    hint: 'reinstall',
  },
  {
    id: 'orphan-mirrors',
    description: 'no orphan mirror Services',
    status: 'warn',
    message: '1 mirror Services belong to clusters no Link targets (west): web/a-west',
    hint: 'unlink west',
  },
];

describe('check table', () => {
  it('prints one line per check with its symbol, reason and hint, then a summary', () => {
    assert.equal(
      formatCheckTable(RESULTS),
      [
        'linkerd-multicluster',
        '--------------------',
        '√ Link CRD exists and serves v1alpha3',
        '√ a service-mirror controller runs [east] (held by mirror-a)',
        '× clusters share a trust anchor [east]: no anchor in common; hint: reinstall',
        '‼ no orphan mirror Services: 1 mirror Services belong to clusters no Link targets (west): web/a-west; hint: unlink west',
        '',
        'Status check results are × (2 passed, 1 failed, 1 warnings)',
        '',
      ].join('\n'),
    );
  });
  it('passes when only warnings remain', () => {
    assert.match(formatCheckTable([RESULTS[0]!, RESULTS[3]!]), /Status check results are √ \(1 passed, 0 failed, 1 warnings\)\n$/);
  });
});

describe('check json', () => {
  it("keeps upstream's shape and adds ids and Links", () => {
    const parsed = JSON.parse(formatCheckJson(RESULTS)) as {
      success: boolean;
      categories: Array<{ categoryName: string; checks: Array<Record<string, unknown>> }>;
    };
    assert.equal(parsed.success, false);
    assert.equal(parsed.categories[0]?.categoryName, 'linkerd-multicluster');
    assert.deepEqual(
      parsed.categories[0]?.checks.map((c) => [c.id, c.link, c.result]),
      [
        ['link-crd', undefined, 'success'],
        ['controller', 'east', 'success'],
        ['trust-anchors', 'east', 'error'],
        ['orphan-mirrors', undefined, 'warning'],
      ],
    );
    assert.deepEqual(parsed.categories[0]?.checks[2], {
      id: 'trust-anchors',
      description: 'clusters share a trust anchor',
      link: 'east',
      result: 'error',
      error: 'no anchor\nin common',
      hint: 'reinstall',
    });
  });
});

describe('gateways table', () => {
  const row = (patch: Partial<GatewayRow>): GatewayRow => ({
    cluster: 'c',
    link: 'c',
    gateway: true,
    alive: true,
    numServices: 1,
    latencyMs: undefined,
    source: 'metrics',
    ...patch,
  });
  it('aligns columns and shows what is unknown as - or Unknown', () => {
    const rows = [
      row({ cluster: 'cluster2', numServices: 12, latencyMs: { p50: 2.75, p95: 8.75, p99: 250.4 } }),
      row({ cluster: 'east', alive: false, numServices: 0, source: 'cluster' }),
      row({ cluster: 'flat', gateway: false, alive: undefined, numServices: 3, source: 'cluster' }),
      row({ cluster: 'new', alive: undefined, numServices: undefined }),
    ];
    assert.equal(
      formatGatewaysTable(rows),
      [
        'CLUSTER   ALIVE    NUM_SVC  LATENCY',
        'cluster2  True     12       p50=2.8ms p95=8.8ms p99=250ms',
        'east      False    0        -',
        'flat      -        3        -',
        'new       Unknown  -        -',
        '',
      ].join('\n'),
    );
    assert.equal(formatGatewaysTable([]), 'CLUSTER  ALIVE  NUM_SVC  LATENCY\n');
  });
  it('formats latency and json', () => {
    assert.equal(formatLatency({ p50: 1, p95: 100, p99: 1999.6 }), 'p50=1ms p95=100ms p99=2000ms');
    const json = JSON.parse(formatGatewaysJson([row({ cluster: 'east', alive: undefined, latencyMs: { p50: 1, p95: 2, p99: 3 } })])) as unknown;
    assert.deepEqual(json, [
      { clusterName: 'east', link: 'c', gateway: true, alive: null, numberOfServices: 1, latencyMs: { p50: 1, p95: 2, p99: 3 }, source: 'metrics' },
    ]);
  });
});
