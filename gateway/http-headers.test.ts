import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FlatHeaders } from '../h2/hpack.ts';
import { flatEndToEnd, flatH2Request, h1ToH1Request, h1ToH2Response, h2ToH1Request } from './http-headers.ts';

const g = { forwarded: 'by=gw;for=c;host=web.demo.svc.cluster.local:80;proto=https', clientId: 'c' };

test('HTTP/2 → HTTP/2 keeps pseudo-headers, te: trailers and end-to-end fields, drops hop-by-hop ones', () => {
  const kept: Array<[string, string]> = [
    [':method', 'POST'],
    [':path', '/x'],
    [':authority', 'web:80'],
    [':scheme', 'http'],
    ['te', 'trailers'],
  ];
  const request = [...kept, ['connection', 'x-hop'], ['x-hop', '1'], ['traceparent', 't'], ['l5d-client-id', 'spoofed']];
  assert.deepEqual(flatH2Request(request.flat(), g), [...kept, ['traceparent', 't'], ['forwarded', g.forwarded], ['l5d-client-id', 'c']].flat());
});

test('HTTP/2 responses and trailers lose connection-specific fields; trailers lose pseudo-headers; never-indexed names carry over', () => {
  const response: FlatHeaders = [':status', '200', 'connection', 'x-hop', 'x-hop', '1', 'keep-alive', 'x', 'content-type', 'text/plain'];
  response.sensitive = new Set(['content-type']);
  const out = flatEndToEnd(response, false);
  assert.deepEqual([...out], [':status', '200', 'content-type', 'text/plain']);
  assert.deepEqual([...(out.sensitive ?? [])], ['content-type']);
  assert.deepEqual([...flatEndToEnd([':status', '200', 'grpc-status', '0', 'transfer-encoding', 'chunked'], true)], ['grpc-status', '0']);
});

test('l5d-orig-proto requests become HTTP/1.1 with Host from :authority, origin-form path and no marker', () => {
  const r = h2ToH1Request(
    { ':method': 'GET', ':path': 'http://web:80/p?q', ':authority': 'web:80', 'l5d-orig-proto': 'HTTP/1.1; absolute-form', b3: 'b' },
    'fallback:1',
    g,
  );
  assert.equal(r.method, 'GET');
  assert.equal(r.path, '/p?q');
  assert.deepEqual(r.headers, { b3: 'b', host: 'web:80', forwarded: g.forwarded, 'l5d-client-id': 'c' });
});

test('HTTP/1 requests without Host take it from the absolute URI, else from the header name', () => {
  assert.equal(h1ToH1Request('GET', 'http://web.demo:80/a', {}, 'x:1', g, false).headers['host'], 'web.demo:80');
  assert.equal(h1ToH1Request('GET', 'http://web.demo:80/a', {}, 'x:1', g, false).path, '/a');
  assert.equal(h1ToH1Request('GET', '/a', {}, 'x:1', g, false).headers['host'], 'x:1');
  const up = h1ToH1Request('GET', '/ws', { upgrade: 'websocket', connection: 'Upgrade', host: 'h' }, 'x:1', g, true);
  assert.equal(up.headers['upgrade'], 'websocket');
  assert.equal(h1ToH1Request('GET', '/', { upgrade: 'websocket', connection: 'Upgrade' }, 'x:1', g, false).headers['upgrade'], undefined);
});

test('HTTP/1 responses are marked with the version they came in', () => {
  const h = h1ToH2Response(200, { 'content-length': '2', connection: 'keep-alive', 'keep-alive': 'timeout=5' }, '1.1');
  assert.deepEqual(h, { ':status': 200, 'content-length': '2', 'l5d-orig-proto': 'HTTP/1.1' });
});
