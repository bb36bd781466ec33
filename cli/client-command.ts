// Shared plumbing of the commands that talk to a running cluster: one KeelClient per invocation, and
// errors turned into a clear message and a non-zero exit code (never a stack trace).
import type { Command } from 'commander';
import { KeelClient } from '../net/client/keel-client.ts';
import { bootstrapAddresses } from './bootstrap.ts';

export interface ClientOptions {
  bootstrap?: string;
  json?: boolean;
  timeout?: string;
}

/** The options every cluster command takes: --bootstrap, --json and --timeout (with what they mean for it). */
export function clientOptions(c: Command, help: { readonly json?: string; readonly timeout?: string } = {}): Command {
  return c.option('--bootstrap <addresses>', 'host:port[,host:port] (default: $KEEL_BOOTSTRAP or the cluster up ports)')
    .option('--json', help.json ?? 'print JSON')
    .option('--timeout <seconds>', help.timeout ?? 'give up after this long');
}

/**
 * Runs `body` with a client; prints failures as `error: ...` (or a JSON error line) and sets the exit code.
 * --timeout bounds each request and its retries together, so a command gives up after about that long.
 */
export async function withClient(o: ClientOptions, body: (c: KeelClient) => Promise<void>): Promise<void> {
  const timeoutMs = positiveSeconds(o.timeout, 'timeout');
  const client = new KeelClient({ bootstrap: bootstrapAddresses(o.bootstrap), ...(timeoutMs === undefined ? {} : { requestTimeoutMs: timeoutMs, deliveryTimeoutMs: timeoutMs }) });
  try {
    await body(client);
  } catch (e) {
    reportError(e, o.json === true);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}

export function errorCode(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string' ? (e as { code: string }).code : 'ERROR';
}

export function reportError(e: unknown, json: boolean): void {
  const message = e instanceof Error ? e.message : String(e);
  const code = errorCode(e);
  if (json) console.log(JSON.stringify({ error: { code, message } }));
  else console.error(`error: ${message}${code !== 'ERROR' && !message.includes(code) ? ` (${code})` : ''}`);
}

/** Decimal digits only: Number() would also take "1e1", "0x2" and " 7". */
const DECIMAL_INTEGER = /^[0-9]+$/;

export function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = DECIMAL_INTEGER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    console.error(`error: --${name} must be a positive integer, got "${value}"`);
    process.exit(2);
  }
  return n;
}

export function nonNegativeInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = DECIMAL_INTEGER.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`error: --${name} must be a non-negative integer, got "${value}"`);
    process.exit(2);
  }
  return n;
}

/** A duration given in seconds (fractions allowed), in ms; undefined if not given. */
export function positiveSeconds(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    console.error(`error: --${name} must be a positive number of seconds, got "${value}"`);
    process.exit(2);
  }
  return Math.ceil(seconds * 1000);
}
