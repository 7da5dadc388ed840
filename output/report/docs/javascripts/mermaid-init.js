// Written by `rolechain report`. MkDocs writes a ```mermaid fence as
// <pre><code class="language-mermaid">; this turns each into <pre class="mermaid"> and has
// Mermaid (loaded before this script) draw them, so the site needs no plugin.
(function () {
  function draw() {
    var blocks = document.querySelectorAll("pre > code.language-mermaid");
    blocks.forEach(function (code) {
      var pre = document.createElement("pre");
      pre.className = "mermaid";
      pre.textContent = code.textContent;
      code.parentNode.replaceWith(pre);
    });
    if (typeof mermaid === "undefined") {
      return;
    }
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
    mermaid.run({ querySelector: "pre.mermaid" }).then(function () {
      // A diagram shrunk to the column's width below 60% of its size has unreadable text:
      // draw it at 60% and let the block scroll sideways.
      document.querySelectorAll("pre.mermaid > svg").forEach(function (svg) {
        var natural = svg.viewBox && svg.viewBox.baseVal ? svg.viewBox.baseVal.width : 0;
        if (natural * 0.6 > svg.parentNode.clientWidth) {
          svg.style.maxWidth = "none";
          svg.style.width = Math.round(natural * 0.6) + "px";
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
