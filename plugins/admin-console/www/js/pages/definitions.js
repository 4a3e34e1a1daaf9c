import { api, session } from '../api.js';
import { count, errorBox, h, section } from '../dom.js';

export const title = 'Definitions';
export const live = false;

const KINDS = ['users', 'vhosts', 'permissions', 'topic_permissions', 'queues', 'exchanges', 'bindings', 'policies', 'parameters'];

/** RabbitMQ-format definitions (GET and POST /api/definitions): export to a file, import from one. */
export async function render() {
  if (!(await session.has('/api/definitions'))) return h('div', { class: 'page' }, h('h1', null, 'Definitions'), errorBox('This broker serves no /api/definitions (the rabbit plugin is not loaded).'));
  const summary = h('div', { class: 'summary' });
  const exported = h('textarea', { class: 'json', readonly: true, rows: 14, spellcheck: 'false', 'aria-label': 'Exported definitions' });
  const download = h('a', { class: 'button', download: 'wharf-definitions.json', hidden: true }, 'Download');
  const exportStatus = h('p', { role: 'status' });
  const doExport = async () => {
    exportStatus.textContent = 'Exporting…';
    try {
      const definitions = await api('/api/definitions');
      const text = JSON.stringify(definitions, null, 2);
      exported.value = text;
      summary.replaceChildren(...KINDS.filter((k) => Array.isArray(definitions[k])).map((k) => h('span', { class: 'pill' }, `${k.replace('_', ' ')} ${count(definitions[k].length)}`)));
      if (download.href) URL.revokeObjectURL(download.href);
      download.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      download.hidden = false;
      exportStatus.textContent = `Exported at ${new Date().toLocaleTimeString()}.`;
    } catch (err) {
      exportStatus.textContent = `Export failed: ${err.message}`;
    }
  };

  const input = h('textarea', { class: 'json', name: 'definitions', rows: 10, spellcheck: 'false', placeholder: '{"queues": [...], "exchanges": [...], "bindings": [...]}', 'aria-label': 'Definitions to import' });
  const file = h('input', { type: 'file', accept: '.json,application/json', 'aria-label': 'Definitions file' });
  file.addEventListener('change', async () => {
    if (file.files?.[0]) input.value = await file.files[0].text();
  });
  const importStatus = h('p', { role: 'status' });
  const doImport = async (event) => {
    event.preventDefault();
    let body;
    try {
      body = JSON.parse(input.value);
    } catch (err) {
      importStatus.textContent = `Not JSON: ${err.message}`;
      return;
    }
    importStatus.textContent = 'Importing…';
    try {
      await api('/api/definitions', { method: 'POST', body });
      importStatus.textContent = `Imported ${KINDS.filter((k) => Array.isArray(body[k]) && body[k].length).map((k) => `${count(body[k].length)} ${k.replace('_', ' ')}`).join(', ') || 'nothing'}.`;
    } catch (err) {
      importStatus.textContent = `Import failed: ${err.message}`;
    }
  };

  const page = h(
    'div',
    { class: 'page definitions' },
    h('h1', null, 'Definitions'),
    h('p', { class: 'muted' }, 'Users, virtual hosts, permissions, queues, exchanges and bindings in RabbitMQ\'s definitions format: rabbitmqadmin and RabbitMQ read the same files.'),
    section('Export', h('div', { class: 'toolbar' }, h('button', { type: 'button', onclick: doExport }, 'Export definitions'), download), exportStatus, summary, exported),
    section('Import', h('form', { onsubmit: doImport }, h('div', { class: 'toolbar' }, file), input, h('div', { class: 'toolbar' }, h('button', { type: 'submit' }, 'Import definitions'))), importStatus),
  );
  void doExport();
  return page;
}
