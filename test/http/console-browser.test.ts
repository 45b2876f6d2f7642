/**
 * The web console in a real headless browser: Debian's Chromium (apt-get install chromium) driven by
 * playwright-core (no browser download) against an in-process broker holding a topic with produced Avro
 * records, a consumer group with a committed offset and a registered schema with two versions. Every page
 * loads with that data; the numbers it shows are checked against the Kafka protocol's answers (ListOffsets
 * for the high watermark, OffsetFetch for committed offsets and lag); the message browser shows values
 * decoded through the registry; a group's offsets are reset from the page; the protocol trace page shows a
 * produce request sent while it is open. A screenshot of each page goes to test-results/console/.
 *
 * A missing Chromium is reported (the titles say SKIPPED and how to install it), and is a failure with
 * SAMSA_REQUIRE_TOOLS=1, as CI runs (.ci/run installs it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaClient } from '../../src/client/client.js';
import { commitOffsets, fetchCommitted, LATEST, listOffsets, produce } from '../../src/client/operations.js';
import { startTestBroker, type TestBroker } from '../helpers/broker.js';
import { startTestQuorum } from '../helpers/raft-quorum.js';

function findChromium(): string | null {
  const given = process.env['SAMSA_CHROMIUM'];
  if (given) return existsSync(given) ? given : null;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null;
    } catch {
      // not this one
    }
  }
  return null;
}

const CHROMIUM = findChromium();
if (CHROMIUM === null) {
  const message = 'Chromium is not installed: the console browser tests are skipped (apt-get install chromium, or set SAMSA_CHROMIUM)';
  if (process.env['SAMSA_REQUIRE_TOOLS'] === '1') throw new Error(`${message}, and SAMSA_REQUIRE_TOOLS=1 requires it`);
  console.warn(message);
}
const SHOTS = join(process.cwd(), 'test-results', 'console');

let broker: TestBroker;
let client: KafkaClient;
let browser: Browser;
let page: Page;
let base: string;
let schemaId: number;

async function register(subject: string, schema: object): Promise<number> {
  const res = await fetch(`${broker.registry!.url}/subjects/${subject}/versions`, { method: 'POST', headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema: JSON.stringify(schema) }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: number }).id;
}

/** Avro binary of {id: int, nome: string}: zig-zag varint, then the string's length and bytes. */
function avroUser(id: number, nome: string): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  const s = Buffer.from(nome);
  return Buffer.concat([header, Buffer.from([id * 2, s.length * 2]), s]);
}

async function open(hash: string, pageName: string): Promise<void> {
  // A fresh load every time: going to the same URL again would change nothing on the page.
  await page.goto('about:blank');
  await page.goto(`${base}/${hash}`);
  await page.waitForSelector(`main[data-page="${pageName}"][data-state="ready"], main[data-state="error"]`, { timeout: 15_000 });
  const state = await page.getAttribute('main', 'data-state');
  if (state !== 'ready') throw new Error(`page ${hash} failed: ${await page.textContent('main')}`);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const text = async (selector: string): Promise<string> => ((await page.textContent(selector)) ?? '').trim();

describe.skipIf(CHROMIUM === null)(`web console in Chromium${CHROMIUM === null ? ' [SKIPPED: no chromium, apt-get install chromium]' : ''}`, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    broker = await startTestBroker({
      'samsa.http.listeners': 'http://127.0.0.1:0',
      'samsa.schema.registry.enable': 'true',
      'schema.registry.listeners': 'http://127.0.0.1:0',
      'group.initial.rebalance.delay.ms': '0',
    });
    base = `http://127.0.0.1:${broker.httpPort}`;
    client = new KafkaClient({ bootstrap: broker.bootstrap });
    schemaId = await register('usuarios-value', { type: 'record', name: 'User', fields: [{ name: 'id', type: 'int' }, { name: 'nome', type: 'string' }] });
    await register('usuarios-value', { type: 'record', name: 'User', fields: [{ name: 'id', type: 'int' }, { name: 'nome', type: 'string' }, { name: 'email', type: ['null', 'string'], default: null }] });
    await broker.broker.createTopic('usuarios', 2, 1, new Map([['retention.ms', '86400000']]));
    const t = await client.topic('usuarios');
    await produce(client, t, new Map([[0, [{ key: Buffer.from('u1'), value: avroUser(1, 'ana') }, { key: Buffer.from('u2'), value: avroUser(2, 'bia') }, { key: Buffer.from('u3'), value: avroUser(3, 'caio') }]], [1, [{ value: Buffer.from('plain text') }]]]), { acks: -1, timeoutMs: 5000 });
    await commitOffsets(client, 'relatorios', [{ topic: 'usuarios', partition: 0, offset: 1n }]);
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await client?.close();
    await broker?.destroy();
  });

  it('Brokers: this node, the topic and partition counts, its quorum of one', async () => {
    await open('#/', 'brokers');
    expect(await text('[data-testid="controller"] .value')).toBe(String(broker.broker.nodeId));
    let partitions = 0;
    for (const t of broker.broker.image.topics()) partitions += t.partitions.length;
    expect(await text('[data-testid="partition-count"] .value')).toBe(String(partitions));
    expect(await text('[data-testid="quorum"]')).toContain(`Leader${broker.broker.nodeId}`);
    expect(await text(`[data-testid="voter-lag-${broker.broker.nodeId}"]`)).toBe('0');
    expect(await text('main table')).toContain(`127.0.0.1:${broker.port}`);
    await shot('brokers');
  });

  it('Brokers with a Raft quorum: leader, epoch and each voter\'s lag behind the leader', async () => {
    const quorum = startTestQuorum();
    quorum.runUntil(10_000);
    const leader = quorum.leader()!;
    const lagging = [...quorum.cores.values()].find((c) => c !== leader)!.config.nodeId;
    quorum.isolated.add(lagging);
    quorum.propose(5);
    quorum.runUntil(12_000);
    const target = broker.broker as unknown as { describeQuorum?: (now: number) => unknown };
    const ownDescribe = target.describeQuorum;
    const ownStatus = broker.broker.quorum;
    // The test quorum runs on its own virtual clock.
    target.describeQuorum = () => leader.describeQuorum(quorum.now());
    try {
      await open('#/', 'brokers');
      expect(await text('[data-testid="quorum"]')).toContain(`Leader${leader.config.nodeId}`);
      expect(await text(`[data-testid="voter-lag-${lagging}"]`)).toBe('5');
      expect(await text(`[data-testid="voter-lag-${leader.config.nodeId}"]`)).toBe('0');
      await shot('brokers-quorum');
      // On a follower: its own status, and where the voters' lag can be seen.
      const follower = [...quorum.cores.values()].find((x) => x !== leader && x.config.nodeId !== lagging)!;
      broker.broker.quorum = { leaderId: () => follower.leaderId, epoch: () => follower.epoch, highWatermark: () => follower.highWatermark, logEndOffset: () => follower.logEndOffset, state: () => follower.stateName, isActiveController: () => false };
      target.describeQuorum = () => follower.describeQuorum(quorum.now());
      await open('#/', 'brokers');
      const shown = await text('[data-testid="quorum"]');
      expect(shown).toContain('Follower');
      expect(shown).toContain(`open the console of node ${leader.config.nodeId}`);
      await shot('brokers-quorum-follower');
    } finally {
      target.describeQuorum = ownDescribe;
      broker.broker.quorum = ownStatus;
    }
  });

  it('Topics and Topic detail: partitions with the high watermark ListOffsets answers, segments, configs', async () => {
    await open('#/topics', 'topics');
    expect(await text('main table')).toContain('usuarios');
    await shot('topics');
    await page.click('a[href="#/topics/usuarios"]');
    await page.waitForSelector('main[data-page="topic"][data-state="ready"]');
    const t = await client.topic('usuarios');
    const latest = await listOffsets(client, t, [0, 1], LATEST);
    expect(await text('[data-testid="hw-0"]')).toBe(String(latest.get(0)));
    expect(await text('[data-testid="hw-1"]')).toBe(String(latest.get(1)));
    // Replicas and ISR as the Metadata response gives them.
    for (const p of t.partitions) expect(await text(`[data-testid="isr-${p.partition}"]`)).toBe(p.isr.join(', '));
    const body = await text('main');
    expect(body).toContain('retention.ms');
    expect(body).toContain('DYNAMIC_TOPIC_CONFIG');
    expect(body).toContain('Base offset');
    await shot('topic');
  });

  it('Messages: Avro values decoded through the registry, from an offset', async () => {
    await open('#/topics/usuarios/0/messages', 'messages');
    const values = await page.$$eval('[data-testid="value"]', (els) => els.map((e) => e.textContent ?? ''));
    expect(values).toHaveLength(3);
    expect(values[0]).toContain('avro');
    expect(values[0]).toContain(`schema ${schemaId}`);
    expect(values[0]).toContain('"nome": "ana"');
    expect(values[2]).toContain('"nome": "caio"');
    await shot('messages');
    // From offset 2, through the form.
    await page.selectOption('select[name="mode"]', 'offset');
    await page.fill('input[name="position"]', '2');
    await page.click('form.inline button[type="submit"]');
    await page.waitForFunction(() => location.hash.includes('offset=2') && document.querySelector('main')?.dataset['state'] === 'ready');
    expect(await page.$$eval('[data-testid="offset"]', (els) => els.map((e) => e.textContent))).toEqual(['2']);
    await open('#/topics/usuarios/1/messages', 'messages');
    expect(await text('[data-testid="value"]')).toContain('plain text');
  });

  it('Partition files: the segment\'s batch headers', async () => {
    await open('#/topics/usuarios/0/files', 'files');
    const body = await text('main');
    expect(body).toContain('00000000000000000000.log');
    expect(body).toContain('00000000000000000000.timeindex');
    expect(body).toContain('Record batch headers');
    await shot('files');
  });

  it('Consumer groups: committed offset and lag as OffsetFetch and ListOffsets give them; reset offsets from the page', async () => {
    await open('#/groups', 'groups');
    expect(await text('[data-testid="lag-relatorios"]')).toBe('2');
    await shot('groups');
    await page.click('a[href="#/groups/relatorios"]');
    await page.waitForSelector('main[data-page="group"][data-state="ready"]');
    const committed = (await fetchCommitted(client, 'relatorios')).find((o) => o.partition === 0)!.offset;
    const hw = (await listOffsets(client, await client.topic('usuarios'), [0], LATEST)).get(0)!;
    expect(await text('[data-testid="committed-usuarios-0"]')).toBe(String(committed));
    expect(await text('[data-testid="lag-usuarios-0"]')).toBe(String(hw - committed));
    expect(await text('[data-testid="group-state"] .value')).toBe('Empty');
    await shot('group');
    // Reset to earliest from the page: the protocol sees offset 0, the page shows the full lag.
    await page.selectOption('[data-testid="reset-form"] select[name="to"]', 'earliest');
    await page.click('[data-testid="reset-form"] button[type="submit"]');
    await page.waitForFunction((want) => document.querySelector('[data-testid="lag-usuarios-0"]')?.textContent === want, String(hw), { timeout: 15_000 });
    expect((await fetchCommitted(client, 'relatorios')).find((o) => o.partition === 0)!.offset).toBe(0n);
    await shot('group-after-reset');
  });

  it('Schema registry: subjects, versions, compatibility and the diff of two versions', async () => {
    await open('#/registry', 'registry');
    const body = await text('main table');
    expect(body).toContain('usuarios-value');
    expect(body).toContain('BACKWARD');
    await shot('registry');
    await page.click('a[href="#/registry/usuarios-value"]');
    await page.waitForSelector('main[data-page="subject"][data-state="ready"]');
    const diff = (await (await fetch(`${base}/api/registry/subjects/usuarios-value/diff?from=1&to=2`)).json()) as { added: number; removed: number };
    expect(diff.added).toBeGreaterThan(0);
    expect(await text('[data-testid="diff-summary"]')).toBe(`version 1 → 2: ${diff.added} line(s) added, ${diff.removed} removed`);
    expect(await page.$$eval('.diff .add', (els) => els.map((e) => e.textContent ?? '').join('\n'))).toContain('"email"');
    await shot('subject');
  });

  it('Protocol trace: a produce sent while the page is open appears, decoded', async () => {
    await open('#/trace', 'trace');
    const t = await client.topic('usuarios');
    await produce(client, t, new Map([[1, [{ value: Buffer.from('traced') }, { value: Buffer.from('twice') }]]]), { acks: -1, timeoutMs: 5000 });
    await page.waitForSelector('.trace-entry[data-api="Produce"]', { timeout: 15_000 });
    const entry = await text('.trace-entry[data-api="Produce"]');
    expect(entry).toContain('usuarios-1: 2 record(s), none');
    expect(entry).toMatch(/base offset 1/);
    await shot('trace');
  });
});
