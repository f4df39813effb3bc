// Every requirement of the spec gets an address and its evidence: the list item that defines
// `**LEASE-2**` gets the id `LEASE-2` (so `/spec/leases#LEASE-2` lands on it), the ID becomes a
// link to that address, and under the rule a folded list names the tests that cite it and the
// source lines that do, each linked to its file and line in the repository.
import { relative } from 'node:path';
import { visit } from 'unist-util-visit';
import { collectCitations } from './citations.mjs';
import { blobUrl, root } from './repo.mjs';

const ID = /^[A-Z]{2,8}-[1-9][0-9]*$/;
let citations;

const text = (value) => ({ type: 'text', value });
const link = (url, children) => ({ type: 'link', url, children });
const code = (value) => ({ type: 'inlineCode', value });
const element = (hName, children, hProperties = {}) => ({
  type: 'requirementEvidence',
  data: { hName, hProperties },
  children,
});

function evidence(id) {
  const { tests, sources } = citations.get(id) ?? { tests: [], sources: [] };
  const items = [
    ...tests.map((t) => [text('test: '), link(blobUrl(t.file, t.line), [text(t.title)]), text(` (${t.file})`)]),
    ...sources.map((s) => [text('code: '), link(blobUrl(s.file, s.line), [code(`${s.file}:${s.line}`)])]),
  ];
  const summary = `${tests.length} ${tests.length === 1 ? 'test' : 'tests'}, ${sources.length} source ${
    sources.length === 1 ? 'line' : 'lines'
  } cite ${id}`;
  return element(
    'details',
    [
      element('summary', [text(summary)]),
      element(
        'ul',
        items.map((children) => element('li', children)),
      ),
    ],
    { className: 'requirement-evidence' },
  );
}

export default function remarkRequirements() {
  citations ??= collectCitations();
  return (tree, vfile) => {
    if (!relative(root, vfile.path).startsWith('spec/')) return;
    visit(tree, 'listItem', (item) => {
      const paragraph = item.children[0];
      const first = paragraph?.type === 'paragraph' ? paragraph.children[0] : undefined;
      const id = first?.type === 'strong' && first.children.length === 1 ? first.children[0].value : undefined;
      if (typeof id !== 'string' || !ID.test(id)) return;
      item.data = { ...item.data, hProperties: { ...item.data?.hProperties, id, className: 'requirement' } };
      paragraph.children[0] = link(`#${id}`, [{ type: 'strong', children: [text(id)] }]);
      item.children.push(evidence(id));
    });
  };
}
