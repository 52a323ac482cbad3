// The Link CustomResourceDefinition. All three upstream versions are served with
// conversion strategy None, so the apiserver only rewrites apiVersion between them: each
// newer schema is a superset of the older one with identical types and defaults.
import { Defaults } from '../model/linkerd-names.ts';
import type { LinkVersion } from '../model/link-types.ts';
import { LINK_CRD_NAME, LINK_GROUP, LINK_KIND, LINK_PLURAL, LINK_SINGULAR, LINK_STORAGE_VERSION, LINK_VERSIONS } from '../model/link-types.ts';

/** OpenAPI v3 schema with the apiserver's wire keys (client-node's V1JSONSchemaProps renames them). */
export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean';
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema;
  items?: JsonSchema;
  required?: string[];
  enum?: string[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  default?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
}

export interface CrdVersion {
  name: LinkVersion;
  served: boolean;
  storage: boolean;
  schema: { openAPIV3Schema: JsonSchema };
  subresources?: { status: Record<string, never> };
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    scope: 'Namespaced';
    names: { plural: string; singular: string; kind: string; listKind: string; categories: string[] };
    conversion: { strategy: 'None' };
    versions: CrdVersion[];
  };
}

const str = (description: string, extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: 'string', description, ...extra });

function selectorSchema(description: string): JsonSchema {
  return {
    type: 'object',
    description,
    properties: {
      matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
      matchExpressions: {
        type: 'array',
        description: 'List of selector requirements',
        items: {
          type: 'object',
          description: 'A selector item requires a key and an operator',
          required: ['key', 'operator'],
          properties: {
            key: str('Label key that selector should apply to'),
            operator: str('Evaluation of a label in relation to set', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
            values: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  };
}

function probeSchema(): JsonSchema {
  return {
    type: 'object',
    description: 'Spec for gateway health probe',
    properties: {
      failureThreshold: str('Minimum consecutive failures for the probe to be considered failed', {
        default: Defaults.probeFailureThreshold,
        pattern: '^[1-9][0-9]*$',
      }),
      path: str('Path of remote gateway health endpoint'),
      // No `format: duration` on period: older Links carry a bare "3" (seconds).
      period: str('Interval in between probe requests'),
      port: str('Port of remote gateway health endpoint'),
      timeout: str('Probe request timeout', { default: Defaults.probeTimeout, format: 'duration' }),
    },
  };
}

function refSchema(description: string): JsonSchema {
  return {
    type: 'object',
    description,
    required: ['name', 'namespace'],
    properties: {
      group: str('Group is the group of the referent.', {
        default: 'core',
        maxLength: 253,
        pattern: '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
      }),
      kind: str('Kind is kind of the referent.', {
        default: 'Service',
        minLength: 1,
        maxLength: 63,
        pattern: '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$',
      }),
      name: str('Name is the name of the referent.', { minLength: 1, maxLength: 253 }),
      namespace: str('Namespace is the namespace of the referent.', { minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }),
    },
  };
}

function serviceStatusSchema(description: string): JsonSchema {
  return {
    type: 'array',
    description,
    items: {
      type: 'object',
      required: ['controllerName', 'remoteRef'],
      properties: {
        controllerName: str('Name of the controller that wrote this status, as DOMAIN/PATH', {
          minLength: 1,
          maxLength: 253,
          pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$",
        }),
        remoteRef: refSchema('The Service in the target cluster that this Link is mirroring'),
        conditions: {
          type: 'array',
          items: {
            type: 'object',
            required: ['lastTransitionTime', 'message', 'reason', 'status', 'type'],
            properties: {
              lastTransitionTime: str('Last time the condition transitioned from one status to another', { format: 'date-time' }),
              message: str('Human readable details about the transition; may be empty'),
              reason: str('CamelCase reason for the last transition', {
                minLength: 1,
                maxLength: 1024,
                pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
              }),
              status: str('One of True, False, Unknown', { enum: ['True', 'False', 'Unknown'] }),
              type: str('Condition type, CamelCase or foo.example.com/CamelCase', {
                maxLength: 316,
                pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
              }),
              localRef: refSchema('The Service in the local cluster that this Link manages'),
            },
          },
        },
      },
    },
  };
}

/** The openAPIV3Schema of one served version. */
export function linkSchema(version: LinkVersion): JsonSchema {
  const spec: Record<string, JsonSchema> = {
    clusterCredentialsSecret: str('Kubernetes secret of target cluster'),
    gatewayAddress: str('Gateway address of target cluster'),
    gatewayIdentity: str('Gateway Identity FQDN'),
    gatewayPort: str('Gateway Port'),
    probeSpec: probeSchema(),
    selector: selectorSchema('Kubernetes Label Selector'),
    remoteDiscoverySelector: selectorSchema('Selector for Services to mirror in remote discovery mode'),
    targetClusterName: str('Name of target cluster to link to'),
    targetClusterDomain: str('Domain name of target cluster to link to'),
    targetClusterLinkerdNamespace: str('Name of namespace Linkerd control plane is installed in on target cluster'),
  };
  const root: JsonSchema = { type: 'object', properties: { spec: { type: 'object', properties: spec } } };
  if (version === 'v1alpha1') return root;

  spec.federatedServiceSelector = selectorSchema('Selector for federated service members');
  if (version === 'v1alpha3') {
    spec.excludedAnnotations = {
      type: 'array',
      description: 'Annotations to exclude when mirroring (exact key, or prefix ending in /*)',
      items: { type: 'string' },
    };
    spec.excludedLabels = {
      type: 'array',
      description: 'Labels to exclude when mirroring (exact key, or prefix ending in /*)',
      items: { type: 'string' },
    };
  }
  root.properties = {
    ...root.properties,
    status: {
      type: 'object',
      description: 'Status defines the state of resources managed by this Link',
      properties: {
        mirrorServices: serviceStatusSchema('List of services mirrored by this Link'),
        federatedServices: serviceStatusSchema('List of federated services mirrored by this Link'),
        // Ours, not upstream's: Link-wide health (credentials, remote reachability, gateway).
        conditions: {
          type: 'array',
          description: 'Link-wide conditions written by the mirror controller: CredentialsValid, RemoteReachable, GatewayAlive',
          items: {
            type: 'object',
            required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
            properties: {
              type: str('Condition type'),
              status: str('One of True, False, Unknown', { enum: ['True', 'False', 'Unknown'] }),
              reason: str('CamelCase reason for the last transition'),
              message: str('Human readable details, including how to fix a failure'),
              lastTransitionTime: str('Last time the condition transitioned from one status to another', { format: 'date-time' }),
            },
          },
        },
      },
    },
  };
  return root;
}

/** The Link CRD with every version served and v1alpha3 stored. */
export function linkCrd(labels: Record<string, string> = {}, annotations: Record<string, string> = {}): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: LINK_CRD_NAME, labels: { 'linkerd.io/extension': 'multicluster', ...labels }, annotations },
    spec: {
      group: LINK_GROUP,
      scope: 'Namespaced',
      names: { plural: LINK_PLURAL, singular: LINK_SINGULAR, kind: LINK_KIND, listKind: `${LINK_KIND}List`, categories: ['linkerd', 'multicluster'] },
      conversion: { strategy: 'None' },
      versions: LINK_VERSIONS.map((name): CrdVersion => {
        const v: CrdVersion = { name, served: true, storage: name === LINK_STORAGE_VERSION, schema: { openAPIV3Schema: linkSchema(name) } };
        if (name !== 'v1alpha1') v.subresources = { status: {} };
        return v;
      }),
    },
  };
}
