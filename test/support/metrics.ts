// Scraping a /metrics endpoint over HTTP and reading one series from the Prometheus text format.

export type Series = (name: string, labels?: Record<string, string>) => number | undefined;

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Series> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status}: ${await res.text()}`);
  const lines = (await res.text()).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  return (name, labels = {}) => {
    const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of lines) {
      const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const have = (m[2] ?? '').split(',');
      if (want.every((w) => have.includes(w))) return Number(m[3]);
    }
    return undefined;
  };
}
