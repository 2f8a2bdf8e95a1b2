// Commands on one device behind a gateway, through a device job (it follows the device), and the
// DM statuses in words: shared by the DM tree page and the LwM2M device page.
import { api } from '../api.js';
import { enc } from '../dom.js';

const STATUS_TEXT = {
  200: 'OK',
  400: 'bad value',
  401: 'not authorised',
  403: 'forbidden',
  404: 'not found',
  405: 'not allowed on this node',
  406: 'optional feature not supported',
  408: 'the device did not answer in time',
  410: 'the device is detached',
  415: 'format not supported',
  425: "permission denied by the node's ACL",
  500: 'command failed',
};

/** runs commands on the device through a job and waits for its results */
export async function run(deviceId, commands) {
  const job = await api('POST', `/api/devices/${enc(deviceId)}/jobs`, { commands });
  for (let i = 0; i < 4; i++) {
    const j = await api('GET', `/api/jobs/${enc(job.id)}?wait=30`);
    if (j.state === 'done') return j;
  }
  throw new Error('the device has not answered yet; try again later');
}

export const statusText = (code) => `${code} ${STATUS_TEXT[code] ?? ''}`.trim();
