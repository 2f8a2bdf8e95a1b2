// ./GwMO/LwM2MCredentials (a gwmo extension, docs/lwm2m.md "Security"): the DM server adds one
// entry per LwM2M endpoint and writes its PSK or public key, its bootstrap PSK and bootstrap
// target. Keys are Replace-only: a Get of one is 405; Fingerprint says which key is held.
import { fingerprint, HEX_KEY, LWM2M_SERVER_URI, p256Spki, PSK_IDENTITY } from '../../server/lwm2m-credentials.ts';
import type { Lwm2mCredentials } from '../lwm2m-credentials.ts';
import { fromNodeName, nodeName } from '../names.ts';
import { dir, leaf, type Node, text, type Write } from './shape.ts';

export const LWM2M_CREDENTIALS_URN = 'urn:x-gwmo:mo:lwm2m-credentials:1.0';

function entryShape(endpoint: string, creds: Lwm2mCredentials): Node {
  const c = () => creds.get(endpoint)!;
  const put = (patch: Parameters<Lwm2mCredentials['update']>[1]): number => {
    const r = creds.update(endpoint, patch);
    return r === 'ok' ? 200 : r === 'taken' ? 409 : 404;
  };
  const secret = (write: (hex: string) => number): Node => ({
    kind: 'leaf',
    format: 'chr',
    writeOnly: true,
    value: () => undefined,
    replace: (w: Write) => {
      const hex = text(w).trim();
      return HEX_KEY.test(hex) ? write(hex.toLowerCase()) : 400;
    },
  });
  const identity = (write: (id: string) => number) => (w: Write) => (PSK_IDENTITY.test(text(w)) ? write(text(w)) : 400);
  const fields: [string, Node][] = [
    [
      'Identity',
      leaf(
        'chr',
        () => c().psk?.identity ?? '',
        identity((id) => put({ identity: id })),
      ),
    ],
    ['SecretKey', secret((key) => put({ key }))],
    [
      'PublicKey',
      leaf(
        'chr',
        () => c().publicKey ?? '',
        (w) => {
          const spki = p256Spki(text(w).trim());
          return spki ? put({ publicKey: spki }) : 400;
        },
      ),
    ],
    [
      'BootstrapIdentity',
      leaf(
        'chr',
        () => c().bootstrap?.identity ?? '',
        identity((id) => put({ bootstrap: { identity: id } })),
      ),
    ],
    ['BootstrapSecretKey', secret((key) => put({ bootstrap: { key } }))],
    [
      'ServerURI',
      leaf(
        'chr',
        () => c().serverUri ?? '',
        (w) => {
          const uri = text(w).trim();
          return uri === '' || LWM2M_SERVER_URI.test(uri) ? put({ serverUri: uri }) : 400;
        },
      ),
    ],
  ];
  return dir(
    () => [
      ['Endpoint', leaf('chr', () => endpoint)],
      ...fields,
      [
        'Fingerprint',
        leaf('chr', () => {
          const e = c();
          return e.psk?.key ? fingerprint(e.psk.key, 'hex') : e.publicKey ? fingerprint(e.publicKey, 'base64') : '';
        }),
      ],
      ['Rotating', leaf('bool', () => String(c().previous !== undefined))],
    ],
    {
      add: (child, w) => {
        const f = fields.find(([n]) => n === child);
        return f && f[1].kind === 'leaf' && f[1].replace ? f[1].replace(w) : 405;
      },
      remove: () => (creds.remove(endpoint) ? 200 : 404),
    },
  );
}

export function lwm2mCredentialsShape(creds: Lwm2mCredentials): Node {
  return dir(() => creds.list().map((c) => [nodeName(c.endpoint), entryShape(c.endpoint, creds)] as [string, Node]), {
    type: LWM2M_CREDENTIALS_URN,
    child: (name) => {
      const endpoint = fromNodeName(name);
      return creds.get(endpoint) ? entryShape(endpoint, creds) : undefined;
    },
    add: (name, w) => {
      if (w.format !== undefined && w.format !== 'node') return 405;
      const endpoint = fromNodeName(name);
      if (endpoint === '' || endpoint.length > 256 || /\p{Cc}/u.test(endpoint)) return 400;
      return creds.create(endpoint) ? 200 : 418;
    },
  });
}
