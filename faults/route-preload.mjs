// Loaded into each Samsa node the fault suite starts (`node --import faults/route-preload.mjs ...`): rewrites
// the port of the node's outbound loopback connections by SAMSA_FAULTS_ROUTES ("from=to,from=to"), so that
// node i reaches node j's advertised client address (the c->j proxy, learnt from metadata) through its own
// i->j/data proxy instead. That makes replica fetches partitionable per pair of nodes without root or a
// per-node resolver. Plain JavaScript: it runs before tsx's loader in the node process. Nothing else in the
// node changes; with no routes it does nothing.
import net from 'node:net';

const routes = new Map();
for (const pair of (process.env.SAMSA_FAULTS_ROUTES ?? '').split(',')) {
  const [from, to] = pair.split('=').map((s) => Number.parseInt(s, 10));
  if (Number.isInteger(from) && Number.isInteger(to)) routes.set(from, to);
}

const LOOPBACK = new Set([undefined, null, '', 'localhost', '127.0.0.1', '::1']);

function reroute(options) {
  if (options === null || typeof options !== 'object' || options.path !== undefined) return;
  const port = Number(options.port);
  if (LOOPBACK.has(options.host) && routes.has(port)) options.port = routes.get(port);
}

if (routes.size > 0) {
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connect(...args) {
    // net.connect() hands Socket#connect its normalized arguments: [[options, callback]]; a direct call
    // passes (options[, cb]) or (port[, host][, cb]).
    const first = args[0];
    if (Array.isArray(first)) reroute(first[0]);
    else if (first !== null && typeof first === 'object') reroute(first);
    else if ((typeof first === 'number' || typeof first === 'string') && routes.has(Number(first)) && LOOPBACK.has(args[1] === undefined || typeof args[1] === 'function' ? undefined : args[1])) {
      args[0] = routes.get(Number(first));
    }
    return original.apply(this, args);
  };
}
