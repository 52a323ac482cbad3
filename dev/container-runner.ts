// One container of a pod the dev agent runs: the `multicluster` binary of the checkout in
// the pod's network namespace and a private mount namespace, with the kubelet's probe rules
// and restart policy. Restarts back off from 1 s doubling to 30 s (the kubelet's 10 s to
// 5 min would make fault tests slow), reset after 60 s of running.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { V1Container, V1ContainerState, V1Pod, V1Probe } from '@kubernetes/client-node';
import { errorMessage, type Logger } from '../log/logger.ts';
import { cliEntrypoint, projectRoot } from '../project/paths.ts';
import { ContainerConfigError, NotRunnableError, containerArgv } from './container-spec.ts';
import { ManagedProcess } from './managed-process.ts';
import { mountScript, type VolumeMountPlan } from './pod-mounts.ts';
import { probeOnce } from './probe.ts';

const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 30_000;
const BACKOFF_RESET_MS = 60_000;
const CONFIG_RETRY_MS = 2000;

export interface ContainerHost {
  readonly pod: V1Pod;
  readonly podIp: string;
  readonly netns: string;
  /** Host directory for the container's log, pid file and scratch mount point. */
  readonly dir: string;
  mounts(c: V1Container): VolumeMountPlan[];
  env(c: V1Container): Promise<Record<string, string>>;
  changed(): void;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  readonly log: Logger;
}

export interface ContainerView {
  name: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: V1ContainerState;
  lastState: V1ContainerState;
  pid?: number;
}

export class ContainerRunner {
  #proc?: ManagedProcess;
  #state: V1ContainerState = { waiting: { reason: 'ContainerCreating' } };
  #lastState: V1ContainerState = {};
  #restarts = 0;
  #starts = 0;
  #ready = false;
  #started = false;
  #stopped = false;
  #wake?: () => void;
  #loop?: Promise<void>;
  #backoffMs = BACKOFF_BASE_MS;

  constructor(
    readonly spec: V1Container,
    private readonly host: ContainerHost,
  ) {}

  view(): ContainerView {
    return {
      name: this.spec.name,
      ready: this.#ready,
      started: this.#started,
      restartCount: this.#restarts,
      state: this.#state,
      lastState: this.#lastState,
      pid: this.#proc?.running ? this.#proc.pid : undefined,
    };
  }

  start(): void {
    this.#loop = this.#run().finally(() => (this.#loop = undefined));
  }

  /** Ends the process (SIGTERM, SIGKILL after the grace period) and the restart loop. */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#proc?.stop(graceMs);
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let argv: string[];
      let env: Record<string, string>;
      try {
        env = await this.host.env(this.spec);
        argv = containerArgv(this.spec, env);
      } catch (err) {
        const reason = err instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'RunContainerError';
        this.#set({ waiting: { reason, message: errorMessage(err) } });
        if (!(err instanceof ContainerConfigError || err instanceof NotRunnableError))
          this.host.log.warn('container setup failed', { reason: errorMessage(err) });
        await this.#sleep(CONFIG_RETRY_MS);
        continue;
      }
      const startedAt = new Date();
      let proc: ManagedProcess;
      try {
        proc = await this.#spawn(argv, env);
      } catch (err) {
        this.#set({ waiting: { reason: 'RunContainerError', message: errorMessage(err) } });
        this.host.event('Warning', 'Failed', `Error: ${errorMessage(err)}`);
        await this.#sleep(CONFIG_RETRY_MS);
        continue;
      }
      this.#proc = proc;
      if (this.#stopped) {
        await proc.stop(0);
        break;
      }
      if (this.#starts++ > 0) this.#restarts++;
      this.#started = this.spec.startupProbe === undefined;
      this.#ready = false;
      this.#set({ running: { startedAt } });
      this.host.event('Normal', 'Started', `Started container ${this.spec.name}`);
      const probes = this.#probe(proc);
      await proc.exited;
      probes.stop();
      this.#ready = false;
      this.#started = false;
      const finishedAt = new Date();
      const signal = proc.exitSignal;
      const exitCode = proc.exitCode ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 128);
      const terminated = {
        terminated: {
          exitCode,
          reason: exitCode === 0 ? 'Completed' : 'Error',
          startedAt,
          finishedAt,
          ...(signal ? { signal: constants.signals[signal] } : {}),
        },
      };
      if (this.#stopped) {
        this.#set(terminated);
        break;
      }
      this.#lastState = terminated;
      const policy = this.host.pod.spec?.restartPolicy ?? 'Always';
      if (policy === 'Never' || (policy === 'OnFailure' && exitCode === 0)) {
        this.#set(terminated);
        return;
      }
      if (finishedAt.getTime() - startedAt.getTime() > BACKOFF_RESET_MS) this.#backoffMs = BACKOFF_BASE_MS;
      const wait = this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_CAP_MS);
      this.host.log.info('container exited; restarting after back-off', { container: this.spec.name, exitCode, backoffMs: wait });
      this.#set({
        waiting: { reason: 'CrashLoopBackOff', message: `back-off ${wait / 1000}s restarting failed container=${this.spec.name}` },
      });
      await this.#sleep(wait);
    }
  }

  async #spawn(argv: string[], env: Record<string, string>): Promise<ManagedProcess> {
    const pod = this.host.pod;
    const scratch = join(this.host.dir, `${this.spec.name}.mnt`);
    await mkdir(scratch, { recursive: true });
    const script = mountScript({
      mounts: this.host.mounts(this.spec),
      scratch,
      hostname: (pod.spec?.hostname ?? pod.metadata?.name ?? 'pod').slice(0, 63),
      workingDir: this.spec.workingDir,
      exists: existsSync,
      keepVisible: [projectRoot()],
    });
    return ManagedProcess.start({
      name: this.spec.name,
      command: 'ip',
      args: [
        'netns',
        'exec',
        this.host.netns,
        'unshare',
        '--mount',
        '--uts',
        '--propagation',
        'private',
        '--',
        'sh',
        '-c',
        script,
        'sh',
        process.execPath,
        cliEntrypoint(),
        ...argv,
      ],
      env,
      stateDir: this.host.dir,
    });
  }

  /** Runs the startup, readiness and liveness probes of one container run until stopped. */
  #probe(proc: ManagedProcess): { stop: () => void } {
    const timers = new Set<NodeJS.Timeout>();
    let done = false;
    const every = (p: V1Probe, tick: (ok: boolean, message: string) => boolean | void) => {
      const schedule = (ms: number) => {
        const t = setTimeout(() => {
          timers.delete(t);
          void loop();
        }, ms);
        timers.add(t);
      };
      const loop = async () => {
        if (done) return;
        const r = await probeOnce(p, this.spec, this.host.podIp);
        // A tick returning false ends this probe (a startup probe that passed).
        if (done || tick(r.ok, r.message) === false) return;
        schedule((p.periodSeconds ?? 10) * 1000);
      };
      schedule((p.initialDelaySeconds ?? 0) * 1000);
    };
    const counter = (p: V1Probe, onSuccess: () => boolean | void, onFailure: (message: string) => void) => {
      let ok = 0;
      let failed = 0;
      return (result: boolean, message: string): boolean | void => {
        if (result) {
          failed = 0;
          if (++ok >= (p.successThreshold ?? 1)) return onSuccess();
        } else {
          ok = 0;
          if (++failed >= (p.failureThreshold ?? 3)) onFailure(message);
        }
      };
    };
    const kill = (p: V1Probe, kind: string, message: string) => {
      if (done) return;
      done = true;
      this.host.event('Warning', 'Unhealthy', `${kind} probe failed: ${message}`);
      this.host.event('Normal', 'Killing', `Container ${this.spec.name} failed ${kind.toLowerCase()} probe, will be restarted`);
      const grace = p.terminationGracePeriodSeconds ?? this.host.pod.spec?.terminationGracePeriodSeconds ?? 30;
      void proc.stop(grace * 1000);
    };
    const afterStartup = () => {
      const { readinessProbe, livenessProbe } = this.spec;
      if (readinessProbe) {
        every(
          readinessProbe,
          counter(
            readinessProbe,
            () => this.#setReady(true),
            (message) => {
              if (this.#ready) this.host.event('Warning', 'Unhealthy', `Readiness probe failed: ${message}`);
              this.#setReady(false);
            },
          ),
        );
      } else this.#setReady(true);
      if (livenessProbe)
        every(
          livenessProbe,
          counter(
            livenessProbe,
            () => {},
            (m) => kill(livenessProbe, 'Liveness', m),
          ),
        );
    };
    const startup = this.spec.startupProbe;
    if (startup) {
      every(
        startup,
        counter(
          startup,
          () => {
            this.#started = true;
            this.host.changed();
            afterStartup();
            return false;
          },
          (m) => kill(startup, 'Startup', m),
        ),
      );
    } else afterStartup();
    return {
      stop: () => {
        done = true;
        for (const t of timers) clearTimeout(t);
      },
    };
  }

  #setReady(ready: boolean): void {
    if (this.#ready === ready) return;
    this.#ready = ready;
    this.host.changed();
  }

  #set(state: V1ContainerState): void {
    this.#state = state;
    this.host.changed();
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
