/* Hangar: the step log viewer of the build page.
 *
 * `HangarLog.mount(section)` turns the server-rendered log section (one page of lines, links to the other
 * pages) into a virtualized scroller over the whole log: lines are fetched in pages as the view needs them, a
 * bounded number of pages is kept, and a live step's lines stream in over server-sent events. Plain ES2020,
 * no dependencies, no build step.
 */
(() => {
  "use strict";

  // ------------------------------------------------------------------ settings
  const PAGE_LINES = 2000; // lines per JSON request
  const MAX_PAGES = 40; // pages kept in memory; those farthest from the view are dropped first
  const MAX_FETCHES = 3; // page requests in flight at once
  const MAX_GAP_PAGES = 4; // a stream gap up to this many pages is fetched at once, a longer one when viewed
  const OVERSCAN = 30; // rows rendered above and below the visible ones
  const MAX_CANVAS_PX = 8000000; // under every browser's element height limit; taller logs are scaled
  const REFETCH_MS = 1500; // a failed or still incomplete page is asked again after this long
  const REOPEN_MS = [1000, 3000]; // a stream closed by an error is opened again after a delay in this range

  // ------------------------------------------------------------------ ANSI escape sequences -> styled segments
  // The same rules as the server-side renderer (webui/ansi.py), character for character: CR; CSI (maybe cut
  // short); OSC, DCS, SOS, PM and APC strings; the other ESC sequences (of the two-character ones only those
  // with a digit, symbol or capital, and a lone RIS, so a stray ESC before a word or a space takes no text
  // with it); a lone ESC; any other control character (tab is kept).
  const SEQUENCE =
    /(\r)|(?:\x1b\[|\x9b)([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?|\x1b(?:[\x21-\x2f][\x20-\x2f]*[\x30-\x7e]|[\x30-\x5f]|c(?![A-Za-z]))|\x1b|[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
  const HUGE = 1e9; // a parameter of more than nine significant digits: no code, colour channel or index
  const CUBE = [0, 95, 135, 175, 215, 255]; // the 6x6x6 colour cube's levels of the 256-colour palette

  const hex2 = (n) => n.toString(16).padStart(2, "0");
  const rgb = (r, g, b) => "#" + hex2(r) + hex2(g) + hex2(b);
  const plainStyle = () => ({ bold: false, dim: false, italic: false, underline: false, fg: null, bg: null });

  /** The "#rrggbb" of a 256-colour palette entry from 16 up (the colour cube, then the greys). */
  function xtermColour(n) {
    if (n >= 232) return rgb(8 + (n - 232) * 10, 8 + (n - 232) * 10, 8 + (n - 232) * 10);
    const i = n - 16;
    return rgb(CUBE[Math.floor(i / 36)], CUBE[Math.floor(i / 6) % 6], CUBE[i % 6]);
  }

  /** The number a parameter spells, null unless it is all digits (never NaN); past nine digits it is HUGE. */
  function number(part) {
    if (!/^[0-9]+$/.test(part)) return null;
    const significant = part.replace(/^0+/, "");
    return significant.length <= 9 ? Number(significant || "0") : HUGE;
  }

  /** The SGR code a parameter spells: an empty one is 0 (reset), a malformed one null. */
  const sgrCode = (part) => (part ? number(part) : 0);

  /** The colour of the parameters after 38/48 ("5;n" or "2;r;g;b"): [palette number, CSS colour or null, used]. */
  function extendedColour(rest) {
    if (!rest.length) return [null, 0];
    if (rest[0] === "5") {
      const n = rest.length >= 2 ? number(rest[1]) : null;
      if (n === null || n > 255) return [null, Math.min(2, rest.length)];
      return [n < 16 ? n : xtermColour(n), 2];
    }
    if (rest[0] === "2") {
      const channels = rest.slice(1, 4).map(number).filter((c) => c !== null && c <= 255);
      if (channels.length < 3) return [null, Math.min(4, rest.length)];
      return [rgb(...channels), 4];
    }
    return [null, 1];
  }

  /** Apply one plain SGR code to the running style. */
  function applyCode(style, code) {
    if (code === 0) Object.assign(style, plainStyle());
    else if (code === 1) style.bold = true;
    else if (code === 2) style.dim = true;
    else if (code === 3) style.italic = true;
    else if (code === 4) style.underline = true;
    else if (code === 22) style.bold = style.dim = false;
    else if (code === 23) style.italic = false;
    else if (code === 24) style.underline = false;
    else if (code === 39) style.fg = null;
    else if (code === 49) style.bg = null;
    else if (code >= 30 && code <= 37) style.fg = code - 30;
    else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
    else if (code >= 40 && code <= 47) style.bg = code - 40;
    else if (code >= 100 && code <= 107) style.bg = code - 100 + 8;
  }

  /** Apply one SGR sequence's parameters ("1;31", "38;5;196", "38:2::255:0:0") to the running style. */
  function applySgr(style, params) {
    const groups = params.split(";");
    for (let i = 0; i < groups.length; ) {
      const group = groups[i++];
      let parts = group.split(":");
      const code = sgrCode(parts[0]);
      if (code === 38 || code === 48) {
        let colour;
        if (parts.length > 1) {
          parts = parts.slice(1); // ITU sub-parameters, maybe with a colour space id before r:g:b
          [colour] = extendedColour(parts.length === 5 && parts[0] === "2" ? ["2", ...parts.slice(2)] : parts);
        } else {
          let used;
          [colour, used] = extendedColour(groups.slice(i));
          i += used;
        }
        if (colour !== null) style[code === 38 ? "fg" : "bg"] = colour;
      } else if (code === 4 && parts.length > 1) style.underline = parts[1] !== "" && parts[1] !== "0";
      else if (code !== null) applyCode(style, code);
    }
  }

  /** The classes and inline CSS of a style (the same class names as the server-side renderer). */
  function look(style) {
    const classes = [];
    if (style.bold) classes.push("ansi-bold");
    if (style.dim) classes.push("ansi-dim");
    if (style.italic) classes.push("ansi-italic");
    if (style.underline) classes.push("ansi-underline");
    if (typeof style.fg === "number") classes.push("ansi-fg-" + style.fg);
    if (typeof style.bg === "number") classes.push("ansi-bg-" + style.bg);
    let css = "";
    if (typeof style.fg === "string") css += "color:" + style.fg + ";";
    if (typeof style.bg === "string") css += "background-color:" + style.bg + ";";
    return { classes: classes.join(" "), css };
  }

  /** A raw log line as [{text, classes, css}]. Of a line rewritten with carriage returns only the last text
   * is kept (as a terminal shows it); SGR colours become classes or CSS; every other escape is dropped. */
  function parseAnsi(raw) {
    const line = String(raw ?? "");
    const tokens = []; // ["text", text] | ["sgr", params] | ["cr"]
    let position = 0;
    SEQUENCE.lastIndex = 0;
    for (let match; (match = SEQUENCE.exec(line)); ) {
      if (match.index > position) tokens.push(["text", line.slice(position, match.index)]);
      position = SEQUENCE.lastIndex;
      if (match[1]) tokens.push(["cr"]);
      else if (match[4] === "m" && !match[3] && /^[0-9;:]*$/.test(match[2])) tokens.push(["sgr", match[2]]);
    }
    if (position < line.length) tokens.push(["text", line.slice(position)]);
    let part = 0;
    let shown = 0; // the last carriage-return part holding any text
    for (const [kind] of tokens) {
      if (kind === "cr") part++;
      else if (kind === "text") shown = part;
    }
    const segments = [];
    const style = plainStyle();
    part = 0;
    for (const [kind, value] of tokens) {
      if (kind === "cr") part++;
      else if (kind === "sgr") applySgr(style, value);
      else if (part === shown) {
        const { classes, css } = look(style);
        const last = segments[segments.length - 1];
        if (last && last.classes === classes && last.css === css) last.text += value;
        else segments.push({ text: value, classes, css });
      }
    }
    return segments;
  }

  /** [start, end) of each case-insensitive occurrence of query in text. */
  function matchRanges(text, query) {
    const hay = text.toLowerCase();
    const needle = query.toLowerCase();
    if (!needle || hay.length !== text.length) return [];
    const ranges = [];
    for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + needle.length)) {
      ranges.push([at, at + needle.length]);
    }
    return ranges;
  }

  /** Append segments to cell as text nodes and spans (never HTML), the query's occurrences in <mark>. */
  function appendSegments(cell, segments, query) {
    const ranges = query ? matchRanges(segments.map((s) => s.text).join(""), query) : [];
    let offset = 0;
    let r = 0;
    for (const segment of segments) {
      let target = cell;
      if (segment.classes || segment.css) {
        target = document.createElement("span");
        if (segment.classes) target.className = segment.classes;
        if (segment.css) target.style.cssText = segment.css;
        cell.append(target);
      }
      const text = segment.text;
      for (let at = 0; at < text.length; ) {
        while (r < ranges.length && ranges[r][1] <= offset + at) r++;
        const inside = r < ranges.length && ranges[r][0] <= offset + at;
        const edge = r < ranges.length ? ranges[r][inside ? 1 : 0] - offset : text.length;
        const end = Math.min(text.length, edge);
        const piece = document.createTextNode(text.slice(at, end));
        if (inside) {
          const mark = document.createElement("mark");
          mark.append(piece);
          target.append(mark);
        } else target.append(piece);
        at = end;
      }
      offset += text.length;
    }
  }

  /** Seconds since the step started as m:ss.s ("1:02.4"). */
  function formatTime(seconds) {
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return "";
    const tenths = Math.round(seconds * 10);
    return Math.floor(tenths / 600) + ":" + ((tenths % 600) / 10).toFixed(1).padStart(4, "0");
  }

  // ------------------------------------------------------------------ small helpers
  function withQuery(url, params) {
    const full = new URL(url, location.href);
    for (const [name, value] of Object.entries(params)) full.searchParams.set(name, String(value));
    return full.href;
  }

  async function getJson(url, params) {
    const response = await fetch(withQuery(url, params), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(response.status + " from " + url);
    return response.json();
  }

  function parseJson(text) {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  const lineFromHash = () => Number((/^#L(\d+)$/.exec(location.hash) || [])[1] || 0);

  // ------------------------------------------------------------------ the viewer
  /** Mount the viewer on a log section; returns (and sets as section.hangarLog) its test API. */
  function mount(section) {
    if (section.hangarLog) return section.hangarLog;
    const data = section.dataset;
    const body = section.querySelector(".log-body");
    const follow = section.querySelector(".log-follow");
    const times = section.querySelector(".log-times");
    const resultBox = section.querySelector(".log-search-result");
    const stats = (window.hangarLogStats = {
      mountedAt: performance.now(),
      firstLinePaintedAt: null,
      linesKnown: 0,
      pagesCached: 0,
    });

    let total = Math.max(0, parseInt(data.lines, 10) || 0); // lines known to exist (the stream's next position)
    let done = data.done === "1";
    let epoch = 0; // bumped by a reset: answers to older requests are dropped
    const pages = new Map(); // page index -> {lines: sparse array of {time, out}, count, askedAt}
    const inFlight = new Set(); // page indexes being fetched
    const gapPages = new Set(); // pages holding lines the stream skipped: fetched even when out of view
    const rows = new Map(); // position -> {el, key}
    let view = { first: 0, last: 0 }; // rows rendered by the last frame
    let selected = lineFromHash(); // 1-based, 0 for none
    let search = { query: "", matches: [], set: new Set(), index: -1, truncated: false };
    let searchSeq = 0; // answers to older searches are dropped
    const searchButtons = []; // Prev, Next
    let source = null;
    let reopenTimer = 0;
    let refetchTimer = 0;
    let frame = 0;
    let closed = false;
    let shownTotal = -1;
    let lastScrollTop = 0;
    let paintNoted = false;

    // The scroller: a canvas as tall as the (scaled) log, with absolutely positioned rows.
    const canvas = document.createElement("div");
    canvas.className = "log-canvas";
    body.replaceChildren(canvas);
    section.classList.add("log-js");
    const pagesNav = section.querySelector(".log-pages");
    if (pagesNav) pagesNav.hidden = true;
    const lineHeight = measureLineHeight();

    function measureLineHeight() {
      const probe = document.createElement("div");
      probe.className = "line";
      probe.textContent = "0";
      canvas.append(probe);
      const height = probe.getBoundingClientRect().height;
      probe.remove();
      return height > 0 ? height : 18;
    }

    function updateStats() {
      stats.linesKnown = total;
      stats.pagesCached = pages.size;
    }

    // ---------------------------------------------------------------- pages of lines
    const lineAt = (pos) => (pos < total ? pages.get(Math.floor(pos / PAGE_LINES))?.lines[pos % PAGE_LINES] : undefined);
    const segmentsOf = (line) => line.segments || (line.segments = parseAnsi(line.out));

    function pageFor(index) {
      let page = pages.get(index);
      if (!page) pages.set(index, (page = { lines: [], count: 0, askedAt: -Infinity }));
      return page;
    }

    function storeLine(pos, time, out) {
      const page = pageFor(Math.floor(pos / PAGE_LINES));
      if (page.lines[pos % PAGE_LINES] === undefined) page.count++;
      page.lines[pos % PAGE_LINES] = { time, out };
    }

    function isComplete(index) {
      const page = pages.get(index);
      return !!page && page.count >= Math.min(PAGE_LINES, total - index * PAGE_LINES);
    }

    /** Drop the pages farthest from the view until at most MAX_PAGES are kept. */
    function evictPages() {
      if (pages.size <= MAX_PAGES) return;
      const centre = Math.floor((view.first + view.last) / 2 / PAGE_LINES);
      const candidates = [...pages.keys()].filter((i) => !gapPages.has(i) && !inFlight.has(i));
      candidates.sort((a, b) => Math.abs(b - centre) - Math.abs(a - centre));
      for (const index of candidates) {
        if (pages.size <= MAX_PAGES) break;
        pages.delete(index);
      }
    }

    /** Start fetching the pages the rows in [first, last) and the stream's gaps need (a few at a time). */
    function requestPages(first, last) {
      const wanted = [];
      for (let i = Math.floor(first / PAGE_LINES); i * PAGE_LINES < last; i++) wanted.push(i);
      for (const i of gapPages) if (!wanted.includes(i)) wanted.push(i);
      const now = performance.now();
      let retryIn = Infinity;
      for (const index of wanted) {
        if (isComplete(index)) gapPages.delete(index);
        else if (inFlight.has(index) || inFlight.size >= MAX_FETCHES) continue;
        else if (now < pageFor(index).askedAt + REFETCH_MS) {
          retryIn = Math.min(retryIn, pageFor(index).askedAt + REFETCH_MS - now);
        } else loadPage(index);
      }
      if (retryIn < Infinity && !refetchTimer) {
        refetchTimer = setTimeout(() => {
          refetchTimer = 0;
          schedule();
        }, retryIn);
      }
      evictPages(); // the entries just made for wanted pages count too
      updateStats();
    }

    async function loadPage(index) {
      const asked = epoch;
      inFlight.add(index);
      pageFor(index).askedAt = performance.now();
      try {
        const lines = await getJson(data.logUrl, { start: index * PAGE_LINES, limit: PAGE_LINES });
        if (asked !== epoch) return; // the log was reset meanwhile
        const end = Math.min(total, (index + 1) * PAGE_LINES); // lines past `total` come with the stream
        for (const line of Array.isArray(lines) ? lines : []) {
          if (Number.isInteger(line.pos) && line.pos >= index * PAGE_LINES && line.pos < end) {
            storeLine(line.pos, line.time, line.out);
          }
        }
        evictPages();
        updateStats();
      } catch {
        // asked again after REFETCH_MS if still needed
      } finally {
        if (asked === epoch) inFlight.delete(index);
        schedule();
      }
    }

    // ---------------------------------------------------------------- virtualized rendering
    /** The scroller's numbers: viewport height, canvas height, and virtual pixels per real scroll pixel. */
    function geometry() {
      const viewport = body.clientHeight;
      const full = total * lineHeight;
      const height = Math.min(full, MAX_CANVAS_PX);
      return { viewport, height, ratio: full > height && height > viewport ? (full - viewport) / (height - viewport) : 1 };
    }

    function syncCanvas() {
      if (shownTotal === total) return;
      shownTotal = total;
      canvas.style.height = geometry().height + "px";
      section.style.setProperty("--log-digits", String(String(Math.max(total, 1)).length));
    }

    const atBottom = () => body.scrollHeight - body.clientHeight - body.scrollTop <= 2;

    function scrollToBottom() {
      syncCanvas();
      body.scrollTop = body.scrollHeight;
    }

    function schedule() {
      if (!frame && !closed) frame = requestAnimationFrame(render);
    }

    function rowClasses(pos, line) {
      let classes = line ? "line" : "line pending";
      if (pos + 1 === selected) classes += " selected";
      if (search.set.has(pos)) classes += " match";
      if (search.matches[search.index] === pos) classes += " current-match";
      return classes;
    }

    function buildRow(pos, line, classes) {
      const n = pos + 1;
      const row = document.createElement("div");
      row.className = classes;
      row.id = "L" + n;
      const number = document.createElement("a");
      number.className = "ln";
      number.href = "#L" + n;
      number.tabIndex = -1; // the scroller itself takes the focus, not hundreds of links
      number.textContent = String(n);
      const time = document.createElement("span");
      time.className = "time";
      const text = document.createElement("span");
      text.className = "text";
      if (line) {
        time.textContent = formatTime(line.time);
        appendSegments(text, segmentsOf(line), search.query);
      }
      row.append(number, time, text);
      return row;
    }

    /** One frame: size the canvas, follow the tail, keep exactly the rows in view (+ overscan) in the DOM. */
    function render() {
      frame = 0;
      syncCanvas();
      if (follow?.checked && !atBottom()) scrollToBottom();
      const { viewport, ratio } = geometry();
      const top = body.scrollTop;
      const virtualTop = top * ratio;
      const shift = virtualTop - top; // rows are placed relative to the real scroll position
      const first = Math.max(0, Math.floor(virtualTop / lineHeight) - OVERSCAN);
      const last = Math.min(total, Math.ceil((virtualTop + Math.max(viewport, lineHeight)) / lineHeight) + OVERSCAN);
      view = { first, last };
      for (const [pos, row] of rows) {
        if (pos < first || pos >= last) {
          row.el.remove();
          rows.delete(pos);
        }
      }
      let previous = null;
      let painted = false;
      for (let pos = first; pos < last; pos++) {
        const line = lineAt(pos);
        const classes = rowClasses(pos, line);
        const key = epoch + "|" + (line ? search.query : "-") + "|" + classes;
        let row = rows.get(pos);
        if (!row || row.key !== key) {
          const el = buildRow(pos, line, classes);
          if (row) row.el.replaceWith(el);
          rows.set(pos, (row = { el, key }));
        }
        const expected = previous ? previous.nextSibling : canvas.firstChild;
        if (row.el !== expected) canvas.insertBefore(row.el, expected); // DOM order = line order
        row.el.style.top = Math.round(pos * lineHeight - shift) + "px";
        previous = row.el;
        painted = painted || line !== undefined;
      }
      requestPages(first, last);
      if (painted && !paintNoted) {
        paintNoted = true;
        requestAnimationFrame(() => (stats.firstLinePaintedAt = performance.now()));
      }
    }

    /** Scroll so line n (1-based) is in view, a third down the viewport; stops following. */
    function scrollToLine(n) {
      if (follow) follow.checked = false;
      syncCanvas();
      const pos = Math.min(Math.max(1, n), Math.max(total, 1)) - 1;
      const { viewport, ratio } = geometry();
      body.scrollTop = Math.max(0, pos * lineHeight - Math.floor((viewport - lineHeight) / 3)) / ratio;
      lastScrollTop = body.scrollTop;
      schedule();
    }

    // ---------------------------------------------------------------- live lines (server-sent events)
    function openStream() {
      reopenTimer = 0;
      if (done || closed) return;
      const stream = new EventSource(withQuery(data.streamUrl, { start: total }));
      source = stream;
      stream.addEventListener("line", (event) => source === stream && receiveLine(parseJson(event.data)));
      stream.addEventListener("done", (event) => source === stream && finish(parseJson(event.data) || {}));
      stream.addEventListener("reset", () => source === stream && resetLog());
      stream.addEventListener("error", () => {
        // CONNECTING: the browser reconnects by itself (with Last-Event-ID); CLOSED: it gave up, we start over.
        if (source !== stream || stream.readyState !== EventSource.CLOSED) return;
        source = null;
        const delay = REOPEN_MS[0] + Math.random() * (REOPEN_MS[1] - REOPEN_MS[0]);
        reopenTimer = setTimeout(openStream, delay);
      });
    }

    function closeStream() {
      if (source) source.close();
      source = null;
      clearTimeout(reopenTimer);
      reopenTimer = 0;
    }

    function receiveLine(line) {
      if (!line || !Number.isInteger(line.pos) || line.pos < total) return; // known already: a replay
      if (line.pos > total && line.pos - total <= MAX_GAP_PAGES * PAGE_LINES) {
        for (let i = Math.floor(total / PAGE_LINES); i * PAGE_LINES < line.pos; i++) gapPages.add(i);
      }
      total = line.pos + 1;
      storeLine(line.pos, line.time, line.out);
      evictPages();
      updateStats();
      schedule();
    }

    function finish(detail) {
      done = true;
      closeStream();
      section.dataset.done = "1";
      section.dispatchEvent(new CustomEvent("hangar:log-done", { detail }));
      schedule();
    }

    /** The step restarted: forget everything; its new log streams in from position 0. */
    function resetLog() {
      epoch++;
      total = 0;
      pages.clear();
      inFlight.clear();
      gapPages.clear();
      for (const row of rows.values()) row.el.remove();
      rows.clear();
      clearSearch();
      updateStats();
      schedule();
    }

    // ---------------------------------------------------------------- search
    function announce(text) {
      if (resultBox) resultBox.textContent = text;
    }

    function clearSearch() {
      searchSeq++;
      search = { query: "", matches: [], set: new Set(), index: -1, truncated: false };
      announce("");
      updateSearchButtons();
      schedule();
    }

    /** Ask the server for the query's matching lines; jump to the first one unless told not to. */
    async function runSearch(query, jump = true) {
      if (!query.trim()) return clearSearch();
      const seq = ++searchSeq;
      announce("Searching…");
      try {
        const answer = await getJson(data.searchUrl, { q: query });
        if (seq !== searchSeq) return;
        const matches = (Array.isArray(answer.matches) ? answer.matches : []).filter(Number.isInteger);
        search = { query, matches, set: new Set(matches), index: -1, truncated: !!answer.truncated };
        updateSearchButtons();
        if (matches.length && jump) moveMatch(1);
        else if (matches.length) announce(`${matches.length}${search.truncated ? "+" : ""} matching lines`);
        else {
          announce("no match");
          schedule();
        }
      } catch {
        if (seq === searchSeq) announce("search failed");
      }
    }

    function moveMatch(step) {
      const count = search.matches.length;
      if (!count) return;
      search.index = (((search.index + step) % count) + count) % count;
      const of = count + (search.truncated ? "+" : "");
      announce(`${search.index + 1} of ${of} ${count === 1 && !search.truncated ? "match" : "matches"}`);
      scrollToLine(search.matches[search.index] + 1);
    }

    function updateSearchButtons() {
      for (const button of searchButtons) button.disabled = search.matches.length === 0;
    }

    function setUpSearch(form) {
      const input = form.querySelector("input[name=q]") || form.querySelector("input");
      for (const [label, title, step] of [["Prev", "Previous match", -1], ["Next", "Next match", 1]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "log-search-" + label.toLowerCase();
        button.textContent = label;
        button.title = title;
        button.addEventListener("click", () => moveMatch(step));
        searchButtons.push(button);
        form.append(button);
      }
      updateSearchButtons();
      const submit = (step) => {
        if (input.value === search.query && search.matches.length) moveMatch(step);
        else runSearch(input.value);
      };
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        submit(1);
      });
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && event.shiftKey) {
          event.preventDefault();
          submit(-1);
        }
      });
      if (input.value.trim()) runSearch(input.value, !selected); // the page was opened with ?q=
    }

    // ---------------------------------------------------------------- user interaction
    function selectLine(n) {
      selected = n;
      schedule();
    }

    canvas.addEventListener("click", (event) => {
      const link = event.target.closest && event.target.closest("a.ln");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      const n = Number(link.textContent);
      history.replaceState(history.state, "", "#L" + n);
      selectLine(n);
    });

    const onHashChange = () => {
      const n = lineFromHash();
      if (n) {
        selectLine(n);
        scrollToLine(n);
      }
    };
    window.addEventListener("hashchange", onHashChange);

    body.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      const page = Math.max(lineHeight, body.clientHeight - lineHeight);
      const to = { PageDown: body.scrollTop + page, PageUp: body.scrollTop - page, Home: 0, End: body.scrollHeight };
      if (!(event.key in to)) return;
      event.preventDefault();
      body.scrollTop = to[event.key];
    });

    // Follow: scrolling up stops it, scrolling to the very bottom of a live log starts it again.
    body.addEventListener(
      "scroll",
      () => {
        const top = body.scrollTop;
        if (follow?.checked && top < lastScrollTop && !atBottom()) follow.checked = false;
        else if (follow && !follow.checked && !done && top > lastScrollTop && atBottom()) follow.checked = true;
        lastScrollTop = top;
        schedule();
      },
      { passive: true },
    );
    if (follow) {
      follow.checked = !done && !selected;
      follow.addEventListener("change", () => follow.checked && scrollToBottom());
    }

    if (times) {
      const showTimes = () => section.classList.toggle("show-times", times.checked);
      times.addEventListener("change", showTimes);
      showTimes();
    }

    const form = section.querySelector(".log-search");
    if (form) setUpSearch(form);
    const resizes = typeof ResizeObserver === "function" ? new ResizeObserver(schedule) : null;
    if (resizes) resizes.observe(body);

    // ---------------------------------------------------------------- start
    updateStats();
    if (selected) scrollToLine(selected);
    else if (follow?.checked) scrollToBottom();
    if (!done) openStream();
    schedule();

    const api = {
      /** Lines known so far (grows while the step is live). */
      totalLines: () => total,
      /** The text of the line at 0-based `pos` as shown (ANSI codes removed), or null when not loaded. */
      loadedLineText: (pos) => {
        const line = lineAt(pos);
        return line ? segmentsOf(line).map((segment) => segment.text).join("") : null;
      },
      /** Scroll so the 1-based line n is in view. */
      scrollToLine,
      /** Stop streaming and rendering (the section keeps its last rows). */
      close() {
        closed = true;
        closeStream();
        cancelAnimationFrame(frame);
        clearTimeout(refetchTimer);
        window.removeEventListener("hashchange", onHashChange);
        if (resizes) resizes.disconnect();
      },
    };
    section.hangarLog = api;
    return api;
  }

  window.HangarLog = { mount, parseAnsi, formatTime };
})();
