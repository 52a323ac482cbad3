// The path of a GetDestination request, `<host>:<port>`, as a Service reference. Proxies ask
// for fully qualified names (`<svc>.<ns>.svc.<cluster domain>`); the shorter `<svc>.<ns>.svc`
// and `<svc>.<ns>` are accepted too since they name the same Service unambiguously.
import { InvalidPathError } from './errors.ts';

export interface ServiceTarget {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function parseTarget(path: string, clusterDomain: string): ServiceTarget {
  const colon = path.lastIndexOf(':');
  if (colon <= 0) throw new InvalidPathError(`path "${path}" is not <service name>:<port>`);
  const host = path.slice(0, colon).replace(/\.$/, '').toLowerCase();
  const portText = path.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) throw new InvalidPathError(`path "${path}" has an invalid port "${portText}"`);
  if (host.includes(':') || /^\d+(\.\d+){3}$/.test(host)) {
    throw new InvalidPathError(`path "${path}" is an IP address; only Service names are resolved`);
  }
  const labels = host.split('.');
  const suffix = labels.slice(2);
  const qualified = suffix.length === 0 || (suffix[0] === 'svc' && (suffix.length === 1 || suffix.slice(1).join('.') === clusterDomain));
  const [name, namespace] = labels;
  if (!name || !namespace || !qualified || !DNS_LABEL.test(name) || !DNS_LABEL.test(namespace)) {
    throw new InvalidPathError(`path "${path}" is not a Service name of the form <svc>.<ns>.svc.${clusterDomain}:<port>`);
  }
  return { namespace, name, port };
}

/** `<svc>.<ns>.svc.<cluster domain>`. */
export function serviceFqdn(t: { name: string; namespace: string }, clusterDomain: string): string {
  return `${t.name}.${t.namespace}.svc.${clusterDomain}`;
}
