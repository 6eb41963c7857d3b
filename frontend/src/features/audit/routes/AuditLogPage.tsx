import { Group, MultiSelect, Pagination, Paper, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { ErrorState, PageLoader } from '@/components/QueryState';
import { SettingsTabs } from '@/components/SettingsTabs';
import type { AuditKind } from '@/lib/api/types';
import { useAuditEvents } from '../api/audit';
import { AuditTable } from '../components/AuditTable';
import { AUDIT_KINDS } from '../components/describe';

export const AUDIT_PAGE_SIZE = 25;

export function AuditLogPage() {
  const [kinds, setKinds] = useState<AuditKind[]>([]);
  const [page, setPage] = useState(1);
  const events = useAuditEvents({
    ...(kinds.length ? { kind: kinds } : {}),
    page,
    per_page: AUDIT_PAGE_SIZE,
  });
  const pages = events.data ? Math.max(1, Math.ceil(events.data.total / AUDIT_PAGE_SIZE)) : 1;

  return (
    <Stack gap="md">
      <Title order={1} size="h2">
        Settings
      </Title>
      <SettingsTabs />
      <Text c="dimmed" size="sm">
        Who did what to accounts and settings in this workspace, newest first. Passwords and tokens
        are never recorded.
      </Text>
      <MultiSelect
        label="Show only"
        placeholder={kinds.length ? undefined : 'Every kind of event'}
        data={AUDIT_KINDS.map((k) => ({ value: k.value, label: k.label }))}
        value={kinds}
        onChange={(value) => {
          setKinds(value as AuditKind[]);
          setPage(1);
        }}
        clearable
        maw={520}
      />
      <Paper withBorder radius="md" p="xs">
        {events.isPending ? (
          <PageLoader />
        ) : events.isError ? (
          <ErrorState error={events.error} onRetry={() => void events.refetch()} />
        ) : events.data.items.length === 0 ? (
          <Text c="dimmed" ta="center" py="lg">
            No events match.
          </Text>
        ) : (
          <AuditTable events={events.data.items} />
        )}
      </Paper>
      {events.data && (
        <Group justify="space-between">
          <Text c="dimmed" size="sm">
            {events.data.total} event{events.data.total === 1 ? '' : 's'}
            {events.isFetching ? ' · updating…' : ''}
          </Text>
          {pages > 1 && (
            <Pagination
              total={pages}
              value={Math.min(page, pages)}
              onChange={setPage}
              aria-label="Pages"
            />
          )}
        </Group>
      )}
    </Stack>
  );
}
