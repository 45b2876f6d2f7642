/**
 * Apache Kafka for the bench, from Maven Central: bench/kafka/pom.xml names the broker (kafka_2.13),
 * kafka-tools and kafka-clients; `mvn dependency:copy-dependencies` copies them with their dependencies into
 * bench/.cache/kafka-<version>/libs (Maven keeps its own cache in ~/.m2, so a second clone downloads
 * nothing). The bench's Java tool (bench/java/OpenLoopLatency.java) is compiled against those jars.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = resolve(BENCH_DIR, '..');
export const CACHE_DIR = join(BENCH_DIR, '.cache');
export const DEFAULT_KAFKA_VERSION = '4.4.0';

export interface KafkaDist {
  version: string;
  libDir: string;
  /** Classpath for the broker and tools: the jars plus the compiled bench tool. */
  classpath: string;
  log4jConfig: string;
}

const LOG4J2 = `# Written by the bench: warnings and errors only, to stderr (the broker's log file).
status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
`;

function run(cmd: string, args: string[], what: string): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.error) throw new Error(`${what}: ${r.error.message} (is ${cmd} installed?)`);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${(r.stdout + r.stderr).split('\n').slice(-30).join('\n')}`);
}

export function ensureKafka(version: string = DEFAULT_KAFKA_VERSION, log: (s: string) => void = () => undefined): KafkaDist {
  const base = join(CACHE_DIR, `kafka-${version}`);
  const libDir = join(base, 'libs');
  const marker = join(base, '.complete');
  if (!existsSync(marker)) {
    log(`fetching Apache Kafka ${version} jars with Maven (cached in ~/.m2) ...`);
    mkdirSync(libDir, { recursive: true });
    run('mvn', ['-q', '-B', '-f', join(BENCH_DIR, 'kafka', 'pom.xml'), `-Dkafka.version=${version}`, 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`, '-DincludeScope=runtime'], 'mvn dependency:copy-dependencies');
    if (!readdirSync(libDir).some((f) => f.startsWith(`kafka_2.13-${version}`))) throw new Error(`Maven did not produce kafka_2.13-${version}.jar in ${libDir}`);
    writeFileSync(marker, new Date().toISOString() + '\n');
  }
  const log4jConfig = join(base, 'log4j2.properties');
  if (!existsSync(log4jConfig)) writeFileSync(log4jConfig, LOG4J2);
  const classes = join(base, 'classes');
  const source = join(BENCH_DIR, 'java', 'OpenLoopLatency.java');
  const compiled = join(classes, 'OpenLoopLatency.class');
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(source).mtimeMs) {
    log('compiling bench/java/OpenLoopLatency.java ...');
    mkdirSync(classes, { recursive: true });
    run('javac', ['-nowarn', '-cp', `${libDir}/*`, '-d', classes, source], 'javac OpenLoopLatency.java');
  }
  return { version, libDir, classpath: `${classes}:${libDir}/*`, log4jConfig };
}

/** `java -version`'s first line, for the report. */
export function javaVersion(): string {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return (r.stderr || r.stdout || '').split('\n')[0]?.trim() ?? 'unknown';
}
