// A pod workload for the gateway tests, one process with three listeners at the pod IP:
// - HTTP_PORT: HTTP/1.1 that echoes what it received (headers included) and accepts a
//   WebSocket upgrade (101, then echoes raw bytes);
// - GRPC_PORT: gRPC (grpc-js) with a unary Echo and a server-streaming Count, messages as
//   raw bytes; plus a plain h2c echo for any non-gRPC path;
// - TCP_PORT: an opaque echo that answers after the client half-closes, proving half-close.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';

const host = process.env['POD_IP'] ?? '127.0.0.1';
const pod = process.env['POD_NAME'] ?? 'unknown';
const httpPort = Number(process.env['HTTP_PORT'] ?? '8080');
const grpcPort = Number(process.env['GRPC_PORT'] ?? '8081');
const tcpPort = Number(process.env['TCP_PORT'] ?? '9000');

const http1 = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const slow = /^\/slow\?ms=(\d+)/.exec(req.url ?? '');
    if (slow) {
      setTimeout(() => res.end(`slow ${pod}`), Number(slow[1]));
      return;
    }
    const body = JSON.stringify({
      pod,
      method: req.method,
      path: req.url,
      httpVersion: req.httpVersion,
      headers: req.headers,
      body: Buffer.concat(chunks).toString(),
    });
    res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': pod });
    res.end(body);
  });
});
http1.on('upgrade', (req, socket) => {
  const key = String(req.headers['sec-websocket-key'] ?? '');
  const accept = createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nx-served-by: ${pod}\r\n\r\n`,
  );
  socket.pipe(socket);
});
http1.listen(httpPort, host);

const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const server = new grpc.Server();
server.addService(
  {
    Echo: {
      path: '/test.Echo/Echo',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw.serialize,
      requestDeserialize: raw.deserialize,
      responseSerialize: raw.serialize,
      responseDeserialize: raw.deserialize,
    },
    Count: {
      path: '/test.Echo/Count',
      requestStream: false,
      responseStream: true,
      requestSerialize: raw.serialize,
      requestDeserialize: raw.deserialize,
      responseSerialize: raw.serialize,
      responseDeserialize: raw.deserialize,
    },
    Ticks: {
      path: '/test.Echo/Ticks',
      requestStream: false,
      responseStream: true,
      requestSerialize: raw.serialize,
      requestDeserialize: raw.deserialize,
      responseSerialize: raw.serialize,
      responseDeserialize: raw.deserialize,
    },
    Fail: {
      path: '/test.Echo/Fail',
      requestStream: false,
      responseStream: false,
      requestSerialize: raw.serialize,
      requestDeserialize: raw.deserialize,
      responseSerialize: raw.serialize,
      responseDeserialize: raw.deserialize,
    },
  },
  {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const md = new grpc.Metadata();
      md.set('x-client-id', String(call.metadata.get('l5d-client-id')[0] ?? ''));
      md.set('x-forwarded', String(call.metadata.get('forwarded')[0] ?? ''));
      cb(null, Buffer.concat([Buffer.from(`${pod}:`), call.request]), md);
    },
    Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const n = Number(call.request.toString());
      for (let i = 1; i <= n; i++) call.write(Buffer.from(String(i)));
      call.end();
    },
    // One message every 100 ms until the client goes away: a stream to cut mid-way.
    Ticks: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      let i = 0;
      const timer = setInterval(() => call.write(Buffer.from(`${pod}:${++i}`)), 100);
      call.on('cancelled', () => clearInterval(timer));
    },
    Fail: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb({ code: grpc.status.FAILED_PRECONDITION, details: 'asked to fail' }),
  },
);
server.bindAsync(`${host}:${grpcPort}`, grpc.ServerCredentials.createInsecure(), () => undefined);

const tcp = createNetServer({ allowHalfOpen: true }, (s) => {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('end', () => s.end(Buffer.concat([Buffer.from(`${pod}:`), ...chunks])));
  s.on('error', () => undefined);
});
tcp.listen(tcpPort, host);

process.on('SIGTERM', () => process.exit(0));
