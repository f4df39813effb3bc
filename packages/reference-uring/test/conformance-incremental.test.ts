import { fileURLToPath } from 'node:url';
import { runConformance } from '@iolease/conformance';
import { createEventLoop } from '../src/index.ts';

// The kit once more, with incremental buffer consumption (IOU_PBUF_RING_INC): every read a piece
// of a buffer that others' reads share, each lease with an ArrayBuffer of its own (LEASE-11).
// On a kernel before 6.12 the loop falls back to whole buffers and this is the plain run again.
runConformance({
  name: 'io_uring, incremental buffers',
  capabilities: { zeroCopySend: false, reusePort: true, ipv6: true, unixSockets: true },
  incrementalBuffers: true,
  createLoop: (options) =>
    createEventLoop(
      options === undefined || (typeof options === 'object' && options !== null)
        ? { incrementalBuffers: true, ...options }
        : options,
    ),
  inChildProcess: {
    import: `import { createEventLoop } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};`,
    create: 'createEventLoop({ incrementalBuffers: true })',
  },
});
