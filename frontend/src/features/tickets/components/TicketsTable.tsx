import { Anchor, Card, Checkbox, Group, Stack, Table, Text } from '@mantine/core';
import { Link, useNavigate } from 'react-router';
import { PriorityBadge, StatusBadge } from '@/components/Badges';
import { label } from '@/lib/api/enums';
import type { TeamMember, Ticket, User } from '@/lib/api/types';
import { userName } from '@/lib/api/users';
import { formatDateTime } from '@/lib/format';
import type { Selection } from './useSelection';

export function TicketsTable({
  tickets,
  users,
  currentUser,
  selection,
}: {
  tickets: readonly Ticket[];
  users: readonly TeamMember[];
  currentUser: User | null;
  /** Row checkboxes for bulk actions (none without). */
  selection?: Selection;
}) {
  const navigate = useNavigate();
  const people = currentUser && !users.length ? [currentUser] : users;
  return (
    <Table.ScrollContainer minWidth={1040}>
      <Table highlightOnHover verticalSpacing="sm" aria-label="Tickets">
        <Table.Thead>
          <Table.Tr>
            {selection && (
              <Table.Th w={40}>
                <Checkbox
                  aria-label="Select all tickets shown"
                  checked={selection.allSelected}
                  indeterminate={selection.someSelected}
                  onChange={selection.toggleAll}
                />
              </Table.Th>
            )}
            <Table.Th w={72}>#</Table.Th>
            <Table.Th>Subject</Table.Th>
            <Table.Th>Customer</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Priority</Table.Th>
            <Table.Th>Category</Table.Th>
            <Table.Th>Assignee</Table.Th>
            <Table.Th>Updated</Table.Th>
            <Table.Th>Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tickets.map((ticket) => (
            <Table.Tr
              key={ticket.id}
              onClick={() => void navigate(`/tickets/${ticket.number}`)}
              style={{ cursor: 'pointer' }}
              data-testid="ticket-row"
              bg={
                selection?.selected.has(ticket.id) ? 'var(--mantine-color-blue-light)' : undefined
              }
            >
              {selection && (
                <Table.Td onClick={(event) => event.stopPropagation()}>
                  <Checkbox
                    aria-label={`Select #${ticket.number}`}
                    checked={selection.selected.has(ticket.id)}
                    onChange={() => undefined}
                    onClick={(event) => selection.toggle(ticket.id, event.shiftKey)}
                  />
                </Table.Td>
              )}
              <Table.Td>
                <Text size="sm" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                  #{ticket.number}
                </Text>
              </Table.Td>
              <Table.Td maw={320} miw={200}>
                {/* The link makes each row reachable by keyboard; the row click is for pointers. */}
                <Anchor
                  component={Link}
                  to={`/tickets/${ticket.number}`}
                  fw={600}
                  c="dark"
                  lineClamp={2}
                  onClick={(event) => event.stopPropagation()}
                >
                  {ticket.subject}
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{ticket.customer_name}</Text>
                <Text size="xs" c="dimmed">
                  {ticket.customer_email}
                </Text>
              </Table.Td>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>
                <StatusBadge status={ticket.status} />
              </Table.Td>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>
                <PriorityBadge priority={ticket.priority} />
              </Table.Td>
              <Table.Td>
                <Text size="sm">{label(ticket.category)}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" c={ticket.assignee_id ? undefined : 'dimmed'}>
                  {userName(people, ticket.assignee_id)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" style={{ whiteSpace: 'nowrap' }} data-testid="ticket-updated">
                  {formatDateTime(ticket.updated_at)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                  {formatDateTime(ticket.created_at)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** The list as cards, for phones: every field the table has, stacked, badges never cut. */
export function TicketCards({
  tickets,
  users,
  currentUser,
  selection,
}: {
  tickets: readonly Ticket[];
  users: readonly TeamMember[];
  currentUser: User | null;
  selection?: Selection;
}) {
  const people = currentUser && !users.length ? [currentUser] : users;
  return (
    <Stack gap={0} aria-label="Tickets" role="list">
      {tickets.map((ticket) => (
        <Card
          key={ticket.id}
          role="listitem"
          radius={0}
          p="sm"
          withBorder
          data-testid="ticket-card"
          bg={selection?.selected.has(ticket.id) ? 'var(--mantine-color-blue-light)' : undefined}
        >
          <Group gap="xs" wrap="nowrap" align="flex-start">
            {selection && (
              <Checkbox
                mt={2}
                aria-label={`Select #${ticket.number}`}
                checked={selection.selected.has(ticket.id)}
                onChange={() => undefined}
                onClick={(event) => selection.toggle(ticket.id, event.shiftKey)}
              />
            )}
            <Stack gap={4} style={{ minWidth: 0, flex: 1 }}>
              <Group gap="xs" wrap="nowrap">
                <Text size="sm" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                  #{ticket.number}
                </Text>
                <Anchor
                  component={Link}
                  to={`/tickets/${ticket.number}`}
                  fw={600}
                  c="dark"
                  lineClamp={2}
                  style={{ overflowWrap: 'anywhere' }}
                >
                  {ticket.subject}
                </Anchor>
              </Group>
              <Group gap="xs" wrap="wrap">
                <StatusBadge status={ticket.status} />
                <PriorityBadge priority={ticket.priority} />
                <Text size="xs" c="dimmed">
                  {label(ticket.category)}
                </Text>
              </Group>
              <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>
                {ticket.customer_name} · {userName(people, ticket.assignee_id)} · updated{' '}
                {formatDateTime(ticket.updated_at)}
              </Text>
            </Stack>
          </Group>
        </Card>
      ))}
    </Stack>
  );
}
