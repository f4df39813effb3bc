import { fileURLToPath } from 'node:url';
import { runConformance } from '@iolease/conformance';
import { createEventLoop } from '../src/index.ts';

// Zero copy from 4 KiB up, so that the kit's echoes of leases of 4 KiB and more (echo, pressure,
// stress) all go through SEND_ZC and its notifications (WRITE-8).
const zeroCopyThreshold = 4096;

runConformance({
  name: 'io_uring',
  capabilities: { zeroCopySend: true, reusePort: true, ipv6: true, unixSockets: true },
  // Options that are not an object go as they are: the kit checks that they are refused.
  createLoop: (options) =>
    createEventLoop(
      options === undefined || (typeof options === 'object' && options !== null)
        ? { zeroCopyThreshold, ...options }
        : options,
    ),
  inChildProcess: {
    import: `import { createEventLoop } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};`,
    create: `createEventLoop({ zeroCopyThreshold: ${zeroCopyThreshold} })`,
  },
});
