// Mermaid diagrams drawn at build time: each content/diagrams/*.mmd becomes static/diagrams/*.svg,
// rendered by Mermaid in Debian's Chromium (playwright-core, no browser download), so the site
// ships plain SVG and runs no diagram code in the reader's browser.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

/** Renders every diagram of `source` into `out`; returns their names. */
export async function renderDiagrams(source, out) {
  const names = readdirSync(source).filter((f) => f.endsWith('.mmd'));
  if (names.length === 0) return [];
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `the site's diagrams are drawn in Chromium, and there is none at ${executablePath}: apt-get install chromium, or set CHROMIUM`,
    );
  }
  mkdirSync(out, { recursive: true });
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><body></body></html>');
    await page.addScriptTag({ path: require.resolve('mermaid/dist/mermaid.min.js') });
    for (const name of names) {
      const text = readFileSync(join(source, name), 'utf8');
      const svg = await page.evaluate(async (definition) => {
        const { mermaid } = globalThis;
        // Plain SVG text, no HTML in foreignObject: the diagram is shown as an image.
        mermaid.initialize({
          startOnLoad: false,
          theme: 'neutral',
          htmlLabels: false,
          flowchart: { htmlLabels: false },
        });
        return (await mermaid.render('diagram', definition)).svg;
      }, text);
      writeFileSync(join(out, name.replace(/\.mmd$/, '.svg')), svg);
    }
  } finally {
    await browser.close();
  }
  return names;
}
