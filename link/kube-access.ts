// Loading a kubeconfig context and turning client failures into one-line, actionable
// errors. Every error here is a LinkInputError: the user fixes it (context, cluster, RBAC).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, ObservableMiddleware, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { ApiException, KubeConfig, Observable } from '@kubernetes/client-node';
import { LinkInputError } from './errors.ts';
import { reuseConnections } from '../kube/client.ts';

export class KubeconfigError extends LinkInputError {}
export class ContextNotFoundError extends LinkInputError {}
export class ApiServerUnreachableError extends LinkInputError {}
export class ApiRequestError extends LinkInputError {}

export interface KubeAccessOptions {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** Per-request timeout, so an unreachable address fails instead of hanging. */
  timeoutMs?: number;
}

/** A resolved context: the client config plus what error messages need to name. */
export interface KubeAccess {
  kc: KubeConfig;
  contextName: string;
  cluster: Cluster;
  /** Base64 PEM of the cluster CA, read from the file if the kubeconfig names one. */
  caData: string | undefined;
  timeoutMs: number;
}

/**
 * Loads `--kubeconfig`, else $KUBECONFIG, else ~/.kube/config, and selects `--context` (or the
 * current one). Unlike client-node's loadFromDefault, never falls back to localhost:8080.
 */
export function loadKubeAccess(opts: KubeAccessOptions, env: Readonly<Record<string, string | undefined>>): KubeAccess {
  const kc = reuseConnections(new KubeConfig());
  const fromEnv = env.KUBECONFIG;
  const defaultPath = join(env.HOME ?? homedir(), '.kube', 'config');
  let source: string;
  try {
    if (opts.kubeconfig) {
      source = opts.kubeconfig;
      kc.loadFromFile(opts.kubeconfig);
    } else if (fromEnv) {
      source = `$KUBECONFIG (${fromEnv})`;
      kc.loadFromDefault();
    } else if (existsSync(defaultPath)) {
      source = defaultPath;
      kc.loadFromFile(defaultPath);
    } else {
      throw new KubeconfigError(`no kubeconfig found at ${defaultPath}: pass --kubeconfig or set KUBECONFIG`);
    }
  } catch (err) {
    if (err instanceof KubeconfigError) throw err;
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new KubeconfigError(`cannot load kubeconfig ${opts.kubeconfig ?? fromEnv ?? defaultPath}: ${why}`);
  }
  const contextName = opts.context || kc.getCurrentContext();
  const names = kc.getContexts().map((c) => c.name);
  if (!contextName) {
    throw new ContextNotFoundError(`kubeconfig ${source} has no current context: pass --context (available: ${names.join(', ') || 'none'})`);
  }
  const ctx = kc.getContextObject(contextName);
  if (!ctx) {
    throw new ContextNotFoundError(
      `context "${contextName}" not found in kubeconfig ${source}: pass --context with one of: ${names.join(', ') || 'none'}`,
    );
  }
  kc.setCurrentContext(contextName);
  const cluster = kc.getCluster(ctx.cluster);
  if (!cluster) throw new ContextNotFoundError(`context "${contextName}" refers to cluster "${ctx.cluster}", which is not in kubeconfig ${source}`);
  let caData = cluster.caData;
  if (!caData && cluster.caFile) {
    // Read now: a missing file would otherwise surface as an unreachable server.
    try {
      caData = readFileSync(cluster.caFile).toString('base64');
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new KubeconfigError(`cannot read certificate-authority of cluster "${ctx.cluster}" (context "${contextName}"): ${why}`);
    }
  }
  return { kc, contextName, cluster, caData, timeoutMs: opts.timeoutMs ?? 15_000 };
}

/** Client options adding a per-request abort timeout (client-node has none by default). */
export function requestOptions(access: KubeAccess): { middleware: ObservableMiddleware[]; middlewareMergeStrategy: 'append' } {
  const timeout: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(access.timeoutMs));
      return new Observable(Promise.resolve(ctx));
    },
    post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
  };
  return { middleware: [timeout], middlewareMergeStrategy: 'append' };
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiException && err.code === 404;
export const isForbidden = (err: unknown): boolean => err instanceof ApiException && (err.code === 403 || err.code === 401);
export const isConflict = (err: unknown): boolean => err instanceof ApiException && err.code === 409;

/** The API's own one-line reason from a Status body, if any. */
function statusMessage(err: ApiException<unknown>): string {
  const body: unknown = err.body;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') return parsed.message;
    } catch {
      return body.split('\n')[0] ?? '';
    }
  }
  if (typeof body === 'object' && body !== null && 'message' in body && typeof body.message === 'string') return body.message;
  return `HTTP ${err.code}`;
}

/**
 * Converts a client failure while doing `action` into a one-line LinkInputError: unreachable
 * server, missing permission, or the API's own reason.
 */
export function describeRequestError(err: unknown, action: string, access: KubeAccess): LinkInputError {
  const where = `context "${access.contextName}" (${access.cluster.server})`;
  if (err instanceof ApiException) {
    const reason = statusMessage(err).replace(/\s+/g, ' ');
    if (err.code === 401)
      return new ApiRequestError(`cannot ${action}: the credentials of ${where} were rejected (${reason}); log in again or pick another --context`);
    if (err.code === 403) return new ApiRequestError(`cannot ${action} in ${where}: forbidden (${reason}); use a context with permission to do so`);
    return new ApiRequestError(`cannot ${action} in ${where}: ${reason}`);
  }
  const raw = err instanceof Error ? err.message : String(err);
  if (/certificate|self.signed|ssl|tls/i.test(raw) && !/abort/i.test(raw)) {
    const why = (raw.split('\n')[0] ?? raw).replace(/^request to \S+ failed, reason: /, '');
    return new ApiServerUnreachableError(
      `cannot verify the API server certificate of ${where} to ${action}: ${why}; check certificate-authority in the kubeconfig and --context`,
    );
  }
  const reason =
    (err instanceof Error && err.name === 'AbortError') || /abort/i.test(raw)
      ? `no answer within ${access.timeoutMs / 1000}s`
      : (raw.split('\n')[0] ?? raw);
  return new ApiServerUnreachableError(
    `cannot reach the API server of ${where} to ${action}: ${reason.replace(/^request to \S+ failed, reason: /, '')}; check that the cluster is running and --context/--kubeconfig point at it`,
  );
}
