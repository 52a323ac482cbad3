// How each gateway error is answered, as the inbound proxy's ServerRescue does: an HTTP status
// plus `l5d-proxy-error`, or for gRPC requests a 200 with grpc-status in a trailers-only reply.
import {
  GatewayDomainInvalidError,
  GatewayLoopError,
  NoEndpointsError,
  OverloadedError,
  UnauthorizedClientError,
  UpstreamConnectError,
  UpstreamTimeoutError,
} from './errors.ts';

/** gRPC status codes used here (google.rpc.Code). */
export const GrpcStatus = {
  ok: 0,
  deadlineExceeded: 4,
  notFound: 5,
  permissionDenied: 7,
  aborted: 10,
  unavailable: 14,
} as const;

export interface ErrorResponse {
  /** HTTP status for non-gRPC requests. */
  status: number;
  grpcStatus: number;
  message: string;
  /** Whether the client connection should be dropped afterwards (`l5d-proxy-connection: close`). */
  closeConnection: boolean;
  /** Label of the error counters. */
  reason: string;
}

export function errorResponse(err: unknown): ErrorResponse {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof GatewayDomainInvalidError)
    return { status: 404, grpcStatus: GrpcStatus.notFound, message, closeConnection: false, reason: 'domain_invalid' };
  if (err instanceof GatewayLoopError) return { status: 508, grpcStatus: GrpcStatus.aborted, message, closeConnection: true, reason: 'loop' };
  if (err instanceof UnauthorizedClientError) {
    return { status: 403, grpcStatus: GrpcStatus.permissionDenied, message, closeConnection: false, reason: 'unauthorized' };
  }
  if (err instanceof NoEndpointsError)
    return { status: 503, grpcStatus: GrpcStatus.unavailable, message, closeConnection: false, reason: 'no_endpoints' };
  if (err instanceof OverloadedError)
    return { status: 503, grpcStatus: GrpcStatus.unavailable, message, closeConnection: false, reason: 'overloaded' };
  if (err instanceof UpstreamTimeoutError) {
    return { status: 504, grpcStatus: GrpcStatus.deadlineExceeded, message, closeConnection: false, reason: 'upstream_timeout' };
  }
  if (err instanceof UpstreamConnectError)
    return { status: 502, grpcStatus: GrpcStatus.unavailable, message, closeConnection: false, reason: 'upstream_connect' };
  return { status: 502, grpcStatus: GrpcStatus.unavailable, message: 'unexpected gateway error', closeConnection: false, reason: 'unexpected' };
}

/** gRPC requests are told about errors in grpc-status; everything else by status code. */
export function isGrpcRequest(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.startsWith('application/grpc');
}

/** Response headers for an error: HTTP or trailers-only gRPC, always with `l5d-proxy-error`. */
export function errorHeaders(e: ErrorResponse, grpc: boolean): { status: number; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'l5d-proxy-error': e.message };
  if (e.closeConnection) headers['l5d-proxy-connection'] = 'close';
  if (grpc) {
    return {
      status: 200,
      headers: { ...headers, 'content-type': 'application/grpc', 'grpc-status': String(e.grpcStatus), 'grpc-message': encodeURIComponent(e.message) },
    };
  }
  return { status: e.status, headers: { ...headers, 'content-type': 'text/plain' } };
}
