// Requirement coverage (spec §13, CONF-3): every requirement ID must be cited by a test title or
// be listed in spec/13-conformance.md as not testable by a black-box test, with a reason.
// Pure functions over file contents, so the rules themselves are testable.

/**
 * A candidate title: a quoted string opening with one or more requirement IDs, e.g.
 * 'LEASE-3 LEASE-4 …'. Other quote characters may appear inside ("LEASE-11 a lease's …"). Only a
 * candidate that is the first argument of a test call counts (see {@link isTestCall}): the same
 * shape also labels watchdogs and assertions, which cite a rule but are not tests of it.
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
    if (!isTestCall(text, m.index)) continue;
    const ids = m[2].trim().split(/\s+/);
    out.push({ file, title: `${m[2]}${m[3]}`.trim(), ids });
  }
  return out;
}

const TEST_FUNCTIONS = new Set(['it', 'test', 'describe']);
const OPEN = { ')': '(', ']': '[', '}': '{' };

/**
 * Whether the string at `at` is the first argument of `it(`, `test(` or `describe(`, also through
 * a modifier chain such as `it.skipIf(cond)(` or `it.each([…])(`, or the `name:` of a case in a
 * table that a loop turns into tests (`it(c.name, …)`). Reads backwards: an opening parenthesis,
 * then the chain's calls and names down to its root.
 *
 * @param {string} text
 * @param {number} at - index of the title's opening quote
 */
export function isTestCall(text, at) {
  let i = skipSpaceBack(text, at - 1);
  if (text[i] === ':') return /\bname\s*$/.test(text.slice(Math.max(0, i - 40), i));
  if (text[i] !== '(') return false;
  i = skipSpaceBack(text, i - 1);
  for (;;) {
    if (text[i] === ')') {
      i = skipSpaceBack(text, matchingOpen(text, i) - 1); // a modifier call: it.skipIf(…)(
      continue;
    }
    const end = i + 1;
    while (i >= 0 && /[\w$]/.test(text[i])) i--;
    const name = text.slice(i + 1, end);
    if (name === '') return false;
    const j = skipSpaceBack(text, i);
    if (text[j] !== '.') return TEST_FUNCTIONS.has(name);
    i = skipSpaceBack(text, j - 1);
  }
}

function skipSpaceBack(text, i) {
  while (i >= 0 && /\s/.test(text[i])) i--;
  return i;
}

/** The index of the bracket that opens the one closing at `close`, or -1. */
function matchingOpen(text, close) {
  const stack = [];
  for (let i = close; i >= 0; i--) {
    const c = text[i];
    if (c in OPEN) stack.push(OPEN[c]);
    else if (c === '(' || c === '[' || c === '{') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i;
    }
  }
  return -1;
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
