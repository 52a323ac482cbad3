// How the demo apps call their dependencies: through `multicluster outbound` beside them, as a
// meshed app's traffic goes through its proxy. HTTP/1 names the target in Host; gRPC in
// :authority on the outbound's HTTP/2 listener.
import { request } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { worldService, type CountReply, type CountRequest, type GreetRequest, type Greeting } from './world-api.ts';

export interface HostPort {
  host: string;
  port: number;
}

export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
}

/** GET (or POST) `path` on `authority` through the outbound HTTP/1 listener; the JSON answer. */
export function callJson(outbound: HostPort, authority: string, path: string, method = 'GET', timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: outbound.host, port: outbound.port, method, path, headers: { host: authority }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 400) {
          const why = res.headers['l5d-proxy-error'] ?? text.slice(0, 200);
          reject(new UpstreamError(`${authority}${path}: ${res.statusCode} ${String(why)}`));
          return;
        }
        try {
          resolve(JSON.parse(text) as unknown);
        } catch {
          reject(new UpstreamError(`${authority}${path}: the answer is not JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new UpstreamError(`${authority}${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** A gRPC channel to `authority` through the outbound HTTP/2 listener. */
export function grpcChannel(outbound: HostPort, authority: string): grpc.Client {
  return new grpc.Client(`${outbound.host}:${outbound.port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': authority });
}

export function greet(client: grpc.Client, req: GreetRequest, timeoutMs = 5000): Promise<Greeting> {
  const m = worldService.Greet;
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, req, { deadline: Date.now() + timeoutMs }, (err, res) =>
      err || !res ? reject(err ?? new UpstreamError('Greet: empty answer')) : resolve(res),
    ),
  );
}

export function count(client: grpc.Client, req: CountRequest, timeoutMs = 5000): Promise<CountReply[]> {
  const m = worldService.Count;
  return new Promise((resolve, reject) => {
    const replies: CountReply[] = [];
    const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, req, { deadline: Date.now() + timeoutMs });
    call.on('data', (r: CountReply) => replies.push(r));
    call.on('error', reject);
    call.on('end', () => resolve(replies));
  });
}
