// Samsa console: the pages. Each returns { title, nodes, stop? } built from the JSON API (docs/console.md).
import { api, bytes, card, decoded, enc, h, num, table, time } from './dom.js';

const rerender = () => window.dispatchEvent(new HashChangeEvent('hashchange'));
const topicLink = (name) => h('a', { href: `#/topics/${enc(name)}` }, name);

// ------------------------------------------------------------------------------------------- brokers

function ago(now, t) {
  if (t < 0 || now < 0) return '–';
  return t >= now ? 'now' : `${num(now - t)} ms ago`;
}

export async function brokers() {
  const c = await api('cluster');
  const nodes = [
    h('h1', null, 'Brokers'),
    h('div', { class: 'cards' }, card('Cluster id', h('span', { class: 'mono' }, c.clusterId)), card('Controller', c.controllerId, { 'data-testid': 'controller' }), card('Topics', num(c.topics), { 'data-testid': 'topic-count' }), card('Partitions', num(c.partitions), { 'data-testid': 'partition-count' }), card('Schema registry', c.registry ? h('a', { href: '#/registry' }, c.registry) : 'off')),
    table(
      [
        ['Node', (b) => h('span', null, b.nodeId, b.self ? h('span', { class: 'tag gray' }, 'this node') : null)],
        ['Address', (b) => h('span', { class: 'mono' }, `${b.host}:${b.port}`)],
        ['Rack', (b) => b.rack ?? '–'],
        ['Controller', (b) => (b.controller ? 'yes' : '')],
        ['State', (b) => (b.fenced ? h('span', { class: 'bad' }, 'fenced') : h('span', { class: 'ok' }, 'active'))],
        ['Partitions', (b) => num(b.partitions), { num: true }],
        ['Leaders', (b) => num(b.leaders), { num: true }],
        ['Log size', (b) => bytes(b.logBytes), { num: true }],
        ['Disk free', (b) => (b.logDirs ? b.logDirs.map((d) => h('div', { class: 'mono' }, `${d.path}: ${bytes(d.freeBytes)} of ${bytes(d.totalBytes)}`)) : '–')],
      ],
      c.brokers,
    ),
    h('h2', null, 'Metadata quorum'),
  ];
  if (c.quorum === null) {
    const st = c.status;
    nodes.push(
      st
        ? h(
            'div',
            { 'data-testid': 'quorum' },
            h('div', { class: 'cards' }, card('Leader', st.leaderId < 0 ? 'unknown' : st.leaderId), card('Epoch', st.epoch), card('High watermark', num(st.highWatermark)), card(`Node ${st.nodeId}`, st.state), card('Its log end offset', num(st.logEndOffset))),
            h('p', { class: 'muted' }, st.leaderId >= 0 && st.leaderId !== st.nodeId ? `Each voter's lag is known on the leader only: open the console of node ${st.leaderId}.` : 'No leader known: an election is in progress.'),
          )
        : h('p', { 'data-testid': 'quorum' }, 'KRaft: the quorum view is not available on this node.'),
    );
  } else {
    const q = c.quorum;
    const leaderRow = q.currentVoters.find((v) => v.replicaId === q.leaderId);
    const leaderEnd = leaderRow?.logEndOffset ?? q.highWatermark;
    const leaderNow = leaderRow?.lastCaughtUpTimestamp ?? -1;
    nodes.push(
      h('div', { class: 'cards', 'data-testid': 'quorum' }, card('Leader', q.leaderId), card('Epoch', q.leaderEpoch), card('High watermark', num(q.highWatermark))),
      table(
        [
          ['Replica', (v) => v.replicaId],
          ['Role', (v) => (v.replicaId === q.leaderId ? 'leader' : v.observer ? 'observer' : 'voter')],
          ['Log end offset', (v) => num(v.logEndOffset), { num: true }],
          ['Lag', (v) => h('span', { 'data-testid': `voter-lag-${v.replicaId}` }, v.logEndOffset < 0 ? '–' : num(Math.max(0, leaderEnd - v.logEndOffset))), { num: true }],
          // Relative to the leader's clock (its own row's caught-up time is its "now"), whatever clock the quorum runs on.
          ['Last fetch', (v) => ago(leaderNow, v.lastFetchTimestamp)],
          ['Last caught up', (v) => ago(leaderNow, v.lastCaughtUpTimestamp)],
        ],
        [...q.currentVoters, ...q.observers.map((o) => ({ ...o, observer: true }))],
      ),
    );
  }
  return { title: 'Brokers', nodes };
}

// -------------------------------------------------------------------------------------------- topics

export async function topics() {
  const list = await api('topics');
  return {
    title: 'Topics',
    nodes: [
      h('h1', null, 'Topics'),
      table(
        [
          ['Name', (t) => h('span', null, topicLink(t.name), t.internal ? h('span', { class: 'tag gray' }, 'internal') : null)],
          ['Partitions', (t) => t.partitions, { num: true }],
          ['Replication', (t) => t.replicationFactor, { num: true }],
          ['Records', (t) => num(t.records), { num: true }],
          ['Size', (t) => bytes(t.size), { num: true }],
          ['Under-replicated', (t) => (t.underReplicated > 0 ? h('span', { class: 'bad' }, t.underReplicated) : '0'), { num: true }],
          ['Config overrides', (t) => t.overrides, { num: true }],
        ],
        list,
        'No topics yet.',
      ),
    ],
  };
}

function segmentsTable(p) {
  return table(
    [
      ['Base offset', (s) => num(s.baseOffset), { num: true }],
      ['Next offset', (s) => num(s.nextOffset), { num: true }],
      ['Size', (s) => bytes(s.size), { num: true }],
      ['Index entries', (s) => `${num(s.indexEntries)} (${bytes(s.indexBytes)})`, { num: true }],
      ['Time index entries', (s) => `${num(s.timeIndexEntries)} (${bytes(s.timeIndexBytes)})`, { num: true }],
      ['Largest timestamp', (s) => time(s.largestTimestamp)],
      ['', (s) => (s.active ? h('span', { class: 'tag' }, 'active') : '')],
    ],
    p.segmentList ?? [],
    p.segmentsError ?? 'no segments',
  );
}

export async function topic(name) {
  const t = await api(`topics/${enc(name)}`);
  const overridden = t.configs.filter((c) => !c.isDefault);
  return {
    title: name,
    nodes: [
      h('h1', null, 'Topic ', h('span', { class: 'mono' }, name)),
      h('p', { class: 'muted' }, 'Topic id ', h('span', { class: 'mono' }, t.topicId), t.internal ? ' · internal' : ''),
      h('h2', null, 'Partitions'),
      table(
        [
          ['Partition', (p) => p.partition, { num: true }],
          ['Leader', (p) => (p.offline ? h('span', { class: 'bad' }, 'offline') : h('span', { title: p.hostedHere ? 'hosted on this broker' : 'its log is on another broker: open that broker\'s console for it' }, p.leader)), { num: true }],
          ['Epoch', (p) => p.leaderEpoch, { num: true }],
          ['Replicas', (p) => p.replicas.join(', ')],
          ['ISR', (p) => h('span', { class: p.underReplicated ? 'bad' : null, 'data-testid': `isr-${p.partition}` }, p.isr.join(', '))],
          ['Log start', (p) => num(p.logStartOffset), { num: true }],
          ['High watermark', (p) => h('span', { 'data-testid': `hw-${p.partition}` }, num(p.highWatermark)), { num: true }],
          ['Log end', (p) => num(p.logEndOffset), { num: true }],
          ['Size', (p) => bytes(p.size), { num: true }],
          ['Segments', (p) => num(p.segments), { num: true }],
          ['', (p) => h('span', null, h('a', { href: `#/topics/${enc(name)}/${p.partition}/messages` }, 'messages'), ' · ', h('a', { href: `#/topics/${enc(name)}/${p.partition}/files` }, 'files'))],
        ],
        t.partitions,
      ),
      h('h2', null, 'Segments'),
      t.partitions.map((p) => h('details', { open: t.partitions.length <= 4 }, h('summary', null, `Partition ${p.partition}`, p.dir ? h('span', { class: 'muted mono' }, ` ${p.dir}`) : null), segmentsTable(p))),
      h('h2', null, 'Configs'),
      h('p', { class: 'muted' }, overridden.length === 0 ? 'All defaults.' : `${overridden.length} set for this topic or broker, shown first.`),
      table(
        [
          ['Name', (c) => h('span', { class: 'mono' }, c.name)],
          ['Value', (c) => (c.sensitive ? h('span', { class: 'muted' }, '(sensitive)') : h('span', { class: 'mono' }, c.value))],
          ['Source', (c) => h('span', { class: c.isDefault ? 'muted' : 'tag' }, c.source)],
        ],
        [...overridden, ...t.configs.filter((c) => c.isDefault)],
      ),
    ],
  };
}

// ------------------------------------------------------------------------------------------ messages

export async function messages(name, partition, params) {
  const t = await api(`topics/${enc(name)}`);
  const q = new URLSearchParams();
  const mode = params.get('offset') !== null ? 'offset' : params.get('timestamp') !== null ? 'timestamp' : params.get('from') === 'end' ? 'end' : 'start';
  if (mode === 'offset') q.set('offset', params.get('offset'));
  if (mode === 'timestamp') q.set('timestamp', params.get('timestamp'));
  if (mode === 'end') q.set('from', 'end');
  for (const k of ['limit', 'keyFormat', 'valueFormat']) if (params.get(k)) q.set(k, params.get(k));
  const r = await api(`topics/${enc(name)}/partitions/${partition}/messages?${q}`);

  const partitionSelect = h('select', { name: 'partition' }, t.partitions.map((p) => h('option', { value: p.partition, selected: p.partition === partition }, `partition ${p.partition}`)));
  const modeSelect = h('select', { name: 'mode' }, [['start', 'from the start'], ['end', 'the last'], ['offset', 'from offset'], ['timestamp', 'from time']].map(([v, label]) => h('option', { value: v, selected: v === mode }, label)));
  const position = h('input', { name: 'position', placeholder: 'offset, or time (ISO or ms)', size: 26, value: params.get('offset') ?? (params.get('timestamp') ? new Date(Number(params.get('timestamp'))).toISOString() : '') });
  const limit = h('input', { name: 'limit', type: 'number', min: 1, max: 500, value: params.get('limit') ?? 50, style: 'width: 70px' });
  const formats = ['auto', 'schema', 'json', 'text', 'hex'];
  const keyFormat = h('select', { name: 'keyFormat' }, formats.map((f) => h('option', { value: f, selected: f === (params.get('keyFormat') ?? 'auto') }, `key: ${f}`)));
  const valueFormat = h('select', { name: 'valueFormat' }, formats.map((f) => h('option', { value: f, selected: f === (params.get('valueFormat') ?? 'auto') }, `value: ${f}`)));
  const form = h(
    'form',
    {
      class: 'inline',
      onsubmit: (e) => {
        e.preventDefault();
        const n = new URLSearchParams();
        const m = modeSelect.value;
        const v = position.value.trim();
        if (m === 'offset') n.set('offset', v || '0');
        else if (m === 'timestamp') n.set('timestamp', /^\d+$/.test(v) ? v : String(Date.parse(v) || 0));
        else if (m === 'end') n.set('from', 'end');
        n.set('limit', limit.value);
        if (keyFormat.value !== 'auto') n.set('keyFormat', keyFormat.value);
        if (valueFormat.value !== 'auto') n.set('valueFormat', valueFormat.value);
        location.hash = `#/topics/${enc(name)}/${partitionSelect.value}/messages?${n}`;
      },
    },
    partitionSelect,
    modeSelect,
    position,
    limit,
    'records',
    keyFormat,
    valueFormat,
    h('button', { type: 'submit' }, 'Show'),
  );
  const next = r.nextOffset < r.highWatermark ? h('a', { href: `#/topics/${enc(name)}/${partition}/messages?offset=${r.nextOffset}&limit=${params.get('limit') ?? 50}` }, `next from offset ${r.nextOffset} →`) : null;
  return {
    title: `${name}-${partition} messages`,
    nodes: [
      h('h1', null, 'Messages in ', topicLink(name), ` partition ${partition}`),
      h('p', { class: 'muted' }, `Log start offset ${num(r.logStartOffset)} · high watermark ${num(r.highWatermark)} · showing ${r.messages.length} from offset ${num(r.from)}`, r.timestamp !== undefined ? ` (first record at or after ${time(r.timestamp)})` : ''),
      form,
      table(
        [
          ['Offset', (m) => h('span', { 'data-testid': 'offset' }, m.offset), { num: true }],
          ['Timestamp', (m) => h('span', { title: m.timestampType }, time(m.timestamp))],
          ['Key', (m) => decoded(m.key)],
          ['Value', (m) => h('div', { 'data-testid': 'value' }, decoded(m.value))],
          ['Headers', (m) => (m.headers.length === 0 ? h('span', { class: 'muted' }, '–') : m.headers.map((x) => h('div', null, h('span', { class: 'mono' }, `${x.key}: `), decoded(x.value))))],
          ['Batch', (m) => h('span', { class: 'muted' }, `base ${m.batch.baseOffset}`, m.batch.compression !== 'none' ? ` · ${m.batch.compression}` : '', m.batch.producerId >= 0 ? ` · pid ${m.batch.producerId}` : '')],
        ],
        r.messages,
        'No records in this range.',
      ),
      next,
    ],
  };
}

// --------------------------------------------------------------------------------------------- files

function fileView(f) {
  if (f.kind === 'log') {
    return [
      h('p', { class: 'muted' }, `Record batch headers (61 bytes each, at the start of every batch), from byte ${f.batches[0]?.position ?? 0}.`, f.problem ? h('span', { class: 'bad' }, ` ${f.problem}`) : null),
      table(
        [
          ['Position', (b) => num(b.position), { num: true }],
          ['Base offset', (b) => num(b.baseOffset), { num: true }],
          ['Last offset', (b) => num(b.lastOffset), { num: true }],
          ['Records', (b) => b.count, { num: true }],
          ['Bytes', (b) => num(b.size), { num: true }],
          ['Leader epoch', (b) => b.partitionLeaderEpoch, { num: true }],
          ['CRC', (b) => h('span', { class: 'mono' }, b.crc.toString(16).padStart(8, '0'))],
          ['Compression', (b) => b.compression],
          ['Timestamps', (b) => h('span', { title: b.timestampType }, `${time(b.baseTimestamp)} … ${time(b.maxTimestamp)}`)],
          ['Producer', (b) => (b.producerId < 0 ? '–' : `id ${b.producerId} epoch ${b.producerEpoch} seq ${b.baseSequence}`)],
          ['', (b) => [b.transactional ? h('span', { class: 'tag' }, 'transactional') : null, b.control ? h('span', { class: 'tag' }, 'control') : null]],
        ],
        f.batches,
        'Empty segment.',
      ),
    ];
  }
  if (f.kind === 'index' || f.kind === 'timeindex') {
    const cols = f.kind === 'index' ? [['Relative offset', (e) => e.relativeOffset, { num: true }], ['Offset', (e) => num(e.offset), { num: true }], ['Position', (e) => num(e.position), { num: true }]] : [['Timestamp', (e) => time(e.timestamp)], ['Relative offset', (e) => e.relativeOffset, { num: true }], ['Offset', (e) => num(e.offset), { num: true }]];
    return [
      h('p', { class: 'muted' }, `${f.entrySize}-byte entries. `, f.source === 'memory' ? `This is a live segment: entries shown from memory (the file holds ${f.fileEntries}; Samsa writes it at a roll or flush).` : 'Read from the file.'),
      table(cols, f.entries, 'No entries (an entry is added every index.interval.bytes of batches).'),
    ];
  }
  if (f.text !== undefined) return [h('pre', null, f.text)];
  return [h('pre', null, f.hex)];
}

export async function files(name, partition, fileName, params) {
  const list = await api(`topics/${enc(name)}/partitions/${partition}/files`);
  const selected = fileName ?? list.files.find((f) => f.kind === 'log')?.name ?? null;
  const q = new URLSearchParams();
  for (const k of ['position', 'entry']) if (params.get(k)) q.set(k, params.get(k));
  const view = selected ? await api(`topics/${enc(name)}/partitions/${partition}/files/${enc(selected)}?${q}`) : null;
  const here = `#/topics/${enc(name)}/${partition}/files/${enc(selected ?? '')}`;
  const more = view?.nextPosition != null ? h('a', { href: `${here}?position=${view.nextPosition}` }, `next batches from byte ${view.nextPosition} →`) : view?.nextEntry != null ? h('a', { href: `${here}?entry=${view.nextEntry}` }, `next entries from entry ${view.nextEntry} →`) : null;
  return {
    title: `${name}-${partition} files`,
    nodes: [
      h('h1', null, 'Files of ', topicLink(name), ` partition ${partition}`),
      h('p', { class: 'muted mono' }, list.dir),
      table(
        [
          ['File', (f) => h('a', { href: `#/topics/${enc(name)}/${partition}/files/${enc(f.name)}`, class: 'mono' }, f.name, f.name === selected ? ' ◀' : '')],
          ['Kind', (f) => f.kind],
          ['Size', (f) => bytes(f.size), { num: true }],
          ['Modified', (f) => time(f.modifiedMs)],
        ],
        list.files,
      ),
      view ? [h('h2', { class: 'mono' }, view.name), fileView(view), more] : null,
    ],
  };
}

// -------------------------------------------------------------------------------------------- groups

export async function groups() {
  const list = await api('groups');
  return {
    title: 'Consumer groups',
    nodes: [
      h('h1', null, 'Consumer groups'),
      table(
        [
          ['Group', (g) => h('a', { href: `#/groups/${enc(g.groupId)}` }, g.groupId)],
          ['State', (g) => g.state],
          ['Protocol', (g) => [g.protocolType, g.protocol].filter(Boolean).join(' / ') || '–'],
          ['Members', (g) => g.members, { num: true }],
          ['Topics', (g) => g.topics.join(', ') || '–'],
          ['Partitions', (g) => g.partitions, { num: true }],
          ['Lag', (g) => h('span', { 'data-testid': `lag-${g.groupId}` }, num(g.lag)), { num: true }],
        ],
        list,
        'No consumer groups.',
      ),
    ],
  };
}

export async function group(id) {
  const g = await api(`groups/${enc(id)}`);
  const status = h('span', { 'data-testid': 'reset-status' });
  const to = h('select', { name: 'to' }, ['earliest', 'latest', 'offset', 'timestamp'].map((v) => h('option', { value: v }, v)));
  const arg = h('input', { name: 'value', placeholder: 'offset, or time (ISO or ms)', size: 24 });
  const topicsBox = h('input', { name: 'topics', placeholder: 'topics (comma-separated; empty: all with offsets)', size: 40 });
  const button = h('button', { type: 'submit', disabled: !g.canResetOffsets }, 'Reset offsets');
  const form = h(
    'form',
    {
      class: 'inline',
      'data-testid': 'reset-form',
      onsubmit: async (e) => {
        e.preventDefault();
        const body = { to: to.value };
        const v = arg.value.trim();
        if (to.value === 'offset') body.offset = Number(v);
        if (to.value === 'timestamp') body.timestamp = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
        const topicsList = topicsBox.value.split(',').map((s) => s.trim()).filter(Boolean);
        if (topicsList.length > 0) body.topics = topicsList;
        button.disabled = true;
        try {
          const r = await api(`groups/${enc(id)}/reset-offsets`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
          status.textContent = `Reset ${r.reset.length} partition(s).`;
          rerender();
        } catch (err) {
          status.textContent = err.message;
          status.className = 'bad';
          button.disabled = false;
        }
      },
    },
    to,
    arg,
    topicsBox,
    button,
    status,
  );
  return {
    title: `Group ${id}`,
    nodes: [
      h('h1', null, 'Consumer group ', h('span', { class: 'mono' }, id)),
      h('div', { class: 'cards' }, card('State', g.state, { 'data-testid': 'group-state' }), card('Protocol', [g.protocolType, g.protocol].filter(Boolean).join(' / ') || '–'), card('Members', g.members.length), card('Total lag', num(g.lag), { 'data-testid': 'group-lag' }), card('Coordinator partition', `__consumer_offsets-${g.coordinatorPartition}`)),
      h('h2', null, 'Members'),
      table(
        [
          ['Member id', (m) => h('span', { class: 'mono' }, m.memberId)],
          ['Instance id', (m) => m.groupInstanceId ?? '–'],
          ['Client id', (m) => m.clientId],
          ['Host', (m) => m.clientHost],
          ['Assignment', (m) => (m.assignmentError ? h('span', { class: 'bad' }, m.assignmentError) : m.assignment.map((a) => h('div', null, `${a.topic}: ${a.partitions.join(', ')}`)))],
        ],
        g.members,
        'No members (the group is empty).',
      ),
      h('h2', null, 'Committed offsets and lag'),
      table(
        [
          ['Topic', (o) => topicLink(o.topic)],
          ['Partition', (o) => o.partition, { num: true }],
          ['Committed', (o) => h('span', { 'data-testid': `committed-${o.topic}-${o.partition}` }, num(o.committed)), { num: true }],
          ['Log start', (o) => num(o.logStartOffset), { num: true }],
          ['High watermark', (o) => num(o.highWatermark), { num: true }],
          ['Lag', (o) => h('span', { 'data-testid': `lag-${o.topic}-${o.partition}` }, num(o.lag)), { num: true }],
          ['Member', (o) => (o.memberId ? h('span', { class: 'mono' }, o.memberId) : '–')],
          ['Metadata', (o) => o.metadata || '–'],
        ],
        g.offsets,
        'No committed offsets.',
      ),
      h('h2', null, 'Reset offsets'),
      h('p', { class: 'muted' }, g.canResetOffsets ? 'The group is empty: its offsets can be reset (an OffsetCommit from outside the group, as kafka-consumer-groups.sh --reset-offsets does).' : `Offsets can be reset only when the group is empty; it is ${g.state}. Stop its consumers first.`),
      form,
    ],
  };
}

// ------------------------------------------------------------------------------------------ registry

export async function registry() {
  const r = await api('registry');
  if (!r.enabled) return { title: 'Schema registry', nodes: [h('h1', null, 'Schema registry'), h('p', { class: 'muted' }, 'The schema registry is off (samsa.schema.registry.enable=false).')] };
  return {
    title: 'Schema registry',
    nodes: [
      h('h1', null, 'Schema registry'),
      h('div', { class: 'cards' }, card('URL', h('span', { class: 'mono' }, r.url)), card('Global compatibility', r.compatibility), card('Mode', r.mode), card('Subjects', r.subjects.length)),
      table(
        [
          ['Subject', (s) => h('a', { href: `#/registry/${enc(s.subject)}` }, s.subject)],
          ['Type', (s) => s.latest.schemaType],
          ['Versions', (s) => s.versions.join(', ')],
          ['Latest id', (s) => s.latest.id, { num: true }],
          ['Compatibility', (s) => s.compatibility],
          ['Mode', (s) => s.mode],
        ],
        r.subjects,
        'No subjects registered.',
      ),
    ],
  };
}

export async function subject(name, params) {
  const s = await api(`registry/subjects/${enc(name)}`);
  const versions = s.versions.map((v) => v.version);
  const from = Number(params.get('from') ?? versions.at(-2) ?? versions[0]);
  const to = Number(params.get('to') ?? versions.at(-1));
  const diff = versions.length >= 2 || params.get('from') ? await api(`registry/subjects/${enc(name)}/diff?from=${from}&to=${to}`) : null;
  const pick = (sel) => h('select', null, versions.map((v) => h('option', { value: v, selected: v === sel }, `version ${v}`)));
  const a = pick(from);
  const b = pick(to);
  return {
    title: name,
    nodes: [
      h('h1', null, 'Subject ', h('span', { class: 'mono' }, name)),
      h('div', { class: 'cards' }, card('Compatibility', s.compatibility), card('Mode', s.mode), card('Versions', versions.length)),
      h('h2', null, 'Versions'),
      s.versions.map((v) => h('details', { open: v.version === versions.at(-1) }, h('summary', null, `version ${v.version} · id ${v.id} · ${v.schemaType}`, v.deleted ? ' · soft-deleted' : '', v.references.length ? ` · ${v.references.length} reference(s)` : ''), h('pre', null, v.pretty))),
      h('h2', null, 'Diff'),
      versions.length < 2
        ? h('p', { class: 'muted' }, 'Only one version: nothing to compare.')
        : [
            h(
              'form',
              {
                class: 'inline',
                onsubmit: (e) => {
                  e.preventDefault();
                  location.hash = `#/registry/${enc(name)}?from=${a.value}&to=${b.value}`;
                },
              },
              a,
              '→',
              b,
              h('button', { type: 'submit' }, 'Compare'),
            ),
            h('p', { class: 'muted', 'data-testid': 'diff-summary' }, `version ${diff.from.version} → ${diff.to.version}: ${diff.added} line(s) added, ${diff.removed} removed`),
            h('div', { class: 'diff' }, diff.lines.map((l) => h('div', { class: `line ${l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}` }, `${l.op} ${l.text}`))),
          ],
    ],
  };
}

// --------------------------------------------------------------------------------------------- trace

/** What happens to a request inside the broker, as steps a student can follow. */
function flowOf(e) {
  const res = e.response ? safeParse(e.response) : null;
  const steps = [`${e.clientId ?? 'client'} → connection ${e.connection}`, `frame decoded: ${e.api} v${e.version}, correlation id ${e.correlationId}`];
  if (e.api === 'Produce') {
    for (const tp of e.batches) steps.push(`${tp.topic}-${tp.partition}: ${tp.batches.map((b) => `${b.records} record(s), ${b.compression}`).join('; ')} → leader appends to the log`);
    const parts = res?.responses?.flatMap((t) => t.partitionResponses.map((p) => `${t.name}-${p.index}: ${p.errorCode === 0 ? `base offset ${p.baseOffset}` : `error ${p.errorCode}`}`)) ?? [];
    steps.push(res === null ? 'acks=0: no response' : `response: ${parts.join(', ')}`);
  } else if (e.api === 'Fetch') {
    for (const tp of e.batches) steps.push(`${tp.topic}-${tp.partition}: read ${tp.batches.length} batch(es), offsets ${tp.batches[0]?.baseOffset}…${tp.batches.at(-1)?.lastOffset}`);
    steps.push('response');
  } else {
    steps.push('handler', 'response');
  }
  steps.push(`${e.durationMs.toFixed(2)} ms`);
  return h('div', { class: 'flow' }, steps.flatMap((s, i) => (i === 0 ? [h('span', { class: 'step' }, s)] : [h('span', { class: 'arrow' }, '→'), h('span', { class: 'step' }, s)])));
}

function safeParse(s) {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

function pretty(s) {
  const v = safeParse(s);
  return v === null ? `${s} … (cut)` : JSON.stringify(v, null, 2);
}

export async function trace() {
  const first = await api('trace');
  let after = 0;
  const kept = [];
  const list = h('div', { 'data-testid': 'trace-list' });
  const filter = h('input', { placeholder: 'filter by API (e.g. Produce)', size: 28 });
  const paused = h('input', { type: 'checkbox' });
  const count = h('span', { class: 'muted' });
  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    const shown = kept.filter((e) => f === '' || e.api.toLowerCase().includes(f)).slice(-100).reverse();
    count.textContent = `${shown.length} shown, ${kept.length} kept (the broker keeps the last ${first.capacity})`;
    list.replaceChildren(
      ...(shown.length === 0
        ? [h('p', { class: 'muted' }, 'No requests yet. Produce or consume something: requests appear here while this page is open.')]
        : shown.map((e) =>
            h(
              'div',
              { class: 'trace-entry', 'data-api': e.api },
              h('div', { class: 'head' }, h('strong', null, `${e.api} v${e.version}`), h('span', { class: 'muted' }, time(e.time)), h('span', { class: 'muted' }, `client ${e.clientId ?? '(null)'}`), e.truncated ? h('span', { class: 'tag gray' }, 'cut') : null),
              flowOf(e),
              h('details', null, h('summary', null, 'request and response, decoded'), h('div', { class: 'split' }, h('pre', null, pretty(e.request)), h('pre', null, e.response === null ? '(no response)' : pretty(e.response)))),
            ),
          )),
    );
  };
  const take = (entries) => {
    for (const e of entries) {
      kept.push(e);
      after = Math.max(after, e.seq);
    }
    if (kept.length > first.capacity) kept.splice(0, kept.length - first.capacity);
  };
  take(first.entries);
  draw();
  filter.addEventListener('input', draw);
  let timer = null;
  let stopped = false;
  const poll = async () => {
    if (stopped) return;
    if (!paused.checked) {
      try {
        const r = await api(`trace?after=${after}`);
        if (r.entries.length > 0) {
          take(r.entries);
          draw();
        }
      } catch {
        // The broker went away: keep what is shown, try again.
      }
    }
    if (!stopped) timer = setTimeout(poll, 1000);
  };
  timer = setTimeout(poll, 1000);
  return {
    title: 'Protocol trace',
    nodes: [
      h('h1', null, 'Protocol trace'),
      h('p', { class: 'muted' }, 'The requests this broker answers, decoded, newest first. The broker records them only while this page is open (it polls every second); record bytes are summarised from the batch headers.'),
      h('div', { class: 'toolbar' }, filter, h('label', null, paused, ' pause'), count),
      list,
    ],
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
