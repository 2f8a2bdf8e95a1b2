// OpenAPI 3 description of the REST API in routes.ts (served at /api/openapi.json). A test checks
// that every route is described and every described path answers.
const error = { description: 'what is wrong', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const deviceId = { name: 'deviceId', in: 'path', required: true, schema: { type: 'string' }, description: 'DevId, e.g. IMEI:490154203237518 (URL-encoded)' };
const wait = { name: 'wait', in: 'query', schema: { type: 'number', minimum: 0, maximum: 120, default: 10 }, description: 'seconds to wait for the gateway' };
const endDevice = { name: 'endDevice', in: 'path', required: true, schema: { type: 'string' }, description: 'DeviceID behind the gateway' };
const group = { name: 'group', in: 'path', required: true, schema: { type: 'string' } };
const pending = { description: 'the gateway has not answered within wait; the operations stay queued' };
const paging = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];

export const openApiDocument = {
  openapi: '3.0.3',
  info: { title: 'gwmo DM server API', version: '0.1.0', description: 'Devices, their DM operations and notifications.' },
  paths: {
    '/api/devices': {
      get: { summary: 'List devices', parameters: paging, responses: { 200: { description: 'a page of devices', content: json('DevicePage') }, 400: error } },
      post: {
        summary: 'Create or update a device account',
        requestBody: { required: true, content: json('NewDevice') },
        responses: { 201: { description: 'the device', content: json('Device') }, 400: error, 415: error },
      },
    },
    '/api/devices/{deviceId}': {
      get: { summary: 'One device', parameters: [deviceId], responses: { 200: { description: 'the device', content: json('Device') }, 404: error } },
      delete: { summary: 'Remove a device and its operations', parameters: [deviceId], responses: { 204: { description: 'removed' }, 404: error } },
    },
    '/api/devices/{deviceId}/operations': {
      get: { summary: 'Operations of a device, newest first', parameters: [deviceId, ...paging], responses: { 200: { description: 'a page of operations', content: json('OperationPage') }, 404: error } },
      post: {
        summary: 'Queue a DM command for the device (carried out in its next session)',
        parameters: [deviceId],
        requestBody: { required: true, content: json('NewOperation') },
        responses: { 201: { description: 'queued', content: json('Operation') }, 400: error, 404: error },
      },
    },
    '/api/operations/{id}': {
      get: { summary: 'An operation with its status and results (?wait=<s> answers once it has an outcome)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, wait], responses: { 200: { description: 'the operation', content: json('Operation') }, 404: error } },
    },
    '/api/devices/{deviceId}/notify': {
      post: {
        summary: 'Send a Package#0 to the device over UDP so it opens a session now',
        parameters: [deviceId],
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { uiMode: { type: 'integer', enum: [0, 1, 2, 3] }, via: { type: 'string', description: 'transparent mode: the gateway the device sits behind; the Package#0 goes through its EDTrigger MO' }, bypass: { type: 'string', description: 'B.1: the gateway whose inventory shows the device\'s routable PublicAddress; the Package#0 goes there directly' } } } } } },
        responses: { 202: { description: 'sent', content: json('Notification') }, 404: error, 409: error, 503: error },
      },
    },
    '/api/devices/{deviceId}/jobs': {
      post: {
        summary: 'Commands for a device behind a gateway; they follow the device if it moves to another gateway', parameters: [deviceId],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['commands'], properties: { commands: { type: 'array', items: { $ref: '#/components/schemas/NewOperation' } } } } } } },
        responses: { 202: { description: 'the job, dispatched to the gateway the device was last announced by' }, 400: error, 404: error },
      },
    },
    '/api/jobs/{id}': {
      get: { summary: 'A device job: state pending, dispatched or done; status; the gateway it ran on', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'the job' }, 404: error } },
    },
    '/api/gateways': {
      get: { summary: 'GwMO gateways known to the server (devices that report DevInfo/Ext/GwMO)', responses: { 200: { description: 'gateways' } } },
    },
    '/api/gateways/{deviceId}/devices': {
      get: { summary: 'The inventory behind a gateway: summary and every device (a DM Get of ./GwMO/DevInventory)', parameters: [deviceId, wait], responses: { 200: { description: '{summary, devices}' }, 202: pending, 404: error } },
    },
    '/api/gateways/{deviceId}/devices/{endDevice}': {
      get: { summary: 'One device behind a gateway', parameters: [deviceId, endDevice, wait], responses: { 200: { description: 'the inventory node as an object' }, 202: pending, 404: error } },
    },
    '/api/gateways/{deviceId}/groups': {
      get: { summary: 'Groups on a gateway', parameters: [deviceId, wait], responses: { 200: { description: 'groups with Description and Members' }, 202: pending, 404: error } },
    },
    '/api/gateways/{deviceId}/groups/{group}': {
      put: {
        summary: 'Create or update a group; its members become exactly the given DeviceIDs', parameters: [deviceId, group, wait],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['members'], properties: { description: { type: 'string' }, members: { type: 'array', items: { type: 'string' } } } } } } },
        responses: { 200: { description: 'the DM statuses of the writes' }, 202: pending, 400: error, 404: error },
      },
      delete: { summary: 'Delete a group', parameters: [deviceId, group, wait], responses: { 200: { description: 'deleted' }, 202: pending, 404: error } },
    },
    '/api/gateways/{deviceId}/config': {
      put: {
        summary: 'Replace gateway settings (./GwMO/Config), e.g. {"InventoryAlerts/Attach": true, "Fanout/MaxConcurrency": 20}', parameters: [deviceId, wait],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } } } } },
        responses: { 200: { description: 'the DM status of each Replace' }, 202: pending, 400: error, 404: error },
      },
    },
    '/api/gateways/{deviceId}/fanouts': {
      post: {
        summary: 'Run DM commands on devices and/or groups behind a gateway; one aggregated answer', parameters: [deviceId, wait],
        requestBody: { required: true, content: json('NewFanout') },
        responses: { 202: { description: 'started (or queued when the gateway has not answered yet)' }, 400: error, 404: error, 409: error },
      },
    },
    '/api/gateways/{deviceId}/fanouts/{name}': {
      get: { summary: 'A fanout: State, Progress, Aggregate (count per DM status) and per-device Results', parameters: [deviceId, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }, wait], responses: { 200: { description: 'the job as an object' }, 202: pending, 404: error } },
    },
    '/api/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3 document' } } } },
  },
  components: {
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
      NewDevice: {
        type: 'object', required: ['deviceId', 'name', 'password'],
        properties: {
          deviceId: { type: 'string', maxLength: 255 }, name: { type: 'string', description: 'name the device authenticates with (CLCRED AAuthName)' },
          password: { type: 'string', description: 'its secret (CLCRED AAuthSecret)' }, scheme: { type: 'string', enum: ['basic', 'md5', 'hmac'], default: 'md5' },
          serverName: { type: 'string', description: 'SRVCRED AAuthName: how the server proves itself' }, serverPassword: { type: 'string' },
          notifyAddress: { type: 'string', description: 'host:port where the device listens for Package#0' },
        },
      },
      Device: {
        type: 'object',
        properties: {
          deviceId: { type: 'string' }, scheme: { type: 'string' }, name: { type: 'string' }, serverName: { type: 'string', nullable: true },
          notifyAddress: { type: 'string', nullable: true }, devInfo: { type: 'object', additionalProperties: { type: 'string' } },
          createdAt: { type: 'string', format: 'date-time' }, lastSeen: { type: 'string', format: 'date-time', nullable: true },
        },
      },
      DevicePage: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Device' } }, limit: { type: 'integer' }, offset: { type: 'integer' } } },
      NewOperation: {
        type: 'object', required: ['kind', 'path'],
        properties: {
          kind: { type: 'string', enum: ['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Copy'] }, path: { type: 'string', example: './DevInfo/Mod' },
          value: { type: 'string', description: 'base64 when format is b64 or bin' },
          format: { type: 'string', enum: ['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float'] },
          type: { type: 'string', description: 'MIME type of the value' }, source: { type: 'string', description: 'Copy: the URI copied from' },
          correlator: { type: 'string', description: 'Exec: echoed by the Generic Alert that reports the result' },
        },
      },
      Operation: {
        type: 'object',
        properties: {
          id: { type: 'string' }, deviceId: { type: 'string' }, kind: { type: 'string' }, path: { type: 'string' },
          state: { type: 'string', enum: ['queued', 'sent', 'done', 'failed', 'accepted'] },
          status: { type: 'integer', nullable: true, description: 'the device\'s DM status code' },
          results: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, format: { type: 'string' }, type: { type: 'string', nullable: true }, value: {} } } },
          createdAt: { type: 'string', format: 'date-time' }, updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      OperationPage: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Operation' } }, limit: { type: 'integer' }, offset: { type: 'integer' } } },
      NewFanout: {
        type: 'object', required: ['commands'],
        properties: {
          name: { type: 'string' }, devices: { type: 'array', items: { type: 'string' } }, groups: { type: 'array', items: { type: 'string' } },
          commands: { type: 'array', items: { $ref: '#/components/schemas/NewOperation' } },
          timeout: { type: 'integer', description: 'seconds per device' }, retries: { type: 'integer' }, concurrency: { type: 'integer' },
        },
      },
      Notification: { type: 'object', properties: { sessionId: { type: 'integer' }, bytes: { type: 'integer' }, address: { type: 'string' } } },
    },
  },
} as const;
