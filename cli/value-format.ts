// How records are printed: values (and keys) as UTF-8 strings when they are valid UTF-8, otherwise as
// base64 with "encoding": "base64" (DESIGN.md §8).
const strict = new TextDecoder('utf-8', { fatal: true });

export interface Printable {
  readonly text: string | null;
  readonly base64: boolean;
}

export function printable(bytes: Uint8Array | null | undefined): Printable {
  if (bytes === null || bytes === undefined) return { text: null, base64: false };
  try {
    return { text: strict.decode(bytes), base64: false };
  } catch {
    return { text: Buffer.from(bytes).toString('base64'), base64: true };
  }
}

/** The JSON line of one record, as `keel consume --json` prints it. */
export function recordJson(topic: string, partition: number, r: { offset: number; key: Uint8Array | null; value: Uint8Array | null; timestamp: number; headers: readonly { key: string; value: Uint8Array }[] }): Record<string, unknown> {
  const key = printable(r.key);
  const value = printable(r.value);
  const headers = r.headers.map((h) => {
    const v = printable(h.value);
    return v.base64 ? { key: h.key, value: v.text, encoding: 'base64' } : { key: h.key, value: v.text };
  });
  const out: Record<string, unknown> = { topic, partition, offset: r.offset, key: key.text, value: value.text, timestamp: r.timestamp, headers };
  if (value.base64) out['encoding'] = 'base64';
  if (key.base64) out['keyEncoding'] = 'base64';
  return out;
}
