// CLI wiring for install, link, unlink and allow (check and gateways are in check-cli.ts): flags are parsed and validated here, once,
// then passed to pure renderers. Output is rendered completely before anything is printed.
import { Command, Option } from 'commander';
import { UsageError } from '../cli/usage-error.ts';
import { checkCommand, gatewaysCommand } from './check-cli.ts';
import { createLogger } from '../log/logger.ts';
import { Defaults, Labels } from '../model/linkerd-names.ts';
import { tryParseGoDuration } from '../duration/go-duration.ts';
import type { InstallValues } from './install.ts';
import {
  applySetOverrides,
  clusterNameProblem,
  controllerFromDefaults,
  defaultInstallValues,
  parsePullPolicy,
  parseServiceType,
  renderInstall,
} from './install.ts';
import { loadKubeAccess } from './kube-access.ts';
import { InvalidSelectorError, isEmptySelector, parseSelector } from '../model/label-selector.ts';
import type { LinkRenderInput } from './link-render.ts';
import { renderLinkManifests } from './link-render.ts';
import type { Manifest, OutputFormat } from './manifest.ts';
import { parseOutputFormat, renderManifests } from './manifest.ts';
import { runAction } from './run-action.ts';
import { readInputFile } from '../identity/pem-files.ts';
import { renderAllow } from './remote-access.ts';
import { readUnlinkInput } from './source-cluster.ts';
import { readTargetCluster } from './target-cluster.ts';
import { renderUnlink } from './unlink.ts';
import { DEFAULT_IMAGE, DEFAULT_PULL_POLICY } from './version.ts';

const DEFAULT_SELECTOR = `${Labels.exported}=${Defaults.exportedSelectorValue}`;
const DEFAULT_REMOTE_DISCOVERY_SELECTOR = `${Labels.exported}=${Defaults.remoteDiscoverySelectorValue}`;
const DEFAULT_FEDERATED_SELECTOR = `${Labels.federated}=${Defaults.federatedSelectorValue}`;
const DEFAULT_TOKEN_LIFETIME = '8760h';

export function linkCommands(env: NodeJS.ProcessEnv = process.env): Command[] {
  return [installCommand(), linkCommand(), unlinkCommand(), allowCommand(), checkCommand(env), gatewaysCommand(env)];
}

// === flag parsing ===

function parseBoolFlag(name: string): (v: string | boolean) => boolean {
  return (v) => {
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw new UsageError(`--${name}=${String(v)}: expected true or false`);
  };
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const commaList = (values: readonly string[]): string[] =>
  values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');

function parsePortFlag(flag: string, v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new UsageError(`${flag} "${v}": expected a port number (1-65535)`);
  return n;
}

function parseDurationFlag(flag: string, v: string, allowZero: boolean): number {
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : tryParseGoDuration(v);
  if (ms === undefined || (!allowZero && ms <= 0)) throw new UsageError(`${flag} "${v}": expected a duration such as 30s, 24h or 8760h`);
  return ms;
}

function selectorFlag(flag: string, text: string) {
  try {
    return parseSelector(text);
  } catch (err) {
    if (err instanceof InvalidSelectorError) throw new UsageError(`${flag}: ${err.message}`);
    throw err;
  }
}

function checkDnsLabel(flag: string, name: string): string {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) {
    throw new UsageError(`${flag} "${name}": expected a DNS-1123 label (lowercase letters, digits and '-', at most 63)`);
  }
  return name;
}

function checkClusterName(flag: string, name: string): string {
  const p = clusterNameProblem(name);
  if (p) throw new UsageError(`${flag}: ${p}`);
  return name;
}

const HOST = /^[A-Za-z0-9]([-A-Za-z0-9.:]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$/;

function write(objects: Manifest[], format: OutputFormat): void {
  process.stdout.write(renderManifests(objects, format));
}

const outputOption = () => new Option('-o, --output <format>', 'output format: yaml or json').default('yaml');

// === install ===

interface InstallFlags {
  gateway: boolean;
  gatewayServiceType?: string;
  set: string[];
  controllers: string[];
  image?: string;
  imagePullPolicy?: string;
  controlPlane?: boolean;
  identityTrustAnchorsFile?: string;
  identityIssuerCertificateFile?: string;
  identityIssuerKeyFile?: string;
  identityTrustDomain?: string;
  clusterDomain?: string;
  output: string;
}

function installCommand(): Command {
  return new Command('install')
    .description('Output the multicluster extension manifests (namespace, Link CRD, gateway, remote access, controllers) for kubectl apply')
    .addOption(
      new Option('--gateway [enabled]', 'install the gateway (use --gateway=false in clusters that are only linked from)')
        .default(true)
        .argParser(parseBoolFlag('gateway')),
    )
    .option('--gateway-service-type <type>', 'gateway Service type: LoadBalancer, NodePort or ClusterIP (default LoadBalancer)')
    .option('--set <key=value>', 'override a value, e.g. gateway.port=4143 or controllers[0].link.ref.name=east (repeatable)', collect, [])
    .option('--controllers <links>', 'comma-separated Link names to run managed mirror controllers for (repeatable)', collect, [])
    .option('--image <image>', `image running the gateway and controllers (default ${DEFAULT_IMAGE})`)
    .option('--image-pull-policy <policy>', `Always, IfNotPresent or Never (default ${DEFAULT_PULL_POLICY})`)
    .option('--control-plane', "also output our identity and destination services in Linkerd's namespace, for a cluster without Linkerd", false)
    .option('--identity-trust-anchors-file <file>', 'PEM trust anchors shared by the linked clusters (the gateway verifies clients with them)')
    .option('--identity-issuer-certificate-file <file>', "with --control-plane: PEM certificate of this cluster's identity issuer")
    .option('--identity-issuer-key-file <file>', "with --control-plane: PEM key of this cluster's identity issuer")
    .option('--identity-trust-domain <domain>', `identity trust domain (default ${Defaults.trustDomain})`)
    .option('--cluster-domain <domain>', `the cluster's DNS domain (default ${Defaults.clusterDomain})`)
    .addOption(outputOption())
    .action((flags: InstallFlags) =>
      runAction(() => {
        const format = parseOutputFormat(flags.output);
        const values = installValuesFromFlags(flags);
        write(renderInstall(values), format);
      }),
    );
}

export function installValuesFromFlags(flags: InstallFlags): InstallValues {
  const values = defaultInstallValues();
  values.gateway.enabled = flags.gateway;
  if (flags.gatewayServiceType !== undefined) values.gateway.serviceType = parseServiceType(flags.gatewayServiceType, '--gateway-service-type');
  if (flags.image !== undefined) values.image = flags.image;
  if (flags.imagePullPolicy !== undefined) values.imagePullPolicy = parsePullPolicy(flags.imagePullPolicy, '--image-pull-policy');
  applySetOverrides(values, flags.set);
  for (const name of commaList(flags.controllers)) {
    values.controllers.push(controllerFromDefaults(values, checkClusterName('--controllers', name)));
  }
  if (flags.identityTrustDomain !== undefined) values.identityTrustDomain = flags.identityTrustDomain;
  if (flags.clusterDomain !== undefined) values.clusterDomain = flags.clusterDomain;
  if (flags.identityTrustAnchorsFile !== undefined) {
    values.identityTrustAnchorsPem = readInputFile(flags.identityTrustAnchorsFile, '--identity-trust-anchors-file');
  }
  const issuerFlags = ['identityIssuerCertificateFile', 'identityIssuerKeyFile'] as const;
  if (!flags.controlPlane) {
    if (issuerFlags.some((f) => flags[f] !== undefined)) {
      throw new UsageError('--identity-issuer-*-file go with --control-plane: add --control-plane, or drop them');
    }
    return values;
  }
  const missing = (['identityTrustAnchorsFile', ...issuerFlags] as const)
    .filter((f) => flags[f] === undefined)
    .map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (missing.length > 0) {
    throw new UsageError(`--control-plane needs ${missing.join(', ')} (make them with \`multicluster certs anchor\` and \`certs issuer\`)`);
  }
  values.controlPlane = {
    issuerCertPem: readInputFile(flags.identityIssuerCertificateFile ?? '', '--identity-issuer-certificate-file'),
    issuerKeyPem: readInputFile(flags.identityIssuerKeyFile ?? '', '--identity-issuer-key-file'),
  };
  return values;
}

// === link ===

interface LinkFlags {
  context?: string;
  kubeconfig?: string;
  clusterName: string;
  namespace: string;
  linkerdNamespace: string;
  apiServerAddress?: string;
  serviceAccountName: string;
  gatewayName: string;
  gatewayNamespace: string;
  selector: string;
  remoteDiscoverySelector: string;
  federatedServiceSelector: string;
  gatewayAddresses?: string;
  gatewayPort?: string;
  excludedAnnotations: string[];
  excludedLabels: string[];
  gateway: boolean;
  tokenLifetime: string;
  createCredentials: boolean;
  trustDomain?: string;
  clusterDomain?: string;
  image: string;
  imagePullPolicy: string;
  enableHeadlessServices: boolean;
  enableNamespaceCreation: boolean;
  controller: boolean;
  timeout: string;
  output: string;
}

function linkCommand(): Command {
  const cmd = new Command('link')
    .description(
      'Read the TARGET cluster (the current or --context) and output the credentials, Link and mirror controller to apply to the SOURCE cluster',
    )
    .option('--context <name>', 'kubeconfig context of the target cluster')
    .option('--kubeconfig <path>', 'kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
    .requiredOption('--cluster-name <name>', 'name of the target cluster, used in mirror names (DNS-1123 label)')
    .option('--namespace <ns>', 'multicluster namespace (remote-access account in the target; Link and controller in the source)', Defaults.namespace)
    .option('--linkerd-namespace <ns>', 'Linkerd control plane namespace', Defaults.linkerdNamespace)
    .option('--api-server-address <url>', "target API server address as seen from the source cluster (default: the context's server)")
    .option('--service-account-name <name>', 'remote-access ServiceAccount in the target', Defaults.remoteAccessServiceAccount)
    .option('--gateway-name <name>', 'gateway Service name in the target', Defaults.gatewayName)
    .option('--gateway-namespace <ns>', 'gateway Service namespace in the target', Defaults.namespace)
    .option('-l, --selector <selector>', 'Services to mirror through the gateway', DEFAULT_SELECTOR)
    .option('--remote-discovery-selector <selector>', 'Services to mirror in remote-discovery (pod-to-pod) mode', DEFAULT_REMOTE_DISCOVERY_SELECTOR)
    .option('--federated-service-selector <selector>', 'federated service members', DEFAULT_FEDERATED_SELECTOR)
    .option('--gateway-addresses <list>', 'comma-separated gateway addresses, overriding the load balancer ingress')
    .option('--gateway-port <port>', 'gateway port, overriding the Service port named mc-gateway')
    .option('--excluded-annotations <list>', 'annotations not copied to mirrors: exact keys, or prefixes ending in /* (repeatable)', collect, [])
    .option('--excluded-labels <list>', 'labels not copied to mirrors: exact keys, or prefixes ending in /* (repeatable)', collect, [])
    .addOption(
      new Option('--gateway [enabled]', 'use the target gateway; --gateway=false links pod-to-pod (flat network)')
        .default(true)
        .argParser(parseBoolFlag('gateway')),
    )
    .option(
      '--token-lifetime <duration>',
      'lifetime of the bounded token (TokenRequest); 0 uses the ServiceAccount token Secret',
      DEFAULT_TOKEN_LIFETIME,
    )
    .option('--create-credentials', 'create the ServiceAccount token Secret in the target if it is missing (the only write)', false)
    .option('--trust-domain <domain>', "target's identity trust domain (default: from linkerd-config)")
    .option('--cluster-domain <domain>', "target's cluster domain (default: from linkerd-config)")
    .option('--image <image>', 'mirror controller image', DEFAULT_IMAGE)
    .option('--image-pull-policy <policy>', 'Always, IfNotPresent or Never', DEFAULT_PULL_POLICY)
    .option('--enable-headless-services', 'mirror headless Services as headless', false)
    .option('--enable-namespace-creation', 'let the controller create missing namespaces (install needs --set enableNamespaceCreation=true)', false)
    .addOption(
      new Option('--controller [enabled]', 'include the mirror controller; false when install --controllers manages it')
        .default(true)
        .argParser(parseBoolFlag('controller')),
    )
    .option('--timeout <duration>', 'per-request timeout against the target API server', '15s')
    .addOption(outputOption());
  cmd.action((flags: LinkFlags) =>
    runAction(async () => {
      const format = parseOutputFormat(flags.output);
      const explicit = (name: string) => cmd.getOptionValueSource(name) === 'cli';
      const plan = planLink(flags, explicit);
      const access = loadKubeAccess({ kubeconfig: flags.kubeconfig, context: flags.context, timeoutMs: plan.timeoutMs }, process.env);
      const facts = await readTargetCluster(access, {
        clusterName: flags.clusterName,
        namespace: flags.namespace,
        serviceAccountName: flags.serviceAccountName,
        linkerdNamespace: flags.linkerdNamespace,
        apiServerAddress: flags.apiServerAddress,
        gateway: flags.gateway
          ? { name: flags.gatewayName, namespace: flags.gatewayNamespace, addresses: plan.gatewayAddresses, port: plan.gatewayPort }
          : undefined,
        tokenLifetimeSeconds: plan.tokenLifetimeSeconds,
        createCredentials: flags.createCredentials,
        trustDomain: flags.trustDomain,
        clusterDomain: flags.clusterDomain,
        log: createLogger().with({ command: 'link', cluster: flags.clusterName }),
      });
      write(
        renderLinkManifests({
          ...plan.input,
          kubeconfig: facts.kubeconfig,
          trustDomain: facts.trustDomain,
          clusterDomain: facts.clusterDomain,
          gateway: facts.gateway,
        }),
        format,
      );
    }),
  );
  return cmd;
}

interface LinkPlan {
  input: Omit<LinkRenderInput, 'kubeconfig' | 'trustDomain' | 'clusterDomain' | 'gateway'>;
  gatewayAddresses: string[] | undefined;
  gatewayPort: number | undefined;
  tokenLifetimeSeconds: number;
  timeoutMs: number;
}

/** Everything `link` can check before touching a cluster. */
export function planLink(flags: LinkFlags, explicit: (option: string) => boolean): LinkPlan {
  checkClusterName('--cluster-name', flags.clusterName);
  const selector = selectorFlag('--selector', flags.selector);
  const remoteDiscoverySelector = selectorFlag('--remote-discovery-selector', flags.remoteDiscoverySelector);
  const federatedServiceSelector = selectorFlag('--federated-service-selector', flags.federatedServiceSelector);
  if (!flags.gateway) {
    const conflicting = (['selector', 'gatewayAddresses', 'gatewayPort'] as const).filter(explicit);
    if (conflicting.length > 0) {
      const names = conflicting.map((c) => '--' + c.replace(/[A-Z]/g, (m) => '-' + m.toLowerCase()));
      throw new UsageError(`${names.join(', ')} cannot be used with --gateway=false: pod-to-pod links mirror with --remote-discovery-selector only`);
    }
  } else if (isEmptySelector(selector)) {
    throw new UsageError(
      '--selector is empty, so nothing would be mirrored through the gateway: pass a selector such as mirror.linkerd.io/exported=true',
    );
  }
  let gatewayAddresses: string[] | undefined;
  if (flags.gatewayAddresses !== undefined) {
    gatewayAddresses = commaList([flags.gatewayAddresses]);
    const bad = gatewayAddresses.filter((a) => !HOST.test(a));
    if (gatewayAddresses.length === 0 || bad.length > 0) {
      throw new UsageError(`--gateway-addresses "${flags.gatewayAddresses}": expected comma-separated IPs or hostnames`);
    }
  }
  const gatewayPort = flags.gatewayPort === undefined ? undefined : parsePortFlag('--gateway-port', flags.gatewayPort);
  const tokenLifetimeMs = parseDurationFlag('--token-lifetime', flags.tokenLifetime, true);
  if (tokenLifetimeMs > 0 && tokenLifetimeMs < 600_000)
    throw new UsageError(`--token-lifetime "${flags.tokenLifetime}": the API server requires at least 10m`);
  const timeoutMs = parseDurationFlag('--timeout', flags.timeout, false);
  if (flags.apiServerAddress !== undefined && !/^https?:\/\/[^/\s]+/.test(flags.apiServerAddress)) {
    throw new UsageError(`--api-server-address "${flags.apiServerAddress}": expected a URL such as https://10.0.0.1:6443`);
  }
  const imagePullPolicy = parsePullPolicy(flags.imagePullPolicy, '--image-pull-policy');
  return {
    input: {
      clusterName: flags.clusterName,
      namespace: flags.namespace,
      linkerdNamespace: flags.linkerdNamespace,
      targetLinkerdNamespace: flags.linkerdNamespace,
      selector,
      remoteDiscoverySelector,
      federatedServiceSelector,
      excludedAnnotations: commaList(flags.excludedAnnotations),
      excludedLabels: commaList(flags.excludedLabels),
      controller: flags.controller
        ? {
            image: flags.image,
            imagePullPolicy,
            enableHeadlessServices: flags.enableHeadlessServices,
            enableNamespaceCreation: flags.enableNamespaceCreation,
          }
        : undefined,
    },
    gatewayAddresses,
    gatewayPort,
    tokenLifetimeSeconds: Math.round(tokenLifetimeMs / 1000),
    timeoutMs,
  };
}

// === unlink ===

interface UnlinkFlags {
  context?: string;
  kubeconfig?: string;
  clusterName: string;
  namespace: string;
  onlyController: boolean;
  timeout: string;
  output: string;
}

function unlinkCommand(): Command {
  return new Command('unlink')
    .description('Read the SOURCE cluster and output everything link created there, plus the mirrors, for kubectl delete')
    .option('--context <name>', 'kubeconfig context of the source cluster')
    .option('--kubeconfig <path>', 'kubeconfig file (default $KUBECONFIG or ~/.kube/config)')
    .requiredOption('--cluster-name <name>', 'name of the linked target cluster')
    .option('--namespace <ns>', 'multicluster namespace of the Link', Defaults.namespace)
    .option('--only-controller', 'only the mirror controller objects; keep the Link, credentials and mirrors', false)
    .option('--timeout <duration>', 'per-request timeout against the API server', '15s')
    .addOption(outputOption())
    .action((flags: UnlinkFlags) =>
      runAction(async () => {
        const format = parseOutputFormat(flags.output);
        checkClusterName('--cluster-name', flags.clusterName);
        const timeoutMs = parseDurationFlag('--timeout', flags.timeout, false);
        const access = loadKubeAccess({ kubeconfig: flags.kubeconfig, context: flags.context, timeoutMs }, process.env);
        const input = await readUnlinkInput(access, {
          clusterName: flags.clusterName,
          namespace: flags.namespace,
          onlyController: flags.onlyController,
        });
        write(renderUnlink(input), format);
      }),
    );
}

// === allow ===

interface AllowFlags {
  serviceAccountName: string;
  namespace: string;
  output: string;
}

function allowCommand(): Command {
  return new Command('allow')
    .description('Output a read-only ServiceAccount (with token Secret and RBAC) that a remote cluster can use to mirror this one')
    .requiredOption('--service-account-name <name>', 'name of the ServiceAccount to create')
    .option('--namespace <ns>', 'namespace of the ServiceAccount', Defaults.namespace)
    .option('--ignore-cluster', 'accepted for compatibility; allow never contacts a cluster', false)
    .addOption(outputOption())
    .action((flags: AllowFlags) =>
      runAction(() => {
        const format = parseOutputFormat(flags.output);
        checkDnsLabel('--service-account-name', flags.serviceAccountName);
        checkDnsLabel('--namespace', flags.namespace);
        write(renderAllow({ serviceAccountName: flags.serviceAccountName, namespace: flags.namespace }), format);
      }),
    );
}
