// The chat webview's script: shows the HTML the extension renders (already
// escaped there) and posts the user's input back. No state of its own.
(function () {
  const vscode = acquireVsCodeApi();
  const log = document.getElementById('log');
  const form = document.getElementById('form');
  const input = document.getElementById('input');
  const send = document.getElementById('send');
  const cancel = document.getElementById('cancel');
  const clear = document.getElementById('clear');

  function submit() {
    const text = input.value.trim();
    if (text.length === 0) return;
    vscode.postMessage({ type: 'send', text: text });
    input.value = '';
  }
  form.addEventListener('submit', function (e) { e.preventDefault(); submit(); });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); submit(); }
  });
  cancel.addEventListener('click', function () { vscode.postMessage({ type: 'cancel' }); });
  clear.addEventListener('click', function () { vscode.postMessage({ type: 'clear' }); });

  window.addEventListener('message', function (event) {
    const m = event.data;
    if (!m || m.type !== 'render') return;
    const at_bottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 20;
    log.innerHTML = m.html;
    send.disabled = !!m.running;
    cancel.disabled = !m.running;
    clear.disabled = !!m.running;
    if (at_bottom) window.scrollTo(0, document.body.scrollHeight);
  });
  vscode.postMessage({ type: 'ready' });
})();
