// Label selectors as Links use them: parsed from kubectl syntax, rendered back for a
// server-side `labelSelector`, and matched locally. Unlike Kubernetes, a nil or empty
// selector matches NOTHING (upstream Link semantics), so callers must never list with "".
import type { LabelSelector, LabelSelectorRequirement, SelectorOperator } from './link-types.ts';
import { SELECTOR_OPERATORS } from './link-types.ts';

/** The selector text or object is malformed; the message names the offending part. */
export class InvalidSelectorError extends Error {
  override readonly name = 'InvalidSelectorError';
}

const NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) {
    return `label key "${key}" has an invalid prefix (must be a DNS subdomain)`;
  }
  if (name.length === 0 || name.length > 63 || !NAME_PART.test(name)) {
    return `label key "${key}" is invalid (at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric)`;
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_PART.test(value)) {
    return `label value "${value}" is invalid (at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric)`;
  }
  return undefined;
}

/** Every problem with a selector object (unknown shape from the API), as readable strings. */
export function selectorProblems(sel: unknown): string[] {
  if (sel === undefined || sel === null) return [];
  if (typeof sel !== 'object' || Array.isArray(sel)) return ['must be an object with matchLabels and/or matchExpressions'];
  const problems: string[] = [];
  const { matchLabels, matchExpressions } = sel as Record<string, unknown>;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (typeof matchLabels !== 'object' || Array.isArray(matchLabels)) {
      problems.push('matchLabels must be a map of strings');
    } else {
      for (const [k, v] of Object.entries(matchLabels)) {
        const kp = labelKeyProblem(k);
        if (kp) problems.push(`matchLabels: ${kp}`);
        if (typeof v !== 'string') problems.push(`matchLabels.${k} must be a string`);
        else {
          const vp = labelValueProblem(v);
          if (vp) problems.push(`matchLabels.${k}: ${vp}`);
        }
      }
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions)) {
      problems.push('matchExpressions must be a list');
    } else {
      matchExpressions.forEach((expr: unknown, i) => {
        for (const p of requirementProblems(expr)) problems.push(`matchExpressions[${i}]: ${p}`);
      });
    }
  }
  return problems;
}

function requirementProblems(expr: unknown): string[] {
  if (typeof expr !== 'object' || expr === null || Array.isArray(expr)) return ['must be an object'];
  const { key, operator, values } = expr as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof key !== 'string') problems.push('key must be a string');
  else {
    const kp = labelKeyProblem(key);
    if (kp) problems.push(kp);
  }
  if (typeof operator !== 'string' || !SELECTOR_OPERATORS.includes(operator as SelectorOperator)) {
    problems.push(`operator must be one of ${SELECTOR_OPERATORS.join(', ')}`);
    return problems;
  }
  const list = values === undefined || values === null ? [] : values;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
    problems.push('values must be a list of strings');
    return problems;
  }
  if ((operator === 'In' || operator === 'NotIn') && list.length === 0) {
    problems.push(`operator ${operator} needs at least one value`);
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && list.length > 0) {
    problems.push(`operator ${operator} takes no values`);
  }
  for (const v of list as string[]) {
    const vp = labelValueProblem(v);
    if (vp) problems.push(vp);
  }
  return problems;
}

/** True when the selector selects nothing (nil, or neither labels nor expressions). */
export function isEmptySelector(sel: LabelSelector | undefined): boolean {
  if (sel === undefined) return true;
  return Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0;
}

/**
 * Parses kubectl selector syntax (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) into a LabelSelector,
 * like upstream's `metav1.ParseToLabelSelector`. The empty string gives an empty selector.
 */
export function parseSelector(text: string): LabelSelector {
  const parts = splitTopLevel(text.trim());
  const matchLabels: Record<string, string> = {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') throw new InvalidSelectorError(`empty requirement in selector "${text}"`);
    const req = parseRequirement(part, text);
    if ('label' in req) {
      if (req.label[0] in matchLabels && matchLabels[req.label[0]] !== req.label[1]) {
        matchExpressions.push({ key: req.label[0], operator: 'In', values: [req.label[1]] });
      } else {
        matchLabels[req.label[0]] = req.label[1];
      }
    } else {
      matchExpressions.push(req.expr);
    }
  }
  const sel: LabelSelector = {};
  if (Object.keys(matchLabels).length > 0) sel.matchLabels = matchLabels;
  if (matchExpressions.length > 0) sel.matchExpressions = matchExpressions;
  const problems = selectorProblems(sel);
  if (problems.length > 0) throw new InvalidSelectorError(`selector "${text}": ${problems.join('; ')}`);
  return sel;
}

function splitTopLevel(text: string): string[] {
  if (text === '') return [];
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) throw new InvalidSelectorError(`unbalanced ")" in selector "${text}"`);
  }
  if (depth !== 0) throw new InvalidSelectorError(`unbalanced "(" in selector "${text}"`);
  out.push(text.slice(start));
  return out;
}

type ParsedRequirement = { label: [string, string] } | { expr: LabelSelectorRequirement };

function parseRequirement(part: string, whole: string): ParsedRequirement {
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part);
  if (setMatch) {
    const [, key = '', op, list = ''] = setMatch;
    const values = list.split(',').map((v) => v.trim());
    if (values.length === 1 && values[0] === '') {
      throw new InvalidSelectorError(`"${part}" in selector "${whole}" needs at least one value`);
    }
    return { expr: { key, operator: op === 'in' ? 'In' : 'NotIn', values } };
  }
  const neq = /^([^=!\s]+)\s*!=\s*(\S*)$/.exec(part);
  if (neq) return { expr: { key: neq[1] ?? '', operator: 'NotIn', values: [neq[2] ?? ''] } };
  const eq = /^([^=!\s]+)\s*==?\s*(\S*)$/.exec(part);
  if (eq) return { label: [eq[1] ?? '', eq[2] ?? ''] };
  const notExists = /^!\s*([^=!\s()]+)$/.exec(part);
  if (notExists) return { expr: { key: notExists[1] ?? '', operator: 'DoesNotExist' } };
  if (/^[^=!\s()<>]+$/.test(part)) return { expr: { key: part, operator: 'Exists' } };
  throw new InvalidSelectorError(
    `cannot parse "${part}" in selector "${whole}" (use key=value, key!=value, key in (a,b), key notin (a,b), key or !key)`,
  );
}

/**
 * The selector as a server-side `labelSelector` query, or null when it matches nothing —
 * callers must then skip the list, because "" would match everything.
 */
export function selectorToQuery(sel: LabelSelector | undefined): string | null {
  if (sel === undefined || isEmptySelector(sel)) return null;
  const parts: string[] = [];
  for (const key of Object.keys(sel.matchLabels ?? {}).sort()) {
    parts.push(`${key}=${sel.matchLabels?.[key] ?? ''}`);
  }
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${e.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(e.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${e.key}`);
        break;
      default:
        return assertNever(e.operator);
    }
  }
  return parts.join(',');
}

/** Whether `labels` satisfy the selector. A nil or empty selector matches nothing. */
export function selectorMatches(sel: LabelSelector | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (sel === undefined || isEmptySelector(sel)) return false;
  const have = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (have[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(have, e.key);
    const value = have[e.key];
    switch (e.operator) {
      case 'In':
        if (!present || !(e.values ?? []).includes(value ?? '')) return false;
        break;
      case 'NotIn':
        if (present && (e.values ?? []).includes(value ?? '')) return false;
        break;
      case 'Exists':
        if (!present) return false;
        break;
      case 'DoesNotExist':
        if (present) return false;
        break;
      default:
        return assertNever(e.operator);
    }
  }
  return true;
}

function assertNever(x: never): never {
  throw new Error(`unexpected selector operator ${String(x)}`);
}
