// The pair's network: a router namespace with one bridge per cluster, a veth uplink to the
// host (where the kube-apiservers and the controllers run), and one namespace per pod.
// Cross-cluster reachability is policy routing in the router: gateway-only mode lets only
// the gateway /24s through; pod-to-pod mode routes the whole pod CIDRs (Example 12-2).
import { addNetns, deleteLinks, deleteNetns, ip, listNetns, sysctl } from './netns.ts';
import { CLUSTER_NAMES, type ClusterName, type PairTopology } from './topology.ts';

const RULE_PREF_GATEWAY = 1000;
const RULE_PREF_BLOCK = 2000;

export async function createPairNetwork(t: PairTopology): Promise<void> {
  await addNetns(t.routerNetns);
  await sysctl(t.routerNetns, 'net.ipv4.ip_forward', '1');
  await ip(['link', 'add', t.hostLink, 'type', 'veth', 'peer', 'name', t.routerLink, 'netns', t.routerNetns]);
  for (const name of CLUSTER_NAMES) {
    await ip(['addr', 'add', `${t.clusters[name].apiServerIp}/24`, 'dev', t.hostLink]);
  }
  await ip(['link', 'set', t.hostLink, 'up']);
  await ip(['-n', t.routerNetns, 'addr', 'add', `${t.routerIp}/24`, 'dev', t.routerLink]);
  await ip(['-n', t.routerNetns, 'link', 'set', t.routerLink, 'up']);
  for (const name of CLUSTER_NAMES) {
    const c = t.clusters[name];
    await ip(['-n', t.routerNetns, 'link', 'add', c.bridgeDevice, 'type', 'bridge']);
    await ip(['-n', t.routerNetns, 'addr', 'add', `${c.bridgeIp}/16`, 'dev', c.bridgeDevice]);
    await ip(['-n', t.routerNetns, 'link', 'set', c.bridgeDevice, 'up']);
    await ip(['route', 'add', c.podCidr, 'via', t.routerIp, 'dev', t.hostLink]);
  }
  const [a, b] = [t.clusters.cluster1, t.clusters.cluster2];
  for (const c of [a, b]) {
    await ip(['-n', t.routerNetns, 'rule', 'add', 'pref', String(RULE_PREF_GATEWAY), 'to', c.gatewayCidr, 'lookup', 'main']);
    await ip(['-n', t.routerNetns, 'rule', 'add', 'pref', String(RULE_PREF_GATEWAY), 'from', c.gatewayCidr, 'lookup', 'main']);
  }
  await setPodToPod(t, false);
}

/** Switches cross-cluster pod routing on (pod-to-pod) or off (gateway-only). */
export async function setPodToPod(t: PairTopology, enabled: boolean): Promise<void> {
  const [a, b] = [t.clusters.cluster1, t.clusters.cluster2];
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const rule = ['rule', 'pref', String(RULE_PREF_BLOCK), 'from', from.podCidr, 'to', to.podCidr, 'prohibit'];
    await ip(['-n', t.routerNetns, ...rule.slice(0, 1), 'del', ...rule.slice(1)], true);
    if (!enabled) await ip(['-n', t.routerNetns, 'rule', 'add', ...rule.slice(1)]);
  }
}

export async function isPodToPod(t: PairTopology): Promise<boolean> {
  const rules = await ip(['-n', t.routerNetns, 'rule', 'show']);
  return !rules.includes('prohibit');
}

export interface PodInterface {
  netns: string;
  ip: string;
}

/** Creates a pod's namespace with one veth into its cluster's bridge. */
export async function createPodNetns(t: PairTopology, cluster: ClusterName, index: number, podIp: string): Promise<PodInterface> {
  const c = t.clusters[cluster];
  const netns = `${t.prefix}${cluster === 'cluster1' ? 'c1' : 'c2'}-p${index}`;
  const hostSide = `${cluster === 'cluster1' ? 'a' : 'b'}${index}`;
  await addNetns(netns);
  await ip(['-n', t.routerNetns, 'link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await ip(['-n', t.routerNetns, 'link', 'set', hostSide, 'master', c.bridgeDevice, 'up']);
  await ip(['-n', netns, 'addr', 'add', `${podIp}/16`, 'dev', 'eth0']);
  await ip(['-n', netns, 'link', 'set', 'eth0', 'up']);
  await ip(['-n', netns, 'route', 'add', 'default', 'via', c.bridgeIp]);
  return { netns, ip: podIp };
}

export async function deletePodNetns(pod: PodInterface): Promise<void> {
  await deleteNetns(pod.netns);
}

/** Removes every namespace, link and route of the pair; safe to run on partial or absent state. */
export async function destroyPairNetwork(t: PairTopology): Promise<void> {
  for (const name of CLUSTER_NAMES) {
    await ip(['route', 'del', t.clusters[name].podCidr], true);
  }
  for (const ns of await listNetns(t.prefix)) {
    if (ns !== t.routerNetns) await deleteNetns(ns);
  }
  await deleteNetns(t.routerNetns);
  await deleteLinks(t.hostLink);
}
