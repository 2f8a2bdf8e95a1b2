// SCOMO 1.0 (urn:oma:mo:oma-scomo:1.0) on the simulated device, at ./SCOMO. The server Adds
// Download/<PkgID> with PkgID, Name and PkgURL; the device then gives it Status and Operations
// (Download, DownloadInstall, DownloadInstallInactive). Each Exec is answered 202 and ends with
// an OperationComplete Generic Alert (Data: the SCOMO result code, Correlator: the Exec's). An
// installed package becomes Inventory/Deployed/<PkgID> with Activate, Deactivate and Remove;
// a downloaded one Inventory/Delivered/<PkgID> with Install, InstallInactive and Remove. gwmo
// extensions under Download/<PkgID>/Ext: PkgHash ("sha256:<hex>", checked when set), Version.
// Nodes, states and codes: docs/updates.md "SCOMO".
import { escapeXml } from '../protocol/index.ts';
import { SCOMO_COMPLETE, SCOMO_MO, SCOMO_ROOT, ScomoDownloadStatus, type Tree } from '../tree/index.ts';
import type { Installed, UpdateContext } from './fumo.ts';
import { download, DownloadError, expectedHash } from './package-download.ts';

const DL = `${SCOMO_ROOT}/Download`;
const DELIVERED = `${SCOMO_ROOT}/Inventory/Delivered`;
const DEPLOYED = `${SCOMO_ROOT}/Inventory/Deployed`;
const DOWNLOAD_FAILURE: Record<DownloadError['kind'], number> = { url: 1402, network: 1402, auth: 1403, server: 1500, space: 1404 };
/** Deployed/<x>/State (SCOMO §5.3) */
const Active = { Inactive: '10', Active: '20' } as const;

type DownloadOp = 'Download' | 'DownloadInstall' | 'DownloadInstallInactive';

export class Scomo {
  /** what each PkgID installed */
  readonly installed = new Map<string, Installed>();
  private readonly delivered = new Map<string, Installed>();
  private readonly tree: Tree;
  private readonly ctx: UpdateContext;
  private readonly busy = new Set<string>();

  constructor(tree: Tree, ctx: UpdateContext) {
    this.tree = tree;
    this.ctx = ctx;
    if (!tree.exists(SCOMO_ROOT)) {
      tree.define(SCOMO_ROOT, { format: 'node', type: SCOMO_MO });
      tree.define(DL, { format: 'node' });
      tree.define(DELIVERED, { format: 'node' });
      tree.define(DEPLOYED, { format: 'node' });
    }
    tree.onAdd(DL, (path) => this.prepare(path));
    // after a restart: the operations of what the tree already holds answer again
    for (const x of tree.list(DL)) this.prepare(`${DL}/${x}`);
    for (const x of tree.list(DELIVERED)) this.deliveredOps(x);
    for (const x of tree.list(DEPLOYED)) this.deployedOps(x);
  }

  /** A Download/<x> the server added: its Status, Ext and Operations, as the device owns them. */
  private prepare(base: string): void {
    const x = base.slice(DL.length + 1);
    if (!this.tree.exists(`${base}/Status`)) {
      this.tree.define(`${base}/Status`, { format: 'int', value: String(ScomoDownloadStatus.Idle), access: ['Get'] });
      this.tree.define(`${base}/Ext/PkgHash`, { value: '' });
      this.tree.define(`${base}/Ext/Version`, { value: '' });
    }
    for (const op of ['Download', 'DownloadInstall', 'DownloadInstallInactive'] as const) {
      const at = `${base}/Operations/${op}`;
      if (!this.tree.exists(at)) this.tree.define(at, { format: 'node', access: ['Get', 'Exec'] });
      this.tree.onExec(at, (req) => this.start(x, at, req, () => this.fetch(x, op)));
    }
  }

  /**
   * Answers 202 now and reports when `work` ends: OperationComplete with Data
   * `<ResultCode>…</ResultCode><Identifier>…</Identifier>` (as deployed clients send it) and Target
   * the inventory node the operation left, if any.
   */
  private start(x: string, source: string, req: { correlator?: string; serverId?: string }, work: () => Promise<number>): number {
    const { correlator, serverId } = req;
    if (this.busy.has(x)) return 405;
    this.busy.add(x);
    void work()
      .catch(() => 1412)
      .then((code) => {
        this.busy.delete(x);
        const id = String(this.tree.read(`${DL}/${x}/PkgID`) ?? x) || x;
        const target = [`${DEPLOYED}/${x}`, `${DELIVERED}/${x}`].find((p) => this.tree.exists(p));
        this.ctx.report(
          {
            code: 1226,
            ...(correlator ? { correlator } : {}),
            items: [
              {
                source,
                ...(target ? { target } : {}),
                type: SCOMO_COMPLETE,
                format: 'xml',
                mark: code === 1200 ? 'informational' : 'critical',
                data: `<ResultCode>${code}</ResultCode><Identifier>${escapeXml(id)}</Identifier>`,
              },
            ],
          },
          serverId,
        );
      });
    return 202;
  }

  private status(x: string, s: number): void {
    this.tree.define(`${DL}/${x}/Status`, { format: 'int', value: String(s), access: ['Get'] });
  }

  private async fetch(x: string, op: DownloadOp): Promise<number> {
    const base = `${DL}/${x}`;
    if (this.ctx.faults.refuse) return 1401;
    const url = String(this.tree.read(`${base}/PkgURL`) ?? '');
    this.status(x, ScomoDownloadStatus.DownloadProgressing);
    let got: Installed;
    try {
      got = await download(url, { faults: this.ctx.faults });
    } catch (err) {
      this.status(x, ScomoDownloadStatus.DownloadFailed);
      return err instanceof DownloadError ? DOWNLOAD_FAILURE[err.kind] : 1412;
    }
    const want = expectedHash(this.tree.read(`${base}/Ext/PkgHash`));
    if (want !== '' && got.sha256 !== want) {
      this.status(x, ScomoDownloadStatus.DownloadFailed);
      return 1407;
    }
    this.status(x, ScomoDownloadStatus.DownloadComplete);
    const id = String(this.tree.read(`${base}/PkgID`) ?? x) || x;
    const name = String(this.tree.read(`${base}/Name`) ?? '');
    if (op === 'Download') {
      this.delivered.set(id, got);
      this.tree.define(`${DELIVERED}/${x}/PkgID`, { value: id });
      this.tree.define(`${DELIVERED}/${x}/Name`, { value: name });
      this.deliveredOps(x);
      return 1200;
    }
    this.status(x, ScomoDownloadStatus.InstallProgressing);
    this.deploy(x, id, name, String(this.tree.read(`${base}/Ext/Version`) ?? ''), got, op === 'DownloadInstall');
    this.status(x, ScomoDownloadStatus.Idle);
    return 1200;
  }

  private deploy(x: string, id: string, name: string, version: string, pkg: Installed, active: boolean): void {
    this.installed.set(id, pkg);
    const at = `${DEPLOYED}/${x}`;
    this.tree.define(`${at}/ID`, { value: id });
    this.tree.define(`${at}/Name`, { value: name });
    this.tree.define(`${at}/Version`, { value: version });
    this.tree.define(`${at}/State`, { format: 'int', value: active ? Active.Active : Active.Inactive, access: ['Get'] });
    this.deployedOps(x);
  }

  private deliveredOps(x: string): void {
    const at = `${DELIVERED}/${x}`;
    for (const op of ['Install', 'InstallInactive', 'Remove'] as const) {
      this.tree.define(`${at}/Operations/${op}`, { format: 'node', access: ['Get', 'Exec'] });
      this.tree.onExec(`${at}/Operations/${op}`, (req) =>
        this.start(x, `${at}/Operations/${op}`, req, async () => {
          const id = String(this.tree.read(`${at}/PkgID`) ?? x);
          const pkg = this.delivered.get(id);
          if (op !== 'Remove' && this.ctx.faults.refuse) return 1401;
          if (op !== 'Remove') {
            if (!pkg) return 1405; // the bytes did not survive a restart
            this.deploy(x, id, String(this.tree.read(`${at}/Name`) ?? ''), '', pkg, op === 'Install');
          }
          this.delivered.delete(id);
          await this.tree.delete({ kind: 'local' }, at);
          return 1200;
        }),
      );
    }
  }

  private deployedOps(x: string): void {
    const at = `${DEPLOYED}/${x}`;
    for (const op of ['Activate', 'Deactivate', 'Remove'] as const) {
      this.tree.define(`${at}/Operations/${op}`, { format: 'node', access: ['Get', 'Exec'] });
      this.tree.onExec(`${at}/Operations/${op}`, (req) =>
        this.start(x, `${at}/Operations/${op}`, req, async () => {
          if (!this.tree.exists(`${at}/State`)) return op === 'Remove' ? 1408 : op === 'Activate' ? 1409 : 1410;
          if (op === 'Remove') {
            this.installed.delete(String(this.tree.read(`${at}/ID`) ?? x));
            await this.tree.delete({ kind: 'local' }, at);
          } else
            this.tree.define(`${at}/State`, { format: 'int', value: op === 'Activate' ? Active.Active : Active.Inactive, access: ['Get'] });
          return 1200;
        }),
      );
    }
  }
}
