//! Ticket detail and ticket updates: shared by the tickets and triage features.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from './client';
import { queryKeys } from './keys';
import type { Ticket, TicketDetail, UpdateTicketBody, UpdateTicketSchemaBody } from './types';

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
      client.setQueryData<TicketDetail>(queryKeys.ticket(id), (old) =>
        old ? { ...old, ticket } : old,
      );
      void client.invalidateQueries({ queryKey: queryKeys.tickets });
    },
  });
}
