// The conformance kit against the io_uring loop, on the arm64 VM, from the packed packages: as
// created by default, and asked for incremental buffers, which a kernel before 6.12 does not have
// (the VM runs 6.1): that loop falls back to whole buffers and must pass all the same.
import { runConformance } from '@iolease/conformance';
import { createEventLoop } from '@iolease/reference-uring';

// What the kernel gave a loop that asked: the kit is told how the loops it tests really fill buffers.
const probe = createEventLoop({ incrementalBuffers: true });
const kernelHasThem = probe.features.incrementalBuffers;
await probe.close();

for (const incrementalBuffers of [false, true]) {
  runConformance({
    name: `io_uring on arm64${incrementalBuffers ? ', incremental buffers asked for' : ''}`,
    capabilities: { reusePort: true, ipv6: true, unixSockets: true },
    incrementalBuffers: incrementalBuffers && kernelHasThem,
    createLoop: (options) =>
      createEventLoop(
        options === undefined || (typeof options === 'object' && options !== null)
          ? { incrementalBuffers, ...options }
          : options,
      ),
    inChildProcess: {
      import: "import { createEventLoop } from '@iolease/reference-uring';",
      create: `createEventLoop({ incrementalBuffers: ${incrementalBuffers} })`,
    },
  });
}
