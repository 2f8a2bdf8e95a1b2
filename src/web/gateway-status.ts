// The gateway's read-only status page on its LAN listener (GET / or /status): server-rendered HTML,
// no script, every value escaped; it reloads itself every 10 s. The data comes from
// src/api/gateway-status.ts; the CLI wires the two into the gateway's `lanRoutes` hook.
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { GatewayStatus } from '../api/gateway-status.ts';

// nothing but this document and its inline style: no script can run, whatever a device calls itself
const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const REFRESH_S = 10;

const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/** html`…${value}…`: every interpolated value is escaped unless it is already Html */
class Html {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}
function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const part = (v: unknown): string => (v instanceof Html ? v.text : Array.isArray(v) ? v.map(part).join('') : escapeHtml(v));
  return new Html(strings.reduce((out, s, i) => out + s + (i < values.length ? part(values[i]) : ''), ''));
}

function counts(caption: string, key: string, entries: Readonly<Record<string, number>>): Html {
  const rows = Object.entries(entries);
  return html`<table><caption>${caption}</caption><thead><tr><th scope="col">${key}</th><th scope="col">Devices</th></tr></thead>
<tbody>${rows.length === 0 ? html`<tr><td colspan="2">none</td></tr>` : rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>`;
}

export function renderGatewayStatus(s: GatewayStatus): string {
  const fanouts =
    s.fanouts.length === 0
      ? html`<p>No fanout running.</p>`
      : html`<div class="box"><table><caption>Fanouts running</caption>
<thead><tr><th scope="col">Job</th><th scope="col">State</th><th scope="col">Devices done</th><th scope="col">Since</th></tr></thead>
<tbody>${s.fanouts.map((f) => html`<tr><th scope="row">${f.name}</th><td>${f.state}</td><td>${f.done} of ${f.total}</td><td><time datetime="${f.since}">${f.since}</time></td></tr>`)}</tbody></table></div>`;
  const images =
    s.images.length === 0
      ? html`<p>No image stored.</p>`
      : html`<div class="box"><table><caption>Images</caption>
<thead><tr><th scope="col">Image</th><th scope="col">Version</th><th scope="col">State</th><th scope="col">Bytes</th><th scope="col">Error</th></tr></thead>
<tbody>${s.images.map((i) => html`<tr><th scope="row">${i.name}</th><td>${i.version}</td><td>${i.state}</td><td>${i.bytes} of ${i.size ?? '?'}</td><td>${i.error ?? ''}</td></tr>`)}</tbody></table></div>`;
  const check = s.lastCheckIn
    ? html`<time datetime="${s.lastCheckIn.at}">${s.lastCheckIn.at}</time> (${s.lastCheckIn.outcome})`
    : html`never`;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="${REFRESH_S}"><title>Gateway ${s.deviceId} · gwmo</title>
<style>body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse;margin:.5rem 1.5rem 1rem 0;display:inline-table;vertical-align:top}caption{text-align:left;font-weight:600}
th,td{border-bottom:1px solid #ccc;padding:.2rem .6rem;text-align:left}dt{font-weight:600}dd{margin:0 0 .4rem 0}
main,header{overflow-wrap:anywhere}.box{overflow-x:auto;max-width:100%}</style></head>
<body><header><p>gwmo gateway status, read-only; this page reloads every ${REFRESH_S} s (the server's dashboard manages the gateway)</p></header>
<main><h1>Gateway ${s.deviceId}</h1>
<dl id="identity"><dt>DevId</dt><dd>${s.deviceId}</dd>
<dt>DM server</dt><dd>${s.server ? html`${s.server.id} at ${s.server.url}` : 'no DM account'}</dd>
<dt>Last check-in</dt><dd id="last-check-in">${check}</dd>
${
  s.lwm2mAlerts
    ? html`<dt>LwM2M notifications north</dt><dd id="lwm2m-alerts">${s.lwm2mAlerts.queued} queued, ${s.lwm2mAlerts.waiting} waiting, ${s.lwm2mAlerts.dropped} dropped (batch full), ${s.lwm2mAlerts.rateDropped} dropped (device over its rate)</dd>`
    : ''
}<dt>Devices connect to</dt><dd>${s.lanUrl}${s.lwm2m ? html` and ${s.lwm2m} (LwM2M)` : ''}</dd>
<dt>Shown at</dt><dd><time datetime="${s.at}">${s.at}</time></dd></dl>
<section id="devices" aria-labelledby="devices-h"><h2 id="devices-h">Devices: ${s.devices.total}</h2>
${counts('By status', 'Status', s.devices.byStatus)}${counts('By mode', 'Mode', s.devices.byMode)}${counts('By protocol', 'Protocol', s.devices.byProtocol)}</section>
<section id="fanouts" aria-labelledby="fanouts-h"><h2 id="fanouts-h">Fanouts running: ${s.fanouts.length}</h2>${fanouts}</section>
<section id="images" aria-labelledby="images-h"><h2 id="images-h">Stored images: ${s.images.length}</h2>${images}</section>
</main></body></html>
`.text;
}

/** Answers GET/HEAD `/` and `/status` with the page; anything else is left to the next handler. */
export async function gatewayStatusPage(req: IncomingMessage, res: ServerResponse, read: () => GatewayStatus): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path !== '/' && path !== '/status') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('the status page is read-only: GET it\n');
    return true;
  }
  const body = Buffer.from(renderGatewayStatus(read()));
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': body.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': CSP,
    'referrer-policy': 'no-referrer',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

/** The gateway's `lanRoutes` hook: `lanRoutes: statusRoute(gatewayStatus)` (the CLI picks both parts). */
export function statusRoute<G>(
  read: (gateway: G) => GatewayStatus,
): (req: IncomingMessage, res: ServerResponse, gateway: G) => Promise<boolean> {
  return (req, res, gateway) => gatewayStatusPage(req, res, () => read(gateway));
}
