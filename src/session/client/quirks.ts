// Behaviours of deployed DM clients that the simulated device can take on, so tests (and
// `gwmo fleet --quirks`) show the server and the gateway cope with them (docs/interop.md).
// Never set outside tests and simulations: each one is a fault.
export interface ClientQuirks {
  // --- server credential, large objects, message size (the server session engine copes) ---
  /** an empty SRVCRED AAuthData is the empty nonce (not the DM 1.2.1 resync nonce) */
  readonly emptyServerNonce?: boolean;
  /** a new nonce issued to the server is used in the session but never stored */
  readonly serverNonceNotPersisted?: boolean;
  /** a chunk with MoreData is answered 200 and written as if it were the whole value */
  readonly chunkAnsweredOk?: boolean;
  /** a fixed reply buffer: a message asking for more Results than this aborts the session (Alert 1223) */
  readonly replyBuffer?: number;
}

/** `gwmo fleet --quirks a,b=3`: names as in ClientQuirks; a quirk without a value is on */
export function parseQuirks(text: string): ClientQuirks {
  const out: Record<string, boolean | number> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [name, value] = part.split('=') as [string, string | undefined];
    if (!(SESSION_QUIRK_NAMES as readonly string[]).includes(name))
      throw new Error(`unknown quirk "${name}"; the quirks are ${SESSION_QUIRK_NAMES.join(', ')}`);
    if (name === 'replyBuffer') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error('replyBuffer=<n>: the most Results the device can answer in one message');
      out[name] = n;
    } else out[name] = true;
  }
  return out as ClientQuirks;
}

export const SESSION_QUIRK_NAMES = ['emptyServerNonce', 'serverNonceNotPersisted', 'chunkAnsweredOk', 'replyBuffer'] as const;
