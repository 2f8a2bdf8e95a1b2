// Reading a text/event-stream response as it comes, and waiting on an emitter's event with a deadline.
import { type EventEmitter, on } from 'node:events';

export interface Sse {
  id?: string;
  event: string;
  data: string;
}

/** the events of a text/event-stream response, until the server ends it */
export async function* events(res: Response): AsyncGenerator<Sse | 'heartbeat'> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(':')) yield 'heartbeat';
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((l) => !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
      );
      if (fields['data'] !== undefined)
        yield { ...(fields['id'] ? { id: fields['id'] } : {}), event: fields['event'] ?? 'message', data: fields['data'] };
    }
  }
}

/** the first `name` event (emitted from now on) whose first argument passes `match` */
export async function nextEvent<T>(emitter: EventEmitter, name: string, match: (value: T) => boolean, timeoutMs: number): Promise<T> {
  try {
    for await (const [value] of on(emitter, name, { signal: AbortSignal.timeout(timeoutMs) })) if (match(value as T)) return value as T;
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw new Error(`no matching "${name}" event within ${timeoutMs} ms`);
    throw err;
  }
  throw new Error(`the "${name}" events ended`);
}
