/* qed's default theme in the browser, no framework: the colour-scheme button, a copy button
   on every code block, and the table of contents marking the section being read.
   Without JavaScript the page follows the system's colour scheme and everything else is
   plain HTML. The stored choice is applied before the first paint by baseof.html. */
(function () {
  "use strict";
  var root = document.documentElement;
  var STORE = "qed-theme";
  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function isDark() {
    var chosen = root.dataset.theme;
    return chosen ? chosen === "dark" : !!(systemDark && systemDark.matches);
  }

  function setUpThemeButton() {
    var button = document.querySelector(".theme-toggle");
    if (!button) { return; }
    function show() { button.setAttribute("aria-pressed", isDark() ? "true" : "false"); }
    button.hidden = false;
    show();
    button.addEventListener("click", function () {
      var next = isDark() ? "light" : "dark";
      root.dataset.theme = next;
      try { localStorage.setItem(STORE, next); } catch (e) { /* private mode: this page only */ }
      show();
      document.dispatchEvent(new CustomEvent("qed-theme", { detail: next }));
    });
    if (systemDark && systemDark.addEventListener) { systemDark.addEventListener("change", show); }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) { return navigator.clipboard.writeText(text); }
    return new Promise(function (resolve, reject) {  // file:// and plain http: the old way
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var done = document.execCommand("copy");
      area.remove();
      if (done) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function codeText(pre) {
    var copy = pre.cloneNode(true);
    copy.querySelectorAll(".linenos, .copy-code").forEach(function (n) { n.remove(); });
    return copy.textContent.replace(/\n$/, "");
  }

  function setUpCopyButtons() {
    document.querySelectorAll("pre").forEach(function (pre) {
      if (pre.classList.contains("mermaid") || !pre.querySelector("code") || !pre.textContent.trim()) { return; }
      var box = pre.parentElement && pre.parentElement.classList.contains("highlight") ? pre.parentElement : null;
      if (!box) {
        box = document.createElement("div");
        box.className = "code-box";
        pre.parentNode.insertBefore(box, pre);
        box.appendChild(pre);
      }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-code";
      button.textContent = "Copy";
      button.setAttribute("aria-label", "Copy code");
      button.addEventListener("click", function () {
        copyText(codeText(pre)).then(function () { say(button, "Copied"); }, function () { say(button, "Press Ctrl+C"); });
      });
      box.insertBefore(button, box.firstChild);
      box.classList.add("has-copy");
    });
  }

  function say(button, text) {
    button.textContent = text;
    button.setAttribute("aria-label", text);
    clearTimeout(button.qedTimer);
    button.qedTimer = setTimeout(function () { button.textContent = "Copy"; button.setAttribute("aria-label", "Copy code"); }, 2000);
  }

  /* The contents box marks the last heading that has scrolled past the top third of the window. */
  function setUpContents() {
    var toc = document.getElementById("TableOfContents");
    if (!toc || !("IntersectionObserver" in window)) { return; }
    var links = {};
    toc.querySelectorAll("a[href^='#']").forEach(function (a) { links[decodeURIComponent(a.hash.slice(1))] = a; });
    var headings = [];
    Object.keys(links).forEach(function (id) { var h = document.getElementById(id); if (h) { headings.push(h); } });
    if (!headings.length) { return; }
    var current = null;
    function mark() {
      var line = window.innerHeight / 3, best = null;
      headings.forEach(function (h) { if (h.getBoundingClientRect().top <= line) { best = h; } });
      var link = best ? links[best.id] : null;
      if (link === current) { return; }
      if (current) { current.removeAttribute("aria-current"); }
      if (link) { link.setAttribute("aria-current", "location"); }
      current = link;
    }
    var observer = new IntersectionObserver(mark, { rootMargin: "0px 0px -66% 0px", threshold: [0, 1] });
    headings.forEach(function (h) { observer.observe(h); });
    mark();
  }

  /* A box that scrolls sideways (a long formula, a wide table or drawing on a phone) can be
     reached and scrolled with the keyboard: it joins the tab order while it scrolls. */
  var SCROLLERS = ".katex-display, .qed-table-wrap, .qed-graph-wrap, pre";
  function reachScrollers() {
    document.querySelectorAll(SCROLLERS).forEach(function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) { box.setAttribute("tabindex", "0"); box.dataset.qedScroll = ""; }
      if (!scrolls && box.hasAttribute("data-qed-scroll")) { box.removeAttribute("tabindex"); box.removeAttribute("data-qed-scroll"); }
    });
  }

  function start() {
    setUpThemeButton(); setUpCopyButtons(); setUpContents(); reachScrollers();
    var timer = null;
    window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(reachScrollers, 200); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
