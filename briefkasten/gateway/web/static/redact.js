/* "Stellen schwärzen": the applicant blacks out parts of an image page on the phone, before it
   is uploaded. No framework, no third-party code.

   window.BriefkastenRedactor.open(file, t) shows the editor (the <dialog id="redact"> of
   page.html, full screen) and resolves to the redacted JPEG as a File, or null when the
   applicant cancels. The image is drawn upright (the EXIF orientation applied by the browser's
   decoder), the boxes are burned into the pixels of a canvas and the canvas re-encoded as
   JPEG: no EXIF, GPS or other metadata of the photo is left, and the covered pixels are black
   in the only file that is ever sent.

   Drawing: drag a rectangle with a finger, a pen or the mouse (pointer events). Keyboard: the
   picture is focusable; the arrow keys move a frame, Shift and the arrow keys change its size,
   Enter or Space blacks it out; Ctrl+Z undoes. Escape is "Abbrechen". */
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  //: Canvases larger than this fail on some phones (iOS: 16.7 million pixels).
  const MAX_PIXELS = 16 * 1000 * 1000;
  const JPEG_QUALITY = 0.9;
  //: A drag shorter than this (CSS pixels, either side) is a tap, not a box.
  const MIN_DRAG = 6;
  const KEY_STEP = 0.02;

  let session = null;

  async function decode(file) {
    if (window.createImageBitmap) {
      try {
        return await createImageBitmap(file, { imageOrientation: 'from-image' });
      } catch (error) {
        // fall back to an <img>, which applies the EXIF orientation as well
      }
    }
    const url = URL.createObjectURL(file);
    try {
      const img = new Image();
      img.src = url;
      await img.decode();
      return img;
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function sizeOf(image) {
    return { w: image.naturalWidth || image.width, h: image.naturalHeight || image.height };
  }

  function clamp(value, low, high) {
    return Math.min(high, Math.max(low, value));
  }

  /** A box from two corners, in fractions of the picture (0..1), corners in any order. */
  function boxOf(ax, ay, bx, by) {
    return {
      x0: clamp(Math.min(ax, bx), 0, 1), y0: clamp(Math.min(ay, by), 0, 1),
      x1: clamp(Math.max(ax, bx), 0, 1), y1: clamp(Math.max(ay, by), 0, 1),
    };
  }

  function layout() {
    const s = session;
    const stage = $('redact-stage');
    const { w, h } = sizeOf(s.image);
    const scale = Math.min(stage.clientWidth / w, stage.clientHeight / h);
    const cssW = Math.max(1, Math.floor(w * scale));
    const cssH = Math.max(1, Math.floor(h * scale));
    const ratio = window.devicePixelRatio || 1;
    s.canvas.width = Math.round(cssW * ratio);
    s.canvas.height = Math.round(cssH * ratio);
    s.canvas.style.width = cssW + 'px'; // CSSOM, allowed by the CSP (no style attribute)
    s.canvas.style.height = cssH + 'px';
    draw();
  }

  function fill(context, box, width, height) {
    const x = Math.floor(box.x0 * width);
    const y = Math.floor(box.y0 * height);
    context.fillRect(x, y, Math.ceil(box.x1 * width) - x, Math.ceil(box.y1 * height) - y);
  }

  function draw() {
    const s = session;
    const { width, height } = s.canvas;
    const context = s.canvas.getContext('2d');
    context.drawImage(s.image, 0, 0, width, height);
    context.fillStyle = '#000';
    for (const box of s.boxes) fill(context, box, width, height);
    const outline = (box, colour) => {
      context.lineWidth = Math.max(2, Math.round(width / 300));
      context.setLineDash([8, 6]);
      context.strokeStyle = colour;
      context.strokeRect(box.x0 * width, box.y0 * height,
        (box.x1 - box.x0) * width, (box.y1 - box.y0) * height);
      context.setLineDash([]);
    };
    if (s.draft) {
      context.fillStyle = 'rgba(0, 0, 0, 0.6)';
      fill(context, s.draft, width, height);
      outline(s.draft, '#d00');
    }
    if (s.keyboard) outline(s.frame, '#0050c8');
    $('redact-undo').disabled = s.boxes.length === 0;
    $('redact-count').textContent = s.t('redact_count', { n: s.boxes.length });
  }

  function point(event) {
    const rect = session.canvas.getBoundingClientRect();
    return {
      x: clamp((event.clientX - rect.left) / rect.width, 0, 1),
      y: clamp((event.clientY - rect.top) / rect.height, 0, 1),
      px: event.clientX, py: event.clientY,
    };
  }

  function onPointerDown(event) {
    if (!session || (event.button !== undefined && event.button > 0)) return;
    event.preventDefault();
    session.canvas.setPointerCapture(event.pointerId);
    session.start = point(event);
    session.draft = null;
  }

  function onPointerMove(event) {
    const s = session;
    if (!s || !s.start) return;
    const here = point(event);
    s.draft = boxOf(s.start.x, s.start.y, here.x, here.y);
    if (!s.frameRequested) {
      s.frameRequested = true;
      requestAnimationFrame(() => {
        s.frameRequested = false;
        if (session === s) draw();
      });
    }
  }

  function onPointerUp(event) {
    const s = session;
    if (!s || !s.start) return;
    const here = point(event);
    const wide = Math.abs(here.px - s.start.px) >= MIN_DRAG;
    const tall = Math.abs(here.py - s.start.py) >= MIN_DRAG;
    if (wide && tall) add(boxOf(s.start.x, s.start.y, here.x, here.y));
    s.start = null;
    s.draft = null;
    draw();
  }

  function add(box) {
    session.boxes.push(box);
    draw();
  }

  function undo() {
    if (!session || session.boxes.length === 0) return;
    session.boxes.pop();
    draw();
    if ($('redact-undo').disabled) session.canvas.focus();
  }

  function onKey(event) {
    const s = session;
    if (!s) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'z') {
      event.preventDefault();
      undo();
      return;
    }
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    const f = s.frame;
    if (event.key in moves) {
      event.preventDefault();
      const [dx, dy] = moves[event.key].map((d) => d * KEY_STEP);
      if (event.shiftKey) {
        f.x1 = clamp(f.x1 + dx, f.x0 + KEY_STEP, 1);
        f.y1 = clamp(f.y1 + dy, f.y0 + KEY_STEP, 1);
      } else {
        const w = f.x1 - f.x0;
        const h = f.y1 - f.y0;
        f.x0 = clamp(f.x0 + dx, 0, 1 - w);
        f.y0 = clamp(f.y0 + dy, 0, 1 - h);
        f.x1 = f.x0 + w;
        f.y1 = f.y0 + h;
      }
      s.keyboard = true;
      draw();
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      s.keyboard = true;
      add(Object.assign({}, f));
    }
  }

  /** The picture with its boxes burned in, as a JPEG File (no metadata: a canvas has none). */
  async function burn(s, name) {
    const { w, h } = sizeOf(s.image);
    const scale = Math.min(1, Math.sqrt(MAX_PIXELS / (w * h)));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    const context = canvas.getContext('2d');
    context.fillStyle = '#fff'; // a transparent PNG becomes white, not black, as JPEG
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(s.image, 0, 0, canvas.width, canvas.height);
    context.fillStyle = '#000';
    for (const box of s.boxes) fill(context, box, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', JPEG_QUALITY));
    if (!blob) throw new Error('the picture could not be encoded');
    const base = (name || 'seite').replace(/\.[^.]*$/, '') || 'seite';
    return new File([blob], base + '.jpg', { type: 'image/jpeg' });
  }

  function close(result) {
    const s = session;
    if (!s) return;
    session = null;
    window.removeEventListener('resize', s.onResize);
    if (s.image.close) s.image.close();
    const dialog = $('redact');
    if (dialog.open) dialog.close();
    document.body.classList.remove('redacting');
    s.resolve(result);
  }

  function wire() {
    const canvas = $('redact-canvas');
    canvas.addEventListener('pointerdown', onPointerDown);
    canvas.addEventListener('pointermove', onPointerMove);
    canvas.addEventListener('pointerup', onPointerUp);
    canvas.addEventListener('pointercancel', () => {
      if (!session) return;
      session.start = null;
      session.draft = null;
      draw();
    });
    canvas.addEventListener('keydown', onKey);
    canvas.addEventListener('focus', () => {
      if (session) draw();
    });
    canvas.addEventListener('blur', () => {
      if (!session) return;
      session.keyboard = false;
      draw();
    });
    $('redact-undo').addEventListener('click', undo);
    $('redact-cancel').addEventListener('click', () => close(null));
    $('redact-done').addEventListener('click', async () => {
      const s = session;
      if (!s || s.busy) return;
      if (s.boxes.length === 0) {
        close(null); // nothing blacked out: the page stays as it was
        return;
      }
      s.busy = true;
      $('redact-done').setAttribute('aria-disabled', 'true');
      try {
        close(await burn(s, s.name));
      } catch (error) {
        s.busy = false;
        $('redact-done').removeAttribute('aria-disabled');
        $('redact-error').textContent = s.t('redact_failed');
      }
    });
    $('redact').addEventListener('cancel', (event) => { // Escape
      event.preventDefault();
      close(null);
    });
  }

  /** Open the editor for ``file`` (texts by ``t(key, vars)``); resolves to the redacted File,
      or null (cancelled, or nothing drawn). Rejects when the picture cannot be decoded. */
  async function open(file, t) {
    if (session) close(null);
    const image = await decode(file);
    const dialog = $('redact');
    $('redact-error').textContent = '';
    $('redact-done').removeAttribute('aria-disabled');
    return new Promise((resolve) => {
      session = {
        image: image, name: file.name, t: t, resolve: resolve, canvas: $('redact-canvas'),
        boxes: [], draft: null, start: null, keyboard: false, busy: false,
        frame: { x0: 0.3, y0: 0.45, x1: 0.7, y1: 0.55 },
      };
      session.onResize = () => {
        if (session) layout();
      };
      document.body.classList.add('redacting');
      dialog.showModal();
      window.addEventListener('resize', session.onResize);
      layout();
      session.canvas.focus();
    });
  }

  // Beside window.Briefkasten (common.js's helpers, frozen).
  window.BriefkastenRedactor = Object.freeze({ open: open, available: () => Boolean($('redact')) });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', wire);
  else wire();
})();
