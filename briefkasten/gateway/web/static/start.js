/* The start page for uploads without a link (/t/<tenant>): check the BG-Nummer's form, ask the
   API for a one-day link to that case and open it (the upload page /u/<token>).

   Runs under the same strict CSP as the upload page: no inline code, no eval, no style
   attributes; every text comes from the JSON block #texts and is inserted as text. The number
   is sent only in the body of the POST; nothing is kept in cookies or storage. */
(function () {
  'use strict';

  const { $, lookup, languageMenu } = window.Briefkasten; // common.js
  const ALL = window.Briefkasten.texts();
  // The format the gateway checks (briefkasten/intake.py CASE_NUMBER).
  const CASE_NUMBER = /^[0-9]{5}BG[0-9]{7}$/;

  const state = {
    lang: ALL.lang,
    base: '',
    busy: false,
    fieldError: null, // a text key
    alert: null, // { key } or { error } (an API error)
  };

  function t(key, vars) {
    return lookup(ALL, state.lang, key, vars);
  }

  /** Our applicant text for an API error's code in the page's language (message_en is written
      for operators); the server's message_de for a code we do not know. */
  function render(message) {
    if (!message.error) return t(message.key);
    const ours = ALL[state.lang].errors[message.error.code];
    return ours || message.error.message_de || t('start_failed');
  }

  function announce(text) {
    const region = $('announcer');
    region.textContent = '';
    setTimeout(() => {
      region.textContent = text;
    }, 100);
  }

  // --- the field and the alert ------------------------------------------------------------

  function renderField() {
    const input = $('case-number');
    const box = $('case-error');
    if (state.fieldError) {
      $('case-error-text').textContent = t(state.fieldError);
      box.hidden = false;
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', 'case-hint case-error');
    } else {
      $('case-error-text').textContent = '';
      box.hidden = true;
      input.removeAttribute('aria-invalid');
      input.setAttribute('aria-describedby', 'case-hint');
    }
  }

  function renderAlert() {
    const box = $('start-alert');
    box.textContent = '';
    if (state.alert) {
      const p = document.createElement('p');
      p.textContent = render(state.alert);
      box.append(p);
    }
  }

  function showFieldError(key) {
    state.fieldError = key;
    renderField();
    const input = $('case-number');
    input.focus();
    announce(t('error_prefix') + ' ' + t(key));
  }

  // --- language -------------------------------------------------------------------------------

  function applyTexts() {
    for (const node of document.querySelectorAll('[data-t]')) {
      node.textContent = t(node.dataset.t, node.dataset);
    }
    renderField();
    renderAlert();
    if (state.busy) $('waiting').textContent = t('waiting');
  }

  /** Switch in place (what was typed stays), as the upload page does. */
  function switchLanguage(code) {
    state.lang = code;
    applyTexts();
  }

  // --- asking for a link ----------------------------------------------------------------------

  async function requestLink(tenant, caseNumber) {
    let response;
    try {
      response = await fetch(
        state.base + '/api/v1/tenants/' + encodeURIComponent(tenant) + '/upload-links',
        {
          method: 'POST',
          headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
          body: JSON.stringify({ case_number: caseNumber }),
          cache: 'no-store',
          credentials: 'omit',
          referrerPolicy: 'no-referrer',
        }
      );
    } catch (error) {
      return { status: 0, body: null };
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    return { status: response.status, body: body };
  }

  async function submit(event) {
    event.preventDefault();
    if (state.busy) return;
    const form = $('start-form');
    const caseNumber = $('case-number').value.replace(/\s+/g, '').toUpperCase();
    state.alert = null;
    renderAlert();
    if (!caseNumber) return showFieldError('case_missing');
    if (!CASE_NUMBER.test(caseNumber)) return showFieldError('case_invalid');
    state.fieldError = null;
    renderField();

    state.busy = true;
    $('waiting').textContent = t('waiting');
    const answer = await requestLink(form.dataset.tenant, caseNumber);
    if (answer.status === 201 && answer.body && answer.body.url) {
      // The link's path on this origin, in the language chosen here.
      const url = new URL(answer.body.url, location.href);
      location.assign(url.pathname + '?lang=' + state.lang);
      return;
    }
    state.busy = false;
    $('waiting').textContent = '';
    const error = answer.body && answer.body.error;
    if (answer.status === 400) return showFieldError('case_invalid');
    if (answer.status === 0) state.alert = { key: 'network_error' };
    else if (answer.status === 403) state.alert = { key: 'no_link' };
    else if (error && error.message_de) state.alert = { error: error };
    else state.alert = { key: 'start_failed' };
    renderAlert();
  }

  function main() {
    const match = /^(.*)\/t\/[^/]+\/?$/.exec(location.pathname);
    state.base = match ? match[1] : '';
    applyTexts();
    languageMenu(ALL, switchLanguage);
    $('start-form').addEventListener('submit', submit);
    $('case-number').addEventListener('input', () => {
      if (!state.fieldError) return;
      // The message stays until the next try; only a now valid number clears it at once.
      const value = $('case-number').value.replace(/\s+/g, '').toUpperCase();
      if (CASE_NUMBER.test(value)) {
        state.fieldError = null;
        renderField();
      }
    });
    // Back from the upload page (back/forward cache): ready for another try.
    window.addEventListener('pageshow', (event) => {
      if (!event.persisted) return;
      state.busy = false;
      $('waiting').textContent = '';
    });
    $('start-form').hidden = false;
  }

  main();
})();
