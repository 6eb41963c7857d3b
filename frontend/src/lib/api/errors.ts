//! Errors the API client throws: an answer from the server, or no answer at all.

export interface WorkspaceChoice {
  slug: string;
  name: string;
}

interface ErrorBody {
  code?: string;
  message?: string;
  fields?: Record<string, string>;
  workspaces?: WorkspaceChoice[];
  details?: { workspaces?: WorkspaceChoice[]; workflow_run_id?: string };
  /** For `workflow_run_active`: the run already in progress. */
  workflow_run_id?: string;
  /** For `reply_needs_confirmation`: what the guardrails found. */
  guardrail_flags?: string[];
}

/** The server answered with an error status and (usually) the shared JSON error body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;
  readonly workspaces: WorkspaceChoice[];
  readonly activeRunId: string | null;
  /** For `reply_needs_confirmation`: the commitments the reply makes. */
  readonly guardrailFlags: string[];

  constructor(status: number, body: unknown) {
    const err: ErrorBody =
      typeof body === 'object' && body !== null && 'error' in body
        ? ((body as { error: ErrorBody }).error ?? {})
        : {};
    super(err.message ?? defaultMessage(status));
    this.name = 'ApiError';
    this.status = status;
    this.code = err.code ?? `http_${status}`;
    this.fields = err.fields ?? {};
    this.workspaces = err.workspaces ?? err.details?.workspaces ?? [];
    this.activeRunId = err.workflow_run_id ?? err.details?.workflow_run_id ?? null;
    this.guardrailFlags = err.guardrail_flags ?? [];
  }
}

/** The request never got an answer (server down, network lost). */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super('Cannot reach the server. Check your connection and try again.', { cause });
    this.name = 'NetworkError';
  }
}

function defaultMessage(status: number): string {
  if (status === 401) return 'Your session has expired. Please log in again.';
  if (status === 403) return 'You do not have permission to do that.';
  if (status === 404) return 'Not found.';
  if (status >= 500) return 'The server had a problem. Please try again.';
  return `Request failed (${status}).`;
}

/** A message fit to show a person for any error. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError || error instanceof NetworkError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return 'Something went wrong.';
}

/** Field errors from an API error, keyed by the API's field names. */
export function fieldErrors(error: unknown): Record<string, string> {
  return error instanceof ApiError ? error.fields : {};
}

/** The guardrail findings when the server asks to confirm a reply first, else null. */
export function needsConfirmation(error: unknown): string[] | null {
  return error instanceof ApiError && error.code === 'reply_needs_confirmation'
    ? error.guardrailFlags
    : null;
}
