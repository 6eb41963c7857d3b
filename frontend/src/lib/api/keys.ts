//! Query keys shared by features, so one feature's mutation can refresh another's view.
import type { AuditQuery, TicketListQuery } from './types';

interface DeliveryKey {
  status?: string;
  page: number;
}

export const queryKeys = {
  me: ['auth', 'me'] as const,
  tenant: ['tenant'] as const,
  users: ['users'] as const,
  tickets: ['tickets'] as const,
  ticketList: (query: TicketListQuery) => ['tickets', 'list', query] as const,
  /** Under `tickets`, so every ticket change refreshes the counts. */
  ticketViews: ['tickets', 'views'] as const,
  ticket: (id: string) => ['tickets', 'detail', id] as const,
  ticketRuns: (id: string) => ['tickets', 'detail', id, 'runs'] as const,
  run: (id: string) => ['runs', id] as const,
  aiSettings: ['settings', 'ai'] as const,
  replyPolicies: ['settings', 'policies'] as const,
  emailSettings: ['settings', 'email'] as const,
  emailStatus: ['settings', 'email', 'status'] as const,
  audit: ['audit'] as const,
  inboundAddress: ['settings', 'email', 'inbound'] as const,
  auditList: (query: AuditQuery) => ['audit', 'list', query] as const,
  webhooks: ['settings', 'webhooks'] as const,
  webhookDeliveriesOf: (id: string) => ['settings', 'webhooks', id, 'deliveries'] as const,
  webhookDeliveries: (id: string, filter: DeliveryKey) =>
    ['settings', 'webhooks', id, 'deliveries', filter] as const,
};
