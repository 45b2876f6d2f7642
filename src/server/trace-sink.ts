/**
 * What the dispatcher hands each answered request to when a protocol trace is attached (the web console's
 * ring buffer, src/http/protocol-trace.ts). Declared here so the dispatcher does not import the console.
 */
export interface TraceInput {
  readonly connection: number;
  readonly apiKey: number;
  readonly api: string;
  readonly version: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly durationMs: number;
  readonly request: unknown;
  readonly response: unknown;
}

/** What the dispatcher talks to (null when the console is off). */
export interface ProtocolTraceSink {
  readonly active: boolean;
  record(input: TraceInput): void;
}
