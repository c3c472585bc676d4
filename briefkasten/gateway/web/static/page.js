/* The upload page: check the link, choose the document type, add photos or files, upload each
   at once with tus (tus-js-client) and show the quick quality check, review, send, receipt,
   earlier submissions.

   Runs under a strict CSP: no inline code, no eval, no style attributes; every text comes from
   the JSON block #texts and is inserted as text (never as HTML). The link token is read from
   the address and sent only as "Authorization: Bearer"; nothing is kept in cookies or storage. */
(function () {
  'use strict';

  const { $, lookup, languageMenu } = window.Briefkasten; // common.js
  const ALL = window.Briefkasten.texts();
  const API = '/api/v1';
  const CHUNK_BYTES = 5 * 1024 * 1024;
  const PARALLEL_UPLOADS = 2;
  const SEND_RETRY_DELAYS = [1000, 2000, 4000];
  const MIB = 1024 * 1024;
  // The sniff allowlist of the gateway (briefkasten/pipeline/sniff.py).
  const ACCEPTED_TYPES = [
    'image/jpeg', 'image/png', 'image/heic', 'image/heif', 'image/tiff', 'image/webp',
    'image/bmp', 'image/gif', 'application/pdf',
  ];
  const ACCEPTED_NAMES = /\.(jpe?g|png|heic|heif|tiff?|webp|bmp|gif|pdf)$/i;
  const DONE_STATES = ['delivered', 'normalisation_failed'];

  const state = {
    lang: ALL.lang,
    base: '',
    token: '',
    link: null,
    items: [],
    nextId: 1,
    active: 0,
    step: 'loading',
    alerts: {},
    linkError: null,
    receipt: null,
    history: [],
    sendKey: null,
    sending: false,
    sentTypes: [],
    typeTouched: false,
    keptType: null,
    reviewWhenDone: false,
    redacting: false,
  };

  // --- helpers ----------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function t(key, vars) {
    return lookup(ALL, state.lang, key, vars);
  }

  /** A message that can be shown again in the other language: a text key or an API error. */
  function msg(key, vars) {
    return { key: key, vars: vars };
  }

  function render(message) {
    if (message.error) return errorText(message.error);
    return t(message.key, message.vars);
  }

  /** Our applicant text for the error's code in the page's language (message_en is written for
      operators); the server's message_de for a code we do not know. */
  function errorText(error) {
    const ours = ALL[state.lang].errors[error.code];
    return ours || error.message_de || t('upload_error');
  }

  /** A suggested type the review step hints at only from this confidence on (0-1). */
  const HINT_CONFIDENCE = 0.6;

  /** The advice on a photo (a finding of the quick check) in the page's language. */
  function adviceText(finding) {
    return ALL[state.lang].advice[finding.code] || finding.message_de || '';
  }

  function typeLabel(code) {
    const catalogue = (state.link && state.link.catalogue) || [];
    const entry = catalogue.find((c) => c.code === code);
    if (!entry) return code;
    return (entry.labels && entry.labels[state.lang]) || entry.label_de || code;
  }

  function formatDate(iso) {
    const date = new Date(iso);
    if (!iso || Number.isNaN(date.getTime())) return iso || '';
    try {
      return new Intl.DateTimeFormat(t('date_format'), {
        dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Berlin',
      }).format(date);
    } catch (error) {
      return date.toLocaleString();
    }
  }

  function randomKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  let announceTimer = null;
  const announcements = [];

  /** Say something to screen readers through the polite live region. */
  function announce(text) {
    announcements.push(text);
    clearTimeout(announceTimer);
    announceTimer = setTimeout(() => {
      $('announcer').textContent = announcements.splice(0).join(' ');
    }, 150);
  }

  function setAlert(id, messages) {
    state.alerts[id] = messages;
    renderAlert(id);
  }

  function clearAlert(id) {
    delete state.alerts[id];
    renderAlert(id);
  }

  function renderAlert(id) {
    const box = $(id);
    box.textContent = '';
    for (const message of state.alerts[id] || []) box.append(el('p', '', render(message)));
  }

  // --- the API ------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, error) {
      super((error && error.message_en) || 'request failed with status ' + status);
      this.status = status;
      this.error = error || null;
    }
  }

  function resolve(path) {
    if (/^https?:/.test(path)) return path;
    return path.startsWith(state.base + '/') ? path : state.base + path;
  }

  async function api(path, options) {
    options = options || {};
    const headers = Object.assign(
      { Authorization: 'Bearer ' + state.token, Accept: 'application/json' },
      options.headers || {}
    );
    const init = {
      method: options.method || 'GET',
      headers: headers,
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    };
    if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.json);
    }
    let response;
    try {
      response = await fetch(resolve(path), init);
    } catch (error) {
      throw new ApiError(0, null);
    }
    if (response.ok && options.raw) return response;
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (!response.ok) throw new ApiError(response.status, body && body.error);
    return body;
  }

  function messageOf(error, fallback) {
    if (error && error.error && error.error.message_de) return { error: error.error };
    if (error && error.status === 0) return msg('network_error');
    return msg(fallback || 'upload_error');
  }

  // --- language -------------------------------------------------------------------------------

  function applyTexts() {
    for (const node of document.querySelectorAll('[data-t]')) node.textContent = t(node.dataset.t);
  }

  function switchLanguage(code) {
    state.lang = code;
    applyTexts();
    renderAll();
  }

  function renderAll() {
    for (const id of Object.keys(state.alerts)) renderAlert(id);
    if (state.linkError) $('link-error-text').textContent = render(state.linkError);
    if (state.link) {
      renderLink();
      renderTypes();
      renderItems();
      renderReview();
      renderReceipt();
      renderHistory();
    }
  }

  // --- steps ----------------------------------------------------------------------------------

  const HEADINGS = {
    collect: 'collect-title',
    review: 'review-title',
    receipt: 'receipt-title',
    error: 'link-error-title',
  };

  function showStep(name, focus) {
    state.step = name;
    $('loading').hidden = true;
    $('link-error').hidden = name !== 'error';
    $('step-collect').hidden = name !== 'collect';
    $('step-review').hidden = name !== 'review';
    $('step-receipt').hidden = name !== 'receipt';
    $('tenant').hidden = name === 'error' || !state.link;
    if (name === 'error') $('tenant-logo').hidden = true;
    $('valid-until').hidden = name === 'error' || !state.link;
    $('history').hidden = name === 'error' || state.history.length === 0;
    if (focus) $(HEADINGS[name]).focus();
  }

  function showLinkError(message, retry) {
    state.linkError = message;
    state.link = null;
    $('link-error-text').textContent = render(message);
    $('link-retry').hidden = !retry;
    showStep('error', false);
  }

  async function start(focus) {
    $('loading').hidden = false;
    $('link-error').hidden = true;
    if (typeof tus === 'undefined' || !tus.isSupported) {
      showLinkError(msg('upload_error'), false);
      return;
    }
    try {
      state.link = await api(API + '/upload-links/self');
    } catch (error) {
      const final = error.status === 401 || error.status === 403 || error.status === 404;
      showLinkError(messageOf(error, 'link_invalid'), !final);
      if (focus) $('link-error-title').focus();
      return;
    }
    state.linkError = null;
    buildTypes();
    renderLink();
    showStep('collect', focus);
    loadHistory();
  }

  function renderLink() {
    const link = state.link;
    const tenantPages = state.base + '/t/' + encodeURIComponent(link.tenant);
    $('easy-link').href = tenantPages + '/einfach?lang=' + state.lang;
    $('a11y-link').href = tenantPages + '/barrierefreiheit?lang=' + state.lang;
    $('footer-links').hidden = false;
    $('tenant').textContent = t('to_jobcenter', { name: link.tenant_name || link.tenant });
    const logo = $('tenant-logo');
    if (link.logo_url && !logo.getAttribute('src')) {
      logo.addEventListener('load', () => {
        logo.hidden = state.step === 'error';
      }, { once: true });
      logo.src = resolve(link.logo_url);
    }
    $('valid-until').textContent = link.expires_at
      ? t('valid_until', { date: formatDate(link.expires_at) })
      : '';
    const requested = link.requested_types || [];
    $('requested').hidden = requested.length === 0;
    const list = $('requested-list');
    list.textContent = '';
    const sent = sentTypes();
    for (const code of requested) {
      const label = typeLabel(code);
      list.append(el('li', '', sent.includes(code) ? t('requested_sent', { type: label }) : label));
    }
  }

  // --- document type --------------------------------------------------------------------------

  function buildTypes() {
    const box = $('type-options');
    box.textContent = '';
    for (const code of state.link.document_types || []) {
      const label = el('label', 'choice');
      const input = el('input');
      input.type = 'radio';
      input.name = 'document_type';
      input.value = code;
      input.addEventListener('change', () => {
        state.typeTouched = true;
        clearAlert('collect-alert');
      });
      label.append(input, el('span', 'choice-label'));
      box.append(label);
    }
    preselect();
    renderTypes();
  }

  function preselect() {
    const link = state.link;
    const types = link.document_types || [];
    const requested = link.requested_types || [];
    const sent = sentTypes();
    const open = requested.filter((code) => !sent.includes(code));
    const choice = open[0] || requested[0] || (types.length === 1 ? types[0] : null);
    for (const input of document.querySelectorAll('input[name="document_type"]')) {
      input.checked = input.value === choice;
    }
  }

  /** The types sent in this visit or, as the history says, before. */
  function sentTypes() {
    const earlier = state.history.flatMap((s) => (s.documents || []).map((d) => d.document_type));
    return state.sentTypes.concat(earlier);
  }

  function renderTypes() {
    for (const label of $('type-options').children) {
      const input = label.querySelector('input');
      label.querySelector('.choice-label').textContent = typeLabel(input.value);
    }
  }

  function selectedType() {
    const input = document.querySelector('input[name="document_type"]:checked');
    return input ? input.value : null;
  }

  // --- pages ----------------------------------------------------------------------------------

  function accepted(file) {
    return ACCEPTED_TYPES.includes(file.type) || ACCEPTED_NAMES.test(file.name || '');
  }

  function addFiles(fileList) {
    clearAlert('collect-alert');
    releaseHeld(); // the applicant moved on: the pages added before may go now
    state.reviewWhenDone = false;
    const limits = state.link.limits || {};
    const problems = [];
    let added = 0;
    for (const file of Array.from(fileList)) {
      if (limits.max_files && state.items.length >= limits.max_files) {
        problems.push(msg('too_many', { max: limits.max_files }));
        break;
      }
      const name = file.name || 'foto.jpg';
      if (!accepted(file)) {
        problems.push(msg('wrong_type', { name: name }));
        continue;
      }
      if (limits.max_file_bytes && file.size > limits.max_file_bytes) {
        problems.push(msg('too_big', { name: name, mb: Math.floor(limits.max_file_bytes / MIB) }));
        continue;
      }
      const item = newItem(file, name);
      state.items.push(item);
      added += 1;
    }
    if (problems.length) setAlert('collect-alert', problems);
    if (added) announce(t('announce_added', { n: added }));
    renderItems();
    pump();
  }

  function newItem(file, name) {
    const list = $('page-list');
    const isPdf = file.type === 'application/pdf' || /\.pdf$/i.test(name);
    const item = {
      id: state.nextId++,
      file: file,
      name: name,
      isPdf: isPdf,
      preview: isPdf ? list.dataset.pdfIcon : URL.createObjectURL(file),
      status: isPdf || !redactable() ? 'waiting' : 'held',
      redacted: false,
      sent: 0,
      total: file.size,
      upload: null,
      uploadUrl: null,
      uploadId: null,
      findings: [],
      suggestion: null,
      pages: null,
      error: null,
      rejected: false,
      removed: false,
    };
    buildCard(item);
    return item;
  }

  function cardButton(className, icon, onClick) {
    const button = el('button', 'btn small ' + className);
    button.type = 'button';
    const symbol = el('span', '', icon);
    symbol.setAttribute('aria-hidden', 'true');
    button.append(symbol, el('span', 'label'), el('span', 'visually-hidden'));
    button.addEventListener('click', onClick);
    return button;
  }

  function buildCard(item) {
    const li = el('li', 'card');
    const img = el('img', 'thumb');
    img.alt = '';
    img.width = 80;
    img.height = 104;
    img.addEventListener('error', () => {
      img.src = $('page-list').dataset.fileIcon;
    }, { once: true });
    img.src = item.preview;
    const info = el('div', 'card-info');
    const title = el('p', 'card-title');
    const name = el('p', 'file-name', item.name);
    const progress = el('progress');
    progress.max = 100;
    progress.value = 0;
    const status = el('p', 'card-status');
    info.append(title, name, progress, status);
    const findings = el('ul', 'findings');
    const error = el('p', 'card-error');
    const actions = el('div', 'card-actions');
    const up = cardButton('secondary', '↑', () => move(item, -1));
    const down = cardButton('secondary', '↓', () => move(item, 1));
    const remove = cardButton('danger', '✕', () => removeItem(item));
    const retry = cardButton('primary', '↻', () => retryUpload(item));
    actions.append(up, down, remove, retry);
    li.append(img, info, findings, error, actions);
    item.el = { li, img, title, progress, status, findings, error, up, down, remove, retry };
    addRedactButtons(item, actions);
  }

  function setButton(button, label, context) {
    button.querySelector('.label').textContent = label;
    button.querySelector('.visually-hidden').textContent = ' (' + context + ')';
  }

  function percent(item) {
    if (item.status === 'checking' || item.status === 'done') return 100;
    return item.total ? Math.floor((item.sent * 100) / item.total) : 0;
  }

  function renderItems() {
    const list = $('page-list');
    state.items.forEach((item, index) => {
      if (list.children[index] !== item.el.li) {
        list.insertBefore(item.el.li, list.children[index] || null);
      }
      renderCard(item, index);
    });
    $('no-pages').hidden = state.items.length > 0;
    renderOverall();
  }

  function renderCard(item, index) {
    const e = item.el;
    const page = t('page_n', { n: index + 1 });
    let title = page;
    if (item.isPdf && item.pages) {
      title += ' – ' + (item.pages === 1 ? t('pdf_page') : t('pdf_pages', { n: item.pages }));
    }
    e.title.textContent = title;
    e.progress.value = percent(item);
    e.progress.hidden = ['done', 'failed', 'locked', 'held'].includes(item.status);
    e.progress.setAttribute('aria-label', t('upload_progress', { name: item.name }));
    const status = {
      held: t('status_held'),
      waiting: t('status_waiting'),
      uploading: t('status_uploading', { percent: percent(item) }),
      checking: t('status_checking'),
      done: item.findings.length ? t('status_warning') : t('status_done'),
      failed: t('status_failed'),
      locked: t('status_locked'),
    }[item.status];
    e.status.textContent = status;
    e.findings.textContent = '';
    for (const finding of item.findings) {
      const entry = el('li', 'finding');
      entry.append(
        el('strong', '', t('finding_prefix')),
        document.createTextNode(' ' + adviceText(finding) + ' ' + t('finding_may_send'))
      );
      e.findings.append(entry);
    }
    e.findings.hidden = item.findings.length === 0;
    e.error.hidden = !item.error;
    e.error.textContent = item.error ? render(item.error) : '';
    e.li.classList.toggle('has-warning', item.findings.length > 0);
    e.li.classList.toggle('has-error', item.status === 'failed');
    setButton(e.up, t('move_up'), page);
    setButton(e.down, t('move_down'), page);
    setButton(e.remove, t('remove'), page);
    setButton(e.retry, t('retry_upload'), page);
    e.up.disabled = index === 0;
    e.down.disabled = index === state.items.length - 1;
    e.retry.hidden = item.status !== 'failed' || item.rejected;
    renderLock(item);
    renderRedactButtons(item, page);
  }

  function renderItem(item) {
    const index = state.items.indexOf(item);
    if (index >= 0) renderCard(item, index);
    renderOverall();
  }

  function renderOverall() {
    const items = state.items.filter((item) => !item.rejected);
    $('overall').hidden = state.items.length === 0;
    let total = 0;
    let sent = 0;
    for (const item of items) {
      total += item.total;
      sent += (percent(item) / 100) * item.total;
    }
    $('overall-progress').value = total ? Math.floor((sent * 100) / total) : 0;
    const done = items.filter((item) => item.status === 'done').length;
    $('overall-status').textContent = t('overall_status', { done: done, total: items.length });
  }

  function move(item, delta) {
    const from = state.items.indexOf(item);
    const to = from + delta;
    if (from < 0 || to < 0 || to >= state.items.length) return;
    state.items.splice(from, 1);
    state.items.splice(to, 0, item);
    renderItems();
    const same = delta < 0 ? item.el.up : item.el.down;
    const other = delta < 0 ? item.el.down : item.el.up;
    (same.disabled ? other : same).focus();
    announce(t('announce_moved', { n: to + 1 }));
  }

  function removeItem(item) {
    const index = state.items.indexOf(item);
    if (index < 0) return;
    item.removed = true;
    if (item.status === 'uploading') {
      state.active -= 1;
      item.upload.abort(true).catch(() => {});
    } else if (item.uploadUrl) {
      terminate(item.uploadUrl);
    }
    if (item.preview.startsWith('blob:')) URL.revokeObjectURL(item.preview);
    state.items.splice(index, 1);
    item.el.li.remove();
    renderItems();
    pump();
    announce(t('announce_removed'));
    const next = state.items[index] || state.items[index - 1];
    (next ? next.el.remove : $('take-photo')).focus();
  }

  function terminate(url) {
    fetch(resolve(url), {
      method: 'DELETE',
      headers: { Authorization: 'Bearer ' + state.token, 'Tus-Resumable': '1.0.0' },
      credentials: 'omit',
    }).catch(() => {});
  }

  function forgetItems() {
    for (const item of state.items) {
      item.removed = true;
      if (item.preview.startsWith('blob:')) URL.revokeObjectURL(item.preview);
      item.el.li.remove();
    }
    state.items = [];
    renderItems();
  }

  // --- uploads (tus) --------------------------------------------------------------------------

  function pump() {
    for (const item of state.items) {
      if (state.active >= PARALLEL_UPLOADS) return;
      if (item.status === 'waiting') startUpload(item);
    }
  }

  function startUpload(item) {
    state.active += 1;
    item.status = 'uploading';
    item.error = null;
    if (!item.upload) item.upload = newUpload(item);
    item.upload.start();
    renderItem(item);
  }

  function newUpload(item) {
    return new tus.Upload(item.file, {
      endpoint: resolve(API + '/tus/'),
      headers: { Authorization: 'Bearer ' + state.token },
      metadata: uploadMetadata(item),
      chunkSize: CHUNK_BYTES,
      retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      onShouldRetry: (error) => {
        const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
        if (status === 409 || status === 423 || status === 429) return true;
        return !(status >= 400 && status < 500);
      },
      onProgress: (sent, total) => {
        if (item.removed) return;
        item.sent = sent;
        item.total = total;
        renderItem(item);
      },
      onSuccess: () => {
        if (item.removed) return;
        state.active -= 1;
        item.uploadUrl = item.upload.url;
        item.uploadId = item.upload.url.replace(/\/+$/, '').split('/').pop();
        item.status = 'checking';
        renderItem(item);
        pump();
        check(item);
      },
      onError: (error) => {
        if (item.removed) return;
        state.active -= 1;
        state.reviewWhenDone = false;
        if (lockedUpload(item, error)) return; // a PDF with a password: ask for it
        const failure = uploadFailure(error);
        item.status = 'failed';
        item.error = failure.message;
        item.rejected = failure.final;
        renderItem(item);
        const index = state.items.indexOf(item);
        announce(t('page_n', { n: index + 1 }) + ': ' + render(failure.message));
        pump();
      },
    });
  }

  function uploadFailure(error) {
    const response = error && error.originalResponse;
    if (response) {
      const status = response.getStatus();
      let body = null;
      try {
        body = JSON.parse(response.getBody());
      } catch (parseError) {
        body = null;
      }
      const final = status >= 400 && status < 500 && ![409, 423, 429].includes(status);
      if (body && body.error && body.error.message_de) return { message: { error: body.error }, final: final };
      return { message: msg('upload_error'), final: final };
    }
    return { message: msg('network_error'), final: false };
  }

  function retryUpload(item) {
    if (item.status !== 'failed') return;
    item.status = 'waiting';
    item.error = null;
    renderItem(item);
    item.el.remove.focus();
    pump();
  }

  async function check(item) {
    try {
      const result = await api(API + '/tus/' + encodeURIComponent(item.uploadId) + '/check');
      item.findings = Array.isArray(result.findings) ? result.findings : [];
      item.pages = result.pages || null;
      item.suggestion = result.suggestion || null;
    } catch (error) {
      item.findings = []; // the quick check only helps: the upload itself is fine
      item.suggestion = null;
    }
    if (item.removed) return;
    item.status = 'done';
    const n = state.items.indexOf(item) + 1;
    announce(t('announce_done', { n: n }));
    for (const finding of item.findings) {
      announce(t('announce_finding', { n: n, message: adviceText(finding) }));
    }
    renderItem(item);
    reviewWhenReady();
  }

  // --- redaction: an image page is held back until the applicant moved on ---------------------
  // A new image page is 'held': not uploaded, with "Stellen schwärzen" and "So lassen". It goes
  // (status 'waiting', then tus) when the applicant adds the next pages, presses "continue" or
  // chooses "So lassen"; redacting replaces its file first. So a page that is redacted was
  // never sent unredacted, and "Stellen schwärzen" is offered only while nothing was sent.

  function redactable() {
    const redactor = window.BriefkastenRedactor; // redact.js
    return Boolean(redactor && redactor.available());
  }

  function addRedactButtons(item, actions) {
    if (item.status !== 'held') return;
    item.el.redactedNote = el('p', 'card-redacted');
    item.el.status.after(item.el.redactedNote);
    item.el.redact = cardButton('primary', '▮', () => redactItem(item));
    item.el.keep = cardButton('secondary', '✓', () => releaseItem(item, true));
    actions.prepend(item.el.redact, item.el.keep);
  }

  function renderRedactButtons(item, page) {
    const e = item.el;
    if (!e.redact) return;
    setButton(e.redact, t('redact'), page);
    setButton(e.keep, t('redact_keep'), page);
    e.redact.hidden = e.keep.hidden = item.status !== 'held';
    e.redactedNote.hidden = !item.redacted;
    e.redactedNote.textContent = item.redacted ? t('redacted_note') : '';
  }

  function releaseItem(item, announceIt) {
    if (item.status !== 'held' || item.removed) return;
    const focused = [item.el.keep, item.el.redact].includes(document.activeElement);
    item.status = 'waiting';
    renderItem(item);
    if (focused) item.el.remove.focus(); // the buttons it was on are gone
    if (announceIt) announce(t('announce_kept', { n: state.items.indexOf(item) + 1 }));
    pump();
  }

  function releaseHeld() {
    for (const item of state.items) if (item.status === 'held') item.status = 'waiting';
    renderItems();
    pump();
  }

  async function redactItem(item) {
    if (item.status !== 'held' || state.redacting) return; // one editor at a time
    const n = state.items.indexOf(item) + 1;
    let file = null;
    state.redacting = true;
    try {
      file = await window.BriefkastenRedactor.open(item.file, t);
    } catch (error) {
      item.error = msg('redact_failed');
      renderItem(item);
      item.el.redact.focus();
      return;
    } finally {
      state.redacting = false;
    }
    if (item.removed || item.status !== 'held') return;
    if (file) {
      if (item.preview.startsWith('blob:')) URL.revokeObjectURL(item.preview);
      item.file = file;
      item.name = file.name;
      item.total = file.size;
      item.redacted = true;
      item.error = null;
      item.preview = URL.createObjectURL(file);
      item.el.img.src = item.preview;
      item.el.li.querySelector('.file-name').textContent = item.name;
      renderItem(item);
      announce(t('announce_redacted', { n: n }));
    }
    item.el.redact.focus();
  }

  function uploadMetadata(item) {
    const metadata = { filename: item.name, filetype: item.file.type || 'application/octet-stream' };
    if (item.redacted) metadata.redacted_by_applicant = 'true';
    return metadata;
  }

  /** After "continue" had to wait for uploads: on to the review once every page is up. */
  function reviewWhenReady() {
    if (!state.reviewWhenDone || state.step !== 'collect') return;
    if (state.items.every((item) => item.status === 'done')) toReview();
  }

  // --- password-protected PDFs (issue 14) ----------------------------------------------------
  // The gateway keeps a locked PDF's upload and answers its last PATCH with 422
  // pdf_password_required; the card then asks for the password and sends it once to
  // POST …/tus/<id>/unlock. The password lives only in the input field: never in `state`,
  // never in the address, never in storage; the field is emptied after every try.

  function lockedUpload(item, error) {
    const response = error && error.originalResponse;
    if (!response || response.getStatus() !== 422) return false;
    let body = null;
    try {
      body = JSON.parse(response.getBody());
    } catch (parseError) {
      return false;
    }
    if (!body || !body.error || body.error.code !== 'pdf_password_required') return false;
    item.uploadUrl = item.upload.url;
    item.uploadId = item.upload.url.replace(/\/+$/, '').split('/').pop();
    item.status = 'locked';
    item.error = null;
    item.lock = buildLock(item);
    item.el.li.insertBefore(item.lock.form, item.el.error);
    renderItem(item);
    pump();
    announce(t('page_n', { n: state.items.indexOf(item) + 1 }) + ': ' + errorText(body.error));
    item.lock.input.focus();
    return true;
  }

  function buildLock(item) {
    const id = 'unlock-' + item.id;
    const form = el('form', 'unlock');
    form.noValidate = true;
    const hint = el('p', 'unlock-hint');
    hint.id = id + '-hint';
    const label = el('label', 'unlock-label');
    label.htmlFor = id;
    const input = el('input', 'unlock-input');
    input.type = 'password';
    input.id = id;
    input.autocomplete = 'off';
    input.spellcheck = false;
    input.setAttribute('autocapitalize', 'off');
    input.required = true;
    const problem = el('p', 'unlock-error');
    problem.id = id + '-error';
    problem.setAttribute('role', 'alert');
    problem.hidden = true;
    input.setAttribute('aria-describedby', hint.id + ' ' + problem.id);
    const show = el('button', 'btn small secondary unlock-show');
    show.type = 'button';
    show.setAttribute('aria-controls', id);
    show.setAttribute('aria-pressed', 'false');
    show.addEventListener('click', () => {
      const visible = input.type === 'password';
      input.type = visible ? 'text' : 'password';
      show.setAttribute('aria-pressed', visible ? 'true' : 'false');
      renderLock(item);
      input.focus();
    });
    const open = el('button', 'btn primary unlock-open');
    open.type = 'submit';
    const row = el('div', 'unlock-row');
    row.append(input, show);
    form.append(hint, label, row, open, problem);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      unlockItem(item);
    });
    return { form, hint, label, input, show, open, problem, message: null, busy: false };
  }

  function renderLock(item) {
    const lock = item.lock;
    if (!lock) return;
    lock.hint.textContent = errorText({ code: 'pdf_password_required' });
    lock.label.textContent = t('password_label');
    lock.show.textContent = lock.input.type === 'password' ? t('password_show') : t('password_hide');
    lock.open.textContent = t('password_unlock');
    lock.problem.hidden = !lock.message;
    lock.problem.textContent = lock.message ? render(lock.message) : '';
    lock.input.setAttribute('aria-invalid', lock.message ? 'true' : 'false');
  }

  async function unlockItem(item) {
    const lock = item.lock;
    if (!lock || lock.busy) return;
    const password = lock.input.value;
    if (!password) {
      lock.message = { error: { code: 'pdf_password_required' } };
      renderLock(item);
      lock.input.focus();
      return;
    }
    lock.busy = true;
    lock.open.setAttribute('aria-disabled', 'true');
    let result = null;
    let failure = null;
    try {
      result = await api(API + '/tus/' + encodeURIComponent(item.uploadId) + '/unlock', {
        method: 'POST',
        json: { password: password },
      });
    } catch (error) {
      failure = error;
    }
    lock.input.value = '';
    lock.busy = false;
    lock.open.removeAttribute('aria-disabled');
    if (item.removed) return;
    if (result) {
      lock.form.remove();
      item.lock = null;
      item.pages = result.pages || null;
      item.status = 'checking';
      renderItem(item);
      check(item);
      return;
    }
    const code = failure && failure.error ? failure.error.code : '';
    if (code === 'pdf_password_wrong' || code === 'invalid_request' || !failure.status) {
      lock.message = messageOf(failure);
      renderLock(item);
      announce(render(lock.message));
      lock.input.focus();
      return;
    }
    lock.form.remove(); // three wrong tries, or refused: the upload is gone
    item.lock = null;
    item.uploadUrl = null;
    item.status = 'failed';
    item.rejected = true;
    item.error = messageOf(failure);
    renderItem(item);
    announce(render(item.error));
    item.el.remove.focus();
  }

  // --- review and send --------------------------------------------------------------------------

  function toReview() {
    clearAlert('collect-alert');
    releaseHeld(); // "continue": the pages still held go now
    if (!selectedType()) {
      setAlert('collect-alert', [msg('need_type')]);
      const first = document.querySelector('input[name="document_type"]');
      if (first) first.focus();
      return;
    }
    if (state.items.length === 0) {
      setAlert('collect-alert', [msg('need_pages')]);
      return;
    }
    const failed = state.items.find((item) => item.status === 'failed');
    if (failed) {
      setAlert('collect-alert', [msg('fix_failed')]);
      failed.el.remove.focus();
      return;
    }
    const locked = state.items.find((item) => item.status === 'locked');
    if (locked) { // a PDF waits for its password: the applicant, not an upload, must act
      setAlert('collect-alert', [msg('status_locked')]);
      locked.lock.input.focus();
      return;
    }
    if (state.items.some((item) => item.status !== 'done')) {
      setAlert('collect-alert', [msg('wait_uploads')]);
      state.reviewWhenDone = true; // on to the review once they are up
      return;
    }
    state.reviewWhenDone = false;
    clearAlert('review-alert');
    renderReview();
    showStep('review', true);
  }

  function renderReview() {
    const type = selectedType();
    $('review-type').textContent = type ? typeLabel(type) : '';
    const list = $('review-list');
    list.textContent = '';
    let warned = 0;
    state.items.forEach((item, index) => {
      const entry = el('li', '', t('page_n', { n: index + 1 }) + ': ' + item.name);
      if (item.findings.length) {
        warned += 1;
        entry.append(el('span', 'finding-note', t('finding_prefix') + ' ' +
          item.findings.map(adviceText).join(' ')));
      }
      list.append(entry);
    });
    const warnings = $('review-warnings');
    warnings.hidden = warned === 0;
    warnings.textContent = warned === 1 ? t('review_warning_one') : t('review_warnings', { n: warned });
    renderSuggestion();
  }

  /** The type the pages' own text confidently suggests, when it differs from the chosen one
      and could be chosen instead (a type of this link); null otherwise. Only a hint. */
  function suggestedType() {
    const chosen = selectedType();
    const offered = (state.link && state.link.document_types) || [];
    let best = null;
    for (const item of state.items) {
      const s = item.suggestion;
      if (!s || s.confidence < HINT_CONFIDENCE || s.type === 'sonstiges') continue;
      if (s.type === chosen || !offered.includes(s.type)) continue;
      if (!ALL[state.lang].suggest[s.type]) continue;
      if (!best || s.confidence > best.confidence) best = s;
    }
    if (!best || state.keptType === chosen) return null;
    return best.type;
  }

  function renderSuggestion() {
    const box = $('review-suggestion');
    const code = suggestedType();
    box.hidden = code === null;
    if (code === null) return;
    $('review-suggestion-text').textContent = ALL[state.lang].suggest[code];
    const change = $('suggestion-change');
    change.textContent = t('suggest_change', { type: typeLabel(code) });
    change.dataset.type = code;
    $('suggestion-keep').textContent = t('suggest_keep');
  }

  /** The applicant takes the suggested type: it is chosen, as if picked in the list. */
  function takeSuggestion() {
    const code = $('suggestion-change').dataset.type;
    for (const input of document.querySelectorAll('input[name="document_type"]')) {
      input.checked = input.value === code;
    }
    state.typeTouched = true;
    renderReview();
    announce(t('review_type') + ': ' + typeLabel(code));
    $('send').focus();
  }

  /** The applicant keeps the chosen type: no hint for it again. */
  function keepType() {
    state.keptType = selectedType();
    renderSuggestion();
    $('send').focus();
  }

  async function send() {
    if (state.sending) return;
    const type = selectedType();
    const note = $('note').value.trim().slice(0, 500);
    const documentBody = { document_type: type, uploads: state.items.map((item) => item.uploadId) };
    if (note) documentBody.note = note;
    const body = { documents: [documentBody] };
    const signature = JSON.stringify(body);
    // One key per content: a retry after a lost answer finds the first receipt, not a copy.
    if (!state.sendKey || state.sendKey.signature !== signature) {
      state.sendKey = { signature: signature, key: randomKey() };
    }
    state.sending = true;
    $('send').setAttribute('aria-disabled', 'true');
    $('back').setAttribute('aria-disabled', 'true');
    $('sending').textContent = t('sending');
    clearAlert('review-alert');
    try {
      const receipt = await withRetries(() => api(API + '/submissions', {
        method: 'POST',
        json: body,
        headers: { 'Idempotency-Key': state.sendKey.key },
      }));
      state.receipt = receipt;
      state.sentTypes.push(type);
      state.sendKey = null;
      forgetItems(); // the server took the uploads over
      $('note').value = '';
      renderReceipt();
      showStep('receipt', true);
      loadHistory();
    } catch (error) {
      setAlert('review-alert', [msg('send_failed'), messageOf(error, 'network_error')]);
    } finally {
      state.sending = false;
      $('send').removeAttribute('aria-disabled');
      $('back').removeAttribute('aria-disabled');
      $('sending').textContent = '';
    }
  }

  async function withRetries(request) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await request();
      } catch (error) {
        const transient = error.status === 0 || (error.status >= 502 && error.status <= 504);
        if (!transient || attempt >= SEND_RETRY_DELAYS.length) throw error;
        await sleep(SEND_RETRY_DELAYS[attempt]);
      }
    }
  }

  function back() {
    if (state.sending) return;
    showStep('collect', true);
  }

  // --- receipt ---------------------------------------------------------------------------------

  function renderReceipt() {
    const answer = state.receipt;
    if (!answer) return;
    const receipt = answer.receipt || {};
    $('receipt-jobcenter').textContent = state.link.tenant_name || state.link.tenant || '';
    $('receipt-case').textContent = receipt.case_number || '';
    $('receipt-received').textContent = formatDate(answer.received_at);
    $('receipt-number').textContent = answer.submission_id || '';
    const box = $('receipt-documents');
    box.textContent = '';
    for (const document_ of receipt.documents || []) {
      const files = document_.files || [];
      const pages = files.reduce((sum, file) => sum + (file.pages || 0), 0);
      const part = el('div', 'document');
      part.append(el('h4', '', typeLabel(document_.document_type)));
      part.append(el('p', '', t('receipt_pages', { n: pages })));
      const list = el('ol');
      for (const file of files) {
        const entry = el('li');
        entry.append(el('strong', 'file-name', file.name), el('br'));
        const hash = el('code', 'mono', file.sha256);
        hash.dir = 'ltr';
        entry.append(el('span', '', t('receipt_checksum') + ' '), hash);
        if (file.duplicate_of) entry.append(el('br'), el('em', '', t('receipt_duplicate')));
        list.append(entry);
      }
      part.append(list);
      box.append(part);
    }
  }

  /** The receipt PDF's path, in the page's language. */
  function receiptPath(submissionId, given) {
    const path = given || API + '/submissions/' + encodeURIComponent(submissionId) + '/receipt.pdf';
    return path + (path.includes('?') ? '&' : '?') + 'lang=' + encodeURIComponent(state.lang);
  }

  async function savePdf(path, submissionId, alertId) {
    clearAlert(alertId);
    try {
      const response = await api(path, { raw: true, headers: { Accept: 'application/pdf' } });
      const blob = await response.blob();
      const href = URL.createObjectURL(blob);
      const anchor = el('a');
      anchor.href = href;
      anchor.download = 'Eingangsbestaetigung-' + submissionId + '.pdf';
      anchor.hidden = true;
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
      setTimeout(() => URL.revokeObjectURL(href), 60000);
      announce(t('pdf_saved'));
    } catch (error) {
      setAlert(alertId, [msg('pdf_failed')]);
    }
  }

  function sendMore() {
    state.receipt = null;
    state.typeTouched = false;
    state.keptType = null;
    clearAlert('receipt-alert');
    preselect();
    renderItems();
    showStep('collect', true);
  }

  // --- earlier submissions ------------------------------------------------------------------------

  async function loadHistory() {
    try {
      const answer = await api(API + '/upload-links/self/submissions');
      state.history = Array.isArray(answer.submissions) ? answer.submissions : [];
    } catch (error) {
      state.history = [];
    }
    renderHistory();
    $('history').hidden = state.step === 'error' || state.history.length === 0;
    if (state.link) {
      renderLink();
      // A later visit: choose the first requested type not sent yet, unless the applicant chose.
      if (state.step === 'collect' && !state.typeTouched && state.items.length === 0) preselect();
    }
  }

  function stateText(status) {
    const key = 'state_' + status;
    return key in ALL[state.lang].texts ? t(key) : t('state_unknown');
  }

  function renderHistory() {
    const list = $('history-list');
    list.textContent = '';
    for (const submission of state.history) {
      const entry = el('li');
      const date = formatDate(submission.received_at);
      entry.append(el('h3', '', date));
      const status = el('p');
      const done = DONE_STATES.includes(submission.status);
      status.append(
        document.createTextNode(t('status_label') + ' '),
        el('span', done ? 'state done' : 'state', stateText(submission.status))
      );
      entry.append(status);
      const documents = el('ul');
      for (const document_ of submission.documents || []) {
        const files = Array.isArray(document_.files) ? document_.files.length : document_.files;
        const text = typeLabel(document_.document_type) +
          (files ? ' – ' + t('history_files', { n: files }) : '');
        documents.append(el('li', '', text));
      }
      entry.append(documents);
      const alertId = 'history-alert-' + submission.submission_id;
      const alert = el('div', 'alert');
      alert.id = alertId;
      alert.setAttribute('role', 'alert');
      const button = el('button', 'btn secondary small');
      button.type = 'button';
      button.append(el('span', '', t('history_pdf')), el('span', 'visually-hidden', ' (' + date + ')'));
      button.addEventListener('click', () => {
        savePdf(receiptPath(submission.submission_id, submission.receipt_pdf_url),
          submission.submission_id, alertId);
      });
      entry.append(button, alert);
      list.append(entry);
      if (state.alerts[alertId]) renderAlert(alertId);
    }
  }

  // --- wiring ------------------------------------------------------------------------------------

  function wire() {
    languageMenu(ALL, switchLanguage);
    $('link-retry').addEventListener('click', () => start(true));
    $('take-photo').addEventListener('click', () => $('camera-input').click());
    $('choose-files').addEventListener('click', () => $('files-input').click());
    for (const id of ['camera-input', 'files-input']) {
      const input = $(id);
      input.addEventListener('change', () => {
        if (input.files && input.files.length) addFiles(input.files);
        input.value = '';
      });
    }
    $('to-review').addEventListener('click', toReview);
    $('suggestion-change').addEventListener('click', takeSuggestion);
    $('suggestion-keep').addEventListener('click', keepType);
    $('back').addEventListener('click', back);
    $('send').addEventListener('click', send);
    $('save-pdf').addEventListener('click', () => {
      const answer = state.receipt;
      if (answer) {
        savePdf(receiptPath(answer.submission_id, answer.receipt_pdf_url), answer.submission_id,
          'receipt-alert');
      }
    });
    $('send-more').addEventListener('click', sendMore);
    window.addEventListener('beforeunload', (event) => {
      if (state.items.length && state.step !== 'receipt') {
        event.preventDefault();
        event.returnValue = '';
      }
    });
  }

  function main() {
    applyTexts();
    wire();
    const match = /^(.*)\/u\/([^/]+)\/?$/.exec(location.pathname);
    if (!match) {
      showLinkError(msg('link_invalid'), false);
      return;
    }
    state.base = match[1];
    try {
      state.token = decodeURIComponent(match[2]);
    } catch (error) {
      showLinkError(msg('link_invalid'), false);
      return;
    }
    start(false);
  }

  main();
})();
