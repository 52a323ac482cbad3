// `multicluster install`: typed values (the subset of upstream's Helm values that matter
// here), `--set key=value` overrides parsed once into them, and the pure renderer.
import { Defaults } from '../model/linkerd-names.ts';
import { parseSelector } from '../model/label-selector.ts';
import { renderControlPlane } from './control-plane.ts';
import { renderController } from './controller.ts';
import type { GatewayServiceType } from './gateway.ts';
import { GATEWAY_SERVICE_TYPES, GATEWAY_TRUST_ROOTS_CONFIGMAP, renderGateway } from './gateway.ts';
import { linkCrd } from './link-crd.ts';
import type { Manifest } from './manifest.ts';
import { renderRemoteAccess } from './remote-access.ts';
import type { PullPolicy } from './version.ts';
import { DEFAULT_FEDERATED_SELECTOR, renderLocalMirror } from './local-mirror.ts';
import {
  CONTROLLER_CLUSTER_ROLE,
  CREATED_BY,
  DEFAULT_IMAGE,
  DEFAULT_PULL_POLICY,
  EXTENSION_LABEL,
  EXTENSION_VALUE,
  PULL_POLICIES,
} from './version.ts';

/** A `--set` or flag value that cannot be used; the message names the key and what it accepts. */
export class InvalidValueError extends Error {
  override readonly name = 'InvalidValueError';
}

export interface ControllerValues {
  linkName: string;
  enableHeadlessServices: boolean;
  /** Without a gateway there is nothing to probe, so no probe Service. */
  gatewayEnabled: boolean;
  probePort: number;
}

export interface InstallValues {
  namespace: string;
  linkerdNamespace: string;
  identityTrustDomain: string;
  image: string;
  imagePullPolicy: PullPolicy;
  enableNamespaceCreation: boolean;
  gateway: {
    enabled: boolean;
    name: string;
    serviceType: GatewayServiceType;
    port: number;
    nodePort?: number;
    loadBalancerIP?: string;
    probe: { port: number; nodePort?: number; path: string; seconds: number };
  };
  remoteMirrorServiceAccount: boolean;
  remoteMirrorServiceAccountName: string;
  controllerDefaults: { enableHeadlessServices: boolean; gatewayEnabled: boolean; probePort: number };
  controllers: ControllerValues[];
  /** The cluster's own federated members (`mirror --local-mirror`). */
  localServiceMirror: { enabled: boolean; federatedServiceSelector: string };
  clusterDomain: string;
  /** The shared trust anchors; the gateway reads them from a ConfigMap rendered from these. */
  identityTrustAnchorsPem?: string;
  /** With `--control-plane`: the issuer of our identity service. */
  controlPlane?: { issuerCertPem: string; issuerKeyPem: string };
}

export function defaultInstallValues(): InstallValues {
  return {
    namespace: Defaults.namespace,
    linkerdNamespace: Defaults.linkerdNamespace,
    identityTrustDomain: Defaults.trustDomain,
    clusterDomain: Defaults.clusterDomain,
    image: DEFAULT_IMAGE,
    imagePullPolicy: DEFAULT_PULL_POLICY,
    enableNamespaceCreation: false,
    gateway: {
      enabled: true,
      name: Defaults.gatewayName,
      serviceType: 'LoadBalancer',
      port: Defaults.gatewayPort,
      probe: { port: Defaults.probePort, path: Defaults.probePath, seconds: Defaults.probePeriodSeconds },
    },
    remoteMirrorServiceAccount: true,
    remoteMirrorServiceAccountName: Defaults.remoteAccessServiceAccount,
    controllerDefaults: { enableHeadlessServices: false, gatewayEnabled: true, probePort: Defaults.probePort },
    controllers: [],
    localServiceMirror: { enabled: true, federatedServiceSelector: DEFAULT_FEDERATED_SELECTOR },
  };
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `name` cannot be a cluster or link name, or undefined when it can. */
export function clusterNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  // probe-<name> is a Service name, which must stay within 63 characters.
  if (name.length > 57) return `"${name}" is longer than 57 characters (the probe Service name probe-<name> would exceed 63)`;
  if (!DNS1123_LABEL.test(name))
    return `"${name}" must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit`;
  return undefined;
}

const parseSelectorText = (key: string, v: string): string => {
  try {
    parseSelector(v);
  } catch (err) {
    throw new InvalidValueError(`--set ${key}="${v}": ${err instanceof Error ? err.message : String(err)}`);
  }
  return v;
};

const parseBool = (key: string, v: string): boolean => {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InvalidValueError(`--set ${key}=${v}: expected true or false`);
};
const parsePort = (key: string, v: string): number => {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new InvalidValueError(`--set ${key}=${v}: expected a port number (1-65535)`);
  return n;
};
const parsePositive = (key: string, v: string): number => {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1)) throw new InvalidValueError(`--set ${key}=${v}: expected a positive integer`);
  return n;
};
const parseName = (key: string, v: string): string => {
  if (!DNS1123_LABEL.test(v) || v.length > 63) throw new InvalidValueError(`--set ${key}=${v}: expected a DNS-1123 label`);
  return v;
};
const parseNonEmpty = (key: string, v: string): string => {
  if (v === '') throw new InvalidValueError(`--set ${key}: value must not be empty`);
  return v;
};

type Setter = (values: InstallValues, v: string, key: string) => void;

const SETTERS: Record<string, Setter> = {
  namespace: (x, v, k) => (x.namespace = parseName(k, v)),
  linkerdNamespace: (x, v, k) => (x.linkerdNamespace = parseName(k, v)),
  identityTrustDomain: (x, v, k) => (x.identityTrustDomain = parseNonEmpty(k, v)),
  clusterDomain: (x, v, k) => (x.clusterDomain = parseNonEmpty(k, v)),
  image: (x, v, k) => (x.image = parseNonEmpty(k, v)),
  imagePullPolicy: (x, v, k) => (x.imagePullPolicy = parsePullPolicy(v, `--set ${k}`)),
  enableNamespaceCreation: (x, v, k) => (x.enableNamespaceCreation = parseBool(k, v)),
  'gateway.enabled': (x, v, k) => (x.gateway.enabled = parseBool(k, v)),
  'localServiceMirror.enabled': (x, v, k) => (x.localServiceMirror.enabled = parseBool(k, v)),
  'localServiceMirror.federatedServiceSelector': (x, v, k) => (x.localServiceMirror.federatedServiceSelector = parseSelectorText(k, v)),
  'gateway.name': (x, v, k) => (x.gateway.name = parseName(k, v)),
  'gateway.serviceType': (x, v, k) => (x.gateway.serviceType = parseServiceType(v, `--set ${k}`)),
  'gateway.port': (x, v, k) => (x.gateway.port = parsePort(k, v)),
  'gateway.nodePort': (x, v, k) => (x.gateway.nodePort = parsePort(k, v)),
  'gateway.loadBalancerIP': (x, v, k) => (x.gateway.loadBalancerIP = parseNonEmpty(k, v)),
  'gateway.probe.port': (x, v, k) => (x.gateway.probe.port = parsePort(k, v)),
  'gateway.probe.nodePort': (x, v, k) => (x.gateway.probe.nodePort = parsePort(k, v)),
  'gateway.probe.path': (x, v, k) => {
    if (!v.startsWith('/')) throw new InvalidValueError(`--set ${k}=${v}: expected a path starting with "/"`);
    x.gateway.probe.path = v;
  },
  'gateway.probe.seconds': (x, v, k) => (x.gateway.probe.seconds = parsePositive(k, v)),
  remoteMirrorServiceAccount: (x, v, k) => (x.remoteMirrorServiceAccount = parseBool(k, v)),
  remoteMirrorServiceAccountName: (x, v, k) => (x.remoteMirrorServiceAccountName = parseName(k, v)),
  'controllerDefaults.enableHeadlessServices': (x, v, k) => (x.controllerDefaults.enableHeadlessServices = parseBool(k, v)),
  'controllerDefaults.gateway.enabled': (x, v, k) => (x.controllerDefaults.gatewayEnabled = parseBool(k, v)),
  'controllerDefaults.gateway.probe.port': (x, v, k) => (x.controllerDefaults.probePort = parsePort(k, v)),
};

const CONTROLLER_SETTERS: Record<string, (c: Partial<ControllerValues>, v: string, key: string) => void> = {
  'link.ref.name': (c, v, k) => {
    const p = clusterNameProblem(v);
    if (p) throw new InvalidValueError(`--set ${k}: link name ${p}`);
    c.linkName = v;
  },
  enableHeadlessServices: (c, v, k) => (c.enableHeadlessServices = parseBool(k, v)),
  'gateway.enabled': (c, v, k) => (c.gatewayEnabled = parseBool(k, v)),
  'gateway.probe.port': (c, v, k) => (c.probePort = parsePort(k, v)),
};

export const SUPPORTED_SET_KEYS: readonly string[] = [...Object.keys(SETTERS), ...Object.keys(CONTROLLER_SETTERS).map((k) => `controllers[N].${k}`)];

export function parsePullPolicy(v: string, what: string): PullPolicy {
  const found = PULL_POLICIES.find((p) => p === v);
  if (!found) throw new InvalidValueError(`${what} "${v}": expected one of ${PULL_POLICIES.join(', ')}`);
  return found;
}

export function parseServiceType(v: string, what: string): GatewayServiceType {
  const found = GATEWAY_SERVICE_TYPES.find((t) => t === v);
  if (!found) throw new InvalidValueError(`${what} "${v}": expected one of ${GATEWAY_SERVICE_TYPES.join(', ')}`);
  return found;
}

/**
 * Applies `--set` overrides (each `key=value`, comma-separated lists allowed like Helm) to
 * `values`, in order. `controllers[i]` entries may arrive out of order; gaps are an error.
 */
export function applySetOverrides(values: InstallValues, sets: readonly string[]): InstallValues {
  const pending = new Map<number, Partial<ControllerValues>>();
  for (const set of sets) {
    for (const assignment of splitAssignments(set)) {
      const eq = assignment.indexOf('=');
      if (eq <= 0) throw new InvalidValueError(`--set "${assignment}": expected key=value`);
      const key = assignment.slice(0, eq).trim();
      const value = assignment.slice(eq + 1).trim();
      const ctl = /^controllers\[(\d+)\]\.(.+)$/.exec(key);
      if (ctl) {
        const setter = CONTROLLER_SETTERS[ctl[2] ?? ''];
        if (!setter) throw unknownKey(key);
        const i = Number(ctl[1]);
        const entry = pending.get(i) ?? {};
        setter(entry, value, key);
        pending.set(i, entry);
        continue;
      }
      const setter = SETTERS[key];
      if (!setter) throw unknownKey(key);
      setter(values, value, key);
    }
  }
  const indexes = [...pending.keys()].sort((a, b) => a - b);
  indexes.forEach((index, pos) => {
    if (index !== pos) throw new InvalidValueError(`--set controllers[${pos}] is missing (controllers must be numbered from 0 without gaps)`);
    const entry = pending.get(index) ?? {};
    if (!entry.linkName) throw new InvalidValueError(`--set controllers[${index}].link.ref.name is required`);
    values.controllers.push(controllerFromDefaults(values, entry.linkName, entry));
  });
  return values;
}

function unknownKey(key: string): InvalidValueError {
  return new InvalidValueError(`--set ${key}: unknown key; supported keys are ${SUPPORTED_SET_KEYS.join(', ')}`);
}

// Helm splits on commas that are not inside braces; values here never contain commas.
function splitAssignments(set: string): string[] {
  return set.split(',').filter((s) => s.trim() !== '');
}

export function controllerFromDefaults(values: InstallValues, linkName: string, overrides: Partial<ControllerValues> = {}): ControllerValues {
  return {
    linkName,
    enableHeadlessServices: overrides.enableHeadlessServices ?? values.controllerDefaults.enableHeadlessServices,
    gatewayEnabled: overrides.gatewayEnabled ?? values.controllerDefaults.gatewayEnabled,
    probePort: overrides.probePort ?? values.controllerDefaults.probePort,
  };
}

/** Rejects values that render but could never work together. */
export function validateInstallValues(values: InstallValues): void {
  const seen = new Set<string>();
  for (const c of values.controllers) {
    if (seen.has(c.linkName)) throw new InvalidValueError(`controller for link "${c.linkName}" is listed twice`);
    seen.add(c.linkName);
  }
  if (values.gateway.port === values.gateway.probe.port) {
    throw new InvalidValueError(`gateway.port and gateway.probe.port must differ (both are ${values.gateway.port})`);
  }
}

export function renderInstall(values: InstallValues): Manifest[] {
  validateInstallValues(values);
  const { namespace } = values;
  const labels = { [EXTENSION_LABEL]: EXTENSION_VALUE };
  const objects: Manifest[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels } },
    linkCrd({}, { 'linkerd.io/created-by': CREATED_BY }),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        name: CONTROLLER_CLUSTER_ROLE,
        labels: { ...labels, component: 'controller' },
        annotations: { 'linkerd.io/created-by': CREATED_BY },
      },
      rules: [
        { apiGroups: [''], resources: ['endpoints', 'services'], verbs: ['list', 'get', 'watch', 'create', 'delete', 'update', 'patch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'get', 'watch', 'create', 'delete', 'update', 'patch'] },
        {
          apiGroups: [''],
          resources: ['namespaces'],
          verbs: values.enableNamespaceCreation ? ['list', 'get', 'watch', 'create'] : ['list', 'get', 'watch'],
        },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    },
  ];
  if (values.remoteMirrorServiceAccount) {
    objects.push(...renderRemoteAccess({ serviceAccountName: values.remoteMirrorServiceAccountName, namespace }));
  }
  if (values.gateway.enabled) {
    const { gateway } = values;
    objects.push(
      ...renderGateway({
        name: gateway.name,
        namespace,
        linkerdNamespace: values.linkerdNamespace,
        identityTrustDomain: values.identityTrustDomain,
        clusterDomain: values.clusterDomain,
        image: values.image,
        imagePullPolicy: values.imagePullPolicy,
        serviceType: gateway.serviceType,
        port: gateway.port,
        probe: gateway.probe,
        ...(gateway.nodePort !== undefined ? { nodePort: gateway.nodePort } : {}),
        ...(gateway.loadBalancerIP !== undefined ? { loadBalancerIP: gateway.loadBalancerIP } : {}),
      }),
    );
  }
  if (values.identityTrustAnchorsPem !== undefined && values.gateway.enabled) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: GATEWAY_TRUST_ROOTS_CONFIGMAP, namespace, labels, annotations: { 'linkerd.io/created-by': CREATED_BY } },
      data: { 'ca-bundle.crt': values.identityTrustAnchorsPem },
    });
  }
  if (values.controlPlane) {
    objects.push(
      ...renderControlPlane({
        ...values.controlPlane,
        trustAnchorsPem: values.identityTrustAnchorsPem ?? '',
        clusterDomain: values.clusterDomain,
        linkerdNamespace: values.linkerdNamespace,
        trustDomain: values.identityTrustDomain,
        image: values.image,
        imagePullPolicy: values.imagePullPolicy,
      }),
    );
  }
  if (values.localServiceMirror.enabled) {
    objects.push(
      ...renderLocalMirror({
        namespace,
        image: values.image,
        imagePullPolicy: values.imagePullPolicy,
        federatedSelector: values.localServiceMirror.federatedServiceSelector,
      }),
    );
  }
  for (const c of values.controllers) {
    objects.push(
      ...renderController({
        linkName: c.linkName,
        namespace,
        image: values.image,
        imagePullPolicy: values.imagePullPolicy,
        enableHeadlessServices: c.enableHeadlessServices,
        enableNamespaceCreation: values.enableNamespaceCreation,
        probePort: c.gatewayEnabled ? c.probePort : undefined,
      }),
    );
  }
  return objects;
}
