//! Ticket list, creation and manual replies.
import {
  keepPreviousData,
  queryOptions,
  useMutation,
  useQuery,
  useQueryClient,
} from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type {
  BulkUpdateBody,
  BulkUpdateResponse,
  BulkUpdateSchemaBody,
  CreateTicketBody,
  Reply,
  Ticket,
  TicketListQuery,
  TicketPage,
  TicketStatus,
} from '@/lib/api/types';

export function fetchTickets(query: TicketListQuery): Promise<TicketPage> {
  return unwrap(api.GET('/tickets', { params: { query } }));
}

export const ticketsQueryOptions = (query: TicketListQuery) =>
  queryOptions({
    queryKey: queryKeys.ticketList(query),
    queryFn: () => fetchTickets(query),
    placeholderData: keepPreviousData,
  });

export function useTickets(query: TicketListQuery) {
  return useQuery(ticketsQueryOptions(query));
}

export function createTicket(body: CreateTicketBody): Promise<Ticket> {
  return unwrap(api.POST('/tickets', { body }));
}

export function useCreateTicket() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: createTicket,
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.tickets }),
  });
}

export interface ReplyInput {
  body: string;
  status?: TicketStatus;
}

export function createReply(ticketId: string, input: ReplyInput): Promise<Reply> {
  return unwrap(
    api.POST('/tickets/{id}/replies', { params: { path: { id: ticketId } }, body: input }),
  );
}

export function useCreateReply(ticketId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (input: ReplyInput) => createReply(ticketId, input),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.tickets }),
  });
}

export function bulkUpdateTickets(body: BulkUpdateBody): Promise<BulkUpdateResponse> {
  // The generated body type cannot say that null clears a field (see `BulkUpdateBody`).
  return unwrap(api.POST('/tickets/bulk', { body: body as BulkUpdateSchemaBody }));
}

/** One change for several tickets; every ticket list and count refreshes afterwards. */
export function useBulkUpdate() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: bulkUpdateTickets,
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.tickets }),
  });
}

export function createNote(ticketId: string, body: string): Promise<Reply> {
  return unwrap(
    api.POST('/tickets/{id}/notes', { params: { path: { id: ticketId } }, body: { body } }),
  );
}

/** Adds an internal note; the ticket's thread refreshes. */
export function useCreateNote(ticketId: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (body: string) => createNote(ticketId, body),
    onSuccess: () => client.invalidateQueries({ queryKey: queryKeys.tickets }),
  });
}
