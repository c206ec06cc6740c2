// Burrow's pages: one plain script, no framework and no build step. The server renders each page's frame; this
// script fills it from the API with the browser's session (the CSRF cookie's token in X-CSRFToken on writes).
'use strict';

(() => {
  /** @type {{ basePath: string, page: string, [key: string]: any }} */
  const data = JSON.parse(document.getElementById('page-data')?.textContent ?? '{}');
  const base = data.basePath;
  const project = '/api/projects/@current';

  /** @param {string} id */
  const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
  /** @param {string} id */
  const input = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

  function csrfToken() {
    const match = /(?:^|;\s*)posthog_csrftoken=([^;]+)/.exec(document.cookie);
    return match ? decodeURIComponent(match[1] ?? '') : '';
  }

  /**
   * Calls the API as the signed-in user; answers the parsed JSON, throws an Error with the API's detail.
   * @param {string} method @param {string} path @param {unknown} [body] @returns {Promise<any>}
   */
  async function api(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') headers['x-csrftoken'] = csrfToken();
    const response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body !== undefined && { body: JSON.stringify(body) }) });
    const text = await response.text();
    /** @type {any} */
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (response.status === 401 && data.page !== 'login') {
      location.assign(`${base}/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    if (!response.ok) throw new Error(parsed?.detail ?? `${response.status} ${response.statusText}`);
    return parsed;
  }

  /**
   * An element with attributes (strings, or booleans for presence) and children (nodes or text; null is skipped).
   * @param {string} tag @param {Record<string, string | boolean | undefined>} [attrs] @param {(Node | string | null)[]} children
   */
  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === true) node.setAttribute(name, '');
      else if (typeof value === 'string') node.setAttribute(name, value);
    }
    for (const child of children) if (child !== null) node.append(child);
    return node;
  }

  /** @param {string} text @param {boolean} [error] @param {string} [id] */
  function say(text, error = false, id = 'message') {
    const node = document.getElementById(id);
    if (!node) return;
    node.textContent = text;
    node.classList.toggle('error', error);
  }

  /** @param {unknown} error */
  const messageOf = (error) => (error instanceof Error ? error.message : String(error));

  /** @param {string | null | undefined} iso */
  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

  /** @param {number} seconds */
  function duration(seconds) {
    const s = Math.round(seconds);
    return s >= 60 ? `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s` : `${s}s`;
  }

  /** @param {HTMLElement} table @param {HTMLElement[]} rows @param {string} empty */
  function fill(table, rows, empty) {
    const body = /** @type {HTMLTableSectionElement} */ (table.querySelector('tbody'));
    const headers = [...table.querySelectorAll('thead th')].map((th) => th.textContent ?? '');
    // Each cell names its column: on a narrow screen the rows stack and show it (web.css).
    for (const row of rows) [...row.children].forEach((cell, i) => cell.setAttribute('data-label', headers[i] ?? ''));
    body.replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: String(headers.length) }, empty))]));
  }

  /** @param {number} ms */
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  /** Polls an export until it has content or failed (about two minutes at most). @param {number} id */
  async function awaitExport(id) {
    for (let i = 0; i < 60; i++) {
      const row = await api('GET', `${project}/exports/${id}/`);
      if (row.has_content || row.exception) return row;
      await sleep(2000);
    }
    return null;
  }

  /** @param {number} id */
  const downloadUrl = (id) => `${project}/exports/${id}/content/?download=true`;

  const signOut = document.getElementById('sign-out');
  signOut?.addEventListener('click', async () => {
    await api('POST', '/api/logout/').catch(() => undefined);
    location.assign(`${base}/login`);
  });

  // The sign-in page: a session through POST /api/login/, then the page the visitor came for.
  function login() {
    const form = /** @type {HTMLFormElement} */ ($('login-form'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
      say('', false, 'login-error');
      button.disabled = true;
      try {
        await api('POST', '/api/login/', { email: input('email').value, password: input('password').value });
        location.assign(data.next);
      } catch (error) {
        say(messageOf(error), true, 'login-error');
        button.disabled = false;
        input('password').focus();
      }
    });
  }

  // Home: the project and its snippet, and the personal API keys.
  async function home() {
    try {
      const team = await api('GET', `${project}/`);
      $('project-name').textContent = team.name;
      $('project-id').textContent = String(team.id);
      $('project-token').textContent = team.api_token;
      $('snippet').textContent = [
        '// npm install posthog-js',
        "import posthog from 'posthog-js'",
        '',
        `posthog.init(${JSON.stringify(team.api_token)}, {`,
        `    api_host: ${JSON.stringify(data.apiHost)},`,
        '})',
      ].join('\n');
    } catch (error) {
      say(messageOf(error), true, 'keys-message');
    }

    const reveal = $('key-value');
    /** @param {string} verb @param {any} key */
    function showValue(verb, key) {
      reveal.replaceChildren(
        h('p', {}, `Key “${key.label}” ${verb}. Copy it now: it is not shown again.`),
        h('p', {}, h('code', { id: 'new-key-value' }, key.value)),
      );
      reveal.hidden = false;
    }
    const hideValue = () => {
      reveal.hidden = true;
      reveal.replaceChildren();
    };

    async function loadKeys() {
      const keys = /** @type {any[]} */ (await api('GET', '/api/personal_api_keys/'));
      fill(
        $('keys'),
        keys.map((key) => {
          const roll = h('button', { type: 'button', class: 'secondary', 'aria-label': `Roll ${key.label}` }, 'Roll');
          const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${key.label}` }, 'Delete');
          roll.addEventListener('click', async () => {
            if (!confirm(`Roll “${key.label}”? Its current value stops working at once.`)) return;
            try {
              showValue('rolled', await api('POST', `/api/personal_api_keys/${key.id}/roll/`));
              say('', false, 'keys-message');
              await loadKeys();
            } catch (error) {
              say(messageOf(error), true, 'keys-message');
            }
          });
          remove.addEventListener('click', async () => {
            if (!confirm(`Delete “${key.label}”? Programs using it lose access.`)) return;
            try {
              await api('DELETE', `/api/personal_api_keys/${key.id}/`);
              hideValue();
              say(`Deleted “${key.label}”.`, false, 'keys-message');
              await loadKeys();
            } catch (error) {
              say(messageOf(error), true, 'keys-message');
            }
          });
          return h(
            'tr',
            { 'data-key-id': String(key.id) },
            h('td', {}, key.label),
            h('td', {}, h('code', {}, key.mask_value ?? '')),
            h('td', {}, key.scopes.join(', ')),
            h('td', {}, when(key.last_used_at)),
            h('td', { class: 'actions' }, roll, remove),
          );
        }),
        'No keys yet.',
      );
    }

    const form = /** @type {HTMLFormElement} */ ($('key-form'));
    const details = /** @type {HTMLDetailsElement} */ ($('scope-details'));
    for (const radio of form.querySelectorAll('input[name=access]')) {
      radio.addEventListener('change', () => {
        details.open = /** @type {HTMLInputElement} */ (form.querySelector('input[name=access]:checked')).value === 'scoped';
      });
    }
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const all = /** @type {HTMLInputElement} */ (form.querySelector('input[name=access]:checked')).value === 'all';
      const scopes = all
        ? ['*']
        : [...form.querySelectorAll('select[name=scope]')]
            .map((node) => /** @type {HTMLSelectElement} */ (node))
            .filter((select) => select.value)
            .map((select) => `${select.dataset.object}:${select.value}`);
      if (scopes.length === 0) {
        say('Choose at least one scope, or all access.', true, 'keys-message');
        return;
      }
      try {
        const key = await api('POST', '/api/personal_api_keys/', { label: input('key-label').value, scopes });
        showValue('created', key);
        say('', false, 'keys-message');
        form.reset();
        details.open = false;
        await loadKeys();
      } catch (error) {
        say(messageOf(error), true, 'keys-message');
      }
    });
    await loadKeys().catch((error) => say(messageOf(error), true, 'keys-message'));
  }

  /** The widest stored screenshot's width, if any. @param {any} heatmap @returns {number | undefined} */
  const storedWidth = (heatmap) =>
    heatmap.snapshots.filter((/** @type {any} */ s) => s.has_content).reduce((/** @type {number | undefined} */ widest, /** @type {any} */ s) => Math.max(widest ?? 0, s.width), undefined);

  // The saved heatmaps, as cards with a thumbnail of their screenshot.
  async function heatmaps() {
    const list = $('heatmaps');
    try {
      const { results } = await api('GET', `${project}/saved/?limit=200`);
      if (results.length === 0) {
        list.replaceChildren(h('li', { class: 'body' }, 'No saved heatmaps yet: save one through the API (POST …/saved/) or the PostHog toolbar.'));
        return;
      }
      list.replaceChildren(
        ...results.map((/** @type {any} */ heatmap) => {
          const width = storedWidth(heatmap);
          const thumb = width
            ? h('img', { class: 'thumb', src: `${project}/heatmap_screenshots/${heatmap.id}/content/?width=${width}`, alt: `Screenshot of ${heatmap.url}`, loading: 'lazy' })
            : h('span', { class: 'placeholder' }, 'No screenshot yet');
          return h(
            'li',
            {},
            h(
              'a',
              { class: 'tile', href: `${base}/heatmaps/${encodeURIComponent(heatmap.short_id)}` },
              thumb,
              h(
                'div',
                { class: 'body' },
                h('h2', {}, heatmap.name || heatmap.url),
                h('p', { class: 'meta' }, heatmap.url),
                h('p', { class: 'meta' }, 'Status ', h('span', { class: `status ${heatmap.status}` }, heatmap.status), ` · widths ${heatmap.target_widths.join(', ')}`),
              ),
            ),
          );
        }),
      );
    } catch (error) {
      list.replaceChildren();
      say(messageOf(error), true);
    }
  }

  // One saved heatmap: the overlay image (drawn by the server) for the chosen width, data type and dates.
  async function heatmap() {
    const shortId = encodeURIComponent(data.shortId);
    const image = /** @type {HTMLImageElement} */ ($('heatmap-image'));
    const widthSelect = /** @type {HTMLSelectElement} */ ($('width'));
    /** @type {any} */
    let saved;

    async function load() {
      saved = await api('GET', `${project}/saved/${shortId}/`);
      $('heatmap-title').textContent = saved.name || saved.url;
      document.title = `${saved.name || saved.url} · Burrow`;
      $('heatmap-url').textContent = saved.url;
      const status = $('heatmap-status');
      status.textContent = saved.status;
      status.className = `status ${saved.status}`;
      const widths = [...new Set([...saved.target_widths, ...saved.snapshots.map((/** @type {any} */ s) => s.width)])].sort((a, b) => a - b);
      const current = widthSelect.value || String(storedWidth(saved) ?? widths[0] ?? 1024);
      widthSelect.replaceChildren(...widths.map((w) => h('option', { value: String(w), ...(String(w) === current && { selected: true }) }, `${w} px`)));
      draw();
    }

    function query() {
      const params = new URLSearchParams({ width: widthSelect.value, type: input('type').value, date_from: input('date_from').value });
      if (input('date_to').value) params.set('date_to', input('date_to').value);
      return params;
    }

    function draw() {
      const stored = saved.snapshots.some((/** @type {any} */ s) => s.has_content);
      if (!stored) {
        image.hidden = true;
        $('image-caption').textContent = saved.status === 'failed' ? `The screenshot failed: ${saved.exception ?? 'unknown error'}` : 'The screenshot is not ready yet.';
        return;
      }
      const overlay = input('show-overlay').checked;
      image.src = overlay
        ? `${project}/saved/${shortId}/overlay/?${query()}`
        : `${project}/heatmap_screenshots/${saved.id}/content/?width=${encodeURIComponent(widthSelect.value)}`;
      image.alt = overlay ? `Screenshot of ${saved.url} at ${widthSelect.value} px with the ${(/** @type {HTMLSelectElement} */ ($('type'))).selectedOptions[0]?.text.toLowerCase()} heatmap` : `Screenshot of ${saved.url} at ${widthSelect.value} px`;
      image.hidden = false;
      $('image-caption').textContent = overlay ? 'Warmer colours: more interactions.' : 'The screenshot alone.';
    }

    async function waitForRender() {
      for (let i = 0; i < 40 && saved.status === 'processing'; i++) {
        await sleep(3000);
        await load();
      }
    }

    for (const id of ['width', 'type', 'date_from', 'date_to', 'show-overlay']) $(id).addEventListener('change', draw);
    image.addEventListener('error', () => say('The image could not be drawn for these settings.', true));
    image.addEventListener('load', () => say(''));

    $('regenerate').addEventListener('click', async () => {
      try {
        await api('POST', `${project}/saved/${shortId}/regenerate/`);
        say('Rendering the screenshots again…');
        await load();
        await waitForRender();
        say(saved.status === 'completed' ? 'The screenshots are new.' : `Status: ${saved.status}`);
      } catch (error) {
        say(messageOf(error), true);
      }
    });

    $('export-png').addEventListener('click', async () => {
      const button = /** @type {HTMLButtonElement} */ ($('export-png'));
      button.disabled = true;
      try {
        const params = query();
        const context = {
          heatmap_url: saved.url,
          ...(saved.data_url && { heatmap_data_url: saved.data_url }),
          width: Number(params.get('width')),
          type: params.get('type'),
          date_from: params.get('date_from'),
          ...(params.get('date_to') && { date_to: params.get('date_to') }),
        };
        const created = await api('POST', `${project}/exports/`, { export_format: 'image/png', export_context: context });
        say('Exporting…');
        const done = created.has_content || created.exception ? created : await awaitExport(created.id);
        const message = $('message');
        if (done?.has_content) {
          message.classList.remove('error');
          message.replaceChildren('The PNG is ready: ', h('a', { href: downloadUrl(done.id), id: 'export-link' }, `download ${done.filename}`), ' (also in ', h('a', { href: `${base}/exports` }, 'Exports'), ').');
        } else say(done?.exception ? `The export failed: ${done.exception}` : 'The export is still running: see Exports.', Boolean(done?.exception));
      } catch (error) {
        say(messageOf(error), true);
      } finally {
        button.disabled = false;
      }
    });

    try {
      await load();
      await waitForRender();
    } catch (error) {
      say(messageOf(error), true);
    }
  }

  // The recordings list with the page's filters (its own query string), and play, share and export.
  async function replay() {
    const filters = data.filters ?? {};
    const team = await api('GET', `${project}/`);
    const params = new URLSearchParams({ date_from: filters.date_from || '-3d', order: 'start_time', limit: '20' });
    if (filters.date_to) params.set('date_to', `${filters.date_to}T23:59:59`);
    const having = [];
    if (filters.url) having.push({ type: 'recording', key: 'visited_page', operator: 'icontains', value: filters.url });
    if (filters.min_duration && Number(filters.min_duration) > 0) having.push({ type: 'recording', key: 'duration', operator: 'gt', value: Number(filters.min_duration) });
    if (having.length) params.set('having_predicates', JSON.stringify(having));
    if (filters.console_errors) params.set('console_log_filters', JSON.stringify([{ type: 'log_entry', key: 'level', operator: 'exact', value: ['error'] }]));

    const table = $('recordings');
    const more = /** @type {HTMLButtonElement} */ ($('more'));
    /** @type {HTMLElement[]} */
    const rows = [];
    const shareBox = $('share-link');

    /** @param {any} recording */
    function row(recording) {
      const id = encodeURIComponent(recording.id);
      const share = h('button', { type: 'button', class: 'secondary', 'aria-label': `Share recording ${recording.id}` }, 'Share');
      const exportButton = h('button', { type: 'button', class: 'secondary', 'aria-label': `Export recording ${recording.id} as video` }, 'Export');
      share.addEventListener('click', async () => {
        try {
          const sharing = await api('PATCH', `${project}/session_recordings/${id}/sharing/`, { enabled: true });
          const link = `${location.origin}/shared/${sharing.access_token}`;
          shareBox.replaceChildren(h('p', {}, `Anyone with this link can watch recording ${recording.id}: `, h('a', { href: link, id: 'shared-link' }, link)));
          shareBox.hidden = false;
        } catch (error) {
          say(messageOf(error), true);
        }
      });
      exportButton.addEventListener('click', async () => {
        try {
          const created = await api('POST', `${project}/exports/`, { export_format: 'video/mp4', export_context: { session_recording_id: recording.id } });
          const message = $('message');
          message.classList.remove('error');
          message.replaceChildren(`Export ${created.id} of recording ${recording.id} started: it appears in `, h('a', { href: `${base}/exports` }, 'Exports'), ' when ready.');
        } catch (error) {
          say(messageOf(error), true);
        }
      });
      return h(
        'tr',
        { 'data-session-id': recording.id },
        h('td', {}, when(recording.start_time)),
        h('td', {}, recording.person?.name ?? recording.distinct_id ?? '—'),
        h('td', {}, duration(recording.recording_duration ?? 0)),
        h('td', { class: 'url' }, recording.start_url ?? '—'),
        h('td', {}, String(recording.console_error_count ?? 0)),
        h('td', { class: 'actions' }, h('a', { href: `${base}/project/${team.id}/replay/${id}`, 'aria-label': `Play recording ${recording.id}` }, 'Play'), share, exportButton),
      );
    }

    /** @param {string | undefined} after */
    async function page(after) {
      const query = new URLSearchParams(params);
      if (after) query.set('after', after);
      const body = await api('GET', `${project}/session_recordings/?${query}`);
      rows.push(...body.results.map(row));
      fill(table, rows, 'No recordings match these filters.');
      more.hidden = !body.has_next;
      more.dataset.after = body.next_cursor ?? '';
      say(`${rows.length} recording${rows.length === 1 ? '' : 's'}${body.has_next ? ' so far' : ''}.`);
    }
    more.addEventListener('click', () => page(more.dataset.after).catch((error) => say(messageOf(error), true)));
    await page(undefined);
  }

  // The user's exports with their download links.
  async function exportsList() {
    const { results } = await api('GET', `${project}/exports/?limit=100`);
    fill(
      $('exports'),
      results.map((/** @type {any} */ row) => {
        const status = row.has_content ? 'ready' : row.exception ? 'failed' : 'pending';
        return h(
          'tr',
          { 'data-export-id': String(row.id) },
          h('td', { class: 'url' }, row.filename),
          h('td', {}, row.export_format),
          h('td', {}, when(row.created_at)),
          h('td', {}, h('span', { class: `status ${status}`, ...(row.exception && { title: row.exception }) }, status)),
          h('td', {}, row.has_content ? h('a', { href: downloadUrl(row.id), 'aria-label': `Download ${row.filename}` }, 'Download') : ''),
        );
      }),
      'No exports yet.',
    );
  }

  /** What a subscription reports on, linked to the page that shows it now. @param {any} row */
  function reportsOn(row) {
    if (row.resource_type === 'heatmap' && row.saved_heatmap) {
      return h('a', { href: `${base}/heatmaps/${encodeURIComponent(row.saved_heatmap)}` }, `Heatmap: ${row.resource_name ?? row.saved_heatmap}`);
    }
    if (row.resource_type !== 'recordings') return row.resource_name ?? '—';
    const query = row.recordings_query ?? {};
    const params = new URLSearchParams();
    if (typeof query.date_from === 'string') params.set('date_from', query.date_from);
    const visited = (query.having_predicates ?? []).find((/** @type {any} */ p) => p.key === 'visited_page' && p.operator === 'icontains');
    if (visited) params.set('url', String(visited.value));
    return h('a', { href: `${base}/replay?${params}` }, visited ? `Recordings visiting “${visited.value}”` : 'Recordings');
  }

  // The subscriptions and the form to add one.
  async function subscriptions() {
    async function loadList() {
      const { results } = await api('GET', `${project}/subscriptions/?limit=100`);
      fill(
        $('subscriptions'),
        results.map((/** @type {any} */ row) =>
          h(
            'tr',
            { 'data-subscription-id': String(row.id) },
            h('td', {}, row.title ?? '—'),
            h('td', { class: 'url' }, reportsOn(row)),
            h('td', { class: 'url' }, `${row.target_type}: ${row.target_value}`),
            h('td', {}, row.summary),
            h('td', {}, when(row.next_delivery_date)),
          ),
        ),
        'No subscriptions yet.',
      );
    }

    const form = /** @type {HTMLFormElement} */ ($('subscription-form'));
    const select = /** @type {HTMLSelectElement} */ ($('saved_heatmap'));
    const { results: heatmaps } = await api('GET', `${project}/saved/?limit=200`);
    select.replaceChildren(...heatmaps.map((/** @type {any} */ hm) => h('option', { value: hm.short_id }, hm.name || hm.url)));
    const resource = () => /** @type {HTMLInputElement} */ (form.querySelector('input[name=resource]:checked')).value;
    for (const radio of form.querySelectorAll('input[name=resource]')) {
      radio.addEventListener('change', () => {
        for (const node of form.querySelectorAll('[data-resource]')) /** @type {HTMLElement} */ (node).hidden = /** @type {HTMLElement} */ (node).dataset.resource !== resource();
      });
    }
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const url = input('recordings_url').value.trim();
      const target = resource() === 'heatmap'
        ? { saved_heatmap: select.value }
        : {
            recordings_query: {
              date_from: input('recordings_from').value,
              ...(url && { having_predicates: [{ type: 'recording', key: 'visited_page', operator: 'icontains', value: url }] }),
            },
          };
      try {
        const created = await api('POST', `${project}/subscriptions/`, {
          title: input('title').value,
          target_type: input('target_type').value,
          target_value: input('target_value').value,
          frequency: input('frequency').value,
          interval: 1,
          start_date: new Date().toISOString(),
          ...target,
        });
        say(`Subscription “${created.title}” created: ${created.summary}.`);
        form.reset();
        await loadList();
      } catch (error) {
        say(messageOf(error), true);
      }
    });
    await loadList();
  }

  /** @type {Record<string, () => unknown>} */
  const pages = { login, home, heatmaps, heatmap, replay, exports: exportsList, subscriptions };
  Promise.resolve(pages[data.page]?.()).catch((error) => say(messageOf(error), true));
})();
