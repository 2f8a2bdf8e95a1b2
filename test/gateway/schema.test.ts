// The GwMO node table is the truth: the generated docs equal it, and every node a live gateway
// shows (device, group, finished job included) is in it with the same Format.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { renderDdf, renderMarkdown } from '../../src/gateway/mo/docs.ts';
import { specOf } from '../../src/gateway/mo/schema.ts';
import { encodeFragment } from '../../src/protocol/index.ts';
import { LOCAL } from '../../src/tree/index.ts';
import { GW_ID, startDevices, startGateway, startServer } from '../support/gw-pair.ts';
import { xmlTree } from '../support/xml-tree.ts';

test('docs/gwmo-mo.md and docs/gwmo-ddf.xml are what npm run gen:docs writes; the DDF is well-formed', () => {
  assert.equal(readFileSync(new URL('../../docs/gwmo-mo.md', import.meta.url), 'utf8'), renderMarkdown(), 'run npm run gen:docs');
  const ddf = readFileSync(new URL('../../docs/gwmo-ddf.xml', import.meta.url), 'utf8');
  assert.equal(ddf, renderDdf(), 'run npm run gen:docs');
  assert.equal(xmlTree(ddf).name, 'MgmtTree');
});

test('every node of a live gateway tree is in the schema with its Format', async () => {
  const srv = await startServer();
  const gw = await startGateway(srv.url);
  const [device] = await startDevices(gw.gateway.lanUrl, 1);
  try {
    const done = srv.alertOf('resultaggregation');
    for (const o of [
      { kind: 'Add' as const, path: './GwMO/DevInventory/Groups/g', format: 'node' },
      { kind: 'Add' as const, path: './GwMO/DevInventory/Groups/g/Members/a', value: 'IMEI:000000000000000' },
      { kind: 'Add' as const, path: './GwMO/Images/i1', format: 'node' },
      { kind: 'Add' as const, path: './GwMO/LwM2MCredentials/lw-1', format: 'node' },
      { kind: 'Add' as const, path: './GwMO/Fanout/j', format: 'node' },
      { kind: 'Add' as const, path: './GwMO/Fanout/j/Targets/1', value: './GwMO/DevInventory/Groups/g' },
      {
        kind: 'Add' as const,
        path: './GwMO/Fanout/j/Commands',
        format: 'xml',
        value: encodeFragment([{ kind: 'Get', cmdId: 1, items: [{ target: { locUri: './DevInfo/Mod' } }] }]),
      },
      { kind: 'Add' as const, path: './GwMO/Fanout/j/Options/Retries', value: '0', format: 'int' },
      { kind: 'Exec' as const, path: './GwMO/Fanout/j/Operations/Start' },
    ])
      await srv.server.service.queue(GW_ID, o);
    await gw.gateway.checkIn();
    await done;
    const nodes = (await gw.gateway.tree.get(LOCAL, './GwMO?list=Struct')).value!;
    assert.ok(nodes.length > 60, `${nodes.length} nodes`);
    for (const n of nodes) {
      if (n.uri === './GwMO') continue;
      const rel = n.uri.slice('./GwMO/'.length);
      const spec = specOf(rel);
      assert.ok(spec, `${rel} is not in src/gateway/mo/schema.ts`);
      assert.equal(n.format, spec.format, rel);
      if (spec.type) assert.equal(n.type, spec.type, rel);
    }
    const seen = new Set(nodes.map((n) => specOf(n.uri.slice('./GwMO/'.length))?.path));
    for (const must of [
      'Images/<x>/LocalURL',
      'Fanout/<x>/Results/<x>/Cmd/<x>/Data',
      'DevInventory/Groups/<x>/Members/<x>',
      'DevInventory/Devices/<x>/Sync/Pending',
    ]) {
      assert.ok(seen.has(must), `${must} appears`);
    }
  } finally {
    await device!.stop();
    await gw.close();
    await srv.close();
  }
});
