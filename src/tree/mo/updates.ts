// FUMO 1.0 and SCOMO 1.0 as values: where gwmo's devices carry them, their states, alert types and
// result codes with their meaning. The device (src/client), the server (what a result means) and
// the LwM2M adapter (object 5 behind FUMO commands) share them. Tables: docs/updates.md.

/** OMA-TS-DM-FUMO-V1_0 §5: the MO's root on gwmo devices (the spec lets the device choose it) */
export const FUMO_ROOT = './FUMO';
export const FUMO_MO = 'urn:oma:mo:oma-fumo:1.0';
export const SCOMO_ROOT = './SCOMO';
export const SCOMO_MO = 'urn:oma:mo:oma-scomo:1.0';

/** FUMO §6 State node values */
export const FumoState = {
  Idle: 10,
  DownloadFailed: 20,
  DownloadProgressing: 30,
  DownloadComplete: 40,
  ReadyToUpdate: 50,
  UpdateProgressing: 60,
  UpdateFailedHaveData: 70,
  UpdateFailedNoData: 80,
  UpdateSuccessfulHaveData: 90,
  UpdateSuccessfulNoData: 100,
} as const;

/** The three Exec'd FUMO nodes and the Generic Alert Type reporting each (FUMO §8). */
export const FUMO_OPERATIONS = {
  Download: 'org.openmobilealliance.dm.firmwareupdate.download',
  Update: 'org.openmobilealliance.dm.firmwareupdate.update',
  DownloadAndUpdate: 'org.openmobilealliance.dm.firmwareupdate.downloadandupdate',
} as const;
export type FumoOperation = keyof typeof FUMO_OPERATIONS;

/** FUMO §9 result codes (the Data of the 1226 alert); 250–299 are vendor successes */
export const FUMO_RESULTS: Readonly<Record<number, string>> = {
  200: 'Successful',
  400: 'Management Client Error',
  401: 'User Cancelled',
  402: 'Corrupted Firmware Update Package',
  403: 'Firmware Update Package – Device Mismatch',
  404: 'Failed Firmware Update Package Validation',
  405: 'Firmware Update Package Not Acceptable',
  406: 'Alternate Download Authentication Failure',
  407: 'Alternate Download Request Time-Out',
  408: 'Not Implemented',
  409: 'Undefined Error',
  410: 'Firmware Update Failed',
  411: 'Malformed or Bad URL',
  412: 'Alternate Download Server Unavailable',
  500: 'Alternate Download Server Error',
  501: 'Download Fails due to Device is Out of Memory',
  502: 'Firmware Update Fails due to Device Out of Memory',
  503: 'Download Fails due to Network Issues',
};

/** SCOMO 1.0 OperationComplete alert Type (SCOMO §5.4 / §9) */
export const SCOMO_COMPLETE = 'urn:oma:at:scomo:1.0:OperationComplete';
/** The name some deployed clients (and our alert corpus) use for the same alert */
export const SCOMO_COMPLETE_ALT = 'org.openmobilealliance.dm.softwarecomponent.OperationComplete';

/** SCOMO §9 result codes; 1250–1299 are vendor successes */
export const SCOMO_RESULTS: Readonly<Record<number, string>> = {
  1200: 'Successful',
  1400: 'Client Error',
  1401: 'User Cancelled',
  1402: 'Download Failed',
  1403: 'Alternate Download Authentication Failure',
  1404: 'Download Failed due to Device Out of Memory',
  1405: 'Install Failed',
  1406: 'Install Failed due to Device Out of Memory',
  1407: 'Failed Package Validation',
  1408: 'Remove Failed',
  1409: 'Activate Failed',
  1410: 'Deactivate Failed',
  1411: 'Not Implemented',
  1412: 'Undefined Error',
  1413: 'Operation Rejected – Unsupported Environment',
  1500: 'Alternate Download Server Error',
  1501: 'Alternate Download Server Unavailable',
};

/** SCOMO §5.3 Download/<x>/Status values */
export const ScomoDownloadStatus = {
  Idle: 10,
  DownloadFailed: 20,
  DownloadProgressing: 30,
  DownloadComplete: 40,
  InstallProgressing: 50,
  InstallFailedWithData: 60,
  InstallFailedWithoutData: 70,
  RemoveFailed: 80,
} as const;

/** Whether a FUMO or SCOMO result code is a success, and what it means. */
export function updateResult(code: number): { ok: boolean; meaning: string } {
  if (code >= 1000) {
    const ok = code === 1200 || (code >= 1250 && code <= 1299);
    return { ok, meaning: SCOMO_RESULTS[code] ?? (ok ? 'Successful (vendor)' : `SCOMO result ${code}`) };
  }
  const ok = code === 200 || (code >= 250 && code <= 299);
  return { ok, meaning: FUMO_RESULTS[code] ?? (ok ? 'Successful (vendor)' : `FUMO result ${code}`) };
}
