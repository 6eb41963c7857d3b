//! Ticket detail and ticket updates: shared by the tickets and triage features.
import {
  type QueryClient,
  queryOptions,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { api, unwrap } from './client';
import { queryKeys } from './keys';
import type { Ticket, TicketDetail, UpdateTicketBody, UpdateTicketSchemaBody } from './types';

/**
 * A ticket's detail is cached under the reference in the URL: its id or its number
 * (`/tickets/1042`). Updates know the id only, so they find the cached detail by its content.
 */
function isDetailOf(id: string, key: readonly unknown[], data: unknown): boolean {
  if (key.length !== 3) return false;
  return key[2] === id || (data as TicketDetail | undefined)?.ticket.id === id;
}

/** Refetches a ticket's detail, whether it was loaded by id or by number. */
export function invalidateTicketDetail(client: QueryClient, id: string) {
  return client.invalidateQueries({
    queryKey: ['tickets', 'detail'],
    predicate: (query) => isDetailOf(id, query.queryKey, query.state.data),
  });
}

/** `id` is the ticket's UUID or its workspace number. */
export function fetchTicket(id: string): Promise<TicketDetail> {
  return unwrap(api.GET('/tickets/{id}', { params: { path: { id } } }));
}

export const ticketQueryOptions = (id: string) =>
  queryOptions({ queryKey: queryKeys.ticket(id), queryFn: () => fetchTicket(id) });

export function useTicket(id: string) {
  return useQuery(ticketQueryOptions(id));
}

export function updateTicket(id: string, body: UpdateTicketBody): Promise<Ticket> {
  // `null` clears a field; the schema cannot express it (see UpdateTicketBody).
  const wireBody = body as UpdateTicketSchemaBody;
  return unwrap(api.PATCH('/tickets/{id}', { params: { path: { id } }, body: wireBody }));
}

/** PATCH /api/tickets/{id}; the cached detail is updated in place and lists are refreshed. */
export function useUpdateTicket(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: UpdateTicketBody) => updateTicket(id, body),
    onSuccess: (ticket) => {
      const details = client.getQueryCache().findAll({ queryKey: ['tickets', 'detail'] });
      for (const query of details) {
        if (!isDetailOf(id, query.queryKey, query.state.data)) continue;
        client.setQueryData<TicketDetail>(query.queryKey, (old) =>
          old ? { ...old, ticket } : old,
        );
      }
      void client.invalidateQueries({ queryKey: queryKeys.tickets });
    },
  });
}
