// `config.linkerd.io/opaque-ports`: a comma list of ports and ranges (`25,3306,8000-8100`).
// An unparseable entry marks nothing opaque: a typo must not silently change the protocol
// of a port the user did not name.

export function parseOpaquePorts(value: string | undefined): (port: number) => boolean {
  const ranges: Array<[number, number]> = [];
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(entry);
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo >= 1 && hi <= 65535 && lo <= hi) ranges.push([lo, hi]);
  }
  return (port) => ranges.some(([lo, hi]) => port >= lo && port <= hi);
}
