/**
 * The suite's network: one LinkProxy per directed link between the harness's clients and each node
 * (`c->j`, to node j's client listener) and between every ordered pair of nodes (`i->j/ctl` to j's
 * CONTROLLER listener, `i->j/data` to j's client listener for replica fetches), and the partitions the
 * nemesis makes out of them (Jepsen's vocabulary: majority/minority halves, a bridge, one node isolated,
 * a one-way cut). Clients keep reaching every node in a partition between nodes, as in Jepsen's Kafka
 * tests; `isolateFromClients` cuts the client links instead.
 */
import { LinkProxy } from './proxy.js';

export interface NodePorts {
  /** node.id */
  id: number;
  /** The node's own PLAINTEXT listener. */
  client: number;
  /** The node's own CONTROLLER listener. */
  controller: number;
}

export type Grouping = number[][];

export class Network {
  readonly clientLinks = new Map<number, LinkProxy>();
  /** Keyed `${from}->${to}`. */
  readonly controllerLinks = new Map<string, LinkProxy>();
  readonly dataLinks = new Map<string, LinkProxy>();
  private readonly random: () => number;

  constructor(readonly nodes: readonly NodePorts[], random: () => number) {
    this.random = random;
  }

  async start(): Promise<void> {
    for (const to of this.nodes) {
      const c = new LinkProxy({ name: `c->${to.id}`, targetPort: to.client, random: this.random });
      await c.start();
      this.clientLinks.set(to.id, c);
      for (const from of this.nodes) {
        if (from.id === to.id) continue;
        const ctl = new LinkProxy({ name: `${from.id}->${to.id}/ctl`, targetPort: to.controller, random: this.random });
        const data = new LinkProxy({ name: `${from.id}->${to.id}/data`, targetPort: to.client, random: this.random });
        await ctl.start();
        await data.start();
        this.controllerLinks.set(`${from.id}->${to.id}`, ctl);
        this.dataLinks.set(`${from.id}->${to.id}`, data);
      }
    }
  }

  /** The client-facing address of node j (what it advertises, what bootstrap lists). */
  clientPort(id: number): number {
    return this.link(this.clientLinks.get(id), `c->${id}`).port;
  }

  /** Node `from`'s controller.quorum.voters: every other voter behind its proxy, itself direct. */
  votersFor(from: number): string {
    return this.nodes
      .map((n) => `${n.id}@127.0.0.1:${n.id === from ? n.controller : this.link(this.controllerLinks.get(`${from}->${n.id}`), `${from}->${n.id}/ctl`).port}`)
      .join(',');
  }

  /**
   * Node `from`'s outbound port rewrites (see route-preload.mjs): a connection to another node j's
   * advertised client port (its `c->j` proxy, learnt from metadata) or to j's own client port goes through
   * `from->j/data`, and one to j's own CONTROLLER port (learnt from Raft messages' endpoints rather than from
   * controller.quorum.voters) through `from->j/ctl`, so every connection between two nodes can be partitioned.
   */
  routesFor(from: number): string {
    const routes: string[] = [];
    for (const n of this.nodes) {
      if (n.id === from) continue;
      const data = this.link(this.dataLinks.get(`${from}->${n.id}`), `${from}->${n.id}/data`).port;
      const ctl = this.link(this.controllerLinks.get(`${from}->${n.id}`), `${from}->${n.id}/ctl`).port;
      routes.push(`${this.clientPort(n.id)}=${data}`, `${n.client}=${data}`, `${n.controller}=${ctl}`);
    }
    return routes.join(',');
  }

  /** Every link between two nodes, both kinds, in the direction from -> to. */
  private between(from: number, to: number): LinkProxy[] {
    const key = `${from}->${to}`;
    return [this.controllerLinks.get(key), this.dataLinks.get(key)].filter((l): l is LinkProxy => l !== undefined);
  }

  /** Nodes in different groups cannot talk (both directions); nodes in no group are cut from everyone. */
  partition(groups: Grouping): void {
    const groupOf = new Map<number, number>();
    groups.forEach((g, i) => g.forEach((n) => groupOf.set(n, i)));
    for (const a of this.nodes) {
      for (const b of this.nodes) {
        if (a.id === b.id) continue;
        const ga = groupOf.get(a.id);
        const gb = groupOf.get(b.id);
        if (ga === undefined || gb === undefined || ga !== gb) for (const l of this.between(a.id, b.id)) l.cut('both');
      }
    }
  }

  /** A bridge (Jepsen): `left` and `right` cannot talk; a node in neither (the bridge) still sees both. */
  bridge(left: number[], right: number[]): void {
    for (const a of left) for (const b of right) {
      for (const l of this.between(a, b)) l.cut('both');
      for (const l of this.between(b, a)) l.cut('both');
    }
  }

  /** `from` can no longer send to `to` (its bytes are held); `to` still reaches `from`. */
  cutOneWay(from: number, to: number): void {
    // from's own connections to `to`: requests from -> to are held.
    for (const l of this.between(from, to)) l.cut('up');
    // to's connections to `from`: from's answers back to `to` are held.
    for (const l of this.between(to, from)) l.cut('down');
  }

  /** Clients cannot reach node `id` (both ways); the nodes still reach each other. */
  isolateFromClients(id: number): void {
    this.link(this.clientLinks.get(id), `c->${id}`).cut('both');
  }

  /** Delays every link by `ms` (both directions). */
  delayAll(ms: number): void {
    for (const l of this.all()) l.delay(ms);
  }

  /** Heals every link. */
  heal(): void {
    for (const l of this.all()) l.heal();
  }

  /** Links that are not plain pipes right now, for the event log. */
  describe(): string {
    const bad = this.all().filter((l) => l.describe() !== 'ok').map((l) => `${l.name}: ${l.describe()}`);
    return bad.length ? bad.join('; ') : 'all links ok';
  }

  /** Bytes each link carried so far (links that carried none omitted), for the log and the results. */
  traffic(): Record<string, { up: number; down: number; connections: number }> {
    const out: Record<string, { up: number; down: number; connections: number }> = {};
    for (const l of this.all()) if (l.stats.accepted > 0) out[l.name] = { up: l.stats.bytesUp, down: l.stats.bytesDown, connections: l.stats.accepted };
    return out;
  }

  all(): LinkProxy[] {
    return [...this.clientLinks.values(), ...this.controllerLinks.values(), ...this.dataLinks.values()];
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((l) => l.close()));
  }

  private link(l: LinkProxy | undefined, name: string): LinkProxy {
    if (!l) throw new Error(`no link ${name}`);
    return l;
  }
}
