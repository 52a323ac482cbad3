import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorHeaders, errorResponse, GrpcStatus } from './error-response.ts';
import { GatewayDomainInvalidError, GatewayLoopError, NoEndpointsError, UnauthorizedClientError, UpstreamTimeoutError } from './errors.ts';

test('each gateway error maps to the upstream HTTP status, gRPC status and message', () => {
  const cases: Array<[Error, number, number, string]> = [
    [new GatewayDomainInvalidError(), 404, GrpcStatus.notFound, 'bad gateway domain'],
    [new GatewayLoopError(), 508, GrpcStatus.aborted, 'gateway loop detected'],
    [new NoEndpointsError(), 503, GrpcStatus.unavailable, 'service has no ready endpoints'],
    [new UpstreamTimeoutError(), 504, GrpcStatus.deadlineExceeded, 'upstream request timed out'],
    [new UnauthorizedClientError(), 403, GrpcStatus.permissionDenied, 'client is not authorized to reach this service'],
  ];
  for (const [err, status, grpc, message] of cases) {
    const e = errorResponse(err);
    assert.deepEqual([e.status, e.grpcStatus, e.message], [status, grpc, message], err.name);
  }
});

test('HTTP answers carry l5d-proxy-error; loops also ask to close the connection', () => {
  const h = errorHeaders(errorResponse(new GatewayDomainInvalidError()), false);
  assert.equal(h.status, 404);
  assert.equal(h.headers['l5d-proxy-error'], 'bad gateway domain');
  assert.equal(h.headers['l5d-proxy-connection'], undefined);
  const loop = errorHeaders(errorResponse(new GatewayLoopError()), false);
  assert.equal(loop.status, 508);
  assert.equal(loop.headers['l5d-proxy-connection'], 'close');
});

test('gRPC answers are 200 with grpc-status, as trailers-only responses', () => {
  const h = errorHeaders(errorResponse(new GatewayLoopError()), true);
  assert.equal(h.status, 200);
  assert.equal(h.headers['grpc-status'], String(GrpcStatus.aborted));
  assert.equal(h.headers['content-type'], 'application/grpc');
});

test('unknown errors become a generic 502 that leaks nothing', () => {
  const e = errorResponse(new Error('secret internals'));
  assert.equal(e.status, 502);
  assert.equal(e.message, 'unexpected gateway error');
});
