// The conformance kit against the io_uring loop, on the arm64 VM, from the packed packages.
import { runConformance } from '@iolease/conformance';
import { createEventLoop } from '@iolease/reference-uring';

runConformance({
  name: 'io_uring on arm64',
  capabilities: { reusePort: true, ipv6: true, unixSockets: true },
  createLoop: (options) => createEventLoop(options),
  inChildProcess: {
    import: "import { createEventLoop } from '@iolease/reference-uring';",
    create: 'createEventLoop()',
  },
});
