/** Stops cleanly on SIGINT/SIGTERM; a second signal, or a stop that takes too long, exits at once. */
export function onShutdown(stop: () => Promise<void>, graceMs = 5000): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`gwmo: ${signal}, stopping\n`);
    setTimeout(() => process.exit(1), graceMs).unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`gwmo: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => handler('SIGINT'));
  process.on('SIGTERM', () => handler('SIGTERM'));
}

export { jsonLog } from './log.ts';
