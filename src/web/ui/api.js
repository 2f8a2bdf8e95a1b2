// The REST API, with the login cookie (same origin). Errors carry the API's {error} message.

export class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export async function api(method, path, body, headers = {}) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json', ...headers } };
  if (body !== undefined) {
    if (body instanceof Blob || body instanceof ArrayBuffer) init.body = body;
    else {
      init.body = JSON.stringify(body);
      init.headers['content-type'] = 'application/json';
    }
  }
  const res = await fetch(path, init);
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.status === 401 && path !== '/api/login') window.dispatchEvent(new Event('gwmo:logged-out'));
  if (!res.ok) throw new ApiFailure(res.status, json?.error ?? `${method} ${path}: HTTP ${res.status}`);
  return json;
}

/** an operation behind a gateway may answer 202 (the gateway has not answered yet): ask again until it has */
export async function settled(path, tries = 6) {
  for (let i = 0; i < tries; i++) {
    const r = await api('GET', `${path}${path.includes('?') ? '&' : '?'}wait=20`);
    if (!r?.pending) return r;
  }
  throw new ApiFailure(504, 'the gateway has not answered; try again later');
}
