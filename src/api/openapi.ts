// OpenAPI 3 description of the REST API in routes.ts (served at /api/openapi.json). A test checks
// that every route is described and every described path answers.
const error = { description: 'what is wrong', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const deviceId = { name: 'deviceId', in: 'path', required: true, schema: { type: 'string' }, description: 'DevId, e.g. IMEI:490154203237518 (URL-encoded)' };
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
      get: { summary: 'An operation with its status and results', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'the operation', content: json('Operation') }, 404: error } },
    },
    '/api/devices/{deviceId}/notify': {
      post: {
        summary: 'Send a Package#0 to the device over UDP so it opens a session now',
        parameters: [deviceId],
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', properties: { uiMode: { type: 'integer', enum: [0, 1, 2, 3] } } } } } },
        responses: { 202: { description: 'sent', content: json('Notification') }, 404: error, 409: error, 503: error },
      },
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
      Notification: { type: 'object', properties: { sessionId: { type: 'integer' }, bytes: { type: 'integer' }, address: { type: 'string' } } },
    },
  },
} as const;
