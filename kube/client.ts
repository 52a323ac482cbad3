// Building API clients and recognising API errors. Every component reaches Kubernetes
// through @kubernetes/client-node; this is the one place that knows its quirks.
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { ApiException, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

type PatchOptions = ReturnType<typeof setHeaderOptions>;

/** Request options that make a `patch*` call a JSON merge patch. */
export const mergePatch: PatchOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** A kubeconfig that cannot be used as asked (e.g. an unknown context). */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

/**
 * The HTTP status of a failed API call: client-node's request errors carry it as `code`, its
 * watch errors (a refused watch request) as `statusCode`, and a watch ERROR event's Status as
 * `code` (see Reflector).
 */
export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (err instanceof Error && 'statusCode' in err && typeof err.statusCode === 'number') return err.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => apiStatus(err) === 404;
export const isConflict = (err: unknown): boolean => apiStatus(err) === 409;
/** The API server refused the credentials (401) or what they may do (403). */
export const isAuthFailure = (status: number | undefined): boolean => status === 401 || status === 403;

/**
 * A JSON patch the API server could not apply (a `test` operation failed, or a path it names
 * is missing). It answers 422 like a validation error, but without the object's kind or any
 * field causes, which every validation error carries.
 */
export function isPatchNotApplied(err: unknown): boolean {
  if (!(err instanceof ApiException) || err.code !== 422 || typeof err.body !== 'string') return false;
  try {
    const parsed: unknown = JSON.parse(err.body);
    if (!parsed || typeof parsed !== 'object') return false;
    const details = 'details' in parsed && parsed.details && typeof parsed.details === 'object' ? parsed.details : {};
    return !('kind' in details) && !('causes' in details);
  } catch {
    return false;
  }
}

/** The API server's own explanation, which is far clearer than client-node's default message. */
export function apiErrorMessage(err: unknown): string {
  if (err instanceof ApiException) {
    const body: unknown = err.body;
    if (typeof body === 'string') {
      try {
        const parsed: unknown = JSON.parse(body);
        if (parsed && typeof parsed === 'object' && 'message' in parsed && typeof parsed.message === 'string') {
          return `${parsed.message} (HTTP ${err.code})`;
        }
      } catch {
        // Not JSON; fall through.
      }
      if (body) return `${body} (HTTP ${err.code})`;
    }
    return `HTTP ${err.code}`;
  }
  const status = apiStatus(err);
  if (err instanceof Error) return status === undefined ? err.message : `${err.message} (HTTP ${status})`;
  return String(err);
}

/** The object, or undefined when the API says it does not exist. */
export async function readIfExists<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

type AgentFactory = (cluster: { server: string; proxyUrl?: string; skipTLSVerify?: boolean } | null, options: AgentOptions) => HttpAgent;

/**
 * client-node builds a fresh https.Agent for every request, so each call pays a new TCP
 * connection and TLS handshake (15–20 ms here, and CPU on both ends). This keeps one
 * keep-alive agent per distinct set of TLS options on the KubeConfig instead. Proxied
 * clusters keep client-node's own agents.
 */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const host = kc as unknown as { createAgent: AgentFactory };
  const original = host.createAgent.bind(kc);
  const agents = new Map<string, HttpAgent>();
  host.createAgent = (cluster, options) => {
    const plain = cluster?.server.startsWith('http:') ?? false;
    // client-node's own path for proxies, and for its refusal of plain HTTP without skipTLSVerify.
    if (!cluster || cluster.proxyUrl || (plain && !cluster.skipTLSVerify)) return original(cluster, options);
    const key = agentKey(cluster.server, options);
    let agent = agents.get(key);
    if (!agent) {
      const keepAlive = { keepAlive: true, scheduling: 'lifo' as const };
      agent = plain ? new HttpAgent(keepAlive) : new HttpsAgent({ ...options, ...keepAlive });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}

function agentKey(server: string, options: AgentOptions): string {
  const h = createHash('sha256').update(server);
  for (const [k, v] of Object.entries(options).sort(([a], [b]) => a.localeCompare(b))) {
    if (v === undefined) continue;
    h.update(`\0${k}=`);
    h.update(typeof v === 'string' || Buffer.isBuffer(v) ? v : (JSON.stringify(v) ?? ''));
  }
  return h.digest('hex');
}

export function loadKubeConfig(opts: { kubeconfig?: string; context?: string; yaml?: string }): KubeConfig {
  const kc = reuseConnections(new KubeConfig());
  if (opts.yaml !== undefined) kc.loadFromString(opts.yaml);
  else if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known =
        kc
          .getContexts()
          .map((c) => c.name)
          .join(', ') || 'none';
      throw new KubeConfigError(`context "${opts.context}" not found in the kubeconfig (known contexts: ${known}); pass --context with one of them`);
    }
    kc.setCurrentContext(opts.context);
  }
  return kc;
}
