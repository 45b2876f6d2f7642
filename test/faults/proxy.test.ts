/**
 * The fault suite's TCP proxy (faults/proxy.ts), its network of links (faults/network.ts) and the node-side
 * port rewrite (faults/route-preload.mjs), against plain loopback sockets.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { LinkProxy } from '../../faults/proxy.js';
import { Network } from '../../faults/network.js';

const ROOT = resolve(import.meta.dirname, '../..');

interface Target {
  server: Server;
  port: number;
  /** Bytes the target received, per accepted connection. */
  received: string[];
  sockets: Socket[];
}

/** A target that records what it receives and answers each chunk with `ack:<chunk>`. */
async function target(): Promise<Target> {
  const t: Target = { server: createServer(), port: 0, received: [], sockets: [] };
  t.server.on('connection', (s) => {
    const i = t.received.push('') - 1;
    t.sockets.push(s);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      t.received[i] += d;
      s.write(`ack:${d}`);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => t.server.listen(0, '127.0.0.1', () => r()));
  const a = t.server.address();
  t.port = typeof a === 'object' && a ? a.port : 0;
  return t;
}

interface Client {
  socket: Socket;
  text: () => string;
  closed: () => boolean;
}

async function client(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (text += d));
  socket.on('close', () => (closed = true));
  socket.on('error', () => {});
  await new Promise<void>((r, j) => {
    socket.once('connect', () => r());
    socket.once('error', j);
  });
  return { socket, text: () => text, closed: () => closed };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Lets the event loop and loopback deliver whatever is in flight (a bound, not a synchronisation). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(): Promise<{ t: Target; p: LinkProxy }> {
  const t = await target();
  const p = new LinkProxy({ name: 'test', targetPort: t.port });
  await p.start();
  cleanup.push(() => new Promise<void>((r) => t.server.close(() => r())), () => p.close(), () => t.sockets.forEach((s) => s.destroy()));
  return { t, p };
}

describe('LinkProxy', () => {
  it('forwards both ways when healthy', async () => {
    const { t, p } = await setup();
    const c = await client(p.port);
    c.socket.write('hello');
    await until(() => c.text() === 'ack:hello', 'the answer');
    expect(t.received).toEqual(['hello']);
    expect(p.stats.accepted).toBe(1);
    c.socket.destroy();
  });

  it('a cut holds bytes in order and delivers them intact on heal', async () => {
    const { t, p } = await setup();
    const c = await client(p.port);
    c.socket.write('a');
    await until(() => c.text() === 'ack:a', 'first answer');
    p.cut('both');
    c.socket.write('b');
    c.socket.write('c');
    await settle();
    expect(t.received).toEqual(['a']);
    expect(c.text()).toBe('ack:a');
    expect(p.describe()).toBe('up cut, down cut');
    p.heal();
    await until(() => t.received[0] === 'abc', 'held bytes delivered');
    await until(() => c.text().replace(/ack:/g, '') === 'abc', 'answers');
    c.socket.destroy();
  });

  it('a one-way cut (down) lets requests through and holds the answers', async () => {
    const { t, p } = await setup();
    const c = await client(p.port);
    p.cut('down');
    c.socket.write('x');
    await until(() => t.received[0] === 'x', 'request to arrive');
    await settle();
    expect(c.text()).toBe('');
    p.heal();
    await until(() => c.text() === 'ack:x', 'answer after heal');
    c.socket.destroy();
  });

  it('a one-way cut (up) holds requests only', async () => {
    const { t, p } = await setup();
    const c = await client(p.port);
    await until(() => t.sockets.length === 1, 'accepted upstream');
    p.cut('up');
    c.socket.write('y');
    t.sockets[0]!.write('push');
    await until(() => c.text() === 'push', 'server push through the open direction');
    expect(t.received).toEqual(['']);
    p.heal();
    await until(() => t.received[0] === 'y', 'request after heal');
    c.socket.destroy();
  });

  it('delay holds each chunk at least that long', async () => {
    const { p } = await setup();
    const c = await client(p.port);
    p.delay(150);
    const sent = Date.now();
    c.socket.write('d');
    await until(() => c.text() === 'ack:d', 'delayed answer');
    // two hops (request and answer) each held 150 ms
    expect(Date.now() - sent).toBeGreaterThanOrEqual(290);
    c.socket.destroy();
  });

  it('refuse resets open connections and closes new ones until heal', async () => {
    const { t, p } = await setup();
    const c = await client(p.port);
    p.refuse();
    await until(() => c.closed(), 'existing connection reset');
    const c2 = await client(p.port);
    await until(() => c2.closed(), 'new connection closed');
    expect(p.stats.refused).toBe(1);
    p.heal();
    const c3 = await client(p.port);
    c3.socket.write('z');
    await until(() => c3.text() === 'ack:z', 'works after heal');
    expect(t.received.at(-1)).toBe('z');
    c3.socket.destroy();
  });

  it('drop(p) closes new connections with probability p from the seeded source', async () => {
    const t = await target();
    const draws = [0.1, 0.9, 0.4];
    const p = new LinkProxy({ name: 'drop', targetPort: t.port, random: () => draws.shift() ?? 1 });
    await p.start();
    cleanup.push(() => new Promise<void>((r) => t.server.close(() => r())), () => p.close(), () => t.sockets.forEach((s) => s.destroy()));
    p.drop(0.5);
    const cs = [await client(p.port), await client(p.port), await client(p.port)];
    await until(() => p.stats.accepted + p.stats.refused === 3, 'three decisions');
    expect(p.stats.refused).toBe(2); // 0.1 and 0.4 < 0.5
    await until(() => cs[0]!.closed() && cs[2]!.closed(), 'dropped ones closed');
    expect(cs[1]!.closed()).toBe(false);
    for (const c of cs) c.socket.destroy();
  });

  it('when the target closes after answering, a delayed answer still arrives', async () => {
    const server = createServer((s) => s.end('bye'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const a = server.address();
    const p = new LinkProxy({ name: 'end', targetPort: typeof a === 'object' && a ? a.port : 0 });
    await p.start();
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())), () => p.close());
    p.delay(100);
    const c = await client(p.port);
    await until(() => c.closed(), 'closed after the answer');
    expect(c.text()).toBe('bye');
  });
});

describe('Network', () => {
  it('builds per-link proxies, voters and routes for three nodes, and partitions them', async () => {
    const net = new Network(
      [1, 2, 3].map((id) => ({ id, client: 10000 + id, controller: 20000 + id })),
      () => 0.5,
    );
    await net.start();
    cleanup.push(() => net.close());
    expect(net.all()).toHaveLength(3 + 6 + 6);
    const voters = net.votersFor(1).split(',');
    expect(voters[0]).toBe('1@127.0.0.1:20001');
    expect(voters[1]).toBe(`2@127.0.0.1:${net.controllerLinks.get('1->2')!.port}`);
    const d12 = net.dataLinks.get('1->2')!.port;
    const d13 = net.dataLinks.get('1->3')!.port;
    expect(net.routesFor(1)).toBe(
      `${net.clientPort(2)}=${d12},10002=${d12},20002=${net.controllerLinks.get('1->2')!.port},${net.clientPort(3)}=${d13},10003=${d13},20003=${net.controllerLinks.get('1->3')!.port}`,
    );

    net.partition([[1], [2, 3]]);
    const cut = net.all().filter((l) => l.describe() !== 'ok').map((l) => l.name).sort();
    expect(cut).toEqual(['1->2/ctl', '1->2/data', '1->3/ctl', '1->3/data', '2->1/ctl', '2->1/data', '3->1/ctl', '3->1/data']);
    net.heal();
    expect(net.describe()).toBe('all links ok');

    net.bridge([1], [3]);
    expect(net.all().filter((l) => l.describe() !== 'ok').map((l) => l.name).sort()).toEqual(['1->3/ctl', '1->3/data', '3->1/ctl', '3->1/data']);
    net.heal();

    net.cutOneWay(1, 2);
    expect(net.controllerLinks.get('1->2')!.describe()).toBe('up cut');
    expect(net.controllerLinks.get('2->1')!.describe()).toBe('down cut');
    expect(net.clientLinks.get(1)!.describe()).toBe('ok');
    net.heal();
    net.isolateFromClients(2);
    expect(net.describe()).toBe('c->2: up cut, down cut');
  });
});

describe('route-preload.mjs', () => {
  it('rewrites a node process\'s outbound connection to a routed port, and leaves others alone', async () => {
    const routed = await target();
    const other = await target();
    cleanup.push(() => new Promise<void>((r) => routed.server.close(() => r())), () => new Promise<void>((r) => other.server.close(() => r())));
    // A port nothing listens on, routed to `routed`; `other` is not routed.
    const ghost = 1; // privileged and unused on loopback: a direct connection would fail
    const script = `
      import net from 'node:net';
      const send = (port, msg) => new Promise((res, rej) => { const s = net.connect({ host: '127.0.0.1', port }); s.on('error', rej); s.on('data', () => { s.destroy(); res(); }); s.write(msg); });
      await send(${ghost}, 'via-route');
      await send(${other.port}, 'direct');
    `;
    const child = spawn(process.execPath, ['--import', './faults/route-preload.mjs', '--input-type=module', '-e', script], {
      cwd: ROOT,
      env: { ...process.env, SAMSA_FAULTS_ROUTES: `${ghost}=${routed.port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(routed.received).toEqual(['via-route']);
    expect(other.received).toEqual(['direct']);
    for (const s of [...routed.sockets, ...other.sockets]) s.destroy();
  });
});
