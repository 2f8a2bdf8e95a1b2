// The dashboard's files: `/` is the page, `/ui/<file>` its modules and style, `/vendor/<file>` the
// few library files it uses as they ship (uPlot's ES module and CSS). Plain HTML, CSS and browser
// ES modules read once; the page talks to the REST API only.
import { readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';

const UI = join(import.meta.dirname, 'ui');
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};
// scripts and styles from our own origin only: no inline script can run even if a value slips through
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// the library files served, by name under /vendor/, from the installed packages (no build step)
const VENDOR: Readonly<Record<string, [pkg: string, file: string]>> = {
  'uplot/uPlot.esm.js': ['uplot', 'dist/uPlot.esm.js'],
  'uplot/uPlot.min.css': ['uplot', 'dist/uPlot.min.css'],
};

function vendorFiles(): Map<string, Buffer> {
  const require = createRequire(import.meta.url);
  return new Map(
    Object.entries(VENDOR).map(([name, [pkg, file]]) => [name, readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file))]),
  );
}

function load(dir: string, prefix = ''): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) for (const [k, v] of load(join(dir, entry.name), `${prefix}${entry.name}/`)) files.set(k, v);
    else if (TYPES[extname(entry.name)]) files.set(`${prefix}${entry.name}`, readFileSync(join(dir, entry.name)));
  }
  return files;
}

/** Answers `/`, `/index.html`, `/ui/…` and `/vendor/…` (GET, HEAD); anything else is left to the next handler. */
export function dashboardRoutes(): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const ui = load(UI);
  const vendor = vendorFiles();
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const [files, name] =
      path === '/' || path === '/index.html'
        ? [ui, 'index.html']
        : path.startsWith('/ui/')
          ? [ui, path.slice(4)]
          : path.startsWith('/vendor/')
            ? [vendor, path.slice(8)]
            : [ui, undefined];
    if (name === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end("the dashboard's files are read with GET\n");
      return true;
    }
    const body = files.get(name);
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no dashboard file ${path}\n`);
      return true;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(name)]!,
      'content-length': body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'content-security-policy': CSP,
      'referrer-policy': 'same-origin',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
