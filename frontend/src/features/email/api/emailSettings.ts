//! The support mailbox (admin): settings with write-only passwords, the connection test and the
//! poller's live status.
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '@/lib/api/client';
import { queryKeys } from '@/lib/api/keys';
import type {
  EmailSettings,
  EmailSettingsInput,
  EmailTestResult,
  MailboxStatus,
} from '@/lib/api/types';

/** How often the live status is refreshed while the page is open. */
export const STATUS_REFRESH_MS = 15_000;

export function fetchEmailSettings(): Promise<EmailSettings> {
  return unwrap(api.GET('/settings/email'));
}

export const emailSettingsQueryOptions = queryOptions({
  queryKey: queryKeys.emailSettings,
  queryFn: fetchEmailSettings,
});

export function useEmailSettings() {
  return useQuery(emailSettingsQueryOptions);
}

export function fetchMailboxStatus(): Promise<MailboxStatus> {
  return unwrap(api.GET('/settings/email/status'));
}

export const mailboxStatusQueryOptions = queryOptions({
  queryKey: queryKeys.emailStatus,
  queryFn: fetchMailboxStatus,
  refetchInterval: STATUS_REFRESH_MS,
  staleTime: 0,
});

export function useMailboxStatus() {
  return useQuery(mailboxStatusQueryOptions);
}

export function saveEmailSettings(body: EmailSettingsInput): Promise<EmailSettings> {
  return unwrap(api.PUT('/settings/email', { body }));
}

export function useSaveEmailSettings() {
  const client = useQueryClient();
  return useMutation({
    mutationFn: saveEmailSettings,
    onSuccess: (saved) => {
      client.setQueryData(queryKeys.emailSettings, saved);
      client.setQueryData(queryKeys.emailStatus, saved.status);
    },
  });
}

export function testEmailSettings(): Promise<EmailTestResult> {
  return unwrap(api.POST('/settings/email/test'));
}

export function useTestEmailSettings() {
  return useMutation({ mutationFn: testEmailSettings });
}
