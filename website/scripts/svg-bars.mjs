// A horizontal bar chart as a standalone SVG: drawn at build time from benchmark data, so the
// site needs no chart library or service when it is read. Every bar is labelled with its value,
// and the chart carries a title and a description for screen readers.

const xml = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** A value as people read it: 3 significant digits, thousands separated. */
export function formatValue(value) {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3).replace(/\.?0+$/, (m) => (m.startsWith('.') ? '' : m));
}

/**
 * @param {{ title: string, unit: string, better: 'lower' | 'higher', bars: { label: string, value: number }[] }} chart
 * @returns {string} the SVG document
 */
export function barChart({ title, unit, better, bars }) {
  const width = 720;
  const labelWidth = 210;
  const valueWidth = 110;
  const barHeight = 26;
  const gap = 10;
  const top = 20;
  const height = top + bars.length * (barHeight + gap) + 24;
  const max = Math.max(...bars.map((b) => b.value));
  const span = width - labelWidth - valueWidth;
  const rows = bars.map((b, i) => {
    const y = top + i * (barHeight + gap);
    const w = max > 0 ? Math.max(2, (b.value / max) * span) : 2;
    return [
      `<text x="${labelWidth - 10}" y="${y + barHeight / 2}" text-anchor="end" dominant-baseline="middle" class="label">${xml(b.label)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" rx="3" class="bar bar-${i}"><title>${xml(`${b.label}: ${formatValue(b.value)} ${unit}`)}</title></rect>`,
      `<text x="${(labelWidth + w + 8).toFixed(1)}" y="${y + barHeight / 2}" dominant-baseline="middle" class="value">${xml(formatValue(b.value))}</text>`,
    ].join('');
  });
  const desc = `${unit}, ${better} is better. ${bars.map((b) => `${b.label}: ${formatValue(b.value)}`).join('; ')}.`;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="t d">
<title id="t">${xml(title)}</title>
<desc id="d">${xml(desc)}</desc>
<style>
.label,.value,.axis{font:14px system-ui,-apple-system,Segoe UI,Roboto,sans-serif;fill:#1c1e21}
.axis{font-size:12px;fill:#525860}
.bar{fill:#2e8555}.bar-0{fill:#8d9399}
@media (prefers-color-scheme: dark){.label,.value{fill:#e3e3e3}.axis{fill:#a8adb3}}
</style>
<rect width="100%" height="100%" fill="none"/>
${rows.join('\n')}
<text x="${labelWidth}" y="${height - 6}" class="axis">${xml(`${unit} (${better} is better)`)}</text>
</svg>
`;
}
