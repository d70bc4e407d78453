// Side by side: what differs between the two sides' panels, highlighted in both and listed in one table.
import { h } from './panels.js';

const metricValue = (panels, name) => {
  const metric = panels.metrics.find((m) => m.name === name);
  return metric === undefined ? undefined : Array.isArray(metric.value) ? metric.value.join(', ') : metric.value;
};

const dimensionsOf = (panels) => {
  const first = panels.metrics[0];
  return first === undefined
    ? undefined
    : Object.entries(first.dimensions)
        .map(([n, v]) => `${n}=${v}`)
        .join(', ');
};

/** The comparable values of two sides: [key, what, valueA, valueB, lowerIsBetter]. */
export function comparisons(a, b) {
  const rows = [
    ['duration', 'duration (ms)', a.durationMs, b.durationMs, true],
    ['statusCode', 'status code', a.statusCode ?? a.status, b.statusCode ?? b.status],
    ['count', 'count', a.body?.count, b.body?.count],
    ['errors', 'errors', a.body?.errors, b.body?.errors],
    ['pages', 'pages listed', a.progress.pages, b.progress.pages],
    ['logs', 'log lines', a.logs.length, b.logs.length],
    ['namespace', 'EMF namespace', a.metrics[0]?.namespace, b.metrics[0]?.namespace],
    ['dimensions', 'EMF dimensions', dimensionsOf(a), dimensionsOf(b)],
  ];
  const names = [...new Set([...a.metrics, ...b.metrics].map((m) => m.name))];
  for (const name of names) rows.push([`metric:${name}`, name, metricValue(a, name), metricValue(b, name)]);
  return rows;
}

/** Highlights differing values in both sides and fills the differences table; returns the keys that differ. */
export function highlightDifferences(section, containers, a, b) {
  const body = section.querySelector('tbody');
  const differing = [];
  const rows = [];
  for (const [key, what, valueA, valueB, lowerIsBetter] of comparisons(a, b)) {
    if (valueA === valueB) continue;
    differing.push(key);
    for (const container of containers)
      for (const element of container.querySelectorAll(`[data-compare="${CSS.escape(key)}"]`))
        element.classList.add('diff');
    const better =
      lowerIsBetter && typeof valueA === 'number' && typeof valueB === 'number' ? (valueA < valueB ? 0 : 1) : -1;
    const delta =
      typeof valueA === 'number' && typeof valueB === 'number'
        ? ` (${valueB - valueA > 0 ? '+' : ''}${Math.round((valueB - valueA) * 10) / 10})`
        : '';
    rows.push(
      h(
        'tr',
        { 'data-diff': key, class: 'diff' },
        h('td', {}, what),
        h('td', { class: better === 0 ? 'diff-better' : undefined }, String(valueA ?? '—')),
        h('td', { class: better === 1 ? 'diff-better' : undefined }, `${valueB ?? '—'}${delta}`),
      ),
    );
  }
  body.replaceChildren(
    ...(rows.length > 0 ? rows : [h('tr', {}, h('td', { colspan: '3', class: 'muted' }, 'no differences'))]),
  );
  section.hidden = false;
  return differing;
}
