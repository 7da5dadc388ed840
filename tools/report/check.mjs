// Serves a built report site on 127.0.0.1 (an ephemeral port) and opens every page in headless
// Chromium (MkDocs' search runs a worker, which a page opened from disk cannot start), checking
// that each Mermaid
// diagram was drawn: every `pre.mermaid` holds an SVG, and none shows Mermaid's syntax error or
// its size placeholders ("Maximum text size", edge limit). Puppeteer comes from tools/mermaid.
//
// Usage: node check.mjs SITE_DIR [--screenshot PAGE.html=OUT.png]...
//
// Prints one line per page (`ok PAGE (N diagrams)` or what failed) and exits 1 when a page
// fails, 2 on a usage error.
import { createReadStream } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const require = createRequire(new URL('../mermaid/package.json', import.meta.url));
const puppeteer = require('puppeteer');

const args = process.argv.slice(2);
if (args.length === 0) {
  process.stderr.write('usage: node check.mjs SITE_DIR [--screenshot PAGE.html=OUT.png]...\n');
  process.exit(2);
}
const site = path.resolve(args[0]);
const shots = new Map();
for (let i = 1; i < args.length; i++) {
  if (args[i] === '--screenshot' && args[i + 1]) {
    const [page, out] = args[++i].split('=');
    shots.set(page, path.resolve(out));
  } else {
    process.stderr.write(`check.mjs: unknown argument ${args[i]}\n`);
    process.exit(2);
  }
}

async function pages(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await pages(full)));
    else if (entry.name.endsWith('.html') && entry.name !== '404.html') out.push(full);
  }
  return out.sort();
}

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
};
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const file = path.join(site, decodeURIComponent(url.pathname));
  if (!file.startsWith(site)) {
    res.writeHead(403).end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('open', () => {
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
    stream.pipe(res);
  });
  stream.on('error', () => res.writeHead(404).end());
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}/`;

const config = JSON.parse(
  await readFile(new URL('../mermaid/puppeteer.json', import.meta.url), 'utf8'),
);
const browser = await puppeteer.launch({
  executablePath: config.executablePath,
  headless: true,
  args: [...config.args.filter((a) => !a.startsWith('--headless')), '--disable-background-networking'],
});
const ERRORS = [/Syntax error/i, /Maximum text size/i, /Too many edges/i, /Edge limit exceeded/i];
let failed = 0;
try {
  for (const file of await pages(site)) {
    const rel = path.relative(site, file);
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    const problems = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    await page.goto(base + rel.split(path.sep).join('/'), { waitUntil: 'load' });
    const expected = await page.evaluate(
      () => document.querySelectorAll('pre > code.language-mermaid, pre.mermaid').length,
    );
    // Wait until Mermaid has processed every block, or give up after 60 s.
    try {
      await page.waitForFunction(
        () =>
          document.querySelectorAll('pre > code.language-mermaid').length === 0 &&
          [...document.querySelectorAll('pre.mermaid')].every(
            (pre) => pre.getAttribute('data-processed') === 'true' && pre.querySelector('svg'),
          ),
        { timeout: 60000, polling: 100 },
      );
    } catch {
      problems.push('not every Mermaid block was drawn within 60 s');
    }
    const result = await page.evaluate(() => {
      const blocks = [...document.querySelectorAll('pre.mermaid')];
      return {
        drawn: blocks.filter((pre) => pre.querySelector('svg')).length,
        texts: blocks.map((pre) => pre.textContent),
        body: document.body.innerText,
      };
    });
    if (result.drawn !== expected) {
      problems.push(`${result.drawn} of ${expected} diagrams drawn`);
    }
    result.texts.forEach((text, i) => {
      for (const re of ERRORS) {
        if (re.test(text)) problems.push(`diagram ${i + 1} shows ${re}`);
      }
    });
    for (const re of ERRORS) {
      if (re.test(result.body)) problems.push(`the page shows ${re}`);
    }
    if (shots.has(rel)) {
      await page.screenshot({ path: shots.get(rel), fullPage: true });
    }
    await page.close();
    if (problems.length === 0) {
      process.stdout.write(`ok ${rel} (${expected} diagrams)\n`);
    } else {
      failed += 1;
      process.stdout.write(`FAIL ${rel}: ${problems.join('; ')}\n`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(failed === 0 ? 0 : 1);
