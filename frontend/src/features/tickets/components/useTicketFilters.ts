//! Ticket list filters kept in the URL, so a view can be shared and survives a reload.
import { useCallback, useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { TICKET_CATEGORIES, TICKET_PRIORITIES, TICKET_STATUSES } from '@/lib/api/enums';
import type {
  TicketCategory,
  TicketListQuery,
  TicketPriority,
  TicketStatus,
} from '@/lib/api/types';

export const PAGE_SIZE = 25;
export const UNASSIGNED = 'unassigned';

export interface TicketFilters {
  status: TicketStatus | null;
  priority: TicketPriority | null;
  category: TicketCategory | null;
  /** A user id, `unassigned`, or null for anyone. */
  assignee: string | null;
  q: string;
  page: number;
}

function oneOf<T extends string>(values: readonly T[], raw: string | null): T | null {
  return raw && (values as readonly string[]).includes(raw) ? (raw as T) : null;
}

export function useTicketFilters() {
  const [params, setParams] = useSearchParams();

  const filters: TicketFilters = useMemo(() => {
    const page = Number.parseInt(params.get('page') ?? '1', 10);
    return {
      status: oneOf(TICKET_STATUSES, params.get('status')),
      priority: oneOf(TICKET_PRIORITIES, params.get('priority')),
      category: oneOf(TICKET_CATEGORIES, params.get('category')),
      assignee: params.get('assignee') || null,
      q: params.get('q') ?? '',
      page: Number.isFinite(page) && page > 0 ? page : 1,
    };
  }, [params]);

  /** Changes filters; any change other than the page goes back to page 1. */
  const update = useCallback(
    (changes: Partial<TicketFilters>) => {
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(changes)) {
            if (value === null || value === '' || value === undefined) next.delete(key);
            else next.set(key, String(value));
          }
          if (!('page' in changes)) next.delete('page');
          if (next.get('page') === '1') next.delete('page');
          return next;
        },
        { replace: !('page' in changes) && 'q' in changes },
      );
    },
    [setParams],
  );

  const reset = useCallback(() => setParams(new URLSearchParams()), [setParams]);

  const query: TicketListQuery = useMemo(() => {
    const q: TicketListQuery = { page: filters.page, page_size: PAGE_SIZE };
    if (filters.status) q.status = filters.status;
    if (filters.priority) q.priority = filters.priority;
    if (filters.category) q.category = filters.category;
    if (filters.assignee === UNASSIGNED) q.unassigned = true;
    else if (filters.assignee) q.assignee_id = filters.assignee;
    if (filters.q.trim()) q.q = filters.q.trim();
    return q;
  }, [filters]);

  const active =
    !!filters.status ||
    !!filters.priority ||
    !!filters.category ||
    !!filters.assignee ||
    !!filters.q;

  return { filters, update, reset, query, active };
}
