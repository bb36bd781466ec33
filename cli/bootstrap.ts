// Where the CLI finds the cluster: --bootstrap host:port[,host:port], else KEEL_BOOTSTRAP, else the
// addresses `keel cluster up` uses by default (DESIGN.md §8).
import { fail } from './output.ts';

export const DEFAULT_BASE_PORT = 9092;
export const DEFAULT_NODES = 3;

export function defaultAddresses(nodes = DEFAULT_NODES, basePort = DEFAULT_BASE_PORT): string[] {
  return Array.from({ length: nodes }, (_, k) => `127.0.0.1:${basePort + k}`);
}

const ADDRESS = /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/;

export function parseAddressList(value: string, what: string): string[] {
  const out = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (out.length === 0) fail(`${what}: no address given`, 2);
  for (const a of out) {
    const port = Number(a.slice(a.lastIndexOf(':') + 1));
    if (!ADDRESS.test(a) || !(port > 0 && port < 65536)) fail(`${what}: "${a}" is not host:port`, 2);
  }
  return out;
}

export function bootstrapAddresses(option: string | undefined): string[] {
  if (option !== undefined) return parseAddressList(option, '--bootstrap');
  const env = process.env['KEEL_BOOTSTRAP'];
  if (env !== undefined && env.trim() !== '') return parseAddressList(env, 'KEEL_BOOTSTRAP');
  return defaultAddresses();
}
