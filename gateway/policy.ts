// Which client identities may reach which Services. Upstream's gateway admits every
// authenticated client; a policy file and a Service annotation can narrow that per Service.
// Globs: `*` matches any run of characters except `.`, `**` any run including dots.
import { parse } from 'yaml';
import { GatewayError } from './errors.ts';

/** Annotation on a target Service: comma-separated client identity globs. */
export const ALLOWED_CLIENTS_ANNOTATION = 'multicluster.linkerd.io/allowed-clients';

export interface PolicyRule {
  /** Glob over the Service's `name.namespace` (e.g. `web.*`, `**`). */
  service: string;
  /** Client identity globs allowed to reach matching Services. */
  allow: string[];
}

export interface Policy {
  rules: PolicyRule[];
}

export class PolicyFileError extends GatewayError {
  override readonly name = 'PolicyFileError';
}

/**
 * Parses a policy file:
 *   rules:
 *     - service: "web.*"
 *       allow: ["*.cluster1-ns.serviceaccount.identity.linkerd.cluster.local"]
 */
export function parsePolicy(text: string): Policy {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new PolicyFileError('the policy file is not valid YAML', { cause: err });
  }
  const rules = (doc as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) throw new PolicyFileError('the policy file needs a top-level "rules" list');
  return {
    rules: rules.map((r: unknown, i) => {
      const rule = r as { service?: unknown; allow?: unknown } | null;
      if (typeof rule?.service !== 'string') throw new PolicyFileError(`rule #${i + 1}: "service" must be a string glob`);
      if (!Array.isArray(rule.allow) || !rule.allow.every((a): a is string => typeof a === 'string')) {
        throw new PolicyFileError(`rule #${i + 1}: "allow" must be a list of identity globs`);
      }
      return { service: rule.service, allow: rule.allow };
    }),
  };
}

const compiled = new Map<string, RegExp>();

/** `*` stays within one DNS label, `**` crosses labels; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const cached = compiled.get(glob);
  if (cached) return cached;
  // Globs come from one policy file and Service annotations: a small set, but never let it grow without bound.
  if (compiled.size > 10_000) compiled.clear();
  const re = compileGlob(glob);
  compiled.set(glob, re);
  return re;
}

function compileGlob(glob: string): RegExp {
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      src += '.*';
      i++;
    } else if (c === '*') {
      src += '[^.]*';
    } else {
      src += c.replace(/[\\^$.|?+()[\]{}]/g, '\\$&');
    }
  }
  return new RegExp(`^${src}$`);
}

export function globMatch(glob: string, value: string): boolean {
  return globToRegExp(glob).test(value);
}

export interface AuthzInput {
  clientId: string;
  service: { name: string; namespace: string };
  /** The Service's allowed-clients annotation, if any. */
  annotation?: string;
}

/**
 * Allowed when no rule and no annotation speaks about the Service (upstream's default), or when
 * the client matches the annotation and every policy rule whose service glob matches.
 */
export function isAllowed(policy: Policy | undefined, input: AuthzInput): boolean {
  const svc = `${input.service.name}.${input.service.namespace}`;
  if (input.annotation !== undefined && input.annotation.trim() !== '') {
    const globs = input.annotation
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== '');
    if (!globs.some((g) => globMatch(g, input.clientId))) return false;
  }
  for (const rule of policy?.rules ?? []) {
    if (globMatch(rule.service, svc) && !rule.allow.some((g) => globMatch(g, input.clientId))) return false;
  }
  return true;
}
