// FUMO 1.0 (urn:oma:mo:oma-fumo:1.0) on the simulated device, at ./FUMO. Exec of Download, Update
// or DownloadAndUpdate is answered 202; the work runs after the session and ends with a Generic
// Alert 1226 whose Source is the Exec'd node, Type the operation's, Data the FUMO result code and
// Correlator the Exec's. A gwmo extension, Ext/PkgHash ("sha256:<hex>"), is checked when set.
// Nodes, states and codes: docs/updates.md "FUMO".
import { createHash } from 'node:crypto';

import type { OutgoingAlert } from '../session/client/types.ts';
import { FUMO_MO, FUMO_OPERATIONS, FUMO_ROOT, FumoState, type FumoOperation, type Tree } from '../tree/index.ts';
import { download, DownloadError, expectedHash, type UpdateFaults } from './package-download.ts';

/** What the FUMO and SCOMO objects of one device share: how they report, what faults a test set. */
export interface UpdateContext {
  /** `serverId`: the server whose Exec it reports (undefined: the device's own) */
  report(alert: OutgoingAlert, serverId?: string): void;
  readonly faults: UpdateFaults;
}

/** the package last installed, with how many connections its download took */
export interface Installed {
  readonly sha256: string;
  readonly bytes: number;
  readonly requests: number;
}

const R = FUMO_ROOT;
const DOWNLOAD_FAILURE: Record<DownloadError['kind'], number> = { url: 411, network: 503, auth: 406, server: 500, space: 501 };

export class Fumo {
  installed: Installed | undefined;
  private pending: Installed | undefined;
  private readonly tree: Tree;
  private readonly ctx: UpdateContext;

  constructor(tree: Tree, ctx: UpdateContext) {
    this.tree = tree;
    this.ctx = ctx;
    if (!tree.exists(R)) {
      tree.define(R, { format: 'node', type: FUMO_MO });
      tree.define(`${R}/PkgName`, { value: '' });
      tree.define(`${R}/PkgVersion`, { value: '' });
      tree.define(`${R}/Download/PkgURL`, { value: '' });
      tree.define(`${R}/Update/PkgData`, { format: 'bin', value: new Uint8Array(0) });
      tree.define(`${R}/DownloadAndUpdate/PkgURL`, { value: '' });
      tree.define(`${R}/Ext/PkgHash`, { value: '' });
    }
    // a download or update cut by a restart did not finish: it is reported failed, not left "in progress"
    const state = this.state;
    this.setState(
      state === FumoState.DownloadProgressing
        ? FumoState.DownloadFailed
        : state === FumoState.UpdateProgressing
          ? FumoState.UpdateFailedNoData
          : (state ?? FumoState.Idle),
    );
    for (const op of Object.keys(FUMO_OPERATIONS) as FumoOperation[])
      tree.onExec(`${R}/${op}`, ({ correlator, serverId }) => this.exec(op, correlator, serverId));
  }

  get state(): number | undefined {
    const s = this.tree.read(`${R}/State`);
    return s === undefined ? undefined : Number(s);
  }

  private setState(s: number): void {
    this.tree.define(`${R}/State`, { format: 'int', value: String(s), access: ['Get'] });
  }

  private exec(op: FumoOperation, correlator: string | undefined, serverId: string | undefined): number {
    const s = this.state;
    // one operation at a time (FUMO §6: Exec in a progressing state is not allowed)
    if (s === FumoState.DownloadProgressing || s === FumoState.UpdateProgressing) return 405;
    if (op === 'Update' && s !== FumoState.DownloadComplete && s !== FumoState.ReadyToUpdate && this.pkgData().length === 0) return 405;
    void this.run(op).then((code) =>
      this.ctx.report(
        {
          code: 1226,
          ...(correlator ? { correlator } : {}),
          items: [
            {
              source: `${R}/${op}`,
              type: FUMO_OPERATIONS[op],
              format: 'int',
              mark: code === 200 ? 'informational' : 'critical',
              data: String(code),
            },
          ],
        },
        serverId,
      ),
    );
    return 202;
  }

  private pkgData(): Uint8Array {
    const d = this.tree.read(`${R}/Update/PkgData`);
    return typeof d === 'string' ? Buffer.from(d) : (d ?? new Uint8Array(0));
  }

  /** The operation's FUMO result code. */
  private async run(op: FumoOperation): Promise<number> {
    const faults = this.ctx.faults;
    if (faults.refuse) {
      this.setState(op === 'Update' ? FumoState.ReadyToUpdate : FumoState.Idle);
      return 401;
    }
    if (op !== 'Update') {
      const code = await this.download(String(this.tree.read(`${R}/${op}/PkgURL`) ?? ''));
      if (code !== 200 || op === 'Download') return code;
    }
    return this.update();
  }

  private async download(url: string): Promise<number> {
    if (url === '') {
      this.setState(FumoState.DownloadFailed);
      return 411;
    }
    this.setState(FumoState.DownloadProgressing);
    try {
      const got = await download(url, { faults: this.ctx.faults });
      const want = expectedHash(this.tree.read(`${R}/Ext/PkgHash`));
      if (want !== '' && got.sha256 !== want) {
        this.setState(FumoState.DownloadFailed);
        return 402;
      }
      this.pending = got;
      this.setState(FumoState.DownloadComplete);
      return 200;
    } catch (err) {
      this.setState(FumoState.DownloadFailed);
      return err instanceof DownloadError ? DOWNLOAD_FAILURE[err.kind] : 409;
    }
  }

  private async update(): Promise<number> {
    this.setState(FumoState.UpdateProgressing);
    // a package written to Update/PkgData is installed when no download is pending
    let pkg = this.pending;
    if (!pkg) {
      const data = this.pkgData();
      if (this.ctx.faults.spaceBytes !== undefined && data.length > this.ctx.faults.spaceBytes) {
        this.setState(FumoState.UpdateFailedNoData);
        return 502;
      }
      pkg = { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length, requests: 0 };
      const want = expectedHash(this.tree.read(`${R}/Ext/PkgHash`));
      if (want !== '' && pkg.sha256 !== want) {
        this.setState(FumoState.UpdateFailedNoData);
        return 402;
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
    this.pending = undefined;
    this.installed = pkg;
    const version = String(this.tree.read(`${R}/PkgVersion`) ?? '');
    this.tree.define('./DevDetail/FwV', { value: version || pkg.sha256.slice(0, 12), permanent: true, access: ['Get'] });
    this.setState(FumoState.UpdateSuccessfulNoData);
    return 200;
  }
}
