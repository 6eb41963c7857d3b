//! The one API client: typed from the generated OpenAPI schema, with the bearer token attached.
import createClient, { type Middleware } from 'openapi-fetch';
import { session } from '../auth/session';
import { ApiError, NetworkError } from './errors';
import type { paths } from './schema';

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.getToken();
    if (token) request.headers.set('Authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('Authorization')) session.expire();
    return response;
  },
};

/** The OpenAPI document's paths are relative to its server URL, `/api`. */
function baseUrl(): string {
  return `${typeof window !== 'undefined' ? window.location.origin : ''}/api`;
}

export const api = createClient<paths>({
  baseUrl: baseUrl(),
  // Looked up per call so tests can replace fetch after this module loads.
  fetch: (request) => globalThis.fetch(request),
});
api.use(auth);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Awaits an openapi-fetch call and returns its data, throwing ApiError or NetworkError. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (cause) {
    throw new NetworkError(cause);
  }
  if (!result.response.ok || result.error !== undefined) {
    throw new ApiError(result.response.status, result.error);
  }
  return result.data as T;
}
