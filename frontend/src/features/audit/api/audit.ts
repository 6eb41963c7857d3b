//! The workspace audit log (admin): who did what to accounts and settings.
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type { AuditPage, AuditQuery } from '@/lib/api/types';

export function fetchAuditEvents(query: AuditQuery): Promise<AuditPage> {
  return unwrap(api.GET('/audit', { params: { query } }));
}

export const auditEventsQueryOptions = (query: AuditQuery) =>
  queryOptions({
    queryKey: queryKeys.auditList(query),
    queryFn: () => fetchAuditEvents(query),
    placeholderData: keepPreviousData,
  });

export function useAuditEvents(query: AuditQuery) {
  return useQuery(auditEventsQueryOptions(query));
}
