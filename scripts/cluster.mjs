// `npm run cluster [-- --nodes N] [-- --data ./data]`: a local Samsa cluster of N combined nodes
// (process.roles=broker,controller, Kafka's quickstart layout) as separate processes on 127.0.0.1.
// Node i (1-based) gets client listener 9091+i, controller listener 19090+i, log.dirs <data>/node-i,
// its schema registry on 8081+100*(i-1) and its /metrics and console on 8080+100*(i-1), so the nodes
// never fight over a port. Each node is started with Kafka's property names only, exactly as a user would
// start it alone (the command of each node is printed), so one node can be killed and restarted by hand.
// Prints the bootstrap string; Ctrl-C (SIGINT) or SIGTERM stops every node cleanly.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

function usage(message) {
  process.stderr.write(`${message}\nusage: npm run cluster -- [--nodes N] [--data DIR]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let nodes = 3;
let data = './data';
// For tests, which must not take the well-known ports: explicit port lists, and no HTTP listeners.
let clientPorts = null;
let controllerPorts = null;
let http = true;
const list = (v) => v.split(',').map(Number);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--nodes') nodes = Number(args[++i]);
  else if (a.startsWith('--nodes=')) nodes = Number(a.slice('--nodes='.length));
  else if (a === '--data') data = args[++i];
  else if (a.startsWith('--data=')) data = a.slice('--data='.length);
  else if (a === '--client-ports') clientPorts = list(args[++i]);
  else if (a === '--controller-ports') controllerPorts = list(args[++i]);
  else if (a === '--no-http') http = false;
  else usage(`unknown argument ${a}`);
}
if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) usage('--nodes must be a whole number from 1 to 9');
if ((clientPorts && clientPorts.length !== nodes) || (controllerPorts && controllerPorts.length !== nodes)) usage('--client-ports and --controller-ports need one port per node');

const bundle = resolve('dist/samsa.mjs');
if (!existsSync(bundle)) usage('dist/samsa.mjs is missing: run `npm run bundle` (npm run cluster does it first)');

const ids = Array.from({ length: nodes }, (_, i) => i + 1);
const clientPort = (id) => (clientPorts ? clientPorts[id - 1] : 9091 + id);
const controllerPort = (id) => (controllerPorts ? controllerPorts[id - 1] : 19090 + id);
const voters = ids.map((id) => `${id}@127.0.0.1:${controllerPort(id)}`).join(',');
const bootstrap = ids.map((id) => `127.0.0.1:${clientPort(id)}`).join(',');

/** The overrides of node `id`: Kafka's names, plus Samsa's own HTTP ports. */
function nodeProperties(id) {
  return {
    'node.id': String(id),
    'process.roles': 'broker,controller',
    'controller.quorum.voters': voters,
    listeners: `PLAINTEXT://127.0.0.1:${clientPort(id)},CONTROLLER://127.0.0.1:${controllerPort(id)}`,
    'controller.listener.names': 'CONTROLLER',
    'log.dirs': `${data}/node-${id}`,
    ...(http
      ? { 'schema.registry.listeners': `http://127.0.0.1:${8081 + 100 * (id - 1)}`, 'samsa.http.listeners': `http://127.0.0.1:${8080 + 100 * (id - 1)}` }
      : { 'samsa.schema.registry.enable': 'false', 'samsa.http.listeners': '' }),
  };
}

const children = [];
let stopping = false;
for (const id of ids) {
  const overrides = Object.entries(nodeProperties(id)).flatMap(([k, v]) => ['--override', `${k}=${v}`]);
  process.stdout.write(`node ${id}: npm start -- ${overrides.map((o) => (o.includes(',') ? `'${o}'` : o)).join(' ')}\n`);
  const child = spawn(process.execPath, [bundle, 'start', '--log-format', 'pretty', ...overrides], { stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `[node-${id}] `;
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) process.stdout.write(prefix + line + '\n');
    });
  }
  child.on('exit', (code, signal) => {
    process.stdout.write(`${prefix}exited (${signal ?? `code ${code}`})\n`);
    if (!stopping && children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(1);
  });
  children.push(child);
}
process.stdout.write(`\nSamsa cluster of ${nodes} node${nodes === 1 ? '' : 's'}: bootstrap.servers=${bootstrap}\n(Ctrl-C stops every node)\n\n`);

function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r))))).then(() => process.exit(0));
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
