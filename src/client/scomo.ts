// A SCOMO-like download object on the simulated device: the server (or the gateway) writes
// ./SCOMO/Download/PkgURL (and PkgHash, a gwmo extension: "sha256:<hex>"), Execs
// Operations/DownloadInstall (202); the device downloads (resuming after a cut), checks the hash,
// "installs", and reports with urn:oma:at:scomo:1.0:OperationComplete carrying a SCOMO ResultCode.
import { createHash } from 'node:crypto';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';

import type { Tree } from '../tree/index.ts';
import type { OutgoingAlert } from '../session/client/types.ts';

export const SCOMO_COMPLETE = 'urn:oma:at:scomo:1.0:OperationComplete';
export const ScomoResult = { Success: 1200, DownloadFailed: 1401, Corrupted: 1404 } as const;

const BASE = './SCOMO/Download';

export function installScomo(tree: Tree, report: (alert: OutgoingAlert) => void): void {
  if (!tree.exists(BASE)) {
    tree.define(BASE, { format: 'node', type: 'urn:oma:mo:oma-scomo:1.0' });
    tree.define(`${BASE}/PkgURL`, { value: '' });
    tree.define(`${BASE}/PkgHash`, { value: '' });
    tree.define(`${BASE}/Status`, { format: 'int', value: '10' });
    tree.define(`${BASE}/Operations/DownloadInstall`, { format: 'node' });
  }
  tree.onExec(`${BASE}/Operations/DownloadInstall`, ({ correlator }) => {
    const url = tree.read(`${BASE}/PkgURL`);
    if (typeof url !== 'string' || url === '') return 412;
    const expected = String(tree.read(`${BASE}/PkgHash`) ?? '')
      .toLowerCase()
      .replace(/^sha256:/, '');
    tree.define(`${BASE}/Status`, { format: 'int', value: '30' }); // downloading
    void download(url)
      .then(
        ({ sha256, bytes }) => {
          const ok = expected === '' || sha256 === expected;
          tree.define(`${BASE}/Status`, { format: 'int', value: ok ? '40' : '20' });
          if (ok) tree.define('./SCOMO/Inventory/Installed', { value: `${sha256} (${bytes} bytes)` });
          return ok ? ScomoResult.Success : ScomoResult.Corrupted;
        },
        () => {
          tree.define(`${BASE}/Status`, { format: 'int', value: '20' });
          return ScomoResult.DownloadFailed;
        },
      )
      .then((code) =>
        report({
          code: 1226,
          ...(correlator ? { correlator } : {}),
          items: [
            { source: `${BASE}/Operations/DownloadInstall`, type: SCOMO_COMPLETE, format: 'xml', data: `<ResultCode>${code}</ResultCode>` },
          ],
        }),
      );
    return 202;
  });
}

/** Downloads and hashes a package without keeping it (a simulated install); resumes a cut transfer. */
export async function download(url: string, attempts = 4): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for (let attempt = 0; attempt < attempts; attempt++) {
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const u = new URL(url);
        const req = (u.protocol === 'https:' ? httpsGet : httpGet)(
          u,
          { headers: bytes > 0 ? { range: `bytes=${bytes}-` } : {}, timeout: 30_000 },
          resolve,
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
      });
    } catch {
      continue;
    }
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      res.resume();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    if (res.statusCode === 200 && bytes > 0) throw new Error('the server ignored Range while resuming');
    const complete = await new Promise<boolean>((resolve) => {
      res.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      res.on('aborted', () => resolve(false));
      res.on('error', () => resolve(false));
      res.on('end', () => resolve(res.complete));
    });
    if (complete) return { sha256: hash.digest('hex'), bytes };
  }
  throw new Error(`download of ${url} failed ${attempts} times`);
}
