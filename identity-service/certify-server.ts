// The gRPC server for `io.linkerd.proxy.identity.Identity/Certify`: it turns each call into a
// Certifier outcome, and a refusal into the status code and message the proxy logs.
import { type sendUnaryData, Server, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { type CertifyRequestMessage, type CertifyResponseMessage, identityServiceDefinition } from '../identity/certify-protocol.ts';
import type { Logger } from '../log/logger.ts';
import type { Certifier } from './certifier.ts';
import type { ReloadableServerCredentials } from './server-credentials.ts';

export interface CertifyServerOptions {
  host: string;
  port: number;
  credentials: ReloadableServerCredentials;
  certifier: Certifier;
  log: Logger;
}

/** The listen address could not be bound. */
export class ListenError extends Error {
  override readonly name = 'ListenError';
}

export class CertifyServer {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly log: Logger,
  ) {}

  static async start(opts: CertifyServerOptions): Promise<CertifyServer> {
    // Nothing serves channelz here: its per-call bookkeeping is left out.
    const server = new Server({ 'grpc.enable_channelz': 0 });
    server.addService(identityServiceDefinition(), {
      Certify: (call: ServerUnaryCall<CertifyRequestMessage, CertifyResponseMessage>, callback: sendUnaryData<CertifyResponseMessage>) => {
        void opts.certifier.certify(call.request).then((outcome) => {
          if (outcome.ok) {
            const { leafDer, intermediatesDer, validUntil } = outcome.value;
            callback(null, { leafCertificate: leafDer, intermediateCertificates: intermediatesDer, validUntil });
          } else {
            const err: Partial<ServiceError> = { code: outcome.refusal.code, details: outcome.refusal.message };
            callback(err);
          }
        });
      },
    });
    const address = `${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(address, opts.credentials, (err, bound) => {
        if (err) reject(new ListenError(`cannot listen on ${address} (${err.message}): pass a free address with --listen`, { cause: err }));
        else resolve(bound);
      }),
    );
    return new CertifyServer(server, port, opts.log);
  }

  /** Lets calls in flight finish for up to `graceMs`, then closes every connection. */
  async shutdown(graceMs: number): Promise<void> {
    const graceful = new Promise<boolean>((resolve) => this.server.tryShutdown((err) => resolve(err === undefined)));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    });
    const clean = await Promise.race([graceful, deadline]);
    clearTimeout(timer);
    if (!clean) {
      this.log.warn('calls still in flight at the shutdown deadline; closing them', { graceMs });
      this.server.forceShutdown();
    }
  }
}
