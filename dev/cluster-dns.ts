// A cluster DNS stand-in: the dev clusters have neither CoreDNS nor kube-proxy, so a pod
// could not reach `linkerd-dst.linkerd.svc.cluster.local` at all. This answers A queries
// for `<svc>.<ns>.svc.<domain>` with the Service's ready endpoint addresses (as if every
// Service were headless: with no kube-proxy a ClusterIP leads nowhere) and
// `<hostname>.<svc>.<ns>.svc.<domain>` with that endpoint's address. It listens on the
// cluster's host-side address, which every pod of the cluster reaches through its router.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';
import dnsPacket from 'dns-packet';
import { isNotFound } from '../kube/client.ts';
import { errorMessage, type Logger } from '../log/logger.ts';
import type { ClusterAddressing } from './topology.ts';

export const DNS_PORT = 53;
const TTL_SECONDS = 2;
const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** What a name resolves to: addresses, a name that exists with none (NODATA), or no such name. */
export type DnsAnswer = { kind: 'addresses'; ips: string[] } | { kind: 'nodata' } | { kind: 'nxdomain' };

/** `<svc>.<ns>` or `<host>.<svc>.<ns>` under `svc.<domain>`; undefined for any other name. */
export function parseServiceName(name: string, clusterDomain: string): { host?: string; service: string; namespace: string } | undefined {
  const suffix = `.svc.${clusterDomain}`;
  const n = name.toLowerCase().replace(/\.$/, '');
  if (!n.endsWith(suffix)) return undefined;
  const parts = n.slice(0, -suffix.length).split('.');
  if (parts.length === 2) return { service: parts[0] ?? '', namespace: parts[1] ?? '' };
  if (parts.length === 3) return { host: parts[0] ?? '', service: parts[1] ?? '', namespace: parts[2] ?? '' };
  return undefined;
}

/** Ready addresses of the slices, or only those of `host` when given. */
export function readyAddresses(slices: readonly V1EndpointSlice[], host?: string): string[] {
  const ips = new Set<string>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    for (const ep of slice.endpoints) {
      if (ep.conditions?.ready === false) continue;
      if (host !== undefined && ep.hostname !== host) continue;
      for (const ip of ep.addresses) ips.add(ip);
    }
  }
  return [...ips].sort();
}

/** The resolv.conf a pod of `namespace` gets: this server and Kubernetes' search path. */
export function podResolvConf(cluster: ClusterAddressing, namespace: string, clusterDomain = 'cluster.local'): string {
  const search = [`${namespace}.svc.${clusterDomain}`, `svc.${clusterDomain}`, clusterDomain];
  return `nameserver ${cluster.apiServerIp}\nsearch ${search.join(' ')}\noptions ndots:5\n`;
}

export class ClusterDns {
  readonly #core: CoreV1Api;
  readonly #discovery: DiscoveryV1Api;
  #socket?: Socket;

  constructor(
    readonly cluster: ClusterAddressing,
    kubeConfig: KubeConfig,
    private readonly log: Logger,
    private readonly clusterDomain = 'cluster.local',
  ) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  }

  async start(port = DNS_PORT): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (msg, peer) => void this.#answer(msg, peer));
    socket.on('error', (err) => this.log.warn('cluster dns socket error', { cluster: this.cluster.name, reason: err.message }));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, this.cluster.apiServerIp, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.#socket = socket;
  }

  async stop(): Promise<void> {
    const s = this.#socket;
    this.#socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Looks the name up in the API server on every query: a dev cluster is small, and no cache can be stale. */
  async resolve(name: string): Promise<DnsAnswer> {
    const parsed = parseServiceName(name, this.clusterDomain);
    if (!parsed) return { kind: 'nxdomain' };
    try {
      await this.#core.readNamespacedService({ name: parsed.service, namespace: parsed.namespace });
    } catch (err) {
      if (isNotFound(err)) return { kind: 'nxdomain' };
      throw err;
    }
    const slices = await this.#discovery.listNamespacedEndpointSlice({
      namespace: parsed.namespace,
      labelSelector: `kubernetes.io/service-name=${parsed.service}`,
    });
    const ips = readyAddresses(slices.items, parsed.host);
    if (ips.length > 0) return { kind: 'addresses', ips };
    return parsed.host === undefined ? { kind: 'nodata' } : { kind: 'nxdomain' };
  }

  async #answer(msg: Buffer, peer: RemoteInfo): Promise<void> {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(msg);
    } catch {
      return; // not DNS: nothing sensible to answer
    }
    const question = query.questions?.[0];
    const reply = (rcode: 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL', answers: dnsPacket.Answer[] = []) => {
      // dns-packet encodes the response code from the low bits of the flags, not from `rcode`.
      const flags = dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER | RCODES[rcode];
      const out = dnsPacket.encode({
        type: 'response',
        id: query.id ?? 0,
        flags,
        questions: query.questions ?? [],
        answers,
      });
      this.#socket?.send(out, peer.port, peer.address);
    };
    if (!question) return reply('SERVFAIL');
    try {
      const answer = await this.resolve(question.name);
      if (answer.kind === 'nxdomain') return reply('NXDOMAIN');
      if (answer.kind === 'nodata' || question.type !== 'A') return reply('NOERROR');
      return reply(
        'NOERROR',
        answer.ips.map((ip) => ({ type: 'A', name: question.name, ttl: TTL_SECONDS, class: 'IN', data: ip })),
      );
    } catch (err) {
      this.log.warn('cluster dns lookup failed', { cluster: this.cluster.name, object: question.name, reason: errorMessage(err) });
      return reply('SERVFAIL');
    }
  }
}
