// Reading a service-mirror controller's /metrics for `gateways` and `check`: the Prometheus
// text format parsed into samples, the few series these commands need, and
// histogram_quantile over the probe-latency buckets. Parsing is pure; fetchMetrics is the
// only I/O.
import { LinkInputError } from './errors.ts';
import { parsePrometheusText, parseSampleValue, type Sample } from '../prometheus/text-format.ts';

export { MetricsParseError, parsePrometheusText, type Sample } from '../prometheus/text-format.ts';

export class MetricsFetchError extends Error {
  override readonly name = 'MetricsFetchError';
}

/** The value of the one series `name` whose labels include `match`, if present. */
export function sampleValue(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))?.value;
}

export interface Bucket {
  /** Upper bound (`le`); Infinity for the +Inf bucket. */
  le: number;
  /** Cumulative count of observations <= le. */
  count: number;
}

/** The `<name>_bucket` series of one histogram, sorted by bound. */
export function histogramBuckets(samples: readonly Sample[], name: string, match: Readonly<Record<string, string>>): Bucket[] {
  return samples
    .filter((s) => s.name === `${name}_bucket` && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .map((s) => ({ le: parseSampleValue(s.labels['le'] ?? '') ?? NaN, count: s.value }))
    .filter((b) => !Number.isNaN(b.le))
    .sort((a, b) => a.le - b.le);
}

/**
 * Prometheus' histogram_quantile: the bucket holding rank q*total, interpolated linearly
 * between its bounds (the first bucket starts at 0). A rank in the +Inf bucket yields the
 * highest finite bound. Undefined without observations or without a +Inf bucket.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | undefined {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is outside [0, 1]`);
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const last = sorted[sorted.length - 1];
  if (!last || last.le !== Infinity || last.count <= 0) return undefined;
  const rank = q * last.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank && b.count > prevCount) {
      if (b.le === Infinity) return sorted.length > 1 ? prevLe : undefined;
      if (prevLe === 0 && b.le <= 0) return b.le;
      return prevLe + (b.le - prevLe) * ((rank - prevCount) / (b.count - prevCount));
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

export interface LatencyQuantiles {
  p50: number;
  p95: number;
  p99: number;
}

/** p50/p95/p99 of `gateway_probe_latency_ms` for one cluster, if it has observations. */
export function probeLatency(samples: readonly Sample[], cluster: string): LatencyQuantiles | undefined {
  const buckets = histogramBuckets(samples, 'gateway_probe_latency_ms', { target_cluster_name: cluster });
  const p50 = histogramQuantile(0.5, buckets);
  const p95 = histogramQuantile(0.95, buckets);
  const p99 = histogramQuantile(0.99, buckets);
  if (p50 === undefined || p95 === undefined || p99 === undefined) return undefined;
  return { p50, p95, p99 };
}

/** What one controller's metrics say about one target cluster. */
export interface ControllerGatewayMetrics {
  /** gateway_alive: undefined when the controller exports no such series (no gateway, or not leading). */
  alive: boolean | undefined;
  mirroredServices: number | undefined;
  latency: LatencyQuantiles | undefined;
}

export function gatewayMetricsFor(samples: readonly Sample[], cluster: string): ControllerGatewayMetrics {
  const match = { target_cluster_name: cluster };
  const alive = sampleValue(samples, 'gateway_alive', match);
  return {
    alive: alive === undefined ? undefined : alive === 1,
    mirroredServices: sampleValue(samples, 'service_mirror_mirrored_services', match),
    latency: probeLatency(samples, cluster),
  };
}

/** `--metrics-url <link>=<url>` flags, keyed by Link name. */
export function parseMetricsUrls(values: readonly string[]): Map<string, URL> {
  const out = new Map<string, URL>();
  for (const v of values) {
    const eq = v.indexOf('=');
    const link = eq > 0 ? v.slice(0, eq) : '';
    const text = eq > 0 ? v.slice(eq + 1) : '';
    let url: URL | undefined;
    try {
      url = new URL(text);
    } catch {
      url = undefined;
    }
    if (!link || !url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new LinkInputError(`--metrics-url "${v}": expected <link>=<url>, e.g. cluster2=http://127.0.0.1:9999/metrics`);
    }
    if (out.has(link)) throw new LinkInputError(`--metrics-url: Link "${link}" is given twice; pass one URL per Link`);
    out.set(link, url);
  }
  return out;
}

/** GETs and parses a controller's /metrics; every failure is one line naming the URL. */
export async function fetchMetrics(url: URL, timeoutMs: number): Promise<Sample[]> {
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
    if (!res.ok) throw new MetricsFetchError(`HTTP ${res.status}`);
  } catch (err) {
    const why =
      err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
        ? `no answer within ${timeoutMs / 1000}s`
        : err instanceof Error
          ? causeMessage(err)
          : String(err);
    throw new MetricsFetchError(`cannot read metrics from ${url.href}: ${why}`);
  }
  try {
    return parsePrometheusText(text);
  } catch (err) {
    throw new MetricsFetchError(`${url.href} did not serve Prometheus metrics: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** fetch's "fetch failed" hides the reason (ECONNREFUSED, ...) in `cause`. */
function causeMessage(err: Error): string {
  const cause: unknown = err.cause;
  if (cause instanceof Error) return `${err.message} (${cause.message})`;
  return err.message;
}
