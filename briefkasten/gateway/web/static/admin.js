/* The operators' dashboard (/admin): log in, poll the summary and the dead letters every few
   seconds, retry or discard a dead letter after a confirmation.

   Runs under the gateway's strict CSP: no inline code, no eval, no style attributes; every text
   comes from the JSON block #texts and is inserted as text. The session token lives in
   sessionStorage (gone with the tab) and is sent only as Authorization: Bearer; no cookies. */
(function () {
  'use strict';

  const { $, format } = window.Briefkasten; // common.js
  const TEXTS = window.Briefkasten.texts();
  const TOKEN_KEY = 'briefkasten.admin.session';
  const POLL_MS = 5000;

  const state = {
    base: '',
    session: null, // { token, name, role }
    timer: null,
    pending: null, // { action, job }
  };

  function t(key, vars) {
    return format(TEXTS[key] || key, vars);
  }

  function message(body, status) {
    const error = body && body.error;
    return (error && (error.message_en || error.code)) || 'HTTP ' + status;
  }

  async function call(method, path, payload) {
    const headers = { Accept: 'application/json' };
    if (state.session) headers.Authorization = 'Bearer ' + state.session.token;
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(state.base + '/admin/api/' + path, {
        method: method,
        headers: headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
      });
    } catch (error) {
      return { status: 0, body: null };
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (response.status === 401 && state.session) {
      logout(t('session_expired'));
    }
    return { status: response.status, body: body };
  }

  // --- session ---------------------------------------------------------------------------

  function save(session) {
    state.session = session;
    try {
      if (session) sessionStorage.setItem(TOKEN_KEY, JSON.stringify(session));
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (error) {
      /* storage off: the session lasts as long as this page */
    }
  }

  function restore() {
    try {
      const raw = sessionStorage.getItem(TOKEN_KEY);
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function showLogin(text) {
    $('dashboard').hidden = true;
    $('who').hidden = true;
    $('login').hidden = false;
    $('login-alert').textContent = text || '';
    $('login-name').focus();
  }

  function showDashboard() {
    $('login').hidden = true;
    $('dashboard').hidden = false;
    $('who').hidden = false;
    $('who-text').textContent = t('logged_in_as', state.session);
    const readOnly = state.session.role !== 'operator';
    $('read-only').hidden = !readOnly;
    $('read-only').textContent = readOnly ? t('read_only') : '';
    refresh();
    if (state.timer === null) state.timer = setInterval(refresh, POLL_MS);
  }

  function logout(text) {
    save(null);
    if (state.timer !== null) clearInterval(state.timer);
    state.timer = null;
    hideConfirm();
    showLogin(text);
  }

  // Log out: the gateway revokes the token (for every gateway), then the page forgets it.
  async function endSession() {
    if (state.session) await call('POST', 'logout', {});
    logout('');
  }

  async function login(event) {
    event.preventDefault();
    const name = $('login-name').value.trim();
    const password = $('login-password').value;
    const totp = $('login-totp').value.replace(/\s+/g, '');
    $('login-alert').textContent = '';
    $('login-submit').disabled = true;
    const answer = await call('POST', 'login', { name: name, password: password, totp: totp });
    $('login-submit').disabled = false;
    $('login-password').value = '';
    $('login-totp').value = '';
    if (answer.status === 200 && answer.body && answer.body.token) {
      save({ token: answer.body.token, name: answer.body.name, role: answer.body.role });
      showDashboard();
      $('dashboard-alert').textContent = '';
      return;
    }
    $('login-alert').textContent = t('login_failed', { message: message(answer.body, answer.status) });
  }

  // --- figures ---------------------------------------------------------------------------

  function cell(row, text, numeric, header) {
    const node = document.createElement(header ? 'th' : 'td');
    if (header) node.scope = 'row';
    if (numeric) node.className = 'num';
    node.textContent = text === null || text === undefined ? t('unknown') : String(text);
    row.append(node);
    return node;
  }

  function fill(tableId, rows, columns) {
    const body = $(tableId).tBodies[0];
    body.textContent = '';
    if (!rows.length) {
      const row = body.insertRow();
      const node = cell(row, t('none'), false, false);
      node.colSpan = columns;
      return;
    }
    for (const values of rows) {
      const row = body.insertRow();
      values.forEach((value, index) => cell(row, value, index > 0, index === 0));
    }
  }

  function seconds(value) {
    return value === null || value === undefined ? '–' : value.toFixed(3);
  }

  function confidence(value) {
    return value === null || value === undefined ? '–' : value.toFixed(1);
  }

  function showSummary(s) {
    const q = s.queue || {};
    $('q-jobs').textContent = q.jobs_in_queue === null ? t('unknown') : String(q.jobs_in_queue);
    $('q-dead').textContent = q.dead_letters === null ? t('unknown') : String(q.dead_letters);
    $('q-outbox').textContent = q.outbox_pending === null ? t('unknown') : String(q.outbox_pending);
    $('f-pages').textContent = String(s.pages_processed);
    $('f-normalised').textContent = String(s.documents.normalised);
    $('f-failed').textContent = String(s.documents.normalisation_failed);
    $('f-storage').textContent = s.storage_errors === null ? t('unknown') : String(s.storage_errors);
    $('f-confidence').textContent = confidence(s.ocr_confidence_mean);
    const scoped = Array.isArray(s.scope) && s.scope.length > 0;
    for (const node of document.querySelectorAll('.global-only')) node.hidden = scoped;
    $('scope').hidden = !scoped;
    $('scope').textContent = scoped ? t('scope', { tenants: s.scope.join(', ') }) : '';
    const warnings = $('warnings');
    warnings.textContent = '';
    for (const text of s.warnings || []) {
      const item = document.createElement('li');
      item.textContent = text;
      warnings.append(item);
    }
    warnings.hidden = warnings.childElementCount === 0;
    fill('uploads-table', Object.entries(s.uploads.by_result), 2);
    fill(
      'tenants-table',
      s.tenants.map((x) => [
        x.tenant || '-',
        x.uploads_accepted,
        x.uploads_refused,
        x.pages,
        x.documents_normalised,
        x.documents_failed,
        confidence(x.ocr_confidence_mean),
      ]),
      7
    );
    fill(
      'steps-table',
      s.steps.map((x) => [x.step, x.count, seconds(x.p50_s), seconds(x.p95_s)]),
      4
    );
    fill('publish-table', Object.entries(s.publish), 2);
  }

  function button(text, label, action, job) {
    const node = document.createElement('button');
    node.type = 'button';
    node.className = 'btn';
    node.textContent = text;
    node.setAttribute('aria-label', label);
    node.dataset.action = action;
    node.dataset.job = job;
    return node;
  }

  function showDeadLetters(list) {
    const body = $('dead-table').tBodies[0];
    body.textContent = '';
    $('dead-empty').hidden = list.length > 0;
    $('dead-empty').textContent = list.length ? '' : t('no_dead_letters');
    $('dead-table').hidden = list.length === 0;
    const mayChange = state.session && state.session.role === 'operator';
    for (const job of list) {
      const row = body.insertRow();
      row.dataset.job = job.job_id || '';
      cell(row, job.job_id || '-', false, true);
      cell(row, job.submission_id || '-', false, false);
      cell(row, job.tenant || '-', false, false);
      cell(row, job.attempts, true, false);
      cell(row, job.reason || '-', false, false);
      const actions = cell(row, '', false, false);
      if (mayChange && job.job_id) {
        actions.append(
          button(t('retry'), t('retry_job', { job: job.job_id }), 'retry', job.job_id),
          ' ',
          button(t('discard'), t('discard_job', { job: job.job_id }), 'discard', job.job_id)
        );
      }
    }
  }

  let refreshing = false;

  async function refresh() {
    if (!state.session || refreshing) return;
    refreshing = true;
    try {
      const [summary, dead] = await Promise.all([
        call('GET', 'summary'),
        call('GET', 'dead-letters'),
      ]);
      if (!state.session) return;
      if (summary.status !== 200 || dead.status !== 200) {
        const failed = summary.status !== 200 ? summary : dead;
        $('status').textContent = t('update_failed', {
          message: message(failed.body, failed.status),
        });
        return;
      }
      showSummary(summary.body);
      showDeadLetters(dead.body.dead_letters);
      const time = new Date(summary.body.generated_at).toLocaleTimeString('en-GB');
      $('status').textContent = t('updated', { time: time });
    } finally {
      refreshing = false;
    }
  }

  // --- retry / discard with a confirmation -----------------------------------------------------

  function askConfirm(action, job, opener) {
    state.pending = { action: action, job: job, opener: opener };
    $('confirm-text').textContent = t(action === 'retry' ? 'confirm_retry' : 'confirm_discard', {
      job: job,
    });
    $('confirm-yes').textContent = t(action);
    $('confirm').hidden = false;
    $('confirm-yes').focus();
  }

  function hideConfirm() {
    state.pending = null;
    $('confirm').hidden = true;
  }

  async function confirmed() {
    const pending = state.pending;
    if (!pending) return;
    hideConfirm();
    const path = 'dead-letters/' + pending.action;
    const answer = await call('POST', path, { job_ids: [pending.job] });
    if (answer.status === 200) {
      $('dashboard-alert').textContent = t(pending.action === 'retry' ? 'done_retry' : 'done_discard', {
        job: pending.job,
      });
    } else if (answer.status !== 401) {
      $('dashboard-alert').textContent = t('action_failed', {
        message: message(answer.body, answer.status),
      });
    }
    await refresh();
    $('dead-title').focus();
  }

  function main() {
    const match = /^(.*)\/admin\/?$/.exec(location.pathname);
    state.base = match ? match[1] : '';
    $('dead-title').tabIndex = -1;
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', endSession);
    $('confirm-yes').addEventListener('click', confirmed);
    $('confirm-no').addEventListener('click', () => {
      const opener = state.pending && state.pending.opener;
      hideConfirm();
      if (opener && document.body.contains(opener)) opener.focus();
    });
    $('dead-table').addEventListener('click', (event) => {
      const target = event.target.closest('button[data-action]');
      if (target) askConfirm(target.dataset.action, target.dataset.job, target);
    });
    state.session = restore();
    if (state.session) showDashboard();
    else showLogin('');
  }

  main();
})();
