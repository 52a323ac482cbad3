// Linkerd workload identity names: `<sa>.<ns>.serviceaccount.identity.<controlNs>.<trustDomain>`.
// Each becomes the one DNS SAN of a proxy's certificate and the TLS server name peers
// expect, so it must be a DNS name that round-trips exactly (lowercase, no trailing dot).
import { workloadIdentity } from '../model/linkerd-names.ts';
import { PkiError } from './x509.ts';

export interface IdentityParts {
  serviceAccount: string;
  namespace: string;
  controlNamespace: string;
  trustDomain: string;
}

export class InvalidIdentityNameError extends PkiError {
  override readonly name = 'InvalidIdentityNameError';
}

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;
const MAX_NAME = 253;
const MARKER = ['serviceaccount', 'identity'] as const;

/** Why `label` is not a DNS-1123 label, or undefined when it is one. */
export function dns1123LabelProblem(label: string): string | undefined {
  if (label.length === 0) return 'is empty';
  if (label.length > MAX_LABEL) return `is ${label.length} characters long (at most ${MAX_LABEL} allowed)`;
  if (!LABEL.test(label)) {
    return 'is not a DNS-1123 label (only lowercase letters, digits and "-", starting and ending with a letter or digit)';
  }
  return undefined;
}

/** Why `domain` is not a dot-separated list of DNS-1123 labels, or undefined when it is. */
export function trustDomainProblem(domain: string): string | undefined {
  if (domain.length === 0) return 'is empty';
  if (domain.endsWith('.')) return 'ends with "." (write it without the trailing dot)';
  for (const label of domain.split('.')) {
    const problem = dns1123LabelProblem(label);
    if (problem !== undefined) return `has a label "${label}" that ${problem}`;
  }
  return undefined;
}

/** Builds and validates an identity name from its parts. */
export function formatIdentityName(parts: IdentityParts): string {
  const problem = partsProblem(parts);
  if (problem !== undefined) {
    throw new InvalidIdentityNameError(`invalid ${problem}`);
  }
  const name = workloadIdentity(parts.serviceAccount, parts.namespace, parts.controlNamespace, parts.trustDomain);
  assertLength(name);
  return name;
}

/** Splits a full identity name into its parts, explaining exactly what is wrong if it is not one. */
export function parseIdentityName(name: string): IdentityParts {
  const fail = (why: string): never => {
    throw new InvalidIdentityNameError(
      `invalid identity "${name}": ${why}; expected <service-account>.<namespace>.serviceaccount.identity.` +
        '<control-plane-namespace>.<trust-domain>, e.g. default.emojivoto.serviceaccount.identity.linkerd.cluster.local',
    );
  };
  if (name.length === 0) return fail('it is empty');
  if (name !== name.toLowerCase()) return fail('it contains uppercase letters (identities are lowercase)');
  const [serviceAccount, namespace, marker1, marker2, controlNamespace, ...domain] = name.split('.');
  if (
    serviceAccount === undefined ||
    namespace === undefined ||
    controlNamespace === undefined ||
    marker1 !== MARKER[0] ||
    marker2 !== MARKER[1] ||
    domain.length === 0
  ) {
    return fail('it does not have the form of a Linkerd workload identity');
  }
  const parts = { serviceAccount, namespace, controlNamespace, trustDomain: domain.join('.') };
  const problem = partsProblem(parts);
  if (problem !== undefined) return fail(problem);
  assertLength(name);
  return parts;
}

/** True when `name` is a well-formed Linkerd workload identity. */
export function isIdentityName(name: string): boolean {
  try {
    parseIdentityName(name);
    return true;
  } catch (err) {
    if (err instanceof InvalidIdentityNameError) return false;
    throw err;
  }
}

function partsProblem(parts: IdentityParts): string | undefined {
  const checks: Array<[string, string, string | undefined, string]> = [
    ['service account', parts.serviceAccount, dns1123LabelProblem(parts.serviceAccount), 'the ServiceAccount name as in Kubernetes, e.g. "default"'],
    ['namespace', parts.namespace, dns1123LabelProblem(parts.namespace), 'the namespace name as in Kubernetes, e.g. "emojivoto"'],
    [
      'control-plane namespace',
      parts.controlNamespace,
      dns1123LabelProblem(parts.controlNamespace),
      'the namespace Linkerd is installed in, e.g. "linkerd"',
    ],
    ['trust domain', parts.trustDomain, trustDomainProblem(parts.trustDomain), 'the mesh trust domain, e.g. "cluster.local"'],
  ];
  for (const [what, value, problem, hint] of checks) {
    if (problem !== undefined) return `${what} "${value}": it ${problem} (expected ${hint})`;
  }
  return undefined;
}

function assertLength(name: string): void {
  if (name.length > MAX_NAME) {
    throw new InvalidIdentityNameError(
      `identity "${name}" is ${name.length} characters long, but a DNS name may have at most ${MAX_NAME}: ` +
        'use shorter service account, namespace or trust-domain names',
    );
  }
}
