// Preloaded with `--import`: appends the URL of every module the process loads to $GWMO_LOADED_FILE,
// so a test can tell what a command pulled in.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env['GWMO_LOADED_FILE'];
if (out) {
  registerHooks({
    load(url, context, next) {
      appendFileSync(out, `${url}\n`);
      return next(url, context);
    },
  });
}
