// Which local Service a transport-header name designates. Names must end in a gateway suffix
// (upstream LINKERD2_PROXY_INBOUND_GATEWAY_SUFFIXES, `svc.<clusterDomain>.`); a trailing dot
// is ignored. `<svc>.<ns>.<suffix>` names a Service, `<host>.<svc>.<ns>.<suffix>` one
// endpoint of a headless Service.
import { GatewayDomainInvalidError } from './errors.ts';

export interface TargetName {
  service: string;
  namespace: string;
  /** A headless Service endpoint's hostname. */
  hostname?: string;
}

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function gatewaySuffix(clusterDomain: string): string {
  return `svc.${clusterDomain.replace(/\.$/, '')}`;
}

export function parseTargetName(name: string, suffix: string): TargetName {
  const n = name.toLowerCase().replace(/\.$/, '');
  const s = suffix.replace(/\.$/, '');
  if (s !== '' && !n.endsWith(`.${s}`)) throw new GatewayDomainInvalidError();
  const prefix = s === '' ? n : n.slice(0, n.length - s.length - 1);
  const labels = prefix.split('.');
  if (!labels.every((l) => LABEL.test(l))) throw new GatewayDomainInvalidError();
  if (labels.length === 2) return { service: labels[0] ?? '', namespace: labels[1] ?? '' };
  if (labels.length === 3) return { hostname: labels[0] ?? '', service: labels[1] ?? '', namespace: labels[2] ?? '' };
  throw new GatewayDomainInvalidError();
}
