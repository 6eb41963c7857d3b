import { Alert, Badge, Button, Group, Pagination, Select, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { errorMessage } from '@/lib/api/errors';
import type { WebhookDeliveryStatus } from '@/lib/api/types';
import { formatDateTime } from '@/lib/format';
import { useDeliveries, useRetryDelivery } from '../api/webhooks';

const STATUS_COLOR: Record<WebhookDeliveryStatus, string> = {
  queued: 'gray',
  retrying: 'orange',
  succeeded: 'teal',
  failed: 'red',
};

const PER_PAGE = 20;

/** An endpoint's messages, newest first, with their outcome and a retry button. */
export function DeliveryLog({ webhookId }: { webhookId: string }) {
  const [status, setStatus] = useState<WebhookDeliveryStatus | undefined>();
  const [page, setPage] = useState(1);
  const deliveries = useDeliveries(webhookId, { status, page });
  const retry = useRetryDelivery(webhookId);

  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Text fw={600} size="sm">
          Delivery log
        </Text>
        <Select
          aria-label="Filter by status"
          placeholder="All statuses"
          clearable
          size="xs"
          data={[
            { value: 'queued', label: 'Queued' },
            { value: 'retrying', label: 'Retrying' },
            { value: 'succeeded', label: 'Succeeded' },
            { value: 'failed', label: 'Failed' },
          ]}
          value={status ?? null}
          onChange={(v) => {
            setStatus((v as WebhookDeliveryStatus | null) ?? undefined);
            setPage(1);
          }}
        />
      </Group>
      {retry.isError && (
        <Alert color="red" role="alert">
          {errorMessage(retry.error)}
        </Alert>
      )}
      {deliveries.isPending ? (
        <PageLoader />
      ) : deliveries.isError ? (
        <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />
      ) : deliveries.data.items.length === 0 ? (
        <Text size="sm" c="dimmed">
          No messages yet.
        </Text>
      ) : (
        <>
          <Table striped fz="sm" aria-label="Deliveries">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Event</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>HTTP</Table.Th>
                <Table.Th>Attempts</Table.Th>
                <Table.Th>Next retry</Table.Th>
                <Table.Th>Error</Table.Th>
                <Table.Th>Queued</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {deliveries.data.items.map((d) => (
                <Table.Tr key={d.id}>
                  <Table.Td>
                    <code>{d.event_type}</code>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={STATUS_COLOR[d.status]} variant="light">
                      {d.status}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{d.last_status ?? '—'}</Table.Td>
                  <Table.Td>{d.attempts}</Table.Td>
                  <Table.Td>{d.next_attempt_at ? formatDateTime(d.next_attempt_at) : '—'}</Table.Td>
                  <Table.Td>{d.last_error ?? ''}</Table.Td>
                  <Table.Td>{formatDateTime(d.created_at)}</Table.Td>
                  <Table.Td>
                    {(d.status === 'failed' || d.status === 'succeeded') && (
                      <Button
                        size="compact-xs"
                        variant="light"
                        loading={retry.isPending && retry.variables === d.id}
                        onClick={() => retry.mutate(d.id)}
                        aria-label={`Retry ${d.id}`}
                      >
                        Retry
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {deliveries.data.total > PER_PAGE && (
            <Pagination
              size="sm"
              total={Math.ceil(deliveries.data.total / PER_PAGE)}
              value={page}
              onChange={setPage}
            />
          )}
        </>
      )}
    </Stack>
  );
}
