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

  /** The applicant pages' texts: ``key`` in ``lang``, else in German, else the key itself. */
  function lookup(all, lang, key, vars) {
    return format((all[lang] && all[lang][key]) || all.de[key] || key, vars);
  }

  window.Briefkasten = Object.freeze({ $: $, texts: texts, format: format, lookup: lookup });
})();
