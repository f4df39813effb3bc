import { describe, expect, it } from 'vitest';
import { checkCitations, parseSpec } from './spec-ids.mjs';

const spec = (text, file = 'spec/05-leases.md') => parseSpec([{ file, text }]);

describe('the requirement ID checker', () => {
  it('reads IDs with multi-line text', () => {
    const { requirements, problems } = spec('- **LEASE-1** A lease MUST\n  hold bytes.\n- **LEASE-2** It MAY go.\n');
    expect(problems).toEqual([]);
    expect(requirements.map((r) => [r.id, r.line, r.text])).toEqual([
      ['LEASE-1', 1, 'A lease MUST hold bytes.'],
      ['LEASE-2', 3, 'It MAY go.'],
    ]);
  });

  it.each(['LEASE-01', 'Lease-1', 'LEASE1', 'LEASE-1a', 'L-1', 'LEASE-0'])('rejects the malformed ID %s', (id) => {
    const { problems } = spec(`- **${id}** It MUST be well formed.\n`);
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toContain('malformed');
  });

  it('rejects duplicates across files', () => {
    const { problems } = parseSpec([
      { file: 'a.md', text: '- **LEASE-1** It MUST.\n' },
      { file: 'b.md', text: '- **LEASE-1** It MUST too.\n' },
    ]);
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('duplicate requirement ID LEASE-1')]);
  });

  it('rejects a requirement without an RFC 2119 keyword', () => {
    expect(spec('- **LEASE-1** Leases are nice.\n').problems[0].message).toContain('no RFC 2119 keyword');
  });

  it('rejects a normative sentence without an ID, except in informative files, quotes and fences', () => {
    expect(spec('Backends MUST do this.\n').problems[0].message).toContain('outside a requirement');
    expect(spec('<!-- informative -->\nBackends MUST do this.\n').problems).toEqual([]);
    expect(spec('> Note: it MUST.\n\n```\nMUST\n```\n').problems).toEqual([]);
  });

  it('rejects two areas in one file', () => {
    expect(spec('- **LEASE-1** It MUST.\n- **POOL-1** It MUST.\n').problems[0].message).toContain('one area per file');
  });

  it('finds citations of IDs that do not exist, in known areas only', () => {
    const { requirements } = spec('- **LEASE-1** It MUST.\n');
    const problems = checkCitations(requirements, [
      { file: 'x.ts', text: '// LEASE-1 ok, LEASE-9 dangling, UTF-8 and SHA-256 ignored' },
    ]);
    expect(problems).toEqual([{ file: 'x.ts', line: 1, message: 'cites LEASE-9, which the spec does not define' }]);
  });
});
