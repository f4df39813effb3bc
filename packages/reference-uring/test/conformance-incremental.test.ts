import { fileURLToPath } from 'node:url';
import { runConformance } from '@iolease/conformance';
import { createEventLoop } from '../src/index.ts';

// The kit once more, with incremental buffer consumption (IOU_PBUF_RING_INC): every read a piece
// of a buffer that others' reads share, each lease with an ArrayBuffer of its own (LEASE-11).
// On a kernel before 6.12 the loop falls back to whole buffers and this is the plain run again.
// Zero copy from 4 KiB up, as in the plain run: pieces of a buffer sent while the kernel fills
// the rest of it.
const options = { incrementalBuffers: true, zeroCopyThreshold: 4096 };
const probe = createEventLoop(options);
const kernelHasThem = probe.features.incrementalBuffers;
await probe.close();

runConformance({
  name: 'io_uring, incremental buffers',
  capabilities: { zeroCopySend: true, reusePort: true, ipv6: true, unixSockets: true },
  // What the kernel gave: on one before 6.12 the loops fill whole buffers after all.
  incrementalBuffers: kernelHasThem,
  createLoop: (given) =>
    createEventLoop(
      given === undefined || (typeof given === 'object' && given !== null) ? { ...options, ...given } : given,
    ),
  inChildProcess: {
    import: `import { createEventLoop } from ${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))};`,
    create: `createEventLoop(${JSON.stringify(options)})`,
  },
});
