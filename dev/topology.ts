// Address plan of one pair of dev clusters. Slot 0 is `multicluster dev up` and uses the
// book's CIDRs (Example 12-1); isolated test pairs take slots 1.. with their own pod ranges
// so that host routes of two live pairs never overlap.

export type ClusterName = 'cluster1' | 'cluster2';
export const CLUSTER_NAMES: readonly ClusterName[] = ['cluster1', 'cluster2'];

export interface ClusterAddressing {
  name: ClusterName;
  /** kubeconfig context name, as the book's k3d clusters call it. */
  context: string;
  /** Second octet of the /16 pod network (10.<octet>.0.0/16). */
  podOctet: number;
  podCidr: string;
  serviceCidr: string;
  /** The /24 at the top of the pod network: gateways live here and stay reachable in gateway-only mode. */
  gatewayCidr: string;
  /** Bridge address in the router namespace: the pods' default gateway. */
  bridgeIp: string;
  /** Host-side address the cluster's kube-apiserver binds and advertises. */
  apiServerIp: string;
  /** Device names (max 15 chars) inside the router namespace. */
  bridgeDevice: string;
}

export interface PairTopology {
  slot: number;
  /** Prefix of every netns, link and process name of this pair. */
  prefix: string;
  routerNetns: string;
  hostLink: string;
  routerLink: string;
  routerIp: string;
  clusters: Record<ClusterName, ClusterAddressing>;
}

export const MAX_SLOT = 40;

/** The single Node each cluster registers; all its pods run there. */
export function nodeName(cluster: ClusterAddressing): string {
  return `${cluster.name}-node`;
}

export function pairTopology(slot: number): PairTopology {
  if (!Number.isInteger(slot) || slot < 0 || slot > MAX_SLOT) {
    throw new Error(`invalid cluster-pair slot ${slot}: use 0 (dev) to ${MAX_SLOT}`);
  }
  const prefix = `mc${slot}-`;
  const octets: Record<ClusterName, number> = slot === 0 ? { cluster1: 23, cluster2: 22 } : { cluster1: 100 + 2 * slot, cluster2: 101 + 2 * slot };
  const svc: Record<ClusterName, string> = { cluster1: '10.247.0.0/16', cluster2: '10.246.0.0/16' };
  const make = (name: ClusterName, index: number): ClusterAddressing => {
    const o = octets[name];
    return {
      name,
      context: `k3d-${name}`,
      podOctet: o,
      podCidr: `10.${o}.0.0/16`,
      serviceCidr: svc[name],
      gatewayCidr: `10.${o}.255.0/24`,
      bridgeIp: `10.${o}.0.1`,
      apiServerIp: `172.30.${slot}.${index}`,
      bridgeDevice: `br${index}`,
    };
  };
  return {
    slot,
    prefix,
    routerNetns: `${prefix}router`,
    hostLink: `${prefix}host`,
    routerLink: 'uplink',
    routerIp: `172.30.${slot}.254`,
    clusters: { cluster1: make('cluster1', 1), cluster2: make('cluster2', 2) },
  };
}

/** Hands out pod IPs (ordinary pods from 10.x.1.2 upward, gateways from 10.x.255.2 upward) and sandbox numbers. */
export class PodIpAllocator {
  #next = 256 + 2;
  #nextGateway = 2;
  #nextSandbox = 0;
  constructor(private readonly cluster: ClusterAddressing) {}

  /** Numbers pod sandboxes (network namespace and veth names); shared by everything that starts pods in the cluster. */
  nextSandboxIndex(): number {
    return ++this.#nextSandbox;
  }

  allocate(gateway: boolean): string {
    if (gateway) {
      if (this.#nextGateway > 254) throw new Error(`gateway address range ${this.cluster.gatewayCidr} exhausted`);
      return `10.${this.cluster.podOctet}.255.${this.#nextGateway++}`;
    }
    for (;;) {
      const n = this.#next++;
      const third = Math.floor(n / 256);
      const fourth = n % 256;
      if (third >= 255) throw new Error(`pod range ${this.cluster.podCidr} exhausted`);
      if (fourth !== 0 && fourth !== 255) return `10.${this.cluster.podOctet}.${third}.${fourth}`;
    }
  }
}
