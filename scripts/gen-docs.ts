// npm run gen:docs: writes the docs generated from code (the GwMO node tables and DDF).
import { writeFileSync } from 'node:fs';

import { renderDdf, renderMarkdown } from '../src/gateway/mo/docs.ts';

writeFileSync(new URL('../docs/gwmo-mo.md', import.meta.url), renderMarkdown());
writeFileSync(new URL('../docs/gwmo-ddf.xml', import.meta.url), renderDdf());
console.log('wrote docs/gwmo-mo.md and docs/gwmo-ddf.xml');
