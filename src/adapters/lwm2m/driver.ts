// Adaptation mode for LwM2M: DM commands from a fanout become LwM2M operations on the device.
//   Get → Read (Discover for "?list=Struct"), Replace → Write (replace), Add → Create on an
//   object/instance or a partial-update Write on a resource, Delete → Delete, Exec → Execute.
import type { DriverCommand, DriverContext, DriverResult, EndDeviceDriver } from '../driver.ts';
import { Lwm2mFormatError, type Path } from './model.ts';
import { runCommand } from './operations.ts';
import { lwm2mPath } from './paths.ts';
import type { Lwm2mServer } from './server.ts';

export class Lwm2mDriver implements EndDeviceDriver {
  readonly protocol = 'LwM2M';
  private readonly server: Lwm2mServer;

  constructor(server: Lwm2mServer) {
    this.server = server;
  }

  async execute(deviceId: string, commands: readonly DriverCommand[], ctx: DriverContext): Promise<DriverResult[]> {
    const out: DriverResult[] = [];
    for (const c of commands) {
      if (ctx.cancelled()) break;
      out.push(await this.one(deviceId, c, ctx));
    }
    return out;
  }

  private async one(endpoint: string, c: DriverCommand, ctx: DriverContext): Promise<DriverResult> {
    const discover = c.target.endsWith('?list=Struct');
    const path = lwm2mPath(c.target.replace(/\?list=Struct$/, ''));
    if (!path) return { status: 404 };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(endpoint, c, path, discover);
      } catch (err) {
        if (err instanceof Lwm2mFormatError) return { status: 400, data: err.message, format: 'chr' };
        if (attempt >= ctx.retries || ctx.cancelled()) return { status: 408 };
      }
    }
  }

  private send(ep: string, c: DriverCommand, path: Path, discover: boolean): Promise<DriverResult> {
    return runCommand(this.server, ep, c, path, discover);
  }
}
