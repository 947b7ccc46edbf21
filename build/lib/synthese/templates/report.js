/* synthese report: open collapsed sections on navigation and highlight the quoted span.
   Without JavaScript every answer is still shown, with all its quoted spans marked. */
(function () {
  "use strict";

  function byHash(hash) {
    if (!hash || hash.length < 2) return null;
    try {
      return document.getElementById(decodeURIComponent(hash.slice(1)));
    } catch (e) {
      return null;
    }
  }

  function openAround(element) {
    for (var node = element; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") node.open = true;
    }
  }

  // Offsets are counted in Unicode code points (as in Python), not UTF-16 units:
  // Array.from splits on code points, so an emoji before the quote does not shift it.
  function highlight(answer, start, end) {
    var box = answer.querySelector(".reponse-texte");
    if (!box) return;
    var chars = Array.from(box.textContent);
    if (!(start >= 0 && end > start && end <= chars.length)) return;
    var mark = document.createElement("mark");
    mark.className = "actif";
    mark.textContent = chars.slice(start, end).join("");
    box.replaceChildren(
      document.createTextNode(chars.slice(0, start).join("")),
      mark,
      document.createTextNode(chars.slice(end).join(""))
    );
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest('a[href^="#"]') : null;
    if (!link) return;
    var target = byHash(link.getAttribute("href"));
    if (!target) return;
    // Open before the browser scrolls, so the target is visible when it gets there.
    openAround(target);
    if (link.hasAttribute("data-debut") && target.classList.contains("reponse")) {
      highlight(target, Number(link.getAttribute("data-debut")), Number(link.getAttribute("data-fin")));
    }
  });

  function openCurrentHash() {
    var target = byHash(window.location.hash);
    if (target) openAround(target);
  }
  window.addEventListener("hashchange", openCurrentHash);
  openCurrentHash();

  // Print everything: collapsed lists are opened for printing and closed again afterwards.
  var openedForPrint = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true;
      openedForPrint.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (d) { d.open = false; });
    openedForPrint = [];
  });
})();
