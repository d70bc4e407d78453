// The tester page: loads the configuration, runs events, streams progress, shows the panels and the history.
import { highlightDifferences } from './compare.js';
import { eventEditor } from './editor.js';
import { h, renderRunning, renderSide } from './panels.js';

const $ = (selector) => document.querySelector(selector);
const state = { config: undefined, runId: undefined, source: undefined };

async function api(path, init) {
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

function fillCatalog(config) {
  $('#side-labels').textContent = config.sides.map((label, i) => `${'AB'[i]}: ${label}`).join('   ·   ');
  for (const [i, label] of config.sides.entries()) {
    for (const el of document.querySelectorAll(`.label-${i}`)) el.textContent = label;
  }
  $('#targets').hidden = config.sides.length < 2;
  $('#event-fields tbody').replaceChildren(
    ...config.eventFields.map((f) =>
      h(
        'tr',
        {},
        h('td', {}, h('code', {}, f.name)),
        h('td', {}, f.type),
        h('td', {}, f.env ? h('code', {}, f.env) : '—'),
        h('td', {}, h('code', {}, f.default ?? '—')),
        h('td', {}, f.doc),
      ),
    ),
  );
  $('#env tbody').replaceChildren(
    ...config.env.map((v) =>
      h(
        'tr',
        {},
        h('td', {}, h('code', { title: v.doc }, v.name)),
        h('td', {}, h('code', {}, v.default || '(none)')),
        h('td', {}, h('code', {}, v.current || '(unset)')),
        h(
          'td',
          {},
          h('input', { 'data-env': v.name, 'aria-label': `${v.name} override`, placeholder: v.current || v.default }),
        ),
      ),
    ),
  );
  $('#examples').append(...config.examples.map((example, i) => h('option', { value: String(i) }, example.name)));
}

function overrides() {
  const env = {};
  for (const input of document.querySelectorAll('#env input[data-env]'))
    if (input.value !== '') env[input.dataset.env] = input.value;
  $('#env-count').textContent = Object.keys(env).length ? `(${Object.keys(env).length} set)` : '';
  return env;
}

function targetSides() {
  const sides = state.config.sides.map((_, i) => i);
  if (sides.length < 2) return sides;
  const chosen = document.querySelector('input[name="target"]:checked')?.value ?? 'both';
  return chosen === 'both' ? sides : [Number(chosen)];
}

function containersFor(sides) {
  const results = $('#results');
  results.replaceChildren(...sides.map((side) => h('div', { class: 'side', 'data-side': String(side) })));
  $('#differences').hidden = true;
  return new Map(sides.map((side) => [side, results.querySelector(`[data-side="${side}"]`)]));
}

function showRun(run) {
  const containers = containersFor(run.sides);
  for (const [i, panels] of run.panels.entries()) renderSide(containers.get(run.sides[i]), run.labels[i], panels);
  for (const [i, side] of run.sides.entries())
    if (run.panels[i] === undefined) renderRunning(containers.get(side), run.labels[i]);
  if (run.panels.length === 2)
    highlightDifferences($('#differences'), [...containers.values()], run.panels[0], run.panels[1]);
}

function setRunning(running) {
  $('#cancel').disabled = !running;
  $('#invoke').disabled = running || !editor.current().ok;
  document.body.classList.toggle('running', running);
}

async function refreshHistory() {
  const runs = await api('/api/runs');
  $('#history-list').replaceChildren(
    ...runs.map((run) =>
      h(
        'li',
        {},
        h(
          'button',
          { type: 'button', class: 'link', 'data-run': String(run.id) },
          `#${run.id} ${new Date(run.startedAt).toLocaleTimeString()}`,
        ),
        ` ${run.labels.map((label, i) => `${label}: ${run.statuses[i] ?? '…'}`).join(' · ')}${run.cancelled ? ' (cancelled)' : ''}`,
      ),
    ),
  );
}

async function invoke() {
  const checked = editor.current();
  if (!checked.ok || state.runId !== undefined) return;
  const sides = targetSides();
  const { id } = await api('/api/runs', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ event: checked.value, env: overrides(), sides }),
  }).catch((error) => {
    $('#progress').textContent = error.message;
    return {};
  });
  if (id === undefined) return;
  state.runId = id;
  setRunning(true);
  const labels = sides.map((side) => state.config.sides[side]);
  const containers = containersFor(sides);
  for (const [i, side] of sides.entries()) renderRunning(containers.get(side), labels[i]);
  $('#progress').textContent = `run #${id} started`;
  const source = new EventSource(`/api/runs/${id}/events`);
  state.source = source;
  source.addEventListener('progress', (message) => {
    const update = JSON.parse(message.data);
    renderRunning(containers.get(update.side), state.config.sides[update.side], update.progress, update.elapsedMs);
    $('#progress').textContent = `run #${id}: pages ${update.progress.pages}, presigned ${update.progress.presigned}`;
  });
  source.addEventListener('side', (message) => {
    const update = JSON.parse(message.data);
    renderSide(containers.get(update.side), state.config.sides[update.side], update.panels);
  });
  source.addEventListener('done', (message) => {
    const { run } = JSON.parse(message.data);
    source.close();
    state.source = undefined;
    state.runId = undefined;
    showRun(run);
    $('#progress').textContent = `run #${id} ${run.cancelled ? 'cancelled' : 'done'}`;
    setRunning(false);
    void refreshHistory();
  });
  void refreshHistory();
}

async function cancel() {
  if (state.runId === undefined) return;
  $('#progress').textContent = `cancelling run #${state.runId}…`;
  await api(`/api/runs/${state.runId}/cancel`, { method: 'POST' });
}

async function reopen(id) {
  const run = await api(`/api/runs/${id}`);
  editor.set(run.event);
  for (const input of document.querySelectorAll('#env input[data-env]'))
    input.value = run.overrides[input.dataset.env] ?? '';
  showRun(run);
  $('#progress').textContent = `showing run #${id}`;
}

const editor = eventEditor($('#event'), $('#event-error'), (ok) => {
  $('#invoke').disabled = !ok || state.runId !== undefined;
});

$('#invoke').addEventListener('click', () => void invoke());
$('#cancel').addEventListener('click', () => void cancel());
$('#history-list').addEventListener('click', (event) => {
  const id = event.target.closest('button[data-run]')?.dataset.run;
  if (id !== undefined) void reopen(Number(id));
});
$('#examples').addEventListener('change', (event) => {
  const example = state.config.examples[Number(event.target.value)];
  if (example !== undefined) editor.set(example.event);
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    void invoke();
  } else if (event.key === 'Escape' && state.runId !== undefined) {
    void cancel();
  }
});

state.config = await api('/api/config');
fillCatalog(state.config);
editor.set(state.config.examples[0].event);
await refreshHistory();
document.body.dataset.ready = 'true';
