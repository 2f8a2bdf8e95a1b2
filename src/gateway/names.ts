// DeviceIDs (e.g. IMEI:490154203237518) as DM node names: characters a URI segment cannot carry
// are %XX-escaped, so every DeviceID has exactly one node name and back.
const SAFE = /[A-Za-z0-9\-_.!~*'():@&=+$,]/;

export function nodeName(id: string): string {
  let out = '';
  for (const ch of id) {
    if (SAFE.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out === '.' || out === '..' ? out.replace(/\./g, '%2E') : out;
}

export function fromNodeName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

/** Alert types of GwMO (registered in OMNA under urn:oma:at:oma-gwmo). */
export const GwmoAlert = {
  DeviceAttached: 'urn:oma:at:oma-gwmo:deviceattached:1.1',
  DeviceDetached: 'urn:oma:at:oma-gwmo:devicedetached:1.0',
  ResultAggregation: 'urn:oma:at:oma-gwmo:resultaggregation:1.0',
  CompletionStatus: 'urn:oma:at:oma-gwmo:completionstatus:1.0',
} as const;

export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
