// One cluster's control plane: etcd, kube-apiserver and kube-controller-manager as real
// processes, with their own serving CA, admin credentials and ServiceAccount signing key.
import { createServer } from 'node:net';
import { request } from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSelfSignedCa, exportPublicKeyPem, issueCertificate } from '../identity/x509.ts';
import type { KubeBinaries } from './kube-binaries.ts';
import { ManagedProcess, waitFor } from './managed-process.ts';
import type { ClusterAddressing } from './topology.ts';

export const API_SERVER_PORT = 6443;

/** The controllers a kubelet-less cluster needs for Endpoints, tokens and clean-up to work. */
const CONTROLLERS = [
  'endpoints-controller',
  'endpointslice-controller',
  'endpointslice-mirroring-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'deployment-controller',
  'replicaset-controller',
  'statefulset-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
].join(',');

export interface ClusterCredentials {
  caPem: string;
  adminCertPem: string;
  adminKeyPem: string;
  server: string;
}

export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

export class ControlPlane {
  #etcd?: ManagedProcess;
  #apiServer?: ManagedProcess;
  #controllerManager?: ManagedProcess;
  #etcdPorts?: { client: number; peer: number };
  #credentials?: ClusterCredentials;

  constructor(
    readonly cluster: ClusterAddressing,
    readonly dir: string,
    readonly binaries: KubeBinaries,
    readonly detach: boolean,
  ) {}

  get server(): string {
    return `https://${this.cluster.apiServerIp}:${API_SERVER_PORT}`;
  }

  get credentials(): ClusterCredentials {
    if (!this.#credentials) throw new Error(`${this.cluster.name}: control plane not started`);
    return this.#credentials;
  }

  /** etcd's client URL (plain HTTP on loopback), for maintenance such as compaction. */
  get etcdClientUrl(): string {
    if (!this.#etcdPorts) throw new Error(`${this.cluster.name}: etcd not started`);
    return `http://127.0.0.1:${this.#etcdPorts.client}`;
  }

  get pkiDir(): string {
    return join(this.dir, 'pki');
  }

  async start(progress: (msg: string) => void): Promise<void> {
    await assertPortFree(this.cluster.apiServerIp, API_SERVER_PORT);
    progress(`${this.cluster.name}: generating PKI`);
    this.#credentials = await this.#writePki();
    this.#etcdPorts = { client: await freePort(), peer: await freePort() };
    progress(`${this.cluster.name}: starting etcd`);
    this.#etcd = await ManagedProcess.start({
      name: 'etcd',
      command: this.binaries.etcd,
      args: [
        '--name=default',
        `--data-dir=${join(this.dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${this.#etcdPorts.client}`,
        `--advertise-client-urls=http://127.0.0.1:${this.#etcdPorts.client}`,
        `--listen-peer-urls=http://127.0.0.1:${this.#etcdPorts.peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${this.#etcdPorts.peer}`,
        `--initial-cluster=default=http://127.0.0.1:${this.#etcdPorts.peer}`,
        // A throwaway dev cluster: durability is not worth the fsync latency on a 2-core box.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      stateDir: this.dir,
      detach: this.detach,
    });
    progress(`${this.cluster.name}: starting kube-apiserver`);
    await this.startApiServer();
    progress(`${this.cluster.name}: starting kube-controller-manager`);
    this.#controllerManager = await ManagedProcess.start({
      name: 'kube-controller-manager',
      command: this.binaries.kubeControllerManager,
      args: [
        `--kubeconfig=${join(this.pkiDir, 'admin.kubeconfig')}`,
        `--controllers=${CONTROLLERS}`,
        `--service-account-private-key-file=${join(this.pkiDir, 'sa.key')}`,
        `--root-ca-file=${join(this.pkiDir, 'ca.crt')}`,
        `--cluster-cidr=${this.cluster.podCidr}`,
        `--service-cluster-ip-range=${this.cluster.serviceCidr}`,
        '--leader-elect=false',
        '--secure-port=0',
        '--concurrent-endpoint-syncs=10',
        '--v=1',
      ],
      stateDir: this.dir,
      detach: this.detach,
    });
  }

  /** (Re)starts kube-apiserver against the existing etcd; also the fault-recovery path. */
  async startApiServer(): Promise<void> {
    if (!this.#etcdPorts) throw new Error(`${this.cluster.name}: etcd not started`);
    const pki = this.pkiDir;
    this.#apiServer = await ManagedProcess.start({
      name: 'kube-apiserver',
      command: this.binaries.kubeApiServer,
      args: [
        `--etcd-servers=http://127.0.0.1:${this.#etcdPorts.client}`,
        `--bind-address=${this.cluster.apiServerIp}`,
        `--advertise-address=${this.cluster.apiServerIp}`,
        `--secure-port=${API_SERVER_PORT}`,
        `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
        `--client-ca-file=${join(pki, 'ca.crt')}`,
        `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        `--service-cluster-ip-range=${this.cluster.serviceCidr}`,
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        '--profiling=false',
        `--cert-dir=${join(this.dir, 'apiserver-certs')}`,
        '--v=1',
      ],
      stateDir: this.dir,
      detach: this.detach,
    });
    const proc = this.#apiServer;
    await waitFor(
      `${this.cluster.name} kube-apiserver /readyz`,
      async () => {
        if (!proc.running) {
          throw new Error(`kube-apiserver exited with code ${proc.exitCode}:\n${await proc.lastLog()}`);
        }
        return (await this.#get('/readyz')) === 200 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250, onTimeout: () => proc.lastLog() },
    );
  }

  /** Kills kube-apiserver outright (SIGKILL), leaving etcd and the controllers running. */
  async killApiServer(): Promise<void> {
    await this.#apiServer?.kill();
  }

  async stop(): Promise<void> {
    await this.#controllerManager?.stop();
    await this.#apiServer?.stop();
    await this.#etcd?.stop();
  }

  processes(): ManagedProcess[] {
    return [this.#etcd, this.#apiServer, this.#controllerManager].filter((p): p is ManagedProcess => p !== undefined);
  }

  async #get(path: string): Promise<number> {
    const c = this.credentials;
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.cluster.apiServerIp, port: API_SERVER_PORT, path, ca: c.caPem, cert: c.adminCertPem, key: c.adminKeyPem, timeout: 2000 },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }

  async #writePki(): Promise<ClusterCredentials> {
    const pki = this.pkiDir;
    await mkdir(pki, { recursive: true });
    const year = 365 * 24 * 3600 * 1000;
    const ca = await createSelfSignedCa({ commonName: `${this.cluster.name}-ca`, lifetimeMs: year });
    const apiserver = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      dnsNames: ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost'],
      ipAddresses: [this.cluster.apiServerIp, '127.0.0.1', firstServiceIp(this.cluster.serviceCidr)],
      usages: ['serverAuth'],
      lifetimeMs: year,
    });
    const admin = await issueCertificate(ca, {
      commonName: 'multicluster-dev-admin',
      organizations: ['system:masters'],
      usages: ['clientAuth'],
      lifetimeMs: year,
    });
    const sa = await createSelfSignedCa({ commonName: 'service-account-signer', lifetimeMs: year });
    const write = (name: string, text: string, mode = 0o644) => writeFile(join(pki, name), text, { mode });
    await write('ca.crt', ca.certPem);
    await write('ca.key', ca.keyPem, 0o600);
    await write('apiserver.crt', apiserver.certPem + ca.certPem);
    await write('apiserver.key', apiserver.keyPem, 0o600);
    await write('admin.crt', admin.certPem);
    await write('admin.key', admin.keyPem, 0o600);
    await write('sa.key', sa.keyPem, 0o600);
    await write('sa.pub', await exportPublicKeyPem(sa.keys.publicKey));
    const creds: ClusterCredentials = { caPem: ca.certPem, adminCertPem: admin.certPem, adminKeyPem: admin.keyPem, server: this.server };
    await write(
      'admin.kubeconfig',
      renderKubeconfig([{ context: this.cluster.context, cluster: this.cluster.name, creds }], this.cluster.context),
      0o600,
    );
    return creds;
  }
}

export interface KubeconfigEntry {
  context: string;
  cluster: string;
  creds: ClusterCredentials;
}

export function renderKubeconfig(entries: readonly KubeconfigEntry[], current: string): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': current,
    clusters: entries.map((e) => ({ name: e.context, cluster: { server: e.creds.server, 'certificate-authority-data': b64(e.creds.caPem) } })),
    users: entries.map((e) => ({
      name: `admin@${e.context}`,
      user: { 'client-certificate-data': b64(e.creds.adminCertPem), 'client-key-data': b64(e.creds.adminKeyPem) },
    })),
    contexts: entries.map((e) => ({ name: e.context, context: { cluster: e.context, user: `admin@${e.context}` } })),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

function firstServiceIp(cidr: string): string {
  const [base] = cidr.split('/');
  const parts = (base ?? '').split('.').map(Number);
  parts[3] = (parts[3] ?? 0) + 1;
  return parts.join('.');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new PortInUseError(
            `${host}:${port} is already in use: another dev cluster may be running; ` +
              `run \`multicluster dev down\` or stop the process holding the port (ss -ltnp 'sport = :${port}')`,
          ),
        );
      } else reject(err);
    });
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}
