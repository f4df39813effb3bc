import { fileURLToPath } from 'node:url';
import { runConformance } from '@iolease/conformance';
import { MinimalEventLoop } from '../src/loop.ts';

runConformance({
  name: 'minimal',
  createLoop: (options) => new MinimalEventLoop(options),
  // reusePort, IPv6 and Unix sockets are not offered: their tests are reported as skipped (CONF-2).
  capabilities: {},
  inChildProcess: {
    // Node runs the TypeScript source itself (type stripping), so nothing needs building first.
    import: `import { MinimalEventLoop } from ${JSON.stringify(fileURLToPath(new URL('../src/loop.ts', import.meta.url)))};`,
    create: 'new MinimalEventLoop()',
  },
});
