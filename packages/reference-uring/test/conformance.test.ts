import { fileURLToPath } from 'node:url';
import { runConformance } from '@iolease/conformance';
import { createEventLoop } from '../src/index.ts';

runConformance({
  name: 'io_uring',
  capabilities: { reusePort: true, ipv6: true, unixSockets: true },
  createLoop: (options) => createEventLoop(options),
  inChildProcess: {
    import: `import { createEventLoop } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};`,
    create: 'createEventLoop()',
  },
});
