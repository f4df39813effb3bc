import type { PoolStatistics, SizeClassStatistics } from '@iolease/interfaces';

/**
 * Pool statistics (POOL-5) from per-class figures: the totals are sums over the classes.
 *
 * @param classes - each class's statistics and the bytes its leases hold
 * @since 0.1.0
 */
export function poolStatistics(classes: readonly (SizeClassStatistics & { bytesLeased: number })[]): PoolStatistics {
  let leasesOut = 0;
  let bytesLeased = 0;
  let capacityBytes = 0;
  let pressureEvents = 0;
  for (const c of classes) {
    leasesOut += c.leased;
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
