import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isExcluded, withoutExcluded } from './exclusions.ts';
import { InvalidSelectorError, isEmptySelector, parseSelector, selectorMatches, selectorProblems, selectorToQuery } from './label-selector.ts';

describe('parseSelector', () => {
  it('parses every kubectl form', () => {
    assert.deepEqual(parseSelector('a=b, c==d,e!=f,g in (x, y),h notin (z),i,!j'), {
      matchLabels: { a: 'b', c: 'd' },
      matchExpressions: [
        { key: 'e', operator: 'NotIn', values: ['f'] },
        { key: 'g', operator: 'In', values: ['x', 'y'] },
        { key: 'h', operator: 'NotIn', values: ['z'] },
        { key: 'i', operator: 'Exists' },
        { key: 'j', operator: 'DoesNotExist' },
      ],
    });
  });

  it('keeps prefixed keys and the default selectors', () => {
    assert.deepEqual(parseSelector('mirror.linkerd.io/exported=true'), { matchLabels: { 'mirror.linkerd.io/exported': 'true' } });
  });

  it('gives an empty selector for empty text', () => {
    assert.deepEqual(parseSelector(''), {});
    assert.equal(isEmptySelector(parseSelector('  ')), true);
  });

  for (const bad of ['a=b,', 'a in b', 'a in ()', 'a in (b', 'a>1', 'Bad Key=x', 'a=-b-', 'a=' + 'x'.repeat(64), '-a=b', 'UPPER.example.com/a=b']) {
    it(`rejects ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseSelector(bad), InvalidSelectorError);
    });
  }

  it('names the bad part in the message', () => {
    assert.throws(() => parseSelector('a=b,c in d'), /cannot parse "c in d"/);
  });
});

describe('selectorProblems', () => {
  it('accepts a well-formed object', () => {
    assert.deepEqual(selectorProblems({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'Exists' }] }), []);
  });
  it('reports bad operators and value counts', () => {
    const problems = selectorProblems({
      matchExpressions: [
        { key: 'a', operator: 'Equals', values: ['x'] },
        { key: 'b', operator: 'In', values: [] },
        { key: 'c', operator: 'Exists', values: ['x'] },
      ],
    });
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? '', /matchExpressions\[0\]: operator must be one of/);
    assert.match(problems[1] ?? '', /needs at least one value/);
    assert.match(problems[2] ?? '', /takes no values/);
  });
  it('reports non-string label values', () => {
    assert.match(selectorProblems({ matchLabels: { a: 1 } }).join(), /matchLabels.a must be a string/);
  });
});

describe('selectorToQuery', () => {
  it('renders a server-side labelSelector deterministically', () => {
    assert.equal(selectorToQuery(parseSelector('z=1,a=2,k in (y,x),!gone,there')), 'a=2,z=1,k in (x,y),!gone,there');
  });
  it('returns null for selectors that match nothing', () => {
    assert.equal(selectorToQuery(undefined), null);
    assert.equal(selectorToQuery({}), null);
    assert.equal(selectorToQuery({ matchLabels: {}, matchExpressions: [] }), null);
  });
  it('round-trips through parseSelector', () => {
    const sel = parseSelector('a=b,c notin (d,e),f,!g');
    assert.deepEqual(parseSelector(selectorToQuery(sel) ?? ''), sel);
  });
});

describe('selectorMatches', () => {
  const sel = parseSelector('app=web,tier in (a,b),!legacy,env,zone notin (x)');
  it('matches when every requirement holds', () => {
    assert.equal(selectorMatches(sel, { app: 'web', tier: 'a', env: '', zone: 'y' }), true);
    assert.equal(selectorMatches(sel, { app: 'web', tier: 'b', env: 'prod' }), true);
  });
  it('fails any single requirement', () => {
    assert.equal(selectorMatches(sel, { app: 'api', tier: 'a', env: '' }), false);
    assert.equal(selectorMatches(sel, { app: 'web', tier: 'c', env: '' }), false);
    assert.equal(selectorMatches(sel, { app: 'web', tier: 'a', env: '', legacy: 'true' }), false);
    assert.equal(selectorMatches(sel, { app: 'web', tier: 'a' }), false);
    assert.equal(selectorMatches(sel, { app: 'web', tier: 'a', env: '', zone: 'x' }), false);
  });
  it('treats nil and empty selectors as matching nothing', () => {
    assert.equal(selectorMatches(undefined, { a: 'b' }), false);
    assert.equal(selectorMatches({}, { a: 'b' }), false);
    assert.equal(selectorMatches({ matchLabels: {} }, {}), false);
  });
});

describe('exclusions', () => {
  const excluded = ['evil.linkerd/*', 'evil', 'app.kubernetes.io/exact'];
  it('excludes exact keys', () => {
    assert.equal(isExcluded('evil', excluded), true);
    assert.equal(isExcluded('evilish', excluded), false);
    assert.equal(isExcluded('app.kubernetes.io/exact', excluded), true);
    assert.equal(isExcluded('app.kubernetes.io/exactly', excluded), false);
  });
  it('excludes by prefix including the slash', () => {
    assert.equal(isExcluded('evil.linkerd/foo', excluded), true);
    assert.equal(isExcluded('evil.linkerd/', excluded), true);
    assert.equal(isExcluded('evil.linkerdX/foo', excluded), false);
    assert.equal(isExcluded('evil.linkerd', excluded), false);
  });
  it('filters a map', () => {
    assert.deepEqual(withoutExcluded({ evil: '1', 'evil.linkerd/a': '2', 'evil.linkerdX/a': '3', good: '4' }, excluded), {
      'evil.linkerdX/a': '3',
      good: '4',
    });
    assert.equal(withoutExcluded(undefined, excluded), undefined);
    assert.deepEqual(withoutExcluded({ a: '1' }, undefined), { a: '1' });
  });
});
