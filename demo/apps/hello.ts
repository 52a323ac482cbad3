// `hello`: calls `world` in the other cluster over HTTP/1.1 and gRPC (unary and streaming),
// through its outbound proxy, and reports what came back and from where.
import { createServer } from 'node:http';
import { errorMessage } from '../../log/logger.ts';
import { callJson, count, greet, grpcChannel, type HostPort } from './via-outbound.ts';
import { closeAll, type RunningApp } from './world.ts';

export interface HelloOptions {
  host: string;
  port: number;
  outboundHttp1: HostPort;
  outboundHttp2: HostPort;
  /** `name:port` of world's HTTP and gRPC ports, e.g. world-cluster2.demo.svc.cluster.local:8080. */
  worldHttp: string;
  worldGrpc: string;
}

export async function startHello(o: HelloOptions): Promise<RunningApp> {
  const channel = grpcChannel(o.outboundHttp2, o.worldGrpc);
  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = async (): Promise<unknown> => {
      if (path === '/http') return callJson(o.outboundHttp1, o.worldHttp, '/from-hello');
      if (path === '/grpc') return greet(channel, { name: 'hello' });
      if (path === '/grpc-stream') return count(channel, { upTo: 5 });
      return {
        http: await callJson(o.outboundHttp1, o.worldHttp, '/from-hello'),
        grpc: await greet(channel, { name: 'hello' }),
        stream: (await count(channel, { upTo: 3 })).map((r) => r.n),
      };
    };
    answer().then(
      (body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      },
      (err: unknown) => {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: errorMessage(err) }));
      },
    );
  });
  await new Promise<void>((resolve) => http.listen(o.port, o.host, resolve));
  return {
    close: async () => {
      channel.close();
      await closeAll(http);
    },
  };
}
