import { runConformance } from '@iolease/conformance';
import { NetEventLoop } from '../src/index.ts';

runConformance({
  name: 'node:net',
  capabilities: { poison: true, reusePort: true, ipv6: true },
  createLoop: (options) => new NetEventLoop(options),
  poolMemory: (loop, classIndex) => (loop as NetEventLoop).pool.memoryOf(classIndex),
});
