// `world`: the far end of hello→world. HTTP/1.1 and gRPC (unary Greet, streaming Count), each
// answer naming the pod and cluster that served it, so a caller can see traffic cross clusters.
import { createServer, type Server as HttpServer } from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { worldService, type CountReply, type CountRequest, type GreetRequest, type Greeting } from './world-api.ts';

export interface WorldOptions {
  host: string;
  httpPort: number;
  grpcPort: number;
  pod: string;
  cluster: string;
}

export interface RunningApp {
  close(): Promise<void>;
}

export async function startWorld(o: WorldOptions): Promise<RunningApp> {
  const http = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service: 'world', pod: o.pod, cluster: o.cluster, path: req.url, clientId: req.headers['l5d-client-id'] ?? null }));
  });
  await new Promise<void>((resolve) => http.listen(o.httpPort, o.host, resolve));

  const server = new grpc.Server();
  server.addService(worldService, {
    Greet: (call: grpc.ServerUnaryCall<GreetRequest, Greeting>, cb: grpc.sendUnaryData<Greeting>) =>
      cb(null, { message: `hello ${call.request.name}, from world`, pod: o.pod, cluster: o.cluster }),
    Count: (call: grpc.ServerWritableStream<CountRequest, CountReply>) => {
      for (let n = 1; n <= Math.min(call.request.upTo, 1000); n++) call.write({ n, pod: o.pod });
      call.end();
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`${o.host}:${o.grpcPort}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return { close: () => closeAll(http, server) };
}

export async function closeAll(http: HttpServer, grpcServer?: grpc.Server): Promise<void> {
  await new Promise<void>((resolve) => http.close(() => resolve()));
  if (grpcServer) await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
}
