// parseLink turns an untyped object from the API (or a file) into a checked Link, reporting
// every invalid field at once with its path, so a bad Link is one clear message, not a crash
// deep in the mirror controller.
import { Defaults } from './linkerd-names.ts';
import { tryParseGoDuration } from '../duration/go-duration.ts';
import { selectorProblems } from './label-selector.ts';
import type { LabelSelector, Link, LinkProbe, LinkSpec, LinkStatus, ProbeSpec } from './link-types.ts';
import { LINK_GROUP, LINK_KIND, LINK_VERSIONS } from './link-types.ts';

/** The object is not a valid Link; `problems` lists each field path and what is wrong with it. */
export class InvalidLinkError extends Error {
  override readonly name = 'InvalidLinkError';
  constructor(
    readonly linkName: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid Link ${linkName}: ${problems.join('; ')}`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const STRING_FIELDS = [
  'targetClusterName',
  'targetClusterDomain',
  'targetClusterLinkerdNamespace',
  'clusterCredentialsSecret',
  'gatewayAddress',
  'gatewayPort',
  'gatewayIdentity',
] as const;
const SELECTOR_FIELDS = ['selector', 'remoteDiscoverySelector', 'federatedServiceSelector'] as const;
const LIST_FIELDS = ['excludedAnnotations', 'excludedLabels'] as const;

/**
 * Validates `obj` as a Link of any served version and returns it with CRD defaults applied
 * (probe timeout 30s, failureThreshold "3" when a probeSpec is present). Throws InvalidLinkError.
 */
export function parseLink(obj: unknown): Link {
  const problems: string[] = [];
  if (!isObj(obj)) throw new InvalidLinkError('<unknown>', ['not an object']);
  const meta = isObj(obj.metadata) ? obj.metadata : undefined;
  const name = typeof meta?.name === 'string' ? meta.name : '';
  const ns = typeof meta?.namespace === 'string' ? meta.namespace : undefined;
  const display = ns ? `${ns}/${name || '<unnamed>'}` : name || '<unnamed>';

  const versions: readonly string[] = LINK_VERSIONS.map((v) => `${LINK_GROUP}/${v}`);
  if (typeof obj.apiVersion !== 'string' || !versions.includes(obj.apiVersion)) {
    problems.push(`apiVersion must be one of ${versions.join(', ')}, got ${JSON.stringify(obj.apiVersion)}`);
  }
  if (obj.kind !== LINK_KIND) problems.push(`kind must be Link, got ${JSON.stringify(obj.kind)}`);
  if (!meta) problems.push('metadata is missing');
  else if (name === '') problems.push('metadata.name is missing');

  const spec: LinkSpec = {};
  if (!isObj(obj.spec)) {
    problems.push('spec is missing');
  } else {
    parseSpec(obj.spec, spec, problems);
  }

  let status: LinkStatus | undefined;
  if (obj.status !== undefined && obj.status !== null) {
    if (!isObj(obj.status)) problems.push('status must be an object');
    else status = parseStatus(obj.status, problems);
  }

  if (problems.length > 0) throw new InvalidLinkError(display, problems);
  const link: Link = {
    apiVersion: obj.apiVersion as string,
    kind: LINK_KIND,
    metadata: { ...meta, name },
    spec,
  };
  if (status) link.status = status;
  return link;
}

function parseSpec(raw: Obj, spec: LinkSpec, problems: string[]): void {
  for (const f of STRING_FIELDS) {
    const v = raw[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') problems.push(`spec.${f} must be a string`);
    else spec[f] = v;
  }
  if (!spec.targetClusterName) problems.push('spec.targetClusterName is required');
  else if (!DNS1123_LABEL.test(spec.targetClusterName) || spec.targetClusterName.length > 63) {
    problems.push(`spec.targetClusterName "${spec.targetClusterName}" must be a DNS-1123 label (lowercase alphanumerics and '-')`);
  }
  if (!spec.clusterCredentialsSecret) problems.push('spec.clusterCredentialsSecret is required');
  if (spec.gatewayPort !== undefined && spec.gatewayPort !== '' && portNumber(spec.gatewayPort) === undefined) {
    problems.push(`spec.gatewayPort "${spec.gatewayPort}" must be a port number (1-65535)`);
  }
  if (spec.gatewayAddress) {
    const bad = spec.gatewayAddress.split(',').filter((a) => a.trim() === '' || /\s/.test(a.trim()));
    if (bad.length > 0) problems.push(`spec.gatewayAddress "${spec.gatewayAddress}" must be a comma-separated list of IPs or hostnames`);
  }

  for (const f of SELECTOR_FIELDS) {
    const v = raw[f];
    if (v === undefined || v === null) continue;
    const ps = selectorProblems(v);
    for (const p of ps) problems.push(`spec.${f}: ${p}`);
    if (ps.length === 0) spec[f] = normalizeSelector(v);
  }
  for (const f of LIST_FIELDS) {
    const v = raw[f];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v) || v.some((e) => typeof e !== 'string' || e === '')) {
      problems.push(`spec.${f} must be a list of non-empty strings`);
    } else {
      spec[f] = [...(v as string[])];
    }
  }
  if (raw.probeSpec !== undefined && raw.probeSpec !== null) {
    if (!isObj(raw.probeSpec)) problems.push('spec.probeSpec must be an object');
    else spec.probeSpec = parseProbeSpec(raw.probeSpec, problems);
  }
}

function normalizeSelector(sel: LabelSelector): LabelSelector {
  const out: LabelSelector = {};
  if (sel.matchLabels) out.matchLabels = { ...sel.matchLabels };
  if (sel.matchExpressions) {
    out.matchExpressions = sel.matchExpressions.map((e) =>
      e.values ? { key: e.key, operator: e.operator, values: [...e.values] } : { key: e.key, operator: e.operator },
    );
  }
  return out;
}

function parseProbeSpec(raw: Obj, problems: string[]): ProbeSpec {
  const probe: ProbeSpec = {};
  for (const f of ['path', 'port', 'period', 'timeout', 'failureThreshold'] as const) {
    const v = raw[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') problems.push(`spec.probeSpec.${f} must be a string`);
    else probe[f] = v;
  }
  probe.timeout ??= Defaults.probeTimeout;
  probe.failureThreshold ??= Defaults.probeFailureThreshold;
  if (probe.port !== undefined && probe.port !== '' && portNumber(probe.port) === undefined) {
    problems.push(`spec.probeSpec.port "${probe.port}" must be a port number (1-65535)`);
  }
  if (probe.period !== undefined && probe.period !== '' && probePeriodMs(probe.period) === undefined) {
    problems.push(`spec.probeSpec.period "${probe.period}" is not a duration (e.g. "3s")`);
  }
  const timeoutMs = tryParseGoDuration(probe.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    problems.push(`spec.probeSpec.timeout "${probe.timeout}" is not a positive duration (e.g. "30s")`);
  }
  if (!/^[1-9]\d*$/.test(probe.failureThreshold)) {
    problems.push(`spec.probeSpec.failureThreshold "${probe.failureThreshold}" must be a positive integer`);
  }
  if (probe.path !== undefined && probe.path !== '' && !probe.path.startsWith('/')) {
    problems.push(`spec.probeSpec.path "${probe.path}" must start with "/"`);
  }
  return probe;
}

function parseStatus(raw: Obj, problems: string[]): LinkStatus {
  const status: LinkStatus = {};
  for (const f of ['mirrorServices', 'federatedServices'] as const) {
    const v = raw[f];
    if (v === undefined || v === null) continue;
    if (!Array.isArray(v)) {
      problems.push(`status.${f} must be a list`);
      continue;
    }
    v.forEach((entry: unknown, i) => {
      const at = `status.${f}[${i}]`;
      if (!isObj(entry) || typeof entry.controllerName !== 'string' || !isObj(entry.remoteRef)) {
        problems.push(`${at} needs controllerName and remoteRef`);
        return;
      }
      if (typeof entry.remoteRef.name !== 'string' || typeof entry.remoteRef.namespace !== 'string') {
        problems.push(`${at}.remoteRef needs name and namespace`);
      }
      if (entry.conditions !== undefined && !Array.isArray(entry.conditions)) problems.push(`${at}.conditions must be a list`);
    });
    status[f] = v as LinkStatus['mirrorServices'];
  }
  return status;
}

function portNumber(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= 1 && n <= 65535 ? n : undefined;
}

/** Probe periods are durations; a bare integer means seconds (what gateway annotations carry). */
function probePeriodMs(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  return tryParseGoDuration(text);
}

/** The gateway addresses of a Link, trimmed; empty for pod-to-pod links. */
export function linkGatewayAddresses(link: Link): string[] {
  return (link.spec.gatewayAddress ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
}

/** The gateway port of a parsed Link, or undefined when it has none. */
export function linkGatewayPort(link: Link): number | undefined {
  return link.spec.gatewayPort ? portNumber(link.spec.gatewayPort) : undefined;
}

/** Probe settings of a parsed Link, or undefined when it has no probe path (no gateway to probe). */
export function linkProbe(link: Link): LinkProbe | undefined {
  const p = link.spec.probeSpec;
  if (!p?.path) return undefined;
  const port = p.port ? portNumber(p.port) : undefined;
  return {
    path: p.path,
    port: port ?? Defaults.probePort,
    periodMs: (p.period ? probePeriodMs(p.period) : undefined) ?? Defaults.probePeriodSeconds * 1000,
    timeoutMs: tryParseGoDuration(p.timeout ?? Defaults.probeTimeout) ?? 30_000,
    failureThreshold: Number(p.failureThreshold ?? Defaults.probeFailureThreshold),
  };
}
