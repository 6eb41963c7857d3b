//! Ticket list filters and order kept in the URL, so a view can be shared and survives a reload.
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import {
  TICKET_CATEGORIES,
  TICKET_PRIORITIES,
  TICKET_SORTS,
  TICKET_STATUSES,
  TICKET_VIEWS,
} from '@/lib/api/enums';
import type {
  TicketCategory,
  TicketListQuery,
  TicketPriority,
  TicketSort,
  TicketStatus,
  TicketViewId,
} from '@/lib/api/types';

export const PAGE_SIZE = 25;
export const UNASSIGNED = 'unassigned';
export const ME = 'me';

export interface TicketFilters {
  /** A view of the sidebar; the filters below narrow it or replace its parts. */
  view: TicketViewId | null;
  /** Any of these statuses (none: any status). Repeated in the URL: `status=new&status=open`. */
  status: TicketStatus[];
  /** Any of these priorities (none: any priority). */
  priority: TicketPriority[];
  category: TicketCategory | null;
  /** `me`, `unassigned`, a user id, or null for anyone. */
  assignee: string | null;
  q: string;
  /** null: the server's default (newest first). */
  sort: TicketSort | null;
  page: number;
  /** Keyset paging: the `next_cursor` of the previous page (replaces `page`). */
  cursor: string | null;
}

function oneOf<T extends string>(values: readonly T[], raw: string | null): T | null {
  return raw && (values as readonly string[]).includes(raw) ? (raw as T) : null;
}

function allOf<T extends string>(values: readonly T[], raw: readonly string[]): T[] {
  return values.filter((value) => raw.includes(value));
}

/** Reads the filters from URL search params (unknown values are ignored). */
export function filtersFromParams(params: URLSearchParams): TicketFilters {
  const page = Number.parseInt(params.get('page') ?? '1', 10);
  return {
    view: oneOf(TICKET_VIEWS, params.get('view')),
    status: allOf(TICKET_STATUSES, params.getAll('status')),
    priority: allOf(TICKET_PRIORITIES, params.getAll('priority')),
    category: oneOf(TICKET_CATEGORIES, params.get('category')),
    assignee: params.get('assignee') || null,
    q: params.get('q') ?? '',
    sort: oneOf(TICKET_SORTS, params.get('sort')),
    page: Number.isFinite(page) && page > 0 ? page : 1,
    cursor: params.get('cursor') || null,
  };
}

/** The list request for a set of filters. */
export function listQuery(filters: TicketFilters): TicketListQuery {
  const q: TicketListQuery = filters.cursor
    ? { cursor: filters.cursor, page_size: PAGE_SIZE }
    : { page: filters.page, page_size: PAGE_SIZE };
  if (filters.view) q.view = filters.view;
  if (filters.status.length) q.status = filters.status;
  if (filters.priority.length) q.priority = filters.priority;
  if (filters.category) q.category = filters.category;
  if (filters.assignee) q.assignee = filters.assignee;
  if (filters.q.trim()) q.q = filters.q.trim();
  if (filters.sort) q.sort = filters.sort;
  return q;
}

/** Writes `changes` into `params`; lists are repeated keys, empty values are removed. */
export function applyChanges(
  params: URLSearchParams,
  changes: Partial<TicketFilters>,
): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [key, value] of Object.entries(changes)) {
    next.delete(key);
    if (Array.isArray(value)) value.forEach((v: string) => next.append(key, v));
    else if (value !== null && value !== '' && value !== undefined) next.set(key, String(value));
  }
  // Paging is by page number or by cursor, never both; any other change starts at the top.
  if (!('page' in changes)) next.delete('page');
  if (!('cursor' in changes)) next.delete('cursor');
  if (next.get('page') === '1') next.delete('page');
  return next;
}

export function useTicketFilters() {
  const [params, setParams] = useSearchParams();

  const filters = useMemo(() => filtersFromParams(params), [params]);

  /** Changes filters; any change other than the page or cursor goes back to page 1. */
  const update = useCallback(
    (changes: Partial<TicketFilters>) => {
      setParams((current) => applyChanges(current, changes), {
        replace: !('page' in changes) && !('cursor' in changes) && 'q' in changes,
      });
    },
    [setParams],
  );

  /** Clears the filters, staying in the current view. */
  const reset = useCallback(
    () =>
      setParams((current) => {
        const view = current.get('view');
        return new URLSearchParams(view ? { view } : {});
      }),
    [setParams],
  );

  const query = useMemo(() => listQuery(filters), [filters]);

  const active =
    filters.status.length > 0 ||
    filters.priority.length > 0 ||
    !!filters.category ||
    !!filters.assignee ||
    !!filters.q;

  return { filters, update, reset, query, active };
}
