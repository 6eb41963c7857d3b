import { Alert, Group, Select, SimpleGrid, Text } from '@mantine/core';
import { label, TICKET_CATEGORIES, TICKET_PRIORITIES, TICKET_STATUSES } from '@/lib/api/enums';
import { errorMessage } from '@/lib/api/errors';
import type { TeamMember, Ticket, UpdateTicketBody, User } from '@/lib/api/types';
import { useUpdateTicket } from '@/lib/api/tickets';

const NONE = '__none__';
const options = (values: readonly string[]) =>
  values.map((value) => ({ value, label: label(value) }));

/** Status, priority, category and assignee, each saved on change with PATCH. */
export function TicketFields({
  ticket,
  users,
  currentUser,
}: {
  ticket: Ticket;
  users: readonly TeamMember[];
  currentUser: User | null;
}) {
  const update = useUpdateTicket(ticket.id);
  const save = (body: UpdateTicketBody) => update.mutate(body);

  const people = users.length ? users.filter((u) => u.active) : currentUser ? [currentUser] : [];
  const assigneeOptions = [
    { value: NONE, label: 'Unassigned' },
    ...people.map((u) => ({ value: u.id, label: u.name })),
  ];
  if (ticket.assignee_id && !assigneeOptions.some((o) => o.value === ticket.assignee_id)) {
    const known = users.find((u) => u.id === ticket.assignee_id);
    assigneeOptions.push({
      value: ticket.assignee_id,
      label: known ? `${known.name} (inactive)` : 'Another user',
    });
  }

  return (
    <>
      <SimpleGrid cols={{ base: 2, md: 4 }} spacing="sm" role="group" aria-label="Ticket fields">
        <Select
          label="Status"
          data={options(TICKET_STATUSES)}
          value={ticket.status}
          allowDeselect={false}
          disabled={update.isPending}
          onChange={(value) =>
            value && value !== ticket.status && save({ status: value as Ticket['status'] })
          }
        />
        <Select
          label="Priority"
          data={[{ value: NONE, label: 'Not set' }, ...options(TICKET_PRIORITIES)]}
          value={ticket.priority ?? NONE}
          allowDeselect={false}
          disabled={update.isPending}
          onChange={(value) =>
            value &&
            save({ priority: value === NONE ? null : (value as NonNullable<Ticket['priority']>) })
          }
        />
        <Select
          label="Category"
          data={[{ value: NONE, label: 'Not set' }, ...options(TICKET_CATEGORIES)]}
          value={ticket.category ?? NONE}
          allowDeselect={false}
          disabled={update.isPending}
          onChange={(value) =>
            value &&
            save({ category: value === NONE ? null : (value as NonNullable<Ticket['category']>) })
          }
        />
        <Select
          label="Assignee"
          data={assigneeOptions}
          value={ticket.assignee_id ?? NONE}
          allowDeselect={false}
          searchable
          disabled={update.isPending}
          onChange={(value) => value && save({ assignee_id: value === NONE ? null : value })}
        />
      </SimpleGrid>
      {update.isError && (
        <Alert color="red" role="alert" mt="xs" withCloseButton onClose={() => update.reset()}>
          <Group gap={4}>
            <Text size="sm" fw={600}>
              Could not save:
            </Text>
            <Text size="sm">{errorMessage(update.error)}</Text>
          </Group>
        </Alert>
      )}
    </>
  );
}
