// The iolease design docs site. One source: the spec is rendered from ../spec, the guides from
// ../docs/guides, the API reference from the packages' TSDoc (TypeDoc); scripts/generate.mjs
// draws the benchmark charts from ../bench/results and the changelog from the packages'
// CHANGELOG.md and pending changesets before each build.
import { themes } from 'prism-react-renderer';
import remarkRepoLinks from './plugins/remark-repo-links.mjs';
import remarkRequirements from './plugins/remark-requirements.mjs';
import { repoUrl } from './plugins/repo.mjs';

const packages = ['interfaces', 'backend-core', 'reference-uring', 'adapters', 'conformance'];
// Links first, before Docusaurus resolves Markdown links itself: a link to a repository file
// outside the docs becomes a site route or a repository address.
const markdownPlugins = { beforeDefaultRemarkPlugins: [remarkRepoLinks], remarkPlugins: [remarkRequirements] };

/** @type {import('@docusaurus/types').Config} */
export default {
  title: 'iolease',
  tagline: 'Event-loop-owned I/O memory for Node.js',
  url: 'https://iolease.dev',
  baseUrl: '/',
  favicon: 'img/favicon.svg',
  onBrokenLinks: 'throw',
  onBrokenAnchors: 'throw',
  onDuplicateRoutes: 'throw',
  trailingSlash: false,
  markdown: {
    format: 'detect', // .md as CommonMark: the spec and guides are plain Markdown
    hooks: { onBrokenMarkdownLinks: 'throw', onBrokenMarkdownImages: 'throw' },
  },
  themes: [
    [
      '@easyops-cn/docusaurus-search-local',
      {
        hashed: true,
        indexDocs: true,
        indexPages: true,
        docsRouteBasePath: ['docs', 'spec', 'guides'],
        docsDir: ['content', '../spec', '../docs/guides'],
        blogDir: [],
        highlightSearchTermsOnTargetPage: false,
        searchResultLimits: 10,
      },
    ],
  ],
  presets: [
    [
      'classic',
      {
        docs: {
          path: 'content',
          routeBasePath: 'docs',
          sidebarPath: './sidebars.mjs',
          ...markdownPlugins,
        },
        blog: false,
        theme: { customCss: './src/css/custom.css' },
      },
    ],
  ],
  plugins: [
    [
      '@docusaurus/plugin-content-docs',
      {
        id: 'spec',
        path: '../spec',
        routeBasePath: 'spec',
        sidebarPath: false,
        ...markdownPlugins,
      },
    ],
    [
      '@docusaurus/plugin-content-docs',
      {
        id: 'guides',
        path: '../docs/guides',
        routeBasePath: 'guides',
        sidebarPath: false,
        ...markdownPlugins,
      },
    ],
    [
      'docusaurus-plugin-typedoc',
      {
        entryPoints: packages.map((p) => `../packages/${p}`),
        entryPointStrategy: 'packages',
        packageOptions: {
          entryPoints: ['src/index.ts'],
          tsconfig: 'tsconfig.build.json',
          excludeInternal: true,
          disableSources: true,
          readme: 'none', // the packages' READMEs link into the repository; the docs cover them
        },
        out: 'content/api',
        readme: 'none',
        disableSources: true,
        hideBreadcrumbs: true,
        sidebar: { pretty: true },
      },
    ],
  ],
  themeConfig: {
    colorMode: { respectPrefersColorScheme: true },
    prism: { theme: themes.vsLight, darkTheme: themes.vsDark, additionalLanguages: ['bash', 'cpp'] },
    navbar: {
      title: 'iolease',
      items: [
        { to: '/docs/quick-start', label: 'Quick start', position: 'left' },
        { to: '/docs/concepts', label: 'Concepts', position: 'left' },
        { to: '/guides/writing-a-backend', label: 'Guides', position: 'left' },
        { to: '/spec/', label: 'Spec', position: 'left' },
        { to: '/docs/api/', label: 'API', position: 'left' },
        { to: '/docs/benchmarks', label: 'Benchmarks', position: 'left' },
        { href: repoUrl, label: 'Repository', position: 'right' },
      ],
    },
    footer: {
      style: 'dark',
      links: [
        {
          title: 'Read',
          items: [
            { label: 'Specification', to: '/spec/' },
            { label: 'Changelog', to: '/docs/changelog' },
          ],
        },
        { title: 'Code', items: [{ label: 'Repository', href: repoUrl }] },
      ],
      copyright: 'iolease contributors, Apache-2.0',
    },
  },
};
