// `multicluster certs anchor|issuer|leaf`: the identity PKI a multicluster mesh needs, one
// shared trust anchor plus an issuer per cluster, mirroring the book's `step certificate
// create ... --profile root-ca|intermediate-ca` flow. Flags are parsed and validated here
// once; the library functions below take typed values only.
import { Command } from 'commander';
import { UsageError } from '../cli/usage-error.ts';
import { Defaults } from '../model/linkerd-names.ts';
import { InvalidDurationError, parseGoDuration } from '../duration/go-duration.ts';
import { formatIdentityName, parseIdentityName } from './identity-name.ts';
import { createIdentityIssuer } from './issuer.ts';
import { issueLeaf } from './leaf.ts';
import { readInputFile, writeOutputFiles } from './pem-files.ts';
import { loadSigningCa, type SigningCa } from './signing-ca.ts';
import { createTrustAnchor, DEFAULT_ANCHOR_COMMON_NAME } from './trust-anchor.ts';
import { PkiError, type x509 } from './x509.ts';

interface OutputFlags {
  out: string;
  force: boolean;
}

interface SignerFlags {
  caCert: string;
  caKey: string;
}

export function certsCommand(): Command {
  return new Command('certs')
    .description('create the identity PKI: a shared trust anchor, per-cluster issuers and workload certificates')
    .addCommand(anchorCommand())
    .addCommand(issuerCommand())
    .addCommand(leafCommand());
}

// === anchor ===

function anchorCommand(): Command {
  return withOutput(new Command('anchor'))
    .description('create the trust anchor (self-signed root CA) shared by all linked clusters: ca.crt, ca.key')
    .option('--common-name <name>', 'subject CN of the root', DEFAULT_ANCHOR_COMMON_NAME)
    .option('--lifetime <duration>', 'validity, Go duration syntax', '8760h')
    .action(async function (this: Command) {
      const f = flags(this);
      const out = outputFlags(f);
      const commonName = stringFlag(f, 'commonName');
      const lifetimeMs = durationFlag(f, 'lifetime', '--lifetime', true);
      await asUsage(async () => {
        const anchor = await createTrustAnchor({ commonName, lifetimeMs });
        const files = writeOutputFiles(
          out.out,
          [
            { name: 'ca.crt', contents: anchor.certPem, secret: false },
            { name: 'ca.key', contents: anchor.keyPem, secret: true },
          ],
          out.force,
        );
        report(files, 'trust anchor', anchor.cert);
      });
    });
}

// === issuer ===

function issuerCommand(): Command {
  return withSigner(withOutput(new Command('issuer')), 'trust anchor (ca.crt / ca.key)')
    .description("create a cluster's identity issuer (intermediate CA, pathlen 0) signed by the trust anchor: issuer.crt, issuer.key")
    .option('--trust-domain <domain>', "the cluster's identity trust domain", Defaults.trustDomain)
    .option('--control-namespace <ns>', 'the Linkerd control-plane namespace', Defaults.linkerdNamespace)
    .option('--lifetime <duration>', "validity, Go duration syntax (clamped to the anchor's)", '8760h')
    .action(async function (this: Command) {
      const f = flags(this);
      const out = outputFlags(f);
      const signer = signerFlags(f);
      const trustDomain = stringFlag(f, 'trustDomain');
      const controlNamespace = stringFlag(f, 'controlNamespace');
      const lifetimeMs = durationFlag(f, 'lifetime', '--lifetime', true);
      await asUsage(async () => {
        const anchor = await loadSigner(signer, 'trust anchor');
        const issuer = await createIdentityIssuer(anchor.bundle, { trustDomain, controlNamespace, lifetimeMs });
        const files = writeOutputFiles(
          out.out,
          [
            { name: 'issuer.crt', contents: issuer.certPem, secret: false },
            { name: 'issuer.key', contents: issuer.keyPem, secret: true },
          ],
          out.force,
        );
        report(files, 'identity issuer', issuer.cert);
      });
    });
}

// === leaf ===

function leafCommand(): Command {
  return withSigner(withOutput(new Command('leaf')), 'identity issuer (issuer.crt / issuer.key)')
    .description('issue a workload certificate as the identity service would: tls.crt (leaf + chain), tls.key')
    .option('--identity <name>', 'full identity <sa>.<ns>.serviceaccount.identity.<control-ns>.<trust-domain>')
    .option('--service-account <sa>', 'workload ServiceAccount (with --namespace, instead of --identity)')
    .option('--namespace <ns>', 'workload namespace')
    .option('--control-namespace <ns>', 'the Linkerd control-plane namespace', Defaults.linkerdNamespace)
    .option('--trust-domain <domain>', 'identity trust domain', Defaults.trustDomain)
    .option('--lifetime <duration>', "validity, Go duration syntax (clamped to the chain's)", '24h')
    .option('--clock-skew <duration>', 'clock skew allowance added on both sides', '20s')
    .action(async function (this: Command) {
      const f = flags(this);
      const out = outputFlags(f);
      const signer = signerFlags(f);
      const lifetimeMs = durationFlag(f, 'lifetime', '--lifetime', true);
      const skewMs = durationFlag(f, 'clockSkew', '--clock-skew', false);
      await asUsage(async () => {
        const identity = leafIdentity(f);
        const issuer = await loadSigner(signer, 'identity issuer');
        const leaf = await issueLeaf(issuer, { identity, lifetimeMs, skewMs });
        const files = writeOutputFiles(
          out.out,
          [
            { name: 'tls.crt', contents: leaf.chainPem, secret: false },
            { name: 'tls.key', contents: leaf.keyPem, secret: true },
          ],
          out.force,
        );
        report(files, `workload certificate for ${identity}`, leaf.cert);
      });
    });
}

function leafIdentity(f: Record<string, unknown>): string {
  const identity = optionalStringFlag(f, 'identity');
  const sa = optionalStringFlag(f, 'serviceAccount');
  const ns = optionalStringFlag(f, 'namespace');
  if (identity !== undefined) {
    if (sa !== undefined || ns !== undefined) {
      throw new UsageError('pass either --identity or --service-account with --namespace, not both');
    }
    parseIdentityName(identity);
    return identity;
  }
  if (sa === undefined || ns === undefined) {
    throw new UsageError('missing workload: pass --service-account and --namespace, or the full --identity name');
  }
  return formatIdentityName({
    serviceAccount: sa,
    namespace: ns,
    controlNamespace: stringFlag(f, 'controlNamespace'),
    trustDomain: stringFlag(f, 'trustDomain'),
  });
}

// === shared flag handling ===

function withOutput(cmd: Command): Command {
  return cmd
    .option('--out <dir>', 'directory to write the PEM files into (created if missing)', '.')
    .option('--force', 'overwrite existing files', false);
}

function withSigner(cmd: Command, what: string): Command {
  return cmd
    .requiredOption('--ca-cert <file>', `PEM certificate of the signing ${what}`)
    .requiredOption('--ca-key <file>', 'PEM private key of the signing CA');
}

async function loadSigner(signer: SignerFlags, role: string): Promise<SigningCa> {
  const certPem = readInputFile(signer.caCert, '--ca-cert');
  const keyPem = readInputFile(signer.caKey, '--ca-key');
  return loadSigningCa(certPem, keyPem, role);
}

function flags(cmd: Command): Record<string, unknown> {
  return cmd.opts<Record<string, unknown>>();
}

function outputFlags(f: Record<string, unknown>): OutputFlags {
  return { out: stringFlag(f, 'out'), force: f['force'] === true };
}

function signerFlags(f: Record<string, unknown>): SignerFlags {
  return { caCert: stringFlag(f, 'caCert'), caKey: stringFlag(f, 'caKey') };
}

function optionalStringFlag(f: Record<string, unknown>, key: string): string | undefined {
  const v = f[key];
  return typeof v === 'string' ? v : undefined;
}

function stringFlag(f: Record<string, unknown>, key: string): string {
  const v = optionalStringFlag(f, key);
  // Every caller's flag has a default or is required, so commander always supplies it.
  if (v === undefined) throw new Error(`internal: flag ${key} has no value`);
  return v;
}

function durationFlag(f: Record<string, unknown>, key: string, flag: string, positive: boolean): number {
  try {
    const ms = parseGoDuration(stringFlag(f, key));
    if (positive && ms <= 0) throw new UsageError(`${flag} must be greater than zero, e.g. ${flag} 24h`);
    return ms;
  } catch (err) {
    if (err instanceof InvalidDurationError) throw new UsageError(`${flag}: ${err.message}`, { cause: err });
    throw err;
  }
}

/** PKI input problems are the user's to fix: report them as usage errors (exit 2). */
async function asUsage(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    if (err instanceof PkiError) throw new UsageError(err.message, { cause: err });
    throw err;
  }
}

function report(files: string[], what: string, cert: x509.X509Certificate): void {
  for (const file of files) process.stdout.write(`wrote ${file}\n`);
  process.stdout.write(`${what}: ${cert.subject}, valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()}\n`);
}
