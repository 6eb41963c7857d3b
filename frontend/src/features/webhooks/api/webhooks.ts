//! Webhook endpoints (admin): list, create (the secret is shown once), change, delete, rotate the
//! secret, send a test message, and each endpoint's delivery log with retry.
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
  CreateWebhookBody,
  UpdateWebhookBody,
  Webhook,
  WebhookDelivery,
  WebhookDeliveryPage,
  WebhookDeliveryStatus,
  WebhookWithSecret,
} from '@/lib/api/types';

/** The events an endpoint can subscribe to, with a word for each. */
export const WEBHOOK_EVENTS = [
  { value: 'ticket.created', label: 'Ticket created' },
  { value: 'ticket.updated', label: 'Ticket updated' },
  { value: 'reply.created', label: 'Reply sent' },
  { value: 'triage.completed', label: 'Triage completed' },
] as const;

/** How often the delivery log refreshes while open (retries come due in the background). */
export const DELIVERY_REFRESH_MS = 10_000;

export function fetchWebhooks(): Promise<Webhook[]> {
  return unwrap(api.GET('/webhooks'));
}

export const webhooksQueryOptions = queryOptions({
  queryKey: queryKeys.webhooks,
  queryFn: fetchWebhooks,
});

export function useWebhooks() {
  return useQuery(webhooksQueryOptions);
}

export function createWebhook(body: CreateWebhookBody): Promise<WebhookWithSecret> {
  return unwrap(api.POST('/webhooks', { body }));
}

export function useCreateWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: createWebhook,
    onSuccess: () => void client.invalidateQueries({ queryKey: queryKeys.webhooks }),
  });
}

export function updateWebhook(id: string, body: UpdateWebhookBody): Promise<Webhook> {
  return unwrap(api.PATCH('/webhooks/{id}', { params: { path: { id } }, body }));
}

export function useUpdateWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: ({ id, body }: { id: string; body: UpdateWebhookBody }) => updateWebhook(id, body),
    onSuccess: () => void client.invalidateQueries({ queryKey: queryKeys.webhooks }),
  });
}

export async function deleteWebhook(id: string): Promise<void> {
  await unwrap(api.DELETE('/webhooks/{id}', { params: { path: { id } } }));
}

export function useDeleteWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: deleteWebhook,
    onSuccess: () => void client.invalidateQueries({ queryKey: queryKeys.webhooks }),
  });
}

export function rotateWebhookSecret(id: string): Promise<WebhookWithSecret> {
  return unwrap(api.POST('/webhooks/{id}/rotate-secret', { params: { path: { id } } }));
}

export function useRotateWebhookSecret() {
  return useMutation({ mutationFn: rotateWebhookSecret });
}

export function testWebhook(id: string): Promise<WebhookDelivery> {
  return unwrap(api.POST('/webhooks/{id}/test', { params: { path: { id } } }));
}

export function useTestWebhook() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: testWebhook,
    onSuccess: (_d, id) =>
      void client.invalidateQueries({ queryKey: queryKeys.webhookDeliveriesOf(id) }),
  });
}

export interface DeliveryFilter {
  status?: WebhookDeliveryStatus;
  page: number;
}

export function fetchDeliveries(id: string, filter: DeliveryFilter): Promise<WebhookDeliveryPage> {
  return unwrap(
    api.GET('/webhooks/{id}/deliveries', {
      params: { path: { id }, query: { status: filter.status, page: filter.page, per_page: 20 } },
    }),
  );
}

export function deliveriesQueryOptions(id: string, filter: DeliveryFilter) {
  return queryOptions({
    queryKey: queryKeys.webhookDeliveries(id, filter),
    queryFn: () => fetchDeliveries(id, filter),
    refetchInterval: DELIVERY_REFRESH_MS,
    placeholderData: keepPreviousData,
  });
}

export function useDeliveries(id: string, filter: DeliveryFilter) {
  return useQuery(deliveriesQueryOptions(id, filter));
}

export function retryDelivery(id: string, deliveryId: string): Promise<WebhookDelivery> {
  return unwrap(
    api.POST('/webhooks/{id}/deliveries/{delivery_id}/retry', {
      params: { path: { id, delivery_id: deliveryId } },
    }),
  );
}

export function useRetryDelivery(id: string) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: (deliveryId: string) => retryDelivery(id, deliveryId),
    onSuccess: () => void client.invalidateQueries({ queryKey: queryKeys.webhookDeliveriesOf(id) }),
  });
}
