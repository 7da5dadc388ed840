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
    // Drawn at their own size (the page scrolls sideways), not shrunk to the column's width.
    mermaid.initialize({
      startOnLoad: false,
      securityLevel: "strict",
      flowchart: { useMaxWidth: false },
    });
    mermaid.run({ querySelector: "pre.mermaid" });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
