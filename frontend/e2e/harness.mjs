// Starts the real server on a free port with a fresh in-memory database, and launches Chromium.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const frontendDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = resolve(frontendDir, '..');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Builds frontend/dist so the server has the current UI to serve (skip with E2E_SKIP_BUILD=1). */
export function buildFrontend() {
  if (process.env.E2E_SKIP_BUILD === '1' && existsSync(join(frontendDir, 'dist', 'index.html')))
    return;
  const vite = join(frontendDir, 'node_modules', '.bin', 'vite');
  const result = spawnSync(vite, ['build', '--logLevel', 'warn'], {
    cwd: frontendDir,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('vite build failed');
}

export async function startServer() {
  const bin = resolve(frontendDir, process.env.OPSFLOW_BIN ?? '../target/debug/opsflow');
  if (!existsSync(bin))
    throw new Error(`server binary not found at ${bin} (build it with cargo, or set OPSFLOW_BIN)`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // An empty working directory, so no stray .env or data folder changes the run.
  const cwd = mkdtempSync(join(tmpdir(), 'opsflow-e2e-'));
  const logs = [];
  const child = spawn(bin, ['serve', '--bind', `127.0.0.1:${port}`], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      OPSFLOW_DATABASE_URL: 'sqlite::memory:',
      OPSFLOW_JWT_SECRET: randomBytes(32).toString('hex'),
      OPSFLOW_LLM_PROVIDER: 'offline',
      OPSFLOW_LOG: process.env.OPSFLOW_LOG ?? 'warn',
      OPSFLOW_LOG_FORMAT: 'pretty',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk) => logs.push(chunk.toString()));
  child.stderr.on('data', (chunk) => logs.push(chunk.toString()));
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited)
      throw new Error(
        `server exited (${JSON.stringify(exited)}) before it was ready:\n${logs.join('')}`,
      );
    try {
      const response = await fetch(`${base}/api/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`server did not answer /api/health within 60 s:\n${logs.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    base,
    logs,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await new Promise((r) => {
          const timer = setTimeout(() => {
            child.kill('SIGKILL');
            r();
          }, 10_000);
          child.once('exit', () => {
            clearTimeout(timer);
            r();
          });
        });
      }
      rmSync(cwd, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
  '.png': 'image/png',
};

/**
 * Serves frontend/dist itself and forwards /api to the server, on one origin. Only for a server
 * binary that does not serve the current UI (set E2E_SERVE_UI=1); the default is the server's own
 * embedded UI, which is what ships.
 */
export async function serveUi(apiBase) {
  const dist = join(frontendDir, 'dist');
  const api = new URL(apiBase);
  const server = createHttpServer((req, res) => {
    if (req.url.startsWith('/api')) {
      const upstream = httpRequest(
        {
          host: api.hostname,
          port: api.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
      return;
    }
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(
      /^\/+/,
      '',
    );
    let file = join(dist, path);
    if (!path || !file.startsWith(dist) || !existsSync(file) || !extname(file))
      file = join(dist, 'index.html');
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${port}`,
    stop: () => new Promise((r) => server.close(r)),
  };
}
