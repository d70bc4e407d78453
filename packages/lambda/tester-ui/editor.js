// The event editor: checked as you type; an invalid event is shown inline and never sent.

/** Parses the editor's text; returns {ok, value} or {ok: false, message}. */
export function checkEvent(text) {
  if (text.trim() === '') return { ok: false, message: 'The event is empty: write a JSON value, e.g. {}' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: `Invalid JSON: ${error.message}` };
  }
}

/** Wires the textarea, its error line and the Invoke button. Returns a reader of the current event. */
export function eventEditor(textarea, errorLine, onValidity) {
  let state = checkEvent(textarea.value);
  const update = () => {
    state = checkEvent(textarea.value);
    textarea.setAttribute('aria-invalid', String(!state.ok));
    errorLine.textContent = state.ok ? '' : state.message;
    onValidity(state.ok);
  };
  textarea.addEventListener('input', update);
  update();
  return {
    current: () => state,
    set(value) {
      textarea.value = JSON.stringify(value, null, 2);
      update();
    },
  };
}
