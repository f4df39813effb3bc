/**
 * `@iolease/conformance`: the iolease specification's behaviour tests, runnable against any
 * backend. Call {@link runConformance} from a Vitest test file.
 *
 * @packageDocumentation
 */
import { validateInteger } from '@iolease/interfaces';
import { describe } from 'vitest';
import { type BackendUnderTest, makeKit } from './kit.js';
import { adversarialSuite } from './suites/adversarial.js';
import { contractSuite } from './suites/contract.js';
import { echoSuite } from './suites/echo.js';
import { leaseSuite } from './suites/lease.js';
import { lifecycleSuite } from './suites/lifecycle.js';
import { pressureSuite } from './suites/pressure.js';
import { processSuite } from './suites/process.js';
import { readInterestSuite } from './suites/read-interest.js';
import { sizerSuite } from './suites/sizer.js';
import { stressSuite } from './suites/stress.js';
import { unixSuite } from './suites/unix.js';
import { workersSuite } from './suites/workers.js';
import { writeMemorySuite } from './suites/write-memory.js';
import { writesSuite } from './suites/writes.js';

export * from './helpers.js';
export { type BackendUnderTest, CAPABILITIES, type Capabilities, type Kit } from './kit.js';

/** How long one kit test may run unless the backend says otherwise (`testTimeoutMs`). */
const KIT_TEST_TIMEOUT_MS = 120_000;

/**
 * Registers every conformance suite for `backend` with Vitest, under a `describe` naming it.
 * Each test's title starts with the requirement IDs it checks. The kit sets its tests' time
 * limit itself (`testTimeoutMs`, 120 s by default, far above what a passing test takes): each
 * of its waits has a watchdog of its own that fails first, naming the rule and the stuck state.
 *
 * @example
 * ```ts
 * // test/conformance.test.ts of a backend package
 * import { runConformance } from '@iolease/conformance';
 * import { createEventLoop } from '../src/index.ts';
 *
 * runConformance({ name: 'my-backend', createLoop: (options) => createEventLoop(options) });
 * ```
 * @since 0.1.0
 */
export function runConformance(backend: BackendUnderTest): void {
  const kit = makeKit(backend);
  // The kit's own time limit, whatever the host's `testTimeout`: longer than any test's watchdogs
  // and the loop's close after them, so a stuck backend fails with the rule and the state those
  // name, never on the runner's bare timeout.
  const timeout =
    backend.testTimeoutMs === undefined
      ? KIT_TEST_TIMEOUT_MS
      : validateInteger('backend.testTimeoutMs', backend.testTimeoutMs, 1, 2 ** 31 - 1);
  describe(`conformance: ${backend.name}`, { timeout }, () => {
    contractSuite(kit);
    echoSuite(kit);
    leaseSuite(kit);
    pressureSuite(kit);
    writesSuite(kit);
    writeMemorySuite(kit);
    readInterestSuite(kit);
    sizerSuite(kit);
    lifecycleSuite(kit);
    processSuite(kit);
    stressSuite(kit);
    adversarialSuite(kit);
    unixSuite(kit);
    workersSuite(kit);
  });
}
