//! The views of the ticket list with their live counts (the sidebar).
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type { TicketView } from '@/lib/api/types';

export async function fetchTicketViews(): Promise<TicketView[]> {
  const data = await unwrap(api.GET('/tickets/views'));
  return data.items;
}

export const ticketViewsQueryOptions = () =>
  queryOptions({
    queryKey: queryKeys.ticketViews,
    queryFn: fetchTicketViews,
    // Counts change when colleagues work too: refresh now and then, not only after own edits.
    refetchInterval: 60_000,
  });

export function useTicketViews() {
  return useQuery(ticketViewsQueryOptions());
}
