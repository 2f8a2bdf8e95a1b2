// The server session engine's needs, met by the store.
import { AsyncLocalStorage } from 'node:async_hooks';

import { AlertCode, type AuthScheme, StatusCode } from '../protocol/index.ts';
import type { Clock } from '../session/clock.ts';
import type { DeviceAccount, GenericAlert, ServerDeps, SessionSummary } from '../session/server/index.ts';
import type { AlertRow, DeviceRow, OperationRow, ServerStore } from '../store/server.ts';
import { updateResult } from '../tree/index.ts';
import { notifyAddressOf } from './notify-address.ts';

export interface ServerEvents {
  operationDone?(op: OperationRow): void;
  devInfo?(deviceId: string, devInfo: Readonly<Record<string, string>>, from: string | undefined): void;
  alert?(deviceId: string, alert: GenericAlert): void;
  /** a device reported a Package#0 address (DevInfo/Ext/NotifyAddr) that was not used: where it said, why not */
  notifyAddressIgnored?(deviceId: string, reported: string, reason: string): void;
  /** the alert as stored (after its message's writes commit) */
  alertStored?(row: AlertRow): void;
  sessionEnded?(deviceId: string, outcome: string, summary?: SessionSummary): void;
  /** the device refused the server's credentials (401/407); `gaveUp`: its session ended over it */
  serverAuthRefused?(deviceId: string, code: number, gaveUp: boolean): void;
}

export function accountOf(d: DeviceRow): DeviceAccount {
  return {
    deviceId: d.deviceId,
    clientAuth: { scheme: d.scheme as AuthScheme, name: d.clientName, password: d.clientPassword },
    ...(d.serverName !== undefined && d.serverPassword !== undefined
      ? d.serverPasswordNext !== undefined
        ? // rotating: the new secret first, the old one when the device refuses it (src/gateway/server-secret.ts)
          {
            serverAuth: { name: d.serverName, password: d.serverPasswordNext },
            serverAuthOthers: [{ name: d.serverName, password: d.serverPassword }],
          }
        : { serverAuth: { name: d.serverName, password: d.serverPassword } }
      : {}),
    ...(d.clientNonce ? { clientNonce: d.clientNonce } : {}),
    ...(d.serverNonce ? { serverNonce: d.serverNonce } : {}),
    ...(d.sessionProfile ? { profile: d.sessionProfile } : {}),
  };
}

export function engineDeps(store: ServerStore, clock: Clock, events: ServerEvents = {}): ServerDeps {
  // events of a message are told once its writes are committed, outside its transaction: what they
  // start (a wait on another session, a query to a gateway) must see the writes and not join them
  const deferred = new AsyncLocalStorage<(() => void)[]>();
  const emit = (fire: () => void): void => {
    const queue = deferred.getStore();
    if (queue) queue.push(fire);
    else fire();
  };
  // the store hands back the finished row: no second read per command
  const finished = (op: OperationRow | undefined): void => {
    if (op && events.operationDone) emit(() => events.operationDone?.(op));
  };
  return {
    clock,
    // one message's writes commit together (SQLite: one transaction; PostgreSQL: one client, BEGIN/COMMIT)
    unitOfWork: async (work) => {
      if (deferred.getStore()) return store.batch(work);
      const queue: (() => void)[] = [];
      const out = await deferred.run(queue, () => store.batch(work));
      for (const fire of queue) fire();
      return out;
    },
    findAccount: async (deviceId) => {
      const d = await store.touchDevice(deviceId, clock.now());
      return d ? accountOf(d) : undefined;
    },
    saveNonces: async (deviceId, nonces) => store.updateDevice(deviceId, nonces),
    takeOperations: async (deviceId, limit) => store.takeOperations(deviceId, limit, clock.now()),
    completeOperation: async (_deviceId, id, outcome) => {
      // 202: the device accepted an Exec and reports the end with a Generic Alert (correlator)
      const state = outcome.status === StatusCode.Accepted ? 'accepted' : outcome.status >= 200 && outcome.status < 300 ? 'done' : 'failed';
      finished(
        await store.finishOperation(
          id,
          {
            state,
            status: outcome.status,
            ...(outcome.results ? { results: outcome.results } : {}),
            ...(outcome.note ? { note: outcome.note } : {}),
          },
          clock.now(),
        ),
      );
    },
    releaseOperations: async (_deviceId, ids, note) => store.requeueOperations(ids, clock.now(), note),
    doubtOperation: async (_deviceId, id, note) => finished(await store.finishOperation(id, { state: 'indoubt', note }, clock.now())),
    saveProfile: async (deviceId, learned) => {
      const d = await store.getDevice(deviceId);
      if (d) await store.updateDevice(deviceId, { sessionProfile: { ...d.sessionProfile, ...learned } });
    },
    onServerAuthAccepted: async (deviceId, password) => {
      // the device proved it holds the new secret: the old one is forgotten
      const d = await store.getDevice(deviceId);
      if (d?.serverPasswordNext === password) await store.changeAccount(deviceId, { serverPassword: password, serverPasswordNext: null });
    },
    onServerAuthRefused: (deviceId, code, gaveUp) => emit(() => events.serverAuthRefused?.(deviceId, code, gaveUp)),
    onDevInfo: async (deviceId, values, from) => {
      const devInfo: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) if (k.startsWith('DevInfo/')) devInfo[k.slice('DevInfo/'.length)] = v;
      const { address: notifyAddress, ignored } = notifyAddressOf(devInfo, from);
      if (ignored) emit(() => events.notifyAddressIgnored?.(deviceId, ignored.reported, ignored.reason));
      await store.updateDevice(deviceId, { devInfo, ...(notifyAddress ? { notifyAddress } : {}) });
      emit(() => events.devInfo?.(deviceId, devInfo, from));
    },
    onAlert: async (deviceId, alert) => {
      const row = await store.addAlert({
        deviceId,
        code: alert.code,
        ...(alert.correlator ? { correlator: alert.correlator } : {}),
        items: alert.items,
        receivedAt: clock.now(),
      });
      emit(() => events.alertStored?.(row));
      emit(() => events.alert?.(deviceId, alert));
      if (alert.code !== AlertCode.GenericAlert || alert.correlator === undefined) return;
      const op = await store.findAcceptedByCorrelator(deviceId, alert.correlator);
      if (op === undefined) return;
      const status = outcomeOf(alert);
      // the alert's item is the Exec's result: a FUMO or SCOMO result code stays readable beside the DM status
      const item = alert.items[0];
      const results = item
        ? [
            {
              uri: item.source ?? '',
              ...(item.format ? { format: item.format } : {}),
              ...(item.type ? { type: item.type } : {}),
              ...(item.data !== undefined ? { data: item.data } : {}),
            },
          ]
        : undefined;
      finished(
        await store.finishOperation(
          op.id,
          { state: status >= 200 && status < 300 ? 'done' : 'failed', status, ...(results ? { results } : {}) },
          clock.now(),
        ),
      );
    },
    onSessionEnd: (deviceId, summary) => events.sessionEnded?.(deviceId, summary.outcome, summary),
  };
}

/**
 * The final status of an Exec answered 202, from the Generic Alert that reports it: a GwMO
 * completionstatus carries the job State (30 completed, 40 cancelled, 60 failed); other alerts
 * (FUMO, SCOMO, ours) carry a DM status code in Data; anything else counts as done.
 */
export function outcomeOf(alert: GenericAlert): number {
  const item = alert.items[0];
  const data = item?.data;
  const n = Number(typeof data === 'string' ? data : data ? Buffer.from(data).toString() : NaN);
  if ((item?.type ?? '').includes(':completionstatus')) {
    return n === 30 ? StatusCode.Ok : n === 40 ? StatusCode.OperationCancelled : StatusCode.CommandFailed;
  }
  const type = item?.type ?? '';
  if (type.includes('scomo') || type.includes('softwarecomponent') || type.startsWith('org.openmobilealliance.dm.firmwareupdate.')) {
    // a FUMO or SCOMO result code (plain, or <ResultCode> in XML): success or Command failed
    const code = Number(/(\d{3,4})/.exec(typeof data === 'string' ? data : data ? Buffer.from(data).toString() : '')?.[1]);
    return Number.isInteger(code) && updateResult(code).ok ? StatusCode.Ok : StatusCode.CommandFailed;
  }
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : StatusCode.Ok;
}
