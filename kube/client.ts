// Building API clients and recognising API errors. Every component reaches Kubernetes
// through @kubernetes/client-node; this is the one place that knows its quirks.
import {
  ApiException,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
} from '@kubernetes/client-node';

export { KubeConfig };

export type PatchOptions = ReturnType<typeof setHeaderOptions>;

/** Request options that make a `patch*` call a JSON merge patch. */
export const mergePatch: PatchOptions = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function apiStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  return undefined;
}

export const isNotFound = (err: unknown): boolean => apiStatus(err) === 404;
export const isConflict = (err: unknown): boolean => apiStatus(err) === 409;
export const isGone = (err: unknown): boolean => apiStatus(err) === 410;
export const isForbidden = (err: unknown): boolean => apiStatus(err) === 403 || apiStatus(err) === 401;

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
  if (err instanceof Error) return err.message;
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

export function loadKubeConfig(opts: { kubeconfig?: string; context?: string; yaml?: string }): KubeConfig {
  const kc = new KubeConfig();
  if (opts.yaml !== undefined) kc.loadFromString(opts.yaml);
  else if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new Error(`context "${opts.context}" not found in the kubeconfig (known contexts: ${known}); pass --context with one of them`);
    }
    kc.setCurrentContext(opts.context);
  }
  return kc;
}

export type { ConfigurationOptions };
