"""A 3-node Samsa cluster of real processes for the replicated-cluster folder, and what its scenarios ask of
it: kill -9 a node, start it again on its own data directory, find a partition's leader and ISR or a group's
coordinator through the clients' own requests (Metadata, FindCoordinator).

The nodes are started as `npm run cluster` and ../kraft-cluster start them: combined nodes
(process.roles=broker,controller) with Kafka's property names only, each its own process in its own
session (so that a scenario that restarts a node can end while the node goes on). Their pids and command
lines live in files under the cluster directory, so run.sh, which starts and stops the cluster, and the
scenarios (harness.py, run by lib.sh's `check` in a subshell) share them.

Usage (run.sh): cluster.py start DIR LOG | cluster.py stop DIR
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time

NODES = (1, 2, 3)
# What a production cluster of three sets and the scenarios rely on: topics created without a replication
# factor (PySpark's auto-created `meu-topico`) get 3, and acks=all needs 2 in-sync replicas. Kafka's
# defaults are 1 and 1 (a single-node development default); offsets.topic.replication.factor is Kafka's
# default, 3, already.
CLUSTER_PROPERTIES = {
    'default.replication.factor': '3',
    'min.insync.replicas': '2',
    'group.initial.rebalance.delay.ms': '0',
}


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _state(d):
    with open(os.path.join(d, 'cluster.json')) as f:
        return json.load(f)


def bootstrap(d):
    return _state(d)['bootstrap']


def node_port(d, i):
    return _state(d)['ports'][str(i)]


def _pid_file(d, i):
    return os.path.join(d, f'node-{i}.pid')


def pid(d, i):
    try:
        with open(_pid_file(d, i)) as f:
            return int(f.read().strip())
    except (FileNotFoundError, ValueError):
        return None


def alive(p):
    """Whether process p still runs or holds anything: a zombie (exited, not reaped yet: its parent may be
    a harness that has ended) is gone once its last thread is, and with the threads its sockets and files."""
    if p is None:
        return False
    try:
        os.kill(p, 0)
        with open(f'/proc/{p}/status') as f:
            status = dict(line.split(':', 1) for line in f if ':' in line)
    except (ProcessLookupError, FileNotFoundError):
        return False
    return not (status['State'].strip().startswith('Z') and int(status['Threads']) <= 1)


def start_node(d, i):
    """Starts node i with the command line recorded at `start`, appending to the cluster's log."""
    st = _state(d)
    with open(st['log'], 'ab') as log:
        p = subprocess.Popen(st['commands'][str(i)], cwd=st['cwd'], stdin=subprocess.DEVNULL, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    with open(_pid_file(d, i), 'w') as f:
        f.write(str(p.pid))
    return p.pid


def wait_listening(d, i, timeout=60):
    port, deadline = node_port(d, i), time.time() + timeout
    while time.time() < deadline:
        if not alive(pid(d, i)):
            raise RuntimeError(f'node {i} exited while starting')
        try:
            socket.create_connection(('127.0.0.1', port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f'node {i} not listening on {port} after {timeout} s')


def kill9(d, i):
    """kill -9 node i and waits until it is gone."""
    p = pid(d, i)
    if p is None:
        return
    try:
        os.kill(p, signal.SIGKILL)
    except ProcessLookupError:
        pass
    deadline = time.time() + 10
    while alive(p) and time.time() < deadline:
        time.sleep(0.05)
    with open(_state(d)['log'], 'a') as log:
        log.write(f'--- replicated-cluster: node {i} (pid {p}) killed with SIGKILL\n')


def restart(d, i):
    with open(_state(d)['log'], 'a') as log:
        log.write(f'--- replicated-cluster: node {i} starting again\n')
    start_node(d, i)
    wait_listening(d, i)


_admins = {}


def admin(d):
    """One admin client per cluster per process; each call below sends its own request."""
    from confluent_kafka.admin import AdminClient
    if d not in _admins:
        # log_level 2: its "Connect ... refused" lines while a node is down say nothing the harness does not
        _admins[d] = AdminClient({'bootstrap.servers': bootstrap(d), 'socket.connection.setup.timeout.ms': 2000, 'log_level': 2})
    return _admins[d]


def partitions(d, topic, timeout=5):
    """{partition: (leader, replicas, isr)} from a fresh Metadata request."""
    md = admin(d).list_topics(topic=topic, timeout=timeout)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        raise RuntimeError(f'Metadata for {topic}: {t.error if t else "absent"}')
    return {p.id: (p.leader, list(p.replicas), list(p.isrs)) for p in t.partitions.values()}


def brokers(d, timeout=5):
    return sorted(admin(d).list_topics(timeout=timeout).brokers)


def coordinator(d, group, timeout=30):
    """The node that coordinates `group`, as FindCoordinator names it (librdkafka's DescribeConsumerGroups
    asks FindCoordinator, then DescribeGroups there). A fresh client each time: librdkafka keeps the
    coordinators it found for a while, and after a failover the old one answers NOT_COORDINATOR."""
    from confluent_kafka.admin import AdminClient
    deadline = time.time() + timeout
    while True:
        a = AdminClient({'bootstrap.servers': bootstrap(d), 'log_level': 2})
        try:
            return a.describe_consumer_groups([group], request_timeout=10)[group].result().coordinator.id
        except Exception:  # noqa: BLE001 (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS while it moves)
            if time.time() > deadline:
                raise
            time.sleep(0.5)


def create_topic(d, topic, partitions_, config=None, timeout=30):
    from confluent_kafka.admin import NewTopic
    admin(d).create_topics([NewTopic(topic, partitions_, 3, config=config or {})], operation_timeout=timeout)[topic].result()
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            ps = partitions(d, topic)
            if len(ps) == partitions_ and all(l >= 0 and len(isr) == 3 for l, _, isr in ps.values()):
                return ps
        except Exception:  # noqa: BLE001 (not there yet)
            pass
        time.sleep(0.2)
    raise RuntimeError(f'{topic}: not every partition has a leader and 3 in-sync replicas after {timeout} s')


def wait_full_isr(d, topic, timeout=60):
    """Until every partition of `topic` has a leader and all 3 replicas in its ISR (a restarted node caught up)."""
    deadline, last = time.time() + timeout, None
    while time.time() < deadline:
        try:
            last = partitions(d, topic)
            if all(l >= 0 and len(isr) == 3 for l, _, isr in last.values()):
                return last
        except Exception as e:  # noqa: BLE001 (a node may be down)
            last = e
        time.sleep(0.2)
    raise RuntimeError(f'{topic}: ISR not back to 3 replicas after {timeout} s: {last}')


def start_cluster(d, log):
    os.makedirs(d, exist_ok=True)
    ports = {str(i): free_port() for i in NODES}
    cports = {str(i): free_port() for i in NODES}
    voters = ','.join(f'{i}@127.0.0.1:{cports[str(i)]}' for i in NODES)
    repo = os.environ.get('SAMSA_BROKER_DIR') or os.environ['REPO_ROOT']
    commands = {}
    for i in NODES:
        props = {
            'node.id': str(i),
            'process.roles': 'broker,controller',
            'controller.quorum.voters': voters,
            'listeners': f'PLAINTEXT://127.0.0.1:{ports[str(i)]},CONTROLLER://127.0.0.1:{cports[str(i)]}',
            'controller.listener.names': 'CONTROLLER',
            'log.dirs': os.path.join(d, f'node-{i}'),
            # no HTTP listener nor registry, so parallel runs do not contend for 8080/8081
            'samsa.http.listeners': '',
            'samsa.schema.registry.enable': 'false',
            'samsa.protocol.trace': 'true',
            **CLUSTER_PROPERTIES,
        }
        cmd = ['node', '--import', 'tsx', 'src/cli/main.ts', 'start']
        for k, v in props.items():
            cmd += ['--override', f'{k}={v}']
        commands[str(i)] = cmd
    st = {'ports': ports, 'controller_ports': cports, 'voters': voters, 'log': log, 'cwd': repo,
          'bootstrap': ','.join(f'127.0.0.1:{ports[str(i)]}' for i in NODES), 'commands': commands}
    with open(os.path.join(d, 'cluster.json'), 'w') as f:
        json.dump(st, f, indent=1)
    for i in NODES:
        start_node(d, i)
    for i in NODES:
        wait_listening(d, i, timeout=120)
    # registered and unfenced: Metadata lists the three brokers
    deadline = time.time() + 120
    got = []
    while time.time() < deadline:
        try:
            got = brokers(d)
            if got == list(NODES):
                break
        except Exception:  # noqa: BLE001
            pass
        time.sleep(0.5)
    else:
        raise RuntimeError(f'Metadata lists brokers {got} after 120 s')
    print(f'samsa: 3 nodes, bootstrap {st["bootstrap"]}, voters {voters}, data {d}')


def stop_cluster(d):
    ps = [pid(d, i) for i in NODES]
    # all at once, as Kafka's nodes: a node's controlled shutdown needs a quorum to answer it
    for p in ps:
        if alive(p):
            os.kill(p, signal.SIGTERM)
    deadline = time.time() + 30
    for p in ps:
        while alive(p) and time.time() < deadline:
            time.sleep(0.1)
        if alive(p):
            os.kill(p, signal.SIGKILL)


if __name__ == '__main__':
    if sys.argv[1] == 'start':
        try:
            start_cluster(sys.argv[2], sys.argv[3])
        except Exception as e:  # noqa: BLE001
            print(f'cluster did not start: {e}')
            sys.exit(1)
    elif sys.argv[1] == 'stop':
        stop_cluster(sys.argv[2])
    else:
        sys.exit(f'usage: {sys.argv[0]} start DIR LOG | stop DIR')
