// One side's panels: Result, Structured logs, EMF metrics, duration and the manifest preview.

/** Creates an element with attributes and children (strings become text: nothing here is parsed as HTML). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat())
    if (child !== undefined && child !== null) element.append(child instanceof Node ? child : String(child));
  return element;
}

const show = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

function resultPanel(panels) {
  const section = h('section', { class: 'panel result', 'aria-label': 'Result' }, h('h3', {}, 'Result'));
  if (panels.statusCode !== undefined) {
    const ok = panels.statusCode === 200;
    section.append(
      h(
        'p',
        {},
        'statusCode ',
        h(
          'span',
          { class: `status-code ${ok ? 'status-ok' : 'status-bad'}`, 'data-field': 'statusCode' },
          String(panels.statusCode),
        ),
      ),
      h('pre', { class: 'body' }, JSON.stringify(panels.body, null, 2)),
    );
  } else if (panels.error !== undefined) {
    section.append(
      h('p', { class: 'status-bad' }, panels.status === 'cancelled' ? 'Cancelled' : panels.status),
      h('pre', { class: 'body' }, `${panels.error.name}: ${panels.error.message}`),
    );
  } else {
    section.append(
      h('p', { class: 'status-bad' }, panels.status),
      h('pre', { class: 'body' }, JSON.stringify(panels.result ?? null, null, 2)),
    );
  }
  return section;
}

function logsPanel(logs) {
  const rows = logs.map((entry) => {
    const fields = Object.entries(entry)
      .filter(([name]) => name !== 'event' && name !== 'request_id')
      .map(([name, value]) => `${name}=${show(value)}`)
      .join('  ');
    return h(
      'tr',
      { 'data-event': show(entry.event ?? '') },
      h('td', { class: 'mono' }, show(entry.event ?? '')),
      h('td', { class: 'mono' }, show(entry.request_id ?? '')),
      h('td', { class: 'mono' }, fields),
    );
  });
  return h(
    'section',
    { class: 'panel logs', 'aria-label': 'Structured logs' },
    h('h3', {}, `Structured logs (${logs.length})`),
    logs.length === 0
      ? h('p', { class: 'muted' }, '(none)')
      : h(
          'table',
          {},
          h('thead', {}, h('tr', {}, h('th', {}, 'event'), h('th', {}, 'request_id'), h('th', {}, 'fields'))),
          h('tbody', {}, rows),
        ),
  );
}

/** Lines the handler printed that are not JSON objects (already masked by the server); nothing when there are none. */
function otherOutputPanel(lines) {
  if (lines === undefined || lines.length === 0) return '';
  return h(
    'section',
    { class: 'panel other-output', 'aria-label': 'Other output' },
    h('h3', {}, `Other output (${lines.length})`),
    h('pre', { class: 'body' }, lines.join('\n')),
  );
}

function metricsPanel(metrics) {
  const section = h(
    'section',
    { class: 'panel metrics', 'aria-label': 'EMF metrics' },
    h('h3', {}, `EMF metrics (${metrics.length})`),
  );
  if (metrics.length === 0) {
    section.append(h('p', { class: 'muted' }, '(none)'));
    return section;
  }
  const first = metrics[0];
  const dims = Object.entries(first.dimensions)
    .map(([name, value]) => `${name}=${value}`)
    .join(', ');
  section.append(
    h(
      'p',
      {},
      'namespace ',
      h('code', { class: 'namespace', 'data-compare': 'namespace' }, first.namespace),
      dims === '' ? '' : '  dimensions ',
      dims === '' ? '' : h('code', { class: 'dimensions', 'data-compare': 'dimensions' }, dims),
    ),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'metric'), h('th', {}, 'unit'), h('th', {}, 'value'))),
      h(
        'tbody',
        {},
        metrics.map((metric) =>
          h(
            'tr',
            { 'data-metric': metric.name },
            h('td', {}, metric.name),
            h('td', {}, metric.unit),
            h(
              'td',
              { class: 'num value', 'data-compare': `metric:${metric.name}` },
              Array.isArray(metric.value) ? metric.value.join(', ') : String(metric.value),
            ),
          ),
        ),
      ),
    ),
  );
  return section;
}

function manifestPanel(manifest) {
  const section = h(
    'section',
    { class: 'panel manifest', 'aria-label': 'Manifest preview' },
    h('h3', {}, 'Manifest preview'),
  );
  if (manifest === undefined) {
    section.append(h('p', { class: 'muted' }, '(no manifest)'));
    return section;
  }
  section.append(h('p', { class: 'mono' }, `s3://${manifest.bucket}/${manifest.key}`));
  if (manifest.error !== undefined) section.append(h('p', { class: 'error' }, manifest.error));
  section.append(
    h(
      'ol',
      { class: 'manifest-lines' },
      manifest.lines.map((line) =>
        h('li', {}, h('a', { href: line.url, target: '_blank', rel: 'noopener noreferrer' }, line.key)),
      ),
    ),
  );
  return section;
}

/** Renders the panels of a finished side. */
export function renderSide(container, label, panels) {
  const statusText = panels.statusCode !== undefined ? String(panels.statusCode) : panels.status;
  container.replaceChildren(
    h(
      'div',
      { class: 'side-head' },
      h('h2', { class: 'side-label' }, label),
      h(
        'span',
        {},
        h('span', { class: 'muted' }, 'duration '),
        h('span', { class: 'duration', 'data-compare': 'duration' }, `${panels.durationMs} ms`),
        h('span', { class: 'muted' }, `  · ${statusText}`),
      ),
    ),
    h(
      'p',
      { class: 'muted counts' },
      `pages ${panels.progress.pages} · keys listed ${panels.progress.keysListed} · presigned ${panels.progress.presigned} · bytes ${panels.progress.bytes}`,
    ),
    resultPanel(panels),
    logsPanel(panels.logs),
    otherOutputPanel(panels.otherOutput),
    metricsPanel(panels.metrics),
    manifestPanel(panels.manifest),
  );
}

/** Renders a side that is still running. */
export function renderRunning(container, label, progress, elapsedMs) {
  const line =
    progress === undefined
      ? 'waiting…'
      : `running ${(elapsedMs / 1000).toFixed(1)} s · pages ${progress.pages} · keys listed ${progress.keysListed} · presigned ${progress.presigned} · bytes ${progress.bytes}`;
  container.replaceChildren(
    h('div', { class: 'side-head' }, h('h2', { class: 'side-label' }, label)),
    h('p', { class: 'running', 'aria-live': 'polite' }, line),
  );
}
