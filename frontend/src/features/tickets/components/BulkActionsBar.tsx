import { Button, Group, Paper, Select, Text } from '@mantine/core';
import { IconX } from '@tabler/icons-react';
import { TICKET_CATEGORIES, TICKET_PRIORITIES, TICKET_STATUSES, label } from '@/lib/api/enums';
import { errorMessage } from '@/lib/api/errors';
import type { BulkUpdateBody, TeamMember } from '@/lib/api/types';
import { useBulkUpdate } from '../api/tickets';

const UNASSIGN = '__unassign__';

type Changes = BulkUpdateBody['changes'];

/** What a bulk action did, in words. */
export interface BulkOutcome {
  color: 'green' | 'yellow' | 'red';
  title: string;
  message: string;
}

/** Actions on the selected tickets: one request, a result per ticket. */
export function BulkActionsBar({
  ids,
  users,
  onDone,
}: {
  ids: readonly string[];
  users: readonly TeamMember[];
  /** Called with the ids that could not be changed (they stay selected) and what happened
   * (nothing when the selection was just cleared). */
  onDone: (failed: string[], outcome?: BulkOutcome) => void;
}) {
  const bulk = useBulkUpdate();
  const count = ids.length;

  const apply = (changes: Changes, what: string) => {
    bulk.mutate(
      { ids: [...ids], changes },
      {
        onSuccess: (answer) => {
          const failed = answer.results.filter((r) => !r.ok);
          const reasons = [...new Set(failed.map((r) => r.error?.message ?? 'not changed'))];
          onDone(
            failed.map((r) => r.id),
            {
              color: failed.length ? 'yellow' : 'green',
              title: failed.length
                ? `${answer.updated} of ${answer.results.length} tickets updated`
                : `${answer.updated} ${answer.updated === 1 ? 'ticket' : 'tickets'} updated`,
              message: failed.length ? `${failed.length} not changed: ${reasons.join('; ')}` : what,
            },
          );
        },
        onError: (error) =>
          onDone([...ids], {
            color: 'red',
            title: 'Nothing was changed',
            message: errorMessage(error),
          }),
      },
    );
  };

  const pick = (
    placeholder: string,
    data: { value: string; label: string }[],
    onPick: (v: string) => void,
  ) => (
    <Select
      aria-label={placeholder}
      placeholder={placeholder}
      data={data}
      value={null}
      onChange={(value) => value && onPick(value)}
      disabled={bulk.isPending}
      size="xs"
      w={150}
      comboboxProps={{ withinPortal: true }}
    />
  );

  return (
    <Paper withBorder radius="md" p="xs" role="region" aria-label="Bulk actions">
      <Group gap="xs" wrap="wrap">
        <Text size="sm" fw={600} aria-live="polite">
          {count} selected
        </Text>
        {pick(
          'Set status',
          TICKET_STATUSES.map((s) => ({ value: s, label: label(s) })),
          (status) => apply({ status: status as Changes['status'] }, `Status: ${label(status)}`),
        )}
        {pick(
          'Set priority',
          TICKET_PRIORITIES.map((p) => ({ value: p, label: label(p) })),
          (priority) =>
            apply({ priority: priority as Changes['priority'] }, `Priority: ${label(priority)}`),
        )}
        {pick(
          'Set category',
          TICKET_CATEGORIES.map((c) => ({ value: c, label: label(c) })),
          (category) =>
            apply({ category: category as Changes['category'] }, `Category: ${label(category)}`),
        )}
        {pick(
          'Assign to',
          [
            { value: UNASSIGN, label: 'Unassigned' },
            ...users.filter((u) => u.active).map((u) => ({ value: u.id, label: u.name })),
          ],
          (who) =>
            apply(
              { assignee_id: who === UNASSIGN ? null : who },
              who === UNASSIGN
                ? 'Unassigned'
                : `Assigned to ${users.find((u) => u.id === who)?.name ?? 'a colleague'}`,
            ),
        )}
        <Button
          size="xs"
          variant="light"
          color="gray"
          loading={bulk.isPending}
          onClick={() => apply({ status: 'closed' }, 'Closed')}
        >
          Close
        </Button>
        <Button
          size="xs"
          variant="subtle"
          leftSection={<IconX size={14} />}
          onClick={() => onDone([])}
          disabled={bulk.isPending}
        >
          Clear selection
        </Button>
      </Group>
    </Paper>
  );
}
