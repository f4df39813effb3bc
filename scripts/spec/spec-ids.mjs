// Reads the specification's requirement IDs and checks them (spec/README.md, "How to read it").
// Pure functions over file contents, so the checks themselves are testable.

/** A well-formed requirement ID: an upper-case area, a dash, a number without leading zero. */
export const ID_PATTERN = /^[A-Z]{2,8}-[1-9][0-9]*$/;

const RFC2119 = /\b(MUST|SHALL|SHOULD|REQUIRED|RECOMMENDED|MAY|OPTIONAL)\b/;
// A list item that opens with something bold that tries to be an ID (has a digit or a dash).
const DEFINITION = /^\s*[-*]\s+\*\*([^*\s]*[-\d][^*\s]*)\*\*/;
const LIST_ITEM = /^\s*([-*]|\d+\.)\s/;
const INFORMATIVE = '<!-- informative -->';

/**
 * @typedef {{ id: string, file: string, line: number, text: string }} Requirement
 * @typedef {{ file: string, line: number, message: string }} Problem
 */

/**
 * Parses spec files into requirements and the problems found while reading them.
 *
 * @param {{ file: string, text: string }[]} files
 * @returns {{ requirements: Requirement[], problems: Problem[] }}
 */
export function parseSpec(files) {
  /** @type {Requirement[]} */
  const requirements = [];
  /** @type {Problem[]} */
  const problems = [];
  for (const { file, text } of files) {
    const informative = text.includes(INFORMATIVE);
    const lines = text.split('\n');
    let inFence = false;
    /** @type {Requirement | undefined} */
    let current;
    lines.forEach((raw, index) => {
      const line = index + 1;
      if (/^\s*```/.test(raw)) {
        inFence = !inFence;
        current = undefined;
        return;
      }
      if (inFence) return;
      const def = DEFINITION.exec(raw);
      if (def) {
        const id = def[1];
        if (!ID_PATTERN.test(id)) {
          problems.push({ file, line, message: `malformed requirement ID "${id}" (expected AREA-N, e.g. LEASE-3)` });
          current = undefined;
          return;
        }
        current = { id, file, line, text: raw.replace(DEFINITION, '').trim() };
        requirements.push(current);
        return;
      }
      const continues = current && raw.trim() !== '' && !LIST_ITEM.test(raw) && /^\s/.test(raw);
      if (continues && current) {
        current.text += ` ${raw.trim()}`;
        return;
      }
      current = undefined;
      const keyword = RFC2119.exec(raw);
      if (keyword && !informative && !/^\s*(#|>|\|)/.test(raw)) {
        problems.push({
          file,
          line,
          message: `normative keyword ${keyword[1]} outside a requirement: give the statement an ID`,
        });
      }
    });
  }
  problems.push(...checkRequirements(requirements));
  return { requirements, problems };
}

/**
 * Duplicate IDs, requirements with no RFC 2119 keyword, and files mixing areas.
 *
 * @param {Requirement[]} requirements
 * @returns {Problem[]}
 */
function checkRequirements(requirements) {
  /** @type {Problem[]} */
  const problems = [];
  /** @type {Map<string, Requirement>} */
  const seen = new Map();
  /** @type {Map<string, string>} */
  const areaOfFile = new Map();
  for (const r of requirements) {
    const first = seen.get(r.id);
    if (first) {
      problems.push({
        file: r.file,
        line: r.line,
        message: `duplicate requirement ID ${r.id} (first at ${first.file}:${first.line})`,
      });
    } else {
      seen.set(r.id, r);
    }
    if (!RFC2119.test(r.text)) {
      problems.push({ file: r.file, line: r.line, message: `${r.id} has no RFC 2119 keyword (MUST, SHOULD, MAY, …)` });
    }
    const area = r.id.split('-')[0];
    const fileArea = areaOfFile.get(r.file);
    if (fileArea === undefined) areaOfFile.set(r.file, area);
    else if (fileArea !== area) {
      problems.push({
        file: r.file,
        line: r.line,
        message: `${r.id} is in a file of area ${fileArea}: one area per file`,
      });
    }
  }
  return problems;
}

/**
 * Finds citations of requirement IDs (of the known areas) that name no requirement.
 *
 * @param {Requirement[]} requirements
 * @param {{ file: string, text: string }[]} files - spec or source files to scan
 * @returns {Problem[]}
 */
export function checkCitations(requirements, files) {
  const ids = new Set(requirements.map((r) => r.id));
  const areas = new Set(requirements.map((r) => r.id.split('-')[0]));
  /** @type {Problem[]} */
  const problems = [];
  const citation = /\b([A-Z]{2,8})-(\d+)\b/g;
  for (const { file, text } of files) {
    text.split('\n').forEach((raw, index) => {
      for (const m of raw.matchAll(citation)) {
        const id = `${m[1]}-${m[2]}`;
        if (areas.has(m[1]) && !ids.has(id)) {
          problems.push({ file, line: index + 1, message: `cites ${id}, which the spec does not define` });
        }
      }
    });
  }
  return problems;
}
