// The demo's applications as manifests: each app is a Deployment of the project's image
// running `multicluster demo-app <app>`, with `multicluster outbound` beside it where it
// calls other services, so its traffic takes the path a meshed pod's would.
import type { V1Container, V1Volume } from '@kubernetes/client-node';

export interface DemoAppsOptions {
  image: string;
  /** This cluster's name (answers say where they were served) and the other one's (mirror names). */
  cluster: string;
  remoteCluster: string;
  linkerdNamespace: string;
  trustDomain: string;
  clusterDomain: string;
}

/** A Kubernetes object as the demo applies it: plain JSON for `kubectl apply`. */
export type DemoObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

export const DEMO_NAMESPACE = 'demo';
export const EMOJIVOTO_NAMESPACE = 'emojivoto';
const OUTBOUND_HTTP1 = '127.0.0.1:4140';
const OUTBOUND_HTTP2 = '127.0.0.1:4142';
export const TRAFFIC_METRICS_PORT = 9090;
const TOKEN_DIR = '/var/run/secrets/tokens';
const ROOTS_DIR = '/var/run/linkerd/identity/trust-roots';

const svcName = (name: string, ns: string, o: DemoAppsOptions) => `${name}.${ns}.svc.${o.clusterDomain}`;
const identityOf = (sa: string, ns: string, o: DemoAppsOptions) => `${sa}.${ns}.serviceaccount.identity.${o.linkerdNamespace}.${o.trustDomain}`;

function outboundSidecar(sa: string, ns: string, o: DemoAppsOptions): V1Container {
  const l5d = o.linkerdNamespace;
  return {
    name: 'outbound',
    image: o.image,
    args: [
      'outbound',
      '--destination-addr',
      `${svcName('linkerd-dst', l5d, o)}:8086`,
      '--http1-listen',
      OUTBOUND_HTTP1,
      '--http2-listen',
      OUTBOUND_HTTP2,
      '--admin-listen',
      '0.0.0.0:4191',
      '--identity',
      identityOf(sa, ns, o),
      '--identity-addr',
      `${svcName('linkerd-identity', l5d, o)}:8080`,
      '--identity-server-name',
      identityOf('linkerd-identity', l5d, o),
      '--identity-token-file',
      `${TOKEN_DIR}/linkerd-identity-token`,
      '--trust-anchors',
      `${ROOTS_DIR}/ca-bundle.crt`,
    ],
    ports: [{ name: 'outbound-admin', containerPort: 4191 }],
    readinessProbe: { httpGet: { path: '/ready', port: 4191 }, periodSeconds: 2 },
    volumeMounts: [
      { name: 'identity-token', mountPath: TOKEN_DIR, readOnly: true },
      { name: 'trust-roots', mountPath: ROOTS_DIR, readOnly: true },
    ],
  };
}

const sidecarVolumes: V1Volume[] = [
  {
    name: 'identity-token',
    projected: { sources: [{ serviceAccountToken: { audience: 'identity.l5d.io', expirationSeconds: 86400, path: 'linkerd-identity-token' } }] },
  },
  { name: 'trust-roots', configMap: { name: 'linkerd-identity-trust-roots' } },
];

interface AppSpec {
  name: string;
  namespace: string;
  args: string[];
  ports: { name: string; port: number }[];
  /** The app calls others: it gets the outbound sidecar. */
  outbound: boolean;
  /** `mirror.linkerd.io/exported` value for its Service, if exported. */
  exported?: 'true' | 'remote-discovery';
}

function app(spec: AppSpec, o: DemoAppsOptions): DemoObject[] {
  const labels = { app: spec.name };
  const main: V1Container = {
    name: spec.name,
    image: o.image,
    args: ['demo-app', ...spec.args, '--cluster', o.cluster],
    ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.port })),
  };
  const containers = spec.outbound ? [main, outboundSidecar(spec.name, spec.namespace, o)] : [main];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: spec.name, namespace: spec.namespace } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: spec.name, namespace: spec.namespace, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { serviceAccountName: spec.name, containers, ...(spec.outbound ? { volumes: sidecarVolumes } : {}) },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: spec.name,
        namespace: spec.namespace,
        labels: { ...labels, ...(spec.exported ? { 'mirror.linkerd.io/exported': spec.exported } : {}) },
      },
      spec: { selector: labels, ports: spec.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.port })) },
    },
  ];
}

function namespace(name: string): DemoObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

/** The trust anchors the sidecars verify peers with, in each namespace that runs sidecars. */
function trustRoots(ns: string, anchorsPem: string): DemoObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'linkerd-identity-trust-roots', namespace: ns },
    data: { 'ca-bundle.crt': anchorsPem },
  };
}

/** The target cluster's apps: world (through the gateway), emoji and voting (pod to pod). */
export function targetApps(o: DemoAppsOptions): DemoObject[] {
  return [
    namespace(DEMO_NAMESPACE),
    namespace(EMOJIVOTO_NAMESPACE),
    ...app(
      {
        name: 'world',
        namespace: DEMO_NAMESPACE,
        args: ['world'],
        ports: [
          { name: 'http', port: 8080 },
          { name: 'grpc', port: 8081 },
        ],
        outbound: false,
        exported: 'true',
      },
      o,
    ),
    ...app(
      {
        name: 'emoji-svc',
        namespace: EMOJIVOTO_NAMESPACE,
        args: ['emoji'],
        ports: [{ name: 'http', port: 8080 }],
        outbound: false,
        exported: 'remote-discovery',
      },
      o,
    ),
    ...app(
      {
        name: 'voting-svc',
        namespace: EMOJIVOTO_NAMESPACE,
        args: ['voting'],
        ports: [{ name: 'http', port: 8080 }],
        outbound: false,
        exported: 'remote-discovery',
      },
      o,
    ),
  ];
}

/** The source cluster's apps: hello, web and the traffic generator, each with its outbound proxy. */
export function sourceApps(o: DemoAppsOptions, anchorsPem: string): DemoObject[] {
  const remote = o.remoteCluster;
  const world = (port: number) => `${svcName(`world-${remote}`, DEMO_NAMESPACE, o)}:${port}`;
  const ev = (svc: string) => `${svcName(`${svc}-${remote}`, EMOJIVOTO_NAMESPACE, o)}:8080`;
  return [
    namespace(DEMO_NAMESPACE),
    namespace(EMOJIVOTO_NAMESPACE),
    trustRoots(DEMO_NAMESPACE, anchorsPem),
    trustRoots(EMOJIVOTO_NAMESPACE, anchorsPem),
    ...app(
      {
        name: 'hello',
        namespace: DEMO_NAMESPACE,
        args: [
          'hello',
          '--world-http',
          world(8080),
          '--world-grpc',
          world(8081),
          '--outbound-http1',
          OUTBOUND_HTTP1,
          '--outbound-http2',
          OUTBOUND_HTTP2,
        ],
        ports: [{ name: 'http', port: 8080 }],
        outbound: true,
      },
      o,
    ),
    ...app(
      {
        name: 'web',
        namespace: EMOJIVOTO_NAMESPACE,
        args: ['web', '--emoji', ev('emoji-svc'), '--voting', ev('voting-svc'), '--outbound', OUTBOUND_HTTP1],
        ports: [{ name: 'http', port: 8080 }],
        outbound: true,
      },
      o,
    ),
    ...app(
      {
        name: 'traffic',
        namespace: DEMO_NAMESPACE,
        args: [
          'traffic',
          '--outbound',
          OUTBOUND_HTTP1,
          '--metrics-port',
          String(TRAFFIC_METRICS_PORT),
          '--target',
          `hello-http=${svcName('hello', DEMO_NAMESPACE, o)}:8080/http`,
          '--target',
          `hello-grpc=${svcName('hello', DEMO_NAMESPACE, o)}:8080/grpc`,
          '--target',
          `hello-stream=${svcName('hello', DEMO_NAMESPACE, o)}:8080/grpc-stream`,
          '--target',
          `web=${svcName('web', EMOJIVOTO_NAMESPACE, o)}:8080/`,
          '--target',
          `vote=POST:${svcName('web', EMOJIVOTO_NAMESPACE, o)}:8080/vote/:rocket:`,
        ],
        ports: [{ name: 'metrics', port: TRAFFIC_METRICS_PORT }],
        outbound: true,
      },
      o,
    ),
  ];
}
