// The DNS-name check linkerd2-proxy applies to a transport header's `name` (linkerd-dns-name,
// which uses webpki's reference-identifier rules plus underscores): ASCII labels of 1-63
// letters, digits, '-' or '_', not starting or ending with '-', at most 253 characters without
// an optional trailing dot, and a last label that is not all digits (so IP addresses fail).

const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;
const ALL_DIGITS = /^[0-9]+$/;

export function isValidDnsName(name: string): boolean {
  const body = name.endsWith('.') ? name.slice(0, -1) : name;
  if (body.length === 0 || body.length > 253) return false;
  const labels = body.split('.');
  if (!labels.every((l) => LABEL.test(l))) return false;
  return !ALL_DIGITS.test(labels[labels.length - 1] ?? '');
}
