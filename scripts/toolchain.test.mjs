import { describe, expect, it } from 'vitest';

describe('the toolchain the repository brings', () => {
  it("runs the tests on a supported Node (22.12+ or 24 LTS), not the machine's end-of-life Node 20", () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    expect(major > 22 || (major === 22 && minor >= 12), `node ${process.version}`).toBe(true);
  });
});
