// Where the remote gateway is right now. The Link records the address seen at `link` time;
// a LoadBalancer can move (upstream #10635), so the live gateway Service in the remote
// cluster wins when it can be read, and hostnames are re-resolved on every repair pass
// rather than on every write.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { CoreV1Api, V1Service } from '@kubernetes/client-node';
import { apiErrorMessage, apiStatus, isNotFound } from '../kube/client.ts';
import { Annotations } from '../model/linkerd-names.ts';

const REMOTE_READ_TIMEOUT_MS = 10_000;

/** client-node requests have no timeout of their own; a partitioned remote must not stall a repair pass. */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

export interface ResolvedGateway {
  addresses: string[];
  source: 'remote-service' | 'link-spec';
  unresolved: string[];
  /** Why the live gateway Service could not be read, when it could not (e.g. HTTP 403). */
  remoteError?: { status?: number; message: string };
}

/** `<sa>.<ns>.serviceaccount.identity...` names the gateway's ServiceAccount, which names its Service. */
function gatewayServiceFromIdentity(identity: string): { namespace: string; name: string } | undefined {
  const parts = identity.split('.');
  if (parts.length < 4 || parts[2] !== 'serviceaccount' || !parts[0] || !parts[1]) return undefined;
  return { name: parts[0], namespace: parts[1] };
}

async function resolveHosts(entries: readonly string[]): Promise<{ addresses: string[]; unresolved: string[] }> {
  const addresses = new Set<string>();
  const unresolved: string[] = [];
  for (const entry of entries) {
    if (isIP(entry)) {
      addresses.add(entry);
      continue;
    }
    try {
      for (const r of await lookup(entry, { all: true, family: 4 })) addresses.add(r.address);
    } catch {
      unresolved.push(entry);
    }
  }
  return { addresses: [...addresses].sort(), unresolved };
}

function ingressOf(svc: V1Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? i.hostname ?? '').filter(Boolean);
}

export async function resolveGateway(
  remoteCore: CoreV1Api | undefined,
  gatewayIdentity: string,
  specAddresses: readonly string[],
): Promise<ResolvedGateway> {
  const ref = gatewayServiceFromIdentity(gatewayIdentity);
  let remoteError: ResolvedGateway['remoteError'];
  if (remoteCore && ref) {
    try {
      const svc = await withTimeout(
        remoteCore.readNamespacedService(ref),
        REMOTE_READ_TIMEOUT_MS,
        `reading the remote gateway Service ${ref.namespace}/${ref.name}`,
      );
      const live = ingressOf(svc);
      if (svc.metadata?.annotations?.[Annotations.gatewayIdentity] === gatewayIdentity && live.length > 0) {
        return { ...(await resolveHosts(live)), source: 'remote-service' };
      }
    } catch (err) {
      // Unreadable (RBAC, network) or absent: fall back to what the Link says, but tell the caller.
      if (!isNotFound(err)) remoteError = { status: apiStatus(err), message: apiErrorMessage(err) };
    }
  }
  return { ...(await resolveHosts(specAddresses)), source: 'link-spec', remoteError };
}
