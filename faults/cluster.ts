/**
 * The fault suite's cluster: N Samsa processes on loopback, each with its own data directory and ports,
 * every client and inter-node link through the Network's proxies. A node runs this checkout's broker as
 * the tests do (`node --import tsx src/cli/main.ts start --override ...`) plus faults/route-preload.mjs,
 * and writes its log to `<dir>/node-<id>.log`.
 *
 * One node: `node.id=1`, a PLAINTEXT listener advertised at its c->1 proxy. Several: combined mode with
 * Kafka's properties (process.roles=broker,controller, a CONTROLLER listener, controller.quorum.voters
 * through the i->j/ctl proxies, controller.listener.names), RF min(3, N) and min.insync.replicas min(2, N).
 *
 * When the harness runs as root the nodes run as `nobody` (uid/gid 65534), so that a log directory made
 * read-only is read-only to them (root ignores file modes).
 *
 * With `diskMiB` (the `disk-full` nemesis) each node's directory is a tmpfs of that size, so that a filler
 * file can fill the node's disk without touching the rest of the machine: a full disk made with a quota, as
 * issue 13 asks. Mounting needs root (CAP_SYS_ADMIN); without it the run refuses to start rather than
 * silently leave the nemesis out.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, readdirSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { Network, type NodePorts } from './network.js';
import { nodePort } from './ports.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..');

function canConnect(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
  });
}

export type NodeState = 'down' | 'up' | 'paused';

const NOBODY = 65534;

export class Node {
  proc: ChildProcess | null = null;
  state: NodeState = 'down';
  /** Exits the harness did not cause (a crash), with their codes, for the report. */
  readonly unexpectedExits: { t: number; code: number | null; signal: string | null }[] = [];
  private expectingExit = false;
  private exited: Promise<void> = Promise.resolve();
  readonly dataDir: string;
  readonly logFile: string;
  /** The node's own file system (a tmpfs of `diskMiB`), or null when it shares the run directory's. */
  readonly mount: string | null;

  constructor(
    readonly ports: NodePorts,
    readonly dir: string,
    private readonly props: () => Record<string, string>,
    private readonly env: Record<string, string>,
    private readonly asNobody: boolean,
    diskMiB: number | null = null,
  ) {
    this.dataDir = join(dir, `node-${ports.id}`, 'data');
    this.logFile = join(dir, `node-${ports.id}.log`);
    this.mount = null;
    if (diskMiB !== null) {
      const home = join(dir, `node-${ports.id}`);
      mkdirSync(home, { recursive: true });
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${diskMiB}m,mode=0755`, 'tmpfs', home], { stdio: 'pipe' });
      } catch (e) {
        const why = e instanceof Error && 'stderr' in e ? String((e as { stderr: unknown }).stderr).trim() : String(e);
        throw new Error(`the disk-full nemesis gives each node a ${diskMiB} MiB tmpfs, and mounting it failed (${why || 'no reason given'}): run the suite as root, or leave disk-full out`);
      }
      this.mount = home;
    }
    mkdirSync(this.dataDir, { recursive: true });
    if (asNobody) chownRecursive(join(dir, `node-${ports.id}`), NOBODY);
  }

  get id(): number {
    return this.ports.id;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(timeoutMs = 60_000): Promise<void> {
    if (this.state !== 'down') return;
    if (this.asNobody) chownRecursive(join(this.dir, `node-${this.id}`), NOBODY);
    const args = ['--import', 'tsx', '--import', './faults/route-preload.mjs', 'src/cli/main.ts', 'start'];
    for (const [k, v] of Object.entries(this.props())) args.push('--override', `${k}=${v}`);
    const fd = openSync(this.logFile, 'a');
    const proc = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...this.env, HOME: this.asNobody ? this.dir : (process.env.HOME ?? '') },
      ...(this.asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    closeSync(fd);
    this.proc = proc;
    this.state = 'up';
    this.expectingExit = false;
    this.exited = new Promise<void>((res) =>
      proc.once('exit', (code, signal) => {
        if (this.proc === proc) {
          this.state = 'down';
          if (!this.expectingExit) this.unexpectedExits.push({ t: Date.now(), code, signal });
        }
        res();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (!(await canConnect(this.ports.client))) {
      if ((this.state as NodeState) === 'down') throw new Error(`node ${this.id} exited while starting; see ${this.logFile}`);
      if (Date.now() > deadline) throw new Error(`node ${this.id} did not listen within ${timeoutMs} ms; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL (resuming it first if paused, so the exit is seen at once). */
  async kill9(): Promise<void> {
    if (!this.proc || this.state === 'down') return;
    this.expectingExit = true;
    this.proc.kill('SIGKILL');
    await this.exited;
    this.state = 'down';
  }

  /** SIGTERM (a clean shutdown); SIGKILL after `graceMs`, as Redpanda's FAILURE_TERMINATE fails a hung one. */
  async stop(graceMs = 30_000): Promise<'clean' | 'killed'> {
    if (!this.proc || this.state === 'down') return 'clean';
    this.expectingExit = true;
    if (this.state === 'paused') this.proc.kill('SIGCONT');
    this.proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.exited.then(() => 'clean' as const),
      new Promise<'killed'>((r) => (timer = setTimeout(() => r('killed'), graceMs))),
    ]);
    clearTimeout(timer);
    if (outcome === 'killed') {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
    this.state = 'down';
    return outcome;
  }

  /** The filler that takes the node's free space (same file system as its log dir, outside it). */
  private get fillerFile(): string {
    return join(this.dir, `node-${this.id}`, 'filler');
  }

  /**
   * Fills the node's tmpfs to the last byte with a filler file, so that its next write fails with ENOSPC
   * (a full disk). Returns the bytes taken.
   */
  fillDisk(): number {
    if (this.mount === null) throw new Error(`node ${this.id} has no disk of its own to fill (the cluster was started without diskMiB)`);
    const fd = openSync(this.fillerFile, 'a');
    const chunk = Buffer.alloc(1 << 20);
    let taken = 0;
    try {
      for (;;) {
        // the last pages: smaller writes until not one byte more fits
        const free = Number(statfsSync(this.mount).bavail) * Number(statfsSync(this.mount).bsize);
        const n = Math.min(chunk.length, Math.max(free, 1));
        try {
          const written = writeSync(fd, chunk, 0, n);
          if (written === 0) break;
          taken += written;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    } finally {
      closeSync(fd);
    }
    return taken;
  }

  /** Frees what fillDisk() took. */
  freeDisk(): void {
    rmSync(this.fillerFile, { force: true });
  }

  /** Unmounts the node's tmpfs (its data goes with it). */
  unmount(): void {
    if (this.mount === null) return;
    try {
      execFileSync('umount', [this.mount], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', this.mount], { stdio: 'pipe' });
    }
  }

  pause(): void {
    if (this.proc && this.state === 'up') {
      this.proc.kill('SIGSTOP');
      this.state = 'paused';
    }
  }

  resume(): void {
    if (this.proc && this.state === 'paused') {
      this.proc.kill('SIGCONT');
      this.state = 'up';
    }
  }
}

function chownRecursive(path: string, id: number): void {
  chownSync(path, id, id);
  if (statSync(path).isDirectory()) for (const e of readdirSync(path)) chownRecursive(join(path, e), id);
}

export interface ClusterOptions {
  nodes: number;
  dir: string;
  random: () => number;
  /** Extra broker properties (the same on every node), e.g. a weakened configuration. */
  brokerProps?: Record<string, string>;
  /** Each node on a tmpfs of this many MiB (for the disk-full nemesis); needs root. */
  diskMiB?: number | null;
}

export class Cluster {
  readonly nodes: Node[] = [];
  private net: Network | null = null;

  /** The proxies (after start() has made them). */
  get network(): Network {
    if (!this.net) throw new Error('the cluster has not been started');
    return this.net;
  }

  /** Whether start() got as far as making the proxies. */
  get hasNetwork(): boolean {
    return this.net !== null;
  }
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;

  constructor(private readonly opts: ClusterOptions) {
    this.replicationFactor = Math.min(3, opts.nodes);
    this.minInsyncReplicas = Math.min(2, opts.nodes);
  }

  /** `host:port` of every node's client proxy. */
  get bootstrap(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${this.network.clientPort(n.id)}`);
  }

  node(id: number): Node {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  async start(): Promise<void> {
    const ports: NodePorts[] = [];
    const taken = new Set<number>();
    const pick = async (): Promise<number> => {
      const port = await nodePort(taken);
      taken.add(port);
      return port;
    };
    for (let id = 1; id <= this.opts.nodes; id++) ports.push({ id, client: await pick(), controller: await pick() });
    this.net = new Network(ports, this.opts.random);
    await this.network.start();
    // whatever ends the harness (an uncaught error, process.exit), no node outlives it
    process.once('exit', () => {
      for (const n of this.nodes) if (n.proc && n.state !== 'down') n.proc.kill('SIGKILL');
    });
    const asNobody = typeof process.getuid === 'function' && process.getuid() === 0;
    // nobody must reach its node directory (mkdtemp makes the run directory 0700)
    if (asNobody) chmodSync(this.opts.dir, 0o755);
    try {
      for (const p of ports) {
        const node = new Node(p, this.opts.dir, () => this.propsFor(p), { SAMSA_FAULTS_ROUTES: this.opts.nodes > 1 ? this.network.routesFor(p.id) : '' }, asNobody, this.opts.diskMiB ?? null);
        this.nodes.push(node);
      }
    } catch (e) {
      this.release();
      throw e;
    }
    await Promise.all(this.nodes.map((n) => n.start()));
  }

  private propsFor(p: NodePorts): Record<string, string> {
    const n = this.opts.nodes;
    const common: Record<string, string> = {
      'node.id': String(p.id),
      'log.dirs': join(this.opts.dir, `node-${p.id}`, 'data'),
      'group.initial.rebalance.delay.ms': '0',
      'samsa.schema.registry.enable': 'false',
      'samsa.http.listeners': '',
      'default.replication.factor': String(this.replicationFactor),
      'min.insync.replicas': String(this.minInsyncReplicas),
      'offsets.topic.replication.factor': String(this.replicationFactor),
      'unclean.leader.election.enable': 'false',
    };
    const cluster: Record<string, string> =
      n === 1
        ? { listeners: `PLAINTEXT://127.0.0.1:${p.client}`, 'advertised.listeners': `PLAINTEXT://127.0.0.1:${this.network.clientPort(p.id)}` }
        : {
            'process.roles': 'broker,controller',
            listeners: `PLAINTEXT://127.0.0.1:${p.client},CONTROLLER://127.0.0.1:${p.controller}`,
            'advertised.listeners': `PLAINTEXT://127.0.0.1:${this.network.clientPort(p.id)}`,
            'controller.listener.names': 'CONTROLLER',
            'controller.quorum.voters': this.network.votersFor(p.id),
            'replica.lag.time.max.ms': '10000',
          };
    return { ...common, ...cluster, ...(this.opts.brokerProps ?? {}) };
  }

  /** Every node up and resumed, every link healed. */
  async healAll(): Promise<void> {
    this.network.heal();
    for (const n of this.nodes) n.resume();
    await Promise.all(this.nodes.filter((n) => n.state === 'down').map((n) => n.start()));
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) n.resume();
    await Promise.all(this.nodes.map((n) => n.stop(10_000)));
    await this.net?.close();
  }

  /** The nodes' own file systems, if any (their data lives there until release()). */
  get mounts(): string[] {
    return this.nodes.flatMap((n) => (n.mount === null ? [] : [n.mount]));
  }

  /** Unmounts the nodes' tmpfs file systems (after stop()). */
  release(): void {
    for (const n of this.nodes) n.unmount();
  }
}
