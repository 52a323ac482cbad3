// A pod workload: an HTTP/1.1 + h2c server at the pod IP that says who answered, so tests
// can tell which cluster and pod served a request.
import { createServer } from 'node:http';

const host = process.env['POD_IP'] ?? '127.0.0.1';
const port = Number(process.env['PORT'] ?? '8080');
const pod = process.env['POD_NAME'] ?? 'unknown';
const cluster = process.env['CLUSTER'] ?? 'unknown';

const server = createServer((req, res) => {
  const body = JSON.stringify({ pod, cluster, ip: host, method: req.method, path: req.url, headers: req.headers });
  res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': `${pod}.${cluster}` });
  res.end(body);
});
server.listen(port, host);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
