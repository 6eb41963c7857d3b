//! The mailbox poller's live status: last successful fetch, last error, next retry.
import { Alert, Group, Stack, Text, Title } from '@mantine/core';
import { formatDateTime } from '@/lib/format';
import type { MailboxStatus } from '@/lib/api/types';

export function MailboxStatusPanel({
  status,
  enabled,
}: {
  status: MailboxStatus;
  enabled: boolean;
}) {
  const failing = status.consecutive_failures > 0;
  return (
    <Stack gap="xs" aria-label="Mailbox status">
      <Title order={2} size="h4">
        Status
      </Title>
      {!enabled && (
        <Text size="sm" c="dimmed">
          Mail is off: the mailbox is not read and replies are not emailed. Turn it on above when
          the connection test passes.
        </Text>
      )}
      <Group gap="xs">
        <Text size="sm" fw={500}>
          Last successful fetch:
        </Text>
        <Text size="sm">
          {status.last_fetch_at ? formatDateTime(status.last_fetch_at, true) : 'never'}
        </Text>
      </Group>
      {status.last_error && (
        <Alert
          color={failing ? 'red' : 'gray'}
          title={failing ? 'Reading mail fails' : 'Last error'}
        >
          <Stack gap={4}>
            <Text size="sm">{status.last_error}</Text>
            <Text size="xs" c="dimmed">
              {status.last_error_at ? `At ${formatDateTime(status.last_error_at, true)}. ` : ''}
              {failing
                ? `${status.consecutive_failures} failed attempt${
                    status.consecutive_failures === 1 ? '' : 's'
                  } in a row.`
                : 'Mail has been read successfully since.'}
            </Text>
          </Stack>
        </Alert>
      )}
      {status.next_retry_at && (
        <Group gap="xs">
          <Text size="sm" fw={500}>
            Next retry:
          </Text>
          <Text size="sm">{formatDateTime(status.next_retry_at, true)}</Text>
        </Group>
      )}
    </Stack>
  );
}
