// Object 5 (Firmware Update) of the simulated LwM2M device, as LwM2M 1.1 §E.6 describes it: a
// written Package URI is fetched over HTTP(S) (Idle → Downloading → Downloaded), a written
// Package is taken as it is, Update installs it (Updating → Idle, Update Result 1), and the
// firmware version in /3/0/3 becomes the package's sha256. A package under the gateway's
// content-addressed store (/img/<sha256>) is checked against that hash.
import { createHash } from 'node:crypto';

import type { Value } from '../adapters/lwm2m/model.ts';
import { download, DownloadError, type UpdateFaults } from '../client/package-download.ts';

export type FirmwareDelivery = 'pull' | 'push' | 'both';

/** An Update Result a device ends with on purpose, for tests: 2 no flash, 5 corrupt download, 8 update fails */
export type FirmwareFailure = 2 | 5 | 8;

/**
 * Connections one pull makes (Range resume between them) before the device reports Update Result 4.
 * 4, as the simulated DM device: the bench's 5,000 devices share one process, and 500 of them
 * pulling 8 MB at once on a loaded 2-core machine leave some connections without a byte for 30 s
 * (docs/updates.md "Object 5"); gwmo's own retry of Result 4 is tested with the `lostDownloads` fault.
 */
export const PULL_ATTEMPTS = 4;

const State = { Idle: 0, Downloading: 1, Downloaded: 2, Updating: 3 } as const;
const Result = { Initial: 0, Success: 1, NoFlash: 2, ConnectionLost: 4, Integrity: 5, InvalidUri: 7, Failed: 8, Protocol: 9 };

/** the resource values object 5 starts with */
export function firmwareResources(delivery: FirmwareDelivery): [number, Value | Map<number, Value>][] {
  return [
    [1, ''],
    [3, State.Idle],
    [5, Result.Initial],
    // HTTP and HTTPS pull (a push-only device lists none)
    [
      8,
      new Map<number, Value>(
        delivery === 'push'
          ? []
          : [
              [0, 2],
              [1, 3],
            ],
      ),
    ],
    [9, delivery === 'pull' ? 0 : delivery === 'push' ? 1 : 2],
  ];
}

export class SimFirmware {
  /** the last package installed */
  installed: { sha256: string; bytes: number } | undefined;
  /** connections the last pulled package took (2 or more: resumed after a cut) */
  lastRequests = 0;
  /** faults its pulls run into (tests), changed in place; refuse: the update ends in Update Result 8 */
  readonly faults: UpdateFaults = {};
  private pending: { sha256: string; bytes: number } | undefined;
  private readonly set: (objectId: number, resourceId: number, value: Value) => void;
  private readonly delivery: FirmwareDelivery;
  private readonly failWith: FirmwareFailure | undefined;

  /** `set` changes a resource of instance 0 of an object and notifies its observers */
  constructor(set: (objectId: number, resourceId: number, value: Value) => void, delivery: FirmwareDelivery, failWith?: FirmwareFailure) {
    this.set = set;
    this.delivery = delivery;
    this.failWith = failWith;
  }

  private state(state: number, result?: number): void {
    this.set(5, 3, state);
    if (result !== undefined) this.set(5, 5, result);
  }

  /** Package URI written: an empty one cancels, another starts the download. */
  uri(uri: string): void {
    this.pending = undefined;
    if (uri === '') return this.state(State.Idle, Result.Initial);
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      return this.state(State.Idle, Result.InvalidUri);
    }
    if (this.delivery === 'push' || (url.protocol !== 'http:' && url.protocol !== 'https:')) return this.state(State.Idle, Result.Protocol);
    this.state(State.Downloading, Result.Initial);
    void download(uri, { attempts: PULL_ATTEMPTS, faults: this.faults }).then(
      ({ sha256, bytes, requests }) => {
        this.lastRequests = requests;
        this.downloaded({ sha256, bytes }, /\/img\/([0-9a-f]{64})$/.exec(url.pathname)?.[1]);
      },
      (err: unknown) =>
        this.state(
          State.Idle,
          err instanceof DownloadError && err.kind === 'space'
            ? Result.NoFlash
            : /HTTP 4\d\d/.test(String(err))
              ? Result.InvalidUri
              : Result.ConnectionLost,
        ),
    );
  }

  /** Package written (push): empty cancels. */
  package(bytes: Uint8Array): void {
    this.pending = undefined;
    if (bytes.length === 0) return this.state(State.Idle, Result.Initial);
    this.state(State.Downloading, Result.Initial);
    this.downloaded({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
  }

  private downloaded(pkg: { sha256: string; bytes: number }, expected?: string): void {
    if (this.failWith === Result.NoFlash) return this.state(State.Idle, Result.NoFlash);
    if (this.failWith === Result.Integrity || (expected !== undefined && expected !== pkg.sha256))
      return this.state(State.Idle, Result.Integrity);
    this.pending = pkg;
    this.state(State.Downloaded);
  }

  /** Execute Update: false (4.05) unless a package is Downloaded. */
  update(): boolean {
    const pkg = this.pending;
    if (!pkg) return false;
    this.state(State.Updating);
    setImmediate(() => {
      if (this.failWith === Result.Failed || this.faults.refuse) return this.state(State.Downloaded, Result.Failed);
      this.pending = undefined;
      this.installed = pkg;
      this.set(3, 3, pkg.sha256);
      this.state(State.Idle, Result.Success);
    });
    return true;
  }
}
