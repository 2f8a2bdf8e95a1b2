// A device's state as the device lists show it: while it downloads, how far it has got
// ("downloading 3.1 / 8.0 MB", from the bytes the gateway served it; docs/updates.md).
const MB = 1_000_000;

export function stateText(r) {
  if (r.state !== 'downloading' || !(r.size > 0)) return r.state;
  return `downloading ${((r.bytes ?? 0) / MB).toFixed(1)} / ${(r.size / MB).toFixed(1)} MB`;
}
