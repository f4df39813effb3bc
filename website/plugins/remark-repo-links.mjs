// Links in the rendered Markdown that point at repository files: to a site route where the file
// is rendered here (a spec section, a guide), else to the file in the repository.
import { relative } from 'node:path';
import { visit } from 'unist-util-visit';
import { root, siteLink } from './repo.mjs';

export default function remarkRepoLinks() {
  return (tree, vfile) => {
    const file = relative(root, vfile.path);
    if (file.startsWith('..') || file.startsWith('website/content/api/')) return;
    visit(tree, (node) => {
      if ((node.type === 'link' || node.type === 'definition') && typeof node.url === 'string') {
        node.url = siteLink(file, node.url);
      }
    });
  };
}
