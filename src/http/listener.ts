/**
 * The `samsa.http.listeners` setting (server.ts). Checked at every broker start before anything opens;
 * apart from server.ts so that app.ts loads the HTTP listener, the console and prom-client (metrics.ts)
 * only when the listener is on (the embedded broker's default is off).
 */

export class HttpConfigError extends Error {
  override readonly name = 'HttpConfigError';
}

/** `http://host:port`, or null for an empty value (the listener is off). */
export function parseHttpListener(value: string): { host: string; port: number } | null {
  const v = value.trim();
  if (v === '') return null;
  const first = v.split(',')[0]!.trim();
  const m = /^http:\/\/(\[[^\]]*\]|[^:/]*):(\d+)\/?$/.exec(first);
  if (m === null || Number(m[2]) > 65535) throw new HttpConfigError(`bad samsa.http.listeners "${first}": expected http://host:port, or an empty value to switch it off`);
  const host = m[1]!.replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(m[2]) };
}
