import { Table, Text } from '@mantine/core';
import { formatDateTime } from '@/lib/format';
import type { AuditEvent } from '@/lib/api/types';
import { describeEvent } from './describe';

function Who({ event }: { event: AuditEvent }) {
  if (!event.actor_id) {
    return (
      <Text size="sm" c="dimmed" fs="italic">
        Not signed in
      </Text>
    );
  }
  return <Text size="sm">{event.actor_email ?? event.actor_id}</Text>;
}

/** The user acted on, when it is someone other than the actor. */
function Target({ event }: { event: AuditEvent }) {
  if (!event.target_user_id || event.target_user_id === event.actor_id) {
    return <Text size="sm">—</Text>;
  }
  return <Text size="sm">{event.target_email ?? event.target_user_id}</Text>;
}

export function AuditTable({ events }: { events: readonly AuditEvent[] }) {
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table verticalSpacing="xs" aria-label="Audit log" striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Time</Table.Th>
            <Table.Th>Who</Table.Th>
            <Table.Th>What</Table.Th>
            <Table.Th>Target</Table.Th>
            <Table.Th>IP address</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {events.map((event) => (
            <Table.Tr key={event.id} data-testid="audit-row">
              <Table.Td>
                <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
                  {formatDateTime(event.at, true)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Who event={event} />
              </Table.Td>
              <Table.Td>
                <Text size="sm">{describeEvent(event)}</Text>
              </Table.Td>
              <Table.Td>
                <Target event={event} />
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace">
                  {event.ip ?? '—'}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
