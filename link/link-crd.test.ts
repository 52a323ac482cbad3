import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JsonSchema } from './link-crd.ts';
import { linkCrd, linkSchema } from './link-crd.ts';
import { parseLink } from '../model/link-parse.ts';
import { LINK_VERSIONS } from '../model/link-types.ts';
import { fullLink } from './test-fixtures.ts';

/**
 * The part of the apiserver's structural-schema handling that matters here: type and
 * enum/pattern/length checks, defaulting, and pruning of fields the schema does not know.
 */
function admit(schema: JsonSchema, value: unknown, path = ''): { value: unknown; errors: string[]; pruned: string[] } {
  const errors: string[] = [];
  const pruned: string[] = [];
  const walk = (s: JsonSchema, v: unknown, at: string): unknown => {
    switch (s.type) {
      case 'object': {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) {
          errors.push(`${at}: expected object`);
          return v;
        }
        const src = v as Record<string, unknown>;
        const out: Record<string, unknown> = {};
        for (const [k, child] of Object.entries(src)) {
          const prop = s.properties?.[k] ?? s.additionalProperties;
          if (!prop) {
            pruned.push(`${at}.${k}`);
            continue;
          }
          out[k] = walk(prop, child, `${at}.${k}`);
        }
        for (const [k, prop] of Object.entries(s.properties ?? {})) {
          if (!(k in out) && prop.default !== undefined) out[k] = prop.default;
        }
        for (const r of s.required ?? []) if (!(r in out)) errors.push(`${at}.${r}: required`);
        return out;
      }
      case 'array':
        if (!Array.isArray(v)) {
          errors.push(`${at}: expected array`);
          return v;
        }
        return (v as unknown[]).map((e, i) => (s.items ? walk(s.items, e, `${at}[${i}]`) : e));
      case 'string':
        if (typeof v !== 'string') {
          errors.push(`${at}: expected string`);
          return v;
        }
        if (s.enum && !s.enum.includes(v)) errors.push(`${at}: not in enum`);
        if (s.pattern && !new RegExp(s.pattern).test(v)) errors.push(`${at}: does not match ${s.pattern}`);
        if (s.minLength !== undefined && v.length < s.minLength) errors.push(`${at}: too short`);
        if (s.maxLength !== undefined && v.length > s.maxLength) errors.push(`${at}: too long`);
        if (s.format === 'date-time' && Number.isNaN(Date.parse(v))) errors.push(`${at}: not a date-time`);
        return v;
      default:
        return v;
    }
  };
  const out = walk(schema, value, path);
  return { value: out, errors, pruned };
}

/** Only the fields the apiserver stores: spec and status (metadata has its own schema). */
function body(link: Record<string, unknown>): Record<string, unknown> {
  return { spec: link.spec, status: link.status };
}

describe('Link CRD', () => {
  it('serves all three versions, stores v1alpha3, and converts with None', () => {
    const crd = linkCrd();
    assert.equal(crd.metadata.name, 'links.multicluster.linkerd.io');
    assert.deepEqual(
      crd.spec.versions.map((v) => [v.name, v.served, v.storage, v.subresources !== undefined]),
      [
        ['v1alpha1', true, false, false],
        ['v1alpha2', true, false, true],
        ['v1alpha3', true, true, true],
      ],
    );
    assert.equal(crd.spec.conversion.strategy, 'None');
    assert.equal(crd.spec.scope, 'Namespaced');
  });

  it('v1alpha3 admits a full Link without pruning anything', () => {
    const r = admit(linkSchema('v1alpha3'), body(fullLink()));
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.pruned, []);
  });

  it('v1alpha2 admits a full Link except the v1alpha3 exclusions', () => {
    const r = admit(linkSchema('v1alpha2'), body(fullLink()));
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.pruned, ['.spec.excludedAnnotations', '.spec.excludedLabels']);
  });

  it('v1alpha1 admits a full Link except the later fields and status', () => {
    const r = admit(linkSchema('v1alpha1'), body(fullLink()));
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.pruned, ['.spec.federatedServiceSelector', '.spec.excludedAnnotations', '.spec.excludedLabels', '.status']);
  });

  for (const version of LINK_VERSIONS) {
    it(`${version} defaults probe timeout and failureThreshold, and the result parses`, () => {
      const link = fullLink();
      const spec = link.spec as Record<string, unknown>;
      spec.probeSpec = { path: '/ready', port: '4191', period: '3s' };
      const r = admit(linkSchema(version), body(link));
      assert.deepEqual(r.errors, []);
      const admitted = r.value as { spec: { probeSpec: Record<string, string> } };
      assert.equal(admitted.spec.probeSpec.timeout, '30s');
      assert.equal(admitted.spec.probeSpec.failureThreshold, '3');
      parseLink({ apiVersion: `multicluster.linkerd.io/${version}`, kind: 'Link', metadata: { name: 'east' }, ...admitted });
    });
  }

  it('rejects bad operators and condition statuses', () => {
    const link = fullLink();
    (link.spec as Record<string, unknown>).selector = { matchExpressions: [{ key: 'a', operator: 'Equals' }] };
    const status = link.status as { mirrorServices: Array<{ conditions: Array<Record<string, unknown>> }> };
    const cond = status.mirrorServices[0]?.conditions[0];
    assert.ok(cond);
    cond.status = 'Maybe';
    assert.deepEqual(admit(linkSchema('v1alpha3'), body(link)).errors, [
      '.spec.selector.matchExpressions[0].operator: not in enum',
      '.status.mirrorServices[0].conditions[0].status: not in enum',
    ]);
  });

  it('keeps older schemas a compatible subset of newer ones', () => {
    const paths = (s: JsonSchema, at = ''): Map<string, string> => {
      const out = new Map<string, string>();
      const { properties, items, additionalProperties, ...rest } = s;
      const own = { ...rest, description: undefined };
      out.set(at, JSON.stringify(own));
      for (const [k, child] of Object.entries(properties ?? {})) for (const [p, v] of paths(child, `${at}.${k}`)) out.set(p, v);
      if (items) for (const [p, v] of paths(items, `${at}[]`)) out.set(p, v);
      if (additionalProperties) for (const [p, v] of paths(additionalProperties, `${at}{}`)) out.set(p, v);
      return out;
    };
    for (let i = 0; i + 1 < LINK_VERSIONS.length; i++) {
      const older = paths(linkSchema(LINK_VERSIONS[i] ?? 'v1alpha1'));
      const newer = paths(linkSchema(LINK_VERSIONS[i + 1] ?? 'v1alpha3'));
      for (const [p, v] of older) {
        // Adding properties to a node is compatible; changing its own constraints is not.
        assert.equal(newer.has(p), true, `${p} missing in ${LINK_VERSIONS[i + 1]}`);
        assert.equal(newer.get(p), v, `${p} differs between ${LINK_VERSIONS[i]} and ${LINK_VERSIONS[i + 1]}`);
      }
    }
  });
});
