import { fileURLToPath } from 'node:url';
import { runConformance } from '@iolease/conformance';
import { NetEventLoop } from '../src/index.ts';

runConformance({
  name: 'node:net',
  capabilities: { reusePort: true, ipv6: true, unixSockets: true },
  createLoop: (options) => new NetEventLoop(options),
  inChildProcess: {
    import: `import { NetEventLoop } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};`,
    create: 'new NetEventLoop()',
  },
});
