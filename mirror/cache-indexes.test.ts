import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { EndpointMirrorIndex, SliceIndex } from './cache-indexes.ts';
import type { LocalRecord } from './local-record.ts';

const slice = (name: string, service: string | undefined, rv = '1'): V1EndpointSlice => ({
  metadata: { name, namespace: 'web', resourceVersion: rv, labels: service ? { 'kubernetes.io/service-name': service } : {} },
  addressType: 'IPv4',
  endpoints: [],
});

test('slices are found by their Service, follow a relabel, and leave on deletion', () => {
  const idx = new SliceIndex();
  idx.apply({ type: 'added', object: slice('db-1', 'db') });
  idx.apply({ type: 'added', object: slice('db-2', 'db') });
  idx.apply({ type: 'added', object: slice('loose', undefined) });
  assert.deepEqual(
    idx.slices('web', 'db').map((s) => s.metadata?.name),
    ['db-1', 'db-2'],
  );
  idx.apply({ type: 'updated', object: slice('db-2', 'other', '2'), previous: slice('db-2', 'db') });
  assert.deepEqual(
    idx.slices('web', 'db').map((s) => s.metadata?.name),
    ['db-1'],
  );
  assert.deepEqual(
    idx.slices('web', 'other').map((s) => s.metadata?.name),
    ['db-2'],
  );
  idx.apply({ type: 'deleted', object: slice('db-1', 'db') });
  assert.deepEqual(idx.slices('web', 'db'), []);
});

const rec = (name: string, root?: string, owner: LocalRecord['owner'] = 'mirror'): LocalRecord => ({
  metadata: { name, namespace: 'web', uid: name, resourceVersion: '1' },
  owner,
  digest: '',
  headlessRoot: root,
});

test("endpoint mirrors are indexed under their root while they are this Link's mirrors", () => {
  const idx = new EndpointMirrorIndex();
  idx.apply({ type: 'added', object: rec('db-0-east', 'db-east') });
  idx.apply({ type: 'added', object: rec('db-1-east', 'db-east') });
  idx.apply({ type: 'added', object: rec('db-east') });
  assert.deepEqual(idx.names('web', 'db-east').sort(), ['db-0-east', 'db-1-east']);
  idx.apply({ type: 'updated', object: rec('db-1-east', 'db-east', 'foreign'), previous: rec('db-1-east', 'db-east') });
  idx.apply({ type: 'deleted', object: rec('db-0-east', 'db-east') });
  assert.deepEqual(idx.names('web', 'db-east'), []);
});
