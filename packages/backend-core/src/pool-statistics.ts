import type { PoolStatistics, SizeClassStatistics } from '@iolease/interfaces';

/**
 * Pool statistics (POOL-5) from per-class figures: the totals are sums over the classes.
 *
 * @param classes - each class's statistics, the bytes its leases hold and, where buffers hold
 *   several leases (incremental buffers), how many leases are out
 * @since 0.1.0
 */
export function poolStatistics(
  classes: readonly (SizeClassStatistics & { bytesLeased: number; leases?: number })[],
): PoolStatistics {
  let leasesOut = 0;
  let bytesLeased = 0;
  let capacityBytes = 0;
  let pressureEvents = 0;
  for (const c of classes) {
    // A buffer holds one lease, or several with incremental buffers (POOL-4).
    leasesOut += c.leases ?? c.leased;
    bytesLeased += c.bytesLeased;
    capacityBytes += c.size * c.count;
    pressureEvents += c.pressureEvents;
  }
  return {
    classes: classes.map(
      ({ size, count, available, leased, held, returning, quarantined, pressureEvents: p, underPressure }) => ({
        size,
        count,
        available,
        leased,
        held,
        returning,
        quarantined,
        pressureEvents: p,
        underPressure,
      }),
    ),
    leasesOut,
    bytesLeased,
    capacityBytes,
    pressureEvents,
  };
}
