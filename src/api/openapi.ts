// OpenAPI 3 description of the REST API in routes.ts (served at /api/openapi.json). A test checks
// that every route is described and every described path answers.
const error = { description: 'what is wrong', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const deviceId = {
  name: 'deviceId',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'DevId, e.g. IMEI:490154203237518 (URL-encoded)',
};
const wait = {
  name: 'wait',
  in: 'query',
  schema: { type: 'number', minimum: 0, maximum: 120, default: 10 },
  description: 'seconds to wait for the gateway',
};
const endDevice = { name: 'endDevice', in: 'path', required: true, schema: { type: 'string' }, description: 'DeviceID behind the gateway' };
const group = { name: 'group', in: 'path', required: true, schema: { type: 'string' } };
const pending = { description: 'the gateway has not answered within wait; the operations stay queued' };
const paging = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
];
const alertDevice = { name: 'device', in: 'query', schema: { type: 'string' }, description: "only this device's alerts" };
const alertFilters = [
  {
    name: 'type',
    in: 'query',
    schema: { type: 'string' },
    description:
      "the Type of the alert's (first) item, e.g. org.openmobilealliance.dm.firmwareupdate.devicerequest; ending in *, a prefix: org.openmobilealliance.dm.*",
  },
  { name: 'code', in: 'query', schema: { type: 'integer', minimum: 1 }, description: 'alert code, e.g. 1226' },
  {
    name: 'since',
    in: 'query',
    schema: { type: 'string', format: 'date-time' },
    description: 'received at or after (ISO 8601 with a zone, or a date)',
  },
  { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'received before' },
];
const alertCursor = {
  name: 'before',
  in: 'query',
  schema: { type: 'string' },
  description: 'only alerts older than this id: the `next` of the page before',
};

const document = {
  openapi: '3.0.3',
  info: {
    title: 'gwmo DM server API',
    version: '0.1.0',
    description:
      "Devices, their DM operations and notifications. Every path but /api/login and this document needs a bearer token (POST /api/tokens) or the dashboard's login cookie. Roles: viewer reads; operator acts on devices (operations, notifications, groups, fanouts, images); admin also manages device and gateway accounts, gateway configuration and users. Every time is an ISO 8601 UTC string (format date-time). Any path may answer 503 {error: 'database unavailable', cause} with Retry-After while the server's database cannot be reached, and 507 {error: 'storage full', cause} when its disk is full (docs/operations.md, Faults).",
  },
  security: [{ bearer: [] }, { loginCookie: [] }],
  paths: {
    '/api/login': {
      post: {
        summary: 'Log in (dashboard): sets the HttpOnly gwmo_session cookie; failed logins are rate limited (429 with Retry-After)',
        security: [],
        requestBody: { required: true, content: json('Login') },
        responses: { 200: { description: 'logged in', content: json('Me') }, 400: error, 401: error, 429: error },
      },
    },
    '/api/logout': {
      post: { summary: 'End this login (or revoke the token used)', responses: { 204: { description: 'ended' }, 401: error } },
    },
    '/api/me': {
      get: {
        summary: 'Who the credentials stand for',
        responses: { 200: { description: 'user and role', content: json('Me') }, 401: error },
      },
    },
    '/api/me/password': {
      put: {
        summary: "Change one's own password",
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['current', 'password'],
                properties: { current: { type: 'string' }, password: { type: 'string', minLength: 10 } },
              },
            },
          },
        },
        responses: { 204: { description: 'changed' }, 400: error, 403: error },
      },
    },
    '/api/users': {
      get: {
        summary: 'Users (admin)',
        responses: {
          200: {
            description: 'users',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/User' } } } },
              },
            },
          },
          403: error,
        },
      },
      post: {
        summary: 'Create a user (admin)',
        requestBody: { required: true, content: json('NewUser') },
        responses: { 201: { description: 'created', content: json('User') }, 400: error, 403: error, 409: error },
      },
    },
    '/api/users/{name}': {
      put: {
        summary: "Change a user's role or password (admin)",
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  role: { type: 'string', enum: ['viewer', 'operator', 'admin'] },
                  password: { type: 'string', minLength: 10 },
                },
              },
            },
          },
        },
        responses: { 200: { description: 'the user', content: json('User') }, 400: error, 404: error, 409: error },
      },
      delete: {
        summary: 'Delete a user and revoke their tokens (admin)',
        parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 204: { description: 'deleted' }, 404: error, 409: error },
      },
    },
    '/api/tokens': {
      get: {
        summary: "One's own tokens and logins (?all=true: everyone's, admin)",
        parameters: [{ name: 'all', in: 'query', schema: { type: 'boolean' } }],
        responses: {
          200: {
            description: 'tokens, never their secret',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Token' } } } },
              },
            },
          },
        },
      },
      post: {
        summary: "Make an API token (shown once); `role` may limit it below one's own (a role above one's own: 403)",
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['label'],
                properties: { label: { type: 'string', maxLength: 128 }, role: { type: 'string', enum: ['viewer', 'operator', 'admin'] } },
              },
            },
          },
        },
        responses: { 201: { description: 'the token, with its secret this once', content: json('Token') }, 400: error },
      },
    },
    '/api/tokens/{id}': {
      delete: {
        summary: "Revoke a token (one's own; an admin any)",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 204: { description: 'revoked' }, 404: error },
      },
    },
    '/api/devices': {
      get: {
        summary: 'List devices',
        parameters: paging,
        responses: { 200: { description: 'a page of devices', content: json('DevicePage') }, 400: error },
      },
      post: {
        summary: 'Create a device account (admin); an id that has one answers 409 and changes nothing: change it with PATCH',
        requestBody: { required: true, content: json('NewDevice') },
        responses: { 201: { description: 'the device', content: json('Device') }, 400: error, 409: error, 415: error },
      },
    },
    '/api/devices/{deviceId}': {
      get: {
        summary: 'One device',
        parameters: [deviceId],
        responses: { 200: { description: 'the device', content: json('Device') }, 404: error },
      },
      patch: {
        summary:
          "Change only the fields given of a device account (admin): rotate a password, the server's credentials, the notify address; null clears serverName with serverPassword, or notifyAddress. Logged with who and which fields, never their values",
        parameters: [deviceId],
        requestBody: { required: true, content: json('DevicePatch') },
        responses: { 200: { description: 'the device', content: json('Device') }, 400: error, 404: error, 415: error },
      },
      delete: {
        summary: 'Remove a device and its operations',
        parameters: [deviceId],
        responses: { 204: { description: 'removed' }, 404: error },
      },
    },
    '/api/devices/{deviceId}/operations': {
      get: {
        summary: 'Operations of a device, newest first (?state=indoubt: those whose outcome is unknown)',
        parameters: [
          deviceId,
          ...paging,
          {
            name: 'state',
            in: 'query',
            schema: { type: 'string', enum: ['queued', 'sent', 'done', 'failed', 'accepted', 'indoubt'] },
          },
        ],
        responses: { 200: { description: 'a page of operations', content: json('OperationPage') }, 400: error, 404: error },
      },
      post: {
        summary: 'Queue a DM command for the device (carried out in its next session)',
        parameters: [deviceId],
        requestBody: { required: true, content: json('NewOperation') },
        responses: { 201: { description: 'queued', content: json('Operation') }, 400: error, 404: error },
      },
    },
    '/api/operations/{id}': {
      get: {
        summary: 'An operation with its status and results (?wait=<s> answers once it has an outcome)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }, wait],
        responses: { 200: { description: 'the operation', content: json('Operation') }, 404: error },
      },
    },
    '/api/operations/{id}/resolve': {
      post: {
        summary:
          'Decide an operation in doubt (sent, no status came back, not safe to send twice): retry (queued again, sent in the next session), failed or done',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['resolution'],
                properties: {
                  resolution: { type: 'string', enum: ['retry', 'failed', 'done'] },
                  reason: { type: 'string', maxLength: 500, description: 'kept in the note' },
                },
              },
            },
          },
        },
        responses: {
          200: { description: 'the operation as it now is', content: json('Operation') },
          400: error,
          404: error,
          409: { ...error, description: 'the operation is not in doubt' },
        },
      },
    },
    '/api/devices/{deviceId}/notify': {
      post: {
        summary:
          "Send a Package#0 to the device so it opens a session now: through its push-channel poll; else, for a device a gateway announced (deviceattached), through that gateway's EDTrigger (answer: {sessionId, via}); else over UDP to its notifyAddress. 409 when no path reaches it",
        parameters: [deviceId],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  uiMode: { type: 'integer', enum: [0, 1, 2, 3] },
                  via: {
                    type: 'string',
                    description: 'transparent mode: the gateway the device sits behind; the Package#0 goes through its EDTrigger MO',
                  },
                  bypass: {
                    type: 'string',
                    description:
                      "B.1: the gateway whose inventory shows the device's routable PublicAddress; the Package#0 goes there directly",
                  },
                },
              },
            },
          },
        },
        responses: { 202: { description: 'sent', content: json('Notification') }, 404: error, 409: error, 503: error },
      },
    },
    '/api/devices/{deviceId}/alerts': {
      get: {
        summary: 'Alerts the device sent (Generic Alerts 1226 with Type, Format and Data; session alerts), newest first',
        parameters: [deviceId, ...alertFilters, ...paging, alertCursor],
        responses: { 200: { description: 'a page of alerts', content: json('AlertPage') }, 400: error, 404: error },
      },
    },
    '/api/devices/{deviceId}/location': {
      get: {
        summary: 'The gateway a device behind gateways was last announced by (its deviceattached alert); nomadic devices move',
        parameters: [deviceId],
        responses: {
          200: {
            description: 'where it is',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    deviceId: { type: 'string' },
                    gatewayId: { type: 'string' },
                    since: { type: 'string', format: 'date-time' },
                  },
                },
              },
            },
          },
          404: error,
        },
      },
    },
    '/api/lwm2m/objects/{objectId}': {
      get: {
        summary:
          "An LwM2M object's model from the OMA registry (with gwmo's own entries for 0, 1, 3, 5, 3303): names, types, operations, multiplicity",
        parameters: [{ name: 'objectId', in: 'path', required: true, schema: { type: 'integer', minimum: 0, maximum: 65535 } }],
        responses: {
          200: {
            description: 'the model',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'name', 'multiple', 'resources'],
                  properties: {
                    id: { type: 'integer' },
                    name: { type: 'string' },
                    multiple: { type: 'boolean' },
                    resources: {
                      type: 'array',
                      items: {
                        type: 'object',
                        required: ['id', 'name', 'type', 'operations', 'multiple'],
                        properties: {
                          id: { type: 'integer' },
                          name: { type: 'string' },
                          type: {
                            type: 'string',
                            enum: ['string', 'integer', 'unsigned', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'none'],
                            description: 'none: executable',
                          },
                          operations: {
                            type: 'string',
                            enum: ['R', 'W', 'RW', 'E', ''],
                            description: "'' when the registry package does not say",
                          },
                          multiple: { type: 'boolean' },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
          400: error,
          404: error,
        },
      },
    },
    '/api/devices/{deviceId}/observed': {
      get: {
        summary:
          'The latest value per LwM2M path a device behind a gateway reported (observations and Sends); live updates come with the alerts',
        parameters: [deviceId],
        responses: {
          200: {
            description: 'one item per path',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    deviceId: { type: 'string' },
                    items: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          path: { type: 'string' },
                          record: {
                            type: 'object',
                            description: 'the SenML record without n/bn: v, vs, vb, vd or vlo keep the type the device gave',
                          },
                          gatewayId: { type: 'string' },
                          at: { type: 'string', format: 'date-time' },
                          via: { type: 'string', enum: ['notify', 'send'] },
                        },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
    '/api/devices/{deviceId}/jobs': {
      post: {
        summary: 'Commands for a device behind a gateway; they follow the device if it moves to another gateway',
        parameters: [deviceId],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['commands'],
                properties: { commands: { type: 'array', items: { $ref: '#/components/schemas/NewOperation' } } },
              },
            },
          },
        },
        responses: {
          202: { description: 'the job, dispatched to the gateway the device was last announced by', content: json('DeviceJob') },
          400: error,
          404: error,
        },
      },
    },
    '/api/jobs/{id}': {
      get: {
        summary:
          'A device job: state pending, dispatched or done; status; per-command results (status, data) once done; the gateway it ran on (?wait=<s> answers once done)',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'wait', in: 'query', schema: { type: 'number', minimum: 0, maximum: 120, default: 0 } },
        ],
        responses: { 200: { description: 'the job', content: json('DeviceJob') }, 404: error },
      },
    },
    '/api/gateways': {
      get: {
        summary: 'GwMO gateways known to the server (devices that report DevInfo/Ext/GwMO)',
        responses: { 200: { description: 'gateways' } },
      },
    },
    '/api/gateways/{deviceId}/devices': {
      get: {
        summary:
          'The inventory behind a gateway: summary and every device (a DM Get of ./GwMO/DevInventory); with any filter or paging parameter, only the matching devices, a page of them, and `matched` (how many matched)',
        parameters: [
          deviceId,
          wait,
          { name: 'status', in: 'query', schema: { type: 'string', enum: ['attached', 'detached'] } },
          { name: 'mode', in: 'query', schema: { type: 'string', enum: ['transparent', 'proxy', 'adaptation', '1', '2', '3'] } },
          { name: 'protocol', in: 'query', schema: { type: 'string' }, description: 'prefix of Protocol, any case: lwm2m, oma-dm' },
          { name: 'q', in: 'query', schema: { type: 'string' }, description: 'text found in any field of the device (any case)' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
        ],
        responses: {
          200: {
            description: '{summary, devices} (+ matched, limit, offset when filtered)',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    summary: { type: 'object' },
                    devices: { type: 'object' },
                    matched: { type: 'integer' },
                    limit: { type: 'integer', nullable: true },
                    offset: { type: 'integer' },
                  },
                },
              },
            },
          },
          202: pending,
          400: error,
          404: error,
        },
      },
    },
    '/api/gateways/{deviceId}/devices/{endDevice}': {
      get: {
        summary: 'One device behind a gateway',
        parameters: [deviceId, endDevice, wait],
        responses: { 200: { description: 'the inventory node as an object' }, 202: pending, 404: error },
      },
    },
    '/api/gateways/{deviceId}/groups': {
      get: {
        summary: 'Groups on a gateway',
        parameters: [deviceId, wait],
        responses: { 200: { description: 'groups with Description and Members' }, 202: pending, 404: error },
      },
    },
    '/api/gateways/{deviceId}/groups/{group}': {
      put: {
        summary: 'Create or update a group; its members become exactly the given DeviceIDs',
        parameters: [deviceId, group, wait],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['members'],
                properties: { description: { type: 'string' }, members: { type: 'array', items: { type: 'string' } } },
              },
            },
          },
        },
        responses: { 200: { description: 'the DM statuses of the writes' }, 202: pending, 400: error, 404: error },
      },
      delete: {
        summary: 'Delete a group',
        parameters: [deviceId, group, wait],
        responses: { 200: { description: 'deleted' }, 202: pending, 404: error },
      },
    },
    '/api/gateways/{deviceId}/config': {
      get: {
        summary:
          'Gateway settings (a DM Get of ./GwMO/Config), in the shape PUT takes: each leaf by its path below Config; int and bool settings as JSON numbers and booleans',
        parameters: [deviceId, wait],
        responses: {
          200: {
            description: 'the settings',
            content: {
              'application/json': {
                schema: { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } },
              },
            },
          },
          202: pending,
          404: error,
          502: error,
        },
      },
      put: {
        summary: 'Replace gateway settings (./GwMO/Config), e.g. {"InventoryAlerts/Attach": true, "Fanout/MaxConcurrency": 20}',
        parameters: [deviceId, wait],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] } },
            },
          },
        },
        responses: { 200: { description: 'the DM status of each Replace' }, 202: pending, 400: error, 404: error },
      },
    },
    '/api/gateways/{deviceId}/fanouts': {
      post: {
        summary: 'Run DM commands on devices and/or groups behind a gateway; one aggregated answer',
        parameters: [deviceId, wait],
        requestBody: { required: true, content: json('NewFanout') },
        responses: {
          202: { description: 'started (or queued when the gateway has not answered yet)' },
          400: error,
          404: error,
          409: error,
        },
      },
    },
    '/api/gateways/{deviceId}/observations': {
      post: {
        summary:
          'Observe an LwM2M resource on devices and/or groups behind a gateway (Write-Attributes, then Observe); notifications come back as org.gwmo.lwm2m.notify alerts (docs/lwm2m.md)',
        parameters: [deviceId, wait],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['name', 'path'],
                properties: {
                  name: { type: 'string' },
                  path: { type: 'string', example: './3303/0/5700' },
                  devices: { type: 'array', items: { type: 'string' } },
                  groups: { type: 'array', items: { type: 'string' } },
                  attributes: {
                    type: 'object',
                    properties: {
                      pmin: { type: 'number' },
                      pmax: { type: 'number' },
                      gt: { type: 'number' },
                      lt: { type: 'number' },
                      st: { type: 'number' },
                    },
                    additionalProperties: false,
                  },
                },
              },
            },
          },
        },
        responses: { 201: { description: 'set on the gateway and started' }, 202: pending, 400: error, 404: error, 409: error },
      },
    },
    '/api/devices/{deviceId}/lwm2m-credentials': {
      put: {
        summary:
          'Set or rotate an LwM2M device\'s credentials on its gateway (./GwMO/LwM2MCredentials, docs/lwm2m.md "Security"): PSK identity + key, or an RPK; the bootstrap PSK and target. A new key replaces the old, which keeps working until the device\'s next handshake with the new one. Keys are never read back',
        parameters: [deviceId, wait],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  gateway: { type: 'string', description: 'the gateway (default: the one the device is behind now)' },
                  identity: { type: 'string', maxLength: 128, description: 'PSK identity; with key' },
                  key: { type: 'string', pattern: '^([0-9a-fA-F]{2}){16,64}$', description: 'the PSK in hex, 16–64 bytes' },
                  publicKey: { type: 'string', description: 'RPK mode: EC P-256 public key, PEM or base64 SubjectPublicKeyInfo DER' },
                  bootstrapIdentity: { type: 'string', maxLength: 128, description: "PSK identity of the device's bootstrap account" },
                  bootstrapKey: { type: 'string', pattern: '^([0-9a-fA-F]{2}){16,64}$', description: 'its PSK in hex' },
                  serverUri: {
                    type: 'string',
                    description: 'bootstrap target: "" = the gateway itself, else coap(s)://host:port of another LwM2M server',
                  },
                },
              },
            },
          },
        },
        responses: {
          200: { description: 'the gateway holds them: {deviceId, gatewayId, fingerprint (sha256 of the key), operations}' },
          202: pending,
          400: error,
          404: error,
          409: { description: 'another device on that gateway holds the identity or public key' },
          502: error,
        },
      },
      get: {
        summary: 'What the gateway holds for an LwM2M device: mode, identities, fingerprint, bootstrap target; never a key',
        parameters: [deviceId, { name: 'gateway', in: 'query', schema: { type: 'string' } }, wait],
        responses: {
          200: {
            description: 'the credentials without their keys',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    deviceId: { type: 'string' },
                    gatewayId: { type: 'string' },
                    mode: { type: 'string', enum: ['psk', 'rpk', 'none'] },
                    identity: { type: 'string', nullable: true },
                    publicKey: { type: 'string', nullable: true },
                    fingerprint: { type: 'string', nullable: true, example: 'sha256:5f…' },
                    rotating: { type: 'boolean', description: 'the key before the last rotation is still accepted' },
                    bootstrapIdentity: { type: 'string', nullable: true },
                    serverUri: { type: 'string', nullable: true },
                  },
                },
              },
            },
          },
          202: pending,
          400: error,
          404: error,
        },
      },
      delete: {
        summary: "Forget an LwM2M device's credentials on its gateway: its next handshake fails",
        parameters: [deviceId, { name: 'gateway', in: 'query', schema: { type: 'string' } }, wait],
        responses: { 200: { description: 'forgotten' }, 202: pending, 400: error, 404: error },
      },
    },
    '/api/gateways/{deviceId}/observations/{name}': {
      delete: {
        summary: 'Cancel an observation on every device',
        parameters: [deviceId, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }, wait],
        responses: { 200: { description: 'cancelled' }, 202: pending, 404: error },
      },
    },
    '/api/gateways/{deviceId}/fanouts/{name}': {
      get: {
        summary: 'A fanout: State, Progress, Aggregate (count per DM status) and per-device Results',
        parameters: [deviceId, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }, wait],
        responses: { 200: { description: 'the job as an object' }, 202: pending, 404: error },
      },
    },
    '/api/gateways/{deviceId}/fanouts/{name}/events': {
      get: {
        summary:
          "A fanout's progress, live (server-sent events): `progress` each time State, Progress, Aggregate or Results change, then `done` with the final job, and the stream ends; `: heartbeat` comments keep it open. The server polls the job's Fanout MO node while someone watches",
        parameters: [deviceId, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: {
            description: 'the event stream; each data line is the job as GET /fanouts/{name} answers it',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          404: error,
          504: error,
        },
      },
    },
    '/api/images': {
      post: {
        summary:
          'Upload an image (software package, firmware, blob) to the server: a record of its own (id, name, version), the bytes kept once per SHA-256. Its Content-Type is kept as a label only: the bytes are always served as application/octet-stream attachments',
        parameters: [
          { name: 'name', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: 100 } },
          { name: 'version', in: 'query', schema: { type: 'string', maxLength: 50 } },
        ],
        requestBody: { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
        responses: {
          201: { description: 'stored', content: json('Image') },
          400: error,
          409: { description: 'an image with that name and version exists', content: json('Error') },
          413: { description: 'over 2 GiB, or over the image store quota (the message names it)', content: json('Error') },
          415: error,
          503: error,
        },
      },
      get: {
        summary: 'Images on the server, the store quota and the bytes served to gateways (egress)',
        responses: {
          200: {
            description: 'images',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    items: { type: 'array', items: { $ref: '#/components/schemas/Image' } },
                    quotaBytes: { type: 'integer' },
                    egress: { type: 'object', properties: { bytes: { type: 'integer' }, requests: { type: 'integer' } } },
                  },
                },
              },
            },
          },
          503: error,
        },
      },
    },
    '/api/images/{id}': {
      delete: {
        summary:
          'Delete an upload; its bytes go when no other upload names them. Refused while a gateway may still fetch it from the server (a staging downloading, or devices fetching it here because the gateway does not store images)',
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          204: { description: 'deleted' },
          404: error,
          409: { description: 'in use: the message names the gateway and the staging', content: json('Error') },
          503: error,
        },
      },
    },
    '/api/gateways/{deviceId}/images': {
      post: {
        summary: 'Stage an image on a gateway (DCIS-001): it fetches it once, checks size and SHA-256, reports with a Generic Alert',
        parameters: [deviceId, wait],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['image'],
                properties: {
                  image: { type: 'string', description: 'id of an uploaded image (a SHA-256: its newest upload)' },
                  name: { type: 'string' },
                },
              },
            },
          },
        },
        responses: {
          202: { description: 'staging started (started: false = the gateway has not answered yet)' },
          400: error,
          404: error,
          409: error,
        },
      },
      get: {
        summary: "The gateway's image inventory: State (10 downloading, 30 stored, 40 failed), bytes so far, LocalURL",
        parameters: [deviceId, wait],
        responses: { 200: { description: 'images by name' }, 202: pending, 404: error },
      },
    },
    '/api/gateways/{deviceId}/images/{name}/cancel': {
      post: {
        summary:
          'Stop a staging: a download under way (its imageready alert says cancelled) or one a crash left downloading. Staging the same name again retries it',
        parameters: [deviceId, { name: 'name', in: 'path', required: true, schema: { type: 'string' } }, wait],
        responses: {
          200: { description: 'cancelled' },
          202: pending,
          404: error,
          409: { description: 'the image is stored (remove it) or the gateway refused', content: json('Error') },
        },
      },
    },
    '/api/gateways/{deviceId}/distributions': {
      post: {
        summary:
          "Make devices behind the gateway install an image it holds, each through its object: FUMO or SCOMO (DM devices: as asked, or what their tree shows), object 5 (LwM2M devices); they download from the gateway's LAN store (from this server when storage is off there)",
        parameters: [deviceId, wait],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/DistributionRequest' } } } },
        responses: {
          202: {
            description: 'started: the distribution with each device, its object and state',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Distribution' } } },
          },
          400: error,
          404: error,
          409: error,
          504: error,
        },
      },
    },
    '/api/distributions': {
      post: {
        summary:
          'The same, across gateways: devices grouped by the gateway each was last announced behind, one distribution per gateway (the image, by its server id, must be staged on each)',
        parameters: [wait],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/DistributionRequest' } } } },
        responses: {
          202: {
            description: 'one distribution per gateway',
            content: {
              'application/json': {
                schema: { type: 'object', properties: { items: { type: 'array', items: { $ref: '#/components/schemas/Distribution' } } } },
              },
            },
          },
          400: error,
          404: error,
          409: error,
          504: error,
        },
      },
      get: {
        summary: 'Distributions, newest first (without their devices)',
        parameters: [
          { name: 'gateway', in: 'query', schema: { type: 'string' }, description: "only this gateway's" },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
        ],
        responses: { 200: { description: 'the distributions' }, 400: error },
      },
    },
    '/api/distributions/{id}': {
      get: {
        summary:
          "A distribution: each device's object, state (queued, sent, succeeded, failed), DM status, result code and its meaning; counts by state, object and result",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: {
            description: 'the distribution',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Distribution' } } },
          },
          404: error,
        },
      },
    },
    '/api/distributions/{id}/events': {
      get: {
        summary:
          "Server-sent events: `snapshot` (the distribution), `device` (a device's row each time it changes), `done` (the distribution at its end)",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'text/event-stream' }, 404: error },
      },
    },
    '/api/campaigns': {
      post: {
        summary:
          'Start a campaign: an image staged on a gateway rolled out to its devices (devices and/or groups) as a canary, then waves; a wave starts only when the previous one failed at most failureThreshold of its devices, else the campaign halts with its reason. Across gateways: no `gateway`, `image` the server image id (staged on each), `targets` (each gateway with devices and/or groups) and/or `devices` (found where they were last announced); the canary and waves take devices from each gateway in turn, perGatewayConcurrency holds per gateway',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['image'],
                properties: {
                  name: { type: 'string' },
                  gateway: { type: 'string', description: 'one gateway (without it: a campaign across gateways)' },
                  image: { type: 'string', description: "the image's name on the gateway; across gateways the server's image id" },
                  targets: {
                    type: 'array',
                    description: 'across gateways: each gateway with its target devices and/or groups',
                    items: {
                      type: 'object',
                      required: ['gateway'],
                      properties: {
                        gateway: { type: 'string' },
                        devices: { type: 'array', items: { type: 'string' } },
                        groups: { type: 'array', items: { type: 'string' } },
                        all: { type: 'boolean', description: "every device of the gateway's inventory" },
                      },
                    },
                  },
                  devices: { type: 'array', items: { type: 'string' } },
                  groups: { type: 'array', items: { type: 'string' } },
                  object: { type: 'string', enum: ['auto', 'fumo', 'scomo'] },
                  canary: { type: 'object', properties: { count: { type: 'integer' }, share: { type: 'number' } } },
                  waves: { oneOf: [{ type: 'integer' }, { type: 'array', items: { type: 'integer' } }] },
                  failureThreshold: { type: 'number', minimum: 0, maximum: 1 },
                  perGatewayConcurrency: { type: 'integer', minimum: 1 },
                  window: { type: 'object', properties: { notBefore: { type: 'string' }, notAfter: { type: 'string' } } },
                  timeout: { type: 'integer' },
                },
              },
            },
          },
        },
        responses: { 201: { description: 'the campaign with its waves' }, 400: error, 404: error, 409: error, 504: error },
      },
      get: {
        summary: 'Campaigns, newest first',
        parameters: [{ name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } }],
        responses: { 200: { description: 'the campaigns' }, 400: error },
      },
    },
    '/api/campaigns/{id}': {
      get: {
        summary: "A campaign: state and reason, each wave's progress and results, each device's result",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'the campaign' }, 404: error },
      },
    },
    '/api/campaigns/{id}/{action}': {
      post: {
        summary: 'pause (no new batch starts), resume (a paused, halted or expired campaign), cancel',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'action', in: 'path', required: true, schema: { type: 'string', enum: ['pause', 'resume', 'cancel'] } },
        ],
        responses: { 200: { description: 'the campaign' }, 404: error, 409: error },
      },
    },
    '/api/campaigns/{id}/report': {
      get: {
        summary: 'The report per wave, per gateway and per result code (JSON), or one line per device with its gateway (CSV)',
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'] } },
        ],
        responses: { 200: { description: 'application/json or text/csv' }, 400: error, 404: error },
      },
    },
    '/api/campaigns/{id}/events': {
      get: {
        summary:
          "Server-sent events: `snapshot` (the campaign as GET gives it), `campaign` (the same without the per-device list, at each change), `device` (a device's row of one of its batches as it changes), `done` (done or cancelled: the campaign with every device's result)",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'text/event-stream' }, 404: error },
      },
    },
    '/api/sessions': {
      get: {
        summary:
          "Recent DM sessions the server recorded (the last 200 per instance, newest first; with several instances on PostgreSQL every instance's, the newest 1000): device, start and end, outcome, message count",
        parameters: [...paging, { name: 'deviceId', in: 'query', schema: { type: 'string' }, description: "only this device's sessions" }],
        responses: {
          200: {
            description: 'a page of sessions',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    items: { type: 'array', items: { $ref: '#/components/schemas/TracedSession' } },
                    total: { type: 'integer' },
                    limit: { type: 'integer' },
                    offset: { type: 'integer' },
                  },
                },
              },
            },
          },
          400: error,
          503: error,
        },
      },
    },
    '/api/sessions/{id}/trace': {
      get: {
        summary: "A recorded session's messages in order, as XML (WBXML decoded), credentials and secret node values masked",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: { description: 'the session and its messages', content: json('SessionTrace') }, 404: error, 503: error },
      },
    },
    '/api/overview': {
      get: {
        summary:
          "The fleet at a glance: devices attached and detached by gateway, mode and protocol (each gateway's inventory Summary, read at most every 10 s), fanouts running, gateways that missed their check-in",
        parameters: [
          {
            name: 'wait',
            in: 'query',
            schema: { type: 'integer', minimum: 0, maximum: 120, default: 5 },
            description: 'seconds to wait for gateways whose counts are older than 10 s',
          },
          {
            name: 'checkIn',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 86_400, default: 60 },
            description: "the gateways' check-in interval in seconds: silent for more than twice this is a missed check-in",
          },
        ],
        responses: { 200: { description: 'the overview', content: json('Overview') }, 400: error, 503: error },
      },
    },
    '/api/stats/sessions': {
      get: {
        summary:
          "DM sessions ended per minute, and how many failed (auth-failed, aborted, timeout, refused), for the last 6 hours: the fleet's with PostgreSQL (every instance adds its counts; up to a second late), this instance's with SQLite",
        parameters: [
          {
            name: 'minutes',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: 360, default: 180 },
            description: 'how many minutes, up to the current one',
          },
        ],
        responses: {
          200: {
            description: 'one count per minute, oldest first',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['from', 'minutes', 'sessions', 'failures'],
                  properties: {
                    from: { type: 'string', format: 'date-time', description: 'start of the first minute' },
                    minutes: { type: 'integer' },
                    sessions: { type: 'array', items: { type: 'integer' } },
                    failures: { type: 'array', items: { type: 'integer' } },
                  },
                },
              },
            },
          },
          400: error,
          503: error,
        },
      },
    },
    '/api/alerts': {
      get: {
        summary: 'Alerts of every device, newest first, filtered by device, Type, code and time',
        parameters: [alertDevice, ...alertFilters, ...paging, alertCursor],
        responses: { 200: { description: 'a page of alerts', content: json('AlertPage') }, 400: error },
      },
    },
    '/api/alerts/events': {
      get: {
        summary:
          "New alerts, live (server-sent events): an `alert` event (id: the alert's id, data: the alert) for each one stored from now on, from any server instance; a reconnect with Last-Event-ID first gets those stored after it (up to 1000). `: heartbeat` comments keep it open",
        parameters: [
          alertDevice,
          ...alertFilters.filter((p) => p.name === 'type' || p.name === 'code'),
          { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' }, description: 'the id of the last alert seen' },
        ],
        responses: {
          200: { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          400: error,
        },
      },
    },
    '/api/openapi.json': { get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3 document' } } } },
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'an API token from POST /api/tokens' },
      loginCookie: {
        type: 'apiKey',
        in: 'cookie',
        name: 'gwmo_session',
        description: 'set by POST /api/login; changes must come from the same origin',
      },
    },
    schemas: {
      DistributionRequest: {
        type: 'object',
        required: ['image'],
        properties: {
          image: { type: 'string', description: "the image's name on the gateway (across gateways: its id on this server)" },
          name: { type: 'string', description: "the distribution's id (default: a new one)" },
          object: {
            type: 'string',
            enum: ['auto', 'fumo', 'scomo'],
            description: 'for DM devices; auto: what their tree shows, FUMO first',
          },
          devices: { type: 'array', items: { type: 'string' } },
          groups: { type: 'array', items: { type: 'string' } },
          timeout: { type: 'integer', minimum: 1, maximum: 86400, description: 'seconds each device has' },
        },
      },
      Distribution: {
        type: 'object',
        required: ['id', 'gatewayId', 'state', 'devices'],
        properties: {
          id: { type: 'string' },
          gatewayId: { type: 'string' },
          image: { type: 'string' },
          url: { type: 'string' },
          state: { type: 'string', enum: ['probing', 'running', 'done'] },
          summary: { type: 'object' },
          devices: {
            type: 'array',
            items: {
              type: 'object',
              required: ['deviceId', 'state'],
              properties: {
                deviceId: { type: 'string' },
                object: { type: 'string', enum: ['fumo', 'scomo', 'lwm2m'] },
                mode: {
                  type: 'string',
                  enum: ['transparent'],
                  description: 'transparent: the device is driven on its own queue and woken through the gateway, not by a fanout',
                },
                state: {
                  type: 'string',
                  enum: ['queued', 'sent', 'downloading', 'succeeded', 'failed'],
                  description:
                    'downloading: the gateway has served the device image bytes (read once a second while the events are watched)',
                },
                status: { type: 'integer' },
                resultCode: { type: 'integer', description: 'FUMO, SCOMO, or object 5 Update Result' },
                meaning: { type: 'string' },
                bytes: {
                  type: 'integer',
                  description: "image bytes the gateway's LAN store has served the device (all of them once it succeeded)",
                },
                size: { type: 'integer', description: "the image's size in bytes, with bytes" },
                gatewayId: {
                  type: 'string',
                  description:
                    "the gateway it was sent to last when not the distribution's: it moved mid-distribution and was followed there (docs/updates.md, Moved)",
                },
              },
            },
          },
        },
      },
      Image: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          sha256: { type: 'string' },
          name: { type: 'string' },
          version: { type: 'string' },
          size: { type: 'integer' },
          contentType: { type: 'string', description: 'what the uploader claimed; a label, never the type the bytes are served with' },
          createdAt: { type: 'string', format: 'date-time' },
          url: {
            type: 'string',
            description: "GET it with an API token or login, a device's DM credentials (HTTP Basic), or a link the server signed",
          },
          stagings: {
            type: 'array',
            description: 'gateways that may still fetch it from the server',
            items: {
              type: 'object',
              properties: {
                gateway: { type: 'string' },
                name: { type: 'string' },
                state: { type: 'string', enum: ['downloading', 'devices-fetch-here'] },
              },
            },
          },
        },
      },
      DeviceJob: {
        type: 'object',
        required: ['id', 'deviceId', 'state', 'commands', 'createdAt', 'updatedAt'],
        properties: {
          id: { type: 'string' },
          deviceId: { type: 'string' },
          state: { type: 'string', enum: ['pending', 'dispatched', 'done'] },
          commands: { type: 'array', items: { type: 'object' } },
          gatewayId: { type: 'string' },
          fanout: { type: 'string' },
          correlator: { type: 'string' },
          status: { type: 'integer' },
          inDoubt: {
            type: 'boolean',
            description:
              'true: a command (Add, Exec, Copy) went out and no status came back; it is not sent again, not even to the next gateway',
          },
          results: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                status: { type: 'integer' },
                data: { description: 'text, or {base64, format} for binary data' },
                format: { type: 'string' },
              },
            },
          },
          createdAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      Login: { type: 'object', required: ['name', 'password'], properties: { name: { type: 'string' }, password: { type: 'string' } } },
      Me: {
        type: 'object',
        properties: {
          user: { type: 'string' },
          role: { type: 'string', enum: ['viewer', 'operator', 'admin'] },
          via: { type: 'string', enum: ['api', 'login'] },
          expiresAt: { type: 'string', format: 'date-time' },
        },
      },
      NewUser: {
        type: 'object',
        required: ['name', 'role', 'password'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9._@-]{1,64}$' },
          role: { type: 'string', enum: ['viewer', 'operator', 'admin'] },
          password: { type: 'string', minLength: 10 },
        },
      },
      User: {
        type: 'object',
        properties: { name: { type: 'string' }, role: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
      },
      Token: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          user: { type: 'string' },
          kind: { type: 'string', enum: ['api', 'login'] },
          label: { type: 'string' },
          role: { type: 'string', nullable: true },
          token: { type: 'string', description: 'only in the answer that made it' },
          createdAt: { type: 'string', format: 'date-time' },
          expiresAt: { type: 'string', format: 'date-time', nullable: true },
          revokedAt: { type: 'string', format: 'date-time', nullable: true },
          lastUsedAt: { type: 'string', format: 'date-time', nullable: true },
        },
      },
      Error: {
        type: 'object',
        required: ['error'],
        // cause: what the database said, on 503 and 507
        properties: { error: { type: 'string' }, cause: { type: 'string' } },
      },
      NewDevice: {
        type: 'object',
        required: ['deviceId', 'name', 'password'],
        properties: {
          deviceId: {
            type: 'string',
            maxLength: 256,
            description: 'printable, no control characters, no whitespace at either end (docs/access.md)',
          },
          name: { type: 'string', description: 'name the device authenticates with (CLCRED AAuthName)' },
          password: { type: 'string', description: 'its secret (CLCRED AAuthSecret)' },
          scheme: { type: 'string', enum: ['basic', 'md5', 'hmac'], default: 'md5' },
          serverName: { type: 'string', description: 'SRVCRED AAuthName: how the server proves itself' },
          serverPassword: { type: 'string' },
          notifyAddress: { type: 'string', description: 'host:port where the device listens for Package#0' },
          serverNonce: {
            type: 'string',
            format: 'byte',
            description:
              'base64 of the nonce the device holds for the server\'s Cred ("" = the empty nonce); unset: the DM 1.2.1 resync nonce (docs/auth.md)',
          },
          sessionProfile: { $ref: '#/components/schemas/SessionProfileInput' },
        },
      },
      SessionProfileInput: {
        type: 'object',
        additionalProperties: false,
        description:
          'how the server shapes sessions with a device that cannot take what the protocol allows (docs/interop.md); in a PATCH, null returns a field to its default',
        properties: {
          commandsPerMessage: {
            type: 'integer',
            minimum: 1,
            maximum: 1000,
            nullable: true,
            description: 'commands per server message at most (setting it starts the learned back-off over)',
          },
          explicitFormat: {
            type: 'boolean',
            nullable: true,
            default: true,
            description: '<Meta><Format> on every Item with Data, chr included',
          },
          largeObjects: {
            type: 'boolean',
            nullable: true,
            default: true,
            description: 'false: a value too large for one message fails (406) instead of going in chunks',
          },
          maxMsgSize: {
            type: 'integer',
            minimum: 1024,
            maximum: 1048576,
            nullable: true,
            description: "the server's own cap on the device's MaxMsgSize",
          },
        },
      },
      SessionProfile: {
        type: 'object',
        properties: {
          commandsPerMessage: { type: 'integer', nullable: true },
          explicitFormat: { type: 'boolean' },
          largeObjects: { type: 'boolean' },
          maxMsgSize: { type: 'integer', nullable: true },
          effectiveCommandsPerMessage: {
            type: 'integer',
            nullable: true,
            description: 'learned: halved each time the device dropped a session with commands unanswered',
          },
          deviceLrgObj: { type: 'boolean', nullable: true, description: 'learned: DevDetail/LrgObj as the device reported it' },
        },
      },
      DevicePatch: {
        type: 'object',
        minProperties: 1,
        properties: {
          name: { type: 'string' },
          password: { type: 'string' },
          scheme: { type: 'string', enum: ['basic', 'md5', 'hmac'] },
          serverName: { type: 'string', nullable: true },
          serverPassword: { type: 'string', nullable: true },
          notifyAddress: { type: 'string', nullable: true },
          serverNonce: {
            type: 'string',
            format: 'byte',
            nullable: true,
            description: 'base64 ("" = the empty nonce); null: forget it (the resync nonce)',
          },
          sessionProfile: { $ref: '#/components/schemas/SessionProfileInput' },
        },
      },
      Device: {
        type: 'object',
        properties: {
          deviceId: { type: 'string' },
          scheme: { type: 'string' },
          name: { type: 'string' },
          serverName: { type: 'string', nullable: true },
          notifyAddress: { type: 'string', nullable: true },
          devInfo: { type: 'object', additionalProperties: { type: 'string' } },
          sessionProfile: { $ref: '#/components/schemas/SessionProfile' },
          createdAt: { type: 'string', format: 'date-time' },
          lastSeen: { type: 'string', format: 'date-time', nullable: true },
          authFailures: {
            type: 'integer',
            description: 'GET /api/devices/{id} only: wrong DM credentials for the device, from any address, in the last 15 minutes',
          },
          authLockedUntil: {
            type: 'string',
            format: 'date-time',
            nullable: true,
            description:
              'GET /api/devices/{id} only: until when the DM server refuses the device (HTTP 429) from the address that failed; null: not locked',
          },
          notifyProblem: {
            type: 'string',
            nullable: true,
            description:
              'GET /api/devices/{id} only: the device let Package#0 go unanswered, one keyed with the resynchronisation nonce included (docs/notification.md); null once it opens a session',
          },
        },
      },
      DevicePage: {
        type: 'object',
        properties: {
          items: { type: 'array', items: { $ref: '#/components/schemas/Device' } },
          limit: { type: 'integer' },
          offset: { type: 'integer' },
        },
      },
      NewOperation: {
        type: 'object',
        required: ['kind', 'path'],
        properties: {
          kind: { type: 'string', enum: ['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Copy'] },
          path: { type: 'string', example: './DevInfo/Mod' },
          value: { type: 'string', description: 'base64 when format is b64 or bin' },
          format: { type: 'string', enum: ['b64', 'bin', 'bool', 'chr', 'int', 'node', 'null', 'xml', 'date', 'time', 'float'] },
          type: { type: 'string', description: 'MIME type of the value' },
          source: { type: 'string', description: 'Copy: the URI copied from' },
          correlator: { type: 'string', description: 'Exec: echoed by the Generic Alert that reports the result' },
          retry: {
            type: 'string',
            enum: ['never', 'always'],
            default: 'never',
            description:
              'when it was sent and no status came back (the session broke): Get, Replace and Delete are sent again anyway; an Add, Exec or Copy is in doubt unless "always"',
          },
        },
      },
      Operation: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          deviceId: { type: 'string' },
          kind: { type: 'string' },
          path: { type: 'string' },
          retry: { type: 'string', enum: ['never', 'always'] },
          state: {
            type: 'string',
            enum: ['queued', 'sent', 'done', 'failed', 'accepted', 'indoubt'],
            description: 'indoubt: sent, no status came back, not sent again (the note says when and why); POST …/resolve decides it',
          },
          status: { type: 'integer', nullable: true, description: "the device's DM status code" },
          note: {
            type: 'string',
            nullable: true,
            description:
              "why it failed, or why it is queued again (the device refused the server's credentials, dropped the session, does not do large objects)",
          },
          results: {
            type: 'array',
            items: {
              type: 'object',
              properties: { path: { type: 'string' }, format: { type: 'string' }, type: { type: 'string', nullable: true }, value: {} },
            },
          },
          createdAt: { type: 'string', format: 'date-time' },
          updatedAt: { type: 'string', format: 'date-time' },
        },
      },
      OperationPage: {
        type: 'object',
        properties: {
          items: { type: 'array', items: { $ref: '#/components/schemas/Operation' } },
          limit: { type: 'integer' },
          offset: { type: 'integer' },
        },
      },
      NewFanout: {
        type: 'object',
        required: ['commands'],
        properties: {
          name: { type: 'string' },
          devices: { type: 'array', items: { type: 'string' } },
          groups: { type: 'array', items: { type: 'string' } },
          commands: { type: 'array', items: { $ref: '#/components/schemas/NewOperation' } },
          timeout: { type: 'integer', description: 'seconds per device' },
          retries: { type: 'integer' },
          concurrency: { type: 'integer' },
        },
      },
      TracedSession: {
        type: 'object',
        required: ['id', 'deviceId', 'startedAt', 'messages'],
        properties: {
          id: { type: 'string' },
          deviceId: { type: 'string' },
          dmSessionId: { type: 'string' },
          startedAt: { type: 'string', format: 'date-time' },
          endedAt: { type: 'string', format: 'date-time', nullable: true },
          outcome: {
            type: 'string',
            nullable: true,
            description: 'done, auth-failed, aborted, timeout, refused (HTTP n); null while open',
          },
          messages: { type: 'integer' },
          bytes: { type: 'integer' },
          dropped: { type: 'integer', description: 'messages not kept: over the per-session byte cap' },
        },
      },
      SessionTrace: {
        type: 'object',
        required: ['id', 'deviceId', 'trace'],
        properties: {
          id: { type: 'string' },
          deviceId: { type: 'string' },
          dmSessionId: { type: 'string' },
          startedAt: { type: 'string', format: 'date-time' },
          endedAt: { type: 'string', format: 'date-time', nullable: true },
          outcome: { type: 'string', nullable: true },
          messages: { type: 'integer' },
          bytes: { type: 'integer' },
          dropped: { type: 'integer' },
          trace: {
            type: 'array',
            items: {
              type: 'object',
              required: ['n', 'direction', 'encoding', 'bytes', 'xml'],
              properties: {
                n: { type: 'integer' },
                direction: { type: 'string', enum: ['in', 'out'] },
                encoding: { type: 'string', enum: ['xml', 'wbxml', 'http'] },
                bytes: { type: 'integer', description: 'size on the wire' },
                at: { type: 'string', format: 'date-time' },
                httpStatus: { type: 'integer' },
                xml: { type: 'string' },
              },
            },
          },
        },
      },
      DeviceCounts: {
        type: 'object',
        required: ['total', 'attached', 'detached', 'byMode', 'byProtocol'],
        properties: {
          total: { type: 'integer' },
          attached: { type: 'integer' },
          detached: { type: 'integer' },
          byMode: { type: 'object', additionalProperties: { type: 'integer' }, description: 'transparent, proxy, adaptation' },
          byProtocol: { type: 'object', additionalProperties: { type: 'integer' }, description: 'e.g. OMA-DM/1.2, LwM2M/1.1' },
        },
      },
      Overview: {
        type: 'object',
        required: ['at', 'checkInSeconds', 'devices', 'gateways', 'missedCheckIn', 'unanswered', 'fanoutsRunning'],
        properties: {
          at: { type: 'string', format: 'date-time' },
          checkInSeconds: { type: 'integer' },
          devices: { $ref: '#/components/schemas/DeviceCounts', description: 'all gateways that answered, added up' },
          gateways: {
            type: 'array',
            items: {
              type: 'object',
              required: ['deviceId', 'lastSeen', 'missedCheckIn', 'devices', 'devicesAt', 'fanouts'],
              properties: {
                deviceId: { type: 'string' },
                lastSeen: { type: 'string', format: 'date-time', nullable: true },
                missedCheckIn: { type: 'boolean' },
                devices: {
                  $ref: '#/components/schemas/DeviceCounts',
                  nullable: true,
                  description: 'null until the gateway answers a Summary read',
                },
                devicesAt: { type: 'string', format: 'date-time', nullable: true, description: 'when the counts were read' },
                fanouts: {
                  type: 'array',
                  items: { type: 'object', properties: { name: { type: 'string' }, since: { type: 'string', format: 'date-time' } } },
                  description: 'started and not reported finished',
                },
              },
            },
          },
          missedCheckIn: { type: 'array', items: { type: 'string' } },
          unanswered: { type: 'array', items: { type: 'string' }, description: 'gateways with no counts yet' },
          fanoutsRunning: { type: 'integer' },
        },
      },
      Alert: {
        type: 'object',
        required: ['id', 'deviceId', 'code', 'receivedAt', 'items'],
        properties: {
          id: { type: 'string' },
          deviceId: { type: 'string' },
          code: { type: 'integer', description: '1226 Generic Alert; 1201, 1200 … session alerts' },
          correlator: { type: 'string', nullable: true },
          type: { type: 'string', nullable: true, description: "the first item's Type" },
          receivedAt: { type: 'string', format: 'date-time' },
          items: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                source: { type: 'string', nullable: true },
                target: { type: 'string', nullable: true },
                type: { type: 'string', nullable: true },
                format: { type: 'string', description: 'chr when the device sent none' },
                mark: { type: 'string', nullable: true },
                data: { nullable: true, description: 'text (chr, xml, int…), or {base64, format} for bin and b64' },
              },
            },
          },
        },
      },
      AlertPage: {
        type: 'object',
        required: ['items', 'next'],
        properties: {
          items: { type: 'array', items: { $ref: '#/components/schemas/Alert' } },
          limit: { type: 'integer' },
          offset: { type: 'integer' },
          next: { type: 'string', nullable: true, description: 'pass as `before` for the next page; null on the last' },
        },
      },
      Notification: {
        type: 'object',
        properties: { sessionId: { type: 'integer' }, bytes: { type: 'integer' }, address: { type: 'string' } },
      },
    },
  },
} as const;

const unauthenticated = { description: 'no credentials, or a token unknown, expired or revoked', content: json('Error') };
const forbidden = {
  description: 'the role is too low (the message names the role needed), or a cookie change from another origin',
  content: json('Error'),
};

/** the document, with 401 and 403 on every operation that needs credentials */
export const openApiDocument: typeof document = {
  ...document,
  paths: Object.fromEntries(
    Object.entries(document.paths).map(([path, ops]) => [
      path,
      Object.fromEntries(
        Object.entries(ops).map(([m, op]) => [
          m,
          'security' in op ? op : { ...op, responses: { ...op.responses, 401: unauthenticated, 403: forbidden } },
        ]),
      ),
    ]),
  ) as typeof document.paths,
};
