// docs/gwmo-mo.md and docs/gwmo-ddf.xml, rendered from GWMO_SCHEMA (npm run gen:docs).
import { GWMO_SCHEMA, type NodeSpec } from './schema.ts';

const ACCESS: Record<string, string> = { G: 'Get', A: 'Add', R: 'Replace', D: 'Delete', E: 'Exec' };
const OCC: Record<string, string> = { '1': 'One', '?': 'ZeroOrOne', '*': 'ZeroOrMore', '+': 'OneOrMore' };
const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderMarkdown(): string {
  let out =
    "# The GwMO objects in the gateway's tree\n\n" +
    'Generated from `src/gateway/mo/schema.ts` by `npm run gen:docs`; do not edit by hand (a test compares).\n' +
    'Paths are below `./GwMO`; `<x>` is a name chosen at run time. Access: G Get, A Add, R Replace, D Delete,\n' +
    'E Exec. Occurrence: 1 one, ? zero or one, * zero or more. The DDF is `docs/gwmo-ddf.xml`.\n' +
    "The node layout is gwmo's (the GwMO TS text was not available); MO names, URNs and alert types are the registered ones.\n";
  let mo = '';
  for (const s of GWMO_SCHEMA) {
    const top = s.path.split('/')[0]!;
    if (top !== mo) {
      mo = top;
      out += `\n## ./GwMO/${top}${s.type ? ` — \`${s.type}\`` : ''}\n\n| path | format | access | occ | meaning |\n|---|---|---|---|---|\n`;
    }
    out += `| \`${s.path}\` | ${s.format} | ${s.access} | ${s.occurrence} | ${s.description.replace(/\|/g, '\\|')} |\n`;
  }
  return (
    out +
    '\n## Alerts (Generic Alert 1226, to the server)\n\n' +
    '| type | Source | Format | Data |\n|---|---|---|---|\n' +
    '| `urn:oma:at:oma-gwmo:deviceattached:1.1` | `./GwMO/DevInventory/Devices/<x>` | xml | `<Device DeviceID="…" Man="…" Mod="…" DevTyp="…" FwV="…" Protocol="…" Mode="2"/>` |\n' +
    '| `urn:oma:at:oma-gwmo:devicedetached:1.0` | `./GwMO/DevInventory/Devices/<x>` | chr | the DeviceID |\n' +
    '| `urn:oma:at:oma-gwmo:completionstatus:1.0` | `./GwMO/Fanout/<x>` | int | the job State; Mark informational when every device succeeded, warning otherwise; Correlator of the Start Exec |\n' +
    '| `urn:oma:at:oma-gwmo:imageready:1.0` | `./GwMO/Images/<x>/Operations/Download` | chr | LocalURL (Mark informational); on failure an error text (Mark critical); with storage off the server URL devices will use (Mark warning); Correlator of the Download Exec |\n' +
    '| `urn:x-gwmo:at:bootstrap:1.0` (private) | `./GwMO/DevInventory/Devices/<x>/Bootstrap/Operations/Start` | int | the DM status of writing the account (200 = done); Correlator of the Start Exec |\n' +
    '| `urn:oma:at:oma-gwmo:resultaggregation:1.0` | `./GwMO/Fanout/<x>` | xml | `<Aggregate total="n"><Status code="200" count="…"/><Status code="408" count="…"><Device>…</Device></Status><InDoubt count="…"><Device>…</Device></InDoubt></Aggregate>` (InDoubt only when some are); same Correlator |\n'
  );
}

function ddfNode(s: NodeSpec, children: string): string {
  const name = s.path.split('/').pop()!;
  const access = [...s.access].map((a) => `<${ACCESS[a]}/>`).join('');
  const dfType = s.format === 'node' ? (s.type ? `<DDFName>${s.type}</DDFName>` : '<DDFName/>') : '<MIME>text/plain</MIME>';
  return (
    `<Node><NodeName>${name === '<x>' ? '' : esc(name)}</NodeName><DFProperties><AccessType>${access}</AccessType>` +
    `<Description>${esc(s.description)}</Description><DFFormat><${s.format}/></DFFormat><Occurrence><${OCC[s.occurrence]}/></Occurrence>` +
    `<DFType>${dfType}</DFType></DFProperties>${children}</Node>`
  );
}

export function renderDdf(): string {
  const render = (prefix: string): string =>
    GWMO_SCHEMA.filter((s) => s.path.startsWith(prefix) && !s.path.slice(prefix.length).includes('/'))
      .map((s) => ddfNode(s, render(`${s.path}/`)))
      .join('\n');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<!-- Generated from src/gateway/mo/schema.ts by npm run gen:docs. -->\n' +
    '<MgmtTree xmlns="syncml:dmddf1.2"><VerDTD>1.2</VerDTD><Man>gwmo</Man><Mod>gwmo-gateway</Mod>\n' +
    '<Node><NodeName>GwMO</NodeName><Path>.</Path><DFProperties><AccessType><Get/></AccessType><DFFormat><node/></DFFormat><Occurrence><One/></Occurrence><DFType><DDFName/></DFType></DFProperties>\n' +
    `${render('')}\n</Node>\n</MgmtTree>\n`
  );
}
