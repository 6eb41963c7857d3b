//! Structured reply policies: sign-off, support hours, status page, languages and forbidden
//! commitments that every AI draft follows (any member reads, admins change).
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type { ReplyPolicies, ReplyPolicySettings } from '@/lib/api/types';

export function fetchReplyPolicies(): Promise<ReplyPolicySettings> {
  return unwrap(api.GET('/settings/policies'));
}

export const replyPoliciesQueryOptions = queryOptions({
  queryKey: queryKeys.replyPolicies,
  queryFn: fetchReplyPolicies,
});

export function useReplyPolicies() {
  return useQuery(replyPoliciesQueryOptions);
}

export function putReplyPolicies(body: ReplyPolicies): Promise<ReplyPolicySettings> {
  return unwrap(api.PUT('/settings/policies', { body }));
}

export function useUpdateReplyPolicies() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: putReplyPolicies,
    onSuccess: (settings) => client.setQueryData(queryKeys.replyPolicies, settings),
  });
}
