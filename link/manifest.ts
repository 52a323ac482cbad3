// Rendering of generated objects for `kubectl apply` / `kubectl delete`: multi-document YAML
// separated by `---`, or one JSON `v1 List`. Rendering is pure; commands print only after
// everything has rendered, so a failure never leaves half a manifest on stdout.
import { stringify } from 'yaml';
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Deployment,
  V1Namespace,
  V1ObjectMeta,
  V1Role,
  V1RoleBinding,
  V1Secret,
  V1Service,
  V1ServiceAccount,
  V1ConfigMap,
} from '@kubernetes/client-node';
import type { CustomResourceDefinition } from './link-crd.ts';
import type { Link } from '../model/link-types.ts';

/** Only what `kubectl delete -f` needs to find an object. */
export interface ObjectStub {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

type Typed<T> = T & { apiVersion: string; kind: string; metadata: V1ObjectMeta };

export type Manifest =
  | Typed<V1Namespace>
  | Typed<V1ServiceAccount>
  | Typed<V1Secret>
  | Typed<V1ConfigMap>
  | Typed<V1Service>
  | Typed<V1Deployment>
  | Typed<V1ClusterRole>
  | Typed<V1ClusterRoleBinding>
  | Typed<V1Role>
  | Typed<V1RoleBinding>
  | CustomResourceDefinition
  | Link
  | ObjectStub;

export type OutputFormat = 'yaml' | 'json';

/** `-o` named a format we cannot write. */
export class UnsupportedFormatError extends Error {
  override readonly name = 'UnsupportedFormatError';
}

export function parseOutputFormat(text: string): OutputFormat {
  if (text === 'yaml' || text === 'json') return text;
  throw new UnsupportedFormatError(`unsupported output format "${text}": use -o yaml or -o json`);
}

export function renderManifests(objects: readonly Manifest[], format: OutputFormat): string {
  if (format === 'json') {
    return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2) + '\n';
  }
  return objects.map((o) => '---\n' + stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join('');
}

/** A stub for `kubectl delete` of any object. */
export function stub(apiVersion: string, kind: string, name: string, namespace?: string): ObjectStub {
  return namespace === undefined ? { apiVersion, kind, metadata: { name } } : { apiVersion, kind, metadata: { name, namespace } };
}

export const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
