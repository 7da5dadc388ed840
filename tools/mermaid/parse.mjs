// Checks Mermaid text with Mermaid's own parser, without a browser.
//
// Usage: node parse.mjs FILE.mmd...    (or no argument: read one diagram from stdin)
//
// Each diagram is given to `mermaid.parse` under a jsdom window, as the flowchart parser needs a
// DOM for its sanitizer. The script prints `ok FILE (N ms)` for each diagram that parses, and the
// parser's error for each that does not; it exits 1 when any fails and 2 on a usage or read error.
import { readFile } from 'node:fs/promises';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!DOCTYPE html><html><body></body></html>', { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const name of ['Element', 'HTMLElement', 'Node', 'DOMParser', 'SVGElement', 'navigator']) {
  if (!(name in globalThis) && name in dom.window) {
    Object.defineProperty(globalThis, name, { value: dom.window[name], configurable: true });
  }
}

const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const files = process.argv.slice(2);
const inputs = [];
try {
  if (files.length === 0) {
    inputs.push(['<stdin>', await readStdin()]);
  } else {
    for (const file of files) inputs.push([file, await readFile(file, 'utf8')]);
  }
} catch (err) {
  process.stderr.write(`parse.mjs: ${err.message}\n`);
  process.exit(2);
}

let failed = 0;
for (const [name, text] of inputs) {
  const start = performance.now();
  try {
    await mermaid.parse(text);
    const ms = Math.round(performance.now() - start);
    process.stdout.write(`ok ${name} (${ms} ms)\n`);
  } catch (err) {
    failed += 1;
    const message = err && err.message ? err.message : String(err);
    process.stderr.write(`error ${name}: ${message}\n`);
  }
}
process.exit(failed === 0 ? 0 : 1);
