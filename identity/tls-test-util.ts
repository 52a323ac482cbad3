// Test helper: one real mutually-authenticated TLS 1.3 handshake over loopback, with the
// settings a Linkerd proxy uses (TLS 1.3 only, client certificate requested and verified).
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';

export interface HandshakeOptions {
  /** Trust anchors both sides verify against. */
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  servername: string;
}

export interface HandshakeResult {
  protocol: string | null;
  serverSawClient: tls.PeerCertificate;
  clientSawServer: tls.PeerCertificate;
}

export async function tlsHandshake(opts: HandshakeOptions): Promise<HandshakeResult> {
  const server = tls.createServer({
    cert: opts.server.cert,
    key: opts.server.key,
    ca: opts.ca,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
  });
  const serverSide = new Promise<tls.PeerCertificate>((resolve, reject) => {
    server.once('secureConnection', (socket) => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    server.once('tlsClientError', reject);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const clientSide = new Promise<{ protocol: string | null; peer: tls.PeerCertificate }>((resolve, reject) => {
      const socket = tls.connect({
        host: '127.0.0.1',
        port,
        servername: opts.servername,
        cert: opts.client.cert,
        key: opts.client.key,
        ca: opts.ca,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
      });
      socket.once('secureConnect', () => {
        resolve({ protocol: socket.getProtocol(), peer: socket.getPeerCertificate() });
        socket.end();
      });
      socket.once('error', reject);
    });
    const [client, serverSawClient] = await Promise.all([clientSide, serverSide]);
    return { protocol: client.protocol, serverSawClient, clientSawServer: client.peer };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
