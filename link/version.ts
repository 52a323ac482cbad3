// Identity of the tool that generated a manifest. Fixed strings (no timestamps) keep
// generated YAML identical between runs, so `kubectl apply` twice changes nothing.

export const CLI_VERSION = '0.1.0';
export const CREATED_BY = `linkerd-multicluster-ts/cli ${CLI_VERSION}`;
/** The project's image; its ENTRYPOINT is the `multicluster` binary, so pods pass only args. */
export const DEFAULT_IMAGE = `ghcr.io/linkerd-multicluster-ts/multicluster:${CLI_VERSION}`;
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];
export const DEFAULT_PULL_POLICY: PullPolicy = 'IfNotPresent';

export const EXTENSION_LABEL = 'linkerd.io/extension';
export const EXTENSION_VALUE = 'multicluster';
export const INJECT_ANNOTATION = 'linkerd.io/inject';
export const SA_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SA_TOKEN_SECRET_TYPE = 'kubernetes.io/service-account-token';
/** Shared by every mirror controller; rendered by `install`, bound per link. */
export const CONTROLLER_CLUSTER_ROLE = 'linkerd-multicluster-controller-access-local-resources';
