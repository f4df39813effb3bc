import { describe, expect, it } from 'vitest';
import { citingTitles, coverage, untestableList } from './coverage.mjs';

describe('spec coverage', () => {
  it('CONF-3 finds the IDs a test title opens with, in any quote style, and only in test titles', () => {
    const text = [
      "it('LEASE-3 LEASE-4 a second release throws', () => {});",
      'it.skipIf(x)("DIAG-3 poison mode", () => {});',
      'it(`POOL-1 every lease`, () => {});',
      'it("LEASE-11 a lease\'s own memory", () => {});',
      "const note = 'not a title LEASE-9';",
      "it.each([['a', (1)], ['b', 2]])('SIZER-3 a table %s', () => {});",
      "const cases = [{ name: 'SIZER-6 a case of a table' }];",
      "await watchdog(done, 5000, 'LOOP-2 a watchdog label');",
      "expect(call, 'LIFE-19 an assertion message').not.toThrow();",
      "const labels = { rule: 'POOL-5 a property that is no test name' };",
      "assert('WRITE-3 a helper that is no test', () => {});",
    ].join('\n');
    expect(citingTitles({ file: 'a.test.ts', text })).toEqual([
      { file: 'a.test.ts', title: 'LEASE-3 LEASE-4 a second release throws', ids: ['LEASE-3', 'LEASE-4'] },
      { file: 'a.test.ts', title: 'DIAG-3 poison mode', ids: ['DIAG-3'] },
      { file: 'a.test.ts', title: 'POOL-1 every lease', ids: ['POOL-1'] },
      { file: 'a.test.ts', title: "LEASE-11 a lease's own memory", ids: ['LEASE-11'] },
      { file: 'a.test.ts', title: 'SIZER-3 a table %s', ids: ['SIZER-3'] },
      { file: 'a.test.ts', title: 'SIZER-6 a case of a table', ids: ['SIZER-6'] },
    ]);
  });

  it('CONF-3 reads the untestable list only under its heading', () => {
    const text = [
      '# 13. Conformance',
      '- `LOOP-1`: not in the list',
      '## Not testable by a black-box test',
      '- `LOOP-7`: threads cannot',
      '  share a loop',
      '## Later',
      '- `ERR-5`: outside again',
    ].join('\n');
    expect([...untestableList(text)]).toEqual([['LOOP-7', 'threads cannot share a loop']]);
  });

  it('CONF-3 fails an uncited requirement, a citation of an unknown ID and an unknown untestable entry', () => {
    const titles = [{ file: 't', title: 'A-1 x', ids: ['A-1', 'Z-9'] }];
    const { rows, problems } = coverage(
      ['A-1', 'A-2', 'A-3'],
      titles,
      new Map([
        ['A-3', 'why'],
        ['Q-1', 'why'],
      ]),
    );
    expect(rows).toEqual([
      { id: 'A-1', tests: ['t: A-1 x'], untestable: undefined },
      { id: 'A-2', tests: [], untestable: undefined },
      { id: 'A-3', tests: [], untestable: 'why' },
    ]);
    expect(problems).toEqual([
      'A-2 is cited by no test and not listed as untestable in spec/13-conformance.md',
      't: test "A-1 x" cites unknown Z-9',
      'untestable list names unknown Q-1',
    ]);
  });
});
