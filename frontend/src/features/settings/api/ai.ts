//! AI triage settings: whether new tickets are triaged on arrival, and the confidence each field
//! needs to be applied (any member reads, admins change).
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type { AiSettings } from '@/lib/api/types';

export function fetchAiSettings(): Promise<AiSettings> {
  return unwrap(api.GET('/settings/ai'));
}

export const aiSettingsQueryOptions = queryOptions({
  queryKey: queryKeys.aiSettings,
  queryFn: fetchAiSettings,
});

export function useAiSettings() {
  return useQuery(aiSettingsQueryOptions);
}

export function putAiSettings(body: AiSettings): Promise<AiSettings> {
  return unwrap(api.PUT('/settings/ai', { body }));
}

export function useUpdateAiSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: putAiSettings,
    onSuccess: (settings) => client.setQueryData(queryKeys.aiSettings, settings),
  });
}
