// The gateway's failure vocabulary. Each error has one fixed message (the text a Linkerd proxy
// puts in `l5d-proxy-error`), and error-response.ts maps each class to HTTP and gRPC answers.

/** Base of every error this part raises on a request or connection path. */
export class GatewayError extends Error {
  override readonly name: string = 'GatewayError';
}

/** The target name is not under a gateway suffix, or no such Service exists (upstream: GatewayDomainInvalid). */
export class GatewayDomainInvalidError extends GatewayError {
  override readonly name = 'GatewayDomainInvalidError';
  constructor(options?: ErrorOptions) {
    super('bad gateway domain', options);
  }
}

/** The request already went through this gateway, or the client is the gateway itself (upstream: GatewayLoop). */
export class GatewayLoopError extends GatewayError {
  override readonly name = 'GatewayLoopError';
  constructor(options?: ErrorOptions) {
    super('gateway loop detected', options);
  }
}

/** The Service exists but has no ready endpoint for the port (upstream answers load shed: 503). */
export class NoEndpointsError extends GatewayError {
  override readonly name = 'NoEndpointsError';
  constructor(options?: ErrorOptions) {
    super('service has no ready endpoints', options);
  }
}

/** The target did not answer in time (upstream: fail-fast, 504). */
export class UpstreamTimeoutError extends GatewayError {
  override readonly name = 'UpstreamTimeoutError';
  constructor(options?: ErrorOptions) {
    super('upstream request timed out', options);
  }
}

/** Connecting to, or talking with, the chosen endpoint failed (502). */
export class UpstreamConnectError extends GatewayError {
  override readonly name = 'UpstreamConnectError';
  constructor(options?: ErrorOptions) {
    super('upstream connection failed', options);
  }
}

/** The authenticated client is not allowed to reach this Service by policy (403). */
export class UnauthorizedClientError extends GatewayError {
  override readonly name = 'UnauthorizedClientError';
  constructor(options?: ErrorOptions) {
    super('client is not authorized to reach this service', options);
  }
}

/** Too many concurrent requests on the gateway (503, like a proxy's load shedding). */
export class OverloadedError extends GatewayError {
  override readonly name = 'OverloadedError';
  constructor(options?: ErrorOptions) {
    super('gateway is overloaded', options);
  }
}
