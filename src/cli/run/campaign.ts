// What `gwmo campaign …` runs (options in ../commands/campaign.ts): REST calls, output on stdout.
import { apiCall, printJson } from '../api-client.ts';
import { CliError } from '../cli-error.ts';

export interface CampaignFlags {
  api: string;
  token?: string;
}

export interface CampaignCreateFlags extends CampaignFlags {
  name?: string;
  device?: string[];
  group?: string[];
  target?: string[];
  object?: string;
  canary?: string;
  waves?: string;
  failureThreshold: string;
  concurrency?: string;
  notBefore?: string;
  notAfter?: string;
}

const token = (o: CampaignFlags): string | undefined => o.token ?? process.env['GWMO_TOKEN'];

function num(v: string, flag: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag} must be a number, not "${v}"`);
  return n;
}

/** `GW:B=IMEI:1,IMEI:2,@meters`: a gateway (up to the first "="), its devices and its groups (@); `GW:B=*`: all its devices */
function target(v: string): { gateway: string; devices?: string[]; groups?: string[]; all?: true } {
  const eq = v.indexOf('=');
  const items = v
    .slice(eq + 1)
    .split(',')
    .filter(Boolean);
  if (eq < 1 || items.length === 0) throw new CliError(`--target must be GATEWAY=DEVICE,…,@GROUP or GATEWAY=*, not "${v}"`);
  if (items.length === 1 && items[0] === '*') return { gateway: v.slice(0, eq), all: true };
  const devices = items.filter((x) => !x.startsWith('@'));
  const groups = items.filter((x) => x.startsWith('@')).map((x) => x.slice(1));
  return { gateway: v.slice(0, eq), ...(devices.length ? { devices } : {}), ...(groups.length ? { groups } : {}) };
}

export async function createCampaign(gateway: string, image: string, o: CampaignCreateFlags): Promise<void> {
  const canary = o.canary === undefined ? undefined : num(o.canary, '--canary');
  const waves =
    o.waves === undefined ? undefined : o.waves.includes(',') ? o.waves.split(',').map((w) => num(w, '--waves')) : num(o.waves, '--waves');
  if (gateway === '*' && o.group) throw new CliError('--group is per gateway: across gateways give --target GW=@group');
  if (gateway !== '*' && o.target) throw new CliError('--target is for a campaign across gateways: give "*" as the gateway');
  const body = {
    ...(gateway === '*' ? {} : { gateway }),
    ...(o.target ? { targets: o.target.map(target) } : {}),
    image,
    ...(o.name ? { name: o.name } : {}),
    ...(o.device ? { devices: o.device } : {}),
    ...(o.group ? { groups: o.group } : {}),
    ...(o.object ? { object: o.object } : {}),
    ...(canary !== undefined ? { canary: canary < 1 ? { share: canary } : { count: canary } } : {}),
    ...(waves !== undefined ? { waves } : {}),
    failureThreshold: num(o.failureThreshold, '--failure-threshold'),
    ...(o.concurrency ? { perGatewayConcurrency: num(o.concurrency, '--concurrency') } : {}),
    ...(o.notBefore || o.notAfter ? { window: { notBefore: o.notBefore, notAfter: o.notAfter } } : {}),
  };
  printJson(await apiCall(o.api, token(o), 'POST', '/campaigns', body));
}

export async function listCampaigns(o: CampaignFlags): Promise<void> {
  printJson(await apiCall(o.api, token(o), 'GET', '/campaigns'));
}

export async function campaignAction(action: 'show' | 'pause' | 'resume' | 'cancel', id: string, o: CampaignFlags): Promise<void> {
  const path = `/campaigns/${encodeURIComponent(id)}`;
  printJson(await apiCall(o.api, token(o), action === 'show' ? 'GET' : 'POST', action === 'show' ? path : `${path}/${action}`));
}

export async function campaignReport(id: string, o: CampaignFlags & { format: string }): Promise<void> {
  if (o.format !== 'json' && o.format !== 'csv') throw new CliError('--format must be json or csv');
  const path = `/campaigns/${encodeURIComponent(id)}/report?format=${o.format}`;
  if (o.format === 'json') return printJson(await apiCall(o.api, token(o), 'GET', path));
  const t = token(o);
  const res = await fetch(`${o.api.replace(/\/$/, '')}${path}`, { headers: t ? { authorization: `Bearer ${t}` } : {} }).catch(
    (err: unknown) => {
      throw new CliError(`cannot reach ${o.api}: ${String(err)}; is gwmo server running?`, 1);
    },
  );
  if (!res.ok)
    throw new CliError(`GET ${path}: HTTP ${res.status}: ${((await res.json().catch(() => ({}))) as { error?: string }).error ?? ''}`, 1);
  process.stdout.write(await res.text());
}
