// Locates (building on first use) the pinned Kubernetes and etcd binaries. They are cached
// outside the repository, keyed by version, so CI and later runs reuse one build.
import { spawn } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../project/paths.ts';

export const KUBE_VERSION = 'v1.36.3';
/** The etcd release Kubernetes pins in build/dependencies.yaml for KUBE_VERSION. */
export const ETCD_VERSION = 'v3.6.8';

export interface KubeBinaries {
  dir: string;
  kubeApiServer: string;
  kubeControllerManager: string;
  kubectl: string;
  etcd: string;
}

export class BinaryBuildError extends Error {
  override readonly name = 'BinaryBuildError';
}

export function cacheRoot(): string {
  return process.env['MULTICLUSTER_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'multicluster');
}

export async function ensureKubeBinaries(progress: (line: string) => void): Promise<KubeBinaries> {
  const script = join(projectRoot(), 'dev', 'build-kube.sh');
  const dir = await new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [script, KUBE_VERSION, ETCD_VERSION, cacheRoot()], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let tail: string[] = [];
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        tail = [...tail.slice(-30), line];
        if (line.startsWith('build-kube:')) progress(line.slice('build-kube: '.length));
      }
    });
    child.on('error', (err) => reject(new BinaryBuildError(`could not run the build script: ${err.message}`)));
    child.on('exit', (code) => {
      if (code === 0) resolve(out.trim().split('\n').pop() ?? '');
      else if (code === 3) reject(new BinaryBuildError(tail.join('\n')));
      else
        reject(
          new BinaryBuildError(
            `building Kubernetes ${KUBE_VERSION} / etcd ${ETCD_VERSION} failed (exit ${code}). ` +
              `Check that Go >= 1.24 is installed and the Go module proxy is reachable, then retry. Last output:\n${tail.join('\n')}`,
          ),
        );
    });
  });
  return {
    dir,
    kubeApiServer: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
    kubectl: join(dir, 'kubectl'),
    etcd: join(dir, 'etcd'),
  };
}
