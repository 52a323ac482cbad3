// `multicluster unlink`: stubs for `kubectl delete` of everything `link` created in the
// SOURCE cluster plus the mirrors of that cluster. The Link goes first: the controller holds
// a finalizer (multicluster.linkerd.io/mirrors) on it and removes the Link's mirrors when it
// is deleted, so it must still run when the Link is deleted. kubectl deletes in order and
// only then waits, so the controller Deployment comes right after, then everything else.
// The probe Endpoints are the controller's, not link's, but are listed after the probe
// Service so they go too when there is no probe Service (e.g. `link --controller=false`).
import { ObjectNames } from '../model/linkerd-names.ts';
import { controllerObjectNames } from './controller.ts';
import { LINK_API_VERSION, LINK_KIND } from '../model/link-types.ts';
import type { ObjectStub } from './manifest.ts';
import { stub } from './manifest.ts';

export interface NamespacedName {
  name: string;
  namespace: string;
}

export interface UnlinkInput {
  clusterName: string;
  namespace: string;
  /** Only the controller's objects: keep the Link, credentials and mirrors. */
  onlyController: boolean;
  /** Services labelled as mirrors of this cluster, found in the source cluster. */
  mirrors: NamespacedName[];
  /** Secrets labelled with this cluster name (destination's credentials copy). */
  clusterSecrets: NamespacedName[];
}

const byNamespaceThenName = (a: NamespacedName, b: NamespacedName) =>
  a.namespace === b.namespace ? a.name.localeCompare(b.name) : a.namespace.localeCompare(b.namespace);

export function renderUnlink(input: UnlinkInput): ObjectStub[] {
  const probe = ObjectNames.probeService(input.clusterName);
  const controller = controllerObjectNames(input.clusterName, input.namespace).flatMap(([apiVersion, kind, name, ns]) =>
    kind === 'Service' && name === probe
      ? [stub(apiVersion, kind, name, ns), stub('v1', 'Endpoints', probe, input.namespace)]
      : [stub(apiVersion, kind, name, ns)],
  );
  if (input.onlyController) return controller;
  const [deployment, ...rest] = controller;
  return [
    stub(LINK_API_VERSION, LINK_KIND, input.clusterName, input.namespace),
    ...(deployment ? [deployment] : []),
    ...[...input.mirrors].sort(byNamespaceThenName).map((m) => stub('v1', 'Service', m.name, m.namespace)),
    ...rest,
    stub('v1', 'Secret', ObjectNames.credentialsSecret(input.clusterName), input.namespace),
    ...[...input.clusterSecrets]
      .filter((s) => !(s.namespace === input.namespace && s.name === ObjectNames.credentialsSecret(input.clusterName)))
      .sort(byNamespaceThenName)
      .map((s) => stub('v1', 'Secret', s.name, s.namespace)),
  ];
}
