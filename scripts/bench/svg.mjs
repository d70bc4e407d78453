// Small, dependency-free SVG charts for docs/performance.md: horizontal bar charts, linear or log scale.

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];

function escapeXml(text) {
  return String(text).replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c],
  );
}

/** 1234567 → "1,234,567"; small numbers keep `digits` significant decimals. */
export function formatNumber(value, digits = 2) {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(Math.max(1, digits + 1))).toLocaleString('en-US', { maximumFractionDigits: 3 });
}

function niceLinearMax(max) {
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= max) return step * magnitude;
  return 10 * magnitude;
}

/**
 * A horizontal bar chart.
 * @param {object} chart
 * @param {string} chart.title
 * @param {string} [chart.subtitle]
 * @param {string} chart.unit shown after each value
 * @param {{label: string, value: number, note?: string, series?: number}[]} chart.bars
 * @param {boolean} [chart.log] log10 scale (for values spanning decades)
 * @param {{value: number, label: string}} [chart.target] a dashed reference line
 * @param {string[]} [chart.legend] names of the series (bar colours)
 */
export function barChart({ title, subtitle, unit, bars, log = false, target, legend }) {
  const width = 860;
  const labelWidth = 290;
  const valueWidth = 170;
  const barHeight = 26;
  const gap = 10;
  const top = (subtitle ? 70 : 52) + (target ? 16 : 0);
  const plotLeft = labelWidth + 10;
  const plotWidth = width - plotLeft - valueWidth;
  const legendHeight = legend ? 26 : 0;
  const height = top + bars.length * (barHeight + gap) + 34 + legendHeight;

  const values = bars.map((b) => b.value).concat(target ? [target.value] : []);
  let scale;
  let ticks;
  if (log) {
    // One decade of room below the smallest bar when it sits near a decade line, so it stays visible.
    const lo = Math.floor(Math.log10(Math.min(...values) / 3));
    const hi = Math.ceil(Math.log10(Math.max(...values)));
    const span = Math.max(1, hi - lo);
    scale = (v) => ((Math.log10(v) - lo) / span) * plotWidth;
    ticks = Array.from({ length: span + 1 }, (_, i) => 10 ** (lo + i));
  } else {
    const max = niceLinearMax(Math.max(...values) * 1.05);
    scale = (v) => (v / max) * plotWidth;
    ticks = Array.from({ length: 5 }, (_, i) => (max * i) / 4);
  }
  const x0 = log ? 0 : scale(0);
  const plotBottom = top + bars.length * (barHeight + gap);

  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="16" y="28" ${FONT} font-size="18" font-weight="600" fill="#222">${escapeXml(title)}</text>`);
  if (subtitle) out.push(`<text x="16" y="50" ${FONT} font-size="13" fill="#555">${escapeXml(subtitle)}</text>`);
  for (const tick of ticks) {
    const x = plotLeft + scale(tick);
    out.push(`<line x1="${x.toFixed(1)}" y1="${top - 6}" x2="${x.toFixed(1)}" y2="${plotBottom}" stroke="#e3e3e3"/>`);
    out.push(
      `<text x="${x.toFixed(1)}" y="${plotBottom + 18}" ${FONT} font-size="11" fill="#666" text-anchor="middle">${escapeXml(formatNumber(tick))}</text>`,
    );
  }
  bars.forEach((bar, i) => {
    const y = top + i * (barHeight + gap);
    const w = Math.max(2, scale(bar.value) - x0);
    const colour = PALETTE[(bar.series ?? i) % PALETTE.length];
    out.push(
      `<text x="${labelWidth}" y="${y + barHeight / 2 + 5}" ${FONT} font-size="13" fill="#222" text-anchor="end">${escapeXml(bar.label)}</text>`,
    );
    out.push(
      `<rect x="${(plotLeft + x0).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" rx="3" fill="${colour}"/>`,
    );
    const text = `${formatNumber(bar.value)} ${unit}${bar.note ? ` · ${bar.note}` : ''}`;
    // A white halo keeps the value legible where it crosses a grid or target line.
    out.push(
      `<text x="${(plotLeft + x0 + w + 6).toFixed(1)}" y="${y + barHeight / 2 + 5}" ${FONT} font-size="12" fill="#222" stroke="#ffffff" stroke-width="4" paint-order="stroke">${escapeXml(text)}</text>`,
    );
  });
  if (target) {
    const x = plotLeft + scale(target.value);
    out.push(
      `<line x1="${x.toFixed(1)}" y1="${top - 10}" x2="${x.toFixed(1)}" y2="${plotBottom}" stroke="#c0392b" stroke-width="1.5" stroke-dasharray="5 4"/>`,
    );
    out.push(
      `<text x="${(x + 4).toFixed(1)}" y="${top - 12}" ${FONT} font-size="11" fill="#c0392b">${escapeXml(target.label)}</text>`,
    );
  }
  out.push(
    `<text x="${plotLeft + plotWidth / 2}" y="${plotBottom + 32}" ${FONT} font-size="11" fill="#666" text-anchor="middle">${escapeXml(`${unit}${log ? ' (log scale)' : ''}`)}</text>`,
  );
  if (legend) {
    let x = plotLeft;
    const y = plotBottom + 44;
    legend.forEach((name, i) => {
      out.push(`<rect x="${x}" y="${y}" width="12" height="12" rx="2" fill="${PALETTE[i % PALETTE.length]}"/>`);
      out.push(`<text x="${x + 17}" y="${y + 11}" ${FONT} font-size="12" fill="#222">${escapeXml(name)}</text>`);
      x += 30 + name.length * 7;
    });
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
