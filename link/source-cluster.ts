// Reading the SOURCE cluster for `multicluster unlink`: the Link and whatever it left behind.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { LinkInputError } from './errors.ts';
import { Labels } from '../model/linkerd-names.ts';
import type { KubeAccess } from './kube-access.ts';
import { describeRequestError, isNotFound, requestOptions } from './kube-access.ts';
import { LINK_GROUP, LINK_PLURAL, LINK_STORAGE_VERSION } from '../model/link-types.ts';
import type { NamespacedName, UnlinkInput } from './unlink.ts';

export class LinkNotFoundError extends LinkInputError {}

export interface UnlinkReadOptions {
  clusterName: string;
  namespace: string;
  onlyController: boolean;
}

export async function readUnlinkInput(access: KubeAccess, opts: UnlinkReadOptions): Promise<UnlinkInput> {
  const core = access.kc.makeApiClient(CoreV1Api);
  const custom = access.kc.makeApiClient(CustomObjectsApi);
  const ro = requestOptions(access);
  let linkExists = true;
  try {
    await custom.getNamespacedCustomObject(
      { group: LINK_GROUP, version: LINK_STORAGE_VERSION, namespace: opts.namespace, plural: LINK_PLURAL, name: opts.clusterName },
      ro,
    );
  } catch (err) {
    if (!isNotFound(err)) throw describeRequestError(err, `read Link ${opts.namespace}/${opts.clusterName}`, access);
    linkExists = false;
  }
  const names = (items: Array<{ metadata?: { name?: string; namespace?: string } }>): NamespacedName[] =>
    items.map((i) => ({ name: i.metadata?.name ?? '', namespace: i.metadata?.namespace ?? '' })).filter((n) => n.name !== '');
  let mirrors: NamespacedName[] = [];
  let clusterSecrets: NamespacedName[] = [];
  if (!opts.onlyController) {
    try {
      const svcs = await core.listServiceForAllNamespaces(
        { labelSelector: `${Labels.mirroredService}=true,${Labels.clusterName}=${opts.clusterName}` },
        ro,
      );
      mirrors = names(svcs.items);
      const secrets = await core.listSecretForAllNamespaces({ labelSelector: `${Labels.secretClusterName}=${opts.clusterName}` }, ro);
      clusterSecrets = names(secrets.items);
    } catch (err) {
      throw describeRequestError(err, `list the mirrors of cluster ${opts.clusterName}`, access);
    }
  }
  if (!linkExists && mirrors.length === 0 && clusterSecrets.length === 0 && !opts.onlyController) {
    throw new LinkNotFoundError(
      `no Link ${opts.namespace}/${opts.clusterName} and no mirrors of it in context "${access.contextName}": check --cluster-name, --namespace and --context`,
    );
  }
  return { clusterName: opts.clusterName, namespace: opts.namespace, onlyController: opts.onlyController, mirrors, clusterSecrets };
}
