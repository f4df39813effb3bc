// The sidebar of /docs: the site's own pages, then the API reference TypeDoc generates (one
// section per package). The spec and the guides have their own routes (/spec, /guides).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const generated = './content/api/typedoc-sidebar.cjs';
const api = existsSync(new URL(generated, import.meta.url)) ? require(generated) : [];

export default {
  docs: [
    'quick-start',
    'concepts',
    { type: 'link', label: 'Guides', href: '/guides/writing-a-backend' },
    { type: 'link', label: 'Specification', href: '/spec/' },
    'generated/benchmarks',
    'generated/changelog',
    { type: 'category', label: 'API reference', link: { type: 'doc', id: 'api/index' }, items: api },
  ],
};
