import { Badge, Button, Group, Select, Table, Text } from '@mantine/core';
import { label, ROLES } from '@/lib/api/enums';
import type { Role, User } from '@/lib/api/types';
import type { UserChanges } from '../api/users';

export function TeamTable({
  users,
  currentUserId,
  onChange,
  onResetPassword,
  pendingId,
}: {
  users: readonly User[];
  currentUserId: string | undefined;
  onChange: (user: User, changes: UserChanges) => void;
  onResetPassword: (user: User) => void;
  pendingId: string | null;
}) {
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing="sm" aria-label="Team members">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Email</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>
              <span className="sr-only">Actions</span>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.map((user) => (
            <Table.Tr key={user.id} data-testid="team-row">
              <Table.Td>
                <Text size="sm" fw={600}>
                  {user.name}
                  {user.id === currentUserId && (
                    <Text span c="dimmed" size="xs">
                      {' '}
                      (you)
                    </Text>
                  )}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{user.email}</Text>
              </Table.Td>
              <Table.Td>
                <Select
                  aria-label={`Role of ${user.name}`}
                  data={ROLES.map((value) => ({ value, label: label(value) }))}
                  value={user.role}
                  allowDeselect={false}
                  disabled={pendingId === user.id}
                  onChange={(value) =>
                    value && value !== user.role && onChange(user, { role: value as Role })
                  }
                  w={120}
                  size="xs"
                />
              </Table.Td>
              <Table.Td>
                <Badge color={user.active ? 'teal' : 'gray'} variant="light">
                  {user.active ? 'Active' : 'Deactivated'}
                </Badge>
              </Table.Td>
              <Table.Td>
                <Group gap="xs" wrap="nowrap" justify="flex-end">
                  {user.id !== currentUserId && user.active && (
                    <Button
                      size="xs"
                      variant="subtle"
                      onClick={() => onResetPassword(user)}
                      aria-label={`Reset password of ${user.name}`}
                    >
                      Reset password
                    </Button>
                  )}
                  <Button
                    size="xs"
                    variant={user.active ? 'subtle' : 'light'}
                    color={user.active ? 'red' : 'teal'}
                    loading={pendingId === user.id}
                    onClick={() => onChange(user, { active: !user.active })}
                    aria-label={`${user.active ? 'Deactivate' : 'Reactivate'} ${user.name}`}
                  >
                    {user.active ? 'Deactivate' : 'Reactivate'}
                  </Button>
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
