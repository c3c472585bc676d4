/* Helpers shared by the gateway's page scripts (the upload page, the start page and the
   operators' dashboard); each page loads this file first, then its own script.

   Runs under the gateway's strict CSP: no inline code, no eval, no style attributes, no HTML
   written; texts are only ever inserted as text. */
(function () {
  'use strict';

  /** The element with the id ``id``. */
  function $(id) {
    return document.getElementById(id);
  }

  /** The page's texts: the JSON block #texts the server rendered into the page. */
  function texts() {
    return JSON.parse($('texts').textContent);
  }

  /** ``text`` with every {name} replaced by ``vars[name]`` (unknown names stay as they are). */
  function format(text, vars) {
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (match, name) => (name in vars ? String(vars[name]) : match));
  }

  /** The applicant pages' texts: ``key`` in ``lang``, else in German, else the key itself.
      ``all[lang]`` is ``{texts, errors, advice}`` of a language whose texts are loaded. */
  function lookup(all, lang, key, vars) {
    const own = all[lang] && all[lang].texts[key];
    return format(own || (all.de && all.de.texts[key]) || key, vars);
  }

  /** The applicant pages' language menu (#lang-menu, a list of ``?lang=`` links): a click
      switches the page in place, so nothing added is lost. The other language's texts are
      fetched first (``all.languages[code]``, a versioned static file); if that fails the link
      is followed and the server renders the page in that language. ``onChange(code)``
      re-renders the page's own parts after ``lang``, ``dir``, the menu and every other
      ``?lang=`` link of the page have been updated. */
  function languageMenu(all, onChange) {
    const menu = $('lang-menu');
    if (!menu) return;
    menu.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape' || !menu.open) return;
      menu.open = false;
      menu.querySelector('summary').focus();
    });
    menu.addEventListener('click', async (event) => {
      const link = event.target.closest('a[data-lang]');
      if (!link) return;
      event.preventDefault();
      const code = link.dataset.lang;
      try {
        if (!all[code]) {
          const response = await fetch(all.languages[code], { credentials: 'same-origin' });
          if (!response.ok) throw new Error('HTTP ' + response.status);
          all[code] = await response.json();
        }
      } catch (error) {
        location.assign(link.href);
        return;
      }
      menu.open = false;
      setLanguage(code, link.dir, link.textContent);
      history.replaceState(null, '', '?lang=' + encodeURIComponent(code));
      onChange(code);
      menu.querySelector('summary').focus();
    });
  }

  /** ``lang`` and ``dir`` of the document, the menu's current entry, and ``?lang=`` of every
      other link of the page that carries one. */
  function setLanguage(code, dir, name) {
    document.documentElement.lang = code;
    document.documentElement.dir = dir === 'rtl' ? 'rtl' : 'ltr';
    for (const link of document.querySelectorAll('#lang-list a[data-lang]')) {
      if (link.dataset.lang === code) link.setAttribute('aria-current', 'true');
      else link.removeAttribute('aria-current');
    }
    $('lang-current').textContent = name;
    for (const link of document.querySelectorAll('a[href*="lang="]:not([data-lang])')) {
      const url = new URL(link.href, location.href);
      url.searchParams.set('lang', code);
      link.href = url.pathname + url.search;
    }
  }

  window.Briefkasten = Object.freeze({
    $: $, texts: texts, format: format, lookup: lookup, languageMenu: languageMenu,
  });
})();
