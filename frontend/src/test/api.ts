//! A fake server for component tests: routes `METHOD /path` to handlers and records requests.
import { vi } from 'vitest';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: Headers;
}

type Reply = { status?: number; body?: unknown } | Promise<{ status?: number; body?: unknown }>;
type Handler = (request: RecordedRequest) => Reply;

export function json(body: unknown, status = 200) {
  return { status, body };
}

export function apiError(
  status: number,
  code: string,
  message: string,
  fields?: Record<string, string>,
  extra: Record<string, unknown> = {},
) {
  return { status, body: { error: { code, message, ...(fields ? { fields } : {}), ...extra } } };
}

/**
 * Installs a fetch mock. Routes are `'GET /api/tickets/:id'`-style patterns; unmatched requests
 * fail the test loudly with a 599.
 */
export function mockApi(routes: Record<string, Handler>) {
  const requests: RecordedRequest[] = [];
  const compiled = Object.entries(routes).map(([key, handler]) => {
    const [method, pattern] = key.split(' ') as [string, string];
    const re = new RegExp(`^${pattern.replace(/:[a-z_]+/g, '[^/]+')}$`);
    return { method, re, handler };
  });
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(String(input), init);
    const url = new URL(request.url);
    const text = request.method === 'GET' ? '' : await request.text();
    const recorded: RecordedRequest = {
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      body: text ? JSON.parse(text) : undefined,
      headers: request.headers,
    };
    requests.push(recorded);
    const route = compiled.find((r) => r.method === request.method && r.re.test(url.pathname));
    if (!route) {
      return new Response(
        JSON.stringify({
          error: { code: 'unmocked', message: `${request.method} ${url.pathname}` },
        }),
        {
          status: 599,
          headers: { 'Content-Type': 'application/json' },
        },
      );
    }
    const reply = await route.handler(recorded);
    const status = reply.status ?? 200;
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status,
      headers: { 'Content-Type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  return {
    requests,
    fetchMock,
    find: (method: string, path: string | RegExp) =>
      requests.filter(
        (r) =>
          r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
      ),
  };
}
