/* Previews of cross-references (qed's a.ref links to theorems, lemmas, equations...).
   Hovering or focusing a reference shows the referenced statement, badge included, in a card
   beside it; on touch, the first tap opens the card and the card's own link goes there.
   The statement is taken from the target page itself (this page, or one fetched from the
   same site, so nothing leaves the site); without JavaScript, or when the page cannot be
   fetched (a site opened from disk), a reference stays a plain link. */
(function () {
  "use strict";
  var pages = {};          // page URL -> Promise of its Document
  var card = null;         // the one preview card
  var owner = null;        // the link whose preview is shown
  var hideTimer = null, showTimer = null, lastPointer = "mouse";
  var shownBeforeTap = null;  // the link previewed when the current tap began (focus opens one too)

  function split(link) {
    var url = new URL(link.href, location.href);
    var id = decodeURIComponent(url.hash.slice(1));
    url.hash = "";
    return {page: url.href, id: id, here: url.pathname === location.pathname && url.origin === location.origin};
  }

  function documentOf(target) {
    if (target.here) { return Promise.resolve(document); }
    if (!pages[target.page]) {
      pages[target.page] = fetch(target.page, {credentials: "same-origin"}).then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.text();
      }).then(function (text) { return new DOMParser().parseFromString(text, "text/html"); });
    }
    return pages[target.page];
  }

  function excerpt(doc, id) {
    var element = doc.getElementById(id);
    if (!element) { return null; }
    var block = element.closest(".qed-claim") || element.closest(".math.display") || element;
    var copy = document.importNode(block, true);
    copy.removeAttribute("id");
    Array.prototype.forEach.call(copy.querySelectorAll("[id]"), function (e) { e.removeAttribute("id"); });
    Array.prototype.forEach.call(copy.querySelectorAll(".qed-counterexample"), function (e) { e.remove(); });
    return copy;
  }

  function makeCard() {
    card = document.createElement("div");
    card.className = "qed-preview";
    card.id = "qed-preview";
    card.setAttribute("role", "tooltip");
    card.hidden = true;
    card.addEventListener("mouseenter", function () { clearTimeout(hideTimer); });
    card.addEventListener("mouseleave", scheduleHide);
    document.body.appendChild(card);
  }

  function place(link) {
    var box = link.getBoundingClientRect();
    var width = Math.min(560, document.documentElement.clientWidth - 16);
    card.style.width = width + "px";
    var left = Math.max(8, Math.min(box.left + window.scrollX, window.scrollX + document.documentElement.clientWidth - width - 8));
    card.style.left = left + "px";
    var below = box.bottom + window.scrollY + 6;
    card.style.top = below + "px";
    var height = card.offsetHeight;
    if (box.bottom + 6 + height > window.innerHeight && box.top - 6 - height > 0) {
      card.style.top = (box.top + window.scrollY - 6 - height) + "px";
    }
  }

  function show(link) {
    var target = split(link);
    if (!target.id) { return; }
    documentOf(target).then(function (doc) {
      var content = excerpt(doc, target.id);
      if (!content || owner !== link) { return; }
      if (!card) { makeCard(); }
      card.textContent = "";
      card.appendChild(content);
      var go = document.createElement("a");
      go.className = "qed-preview-go";
      go.href = link.href;
      go.textContent = "Go to " + (link.textContent || "it") + " →";
      card.appendChild(go);
      card.hidden = false;
      link.setAttribute("aria-describedby", card.id);
      place(link);
    }, function () { /* the page cannot be fetched (opened from disk): the link still works */ });
  }

  function open(link) {
    clearTimeout(hideTimer);
    clearTimeout(showTimer);
    if (owner === link && card && !card.hidden) { return; }
    hide();
    owner = link;
    show(link);
  }

  function hide() {
    clearTimeout(hideTimer);
    if (owner) { owner.removeAttribute("aria-describedby"); }
    owner = null;
    if (card) { card.hidden = true; }
  }

  function scheduleHide() {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, 250);
  }

  function referenceOf(node) {
    var link = node && node.closest ? node.closest("a.ref") : null;
    return link && !(card && card.contains(link)) ? link : null;
  }

  document.addEventListener("pointerdown", function (event) {
    lastPointer = event.pointerType || "mouse";
    shownBeforeTap = card && !card.hidden ? owner : null;
  }, true);
  document.addEventListener("mouseover", function (event) {
    var link = referenceOf(event.target);
    if (!link || lastPointer === "touch") { return; }
    clearTimeout(hideTimer);
    clearTimeout(showTimer);
    showTimer = setTimeout(function () { open(link); }, 150);
  });
  document.addEventListener("mouseout", function (event) {
    var link = referenceOf(event.target);
    if (link && !(event.relatedTarget && card && card.contains(event.relatedTarget))) { scheduleHide(); }
  });
  document.addEventListener("focusin", function (event) {
    var link = referenceOf(event.target);
    if (link) { open(link); }
  });
  document.addEventListener("focusout", function (event) {
    if (referenceOf(event.target) && !(event.relatedTarget && card && card.contains(event.relatedTarget))) {
      scheduleHide();
    }
  });
  document.addEventListener("click", function (event) {
    var link = referenceOf(event.target);
    if (link && lastPointer === "touch" && shownBeforeTap !== link) {
      event.preventDefault();  // the first tap previews; the card's link (or a second tap) goes there
      open(link);
    } else if (card && !card.hidden && !card.contains(event.target) && !link) {
      hide();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && card && !card.hidden) { hide(); }
  });
})();
