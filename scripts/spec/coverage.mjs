// Requirement coverage (spec §13, CONF-3): every requirement ID must be cited by a test title or
// be listed in spec/13-conformance.md as not testable by a black-box test, with a reason.
// Pure functions over file contents, so the rules themselves are testable.

/**
 * A test title: a quoted string opening with one or more requirement IDs, e.g. 'LEASE-3 LEASE-4 …'.
 * Other quote characters may appear inside ("LEASE-11 a lease's …").
 */
const TITLE = /(['"`])((?:[A-Z]{2,8}-[1-9][0-9]* )+)((?:(?!\1)[^\n])*)\1/g;
/** An entry of the untestable list: "- `ID`: reason". */
const UNTESTABLE = /^\s*-\s+`([A-Z]{2,8}-[1-9][0-9]*)`:\s*(\S.*)$/;
const UNTESTABLE_HEADING = /^#+\s+Not testable by a black-box test\s*$/;

/**
 * The test titles of a file with the IDs each cites.
 *
 * @param {{ file: string, text: string }} source
 * @returns {{ file: string, title: string, ids: string[] }[]}
 */
export function citingTitles({ file, text }) {
  const out = [];
  for (const m of text.matchAll(TITLE)) {
    const ids = m[2].trim().split(/\s+/);
    out.push({ file, title: `${m[2]}${m[3]}`.trim(), ids });
  }
  return out;
}

/**
 * The untestable list of the conformance section: ID → reason.
 *
 * @param {string} text - spec/13-conformance.md
 * @returns {Map<string, string>}
 */
export function untestableList(text) {
  const out = new Map();
  let inList = false;
  let current;
  for (const line of text.split('\n')) {
    if (/^#+\s/.test(line)) inList = UNTESTABLE_HEADING.test(line);
    if (!inList) continue;
    const m = UNTESTABLE.exec(line);
    if (m) {
      current = m[1];
      out.set(current, m[2]);
    } else if (current !== undefined && /^\s+\S/.test(line)) {
      out.set(current, `${out.get(current)} ${line.trim()}`); // a reason wrapped over lines
    } else {
      current = undefined;
    }
  }
  return out;
}

/**
 * Joins requirements, test titles and the untestable list.
 *
 * @param {string[]} ids - every requirement ID of the spec
 * @param {{ file: string, title: string, ids: string[] }[]} titles
 * @param {Map<string, string>} untestable
 */
export function coverage(ids, titles, untestable) {
  const known = new Set(ids);
  const rows = ids.map((id) => ({
    id,
    tests: titles.filter((t) => t.ids.includes(id)).map((t) => `${t.file}: ${t.title}`),
    untestable: untestable.get(id),
  }));
  const problems = [];
  for (const row of rows) {
    if (row.tests.length === 0 && row.untestable === undefined) {
      problems.push(`${row.id} is cited by no test and not listed as untestable in spec/13-conformance.md`);
    }
  }
  for (const t of titles) {
    for (const id of t.ids) if (!known.has(id)) problems.push(`${t.file}: test "${t.title}" cites unknown ${id}`);
  }
  for (const id of untestable.keys()) if (!known.has(id)) problems.push(`untestable list names unknown ${id}`);
  return { rows, problems };
}
